"""Credentials in real builds (server, worker, agent processes): every credential type reaches the
job, its log shows `***` for every value (plain, split over lines, base64, URL-encoded,
`::add-mask::`), uses are recorded, and afterwards neither the database (pg_dump on PostgreSQL, the
file's bytes on SQLite) nor Redis holds a plaintext value. Then a checkout of a private repository
over HTTP basic auth from `git http-backend` (named by the step, or by the pipeline's repository
settings for a plain `checkout: self`), and over SSH when an sshd can run."""

import base64
import hashlib
import hmac
import os
import pwd
import socket
import subprocess
import threading
from pathlib import Path
from types import SimpleNamespace
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.db import connection

from apps.log.testing import stored_log_texts
from apps.process.models import Build
from apps.process.services.builds import build_start
from apps.process.services.pipelines import pipeline_repository_update
from apps.ticket.crypto import new_key_entry, reset_key_ring
from apps.ticket.models import CredentialUse
from apps.ticket.services import credential_create
from tests.integration import harness

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

KEYS = new_key_entry("it1")


def unique(label: str) -> str:
    return f"{label}-{base64.b32encode(os.urandom(10)).decode().lower()}"


def pem(kind: str) -> str:
    body = [unique(f"{kind}line{n}") for n in range(3)]
    return "\n".join([f"-----BEGIN {kind.upper()}-----", *body, f"-----END {kind.upper()}-----"]) + "\n"


@pytest.fixture
def key_ring(settings):
    settings.TICKET_KEYS = KEYS
    reset_key_ring()
    yield
    reset_key_ring()


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


EVERY_TYPE = """
name: secrets
jobs:
  use:
    runs-on: [self-hosted]
    env:
      PW: ${{ secrets.PW }}
    steps:
      - run: |
          echo "pw $PW"
          echo "login ${{ secrets.LOGIN.username }} ${{ secrets.LOGIN.password }}"
          echo "token $TOKEN"
          echo "b64 $(printf '%s' "$TOKEN" | base64 -w0)"
          echo "url $(python3 -c 'import os,urllib.parse as u;print(u.quote(os.environ["TOKEN"],safe=""))')"
          printf '%s' "$SSH"
          echo "passphrase $SSH_PASS"
          printf '%s' "$CERT$CERT_KEY"
          printf '%s' "$FILE"
          echo "ak ${{ secrets.AK.access_key_id }} ${{ secrets.AK.secret_access_key }}"
          echo "::add-mask::$RUNTIME"
          echo "runtime $RUNTIME"
          for name in PW LOGIN_U LOGIN_P TOKEN SSH SSH_PASS CERT CERT_KEY FILE AK_ID AK_SECRET; do
            printf '%s' "${!name}" | sha256sum | sed "s/ .*//; s/^/sha $name /"
          done
        env:
          TOKEN: ${{ secrets.TOKEN }}
          LOGIN_U: ${{ secrets.LOGIN.username }}
          LOGIN_P: ${{ secrets.LOGIN.password }}
          SSH: ${{ secrets.SSH.private_key }}
          SSH_PASS: ${{ secrets.SSH.passphrase }}
          CERT: ${{ secrets.CERT.certificate }}
          CERT_KEY: ${{ secrets.CERT.private_key }}
          FILE: ${{ secrets.FILE }}
          AK_ID: ${{ secrets.AK.access_key_id }}
          AK_SECRET: ${{ secrets.AK.secret_access_key }}
          RUNTIME: runtime-${{ ci.build_number }}-masked-value
      - run: echo "EXPORTED=$TOKEN" >> "$DEVOPS_ENV"
        env:
          TOKEN: ${{ secrets.TOKEN }}
      - run: printf '%s' "$EXPORTED" | sha256sum | sed "s/ .*//; s/^/sha EXPORTED /"
"""


