"""Builds the positioned tree straight from PyYAML's event stream, in one pass and without recursion.

Working from events (rather than `yaml.compose`) lets the builder refuse hostile input as soon as it
shows: nesting past the depth limit, an alias whose expansion would pass the node budget (checked
before copying, so an alias bomb costs nothing), an alias to a collection that is still open (a
recursive structure), a second document. Aliases are copied with the paths of the place they are
used; their positions stay those of the anchor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from .problems import Problem
from .yaml_nodes import YEntry, YMap, YNode, YScalar, YSeq, child_path

_TAG = "tag:yaml.org,2002:"
_MERGE = _TAG + "merge"
_COLLECTION_TAGS = {None, "!", _TAG + "map", _TAG + "seq"}
_TEXT_TAGS = {"str", "timestamp", "binary"}


class _CoreBooleanResolver(Resolver):
    """PyYAML's YAML 1.1 resolver, except that only true/false are booleans (YAML 1.2, as GitHub
    Actions reads workflows): `on`, `off`, `yes` and `no` stay strings."""


_CoreBooleanResolver.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _TAG + "bool"]
    for first, resolvers in Resolver.yaml_implicit_resolvers.items()
}
_CoreBooleanResolver.add_implicit_resolver(
    _TAG + "bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_RESOLVER = _CoreBooleanResolver()
_IMPLIED_BY_FIRST = _CoreBooleanResolver.yaml_implicit_resolvers
_STR = _TAG + "str"
_CONSTRUCTOR = SafeConstructor()
_CONSTRUCT = {
    "null": SafeConstructor.construct_yaml_null,
    "bool": SafeConstructor.construct_yaml_bool,
    "int": SafeConstructor.construct_yaml_int,
    "float": SafeConstructor.construct_yaml_float,
}
_INVALID_KEY = ("", 0, 0, False)


class Refused(Exception):
    """The input cannot be read safely; `problem` says why."""

    def __init__(self, problem: Problem):
        self.problem = problem


def marked(mark, message: str, path: str = "") -> Problem:
    return Problem(path, mark.line + 1, mark.column + 1, message)


def scalar_tag(event: yaml.ScalarEvent) -> str:
    """The scalar's own tag, or the one its plain text implies; quoted and block text is a string.
    Only plain text whose first character can start a number, null, boolean or merge key goes
    through the resolver's regular expressions."""
    if event.tag not in (None, "!"):
        return event.tag
    if event.implicit[0] and event.value[:1] in _IMPLIED_BY_FIRST:
        return _implied_tag(event.value)
    return _STR


@lru_cache(maxsize=1024)
def _implied_tag(plain: str) -> str:
    return _RESOLVER.resolve(yaml.ScalarNode, plain, (True, False))


@dataclass(slots=True)
class _Frame:
    node: YMap | YSeq
    anchor: str | None
    is_mapping: bool
    size: int = 1
    height: int = 1
    key: tuple | None = None
    seen: dict = field(default_factory=dict)
    merges: list = field(default_factory=list)


