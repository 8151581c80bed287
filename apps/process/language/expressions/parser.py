"""Recursive-descent parser from tokens to the syntax tree, with GitHub's precedence (tightest
first): `.` `[]` calls, `!`, `< <= > >=`, `== !=`, `&&`, `||`. Function names and arities are
checked here, so a bad call is a parse error. `parse_expression` is cached."""
from __future__ import annotations

from functools import lru_cache

from .errors import ExpressionError
from .functions import CANONICAL_NAMES, FUNCTIONS, arity_problem
from .lexer import Token, tokenize
from .nodes import And, Call, Compare, ContextName, Index, Literal, Node, Not, Or, Wildcard, tree_depth

MAX_DEPTH = 50
MAX_LENGTH = 21000
_COMPARISONS = ("<", "<=", ">", ">=")
_EQUALITIES = ("==", "!=")


def parse_expression(source: str) -> Node:
    """The tree of one expression (no `${{ }}` around it). Raises ExpressionError."""
    if not isinstance(source, str):
        raise ExpressionError(f"an expression must be a string, not {type(source).__name__}")
    return _parse_cached(source)


@lru_cache(maxsize=4096)
def _parse_cached(source: str) -> Node:
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    node = _Parser(source, tokenize(source)).parse()
    if tree_depth(node) > MAX_DEPTH:
        raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} levels deep", 0)
    return node


class _Parser:
    def __init__(self, source: str, tokens: list[Token]):
        self.source = source
        self.tokens = tokens
        self.position = 0
        self.nesting = 0

    def parse(self) -> Node:
        if not self.tokens:
            raise ExpressionError("an expression was expected, but there is none", 0)
        node = self.expression()
        if self.position < len(self.tokens):
            raise self.unexpected(self.peek())
        return node

    def peek(self) -> Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def advance(self) -> Token:
        token = self.peek()
        if token is None:
            raise ExpressionError("unexpected end of expression", len(self.source))
        self.position += 1
        return token

    def at(self, kind: str, *texts: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == kind and (not texts or token.text in texts)

    def expect(self, kind: str, opened: Token) -> Token:
        if self.at(kind):
            return self.advance()
        if self.peek() is None:
            message = f"'{opened.text}' at position {opened.offset} is never closed"
            raise ExpressionError(message, opened.offset)
        raise self.unexpected(self.peek())

    def unexpected(self, token: Token) -> ExpressionError:
        return ExpressionError(f"unexpected symbol '{token.text}'", token.offset)

    def nested(self) -> None:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            token = self.peek()
            offset = token.offset if token else len(self.source)
            raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} levels deep", offset)

    def expression(self) -> Node:
        self.nested()
        node = self.logical("||", Or, self.conjunction)
        self.nesting -= 1
        return node

    def conjunction(self) -> Node:
        return self.logical("&&", And, self.equality)

    def logical(self, operator: str, node_type: type[And] | type[Or], operand) -> Node:
        first = operand()
        operands = [first]
        while self.at("operator", operator):
            self.advance()
            operands.append(operand())
        return first if len(operands) == 1 else node_type(tuple(operands), _offset(first))

    def equality(self) -> Node:
        return self.binary(_EQUALITIES, self.comparison)

    def comparison(self) -> Node:
        return self.binary(_COMPARISONS, self.unary)

    def binary(self, operators: tuple[str, ...], operand) -> Node:
        node = operand()
        while self.at("operator", *operators):
            operator = self.advance().text
            node = Compare(operator, node, operand(), _offset(node))
        return node

    def unary(self) -> Node:
        if self.at("operator", "!"):
            token = self.advance()
            self.nested()
            operand = self.unary()
            self.nesting -= 1
            return Not(operand, token.offset)
        return self.postfix()

    def postfix(self) -> Node:
        token = self.peek()
        node = self.primary()
        if token.kind in ("number", "string", "keyword"):
            return node
        while self.at(".") or self.at("["):
            opener = self.advance()
            key = self.property_key() if opener.kind == "." else self.index_key(opener)
            node = Index(node, key, opener.offset)
        return node

    def property_key(self) -> Node:
        token = self.advance()
        if token.kind == "*":
            return Wildcard(token.offset)
        if token.kind in ("name", "keyword"):
            return Literal(token.text, token.offset)
        raise self.unexpected(token)

    def index_key(self, opener: Token) -> Node:
        if self.at("*"):
            key: Node = Wildcard(self.advance().offset)
        else:
            key = self.expression()
        self.expect("]", opener)
        return key

    def primary(self) -> Node:
        token = self.advance()
        if token.kind in ("number", "string", "keyword"):
            return Literal(token.value, token.offset)
        if token.kind == "(":
            node = self.expression()
            self.expect(")", token)
            return node
        if token.kind == "name":
            if self.at("("):
                return self.call(token)
            return ContextName(token.text, token.offset)
        raise self.unexpected(token)

    def call(self, name_token: Token) -> Node:
        name = CANONICAL_NAMES.get(name_token.text.lower())
        if name is None:
            known = ", ".join(f"{each}()" for each in FUNCTIONS)
            raise ExpressionError(f"unknown function '{name_token.text}()'; known functions: {known}",
                                  name_token.offset)
        opener = self.advance()
        arguments: list[Node] = []
        if not self.at(")"):
            arguments.append(self.expression())
            while self.at(","):
                self.advance()
                arguments.append(self.expression())
        self.expect(")", opener)
        problem = arity_problem(name, len(arguments))
        if problem:
            raise ExpressionError(problem, name_token.offset)
        return Call(name, tuple(arguments), name_token.offset)


def _offset(node: Node) -> int:
    return getattr(node, "offset", 0)