def create_every_type(project, owner) -> dict[str, str]:
    """Credentials of every type; returns the plaintext of each field by its env name."""
    values = {
        "PW": unique("password"), "LOGIN_U": unique("user"), "LOGIN_P": unique("pass") + " &/+",
        "TOKEN": unique("token") + "/+ &=?", "SSH": pem("openssh private key"), "SSH_PASS": unique("phrase"),
        "CERT": pem("certificate"), "CERT_KEY": pem("private key"), "FILE": pem("file") + "tail line\n",
        "AK_ID": unique("akid"), "AK_SECRET": unique("aksecret"), "UNUSED": unique("unused"),
    }
    make = [
        ("PW", "password", {"password": values["PW"]}),
        ("LOGIN", "username_password", {"username": values["LOGIN_U"], "password": values["LOGIN_P"]}),
        ("TOKEN", "token", {"token": values["TOKEN"]}),
        ("SSH", "ssh_key", {"private_key": values["SSH"], "passphrase": values["SSH_PASS"]}),
        ("CERT", "certificate", {"certificate": values["CERT"], "private_key": values["CERT_KEY"]}),
        ("FILE", "secret_file", {"content": values["FILE"]}),
        ("AK", "access_key", {"access_key_id": values["AK_ID"], "secret_access_key": values["AK_SECRET"]}),
        ("UNUSED", "token", {"token": values["UNUSED"]}),
    ]
    for name, type, fields in make:
        credential_create(project=project, user=owner, name=name, type=type, values=fields)
    return values


def needles(values: dict[str, str]) -> set[bytes]:
    """Each value, each line of multi-line ones, and its base64 form."""
    found = set()
    for value in values.values():
        for part in [value, *[line for line in value.splitlines() if len(line) >= 8]]:
            found.add(part.encode())
            found.add(base64.b64encode(part.encode()))
    return found


def database_bytes() -> bytes:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        connection.close()
        return b"".join(Path(path).read_bytes() for path in (db["NAME"], db["NAME"] + "-wal")
                        if Path(path).exists())
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    command = ["pg_dump", "-h", db.get("HOST") or "127.0.0.1", "-p", str(db.get("PORT") or 5432),
               "-U", db.get("USER") or "postgres", "--data-only", db["NAME"]]
    return subprocess.run(command, env=env, check=True, capture_output=True, timeout=120).stdout


def redis_bytes() -> bytes:
    import redis

    client = redis.Redis.from_url(harness.redis_url())
    chunks = []
    try:
        for key in client.scan_iter(count=1000):
            kind = client.type(key)
            chunks.append(key)
            if kind == b"string":
                chunks.append(client.get(key) or b"")
            elif kind == b"list":
                chunks.extend(client.lrange(key, 0, -1))
            elif kind == b"hash":
                chunks.extend(b"%s=%s" % pair for pair in client.hgetall(key).items())
            elif kind == b"set":
                chunks.extend(client.smembers(key))
            elif kind == b"zset":
                chunks.extend(client.zrange(key, 0, -1))
    finally:
        client.close()
    return b"\n".join(chunks)


def test_every_credential_type_reaches_the_job_masked_and_is_stored_nowhere(
    cluster, project, owner, make_pipeline, key_ring
):
    values = create_every_type(project, owner)
    pipeline = make_pipeline("secrets", EVERY_TYPE)
    cluster.start(DEVOPS_TICKET_KEYS=KEYS)
    cluster.start_agents(1)
    build = cluster.wait_build(build_start(pipeline=pipeline, user=owner), timeout=90)
    assert build.status == "succeeded", harness.job_statuses(build)

    lines = stored_log_texts(job__build=build)
    text = "\n".join(lines)
    for name, value in values.items():
        if name != "UNUSED":
            assert f"sha {name} {sha(value)}" in lines, name  # the job got the exact value
    assert f"sha EXPORTED {sha(values['TOKEN'])}" in lines  # exported env is stored masked, used intact
    for needle in needles(values) | {f"runtime-{build.number}-masked-value".encode()}:
        assert needle.decode() not in text, needle
    prefixes = ("pw ***", "token ***", "b64 ***", "url ***", "passphrase ***", "runtime ***",
                "::add-mask::***")
    for prefix in prefixes:
        assert any(line.startswith(prefix) for line in lines), (prefix, lines)
    assert "login *** ***" in lines and "ak *** ***" in lines
    assert lines.count("***") >= 9  # the PEM lines of SSH, CERT, CERT_KEY, FILE

    used = set(CredentialUse.objects.filter(build=build).values_list("credential__name", flat=True))
    assert used == {"PW", "LOGIN", "TOKEN", "SSH", "CERT", "FILE", "AK"}

    dumped = database_bytes()
    assert b"secrets" in dumped and b"sha PW" in dumped  # the dump holds the build and its log
    assert [needle for needle in needles(values) if needle in dumped] == []
    if cluster.uses_redis:
        stored = redis_bytes()
        assert [needle for needle in needles(values) if needle in stored] == []


