"""The REST side of logs: search (job and build, substring and regex), downloads, permissions."""

import io
import tarfile
import zipfile

import pytest

from apps.log.services import log_lines_append
from apps.process.tests.builds_samples import PIPELINE_API

TEXTS = ["Compiling app", "WARNING: deprecated", "::error::Build FAILED", "tests: 12 passed", "done (a+b)"]


def build_url(build) -> str:
    return f"{PIPELINE_API}/builds/{build.number}/"


def job_url(build, key: str = "compile") -> str:
    return f"{build_url(build)}jobs/{key}/logs/"


def write(job, texts, attempt: int = 1) -> None:
    log_lines_append(job=job, attempt=attempt, lines=[{"seq": i + 1, "text": t} for i, t in enumerate(texts)])


@pytest.fixture
def build(start):
    build = start()
    write(build.jobs.get(key="compile"), TEXTS)
    write(build.jobs.get(key="test.0"), ["unit tests failed", "Traceback"])
    return build


class TestSearch:
    def test_substring_is_case_insensitive_and_literal(self, api_as, build):
        client = api_as("viewer")
        answer = client.get(f"{job_url(build)}search/", {"q": "failed"}).json()
        assert answer == {"matches": [{"seq": 3, "text": "::error::Build FAILED"}], "truncated": False}
        literal = client.get(f"{job_url(build)}search/", {"q": "(a+b)"}).json()
        assert [match["seq"] for match in literal["matches"]] == [5]

    def test_regex(self, api_as, build):
        answer = api_as("viewer").get(f"{job_url(build)}search/", {"q": r"^(warning|tests): \d*", "regex": 1})
        assert [match["seq"] for match in answer.json()["matches"]] == [2, 4]

    @pytest.mark.parametrize("query", ["(unclosed", "a{2,1}", "*"])
    def test_a_bad_regex_is_a_400_with_the_reason(self, api_as, build, query):
        answer = api_as("viewer").get(f"{job_url(build)}search/", {"q": query, "regex": "1"})
        assert answer.status_code == 400
        assert answer.json()["error"]["message"]

    def test_an_empty_query_is_a_400(self, api_as, build):
        assert api_as("viewer").get(f"{job_url(build)}search/", {"q": ""}).status_code == 400

    def test_the_whole_build_labels_matches_with_their_job(self, api_as, build):
        answer = api_as("viewer").get(f"{build_url(build)}logs/search/", {"q": "FAILED"}).json()
        assert answer["matches"] == [
            {"job": "compile", "seq": 3, "text": "::error::Build FAILED"},
            {"job": "test.0", "seq": 1, "text": "unit tests failed"},
        ]

    def test_at_most_1000_matches(self, api_as, start):
        build = start()
        write(build.jobs.get(key="compile"), [f"match {n}" for n in range(1200)])
        answer = api_as("viewer").get(f"{job_url(build)}search/", {"q": "MATCH"}).json()
        assert len(answer["matches"]) == 1000 and answer["truncated"] is True
        assert answer["matches"][-1]["seq"] == 1000
        rest = api_as("viewer").get(f"{job_url(build)}search/", {"q": "MATCH", "after": 1000}).json()
        assert [match["seq"] for match in rest["matches"]] == list(range(1001, 1201)), "the next page"
        assert rest["truncated"] is False


class TestDownloads:
    def test_a_job_as_text(self, api_as, build):
        answer = api_as("viewer").get(f"{job_url(build)}download/")
        assert answer.status_code == 200
        assert answer["Content-Type"] == "text/plain; charset=utf-8"
        assert answer["Content-Disposition"] == 'attachment; filename="release-1-compile.txt"'
        assert b"".join(answer.streaming_content).decode() == "".join(f"{text}\n" for text in TEXTS)

    def test_an_earlier_attempt(self, api_as, build):
        job = build.jobs.get(key="compile")
        job.attempt = 2
        job.save(update_fields=["attempt"])
        write(job, ["second try"], attempt=2)
        client = api_as("viewer")
        assert b"".join(client.get(f"{job_url(build)}download/").streaming_content) == b"second try\n"
        earlier = client.get(f"{job_url(build)}download/", {"attempt": 1})
        assert b"".join(earlier.streaming_content).decode().splitlines() == TEXTS

    def test_the_build_as_zip(self, api_as, build):
        answer = api_as("viewer").get(f"{build_url(build)}logs/download/", {"format": "zip"})
        assert answer.status_code == 200 and answer["Content-Type"] == "application/zip"
        assert answer["Content-Disposition"] == 'attachment; filename="release-1-logs.zip"'
        with zipfile.ZipFile(io.BytesIO(b"".join(answer.streaming_content))) as archive:
            assert archive.read("compile.txt").decode().splitlines() == TEXTS
            assert archive.read("test.0.txt") == b"unit tests failed\nTraceback\n"
            assert archive.read("test.1.txt") == b""

    def test_the_build_as_tar_gz(self, api_as, build):
        answer = api_as("viewer").get(f"{build_url(build)}logs/download/", {"format": "tar.gz"})
        assert answer.status_code == 200 and answer["Content-Type"] == "application/gzip"
        with tarfile.open(fileobj=io.BytesIO(b"".join(answer.streaming_content)), mode="r:gz") as archive:
            assert sorted(archive.getnames()) == ["compile.txt", "test.0.txt", "test.1.txt"]
            assert archive.extractfile("compile.txt").read().decode().splitlines() == TEXTS


@pytest.mark.parametrize(
    ("role", "expected"), [("viewer", 200), ("developer", 200), ("outsider", 404), ("anonymous", 403)]
)
@pytest.mark.parametrize(
    "path",
    ["jobs/compile/logs/?after=0", "jobs/compile/logs/search/?q=a", "jobs/compile/logs/download/",
     "logs/search/?q=a", "logs/download/?format=zip", "logs/download/?format=tar.gz"],
)
def test_permissions(api_as, build, role, expected, path):
    answer = api_as(role).get(f"{build_url(build)}{path}")
    assert answer.status_code == expected
    if expected == 200 and "download" in path:
        assert b"".join(answer.streaming_content)
