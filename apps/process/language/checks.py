"""Reading strings that hold expressions: templates (`${{ }}` parts) and conditions (`if:`).

Each reader checks the expressions with `apps.process.language.expressions`, reports a problem at
the exact line and column of a bad expression or of a reference to an unknown context, and returns
the value the Plan stores (the template text, or the normalised bare condition).
"""

from __future__ import annotations

import re
from functools import lru_cache

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
from .expressions.templates import parse_part, split_template
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
    expressions = _expressions_of(text)
    if expressions is None:
        for error in check_template(text):
            _report_error(reader, node, error)
        return
    for expression in expressions:
        _check_contexts(reader, node, text, expression)


def _expressions_of(text: str) -> list[str] | None:
    """The source of each `${{ }}` of a template, or None when one of them does not parse."""
    if not isinstance(text, str):
        return None
    expressions = []
    try:
        for content, offset, is_expression in split_template(text):
            if is_expression:
                parse_part(content, offset)
                expressions.append(content)
    except ExpressionError:
        return None
    return expressions


@lru_cache(maxsize=4096)
def is_valid_template(text: str) -> bool:
    """Whether every `${{ }}` of a template parses. Cached: a job's name and labels are asked
    about once per matrix combination."""
    return not check_template(text)


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
        _check_contexts(reader, node, node.value if isinstance(node.value, str) else "", condition)
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


@lru_cache(maxsize=4096)
def template_contexts(text: str) -> frozenset[str]:
    """The contexts a (valid) template reads."""
    names: set[str] = set()
    for part in parse_template(text):
        if not isinstance(part, str):
            names.update(each.name.lower() for each in walk(part) if isinstance(each, ContextName))
    return frozenset(names)


def _check_contexts(reader: Reader, node: YNode, text: str, expression: str) -> None:
    for name in _unknown_contexts(expression):
        message = f"unknown context '{name}'{suggest(name.lower(), CONTEXTS)}"
        reader.report_at(node.path, *_position(node, _find_name(text, name)), message)


@lru_cache(maxsize=4096)
def _unknown_contexts(expression: str) -> tuple[str, ...]:
    """The context names a (valid) expression reads that are not contexts, in order. Cached: the
    same few expressions appear all over a pipeline."""
    return tuple(
        each.name
        for each in walk(parse_expression(expression))
        if isinstance(each, ContextName) and each.name.lower() not in CONTEXTS
    )


def _find_name(text: str, name: str) -> int:
    found = re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text)
    return found.start() if found else 0


def _report_error(reader: Reader, node: YNode, error: ExpressionError) -> None:
    reader.report_at(node.path, *_position(node, error.offset or 0), error.message)


def _position(node: YNode, offset: int) -> tuple[int, int]:
    return node.position_at(offset) if isinstance(node, YScalar) else (node.line, node.column)
