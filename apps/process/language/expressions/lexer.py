"""Splits an expression into tokens, each with its offset, following GitHub's lexical rules:
numbers run to the next boundary character, a `.` starts a number only where an operand is
expected, and names are `[A-Za-z_][A-Za-z0-9_-]*`."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .errors import ExpressionError
from .values import parse_number

_BOUNDARY = frozenset("([)],.!><=&|")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_OPERATORS = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "!")
_PUNCTUATION = frozenset("()[],*")
_OPERAND_FOLLOWS = frozenset({"(", "[", ",", "operator"})
_KEYWORDS = {"null": None, "true": True, "false": False, "NaN": math.nan, "Infinity": math.inf}


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "string", "keyword", "name", "operator", "." or one of ( ) [ ] , *
    text: str
    offset: int
    value: Any = None


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while True:
        while position < len(source) and source[position].isspace():
            position += 1
        if position >= len(source):
            return tokens
        previous = tokens[-1].kind if tokens else None
        token = _read_token(source, position, previous)
        tokens.append(token)
        position = token.offset + len(token.text)


def _read_token(source: str, position: int, previous: str | None) -> Token:
    char = source[position]
    if char in _PUNCTUATION:
        return Token(char, char, position)
    if char == "'":
        return _read_string(source, position)
    if char == ".":
        if previous is None or previous in _OPERAND_FOLLOWS:
            return _read_number(source, position)
        return Token(".", char, position)
    if char in "!<>=&|":
        return _read_operator(source, position)
    if char in "+-" or "0" <= char <= "9":
        return _read_number(source, position)
    return _read_name(source, position)


def _read_until_boundary(source: str, start: int, allow_dot: bool) -> str:
    end = start + 1
    while end < len(source):
        char = source[end]
        if char.isspace() or (char in _BOUNDARY and not (allow_dot and char == ".")):
            break
        end += 1
    return source[start:end]


def _read_number(source: str, start: int) -> Token:
    text = _read_until_boundary(source, start, allow_dot=True)
    number = parse_number(text)
    if math.isnan(number):
        raise ExpressionError(f"invalid number '{text}'", start)
    return Token("number", text, start, _literal_number(number))


def _literal_number(number: float) -> int | float:
    if number.is_integer() and abs(number) <= 2**53 and math.copysign(1.0, number) > 0:
        return int(number)
    return number


def _read_name(source: str, start: int) -> Token:
    text = _read_until_boundary(source, start, allow_dot=False)
    if text.startswith("${{"):
        raise ExpressionError("unexpected '${{' inside an expression", start)
    if not _NAME.fullmatch(text):
        raise ExpressionError(f"unexpected symbol '{text}'", start)
    if text in _KEYWORDS:
        return Token("keyword", text, start, _KEYWORDS[text])
    return Token("name", text, start)


def _read_string(source: str, start: int) -> Token:
    characters = []
    position = start + 1
    while position < len(source):
        char = source[position]
        position += 1
        if char == "'":
            if position < len(source) and source[position] == "'":
                position += 1
            else:
                return Token("string", source[start:position], start, "".join(characters))
        characters.append(char)
    raise ExpressionError("unterminated string: a ' is missing", start)


def _read_operator(source: str, start: int) -> Token:
    for operator in _OPERATORS:
        if source.startswith(operator, start):
            return Token("operator", operator, start)
    char = source[start]
    hint = f" (did you mean '{char * 2}'?)" if char in "=&|" else ""
    raise ExpressionError(f"unexpected symbol '{char}'{hint}", start)
