"""Triggers: `on:` normalised into the Plan's `triggers`, and whether an event starts a build.

`on:` may be an event name (`on: push`), a list of names (`on: [push, mr]`) or a mapping of event
to filters (GitHub's `on: {push: {branches: [main]}}`, BK-CI's `mr`, `schedules`, `manual`, `remote`).
Without `on:` a pipeline runs on every push and pull request. Manual runs, API calls and retries
are always allowed unless `manual: disabled`.
"""

from __future__ import annotations

from dataclasses import dataclass

from croniter import croniter

from .inputs import DeclaredInputs, read_inputs
from .patterns import matches_any, pattern_problem
from .schema import MANUAL, PULL_REQUEST, PUSH, SCHEDULE, TAG, TRIGGERS, Reader, suggest
from .yaml_source import YMap, YNode, YScalar, YSeq, describe

EVENTS = ("push", "pull_request", "tag", "schedule", "manual", "remote", "api", "retry")
EVENT_ALIASES = {"mr": "pull_request", "merge_request": "pull_request", "workflow_dispatch": "manual"}
FILTER_PAIRS = (("branches", "branches-ignore"), ("tags", "tags-ignore"), ("paths", "paths-ignore"))
PULL_REQUEST_TYPES = {
    "opened",
    "edited",
    "closed",
    "reopened",
    "synchronize",
    "assigned",
    "unassigned",
    "labeled",
    "unlabeled",
    "converted_to_draft",
    "ready_for_review",
    "locked",
    "unlocked",
    "review_requested",
    "review_request_removed",
    "auto_merge_enabled",
    "auto_merge_disabled",
    "milestoned",
    "demilestoned",
    "enqueued",
    "dequeued",
    "merged",
}
BKCI_ACTIONS = {
    "open": "opened",
    "reopen": "reopened",
    "close": "closed",
    "push-update": "synchronize",
    "merge": "merged",
}
_ENABLED = {True: True, False: False, "enabled": True, "disabled": False, None: True}


@dataclass(frozen=True)
class TriggerEvent:
    """What happened: `event` is push, pull_request, tag, schedule, manual, remote, api or retry.
    For a pull request `ref` is the source branch and `base_ref` the target."""

    event: str = "push"
    ref: str = "refs/heads/main"
    sha: str = ""
    actor: str = ""
    changed_files: tuple = ()
    action: str = ""
    base_ref: str = ""


def default_triggers() -> dict:
    return {"push": _empty_filters(PUSH), "pull_request": _empty_filters(PULL_REQUEST)}


def read_triggers(reader: Reader, node: YNode | None) -> tuple[dict, DeclaredInputs]:
    """The normalised triggers of `on:` and the manual inputs it declares."""
    if node is None:
        return default_triggers(), DeclaredInputs()
    if isinstance(node, YMap):
        fields = reader.mapping(node, TRIGGERS) or {}
    elif isinstance(node, YScalar | YSeq):
        fields = {}
        for item in reader.items(node):
            name = _event_name(reader, item)
            if name in fields:
                reader.report(item, f"trigger '{name}' is listed twice")
            elif name:
                fields[name] = YScalar(item.path, item.line, item.column, None)
    else:
        reader.report(node, f"'on' must be an event, a list of events or a mapping, got {describe(node)}")
        fields = {}
    return _read_events(reader, fields)


def _event_name(reader: Reader, item: YNode) -> str | None:
    name = reader.text(item)
    if name is None:
        return None
    canonical = TRIGGERS.aliases.get(name, name)
    if canonical not in TRIGGERS.keys:
        supported = ", ".join(TRIGGERS.keys)
        hint = suggest(name, (*TRIGGERS.keys, *TRIGGERS.aliases))
        reader.report(item, f"unknown trigger '{name}' (this server supports {supported}){hint}")
        return None
    return canonical


def _read_events(reader: Reader, fields: dict[str, YNode]) -> tuple[dict, DeclaredInputs]:
    triggers: dict = {}
    declared = DeclaredInputs()
    for name, value in fields.items():
        if name == "push":
            triggers[name] = _read_filters(reader, value, PUSH)
        elif name == "pull_request":
            triggers[name] = _read_filters(reader, value, PULL_REQUEST)
        elif name == "tag":
            triggers[name] = _read_filters(reader, value, TAG)
        elif name == "schedule":
            triggers[name] = _read_schedules(reader, value)
        elif name == "manual":
            triggers[name], declared = _read_manual(reader, value)
        else:
            triggers[name] = _read_switch(reader, value, name)
    return triggers, declared