class TreeBuilder:
    def __init__(self, source: str, max_nodes: int, max_depth: int):
        self.source = source
        self.max_nodes = max_nodes
        self.max_depth = max_depth
        self.problems: list[Problem] = []
        self.nodes = 0
        self.documents = 0
        self.anchors: dict[str, tuple[YNode, int, int]] = {}
        self.anchor_texts: dict[str, str] = {}
        self.aliases_used = False
        self.open_anchors: set[str] = set()
        self.stack: list[_Frame] = []
        self.root: YNode | None = None

    def build(self, events) -> YNode | None:
        handlers = {
            yaml.ScalarEvent: self._scalar,
            yaml.MappingStartEvent: self._open,
            yaml.SequenceStartEvent: self._open,
            yaml.MappingEndEvent: self._close,
            yaml.SequenceEndEvent: self._close,
            yaml.AliasEvent: self._alias,
            yaml.DocumentStartEvent: self._document,
        }
        for event in events:
            handler = handlers.get(type(event))
            if handler is not None:
                handler(event)
        return self.root

    def _document(self, event: yaml.DocumentStartEvent) -> None:
        self.documents += 1
        if self.documents > 1:
            raise Refused(marked(event.start_mark, "a pipeline is one YAML document (found a second '---')"))

    def _count(self, size: int, mark, path: str) -> None:
        self.nodes += size
        if self.nodes > self.max_nodes:
            reason = "alias expansion?" if self.aliases_used else f"the limit is {self.max_nodes:,}"
            raise Refused(marked(mark, f"too many nodes ({reason})", path))

    def _at_key(self) -> _Frame | None:
        """The mapping frame waiting for a key, if the next node is a key."""
        frame = self.stack[-1] if self.stack else None
        return frame if frame is not None and frame.is_mapping and frame.key is None else None

    def _next_path(self) -> str:
        if not self.stack:
            return ""
        frame = self.stack[-1]
        if not frame.is_mapping:
            return child_path(frame.node.path, len(frame.node.items))
        if frame.key is None or frame.key is _INVALID_KEY or frame.key[3]:
            return frame.node.path
        return child_path(frame.node.path, frame.key[0])

    def _scalar(self, event: yaml.ScalarEvent) -> None:
        tag = scalar_tag(event)
        mark = event.start_mark
        key_frame = self._at_key()
        if key_frame is not None:
            self._count(1, mark, key_frame.node.path)
            key_frame.size += 1
            key_frame.key = (event.value, mark.line + 1, mark.column + 1, tag == _MERGE)
            return
        path = self._next_path()
        raw = self.source[mark.index : event.end_mark.index]
        value = event.value if tag == _STR else self._value(event, tag, path)
        node = YScalar(path, mark.line + 1, mark.column + 1, value, raw, event.style)
        self._count(1, mark, path)
        if event.anchor:
            self.anchors[event.anchor] = (node, 1, 1)
            self.anchor_texts[event.anchor] = event.value
        self._attach(node, 1, 1)

    def _value(self, event: yaml.ScalarEvent, tag: str, path: str):
        short = tag.removeprefix(_TAG)
        if short in _CONSTRUCT:
            try:
                return _CONSTRUCT[short](_CONSTRUCTOR, yaml.ScalarNode(tag, event.value))
            except (yaml.YAMLError, ValueError, TypeError):
                return event.value
        if short not in _TEXT_TAGS:
            self.problems.append(marked(event.start_mark, f"unsupported YAML tag '{tag}'", path))
        return event.value

    def _open(self, event: yaml.CollectionStartEvent) -> None:
        mark = event.start_mark
        if len(self.stack) >= self.max_depth:
            raise Refused(marked(mark, f"nesting is deeper than {self.max_depth} levels"))
        path = self._next_path()
        if event.tag not in _COLLECTION_TAGS:
            self.problems.append(marked(mark, f"unsupported YAML tag '{event.tag}'", path))
        self._count(1, mark, path)
        is_mapping = isinstance(event, yaml.MappingStartEvent)
        node = (YMap if is_mapping else YSeq)(path, mark.line + 1, mark.column + 1)
        self.stack.append(_Frame(node, event.anchor, is_mapping))
        if event.anchor:
            self.open_anchors.add(event.anchor)

    def _close(self, event: yaml.CollectionEndEvent) -> None:
        frame = self.stack.pop()
        if frame.merges:
            self._merge(frame)
        if frame.anchor:
            self.anchors[frame.anchor] = (frame.node, frame.size, frame.height)
            self.open_anchors.discard(frame.anchor)
        self._attach(frame.node, frame.size, frame.height)

    def _alias(self, event: yaml.AliasEvent) -> None:
        self.aliases_used = True
        mark = event.start_mark
        path = self._next_path()
        if event.anchor in self.open_anchors:
            raise Refused(
                marked(mark, f"alias '*{event.anchor}' refers to its own anchor (recursive alias)", path)
            )
        if event.anchor not in self.anchors:
            self.problems.append(
                marked(mark, f"YAML syntax error: found undefined alias '{event.anchor}'", path)
            )
            self._attach(YScalar(path, mark.line + 1, mark.column + 1, None), 1, 1)
            return
        node, size, height = self.anchors[event.anchor]
        key_frame = self._at_key()
        if key_frame is not None:
            text = self.anchor_texts.get(event.anchor)
            if text is None:
                self.problems.append(marked(mark, "mapping keys must be plain strings", key_frame.node.path))
                key_frame.key = _INVALID_KEY
            else:
                key_frame.key = (text, mark.line + 1, mark.column + 1, False)
            return
        if len(self.stack) + height > self.max_depth:
            raise Refused(
                marked(mark, f"nesting is deeper than {self.max_depth} levels (through an alias)", path)
            )
        self._count(size, mark, path)
        self._attach(repath(node, path), size, height)

    def _attach(self, node: YNode, size: int, height: int) -> None:
        if not self.stack:
            self.root = node
            return
        frame = self.stack[-1]
        frame.size += size
        frame.height = max(frame.height, height + 1)
        if not frame.is_mapping:
            frame.node.items.append(node)
            return
        if frame.key is None:
            self.problems.append(
                Problem(frame.node.path, node.line, node.column, "mapping keys must be plain strings")
            )
            frame.key = _INVALID_KEY
            return
        key, frame.key = frame.key, None
        if key is _INVALID_KEY:
            return
        name, line, column, is_merge = key
        if is_merge:
            frame.merges.append(node)
        elif name in frame.seen:
            message = f"duplicate key '{name}' (first defined at line {frame.seen[name].line})"
            self.problems.append(Problem(node.path, line, column, message))
        else:
            frame.seen[name] = entry = YEntry(name, line, column, node)
            frame.node.entries.append(entry)

    def _merge(self, frame: _Frame) -> None:
        """YAML merge keys (`<<: *defaults`): keys of the merged mappings that the mapping lacks."""
        inherited: list[YEntry] = []
        for merged in frame.merges:
            for source in merged.items if isinstance(merged, YSeq) else [merged]:
                if not isinstance(source, YMap):
                    self.problems.append(
                        Problem(frame.node.path, source.line, source.column, "'<<' merges only mappings")
                    )
                    continue
                for entry in source.entries:
                    if entry.key not in frame.seen:
                        value = repath(entry.value, child_path(frame.node.path, entry.key))
                        frame.seen[entry.key] = new = YEntry(entry.key, entry.line, entry.column, value)
                        inherited.append(new)
        frame.node.entries[:0] = inherited


def repath(node: YNode, path: str) -> YNode:
    """A copy of `node` placed at `path` (an alias used somewhere else than its anchor)."""
    if isinstance(node, YScalar):
        return YScalar(path, node.line, node.column, node.value, node.raw, node.style)
    if isinstance(node, YSeq):
        items = [repath(item, child_path(path, index)) for index, item in enumerate(node.items)]
        return YSeq(path, node.line, node.column, items)
    entries = [
        YEntry(entry.key, entry.line, entry.column, repath(entry.value, child_path(path, entry.key)))
        for entry in node.entries
    ]
    return YMap(path, node.line, node.column, entries)
