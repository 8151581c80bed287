"""Checkout from a real local git repository served as a file:// URL."""

import os
import stat
import subprocess

import pytest

from agent import devops_agent as agent


def git(cwd, *args):
    command = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args]
    return subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def origin(tmp_path):
    repository = tmp_path / "origin"
    repository.mkdir()
    git(repository, "init", "-q", "-b", "main")
    (repository / "version.txt").write_text("first\n")
    git(repository, "add", "version.txt")
    git(repository, "commit", "-q", "-m", "first")
    first = git(repository, "rev-parse", "HEAD")
    (repository / "version.txt").write_text("second\n")
    git(repository, "commit", "-q", "-am", "second")
    return {"url": repository.as_uri(), "first": first, "second": git(repository, "rev-parse", "HEAD")}


def checkout(executor, spec, index=0):
    return executor.run({"index": index, "attempt": 1, "kind": "checkout", "checkout": spec})


def workspace_file(executor, name="version.txt"):
    with open(os.path.join(executor.paths.workspace, name)) as handle:
        return handle.read()


def test_checkout_at_a_given_sha(executor, origin, recorded):
    result = checkout(executor, {"url": origin["url"], "ref": "main", "sha": origin["first"]})
    assert result.status == "succeeded", recorded.texts()
    assert workspace_file(executor) == "first\n"
    assert git(executor.paths.workspace, "rev-parse", "HEAD") == origin["first"]
    assert git(executor.paths.workspace, "config", "remote.origin.url") == origin["url"]


def test_checkout_of_a_ref_then_again_at_another_sha_cleans_the_workspace(executor, origin, recorded):
    assert checkout(executor, {"url": origin["url"], "ref": "main"}).status == "succeeded", recorded.texts()
    assert workspace_file(executor) == "second\n"
    with open(os.path.join(executor.paths.workspace, "stale.txt"), "w") as handle:
        handle.write("left over")
    assert checkout(executor, {"url": origin["url"], "sha": origin["first"]}, index=1).status == "succeeded"
    assert workspace_file(executor) == "first\n"
    assert not os.path.exists(os.path.join(executor.paths.workspace, "stale.txt"))


def test_the_job_checkout_is_used_when_the_step_has_none(job_paths, recorded, origin):
    job_checkout = {"url": origin["url"], "sha": origin["second"]}
    executor = agent.StepExecutor(paths=job_paths, runner_name="r", masker=recorded.masker,
                                  write_line=recorded, job_checkout=job_checkout)
    assert checkout(executor, None).status == "succeeded", recorded.texts()
    assert workspace_file(executor) == "second\n"


def test_an_unknown_sha_fails_the_step(executor, origin, recorded):
    result = checkout(executor, {"url": origin["url"], "sha": "0" * 40})
    assert result.status == "failed" and result.exit_code
    assert any(text.startswith("[command]git fetch") for text in recorded.texts("system"))


def test_checkout_without_a_repository_fails(executor, recorded):
    assert checkout(executor, None).status == "failed"
    assert any("without a repository" in text for text in recorded.texts("system"))


def test_credentials_are_masked_and_removed_after_the_checkout(executor, origin, recorded):
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"
    spec = {"url": origin["url"], "sha": origin["first"], "username": "bot", "password": "pa55-w0rd-secret",
            "ssh_key": key}
    result = executor.run({"index": 0, "attempt": 1, "kind": "checkout", "checkout": spec,
                           "env": {"ECHO": "pa55-w0rd-secret"}})
    assert result.status == "succeeded", recorded.texts()
    assert os.listdir(executor.paths.credentials) == []
    script = 'echo "$ECHO"; echo b3BlbnNzaC1rZXktdjEAAAAA'
    shell = executor.run({"index": 1, "kind": "run", "shell": "bash", "run": script})
    assert shell.status == "succeeded"
    assert not any("pa55-w0rd" in text or "b3BlbnNzaC1rZXktdjEAAAAA" in text for text in recorded.texts())


def test_git_credentials_files(tmp_path):
    spec = {"username": "u", "password": "askpass-secret-1", "ssh_key": "KEY"}
    credentials = agent.GitCredentials(spec, str(tmp_path / "c"))
    askpass, key = credentials.files
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(askpass).st_mode) == 0o700
    with open(key) as handle:
        assert handle.read() == "KEY\n"
    answer = subprocess.run([askpass, "Password for 'https://u@host': "], capture_output=True, text=True,
                            env={**os.environ, **credentials.env}).stdout
    assert answer == "askpass-secret-1\n"
    with open(askpass) as handle:
        assert "askpass-secret-1" not in handle.read()
    assert credentials.env["GIT_SSH_COMMAND"].startswith(f"ssh -i {key} ")
    credentials.remove()
    assert not os.path.exists(key) and not os.path.exists(askpass)


def test_display_url_hides_user_info():
    shown = agent.display_url("https://bot:tok@git.example.com:8443/a/b.git")
    assert shown == "https://git.example.com:8443/a/b.git"
    assert agent.display_url("file:///srv/repo") == "file:///srv/repo"
