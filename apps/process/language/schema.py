"""The keys each part of a pipeline accepts, their aliases, and typed readers that report problems.

`Reader.mapping(node, SPEC)` returns the entries of a mapping under their canonical names (aliases
folded in) after reporting unknown keys with a "did you mean" suggestion, keys the server does not
support, and an alias given together with its canonical key. The other readers check one value's
type, report a problem when it is wrong, and return a safe default so reading can go on.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from .problems import Problem
from .yaml_source import YEntry, YMap, YNode, YScalar, YSeq, describe


@dataclass(frozen=True)
class KeySpec:
    what: str
    keys: tuple[str, ...]
    aliases: dict[str, str] = field(default_factory=dict)
    unsupported: dict[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ()


_NO_TOKEN = "is not supported: builds get no GitHub token, so there are no permissions to set"
_NO_CONTAINERS = "is not supported: jobs run directly on the agent; choose the machine with 'runs-on'"

PIPELINE = KeySpec(
    "pipeline",
    (
        "version",
        "name",
        "run-name",
        "on",
        "variables",
        "env",
        "concurrency",
        "defaults",
        "stages",
        "jobs",
        "finally",
        "notices",
    ),
    unsupported={"permissions": _NO_TOKEN},
)
STAGE = KeySpec(
    "stage",
    ("name", "id", "if", "fast-kill", "check-in", "check-out", "jobs"),
    aliases={"fail-fast": "fast-kill"},
    required=("jobs",),
)
JOB = KeySpec(
    "job",
    (
        "name",
        "needs",
        "if",
        "runs-on",
        "strategy",
        "env",
        "outputs",
        "timeout-minutes",
        "continue-on-error",
        "retry",
        "defaults",
        "steps",
    ),
    aliases={"depend-on": "needs"},
    unsupported={
        "permissions": _NO_TOKEN,
        "container": _NO_CONTAINERS,
        "services": _NO_CONTAINERS,
        "environment": "is not supported: use a stage 'check-in' review to guard a deployment",
        "uses": "is not supported: reusable workflows cannot be called; put the jobs in this pipeline",
        "with": "is not supported: reusable workflows cannot be called",
        "secrets": "is not supported: secrets come from the project's credentials",
        "concurrency": "is not supported on a job: set 'concurrency' for the whole pipeline",
    },
    required=("steps",),
)
JOB_RETRY = KeySpec("retry", ("max", "when"), required=("max",))
STRATEGY = KeySpec(
    "strategy",
    ("matrix", "include", "exclude", "fail-fast", "max-parallel"),
    aliases={"fast-kill": "fail-fast"},
)
STEP = KeySpec(
    "step",
    (
        "name",
        "id",
        "if",
        "run",
        "shell",
        "working-directory",
        "env",
        "timeout-minutes",
        "continue-on-error",
        "uses",
        "with",
        "checkout",
        "retry",
    ),
    aliases={"retry-times": "retry"},
)
DEFAULTS = KeySpec("defaults", ("run",))
RUN_DEFAULTS = KeySpec("run", ("shell", "working-directory"))
CONCURRENCY = KeySpec("concurrency", ("group", "cancel-in-progress", "queue-length"), required=("group",))
CHECK = KeySpec("stage check", ("reviews", "gates"))
REVIEWS = KeySpec(
    "reviews", ("reviewers", "timeout-hours", "description", "inputs"), aliases={"params": "inputs"},
    required=("reviewers",),
)
GATE = KeySpec(
    "gate", ("name", "rule", "continue-on-fail"), aliases={"rules": "rule"}, required=("name",)
)
CONTINUE_ON_FAIL = KeySpec("continue-on-fail", ("gatekeepers", "timeout-minutes"), required=("gatekeepers",))
NOTICE = KeySpec("notice", ("type", "receivers", "title", "content", "if"), required=("type",))
RUNS_ON = KeySpec("runs-on", ("pool", "labels"), aliases={"group": "pool", "pool-name": "pool"})
TRIGGERS = KeySpec(
    "on",
    ("push", "pull_request", "tag", "schedule", "manual", "remote"),
    aliases={"mr": "pull_request", "schedules": "schedule", "workflow_dispatch": "manual"},
)
PUSH = KeySpec("push", ("branches", "branches-ignore", "tags", "tags-ignore", "paths", "paths-ignore"))
PULL_REQUEST = KeySpec(
    "pull_request",
    ("branches", "branches-ignore", "paths", "paths-ignore", "types"),
    aliases={"action": "types", "actions": "types"},
)
TAG = KeySpec("tag", ("tags", "tags-ignore"))
SCHEDULE = KeySpec("schedule", ("cron", "branches"), required=("cron",))
MANUAL = KeySpec("manual", ("inputs",))
INPUT = KeySpec("input", ("type", "description", "default", "required", "options"))


def suggest(word: str, candidates) -> str:
    """' did you mean 'X'?' for a near miss, else ''."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def key_of(node: YNode) -> str:
    """The last part of a node's path, as the user spelled it: 'retry-times', 'branches[0]'."""
    return node.path.rsplit(".", 1)[-1] or "the pipeline"


