"""Conditions (`if:`): a bare expression or one `${{ }}`; BK-CI keywords (ALWAYS, SUCCESS,
FAILURE, CANCELED, CANCELLED, ALWAYS_UNLESS_CANCELLED); an implicit `success() && (...)` when
no status function is called."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from .errors import ExpressionError
from .evaluator import StatusFunctions, evaluate
from .nodes import And, Call, Node, calls_status_function
from .parser import parse_expression
from .templates import OPEN, split_template
from .values import is_truthy, to_string

KEYWORDS = {
    "ALWAYS": "always()",
    "SUCCESS": "success()",
    "FAILURE": "failure()",
    "CANCELED": "cancelled()",
    "CANCELLED": "cancelled()",
    "ALWAYS_UNLESS_CANCELLED": "!cancelled()",
}


def _unwrap(text: Any) -> tuple[str | None, int]:
    """The bare expression of a condition and the offset of its start in `text`."""
    if text is None:
        return None, 0
    if isinstance(text, bool):
        return ("true" if text else "false"), 0
    if isinstance(text, int | float):
        return to_string(text), 0
    if not isinstance(text, str):
        raise ExpressionError(f"a condition must be a string, not {type(text).__name__}")
    stripped = text.strip()
    leading = len(text) - len(text.lstrip())
    if not stripped:
        return None, 0
    if stripped in KEYWORDS:
        return KEYWORDS[stripped], 0
    if not stripped.startswith(OPEN):
        return stripped, leading
    parts = [part for part in split_template(text) if part[2] or part[0].strip()]
    if len(parts) != 1:
        raise ExpressionError(
            "a condition must be a single expression: write 'a && b' inside one '${{ }}', "
            "not '${{ a }} && ${{ b }}'",
            leading,
        )
    content, offset, _ = parts[0]
    if not content.strip():
        raise ExpressionError("'${{ }}' holds no expression", leading)
    return content.strip(), offset + len(content) - len(content.lstrip())


def normalize_condition(text: str | bool | None) -> str | None:
    """The bare expression to store for a condition: keywords mapped, `${{ }}` removed.
    None (and an empty condition) stays None; True -> 'true'."""
    return _unwrap(text)[0]


def _parse(source: str, offset: int) -> Node:
    try:
        return parse_expression(source)
    except ExpressionError as error:
        raise error.shifted(offset) from None


@lru_cache(maxsize=4096)
def _condition_tree(source: str) -> Node:
    node = parse_expression(source)
    return node if calls_status_function(node) else And((Call("success", ()), node))


def uses_status_function(source: str) -> bool:
    expression, offset = _unwrap(source)
    return expression is not None and calls_status_function(_parse(expression, offset))


def evaluate_condition(text: str | None, contexts: dict, status: StatusFunctions) -> bool:
    """Whether a condition holds; no condition means success()."""
    if status is None:
        raise ExpressionError("a condition needs the status functions (success, failure, cancelled)")
    expression, offset = _unwrap(text)
    if expression is None:
        expression = "success()"
    try:
        node = _condition_tree(expression)
    except ExpressionError as error:
        raise error.shifted(offset) from None
    return is_truthy(evaluate(node, contexts, status))
