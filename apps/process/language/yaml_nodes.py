"""The positioned YAML tree: mappings, lists and scalars that know their dotted path and their
1-based line and column. The classes are slotted: a large pipeline has tens of thousands of nodes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False, slots=True)
class YNode:
    path: str
    line: int
    column: int

    kind = "value"

    def plain(self):
        raise NotImplementedError


@dataclass(eq=False, slots=True)
class YScalar(YNode):
    value: object = None
    raw: str = ""
    style: str | None = None

    def plain(self):
        return self.value

    def position_at(self, offset: int) -> tuple[int, int]:
        """Line and column of character `offset` of the value, where the source allows knowing it."""
        text = self.value if isinstance(self.value, str) else ""
        if not self.style and self.raw == text:
            return self.line, self.column + offset
        if self.style in ("'", '"') and self.raw[1:-1] == text:
            return self.line, self.column + 1 + offset
        if self.style == "|":
            return self._literal_position(text, offset)
        return self.line, self.column

    def _literal_position(self, text: str, offset: int) -> tuple[int, int]:
        source_lines = self.raw.split("\n")[1:]
        content = [line for line in source_lines if line.strip()]
        indent = len(content[0]) - len(content[0].lstrip(" ")) if content else 0
        before = text[:offset]
        row = before.count("\n")
        return self.line + 1 + row, indent + 1 + len(before) - (before.rfind("\n") + 1)


@dataclass(slots=True)
class YEntry:
    key: str
    line: int
    column: int
    value: YNode


@dataclass(eq=False, slots=True)
class YMap(YNode):
    entries: list[YEntry] = field(default_factory=list)

    kind = "mapping"

    def plain(self) -> dict:
        return {entry.key: entry.value.plain() for entry in self.entries}

    def get(self, key: str) -> YNode | None:
        for entry in self.entries:
            if entry.key == key:
                return entry.value
        return None


@dataclass(eq=False, slots=True)
class YSeq(YNode):
    items: list[YNode] = field(default_factory=list)

    kind = "list"

    def plain(self) -> list:
        return [item.plain() for item in self.items]


def scalar_kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string"


def describe(node: YNode | None) -> str:
    """'a mapping', 'a list', 'a string', ... for messages such as 'expected X, got Y'."""
    if node is None:
        return "nothing"
    if isinstance(node, YScalar):
        return scalar_kind(node.value)
    return f"a {node.kind}"


def child_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key
