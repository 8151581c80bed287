"""Triggers: `on:` in all its forms, normalised; and a table of events that do or do not start a build."""

from __future__ import annotations

import pytest

from apps.process.language import TriggerEvent, compile_pipeline, static_contexts, trigger_matches
from apps.process.language.patterns import matches_any

JOBS = "jobs:\n  a:\n    steps: [{run: x}]\n"


def triggers_of(on: str) -> dict:
    return compile_pipeline(f"on: {on}\n{JOBS}")["triggers"]


def push(ref="refs/heads/main", files=()):
    return TriggerEvent(event="push", ref=ref, changed_files=tuple(files))


def pull_request(target="main", action="opened", files=()):
    return TriggerEvent(
        event="pull_request",
        ref="refs/heads/topic",
        base_ref=f"refs/heads/{target}",
        action=action,
        changed_files=tuple(files),
    )


MATCHES = [
    # on, event, matches, reason (substring)
    ("push", push(), True, "push to branch 'main' matches the push trigger"),
    ("[push]", push("refs/heads/anything"), True, "matches the push trigger"),
    (
        "{push: {branches: [main]}}",
        push("refs/heads/dev"),
        False,
        "branch 'dev' does not match branches [main]",
    ),
    ("{push: {branches: ['release/**']}}", push("refs/heads/release/1.2/hotfix"), True, ""),
    (
        "{push: {branches: ['release/*']}}",
        push("refs/heads/release/1.2/hotfix"),
        False,
        "does not match branches",
    ),
    (
        "{push: {branches: ['feature/*', '!feature/wip*']}}",
        push("refs/heads/feature/wip-x"),
        False,
        "does not match",
    ),
    ("{push: {branches: ['feature/*', '!feature/wip*']}}", push("refs/heads/feature/login"), True, ""),
    ("{push: {branches: ['*', '!main', 'main']}}", push("refs/heads/main"), True, ""),
    (
        "{push: {branches-ignore: ['dev*']}}",
        push("refs/heads/dev-1"),
        False,
        "branch 'dev-1' matches branches-ignore [dev*]",
    ),
    ("{push: {branches-ignore: ['dev*']}}", push("refs/heads/main"), True, ""),
    ("{push: {branches: [main]}}", push("refs/tags/v1"), False, "the push trigger lists only branches"),
    ("{push: {tags: ['v*']}}", push("refs/tags/v1.0"), True, "tag 'v1.0' matches the push trigger"),
    ("{push: {tags: ['v*']}}", push("refs/heads/main"), False, "the push trigger lists only tags"),
    (
        "{push: {tags-ignore: ['*-rc']}}",
        push("refs/tags/v2-rc"),
        False,
        "tag 'v2-rc' matches tags-ignore [*-rc]",
    ),
    ("push", push("refs/tags/v1"), True, "matches the push trigger"),
    ("{push: {paths: ['src/**']}}", push(files=["docs/a.md", "src/app/main.py"]), True, ""),
    (
        "{push: {paths: ['src/**']}}",
        push(files=["docs/a.md"]),
        False,
        "no changed file matches paths [src/**]",
    ),
    ("{push: {paths: ['src/**']}}", push(files=[]), True, "matches"),
    (
        "{push: {paths: ['**.py', '!tests/**']}}",
        push(files=["tests/test_a.py"]),
        False,
        "no changed file matches",
    ),
    (
        "{push: {paths-ignore: ['docs/**', '*.md']}}",
        push(files=["docs/x/y.txt", "README.md"]),
        False,
        "every changed file matches paths-ignore [docs/**, *.md]",
    ),
    ("{push: {paths-ignore: ['docs/**']}}", push(files=["docs/a.md", "setup.py"]), True, ""),
    ("{push: {paths: ['docs/**/*.md']}}", push(files=["docs/README.md"]), True, ""),
    (
        "{tag: {tags: ['v[0-9]+.[0-9]+']}}",
        TriggerEvent(event="tag", ref="refs/tags/v10.2"),
        True,
        "tag 'v10.2' matches the tag trigger",
    ),
    (
        "{tag: {tags: ['v[0-9]+.[0-9]+']}}",
        TriggerEvent(event="tag", ref="refs/tags/v1.x"),
        False,
        "tag 'v1.x' does not match tags [v[0-9]+.[0-9]+]",
    ),
    ("{tag: {tags: ['v*']}}", push("refs/tags/v3"), True, "matches the tag trigger"),
    (
        "{push: {branches: [main]}}",
        TriggerEvent(event="tag", ref="refs/tags/v3"),
        False,
        "lists only branches",
    ),
    ("pull_request", pull_request(), True, "pull request into 'main' matches the pull_request trigger"),
    ("mr", pull_request("dev"), True, ""),
    (
        "{mr: {branches: [main]}}",
        pull_request("dev"),
        False,
        "target branch 'dev' does not match branches [main]",
    ),
    (
        "{pull_request: {types: [opened]}}",
        pull_request(action="closed"),
        False,
        "pull request action 'closed' is not in types [opened]",
    ),
    ("{mr: {action: [open, push-update]}}", pull_request(action="synchronize"), True, ""),
    ("{mr: {action: [open]}}", pull_request(action="reopen"), False, "is not in types [opened]"),
    (
        "{pull_request: {paths: ['src/*']}}",
        pull_request(files=["src/a/b.py"]),
        False,
        "no changed file matches",
    ),
    ("push", pull_request(), False, "the pipeline has no pull_request trigger"),
    ("pull_request", push(), False, "the pipeline has no push trigger"),
    (
        "{schedule: [{cron: '0 3 * * *'}]}",
        TriggerEvent(event="schedule"),
        True,
        "the pipeline has a schedule",
    ),
    (
        "{schedules: {cron: '0 3 * * *', branches: [main]}}",
        TriggerEvent(event="schedule", ref="refs/heads/dev"),
        False,
        "branch 'dev' is not in any schedule's branches",
    ),
    ("push", TriggerEvent(event="schedule"), False, "the pipeline has no schedule"),
    ("push", TriggerEvent(event="manual"), True, "manual runs are allowed"),
    ("{push: {}, manual: disabled}", TriggerEvent(event="manual"), False, "manual runs are disabled"),
    ("{workflow_dispatch: }", TriggerEvent(event="manual"), True, ""),
    ("{remote: enabled}", TriggerEvent(event="remote"), True, "remote triggering is enabled"),
    ("push", TriggerEvent(event="remote"), False, "remote triggering is not enabled"),
    ("{remote: disabled}", TriggerEvent(event="remote"), False, "not enabled"),
    ("{push: {branches: [nothing]}}", TriggerEvent(event="retry"), True, "a retry always runs"),
    ("push", TriggerEvent(event="api"), True, "api runs are allowed"),
    ("push", TriggerEvent(event="webhook"), False, "unknown event 'webhook'"),
]


