"""GitHub Actions' value rules: kinds, truthiness, number parsing and printing, loose equality and
ordering, string conversion, JSON, and case-insensitive property lookup.

Values are plain Python data: None, bool, int/float (numbers), str, a Mapping (object) or a
list/tuple (array). Anything else counts as an opaque object."""
from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from enum import Enum
from typing import Any

from .errors import ExpressionError

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class Kind(Enum):
    NULL = "null"
    BOOLEAN = "boolean"
    NUMBER = "number"
    STRING = "string"
    OBJECT = "object"
    ARRAY = "array"


class FilteredArray(list):
    """The result of a `*` filter: a following `.name` or `[i]` applies to each element."""


def kind_of(value: Any) -> Kind:
    if value is None:
        return Kind.NULL
    if isinstance(value, bool):
        return Kind.BOOLEAN
    if isinstance(value, int | float):
        return Kind.NUMBER
    if isinstance(value, str):
        return Kind.STRING
    if isinstance(value, list | tuple):
        return Kind.ARRAY
    return Kind.OBJECT


def is_primitive(value: Any) -> bool:
    return kind_of(value) in (Kind.NULL, Kind.BOOLEAN, Kind.NUMBER, Kind.STRING)


def is_truthy(value: Any) -> bool:
    """False, 0, -0, "", null and NaN are falsy; everything else (any object or array) is truthy."""
    kind = kind_of(value)
    if kind is Kind.NULL:
        return False
    if kind is Kind.BOOLEAN:
        return value
    if kind is Kind.NUMBER:
        number = as_float(value)
        return not (number == 0 or math.isnan(number))
    if kind is Kind.STRING:
        return value != ""
    return True


def as_float(number: int | float) -> float:
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def parse_number(text: str) -> float:
    """JavaScript's Number() as GitHub applies it: trimmed, "" -> 0, decimals with exponent,
    0x hex and 0o octal (32-bit), [+-]Infinity; anything else is NaN."""
    text = text.strip()
    if not text:
        return 0.0
    if _DECIMAL.fullmatch(text):
        return float(text)
    if len(text) > 2 and text[:2] == "0x" and all(c in _HEX_DIGITS for c in text[2:]):
        return _int32(int(text[2:], 16), text[2:])
    if len(text) > 2 and text[:2] == "0o" and all("0" <= c <= "7" for c in text[2:]):
        return _int32(int(text[2:], 8), None)
    if text in ("Infinity", "+Infinity"):
        return math.inf
    if text == "-Infinity":
        return -math.inf
    return math.nan


def _int32(value: int, hex_digits: str | None) -> float:
    if hex_digits is not None and len(hex_digits.lstrip("0")) > 8 or value > 0xFFFFFFFF:
        return math.nan
    return float(value - 2**32 if value > INT32_MAX else value)


def to_number(value: Any) -> float:
    kind = kind_of(value)
    if kind is Kind.NULL:
        return 0.0
    if kind is Kind.BOOLEAN:
        return 1.0 if value else 0.0
    if kind is Kind.NUMBER:
        return as_float(value)
    if kind is Kind.STRING:
        return parse_number(value)
    return math.nan


def format_number(number: int | float) -> str:
    """.NET's "G15": 15 significant digits, no trailing ".0", exponent as E+15 / E-05; -0 is "0"."""
    number = as_float(number)
    if number == 0:
        return "0"
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return format(number, ".15g").replace("e", "E")


def convert_to_string(value: Any) -> str:
    """GitHub's conversion inside expressions (format, join, fromJSON): null -> "", booleans
    "true"/"false", numbers in G15 form, and the words "Object" / "Array" for collections."""
    kind = kind_of(value)
    if kind is Kind.NULL:
        return ""
    if kind is Kind.BOOLEAN:
        return "true" if value else "false"
    if kind is Kind.NUMBER:
        return format_number(value)
    if kind is Kind.STRING:
        return value
    return "Array" if kind is Kind.ARRAY else "Object"