def test_a_pull_request_from_a_fork_gets_no_secrets(cluster, project, owner, make_pipeline, key_ring):
    from apps.process.language.triggers import TriggerEvent

    values = create_every_type(project, owner)
    pipeline = make_pipeline("fork", "name: fork\njobs:\n  j:\n    runs-on: [self-hosted]\n    steps:\n"
                                     "      - run: echo \"pw=[${{ secrets.PW }}]\"\n")
    cluster.start(DEVOPS_TICKET_KEYS=KEYS)
    build = build_start(pipeline=pipeline, user=owner, trigger=TriggerEvent(event="pull_request", actor="x"))
    Build.objects.filter(id=build.id).update(trigger={**build.trigger, "fork": True})
    cluster.start_agents(1)
    build = cluster.wait_build(build, timeout=60)
    assert build.status == "succeeded"
    assert harness.log_stored(build, "j", "pw=[]")
    assert not CredentialUse.objects.filter(build=build).exists()
    texts = stored_log_texts(job__build=build)
    assert values["PW"] not in "".join(texts)


# ---------------------------------------------------------------------------------------------
# Checkout of a private repository


def git(cwd, *args) -> str:
    command = ["git", "-c", "user.name=Test", "-c", "user.email=t@example.com", *args]
    return subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def git_http_app(root: Path, username: str, password: str, seen: list):
    """`git http-backend` (CGI) behind HTTP basic auth."""
    expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    backend = Path(subprocess.run(["git", "--exec-path"], capture_output=True, text=True).stdout.strip())

    def app(environ, start_response):
        seen.append(environ.get("PATH_INFO", "") + "?" + environ.get("QUERY_STRING", ""))
        if environ.get("HTTP_AUTHORIZATION") != expected:
            challenge = [("WWW-Authenticate", 'Basic realm="git"'), ("Content-Length", "0")]
            start_response("401 Unauthorized", challenge)
            return [b""]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        env = {"GIT_PROJECT_ROOT": str(root), "GIT_HTTP_EXPORT_ALL": "1", "REMOTE_USER": username,
               "PATH": os.environ["PATH"]}
        for name in ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE"):
            env[name] = environ.get(name, "")
        env["CONTENT_LENGTH"] = str(len(body))
        if environ.get("HTTP_GIT_PROTOCOL"):
            env["GIT_PROTOCOL"] = environ["HTTP_GIT_PROTOCOL"]
        output = subprocess.run([str(backend / "git-http-backend")], input=body, env=env,
                                capture_output=True, check=True).stdout
        head, _, payload = output.partition(b"\r\n\r\n")
        headers, status = [], "200 OK"
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = value.strip()
            elif name:
                headers.append((name, value.strip()))
        start_response(status, headers + [("Content-Length", str(len(payload)))])
        return [payload]

    return app


@pytest.fixture
def private_repository(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / "private.txt").write_text("only with credentials\n")
    git(work, "add", "private.txt")
    git(work, "commit", "-q", "-m", "first")
    root = tmp_path / "served"
    root.mkdir()
    git(tmp_path, "clone", "-q", "--bare", str(work), str(root / "repo.git"))
    return root, git(work, "rev-parse", "HEAD")


CHECKOUT = """
name: checkout
jobs:
  build:
    runs-on: [self-hosted]
    steps:
      - uses: actions/checkout@v4
        with: { token: "${{ secrets.GIT_LOGIN }}" }
      - run: cat private.txt
"""


