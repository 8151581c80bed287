"""Typed run parameters (`on.manual.inputs`): their declarations, and the values a build gets.

Types: string, boolean, number, choice (needs `options`; a default must be one of them) and
environment (the name of a node group). Values given to a build are checked against their types:
a missing required input, a bad choice or a value of the wrong type is a problem."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .schema import INPUT, Reader, scalar_text, suggest
from .yaml_source import YEntry, YNode, YScalar

INPUT_TYPES = ("string", "boolean", "number", "choice", "environment")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")


@dataclass
class DeclaredInputs:
    """The inputs as the Plan stores them, and where each was declared (for problems)."""

    spec: dict[str, dict] = field(default_factory=dict)
    entries: dict[str, YEntry] = field(default_factory=dict)
    node: YNode | None = None


def read_inputs(reader: Reader, node: YNode | None) -> DeclaredInputs:
    declared = DeclaredInputs(node=node)
    for entry in reader.entries(node, "inputs"):
        if not _NAME.match(entry.key):
            reader.report_key(entry, f"input name '{entry.key}' must match ^[A-Za-z_][A-Za-z0-9_-]*$")
            continue
        fields = reader.mapping(entry.value, INPUT) if not _is_null(entry.value) else {}
        if fields is None:
            continue
        declared.spec[entry.key] = _read_input(reader, fields, entry.value)
        declared.entries[entry.key] = entry
    return declared


def _is_null(node: YNode) -> bool:
    return isinstance(node, YScalar) and node.value is None


def _read_input(reader: Reader, fields: dict[str, YNode], node: YNode) -> dict:
    kind = reader.text(fields.get("type"), "string")
    if kind not in INPUT_TYPES:
        reader.report(
            fields["type"],
            f"unknown input type '{kind}' (use one of {', '.join(INPUT_TYPES)})" + suggest(kind, INPUT_TYPES),
        )
        kind = "string"
    options = reader.text_list(fields.get("options"))
    if kind == "choice" and not options:
        reader.report(fields.get("options", node), "a choice input needs a non-empty list of options")
    if kind != "choice" and "options" in fields:
        reader.report(fields["options"], "options apply only to inputs of type choice")
    spec = {
        "type": kind,
        "description": reader.text(fields.get("description"), "") or "",
        "default": None,
        "required": reader.boolean(fields.get("required"), False),
        "options": options,
    }
    default_node = fields.get("default")
    if default_node is not None and not _is_null(default_node):
        value, problem = coerce_input(spec, default_node.plain())
        if problem:
            reader.report(default_node, f"default {problem}")
        spec["default"] = value
    return spec


def coerce_input(spec: dict, value) -> tuple[object, str | None]:
    """The value an input of `spec` takes for `value`, or a problem saying why it cannot."""
    kind = spec["type"]
    if isinstance(value, dict | list):
        return None, f"must be a single value, got {describe_value(value)}"
    if kind == "boolean":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true", None
        return None, f"must be true or false, got '{scalar_text(value)}'"
    if kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value, None
        if isinstance(value, str) and _NUMBER.match(value):
            number = float(value)
            return int(number) if number.is_integer() and "." not in value else number, None
        return None, f"must be a number, got '{scalar_text(value)}'"
    text = scalar_text(value)
    if kind == "choice" and spec["options"] and text not in spec["options"]:
        return None, f"must be one of [{', '.join(spec['options'])}], got '{text}'"
    return text, None


def describe_value(value) -> str:
    return "a mapping" if isinstance(value, dict) else "a list"


def fallback_value(spec: dict):
    return False if spec["type"] == "boolean" else ""


def resolve_inputs(
    reader: Reader, declared: DeclaredInputs, given: dict | None, enforce_required: bool
) -> dict:
    """The `inputs` context of a build: given values checked and coerced, defaults filled in.
    Required inputs are enforced only when values are given for a run started by hand
    (`enforce_required`): a push cannot fill in a run form."""
    values: dict = {}
    for name in given or {}:
        if name not in declared.spec:
            hint = suggest(name, declared.spec)
            message = f"input '{name}' is not declared in on.manual.inputs{hint}"
            if declared.node is None:
                reader.report_at("on.manual.inputs", 1, 1, message)
            else:
                reader.report(declared.node, message)
    for name, spec in declared.spec.items():
        entry = declared.entries[name]
        if given is not None and name in given and given[name] is not None:
            value, problem = coerce_input(spec, given[name])
            if problem:
                reader.report_key(entry, f"input '{name}' {problem}")
                value = fallback_value(spec)
        elif spec["default"] is not None:
            value = spec["default"]
        else:
            if given is not None and enforce_required and spec["required"]:
                reader.report_key(entry, f"input '{name}' is required")
            value = fallback_value(spec)
        values[name] = value
    return values
