"""GitHub Actions' `${{ }}` expression language, in pure Python (no Django, Celery or network).

- `parse_expression(source)` -> tree (cached); `evaluate(source_or_tree, contexts, status)`.
- Templates: `parse_template`, `render_template`, `render_value`, `check_template`.
- Conditions (`if:`): `normalize_condition`, `evaluate_condition`, `uses_status_function`.
- `referenced_contexts` names the contexts an expression reads; `to_string` is GitHub's string
  conversion. Every problem is an `ExpressionError` with an `offset` into the source.
"""
from __future__ import annotations

from .conditions import KEYWORDS, evaluate_condition, normalize_condition, uses_status_function
from .errors import ExpressionError
from .evaluator import StatusFunctions, evaluate
from .nodes import (
    And,
    Call,
    Compare,
    ContextName,
    Index,
    Literal,
    Node,
    Not,
    Or,
    Wildcard,
    walk,
)
from .parser import parse_expression
from .templates import check_template, parse_template, render_template, render_value
from .values import is_truthy, to_json, to_string


def referenced_contexts(source_or_node: str | Node) -> set[str]:
    """The top-level context names an expression reads, lower-cased (`github`, `steps`, ...)."""
    node = parse_expression(source_or_node) if isinstance(source_or_node, str) else source_or_node
    return {each.name.lower() for each in walk(node) if isinstance(each, ContextName)}


__all__ = [
    "KEYWORDS",
    "And",
    "Call",
    "Compare",
    "ContextName",
    "ExpressionError",
    "Index",
    "Literal",
    "Node",
    "Not",
    "Or",
    "StatusFunctions",
    "Wildcard",
    "check_template",
    "evaluate",
    "evaluate_condition",
    "is_truthy",
    "normalize_condition",
    "parse_expression",
    "parse_template",
    "referenced_contexts",
    "render_template",
    "render_value",
    "to_json",
    "to_string",
    "uses_status_function",
]
