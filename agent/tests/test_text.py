"""Pure text handling: command files, workflow commands, line splitting and secret masking."""

import base64
import urllib.parse

import pytest

from agent import devops_agent as agent


def test_key_values_with_heredocs_and_crlf():
    text = "plain=1\r\nnotes<<EOF\r\nline one\r\nline = two\r\nEOF\r\n\r\nempty=\nwith=equals=inside\n"
    assert agent.parse_key_values(text) == {"plain": "1", "notes": "line one\nline = two", "empty": "",
                                            "with": "equals=inside"}


def test_heredoc_wins_when_it_comes_before_equals():
    assert agent.parse_key_values("json<<END_OF=X\n{\"a\": 1}\nEND_OF=X\n") == {"json": '{"a": 1}'}


@pytest.mark.parametrize("text, message", [
    ("notes<<EOF\nline\n", "matching delimiter 'EOF' not found"),
    ("no separator here\n", "expected name=value"),
    ("name<<\nx\n", "needs a delimiter"),
])
def test_malformed_command_files_are_refused(text, message):
    with pytest.raises(agent.FileCommandError, match=message):
        agent.parse_key_values(text)


def test_path_lines_skip_blanks():
    assert agent.parse_path_lines("/opt/a/bin\n\n  /opt/b/bin  \r\n") == ["/opt/a/bin", "/opt/b/bin"]


@pytest.mark.parametrize("text, value", [("87.5", 87.5), ("3", 3), (" -2 ", -2), ("nan", "nan"), ("a", "a")])
def test_metric_values_become_numbers_when_they_can(text, value):
    assert agent.metric_value(text) == value


def test_workflow_command_with_properties_and_escapes():
    command = agent.parse_workflow_command("::set-output name=multi%3Aline,other=x%2Cy::a%0Ab%25")
    assert (command.name, command.properties, command.data) == (
        "set-output", {"name": "multi:line", "other": "x,y"}, "a\nb%")


def test_legacy_and_plain_lines():
    command = agent.parse_workflow_command("##[set-output name=k;]v")
    assert (command.name, command.properties, command.data) == ("set-output", {"name": "k"}, "v")
    assert command.legacy
    assert agent.parse_workflow_command("::endgroup::").name == "endgroup"
    assert agent.parse_workflow_command("echo ::not a command") is None
    assert agent.parse_workflow_command("plain text") is None


def test_command_processor_records_outputs_metrics_and_masks():
    masker = agent.Masker()
    outputs, metrics = {}, {}
    processor = agent.CommandProcessor(masker, outputs, metrics)
    lines = ["::set-output name=version::1.2.3", "::set-metric name=coverage.line::87.5",
             "::set-gate-value name=lint.errors::0", "::add-mask::hunter22", "the password is hunter22",
             "::group::Tests", "::error file=a.py,line=3::boom"]
    logged = [masker.mask(processor.process(line)) for line in lines]
    assert outputs == {"version": "1.2.3"}
    assert metrics == {"coverage.line": 87.5, "lint.errors": 0}
    assert logged == ["::set-output name=version::1.2.3", "::set-metric name=coverage.line::87.5",
                      "::set-gate-value name=lint.errors::0", "::add-mask::***", "the password is ***",
                      "::group::Tests", "::error file=a.py,line=3::boom"]


def test_stop_commands_suspends_processing_until_the_token():
    outputs = {}
    processor = agent.CommandProcessor(agent.Masker(), outputs, {})
    lines = ["::stop-commands::tok1", "::set-output name=a::ignored", "::tok1::", "::set-output name=b::kept"]
    for line in lines:
        processor.process(line)
    assert outputs == {"b": "kept"}


def test_line_splitter_handles_crlf_partial_chunks_and_flush():
    splitter = agent.LineSplitter()
    assert splitter.feed(b"one\r\ntw") == ["one"]
    assert splitter.feed(b"o\nthree") == ["two"]
    assert splitter.flush() == ["three"]
    assert splitter.flush() == []


def test_line_splitter_splits_long_lines_without_breaking_characters():
    splitter = agent.LineSplitter(max_bytes=10)
    assert splitter.feed(b"abcdefghijklmnopqrstuvwxy\n") == ["abcdefghij", "klmnopqrst", "uvwxy"]
    lines = splitter.feed("aaaaaaaaa\u00e9\u00e9\n".encode())
    assert lines == ["aaaaaaaaa", "\u00e9\u00e9"]
    assert splitter.feed(b"x" * 25) == ["x" * 10, "x" * 10]
    assert splitter.flush() == ["x" * 5]


def test_line_splitter_replaces_invalid_utf8():
    splitter = agent.LineSplitter()
    assert splitter.feed(b"bad \xff byte\n") == ["bad \ufffd byte"]


SECRET = "s3cr3t-Value/42+x"


def test_masker_masks_plain_values_longest_first():
    masker = agent.Masker(["abc", "abcdef"])
    assert masker.mask("xx abcdef yy abc") == "xx *** yy ***"
    assert masker.mask("") == ""


def test_masker_masks_base64_forms_at_every_alignment():
    masker = agent.Masker([SECRET])
    for prefix in ("", "u:", "us:", "use:"):
        encoded = base64.b64encode((prefix + SECRET + ":tail").encode()).decode()
        masked = masker.mask(f"Authorization: Basic {encoded}")
        assert "***" in masked, prefix
        assert base64.b64encode(SECRET.encode()).decode()[2:12] not in masked
    urlsafe = base64.urlsafe_b64encode(SECRET.encode()).decode()
    assert "***" in masker.mask(urlsafe)


def test_masker_masks_url_encoded_forms():
    masker = agent.Masker([SECRET])
    assert masker.mask("https://h/?t=" + urllib.parse.quote(SECRET, safe="")) == "https://h/?t=***"
    assert masker.mask("body=" + urllib.parse.quote_plus(SECRET)) == "body=***"


def test_masker_masks_each_line_of_a_multiline_secret():
    masker = agent.Masker(["-----BEGIN KEY-----\nAAAAsecretline\n-----END KEY-----"])
    assert masker.mask("  AAAAsecretline") == "  ***"


def test_masker_ignores_empty_values():
    masker = agent.Masker(["", None, "  "])
    assert masker.mask("nothing to hide") == "nothing to hide"