def to_string(value: Any) -> str:
    """A value as text where a template is rendered: like `convert_to_string`, except that
    objects and arrays become the JSON that toJSON() gives."""
    if isinstance(value, Mapping | list | tuple):
        return to_json(value)
    return convert_to_string(value) if is_primitive(value) else str(value)


def to_json(value: Any) -> str:
    """JSON indented by two spaces, as GitHub's toJSON() writes it."""
    try:
        return json.dumps(_jsonable(value), indent=2, ensure_ascii=False)
    except RecursionError:
        raise ExpressionError("toJSON(): the value is nested too deeply") from None


def _jsonable(value: Any) -> Any:
    kind = kind_of(value)
    if kind is Kind.NUMBER:
        return _json_number(value)
    if kind in (Kind.NULL, Kind.BOOLEAN, Kind.STRING):
        return value
    if kind is Kind.ARRAY:
        return [_jsonable(item) for item in value]
    if isinstance(value, Mapping):
        return {convert_to_string(key): _jsonable(item) for key, item in value.items()}
    return str(value)


def _json_number(number: int | float) -> int | float:
    number = as_float(number)
    if math.isfinite(number) and number.is_integer() and abs(number) <= INT64_MAX:
        return int(number)
    return number


def fold(text: str) -> str:
    """Upper-cases one character at a time, as .NET's OrdinalIgnoreCase compares (the dotless
    "ı" stays itself, so it does not match "I")."""
    if text.isascii():
        return text.upper()
    return "".join(upper if len(upper := char.upper()) == 1 and char != "ı" else char for char in text)


def lookup(mapping: Mapping, key: str, default: Any = None) -> Any:
    """`mapping[key]`, matching the key case-insensitively when no exact key exists."""
    try:
        if key in mapping:
            return mapping[key]
    except TypeError:
        return default
    wanted = fold(key)
    for name, item in mapping.items():
        if is_primitive(name) and fold(convert_to_string(name)) == wanted:
            return item
    return default


def _coerce(left: Any, right: Any) -> tuple[Any, Any, Kind, Kind]:
    left_kind, right_kind = kind_of(left), kind_of(right)
    if left_kind is right_kind:
        return left, right, left_kind, right_kind
    if left_kind is Kind.NUMBER and right_kind is Kind.STRING:
        return left, to_number(right), Kind.NUMBER, Kind.NUMBER
    if left_kind is Kind.STRING and right_kind is Kind.NUMBER:
        return to_number(left), right, Kind.NUMBER, Kind.NUMBER
    if left_kind in (Kind.BOOLEAN, Kind.NULL):
        return _coerce(to_number(left), right)
    if right_kind in (Kind.BOOLEAN, Kind.NULL):
        return _coerce(left, to_number(right))
    return left, right, left_kind, right_kind


def loose_equal(left: Any, right: Any) -> bool:
    """`==`: JavaScript's abstract equality, strings compared ignoring case, objects by identity."""
    left, right, left_kind, right_kind = _coerce(left, right)
    if left_kind is not right_kind:
        return False
    if left_kind is Kind.NULL:
        return True
    if left_kind is Kind.NUMBER:
        return as_float(left) == as_float(right)
    if left_kind is Kind.STRING:
        return fold(left) == fold(right)
    if left_kind is Kind.BOOLEAN:
        return left == right
    return left is right


def loose_greater(left: Any, right: Any) -> bool:
    left, right, left_kind, right_kind = _coerce(left, right)
    if left_kind is not right_kind:
        return False
    if left_kind is Kind.NUMBER:
        return as_float(left) > as_float(right)
    if left_kind is Kind.STRING:
        return fold(left) > fold(right)
    if left_kind is Kind.BOOLEAN:
        return left and not right
    return False


def loose_less(left: Any, right: Any) -> bool:
    return loose_greater(right, left)
