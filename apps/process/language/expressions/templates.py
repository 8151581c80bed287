"""Templates: text with `${{ <expr> }}` parts. A `}}` inside a quoted string of the expression
does not close it (`${{ format('{{0}}', 1) }}`). Rendering turns each value into a string the
way GitHub does; `render_value` keeps the raw value of a template that is one whole expression."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from .errors import ExpressionError
from .evaluator import StatusFunctions, evaluate
from .nodes import Node
from .parser import parse_expression
from .values import to_string

OPEN, CLOSE = "${{", "}}"


def split_template(text: str) -> list[tuple[str, int, bool]]:
    """(content, offset of content, is_expression) for each part; raises on a `${{` never closed."""
    parts: list[tuple[str, int, bool]] = []
    position = 0
    while position < len(text):
        start = text.find(OPEN, position)
        if start < 0:
            parts.append((text[position:], position, False))
            break
        if start > position:
            parts.append((text[position:start], position, False))
        end = _closing_braces(text, start + len(OPEN))
        if end < 0:
            raise ExpressionError(f"'{OPEN}' at position {start} is never closed with '{CLOSE}'", start)
        parts.append((text[start + len(OPEN) : end], start + len(OPEN), True))
        position = end + len(CLOSE)
    return parts


def _closing_braces(text: str, position: int) -> int:
    in_string = False
    while position < len(text) - 1:
        char = text[position]
        if char == "'":
            in_string = not in_string
        elif not in_string and char == "}" and text[position + 1] == "}":
            return position
        position += 1
    return -1


def parse_part(source: str, offset: int) -> Node:
    """The tree of the expression inside one `${{ }}`, errors placed in the whole text."""
    if not source.strip():
        raise ExpressionError(f"'{OPEN}{source}{CLOSE}' holds no expression", offset - len(OPEN))
    try:
        return parse_expression(source)
    except ExpressionError as error:
        raise error.shifted(offset) from None


@lru_cache(maxsize=4096)
def _parts(text: str) -> tuple[str | tuple[Node, int], ...]:
    return tuple(
        (parse_part(content, offset), offset) if is_expression else content
        for content, offset, is_expression in split_template(text)
    )


def _checked_parts(text: str) -> tuple[str | tuple[Node, int], ...]:
    if not isinstance(text, str):
        raise ExpressionError(f"a template must be a string, not {type(text).__name__}")
    return _parts(text)


def parse_template(text: str) -> list[str | Node]:
    """The literal strings and expression trees of a template, in order."""
    return [part if isinstance(part, str) else part[0] for part in _checked_parts(text)]


def check_template(text: str) -> list[ExpressionError]:
    """Every problem in a template (each `${{ }}` is checked on its own)."""
    if not isinstance(text, str):
        return [ExpressionError(f"a template must be a string, not {type(text).__name__}")]
    try:
        parts = split_template(text)
    except ExpressionError as error:
        before = text[: error.offset]
        return [*check_template(before), error] if OPEN in before else [error]
    problems = []
    for content, offset, is_expression in parts:
        if is_expression:
            try:
                parse_part(content, offset)
            except ExpressionError as error:
                problems.append(error)
    return problems


def _value_of(part: tuple[Node, int], contexts: dict, status: StatusFunctions | None) -> Any:
    node, offset = part
    try:
        return evaluate(node, contexts, status)
    except ExpressionError as error:
        raise error.shifted(offset) from None


def render_template(text: str, contexts: dict, status: StatusFunctions | None = None) -> str:
    return "".join(
        part if isinstance(part, str) else to_string(_value_of(part, contexts, status))
        for part in _checked_parts(text)
    )


def render_value(text: Any, contexts: dict, status: StatusFunctions | None = None) -> Any:
    """The raw value when `text` is exactly one `${{ expr }}`, else the rendered string.
    A value that is not a string (a bool or number from YAML) is returned as it is."""
    if not isinstance(text, str):
        return text
    parts = _checked_parts(text)
    if len(parts) == 1 and not isinstance(parts[0], str):
        return _value_of(parts[0], contexts, status)
    return render_template(text, contexts, status)
