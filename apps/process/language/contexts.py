"""The expression contexts known when a build starts: `ci` and its GitHub twin `github` (facts of
the trigger), `inputs`, and `variables` (also as `vars`). The compiler renders job names and
`runs-on` with them; the engine starts every job's contexts from them."""

from __future__ import annotations

from .triggers import TriggerEvent

STATIC_CONTEXTS = frozenset({"ci", "github", "inputs", "variables", "vars", "matrix"})
GITHUB_EVENT_NAMES = {
    "tag": "push",
    "manual": "workflow_dispatch",
    "api": "workflow_dispatch",
    "remote": "repository_dispatch",
    "mr": "pull_request",
}


def ref_facts(ref: str) -> tuple[str, str]:
    """(ref_name, ref_type) of a git ref: 'refs/tags/v1' -> ('v1', 'tag')."""
    if ref.startswith("refs/tags/"):
        return ref.removeprefix("refs/tags/"), "tag"
    if ref.startswith("refs/heads/"):
        return ref.removeprefix("refs/heads/"), "branch"
    return ref, "branch"


def static_contexts(
    *,
    trigger: TriggerEvent | None,
    inputs: dict,
    variables: dict,
    pipeline_name: str,
    project: str = "",
    build_number: int = 0,
    build_id: str = "",
    workspace: str = "",
    repository: str = "",
) -> dict:
    trigger = trigger or TriggerEvent()
    ref_name, ref_type = ref_facts(trigger.ref)
    base_ref = ref_facts(trigger.base_ref)[0] if trigger.base_ref else ""
    is_pull_request = trigger.event in ("pull_request", "mr")
    ci = {
        "event": "pull_request" if trigger.event == "mr" else trigger.event,
        "ref": trigger.ref,
        "ref_name": ref_name,
        "ref_type": ref_type,
        "branch": ref_name if ref_type == "branch" else "",
        "tag": ref_name if ref_type == "tag" else "",
        "base_ref": base_ref,
        "action": trigger.action,
        "sha": trigger.sha,
        "actor": trigger.actor,
        "pipeline": pipeline_name,
        "project": project,
        "build_number": build_number,
        "build_id": build_id,
        "workspace": workspace,
        "repository": repository,
        "changed_files": list(trigger.changed_files),
    }
    github = {
        "event_name": GITHUB_EVENT_NAMES.get(trigger.event, trigger.event),
        "ref": trigger.ref,
        "ref_name": ref_name,
        "ref_type": ref_type,
        "sha": trigger.sha,
        "actor": trigger.actor,
        "triggering_actor": trigger.actor,
        "workspace": workspace,
        "repository": repository,
        "run_number": build_number,
        "run_id": build_id,
        "workflow": pipeline_name,
        "base_ref": base_ref if is_pull_request else "",
        "head_ref": ref_name if is_pull_request else "",
        "event": _github_event(trigger, inputs, ref_name, base_ref),
    }
    return {
        "ci": ci,
        "github": github,
        "inputs": dict(inputs),
        "variables": dict(variables),
        "vars": dict(variables),
    }


def _github_event(trigger: TriggerEvent, inputs: dict, ref_name: str, base_ref: str) -> dict:
    event: dict = {"ref": trigger.ref, "after": trigger.sha, "sender": {"login": trigger.actor}}
    if trigger.event in ("manual", "api"):
        event["inputs"] = dict(inputs)
    if trigger.event in ("pull_request", "mr"):
        event["action"] = trigger.action
        event["pull_request"] = {"head": {"ref": ref_name, "sha": trigger.sha}, "base": {"ref": base_ref}}
    return event