def test_checkout_of_a_private_repository_over_http_basic_auth(
    cluster, project, owner, make_pipeline, key_ring, private_repository
):
    root, sha_head = private_repository
    username, password = "builder", unique("gitpass")
    seen: list = []
    server = make_server("127.0.0.1", 0, git_http_app(root, username, password, seen),
                         server_class=WSGIServer, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/repo.git"
    try:
        anonymous = subprocess.run(["git", "ls-remote", url], capture_output=True, text=True, timeout=30,
                                   env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
        assert anonymous.returncode != 0  # the repository is private
        credential_create(project=project, user=owner, name="GIT_LOGIN", type="username_password",
                          values={"username": username, "password": password})
        pipeline = make_pipeline("checkout", CHECKOUT)
        cluster.start(DEVOPS_TICKET_KEYS=KEYS)
        build = build_start(pipeline=pipeline, user=owner)
        Build.objects.filter(id=build.id).update(
            trigger={**build.trigger, "repository": url, "sha": sha_head, "ref": "refs/heads/main"})
        handle = cluster.start_agents(1)[0]
        build = cluster.wait_build(build, timeout=90)
        lines = stored_log_texts(job__build=build)
        assert build.status == "succeeded", "\n".join(lines)
        assert "only with credentials" in lines
        assert password not in "\n".join(lines) and not any(f"{username}:" in line for line in lines)
        credentials = handle.workdir / ".credentials"
        leftovers = [path for path in handle.workdir.rglob("*") if path.is_file() and "askpass" in path.name]
        assert leftovers == [], leftovers  # the askpass script is removed when the checkout ends
        config = (handle.workspace(build.jobs.get()) / ".git" / "config").read_text()
        assert password not in config and credentials is not None
        assert any("git-upload-pack" in path for path in seen)
    finally:
        server.shutdown()
        server.server_close()


PLAIN_CHECKOUT = """
name: plain-checkout
jobs:
  build:
    runs-on: [self-hosted]
    steps:
      - checkout: self
      - run: cat private.txt
"""


def test_the_pipeline_repository_credential_checks_out_a_plain_checkout_step(
    cluster, project, owner, make_pipeline, key_ring, private_repository
):
    """No `with:` in the YAML: the pipeline's repository settings give the URL and the credential."""
    root, sha_head = private_repository
    username, password = "builder", unique("repopass")
    seen: list = []
    server = make_server("127.0.0.1", 0, git_http_app(root, username, password, seen),
                         server_class=WSGIServer, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/repo.git"
    try:
        credential_create(project=project, user=owner, name="REPO_LOGIN", type="username_password",
                          values={"username": username, "password": password})
        pipeline = make_pipeline("plain-checkout", PLAIN_CHECKOUT)
        pipeline_repository_update(pipeline=pipeline, user=owner, repository_url=url,
                                   repository_credential="REPO_LOGIN")
        cluster.start(DEVOPS_TICKET_KEYS=KEYS)
        build = build_start(pipeline=pipeline, user=owner)
        assert "repository" not in build.trigger
        Build.objects.filter(id=build.id).update(
            trigger={**build.trigger, "sha": sha_head, "ref": "refs/heads/main"})
        cluster.start_agents(1)
        build = cluster.wait_build(build, timeout=90)
        lines = stored_log_texts(job__build=build)
        assert build.status == "succeeded", "\n".join(lines)
        assert "only with credentials" in lines
        assert password not in "\n".join(lines) and not any(f"{username}:" in line for line in lines)
        used = list(CredentialUse.objects.filter(build=build).values_list("credential__name", "job__job_id"))
        assert used == [("REPO_LOGIN", "build")]
        assert any("git-upload-pack" in path for path in seen)
    finally:
        server.shutdown()
        server.server_close()


SSHD = Path("/usr/sbin/sshd")


def ssh_keygen(path: Path, passphrase: str = "") -> Path:
    command = ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", "devops-it", "-f", str(path)]
    subprocess.run(command, check=True, capture_output=True, timeout=30)
    return path


def forget_known_host(host: str) -> None:
    """Drop `host` (e.g. `[127.0.0.1]:2222`) from this user's known_hosts, hashed entries included:
    the agent's ssh records host keys there (StrictHostKeyChecking=accept-new), and a later sshd on
    the same port has a new host key."""
    path = Path(pwd.getpwuid(os.getuid()).pw_dir) / ".ssh" / "known_hosts"
    if not path.exists():
        return

    def names(line: str) -> bool:
        field = line.split(" ", 1)[0]
        if field.startswith("|1|"):
            _, _, salt, digest = field.split("|", 3)
            mac = hmac.new(base64.b64decode(salt), host.encode(), "sha1").digest()
            return hmac.compare_digest(base64.b64encode(mac).decode(), digest)
        return host in field.split(",")

    lines = path.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not names(line)]
    if kept != lines:
        path.write_text("".join(kept))


@pytest.fixture
def sshd(tmp_path):
    """An sshd on 127.0.0.1 (a free port) that accepts only the public keys added to
    `authorized_keys`, for the user this test runs as."""
    if not SSHD.exists():
        pytest.skip(f"{SSHD} is not installed (apt-get install openssh-server), so no SSH server can run")
    directory = tmp_path / "sshd"
    directory.mkdir()
    host_key = ssh_keygen(directory / "host_ed25519")
    authorized = directory / "authorized_keys"
    authorized.write_text("")
    authorized.chmod(0o600)
    port = harness.free_port()
    config = directory / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {host_key}", f"AuthorizedKeysFile {authorized}",
        f"PidFile {directory / 'sshd.pid'}", "PubkeyAuthentication yes", "PasswordAuthentication no",
        "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password", "StrictModes no",
        "UsePAM no", "LogLevel VERBOSE", "",
    ]))
    if os.getuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # the privilege separation directory
    log_path = directory / "sshd.log"
    host = f"[127.0.0.1]:{port}"
    forget_known_host(host)
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def banner() -> bool:
            assert process.poll() is None, f"sshd exited:\n{log_path.read_text()}"
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as connection_:
                    return connection_.recv(64).startswith(b"SSH-")
            except OSError:
                return False

        harness.wait_until(banner, 15, "sshd answering on 127.0.0.1")
        yield SimpleNamespace(port=port, authorized=authorized, known_hosts=directory / "known_hosts",
                              log=lambda: log_path.read_text(errors="replace"))
    finally:
        process.kill()
        process.wait(timeout=10)
        forget_known_host(host)


