"""What a checkout step learns: the repository URL (the trigger's, else the pipeline's) and the
credentials to fetch it with (the step's own `token`/`ssh-key`, else the pipeline's repository
credential). Part of the agent protocol's process side (see `jobs`)."""

import json
from collections import OrderedDict

from apps.process.models import JobRun
from apps.process.services.pipelines import repository_key


def checkout_url(build) -> str:
    """The trigger's repository (a webhook names it), else the pipeline's. When both name the same
    repository the pipeline's spelling wins: its credential is for that URL (SSH or HTTPS)."""
    given = build.trigger.get("repository") or ""
    own = build.pipeline.repository_url
    if not given or (own and repository_key(given) == repository_key(own)):
        return own
    return given


def checkout_facts(job: JobRun) -> dict | None:
    url = checkout_url(job.build)
    if not url:
        return None
    trigger = job.build.trigger
    return {
        "url": url,
        "ref": trigger.get("ref"),
        "sha": trigger.get("sha"),
        "username": None,
        "password": None,
        "ssh_key": None,
    }


OWN_CREDENTIAL_INPUTS = ("token", "ssh-key")
_plain_checkouts: OrderedDict = OrderedDict()


def plan_job_checks_out_plainly(plan: dict, job_id: str) -> bool:
    """Whether the job has a checkout step that brings no token or SSH key of its own."""
    for stage in plan.get("stages") or []:
        for plan_job in stage.get("jobs") or []:
            if plan_job.get("id") != job_id:
                continue
            for step in plan_job.get("steps") or []:
                kind = step.get("kind") or ("checkout" if step.get("checkout") else "run")
                inputs = step.get("with") or {}
                if kind == "checkout" and not any(name in inputs for name in OWN_CREDENTIAL_INPUTS):
                    return True
    return False


def checkout_credential_name(build, job) -> str | None:
    """The pipeline's repository credential, when `job` checks out the pipeline's own repository
    with a step that names no credential itself; never for a pull request from a fork."""
    pipeline = build.pipeline
    name = pipeline.repository_credential
    if job is None or not name or build.trigger.get("fork"):
        return None
    given, own = build.trigger.get("repository"), pipeline.repository_url
    if not (given or own) or (given and own and repository_key(given) != repository_key(own)):
        return None
    key = (build.id, job.job_id)  # cached: a build's Plan never changes
    plain = _plain_checkouts.get(key)
    if plain is None:
        plain = _plain_checkouts[key] = plan_job_checks_out_plainly(build.plan, job.job_id)
        if len(_plain_checkouts) > 4096:
            _plain_checkouts.popitem(last=False)
    return name if plain else None


def _credential_fields(text) -> dict:
    """A rendered `token`/`ssh-key` input: text, a multi-part credential, or its JSON."""
    if isinstance(text, dict):
        return {str(name): str(value) for name, value in text.items() if value not in (None, "")}
    if not isinstance(text, str) or not text.lstrip().startswith("{"):
        return {"value": str(text)} if text not in (None, "") else {}
    try:
        fields = json.loads(text)
    except ValueError:
        return {"value": text}
    return fields if isinstance(fields, dict) else {"value": text}


def checkout_credentials(checkout: dict) -> dict:
    """HTTPS (`with: {token: ...}`: a token, or a username + password credential) or SSH
    (`with: {ssh-key: ...}`: a key, or an SSH key credential with its passphrase) for git."""
    given = checkout.get("with") or {}
    token, key = _credential_fields(given.get("token")), _credential_fields(given.get("ssh-key"))
    facts: dict = {}
    if token:
        facts["password"] = token.get("password") or token.get("token") or token.get("value")
        facts["username"] = token.get("username") or "x-access-token"
    if key:
        facts["ssh_key"] = key.get("private_key") or key.get("value")
        facts["ssh_passphrase"] = key.get("passphrase")
    return facts


def with_repository(job: JobRun, rendered: dict, secrets: dict | None = None) -> dict:
    """A checkout step learns the URL and credentials of the pipeline's repository: its own
    `token`/`ssh-key`, else the pipeline's repository credential (found among `secrets`, the
    job's resolved secrets)."""
    facts = checkout_facts(job) if rendered.get("kind") == "checkout" else None
    if facts is None:
        return rendered
    checkout = rendered.get("checkout") or {}
    given = checkout.get("with") or {}
    credentials = checkout_credentials(checkout)
    own = any(key in given for key in OWN_CREDENTIAL_INPUTS)
    name = None if own else checkout_credential_name(job.build, job)
    value = (secrets or {}).get(name) if name else None
    if value:
        kind = "ssh-key" if isinstance(value, dict) and "private_key" in value else "token"
        credentials = checkout_credentials({"with": {kind: value}})
    inputs = {key: item for key, item in given.items() if key not in OWN_CREDENTIAL_INPUTS}
    return {**rendered, "checkout": {**checkout, **facts, **credentials, "with": inputs}}
