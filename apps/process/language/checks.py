"""Reading strings that hold expressions: templates (`${{ }}` parts) and conditions (`if:`).

Each reader checks the expressions with `apps.process.language.expressions`, reports a problem at
the exact line and column of a bad expression or of a reference to an unknown context, and returns
the value the Plan stores (the template text, or the normalised bare condition).
"""

from __future__ import annotations

import re

from .expressions import (
    ContextName,
    ExpressionError,
    check_template,
    normalize_condition,
    parse_expression,
    parse_template,
    uses_status_function,
    walk,
)
from .schema import Reader, key_of, suggest
from .yaml_source import YNode, YScalar, describe

CONTEXTS = frozenset(
    {
        "ci",
        "github",
        "runner",
        "env",
        "variables",
        "vars",
        "inputs",
        "secrets",
        "matrix",
        "strategy",
        "needs",
        "steps",
        "job",
        "jobs",
    }
)
OPEN = "${{"


def read_template(reader: Reader, node: YNode | None, default: str | None = None) -> str | None:
    text = reader.text(node, default)
    if node is not None and text is not None and OPEN in text:
        check_text(reader, node, text)
    return text


def read_templates(reader: Reader, node: YNode | None) -> list[str]:
    values = (read_template(reader, item) for item in reader.items(node))
    return [value for value in values if value is not None]


def read_template_map(reader: Reader, node: YNode | None, what: str) -> dict[str, str]:
    """A mapping of names to templates, such as `env` or `outputs`; null values become ''."""
    values: dict[str, str] = {}
    for entry in reader.entries(node, what):
        value = entry.value
        if isinstance(value, YScalar) and value.value is None:
            values[entry.key] = ""
            continue
        text = read_template(reader, value)
        if text is not None:
            values[entry.key] = text
    return values


def check_text(reader: Reader, node: YNode, text: str) -> None:
    errors = check_template(text)
    for error in errors:
        _report_error(reader, node, error)
    if errors:
        return
    for part in parse_template(text):
        if not isinstance(part, str):
            _check_contexts(reader, node, text, part)


def read_condition(reader: Reader, node: YNode | None) -> str | None:
    """The bare expression of an `if:` (BK-CI keywords mapped, `${{ }}` removed), or None."""
    if node is None:
        return None
    if not isinstance(node, YScalar):
        reader.report(node, f"a condition must be an expression, got {describe(node)}")
        return None
    try:
        uses_status_function(node.value)
        condition = normalize_condition(node.value)
    except ExpressionError as error:
        _report_error(reader, node, error)
        return None
    if condition is not None:
        _check_contexts(
            reader, node, node.value if isinstance(node.value, str) else "", parse_expression(condition)
        )
    return condition


def read_flag_or_condition(reader: Reader, node: YNode | None, default: bool) -> bool | str:
    """`continue-on-error` and the like: true/false, or a condition where an expression is given."""
    if node is None:
        return default
    if isinstance(node, YScalar) and isinstance(node.value, bool):
        return node.value
    if isinstance(node, YScalar) and isinstance(node.value, str) and OPEN in node.value:
        return read_condition(reader, node) or default
    reader.report(node, f"{key_of(node)} must be true, false or an expression, got {describe(node)}")
    return default


def template_contexts(text: str) -> set[str]:
    """The contexts a (valid) template reads."""
    names: set[str] = set()
    for part in parse_template(text):
        if not isinstance(part, str):
            names.update(each.name.lower() for each in walk(part) if isinstance(each, ContextName))
    return names


def _check_contexts(reader: Reader, node: YNode, text: str, tree) -> None:
    for each in walk(tree):
        if isinstance(each, ContextName) and each.name.lower() not in CONTEXTS:
            message = f"unknown context '{each.name}'{suggest(each.name.lower(), CONTEXTS)}"
            reader.report_at(node.path, *_position(node, _find_name(text, each.name)), message)


def _find_name(text: str, name: str) -> int:
    found = re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text)
    return found.start() if found else 0


def _report_error(reader: Reader, node: YNode, error: ExpressionError) -> None:
    reader.report_at(node.path, *_position(node, error.offset or 0), error.message)


def _position(node: YNode, offset: int) -> tuple[int, int]:
    return node.position_at(offset) if isinstance(node, YScalar) else (node.line, node.column)