CHECKOUT_SSH = """
name: checkout-ssh
jobs:
  build:
    runs-on: [self-hosted]
    steps:
      - uses: actions/checkout@v4
        with: { ssh-key: "${{ secrets.DEPLOY_KEY }}" }
      - run: |
          test -d "$RUNNER_TEMP/../credentials"
          echo "credential files: [$(ls -A "$RUNNER_TEMP/../credentials")]"
          cat private.txt
"""


@pytest.mark.parametrize("passphrase", [False, True], ids=["key", "key-with-passphrase"])
def test_checkout_of_a_private_repository_over_ssh(
    cluster, project, owner, make_pipeline, key_ring, private_repository, sshd, tmp_path, passphrase
):
    root, sha_head = private_repository
    phrase = unique("keyphrase") if passphrase else ""
    key_path = ssh_keygen(tmp_path / "deploy_key", phrase)
    private_key = key_path.read_text()
    sshd.authorized.write_text(Path(f"{key_path}.pub").read_text())
    user = pwd.getpwuid(os.getuid()).pw_name  # root in CI (hence PermitRootLogin prohibit-password)
    url = f"ssh://{user}@127.0.0.1:{sshd.port}{root / 'repo.git'}"

    stranger = ssh_keygen(tmp_path / "stranger_key")
    ssh = (f"ssh -i {stranger} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no "
           f"-o UserKnownHostsFile={sshd.known_hosts}")
    anonymous = subprocess.run(["git", "ls-remote", url], capture_output=True, text=True, timeout=30,
                               env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_SSH_COMMAND": ssh})
    assert anonymous.returncode != 0 and "Permission denied" in anonymous.stderr, anonymous.stderr

    values = {"private_key": private_key, **({"passphrase": phrase} if phrase else {})}
    credential_create(project=project, user=owner, name="DEPLOY_KEY", type="ssh_key", values=values)
    pipeline = make_pipeline("checkout-ssh", CHECKOUT_SSH)
    cluster.start(DEVOPS_TICKET_KEYS=KEYS)
    build = build_start(pipeline=pipeline, user=owner)
    Build.objects.filter(id=build.id).update(
        trigger={**build.trigger, "repository": url, "sha": sha_head, "ref": "refs/heads/main"})
    handle = cluster.start_agents(1)[0]
    build = cluster.wait_build(build, timeout=90)
    lines = stored_log_texts(job__build=build)
    text = "\n".join(lines)
    assert build.status == "succeeded", f"{text}\n---- sshd\n{sshd.log()}"
    assert "only with credentials" in lines
    workspace = handle.workspace(build.jobs.get())
    assert (workspace / "private.txt").read_text() == "only with credentials\n"
    assert git(workspace, "rev-parse", "HEAD") == sha_head
    assert f"Accepted publickey for {user} from 127.0.0.1" in sshd.log()

    secrets = [private_key, *[line for line in private_key.splitlines() if len(line) >= 8]]
    secrets += [phrase] if phrase else []
    assert [secret for secret in secrets if secret in text] == []  # masked (or never printed)
    assert "credential files: []" in lines  # the key file is removed when the checkout step ends
    leftovers = [path for path in handle.workdir.rglob("*") if path.is_file() and "ssh-" in path.name]
    assert leftovers == [], leftovers
    config = (workspace / ".git" / "config").read_text()
    assert "BEGIN OPENSSH" not in config and "sshCommand" not in config
    assert CredentialUse.objects.filter(build=build, credential__name="DEPLOY_KEY").exists()
