"""Safe YAML loading that keeps a line and column for every key and value.

`load_source(text)` returns a tree of `YMap` / `YSeq` / `YScalar` nodes, each knowing its dotted path
and 1-based position, or the problems that stopped it. Hostile input is refused early and cheaply:
files over 1 MiB, invalid UTF-8, control characters (NUL, binary files), nesting deeper than 64
levels, alias bombs (more than 100,000 nodes once aliases are expanded), recursive aliases and
several documents; duplicate keys and unsupported tags are problems. Mapping keys are always their
source text, so `on:` stays "on" (YAML 1.1 would make it `True`).

The last few trees are kept, keyed by the text (and the limits): the server validates a pipeline
then compiles it, and compiles the same version for every build, so the same text is read again.
Readers never change a tree, so callers share it. `forget_sources()` empties the cache.
"""

from __future__ import annotations

import re
from functools import lru_cache

import yaml

from .problems import Problem
from .yaml_events import Refused, TreeBuilder, marked
from .yaml_nodes import YEntry, YMap, YNode, YScalar, YSeq, child_path, describe, scalar_kind

MAX_BYTES = 1 << 20
MAX_NODES = 100_000
MAX_DEPTH = 64
CACHED_TREES = 4

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "YEntry",
    "YMap",
    "YNode",
    "YScalar",
    "YSeq",
    "child_path",
    "describe",
    "forget_sources",
    "load_source",
    "scalar_kind",
]


def load_source(text: str | bytes) -> tuple[YNode | None, list[Problem]]:
    """Parse pipeline text into a positioned tree; the tree is None when the file cannot be read."""
    try:
        source = _decode(text)
    except Refused as refused:
        return None, [refused.problem]
    root, problems = _parse(source, MAX_NODES, MAX_DEPTH)
    return root, list(problems)


def forget_sources() -> None:
    _parse.cache_clear()


@lru_cache(maxsize=CACHED_TREES)
def _parse(source: str, max_nodes: int, max_depth: int) -> tuple[YNode | None, tuple[Problem, ...]]:
    try:
        _check_characters(source)
        builder = TreeBuilder(source, max_nodes, max_depth)
        root = builder.build(yaml.parse(source, Loader=_LOADER))
    except Refused as refused:
        return None, (refused.problem,)
    except yaml.MarkedYAMLError as error:
        return None, (_yaml_problem(error),)
    except yaml.YAMLError as error:
        return None, (Problem("", 1, 1, f"YAML error: {error}"),)
    if root is None:
        return None, (Problem("", 1, 1, "pipeline is empty"),)
    return root, tuple(builder.problems)


def _decode(text: str | bytes) -> str:
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise Refused(Problem("", 1, 1, "pipeline is larger than 1 MiB"))
        try:
            return text.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            before = text[: error.start]
            line = before.count(b"\n") + 1
            column = error.start - (before.rfind(b"\n") + 1) + 1
            message = f"pipeline is not valid UTF-8 (byte 0x{text[error.start]:02x})"
            raise Refused(Problem("", line, column, message)) from None
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise Refused(Problem("", 1, 1, "pipeline is larger than 1 MiB"))
    return text.removeprefix("\ufeff")


def _check_characters(source: str) -> None:
    bad = _NOT_PRINTABLE.search(source)
    if bad is None:
        return
    before = source[: bad.start()]
    line, column = before.count("\n") + 1, bad.start() - (before.rfind("\n") + 1) + 1
    character = bad.group()
    name = "a NUL byte" if character == "\x00" else f"character U+{ord(character):04X}"
    raise Refused(Problem("", line, column, f"{name} is not allowed in a pipeline (binary file?)"))


def _yaml_problem(error: yaml.MarkedYAMLError) -> Problem:
    mark = error.problem_mark or error.context_mark
    message = " ".join(part for part in (error.context, error.problem) if part) or "invalid YAML"
    if mark is None:
        return Problem("", 1, 1, f"YAML syntax error: {message}")
    return marked(mark, f"YAML syntax error: {message}")
