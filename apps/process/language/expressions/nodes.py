"""The syntax tree of an expression: small frozen dataclasses, safe to share between threads and
to keep in the parse cache. `offset` is where the node starts in its source text."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

STATUS_FUNCTIONS = frozenset({"success", "failure", "always", "cancelled"})


@dataclass(frozen=True)
class Node:
    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True)
class Literal(Node):
    value: Any
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class ContextName(Node):
    """A top-level name such as `github` or `steps`; looked up case-insensitively."""

    name: str
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Wildcard(Node):
    """The `*` of an object filter (`a.*.b`, `a[*]`)."""

    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Index(Node):
    """`target.key`, `target['key']`, `target[0]` or `target.*`."""

    target: Node
    key: Node
    offset: int = field(default=0, compare=False)

    def children(self) -> tuple[Node, ...]:
        return (self.target, self.key)


@dataclass(frozen=True)
class Not(Node):
    operand: Node
    offset: int = field(default=0, compare=False)

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Compare(Node):
    """One of `== != < <= > >=`."""

    operator: str
    left: Node
    right: Node
    offset: int = field(default=0, compare=False)

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class And(Node):
    operands: tuple[Node, ...]
    offset: int = field(default=0, compare=False)

    def children(self) -> tuple[Node, ...]:
        return self.operands


@dataclass(frozen=True)
class Or(Node):
    operands: tuple[Node, ...]
    offset: int = field(default=0, compare=False)

    def children(self) -> tuple[Node, ...]:
        return self.operands


@dataclass(frozen=True)
class Call(Node):
    """A function call; `name` is the canonical spelling (`fromJSON`, `startsWith`, ...)."""

    name: str
    arguments: tuple[Node, ...]
    offset: int = field(default=0, compare=False)

    def children(self) -> tuple[Node, ...]:
        return self.arguments


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children, without recursion."""
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        pending.extend(reversed(current.children()))


def tree_depth(node: Node) -> int:
    deepest = 0
    pending = [(node, 1)]
    while pending:
        current, depth = pending.pop()
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in current.children())
    return deepest


def calls_status_function(node: Node) -> bool:
    return any(isinstance(each, Call) and each.name in STATUS_FUNCTIONS for each in walk(node))
