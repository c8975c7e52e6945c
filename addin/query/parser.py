"""The filter grammar, read by recursive descent into a small tree (no Python objects reachable).

::

    filter     := or
    or         := and ( "or" and )*
    and        := not ( "and" not )*
    not        := "not" not | test
    test       := sum [ compare_op sum
                       | ["not"] "in" list | ["not"] ("contains" | "startswith" | "endswith") sum
                       | "is" ["not"] "empty" ]
    sum        := unary ( ("+" | "-") unary )*
    unary      := "-" unary | atom
    atom       := literal | column | "today" | "now" | "(" or ")"
    list       := "[" [sum ("," sum)*] "]" | "(" [sum ("," sum)*] ")"

``and``/``or`` chains are flat lists, and nesting (parentheses, ``not``, unary minus) is
bounded by :data:`MAX_DEPTH`, so no filter can exhaust the stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import FilterError
from .lexer import Token, tokenize

MAX_DEPTH = 32
MAX_ITEMS = 1000
MAX_TERMS = 32  # a + b - c …: each term nests the tree one level deeper when compiled
COMPARE = ("==", "!=", "<", "<=", ">", ">=")
TEXT_OPS = ("contains", "startswith", "endswith")
EXAMPLE = 'write it like: status == "Active" and last_contact < today - 90d'


@dataclass(frozen=True)
class Node:
    pos: int


@dataclass(frozen=True)
class Literal(Node):
    kind: str  # str, num, date, datetime, dur, bool, today, now
    value: Any
    text: str


@dataclass(frozen=True)
class Name(Node):
    name: str
    quoted: bool


@dataclass(frozen=True)
class Arith(Node):
    op: str  # + or -
    left: Node
    right: Node


@dataclass(frozen=True)
class Negate(Node):
    operand: Node


@dataclass(frozen=True)
class Compare(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class In(Node):
    operand: Node
    items: tuple[Node, ...]
    negated: bool


@dataclass(frozen=True)
class TextTest(Node):
    op: str  # contains, startswith, endswith
    operand: Node
    value: Node
    negated: bool


@dataclass(frozen=True)
class Empty(Node):
    operand: Node
    negated: bool


@dataclass(frozen=True)
class BoolOp(Node):
    op: str  # and, or
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not(Node):
    operand: Node


def parse(text: str, where: str | None) -> Node:
    """The tree of ``text``; a FilterError naming the position of the first problem."""
    return _Parser(tokenize(text, where), where).parse()


def describe(token: Token) -> str:
    return "the end" if token.kind == "end" else repr(token.text)


class _Parser:
    def __init__(self, tokens: list[Token], where: str | None) -> None:
        self.tokens = tokens
        self.i = 0
        self.where = where
        self.depth = 0

    # -- helpers -------------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def is_(self, kind: str, *values: str) -> bool:
        t = self.tok
        return t.kind == kind and (not values or t.value in values)

    def take(self) -> Token:
        t = self.tok
        self.i += 1
        return t

    def fail(self, token: Token, message: str, hint: str | None = EXAMPLE) -> FilterError:
        return FilterError(self.where, token.pos, message, hint)

    def deeper(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(
                token,
                f"the filter nests deeper than {MAX_DEPTH} levels",
                "remove some parentheses or 'not's",
            )

    # -- grammar -------------------------------------------------------------------------------

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise self.fail(self.tok, "the filter is empty")
        node = self.or_()
        if self.tok.kind != "end":
            t = self.tok
            if t.kind == "op" and t.value == ")":
                raise self.fail(t, "this ')' has no '(' before it", None)
            raise self.fail(t, f"expected 'and', 'or' or the end, found {describe(t)}")
        return node

    def or_(self) -> Node:
        first = self.and_()
        items = [first]
        while self.is_("kw", "or"):
            self.take()
            items.append(self.and_())
        return first if len(items) == 1 else BoolOp(first.pos, "or", tuple(items))

    def and_(self) -> Node:
        first = self.not_()
        items = [first]
        while self.is_("kw", "and"):
            self.take()
            items.append(self.not_())
        return first if len(items) == 1 else BoolOp(first.pos, "and", tuple(items))

    def not_(self) -> Node:
        if self.is_("kw", "not"):
            t = self.take()
            self.deeper(t)
            operand = self.not_()
            self.depth -= 1
            return Not(t.pos, operand)
        return self.test()

    def test(self) -> Node:
        left = self.sum_()
        t = self.tok
        if t.kind == "op" and t.value in COMPARE:
            self.take()
            right = self.sum_()
            if self.tok.kind == "op" and self.tok.value in COMPARE:
                raise self.fail(
                    self.tok,
                    "compare one pair at a time",
                    "join comparisons with 'and': amount >= 100 and amount < 500",
                )
            return Compare(t.pos, t.value, left, right)
        negated = False
        if t.kind == "kw" and t.value == "not":
            after = self.peek()
            if after.kind == "kw" and after.value in ("in", *TEXT_OPS):
                self.take()
                negated = True
                t = self.tok
        if t.kind == "kw" and t.value == "in":
            self.take()
            if self.is_("op", "[", "("):
                return In(t.pos, left, self.list_(), negated)
            # "vip" in tags: the form Jinja filters used, meaning contains.
            value = self.sum_()
            if isinstance(left, Literal) and isinstance(value, Name):
                return TextTest(t.pos, "contains", value, left, negated)
            raise self.fail(t, "'in' needs a list", 'write it like: region in ["华东", "华南"]')
        if t.kind == "kw" and t.value in TEXT_OPS:
            self.take()
            return TextTest(t.pos, t.value, left, self.sum_(), negated)
        if t.kind == "kw" and t.value == "is":
            self.take()
            negated = bool(self.is_("kw", "not") and self.take())
            if not self.is_("kw", "empty"):
                raise self.fail(
                    self.tok,
                    f"expected 'empty' after 'is', found {describe(self.tok)}",
                    "write: region is empty, or: region is not empty",
                )
            self.take()
            return Empty(t.pos, left, negated)
        return left

    def list_(self) -> tuple[Node, ...]:
        opener = self.take()
        close = "]" if opener.value == "[" else ")"
        items: list[Node] = []
        while not self.is_("op", close):
            if items:
                if not self.is_("op", ","):
                    raise self.fail(
                        self.tok,
                        f"expected ',' or '{close}' in the list, found {describe(self.tok)}",
                        'write lists like: ["华东", "华南"]',
                    )
                self.take()
                if self.is_("op", close):  # a trailing comma
                    break
            items.append(self.sum_())
            if len(items) > MAX_ITEMS:
                raise self.fail(self.tok, f"a list may hold at most {MAX_ITEMS} values", None)
        self.take()
        if not items:
            raise self.fail(opener, "the list is empty", 'write lists like: ["华东", "华南"]')
        return tuple(items)

    def sum_(self) -> Node:
        left = self.unary()
        terms = 1
        while self.is_("op", "+", "-"):
            t = self.take()
            terms += 1
            if terms > MAX_TERMS:
                raise self.fail(
                    t,
                    f"a sum may have at most {MAX_TERMS} terms",
                    "add the durations up yourself (today - 90d, not today - 30d - 30d - 30d)",
                )
            left = Arith(t.pos, t.value, left, self.unary())
        return left

    def unary(self) -> Node:
        if self.is_("op", "-"):
            t = self.take()
            self.deeper(t)
            operand = self.unary()
            self.depth -= 1
            return Negate(t.pos, operand)
        return self.atom()

    def atom(self) -> Node:
        t = self.tok
        if t.kind in ("str", "num", "date", "datetime", "dur"):
            self.take()
            return Literal(t.pos, t.kind, t.value, t.text)
        if t.kind in ("name", "qname"):
            self.take()
            if self.is_("op", "("):
                raise self.fail(
                    t,
                    f"{t.text} is not a function; a filter has no function calls",
                    'compare the column with a value: region == "华东"',
                )
            return Name(t.pos, t.value, t.kind == "qname")
        if t.kind == "kw" and t.value in ("true", "false"):
            self.take()
            return Literal(t.pos, "bool", t.value == "true", t.text)
        if t.kind == "kw" and t.value in ("today", "now"):
            self.take()
            return Literal(t.pos, t.value, None, t.text)
        if t.kind == "op" and t.value == "(":
            self.take()
            self.deeper(t)
            node = self.or_()
            self.depth -= 1
            if not self.is_("op", ")"):
                raise self.fail(
                    self.tok, f"expected ')', found {describe(self.tok)}", "close each '(' with ')'"
                )
            self.take()
            return node
        if t.kind == "end":
            before = self.tokens[self.i - 1] if self.i else None
            after = f" after {before.text!r}" if before else ""
            raise self.fail(t, f"expected a value{after}, found the end")
        raise self.fail(t, f"expected a column or a value, found {describe(t)}")