def _empty_filters(spec) -> dict:
    return {key.replace("-", "_"): None for key in spec.keys}


def _read_filters(reader: Reader, node: YNode, spec) -> dict:
    config = _empty_filters(spec)
    if isinstance(node, YScalar) and node.value is None:
        return config
    fields = reader.mapping(node, spec) or {}
    for key, value in fields.items():
        config[key.replace("-", "_")] = (
            _read_types(reader, value) if key == "types" else _read_patterns(reader, value)
        )
    for include, exclude in FILTER_PAIRS:
        if include in fields and exclude in fields:
            reader.report(fields[exclude], f"use either '{include}' or '{exclude}', not both")
    return config


def _read_patterns(reader: Reader, node: YNode) -> list[str]:
    patterns = []
    for item in reader.items(node):
        pattern = reader.text(item)
        if pattern is None:
            continue
        problem = pattern_problem(pattern)
        if problem:
            reader.report(item, problem)
        patterns.append(pattern)
    return patterns


def _read_types(reader: Reader, node: YNode) -> list[str]:
    types = []
    for item in reader.items(node):
        action = reader.text(item)
        if action is None:
            continue
        canonical = BKCI_ACTIONS.get(action, action)
        if canonical not in PULL_REQUEST_TYPES:
            known = (*PULL_REQUEST_TYPES, *BKCI_ACTIONS)
            reader.report(item, f"unknown pull request type '{action}'{suggest(action, known)}")
        types.append(canonical)
    return types


def _read_schedules(reader: Reader, node: YNode) -> list[dict]:
    entries = node.items if isinstance(node, YSeq) else [node]
    if isinstance(node, YScalar) or not entries:
        reader.report(node, "schedule needs a list of entries such as {cron: '0 3 * * 1-5'}")
        return []
    schedules = []
    for entry in entries:
        fields = reader.mapping(entry, SCHEDULE)
        if not fields or "cron" not in fields:
            continue
        cron = reader.text(fields["cron"], "")
        problem = cron_problem(cron)
        if problem:
            reader.report(fields["cron"], problem)
        branches = _read_patterns(reader, fields["branches"]) if "branches" in fields else None
        schedules.append({"cron": cron, "branches": branches})
    return schedules


def cron_problem(cron: str) -> str | None:
    fields = cron.split()
    if len(fields) != 5:
        return f"cron '{cron}' must have 5 fields (minute hour day month weekday), it has {len(fields)}"
    try:
        croniter(cron)
    except (ValueError, KeyError, TypeError, OverflowError) as error:
        return f"invalid cron '{cron}': {error}"
    return None


def _read_manual(reader: Reader, node: YNode) -> tuple[dict, DeclaredInputs]:
    if isinstance(node, YMap):
        fields = reader.mapping(node, MANUAL) or {}
        declared = read_inputs(reader, fields.get("inputs"))
        return {"enabled": True, "inputs": declared.spec}, declared
    return {"enabled": _read_switch(reader, node, "manual"), "inputs": {}}, DeclaredInputs()


def _read_switch(reader: Reader, node: YNode, name: str) -> bool:
    value = node.value if isinstance(node, YScalar) else node
    if isinstance(value, bool | str | None) and value in _ENABLED:
        return _ENABLED[value]
    reader.report(node, f"'{name}' must be enabled or disabled, got {describe(node)}")
    return False


def branch_name(ref: str) -> str:
    return ref.removeprefix("refs/heads/")


def trigger_matches(plan_or_triggers: dict, event: TriggerEvent) -> tuple[bool, str]:
    """Whether `event` starts a build of a pipeline with these triggers, and a human reason."""
    triggers = plan_or_triggers.get("triggers", plan_or_triggers)
    kind = EVENT_ALIASES.get(event.event, event.event)
    if kind == "push" and event.ref.startswith("refs/tags/"):
        kind = "tag"
    matcher = _MATCHERS.get(kind)
    if matcher is None:
        return False, f"unknown event '{event.event}'"
    return matcher(triggers, event)


def _match_push(triggers: dict, event: TriggerEvent) -> tuple[bool, str]:
    push = triggers.get("push")
    if push is None:
        return False, "the pipeline has no push trigger"
    if _has(push, "tags") and not _has(push, "branches"):
        return False, "the push trigger lists only tags"
    branch = branch_name(event.ref)
    return _all_of(
        _match_name("branch", branch, push, "branches"),
        _match_paths(push, event.changed_files),
        success=f"push to branch '{branch}' matches the push trigger",
    )


