"""The log shipper: batches by size and by time, one in flight, a disk spool while offline."""

import os
import threading
import time

import pytest

from agent import devops_agent as agent


class Server:
    """A log sender callable: records batches, can be offline, answers like the protocol says."""

    def __init__(self, online=True, delay=0.0, answer=None):
        self.online = online
        self.delay = delay
        self.answer = answer or {}
        self.batches = []
        self.failures = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()

    def __call__(self, lines):
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            if not self.online:
                self.failures += 1
                raise ConnectionError("server unreachable")
            self.batches.append([line["seq"] for line in lines])
            return {"stored_through": lines[-1]["seq"], "cancel": False, **self.answer}
        finally:
            with self.lock:
                self.in_flight -= 1

    def seqs(self):
        return [seq for batch in self.batches for seq in batch]


def shipper_for(server, tmp_path, **options):
    options.setdefault("backoff", agent.Backoff(initial=0.02, maximum=0.1))
    return agent.LogShipper(server, str(tmp_path / "logs.spool"), **options).start()


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_size_trigger_sends_full_batches_at_once(tmp_path):
    server = Server()
    shipper = shipper_for(server, tmp_path, interval=30, batch_lines=500)
    for number in range(1200):
        shipper.add(f"line {number}", step=0)
    assert wait_until(lambda: len(server.batches) == 2, timeout=3)
    assert [len(batch) for batch in server.batches] == [500, 500]
    assert shipper.close(timeout=5)
    assert [len(batch) for batch in server.batches] == [500, 500, 200]
    assert server.seqs() == list(range(1, 1201))
    assert shipper.stored_through == shipper.last_seq == 1200


def test_time_trigger_sends_a_small_batch_within_the_interval(tmp_path):
    server = Server()
    shipper = shipper_for(server, tmp_path, interval=0.2)
    started = time.monotonic()
    for text in ("a", "b", "c"):
        shipper.add(text, step=1, stream="stdout")
    assert wait_until(lambda: server.batches, timeout=2)
    assert time.monotonic() - started < 1.0
    assert server.batches == [[1, 2, 3]]
    assert shipper.close(timeout=5)


def test_batches_respect_the_character_limit(tmp_path):
    server = Server()
    shipper = shipper_for(server, tmp_path, interval=30, batch_chars=1000)
    for _ in range(5):
        shipper.add("y" * 400)
    assert shipper.close(timeout=5)
    assert server.batches == [[1, 2], [3, 4], [5]]


def test_one_batch_in_flight_and_lines_keep_their_order(tmp_path):
    server = Server(delay=0.05)
    shipper = shipper_for(server, tmp_path, interval=0.01, batch_lines=7)
    for number in range(300):
        shipper.add(str(number))
        if number % 50 == 0:
            time.sleep(0.03)
    assert shipper.close(timeout=20)
    assert server.most_in_flight == 1
    assert server.seqs() == list(range(1, 301))


def test_the_agent_reads_one_batch_ahead_of_the_batch_in_flight(tmp_path):
    """While a batch is in flight one more waits and `add` blocks: the step then waits on its pipe,
    rather than lines read early waiting in the agent (bench/live.py)."""
    server, gate = Server(), threading.Event()

    def send(lines):
        gate.wait(5)
        return server(lines)

    shipper = shipper_for(send, tmp_path, interval=30)
    added = []

    def produce():
        for number in range(2 * agent.LOG_BATCH_LINES + 500):
            added.append(shipper.add(str(number)))

    producer = threading.Thread(target=produce)
    producer.start()
    assert wait_until(lambda: len(added) == 2 * agent.LOG_BATCH_LINES)
    time.sleep(0.2)
    assert len(added) == 2 * agent.LOG_BATCH_LINES, "one batch in flight, one waiting, then add blocks"
    gate.set()
    producer.join(5)
    assert shipper.close(timeout=5)
    assert server.seqs() == list(range(1, 2 * agent.LOG_BATCH_LINES + 501))


def test_offline_batches_go_to_the_spool_and_are_delivered_in_order(tmp_path):
    server = Server(online=False)
    spool = tmp_path / "logs.spool"
    shipper = shipper_for(server, tmp_path, interval=0.05)
    for round_number in range(4):
        for number in range(10):
            shipper.add(f"round {round_number} line {number}", step=round_number)
        time.sleep(0.15)
    assert wait_until(lambda: spool.exists() and len(spool.read_text().splitlines()) >= 3)
    assert server.failures >= 2 and server.batches == []
    server.online = True
    assert shipper.close(timeout=10)
    assert server.seqs() == list(range(1, 41))
    assert not spool.exists()


