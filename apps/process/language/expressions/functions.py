"""The built-in functions other than the status functions: their arity (checked when parsing)
and what they compute. Names are matched case-insensitively."""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from .errors import ExpressionError
from .values import (
    Kind,
    convert_to_string,
    fold,
    is_primitive,
    kind_of,
    loose_equal,
    to_json,
)

MAX_FORMAT_ARGUMENTS = 255
MAX_RESULT_LENGTH = 1024 * 1024


def _limited(text: str, function: str) -> str:
    _check_length(len(text), function)
    return text


def _check_length(length: int, function: str) -> None:
    if length > MAX_RESULT_LENGTH:
        raise ExpressionError(f"{function}(): the result is longer than {MAX_RESULT_LENGTH} characters")


def _folded(text: Any, part: Any) -> tuple[str, str] | None:
    """Both values as case-folded strings, or None unless both are primitives."""
    if not (is_primitive(text) and is_primitive(part)):
        return None
    return fold(convert_to_string(text)), fold(convert_to_string(part))


def contains(search: Any, item: Any) -> bool:
    """Case-insensitive substring for primitives; for an array, any element loosely equal to item."""
    if kind_of(search) is Kind.ARRAY:
        return any(loose_equal(item, element) for element in search)
    folded = _folded(search, item)
    return folded is not None and folded[1] in folded[0]


def starts_with(search: Any, prefix: Any) -> bool:
    folded = _folded(search, prefix)
    return folded is not None and folded[0].startswith(folded[1])


def ends_with(search: Any, suffix: Any) -> bool:
    folded = _folded(search, suffix)
    return folded is not None and folded[0].endswith(folded[1])


def join(items: Any, separator: Any = ",") -> str:
    if kind_of(items) is Kind.ARRAY:
        glue = convert_to_string(separator) if is_primitive(separator) else ","
        return _limited(glue.join(convert_to_string(item) for item in items), "join")
    if is_primitive(items):
        return convert_to_string(items)
    return ""


def from_json(text: Any) -> Any:
    source = convert_to_string(text)
    if not source.strip():
        raise ExpressionError("fromJSON(): the input is empty, not JSON")
    try:
        return json.loads(source)
    except (ValueError, RecursionError) as error:
        raise ExpressionError(f"fromJSON(): invalid JSON: {error}") from None


def format_text(template: Any, *arguments: Any) -> str:
    """`format('{0} {1}', a, b)`: `{n}` is the n-th argument, `{{` and `}}` are literal braces."""
    text = convert_to_string(template)
    pieces: list[str] = []
    position = length = 0
    while position < len(text):
        left, right = text.find("{", position), text.find("}", position)
        if left >= 0 and (right < 0 or right > left):
            if text.startswith("{{", left):
                pieces.append(text[position : left + 1])
                position = left + 2
                continue
            index, end = _read_placeholder(text, left, len(arguments))
            pieces += [text[position:left], convert_to_string(arguments[index])]
            length += len(pieces[-2]) + len(pieces[-1])
            _check_length(length, "format")
            position = end
        elif right >= 0:
            if not text.startswith("}}", right):
                raise _invalid_format(text)
            pieces.append(text[position : right + 1])
            position = right + 2
        else:
            pieces.append(text[position:])
            break
    return "".join(pieces)


def _read_placeholder(text: str, left: int, argument_count: int) -> tuple[int, int]:
    """Reads `{n}` (or `{n:spec}`) starting at `left`; returns n and the offset after the `}`."""
    digits_end = left + 1
    while digits_end < len(text) and "0" <= text[digits_end] <= "9":
        digits_end += 1
    if digits_end == left + 1 or int(text[left + 1 : digits_end]) > MAX_FORMAT_ARGUMENTS:
        raise _invalid_format(text)
    index = int(text[left + 1 : digits_end])
    if digits_end < len(text) and text[digits_end] == "}":
        if index >= argument_count:
            raise ExpressionError(
                f"format(): '{text}' uses argument {{{index}}} but only {argument_count} "
                f"argument{'' if argument_count == 1 else 's'} followed the format string"
            )
        return index, digits_end + 1
    if digits_end < len(text) and text[digits_end] == ":" and _spec_closes(text, digits_end + 1):
        if index >= argument_count:
            raise ExpressionError(f"format(): '{text}' uses argument {{{index}}} which was not given")
        raise ExpressionError(f"format(): format specifiers such as '{{{index}:...}}' are not supported")
    raise _invalid_format(text)


def _spec_closes(text: str, position: int) -> bool:
    while position < len(text):
        if text[position] != "}":
            position += 1
        elif text.startswith("}}", position):
            position += 2
        else:
            return True
    return False


def _invalid_format(text: str) -> ExpressionError:
    return ExpressionError(
        f"format(): invalid format string '{text}': use {{0}}, {{1}}, ... for arguments "
        "and '{{' or '}}' for literal braces"
    )


# canonical name -> (fewest arguments, most arguments, implementation)
FUNCTIONS: dict[str, tuple[int, int, Callable[..., Any]]] = {
    "contains": (2, 2, contains),
    "startsWith": (2, 2, starts_with),
    "endsWith": (2, 2, ends_with),
    "format": (1, MAX_FORMAT_ARGUMENTS, format_text),
    "join": (1, 2, join),
    "toJSON": (1, 1, lambda value: _limited(to_json(value), "toJSON")),
    "fromJSON": (1, 1, from_json),
    "success": (0, 0, None),
    "failure": (0, 0, None),
    "always": (0, 0, None),
    "cancelled": (0, 0, None),
}
CANONICAL_NAMES = {name.lower(): name for name in FUNCTIONS}


def arity_problem(name: str, given: int) -> str | None:
    """A message such as "format() takes at least 1 argument (0 given)", or None when it fits."""
    fewest, most, _ = FUNCTIONS[name]
    if fewest <= given <= most:
        return None
    if fewest == most:
        wanted = "no arguments" if most == 0 else f"exactly {_arguments(most)}"
    elif given < fewest:
        wanted = f"at least {_arguments(fewest)}"
    else:
        wanted = f"at most {_arguments(most)}"
    return f"{name}() takes {wanted} ({given} given)"


def _arguments(count: int) -> str:
    return f"{count} argument{'' if count == 1 else 's'}"


def call(name: str, arguments: Sequence[Any]) -> Any:
    return FUNCTIONS[name][2](*arguments)