def _match_tag(triggers: dict, event: TriggerEvent) -> tuple[bool, str]:
    tag = event.ref.removeprefix("refs/tags/")
    if triggers.get("tag") is not None:
        result = _match_name("tag", tag, triggers["tag"], "tags")
        if result[0] or triggers.get("push") is None:
            return result[0], result[1] or f"tag '{tag}' matches the tag trigger"
    push = triggers.get("push")
    if push is None:
        return False, "the pipeline has no tag or push trigger"
    if _has(push, "branches") and not _has(push, "tags"):
        return False, "the push trigger lists only branches"
    ok, reason = _match_name("tag", tag, push, "tags")
    return ok, reason or f"tag '{tag}' matches the push trigger"


def _match_pull_request(triggers: dict, event: TriggerEvent) -> tuple[bool, str]:
    config = triggers.get("pull_request")
    if config is None:
        return False, "the pipeline has no pull_request trigger"
    target = branch_name(event.base_ref or event.ref)
    action = BKCI_ACTIONS.get(event.action, event.action)
    types = config.get("types")
    type_check = (True, "")
    if types and action and action not in types:
        type_check = (False, f"pull request action '{event.action}' is not in types [{', '.join(types)}]")
    return _all_of(
        type_check,
        _match_name("target branch", target, config, "branches"),
        _match_paths(config, event.changed_files),
        success=f"pull request into '{target}' matches the pull_request trigger",
    )


def _match_schedule(triggers: dict, event: TriggerEvent) -> tuple[bool, str]:
    schedules = triggers.get("schedule") or []
    if not schedules:
        return False, "the pipeline has no schedule"
    branch = branch_name(event.ref)
    if any(entry.get("branches") is None or matches_any(branch, entry["branches"]) for entry in schedules):
        return True, "the pipeline has a schedule"
    return False, f"branch '{branch}' is not in any schedule's branches"


def _match_manual(triggers: dict, event: TriggerEvent) -> tuple[bool, str]:
    manual = triggers.get("manual")
    if manual is not None and not manual.get("enabled", True):
        return False, "manual runs are disabled (manual: disabled)"
    return True, f"{event.event} runs are allowed"


def _match_remote(triggers: dict, event: TriggerEvent) -> tuple[bool, str]:
    if triggers.get("remote"):
        return True, "remote triggering is enabled"
    return False, "remote triggering is not enabled (add 'remote: enabled' to 'on')"


def _match_always(triggers: dict, event: TriggerEvent) -> tuple[bool, str]:
    return True, "a retry always runs" if event.event == "retry" else f"{event.event} runs are allowed"


_MATCHERS = {
    "push": _match_push,
    "tag": _match_tag,
    "pull_request": _match_pull_request,
    "schedule": _match_schedule,
    "manual": _match_manual,
    "api": _match_manual,
    "retry": _match_always,
    "remote": _match_remote,
}


def _has(config: dict, key: str) -> bool:
    return config.get(key) is not None or config.get(f"{key}_ignore") is not None


def _listed(patterns: list[str]) -> str:
    return "[" + ", ".join(patterns) + "]"


def _match_name(what: str, name: str, config: dict, key: str) -> tuple[bool, str]:
    include, exclude = config.get(key), config.get(f"{key}_ignore")
    if include is not None and not matches_any(name, include):
        return False, f"{what} '{name}' does not match {key} {_listed(include)}"
    if exclude is not None and matches_any(name, exclude):
        return False, f"{what} '{name}' matches {key}-ignore {_listed(exclude)}"
    return True, ""


def _match_paths(config: dict, changed: tuple) -> tuple[bool, str]:
    include, exclude = config.get("paths"), config.get("paths_ignore")
    if not changed or (include is None and exclude is None):
        return True, ""
    if include is not None and not any(matches_any(path, include) for path in changed):
        return False, f"no changed file matches paths {_listed(include)}"
    if exclude is not None and all(matches_any(path, exclude) for path in changed):
        return False, f"every changed file matches paths-ignore {_listed(exclude)}"
    return True, ""


def _all_of(*checks: tuple[bool, str], success: str) -> tuple[bool, str]:
    for ok, reason in checks:
        if not ok:
            return False, reason
    return True, success