def test_lines_added_while_the_spool_drains_follow_the_spooled_ones(tmp_path):
    server = Server(online=False)
    shipper = shipper_for(server, tmp_path, interval=0.02)
    for number in range(20):
        shipper.add(str(number))
    assert wait_until(lambda: server.failures >= 1)
    server.online = True
    for number in range(20, 60):
        shipper.add(str(number))
    assert shipper.close(timeout=10)
    assert server.seqs() == list(range(1, 61))


def test_a_rejected_batch_stops_shipping(tmp_path):
    rejected = []

    def refuse(lines):
        raise agent.RequestRejected(404, "not_found", "no such job")

    shipper = agent.LogShipper(refuse, str(tmp_path / "spool"), interval=0.01, on_rejected=rejected.append)
    shipper.start()
    shipper.add("hello")
    assert not shipper.close(timeout=5)
    assert [exc.status for exc in rejected] == [404]
    assert not os.path.exists(tmp_path / "spool")


def test_a_cancel_answer_calls_on_cancel(tmp_path):
    canceled = threading.Event()
    server = Server(answer={"cancel": True})
    shipper = shipper_for(server, tmp_path, interval=0.01, on_cancel=canceled.set)
    shipper.add("x")
    assert canceled.wait(2)
    assert shipper.close(timeout=5)


@pytest.mark.parametrize("stored, complete", [(3, True), (1, False)])
def test_close_reports_whether_the_server_stored_every_line(tmp_path, stored, complete):
    shipper = agent.LogShipper(lambda lines: {"stored_through": stored}, str(tmp_path / "s"), interval=0.01)
    shipper.start()
    for text in "abc":
        shipper.add(text)
    assert shipper.close(timeout=5) is complete


def test_backoff_doubles_to_its_maximum_with_jitter():
    backoff = agent.Backoff(initial=0.5, maximum=30.0, jitter=0.2)
    delays = [backoff.next() for _ in range(9)]
    for delay, expected in zip(delays, [0.5, 1, 2, 4, 8, 16, 30, 30, 30], strict=True):
        assert expected * 0.8 <= delay <= expected * 1.2
    backoff.reset()
    assert backoff.next() <= 0.6


def test_batches_stay_full_while_the_server_keeps_up():
    sizer = agent.BatchSizer(5000, least=500, target=0.05)
    for _ in range(10):
        sizer.note(5000, 0.02)  # 250,000 lines/s: 12,500 in 50 ms
    assert sizer.lines == 5000


def test_batches_shrink_to_what_a_busy_server_stores_in_the_target_time_and_grow_back():
    sizer = agent.BatchSizer(5000, least=500, target=0.05)
    for _ in range(20):
        sizer.note(sizer.lines, sizer.lines / 40_000)  # 40,000 lines/s: 2,000 in 50 ms
    assert sizer.lines == 2000
    for _ in range(20):
        sizer.note(sizer.lines, sizer.lines / 200_000)
    assert sizer.lines == 5000


def test_a_small_batch_sent_fast_says_nothing_and_batches_never_shrink_below_the_least():
    sizer = agent.BatchSizer(5000, least=500, target=0.05)
    sizer.note(3, 0.0001)
    assert sizer.lines == 5000
    for _ in range(20):
        sizer.note(10, 1.0)  # a stalled server
    assert sizer.lines == 500


def test_a_slow_server_gets_smaller_batches_and_every_line(tmp_path):
    """The shipper sizes its batches from their round trips; the step's lines all arrive in order."""
    slow = Server()

    def storing_at_20000_lines_a_second(lines):
        time.sleep(len(lines) / 20_000)
        return slow(lines)

    shipper = shipper_for(storing_at_20000_lines_a_second, tmp_path, interval=30, batch_lines=5000)
    for number in range(0, 30_000, 100):
        shipper.add_many([f"line {seq}" for seq in range(number, number + 100)], step=0)
    assert shipper.close(timeout=30)
    sizes = [len(batch) for batch in slow.batches]
    assert sizes[0] == 5000 and max(sizes[-3:]) < 2100, "the least (2,000) once measured"
    assert slow.seqs() == list(range(1, 30_001))
