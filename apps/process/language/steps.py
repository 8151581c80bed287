"""Steps: `run:` commands and repository checkouts (`checkout: self`, or `uses: actions/checkout@v4`,
the one action this server provides), with shell and working directory resolved through defaults."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .checks import OPEN, read_condition, read_flag_or_condition, read_template, read_template_map
from .schema import DEFAULTS, RUN_DEFAULTS, STEP, Reader, suggest
from .yaml_source import YMap, YNode, YSeq, describe

ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
SHELLS = ("bash", "sh", "python", "pwsh", "powershell")
CHECKOUT_ACTION = re.compile(r"^actions/checkout@\S+$")
CHECKOUT_INPUTS = (
    "ref",
    "token",
    "ssh-key",
    "ssh-known-hosts",
    "ssh-strict",
    "ssh-user",
    "persist-credentials",
    "path",
    "clean",
    "filter",
    "sparse-checkout",
    "sparse-checkout-cone-mode",
    "fetch-depth",
    "fetch-tags",
    "show-progress",
    "lfs",
    "submodules",
    "set-safe-directory",
    "github-server-url",
)
MAX_RETRY = 5


@dataclass(frozen=True)
class RunDefaults:
    shell: str | None = None
    working_directory: str | None = None

    def under(self, outer: RunDefaults) -> RunDefaults:
        """These defaults, falling back to `outer` where unset (job defaults over the pipeline's)."""
        return RunDefaults(self.shell or outer.shell, self.working_directory or outer.working_directory)


def read_run_defaults(reader: Reader, node: YNode | None) -> RunDefaults:
    fields = reader.mapping(node, DEFAULTS) or {}
    run = reader.mapping(fields.get("run"), RUN_DEFAULTS) or {}
    return RunDefaults(
        read_shell(reader, run.get("shell")), read_template(reader, run.get("working-directory"))
    )


def read_shell(reader: Reader, node: YNode | None) -> str | None:
    shell = read_template(reader, node)
    if shell is None or node is None:
        return None
    if shell.lower() in SHELLS:
        return shell.lower()
    if "{0}" in shell or OPEN in shell:
        return shell
    reader.report(
        node,
        f"unknown shell '{shell}' (use {', '.join(SHELLS)}, a command with '{{0}}', "
        f"or an expression){suggest(shell.lower(), SHELLS)}",
    )
    return None


def read_steps(reader: Reader, node: YNode | None, defaults: RunDefaults) -> list[dict]:
    if node is None:
        return []
    if not isinstance(node, YSeq):
        reader.report(node, f"steps must be a list, got {describe(node)}")
        return []
    if not node.items:
        reader.report(node, "a job needs at least one step")
    steps = [read_step(reader, index, item, defaults) for index, item in enumerate(node.items)]
    _check_step_ids(reader, node.items, steps)
    return steps


def _check_step_ids(reader: Reader, nodes: list[YNode], steps: list[dict]) -> None:
    first: dict[str, int] = {}
    for node, step in zip(nodes, steps, strict=True):
        if step["id"] is None:
            continue
        if step["id"] in first:
            reader.report(
                _field(node, "id"), f"step id '{step['id']}' is already used by step {first[step['id']]}"
            )
        else:
            first[step["id"]] = step["index"]


def _field(node: YNode, key: str) -> YNode:
    return (node.get(key) if isinstance(node, YMap) else None) or node


def read_step(reader: Reader, index: int, node: YNode, defaults: RunDefaults) -> dict:
    fields = reader.mapping(node, STEP) or {}
    kind, run, checkout = _read_action(reader, node, fields)
    step_id = reader.text(fields.get("id"))
    if step_id is not None and not ID.match(step_id):
        reader.report(fields["id"], f"step id '{step_id}' must match ^[A-Za-z_][A-Za-z0-9_-]*$")
        step_id = None
    return {
        "index": index,
        "id": step_id,
        "name": read_template(reader, fields.get("name")) or default_step_name(kind, run),
        "kind": kind,
        "checkout": checkout,
        "run": run,
        "with": _read_with(reader, fields.get("with"), kind),
        "shell": read_shell(reader, fields.get("shell")) or defaults.shell or "bash",
        "working_directory": _working_directory(reader, fields.get("working-directory"), kind, defaults),
        "env": read_template_map(reader, fields.get("env"), "env"),
        "if": read_condition(reader, fields.get("if")),
        "timeout_minutes": reader.minutes(fields.get("timeout-minutes"), None),
        "continue_on_error": read_flag_or_condition(reader, fields.get("continue-on-error"), False),
        "retry": reader.integer(fields.get("retry"), 0, 0, MAX_RETRY),
    }


def _working_directory(reader: Reader, node: YNode | None, kind: str, defaults: RunDefaults) -> str | None:
    """The step's own directory; `defaults.run` applies to run steps only (a checkout goes to the
    workspace, or to its `with.path`)."""
    own = read_template(reader, node)
    return own or (defaults.working_directory if kind == "run" else None)


def default_step_name(kind: str, run: str | None) -> str:
    if kind == "checkout":
        return "Checkout"
    first_line = next((line.strip() for line in (run or "").splitlines() if line.strip()), "")
    return f"Run {first_line[:80]}".rstrip()


def _read_action(reader: Reader, node: YNode, fields: dict[str, YNode]) -> tuple[str, str | None, str | None]:
    """(kind, run, checkout) of a step, reporting steps with neither or both."""
    run = read_template(reader, fields.get("run"))
    checkout = None
    if "checkout" in fields and "uses" in fields:
        reader.report(fields["uses"], "a step has either 'checkout' or 'uses', not both")
    if "checkout" in fields:
        checkout = reader.text(fields["checkout"])
        if checkout is not None and checkout != "self":
            reader.report(
                fields["checkout"], f"'checkout: {checkout}' is not supported; only 'checkout: self'"
            )
    elif "uses" in fields:
        action = reader.text(fields["uses"])
        if action is not None and not CHECKOUT_ACTION.match(action):
            reader.report(
                fields["uses"],
                f"'uses: {action}' is not available: this server provides only "
                "actions/checkout@<version> (as 'checkout: self'); use 'run:' steps",
            )
        checkout = "self"
    has_checkout = "checkout" in fields or "uses" in fields
    if "run" in fields and has_checkout:
        reader.report(fields["run"], "a step has either 'run' or 'checkout'/'uses', not both")
    elif "run" not in fields and not has_checkout:
        reader.report(node, "a step needs 'run' or 'checkout' (or 'uses: actions/checkout@v4')")
    return ("checkout" if has_checkout and "run" not in fields else "run"), run, checkout


def _read_with(reader: Reader, node: YNode | None, kind: str) -> dict[str, str]:
    if node is None:
        return {}
    if kind != "checkout":
        reader.report(node, "'with' gives inputs to a checkout step ('uses: actions/checkout@...') only")
        return {}
    values = read_template_map(reader, node, "with")
    for entry in node.entries if isinstance(node, YMap) else []:
        if entry.key == "repository":
            reader.report_key(entry, "checkout of another repository is not supported; only this pipeline's")
            values.pop(entry.key, None)
        elif entry.key not in CHECKOUT_INPUTS:
            reader.report_key(
                entry, f"unknown checkout input '{entry.key}'{suggest(entry.key, CHECKOUT_INPUTS)}"
            )
            values.pop(entry.key, None)
    return values
