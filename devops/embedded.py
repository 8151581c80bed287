"""The embedded default's Celery worker: a worker thread inside the server process.

With no REDIS_URL the broker is kombu's in-memory transport, which only reaches consumers in the
same process, so the server (and `pipeline run`) start this thread. Production runs
`celery -A devops worker` instead; the tasks are the same.
"""

import threading

from celery.worker import WorkController

from devops.celery import app

_lock = threading.Lock()
_worker: WorkController | None = None


def uses_embedded_broker() -> bool:
    return str(app.conf.broker_url).startswith("memory://")


def start_embedded_worker() -> WorkController:
    """Start the worker thread once per process and return it."""
    global _worker
    with _lock:
        if _worker is None:
            _worker = WorkController(
                app=app,
                pool="solo",
                concurrency=1,
                without_heartbeat=True,
                without_mingle=True,
                without_gossip=True,
                hostname="embedded@localhost",
                loglevel="WARNING",
            )
            threading.Thread(target=_worker.start, name="embedded-celery-worker", daemon=True).start()
        return _worker