@pytest.mark.parametrize(
    ("on", "event", "expected", "reason"), MATCHES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MATCHES)]
)
def test_trigger_matches(on, event, expected, reason):
    plan = compile_pipeline(f"on: {on}\n{JOBS}")
    matched, why = trigger_matches(plan, event)
    assert (matched, reason in why) == (expected, True), why
    assert trigger_matches(plan["triggers"], event) == (matched, why)


def test_on_forms_normalise_alike():
    assert (
        triggers_of("push") == triggers_of("[push]") == triggers_of("{push: }") == triggers_of("{push: {}}")
    )
    assert set(triggers_of("[push, mr, workflow_dispatch]")) == {"push", "pull_request", "manual"}


def test_without_on_a_pipeline_runs_on_push_and_pull_request():
    triggers = compile_pipeline(JOBS)["triggers"]
    assert set(triggers) == {"push", "pull_request"}
    assert trigger_matches(triggers, push("refs/heads/any"))[0]


def test_schedule_is_normalised_to_a_list():
    assert triggers_of("{schedules: {cron: '*/5 * * * *'}}")["schedule"] == [
        {"cron": "*/5 * * * *", "branches": None}
    ]


PATTERNS = [
    ("*", "main", True),
    ("*", "feature/x", False),
    ("**", "feature/x/y", True),
    ("feature/*", "feature/a", True),
    ("feature/**", "feature/a/b", True),
    ("*.jsx?", "page.js", True),
    ("*.jsx?", "page.jsx", True),
    ("*.jsx?", "page.jsxx", False),
    ("v[12].[0-9]+.[0-9]+", "v1.10.1", True),
    ("v[12].[0-9]+.[0-9]+", "v3.0.0", False),
    ("**/README.md", "README.md", True),
    ("**/README.md", "a/b/README.md", True),
    ("docs/**/*.md", "docs/README.md", True),
    ("docs/**/*.md", "docs/a/b.md", True),
    ("**/*src/**", "a/src/app.js", True),
    ("*.md", "docs/a.md", False),
    ("v2*", "v2.1", True),
    ("a+b", "aaab", True),
    ("a\\*b", "a*b", True),
    ("a\\*b", "axb", False),
    ("release.1", "releasex1", False),
]


@pytest.mark.parametrize(("pattern", "name", "expected"), PATTERNS)
def test_filter_patterns(pattern, name, expected):
    assert matches_any(name, [pattern]) is expected


def test_static_contexts_describe_the_trigger():
    trigger = TriggerEvent(
        event="pull_request",
        ref="refs/heads/topic",
        base_ref="refs/heads/main",
        sha="abc",
        actor="bob",
        action="opened",
    )
    contexts = static_contexts(
        trigger=trigger,
        inputs={"x": 1},
        variables={"V": "v"},
        pipeline_name="p",
        project="proj",
        build_number=7,
        build_id="b7",
        workspace="/w",
        repository="r",
    )
    assert contexts["ci"]["branch"] == "topic" and contexts["ci"]["base_ref"] == "main"
    assert contexts["ci"]["build_number"] == 7 and contexts["ci"]["project"] == "proj"
    assert contexts["github"]["event_name"] == "pull_request"
    assert contexts["github"]["head_ref"] == "topic" and contexts["github"]["base_ref"] == "main"
    assert contexts["github"]["run_number"] == 7 and contexts["github"]["workspace"] == "/w"
    assert contexts["inputs"] == {"x": 1}
    assert contexts["variables"] == contexts["vars"] == {"V": "v"}
    manual = static_contexts(
        trigger=TriggerEvent(event="manual", ref="refs/tags/v1"), inputs={}, variables={}, pipeline_name="p"
    )
    assert manual["github"]["event_name"] == "workflow_dispatch"
    assert (manual["ci"]["tag"], manual["ci"]["branch"], manual["github"]["ref_type"]) == ("v1", "", "tag")