def _place(node: YNode, spec: KeySpec) -> str:
    """How a message names a mapping: 'job 'build'', or just 'step' for an item of a list."""
    key = key_of(node)
    return spec.what if key == spec.what or key.endswith("]") else f"{spec.what} '{key}'"


def scalar_text(value) -> str:
    """A scalar as the string a shell or a template would see ('true', '3', '')."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


class Reader:
    """Collects problems while reading typed values out of the positioned tree."""

    def __init__(self):
        self.problems: list[Problem] = []

    def report(self, node: YNode, message: str) -> None:
        self.problems.append(Problem(node.path, node.line, node.column, message))

    def report_key(self, entry: YEntry, message: str) -> None:
        self.problems.append(Problem(entry.value.path, entry.line, entry.column, message))

    def report_at(self, path: str, line: int, column: int, message: str) -> None:
        self.problems.append(Problem(path, line, column, message))

    def mapping(self, node: YNode | None, spec: KeySpec) -> dict[str, YNode] | None:
        if node is None:
            return None
        if not isinstance(node, YMap):
            self.report(node, f"{_place(node, spec)} must be a mapping, got {describe(node)}")
            return None
        fields: dict[str, YNode] = {}
        spelled: dict[str, str] = {}
        for entry in node.entries:
            canonical = spec.aliases.get(entry.key, entry.key)
            if canonical in spec.keys:
                if canonical in fields:
                    message = f"'{entry.key}' repeats '{spelled[canonical]}' (an alias); keep one"
                    self.report_key(entry, message)
                    continue
                fields[canonical] = entry.value
                spelled[canonical] = entry.key
            elif entry.key in spec.unsupported:
                self.report_key(entry, f"'{entry.key}' {spec.unsupported[entry.key]}")
            else:
                hint = suggest(entry.key, (*spec.keys, *spec.aliases))
                self.report_key(entry, f"unknown key '{entry.key}' in {spec.what}{hint}")
        for key in spec.required:
            if key not in fields:
                self.report(node, f"{spec.what} is missing required key '{key}'")
        return fields

    def text(self, node: YNode | None, default: str | None = None) -> str | None:
        """A string; numbers and booleans are taken as their text."""
        if node is None:
            return default
        if isinstance(node, YScalar) and node.value is not None:
            return scalar_text(node.value)
        self.report(node, f"{key_of(node)} must be a string, got {describe(node)}")
        return default

    def boolean(self, node: YNode | None, default: bool) -> bool:
        if node is None:
            return default
        if isinstance(node, YScalar) and isinstance(node.value, bool):
            return node.value
        self.report(node, f"{key_of(node)} must be true or false, got {describe(node)}")
        return default

    def integer(
        self, node: YNode | None, default: int | None, low: int, high: int | None = None
    ) -> int | None:
        if node is None:
            return default
        value = node.value if isinstance(node, YScalar) else None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            self.report(node, f"{key_of(node)} must be a whole number, got {describe(node)}")
            return default
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            self.report(node, f"{key_of(node)} must be {bounds}, got {value}")
            return default
        return value

    def minutes(self, node: YNode | None, default: float | None) -> int | float | None:
        return self.amount(node, default, "minutes")

    def amount(self, node: YNode | None, default: float | None, unit: str) -> int | float | None:
        """A positive number of `unit` (minutes, hours)."""
        if node is None:
            return default
        value = node.value if isinstance(node, YScalar) else None
        if not isinstance(value, int | float) or isinstance(value, bool):
            self.report(node, f"{key_of(node)} must be a number of {unit}, got {describe(node)}")
            return default
        if not value > 0 or value != value or value == float("inf"):
            self.report(node, f"{key_of(node)} must be more than 0 {unit}, got {value}")
            return default
        return int(value) if float(value).is_integer() else value

    def items(self, node: YNode | None) -> list[YNode]:
        """The items of a list; a single scalar counts as a list of one."""
        if node is None:
            return []
        if isinstance(node, YSeq):
            return node.items
        if isinstance(node, YScalar) and node.value is not None:
            return [node]
        self.report(node, f"{key_of(node)} must be a string or a list of strings, got {describe(node)}")
        return []

    def text_list(self, node: YNode | None) -> list[str]:
        texts = (self.text(item) for item in self.items(node))
        return [text for text in texts if text is not None]

    def entries(self, node: YNode | None, what: str) -> list[YEntry]:
        """The entries of a free-form mapping such as `env` or `jobs`."""
        if node is None:
            return []
        if isinstance(node, YMap):
            return node.entries
        if isinstance(node, YScalar) and node.value is None:
            return []
        self.report(node, f"{what} must be a mapping, got {describe(node)}")
        return []
