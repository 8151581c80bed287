"""`pipeline run`: one pipeline file through the real engine and a real local agent, on a fresh
embedded default in a temporary directory, with its logs streamed to standard output.

The command re-executes itself with DEVOPS_VAR_DIR pointing at a temporary directory (so the
SQLite database and the agent's workspace are new and thrown away) and no DATABASE_URL or
REDIS_URL; `run_local` is what that child runs.
"""

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from apps.core.services import project_create
from apps.environment.services import agent_create
from apps.log.chunks import SEPARATOR
from apps.log.models import LogChunk
from apps.process.choices import TERMINAL_STATUSES, Status
from apps.process.language import TriggerEvent
from apps.process.models import Build
from apps.process.services import pipeline_create
from apps.process.services.builds import build_start
from apps.process.services.jobs import SECRET_PROVIDERS
from apps.process.services.stage_checks import reviews_approve_all
from devops.embedded import ServerThread, start_embedded_worker, start_local_agent, stop_process_group

CHILD_FLAG = "DEVOPS_LOCAL_RUN_CHILD"


@dataclass
class LocalRunOptions:
    file: str
    text: str
    inputs: dict = field(default_factory=dict)
    variables: dict = field(default_factory=dict)
    secrets: dict = field(default_factory=dict)
    labels: list = field(default_factory=list)
    event: str = "push"
    ref: str = "refs/heads/main"
    as_json: bool = False
    timeout: float = 3600
    approve: bool = False


WAITING_FOR_PEOPLE = (Status.WAITING_REVIEW, Status.BLOCKED)


def reexec_in_temporary_home(argv: list[str], var_dir: str) -> int:
    """Run `manage.py <argv>` again with a fresh embedded default in `var_dir`."""
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"DEVOPS_VAR_DIR": var_dir, CHILD_FLAG: "1", "CELERY_BROKER_URL": "memory://"})
    manage = Path(settings.BASE_DIR) / "manage.py"
    return subprocess.run([sys.executable, str(manage), *argv], env=env).returncode


def git_facts(path: str) -> dict:
    """The repository a local file lives in, so `checkout: self` clones it at HEAD."""
    folder = Path(path).resolve().parent
    try:
        root = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        sha = subprocess.run(
            ["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {}
    return {"repository": f"file://{root}", "sha": sha}


def plan_labels(plan: dict) -> list[str]:
    return sorted(
        {
            label
            for stage in plan["stages"]
            for job in stage["jobs"]
            for label in (job.get("runs_on") or {}).get("labels") or []
        }
    )


class LogPrinter:
    """Prints new log lines of a build, job by job, as they are stored."""

    def __init__(self, build: Build, out):
        self.build = build
        self.out = out
        self.last_id = 0

    def flush(self) -> None:
        chunks = LogChunk.objects.filter(job__build=self.build, id__gt=self.last_id).order_by("id")
        for chunk_id, name, text in chunks.values_list("id", "job__name", "text")[:50]:
            self.out.write("".join(f"[{name}] {line}\n" for line in text.split(SEPARATOR)))
            self.last_id = chunk_id
        self.out.flush()


def run_local(options: LocalRunOptions, out) -> int:
    call_command("migrate", verbosity=0, interactive=False)
    user = get_user_model().objects.create_superuser(username="local", email="", password=None)
    project = project_create(user=user, slug="local", name="Local run")
    pipeline = pipeline_create(
        project=project, user=user, name=Path(options.file).stem or "pipeline", yaml=options.text
    )
    SECRET_PROVIDERS.append(lambda build, job=None, claim=False: options.secrets)
    git = git_facts(options.file)
    trigger = TriggerEvent(event=options.event, ref=options.ref, sha=git.get("sha", ""), actor=user.username)
    start_embedded_worker()
    server = ServerThread().start()
    build = build_start(
        pipeline=pipeline, user=user, trigger=trigger, inputs=options.inputs, variables=options.variables
    )
    if git.get("repository"):
        Build.objects.filter(id=build.id).update(trigger={**build.trigger, **git})
    labels = options.labels or plan_labels(build.plan)
    agent, secret = agent_create(project=project, user=user, name="local", labels=labels, slots=4)
    agent_process = start_local_agent(
        url=server.url, agent_id=agent.id, secret=secret, home=Path(settings.VAR_DIR) / "agent", quiet=True
    )
    try:
        printer = LogPrinter(build, out if not options.as_json else open(os.devnull, "w"))
        build = wait_for_build(build, printer, options.timeout, user=user if options.approve else None)
    finally:
        stop_process_group(agent_process)
        server.stop()
    report(build, out, options.as_json)
    return 0 if build.status == Status.SUCCEEDED else 1


def wait_for_build(build: Build, printer: LogPrinter, timeout: float, user=None) -> Build:
    """Until the build ends, or waits for a person: for review (unless `user` approves every
    review) or at a blocked quality gate (nobody can override it here)."""
    deadline = time.monotonic() + timeout
    while True:
        printer.flush()
        build.refresh_from_db()
        if build.status == Status.WAITING_REVIEW and user is not None:
            reviews_approve_all(build=build, user=user)
        elif build.status in TERMINAL_STATUSES or build.status in WAITING_FOR_PEOPLE:
            printer.flush()
            return build
        if time.monotonic() > deadline:
            raise TimeoutError(f"the build did not finish within {timeout} s")
        time.sleep(0.1)


def job_results(build: Build) -> list[dict]:
    return [
        {
            "id": job.job_id,
            "key": job.key,
            "name": job.name,
            "matrix": job.matrix or {},
            "status": job.status,
            "reason": job.reason,
        }
        for job in build.jobs.order_by("stage__index", "id")
    ]


def report(build: Build, out, as_json: bool) -> None:
    jobs = job_results(build)
    if as_json:
        out.write(json.dumps({"status": build.status, "reason": build.reason, "jobs": jobs}) + "\n")
        return
    out.write("\n")
    for job in jobs:
        reason = f"  ({job['reason']})" if job["reason"] else ""
        out.write(f"{job['status']:>10}  {job['name']}{reason}\n")
    out.write(f"build {build.status}{': ' + build.reason if build.reason else ''}\n")
