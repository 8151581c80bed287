"""Evaluates a syntax tree over plain-dict contexts. Missing contexts and properties are null;
`&&` and `||` return an operand, not a bool; status functions read a `StatusFunctions`."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ExpressionError
from .functions import call
from .nodes import And, Call, Compare, ContextName, Index, Literal, Node, Not, Or, Wildcard
from .parser import parse_expression
from .values import (
    INT32_MAX,
    FilteredArray,
    Kind,
    convert_to_string,
    is_primitive,
    is_truthy,
    kind_of,
    lookup,
    loose_equal,
    loose_greater,
    loose_less,
    to_number,
)


@dataclass(frozen=True)
class StatusFunctions:
    """What success(), failure() and cancelled() answer where the expression is evaluated."""

    success: bool
    failure: bool
    cancelled: bool


def evaluate(source_or_node: str | Node, contexts: Mapping, status: StatusFunctions | None = None) -> Any:
    """The value of an expression; a `*` filter's result comes back as a plain list."""
    node = parse_expression(source_or_node) if isinstance(source_or_node, str) else source_or_node
    value = _Evaluation(contexts, status).value(node)
    return list(value) if isinstance(value, FilteredArray) else value


class _Evaluation:
    def __init__(self, contexts: Mapping, status: StatusFunctions | None):
        self.contexts = contexts
        self.status = status

    def value(self, node: Node) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, ContextName):
            return lookup(self.contexts, node.name)
        if isinstance(node, Index):
            return self.index(node)
        if isinstance(node, Not):
            return not is_truthy(self.value(node.operand))
        if isinstance(node, Compare):
            return _compare(node.operator, self.value(node.left), self.value(node.right))
        if isinstance(node, And):
            return self.logical(node.operands, stop_when=False)
        if isinstance(node, Or):
            return self.logical(node.operands, stop_when=True)
        if isinstance(node, Call):
            return self.call(node)
        raise ExpressionError(f"cannot evaluate {type(node).__name__}", getattr(node, "offset", None))

    def logical(self, operands: tuple[Node, ...], stop_when: bool) -> Any:
        result = None
        for operand in operands:
            result = self.value(operand)
            if is_truthy(result) == stop_when:
                return result
        return result

    def call(self, node: Call) -> Any:
        if node.name == "always":
            return True
        if node.name in ("success", "failure", "cancelled"):
            if self.status is None:
                raise ExpressionError(f"{node.name}() can only be used in a condition (if:)", node.offset)
            return bool(getattr(self.status, node.name))
        arguments = [self.value(argument) for argument in node.arguments]
        try:
            return call(node.name, arguments)
        except ExpressionError as error:
            offset = node.offset if error.offset is None else error.offset
            raise ExpressionError(error.message, offset) from None

    def index(self, node: Index) -> Any:
        target = self.value(node.target)
        wildcard = isinstance(node.key, Wildcard)
        key = None if wildcard else self.value(node.key)
        if isinstance(target, FilteredArray):
            return _filter_each(target, key, wildcard)
        target_kind = kind_of(target)
        if target_kind is Kind.ARRAY:
            return FilteredArray(target) if wildcard else _array_item(target, key)
        if isinstance(target, Mapping):
            return FilteredArray(target.values()) if wildcard else _object_item(target, key)
        return FilteredArray() if wildcard else None


def _compare(operator: str, left: Any, right: Any) -> bool:
    if operator == "==":
        return loose_equal(left, right)
    if operator == "!=":
        return not loose_equal(left, right)
    if operator == "<":
        return loose_less(left, right)
    if operator == ">":
        return loose_greater(left, right)
    if operator == "<=":
        return loose_equal(left, right) or loose_less(left, right)
    return loose_equal(left, right) or loose_greater(left, right)


def _array_position(key: Any) -> int | None:
    number = to_number(key)
    if math.isnan(number) or number < 0 or number > INT32_MAX:
        return None
    return math.floor(number)


def _array_item(array: list | tuple, key: Any) -> Any:
    position = _array_position(key)
    return array[position] if position is not None and position < len(array) else None


def _object_item(mapping: Mapping, key: Any) -> Any:
    return lookup(mapping, convert_to_string(key)) if is_primitive(key) else None


def _filter_each(elements: FilteredArray, key: Any, wildcard: bool) -> FilteredArray:
    """Applies `.key`, `[key]` or `.*` to every object or array in a filter's result; elements
    without the key are left out."""
    result = FilteredArray()
    for element in elements:
        if isinstance(element, Mapping):
            if wildcard:
                result.extend(element.values())
            elif is_primitive(key):
                item = lookup(element, convert_to_string(key), default=_MISSING)
                if item is not _MISSING:
                    result.append(item)
        elif kind_of(element) is Kind.ARRAY:
            if wildcard:
                result.extend(element)
            else:
                position = _array_position(key)
                if position is not None and position < len(element):
                    result.append(element[position])
    return result


_MISSING = object()
