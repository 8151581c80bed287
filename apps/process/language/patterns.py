"""GitHub's filter patterns for branches, tags and paths.

`*` matches any characters except `/`; `**` matches any characters (`**/` also matches no
directory at all); `?` and `+` make the preceding character optional or repeatable; `[a-z0-9]`
matches one listed character; `\\` escapes. In a list, a pattern starting with `!` removes names an
earlier pattern matched, and a later positive pattern can add them back.
"""

from __future__ import annotations

import re
from functools import lru_cache

_BRACKET_BODY = re.compile(r"(?:[A-Za-z0-9](?:-[A-Za-z0-9])?)+")


class PatternError(ValueError):
    pass


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> re.Pattern:
    """The regular expression a filter pattern stands for; raises PatternError when malformed."""
    if not pattern:
        raise PatternError("a filter pattern cannot be empty")
    parts: list[str] = []
    quantifiable = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
            quantifiable = False
        elif pattern.startswith("**", index):
            parts.append(".*")
            index += 2
            quantifiable = False
        elif char == "*":
            parts.append("[^/]*")
            index += 1
            quantifiable = False
        elif char in "?+":
            parts.append(char if quantifiable else re.escape(char))
            index += 1
            quantifiable = False
        elif char == "[":
            end = pattern.find("]", index + 1)
            body = pattern[index + 1 : end] if end != -1 else ""
            if end == -1 or not _BRACKET_BODY.fullmatch(body):
                raise PatternError(
                    f"'[...]' in pattern '{pattern}' must list letters, digits or ranges such as a-z"
                )
            parts.append(f"[{body}]")
            index = end + 1
            quantifiable = True
        elif char == "\\" and index + 1 < len(pattern):
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            quantifiable = True
        else:
            parts.append(re.escape(char))
            index += 1
            quantifiable = True
    return re.compile("".join(parts), re.DOTALL)


def pattern_problem(pattern: str) -> str | None:
    """Why a pattern (possibly `!`-negated) is malformed, or None."""
    try:
        compile_pattern(pattern.removeprefix("!"))
    except PatternError as error:
        return str(error)
    return None


def matches_any(name: str, patterns: list[str]) -> bool:
    """Whether `name` is selected by an ordered pattern list with `!` negations."""
    selected = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        if negated == selected and _fullmatch(body, name):
            selected = not negated
    return selected


def _fullmatch(pattern: str, name: str) -> bool:
    try:
        return compile_pattern(pattern).fullmatch(name) is not None
    except PatternError:
        return False
