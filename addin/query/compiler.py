"""From tree to predicate: names resolved, types checked, literals folded, closures built.

Everything that can be decided once is decided here, before the first row: which key each
name reads, how a cell converts for the comparison (folded text, a choice's rank, a date),
the constant on the other side (``today - 90d`` is a date by now). Every mistake the column
types reveal — ``amount > "abc"``, ``created < 5``, ``status == "Actve"`` — is an error here,
with its position, not a silent "no rows" later.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..workbook.values import number_text, parse_date, parse_datetime
from .columns import Columns, Field
from .errors import FilterError
from .parser import Arith, BoolOp, Compare, Empty, In, Literal, Name, Negate, Node, Not, TextTest
from .values import (
    Duration,
    as_bool,
    as_date,
    as_datetime,
    as_items,
    as_number,
    as_text,
    fold,
    fold_items,
    is_empty,
    shift,
)

Predicate = Callable[[Mapping[str, Any]], bool]
Getter = Callable[[Mapping[str, Any]], Any]

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_KIND_TEXT = {
    "text": "text",
    "literal": "text",
    "number": "a number",
    "integer": "a whole number",
    "date": "a date",
    "datetime": "a date and time",
    "bool": "yes/no",
    "choice": "a choice",
    "duration": "a duration",
    "any": "a column of yours",
}
_HINTS = {
    "number": "write a number: amount > 1000",
    "date": "write a date like 2026-01-31, or today - 30d",
    "datetime": "write a date like 2026-01-31, or now - 48h",
    "bool": "write true or false (是 / 否)",
    "text": 'write text in quotes: region == "华东"',
}


@dataclass(frozen=True)
class Value:
    """An operand: a constant, or a getter over rows (with the column when it is one)."""

    type: str  # literal (text in quotes), number, date, datetime, bool, duration, or a column type
    pos: int
    text: str
    const: bool = False
    value: Any = None
    get: Getter | None = None
    field: Field | None = None


class Compiler:
    def __init__(
        self, columns: Columns, today: dt.date, now: dt.datetime, where: str | None
    ) -> None:
        self.columns = columns
        self.today = today
        self.now = now
        self.where = where

    def fail(self, pos: int, message: str, hint: str | None = None) -> FilterError:
        return FilterError(self.where, pos, message, hint)

    # -- conditions ----------------------------------------------------------------------------

    def condition(self, node: Node) -> Predicate | bool:
        """A predicate, or a bool when the answer is the same for every row."""
        if isinstance(node, BoolOp):
            parts = [self.condition(item) for item in node.items]
            stop = node.op == "or"  # the value that decides: True for or, False for and
            if any(p is stop for p in parts):
                return stop
            preds = [p for p in parts if not isinstance(p, bool)]
            if not preds:
                return not stop
            if len(preds) == 1:
                return preds[0]
            return _any(preds) if stop else _all(preds)
        if isinstance(node, Not):
            inner = self.condition(node.operand)
            if isinstance(inner, bool):
                return not inner
            return lambda r: not inner(r)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, In):
            return self.in_(node)
        if isinstance(node, TextTest):
            return self.text_test(node)
        if isinstance(node, Empty):
            return self.empty(node)
        return self.truthy(node)

    def truthy(self, node: Node) -> Predicate | bool:
        value = self.operand(node)
        if value.const and value.type == "bool":
            return bool(value.value)
        if value.field is not None:
            key = value.field.key
            if value.type == "bool":
                return lambda r: (
                    (v := r.get(key)) is True or (v.__class__ is str and as_bool(v) is True)
                )
            return lambda r: (v := r.get(key)) is not None and not is_empty(v)
        raise self.fail(
            node.pos,
            f"{value.text} is not a condition",
            f"compare it with something: {value.text} == …, or test {value.text} is not empty",
        )

    def empty(self, node: Empty) -> Predicate | bool:
        value = self.operand(node.operand)
        if value.const:
            return is_empty(value.value) != node.negated
        get = self.getter(value)
        if node.negated:
            return lambda r: not is_empty(get(r))
        return lambda r: is_empty(get(r))

    def compare(self, node: Compare) -> Predicate | bool:
        left, right = self.operand(node.left), self.operand(node.right)
        op = node.op
        # == "" and != "" mean "is empty" and "is not empty", whatever the column's type.
        for a, b in ((left, right), (right, left)):
            if b.const and b.type == "literal" and not b.value.strip() and op in ("==", "!="):
                result = self.empty(Empty(node.pos, node.left if a is left else node.right, False))
                if op == "==":
                    return result
                return (not result) if isinstance(result, bool) else _negate(result)
        domain = self.domain(left, right, op, node.pos)
        empty = op == "!="
        if left.const and right.const:
            lv = self.constant(left, domain, right)
            rv = self.constant(right, domain, left)
            if lv is None or rv is None:
                return empty
            return _OPS[op](lv, rv)
        if left.const:
            left, right, op = right, left, _FLIP[op]
        if domain == "items" and op in ("==", "!=") and right.const:
            return self.text_membership(left, self.constant(right, "text", left), op == "!=")
        if domain == "items" and op in ("==", "!="):
            return self.items_against(left, right, op == "!=")
        if domain == "items":
            domain = "text"
        if right.const:
            const = self.constant(right, domain, left)
            if left.field is not None:
                return self.field_compare(left.field, domain, op, const)
            return _compare_const(self.access(left, domain, right), _OPS[op], const, empty)
        lget, rget = self.access(left, domain, right), self.access(right, domain, left)
        f = _OPS[op]

        def both(r: Mapping[str, Any]) -> bool:
            a = lget(r)
            if a is None:
                return empty
            b = rget(r)
            return empty if b is None else f(a, b)

        return both

    def field_compare(self, field: Field, domain: str, op: str, const: Any) -> Predicate:
        """The common case, a column against a constant, with as few calls per row as can be."""
        key = field.key
        if domain == "choice" and field.type == "choice" and op in ("==", "!="):
            # Cells hold the canonical value: compare the strings, no rank lookup.
            value = field.column.choices[const].value  # type: ignore[union-attr]
            if op == "==":
                return lambda r: r.get(key) == value
            return lambda r: r.get(key) != value
        if domain == "bool" and field.type == "bool":
            if op == "==":
                return lambda r: r.get(key) is const
            return lambda r: r.get(key) is not const
        if domain == "choice":
            convert: Callable[[Any], Any] = _choice_rank(field.column).get
        else:
            convert = _CONVERT[domain]
        return _FIELD_OPS[op](key, convert, const)

    def in_(self, node: In) -> Predicate | bool:
        operand = self.operand(node.operand)
        items = [self.operand(item) for item in node.items]
        for item in items:
            if not item.const:
                raise self.fail(
                    item.pos,
                    f"the values in a list must be values, not columns ({item.text})",
                    'write them in quotes: region in ["华东", "华南"]',
                )
        domain = self.domain(operand, items[0], "==", node.pos)
        if domain == "items":
            values = {self.constant(item, "text", operand) for item in items}
            if operand.const:
                found = bool(values & set(as_items(operand.value)))
                return found != node.negated
            get = operand.get
            assert get is not None
            if node.negated:
                return lambda r: (v := get(r)) is None or values.isdisjoint(as_items(v))
            return lambda r: (v := get(r)) is not None and not values.isdisjoint(as_items(v))
        for item in items[1:]:
            self.domain(operand, item, "==", item.pos)
        values = {self.constant(item, domain, operand) for item in items}
        values.discard(None)
        field = operand.field
        if domain == "choice" and field is not None and field.type == "choice":
            names = {field.column.choices[rank].value for rank in values}  # type: ignore[union-attr]
            key = field.key
            if node.negated:
                return lambda r: r.get(key) not in names
            return lambda r: r.get(key) in names
        if operand.const:
            return (self.constant(operand, domain, items[0]) in values) != node.negated
        if field is not None and domain != "choice":
            key, convert = field.key, _CONVERT[domain]
            if node.negated:
                return lambda r: (v := r.get(key)) is None or convert(v) not in values
            return lambda r: (v := r.get(key)) is not None and convert(v) in values
        access = self.access(operand, domain, items[0])
        if node.negated:
            return lambda r: (v := access(r)) is None or v not in values
        return lambda r: (v := access(r)) is not None and v in values

    def text_test(self, node: TextTest) -> Predicate | bool:
        operand, value = self.operand(node.operand), self.operand(node.value)
        if not value.const:
            raise self.fail(
                value.pos,
                f"{node.op} needs a value in quotes, not the column {value.text}",
                f'write it like: tags {node.op} "vip"',
            )
        if operand.type not in ("text", "any", "literal"):
            raise self.fail(
                node.pos,
                f"{node.op} works on text, and {operand.text} is {_KIND_TEXT[operand.type]}",
                "compare it with == or in instead"
                if operand.type == "choice"
                else _HINTS.get(_base(operand.type)),
            )
        if value.type not in ("literal", "number"):
            raise self.fail(
                value.pos,
                f"{node.op} needs text, and {value.text} is {_KIND_TEXT[value.type]}",
                _HINTS["text"],
            )
        needle = self.constant(value, "text", operand)
        listlike = operand.field is not None and operand.field.listlike
        if node.op == "contains" and listlike:
            return self.text_membership(operand, needle, node.negated)
        if node.op == "contains":
            test: Callable[[Any], bool] = lambda t: needle in t  # noqa: E731
        elif node.op == "startswith":
            test = operator.methodcaller("startswith", needle)
        else:
            test = operator.methodcaller("endswith", needle)
        if listlike:
            one = test
            test = lambda items: any(one(i) for i in items)  # noqa: E731
            convert: Callable[[Any], Any] = as_items
        else:
            convert = as_text
        if operand.const:
            text = convert(operand.value)
            return (not is_empty(operand.value) and test(text)) != node.negated
        if operand.field is not None and not listlike:
            return _field_text_test(operand.field.key, node.op, needle, node.negated)
        get = operand.get
        assert get is not None
        if node.negated:
            return lambda r: (v := get(r)) is None or not test(convert(v))
        return lambda r: (v := get(r)) is not None and test(convert(v))

    def items_against(self, left: Value, right: Value, negated: bool) -> Predicate:
        """A list cell against another column: one of its items equals the other cell."""
        many, one = (left, right) if _listlike(left) else (right, left)
        get_many = many.get
        assert get_many is not None
        get_one = self.access(one, "text", many)

        def member(r: Mapping[str, Any]) -> bool:
            items = get_many(r)
            value = get_one(r)
            if items is None or value is None:
                return negated
            return (value in as_items(items)) != negated

        return member

    def text_membership(self, operand: Value, needle: str, negated: bool) -> Predicate | bool:
        """A list cell (``vip; 重点``) holds ``needle`` as one of its items."""
        if operand.const:
            return (needle in as_items(operand.value)) != negated
        get = operand.get
        assert get is not None
        if negated:
            return lambda r: (v := get(r)) is None or needle not in as_items(v)
        return lambda r: (v := get(r)) is not None and needle in as_items(v)

    # -- operands ------------------------------------------------------------------------------

    def operand(self, node: Node) -> Value:
        if isinstance(node, Literal):
            if node.kind == "today":
                return Value("date", node.pos, node.text, True, self.today)
            if node.kind == "now":
                return Value("datetime", node.pos, node.text, True, self.now)
            kind = {"str": "literal", "num": "number", "dur": "duration"}.get(node.kind, node.kind)
            text = repr(node.value) if node.kind == "str" else node.text
            return Value(kind, node.pos, text, True, node.value)
        if isinstance(node, Name):
            field = self.columns.resolve(node.name)
            if isinstance(field, str):
                raise self.fail(node.pos, field, self.columns.hint(node.name))
            key = field.key
            return Value(field.type, node.pos, field.label, get=lambda r: r.get(key), field=field)
        if isinstance(node, Negate):
            inner = self.operand(node.operand)
            if inner.type in ("number", "integer", "duration", "any"):
                text = f"-{inner.text}"
                if inner.const:
                    return Value(inner.type, node.pos, text, True, -inner.value)
                get = inner.get
                assert get is not None
                return Value(
                    "number",
                    node.pos,
                    text,
                    get=lambda r: None if (v := as_number(get(r))) is None else -v,
                )
            raise self.fail(node.pos, f"cannot negate {inner.text} ({_KIND_TEXT[inner.type]})")
        if isinstance(node, Arith):
            return self.arith(node)
        raise self.fail(node.pos, "expected a column or a value here", None)

    def check_duration(self, pos: int, text: str, by: Duration) -> None:
        """A duration added to a column must fit the calendar from some date (at most
        9,999 years), or every row would be out of range."""
        try:
            span = abs(by.days) + abs(by.months) * 31 + abs(by.seconds) // 86400
            if span > 9999 * 366:
                raise OverflowError
        except OverflowError:
            raise self.fail(
                pos,
                f"{text} moves a date by more than 9,999 years",
                "use a smaller duration, such as 90d or 2y",
            ) from None

    def arith(self, node: Arith) -> Value:
        left, right = self.operand(node.left), self.operand(node.right)
        text = f"{left.text} {node.op} {right.text}"
        if node.op == "+" and left.type == "duration" and right.type != "duration":
            left, right = right, left
        if right.type == "duration":
            if left.type not in ("date", "datetime", "any"):
                raise self.fail(
                    node.pos,
                    f"a duration ({right.text}) is added to or taken from a date, "
                    f"and {left.text} is {_KIND_TEXT[left.type]}",
                    "write it like: today - 90d, or expected_close + 2w",
                )
            by: Duration = right.value if node.op == "+" else -right.value
            if by.seconds and left.type == "date":
                raise self.fail(
                    node.pos,
                    f"{left.text} is a date without a time, so hours cannot be added to it",
                    "use days (2d) with dates, or now - 48h with date-and-time columns",
                )
            kind = left.type if left.type != "any" else ("datetime" if by.seconds else "date")
            convert = as_datetime if kind == "datetime" else as_date
            if left.const:
                try:
                    return Value(kind, node.pos, text, True, shift(left.value, by))
                except (OverflowError, ValueError):
                    raise self.fail(
                        node.pos,
                        f"{text} is not a date between the years 1 and 9999",
                        "use a smaller duration, such as today - 90d or today + 2y",
                    ) from None
            get = left.get
            assert get is not None
            self.check_duration(node.pos, text, by)

            def moved(r: Mapping[str, Any]) -> Any:
                v = convert(get(r))
                if v is None:
                    return None
                try:
                    return shift(v, by)
                except (OverflowError, ValueError):
                    return None  # out of the calendar: compares as an empty cell

            return Value(kind, node.pos, text, get=moved)
        numeric = ("number", "integer", "any")
        if left.type in numeric and right.type in numeric:
            f = operator.add if node.op == "+" else operator.sub
            if left.const and right.const:
                return Value("number", node.pos, text, True, f(left.value, right.value))
            lg, rg = self.getter(left, as_number), self.getter(right, as_number)

            def number(r: Mapping[str, Any]) -> Any:
                a = lg(r)
                if a is None:
                    return None
                b = rg(r)
                return None if b is None else f(a, b)

            return Value("number", node.pos, text, get=number)
        if left.type in ("date", "datetime") and right.type in ("date", "datetime"):
            hint = "compare the dates instead: closed > expected_close"
        else:
            hint = "use + and - with numbers, or a date with a duration: today - 90d"
        raise self.fail(
            node.pos,
            f"cannot {'add' if node.op == '+' else 'subtract'} {right.text} "
            f"({_KIND_TEXT[right.type]}) {'to' if node.op == '+' else 'from'} {left.text} "
            f"({_KIND_TEXT[left.type]})",
            hint,
        )

    def getter(self, value: Value, convert: Callable[[Any], Any] | None = None) -> Getter:
        if value.const:
            const = value.value if convert is None else convert(value.value)
            return lambda _r: const
        get = value.get
        assert get is not None
        if convert is None:
            return get
        return lambda r: None if (v := get(r)) is None else convert(v)

    # -- types ---------------------------------------------------------------------------------

    def domain(self, a: Value, b: Value, op: str, pos: int) -> str:
        """What the two sides are compared as: text, items, number, date, datetime, bool, choice."""
        for x in (a, b):
            if x.type == "duration":
                raise self.fail(
                    x.pos,
                    f"a duration ({x.text}) is only added to or taken from a date",
                    "write it like: last_contact < today - 90d",
                )
        order = op not in ("==", "!=")
        ta, tb = _base(a.type), _base(b.type)
        if "choice" in (ta, tb):
            choice, other = (a, b) if ta == "choice" else (b, a)
            to = _base(other.type)
            if to == "choice" and other.field and choice.field:
                if other.field.column.choices != choice.field.column.choices:  # type: ignore[union-attr]
                    raise self.type_error(pos, choice, other)
                return "choice"
            if to in ("literal", "any"):
                return "choice"
            raise self.type_error(pos, choice, other)
        for kind in ("number", "date", "datetime", "bool"):
            if kind in (ta, tb):
                x, y = (a, b) if ta == kind else (b, a)
                ty = _base(y.type)
                if kind in ("date", "datetime") and ty in ("date", "datetime"):
                    return "date" if "date" in (ta, tb) else "datetime"
                if ty in (kind, "literal", "any"):
                    if kind == "bool" and order:
                        raise self.fail(
                            pos,
                            f"yes/no values ({x.text}) have no order",
                            "compare with == or !=: unsubscribed == false",
                        )
                    return kind
                if kind == "number" and ty == "text" and not order:
                    return "items" if _listlike(y) else "text"
                raise self.type_error(pos, x, y)
        if order:
            return "text"
        return "items" if _listlike(a) or _listlike(b) else "text"

    def type_error(self, pos: int, column: Value, other: Value) -> FilterError:
        if column.field is None and other.field is not None:
            column, other = other, column
        kind = _base(column.type)
        hint = _HINTS.get(kind)
        if kind == "choice" and column.field is not None:
            hint = "compare it with one of its values: " + _choices_text(column.field)
        return self.fail(
            pos,
            f"{column.text} is {_KIND_TEXT[column.type]} and cannot be compared with "
            f"{other.text} ({_KIND_TEXT[other.type]})",
            hint,
        )

    def constant(self, value: Value, domain: str, against: Value) -> Any:
        """A constant converted for ``domain``; a FilterError when it cannot be."""
        v = value.value
        if domain == "text":
            return as_text(v)
        if domain == "choice":
            column = against.field.column if against.field else None
            if column is None:
                return as_text(v)
            choice = column.choice_for(v) if isinstance(v, str) else None
            if choice is None:
                raise self.fail(
                    value.pos,
                    f"{v!r} is not a {against.text} value: {_choices_text(against.field)}",  # type: ignore[arg-type]
                    "use one of these values, in English or Chinese",
                )
            return _choice_rank(column)[choice.value]
        converted = {
            "number": as_number,
            "date": as_date,
            "datetime": as_datetime,
            "bool": as_bool,
        }[domain](v)
        if value.type == "literal" and domain in ("date", "datetime"):
            converted = (parse_date if domain == "date" else parse_datetime)(v.strip())
        if converted is None:
            raise self.fail(
                value.pos,
                f"{value.text} is not {_KIND_TEXT[domain]}, and {against.text} is compared as one",
                _HINTS.get(domain),
            )
        return converted

    def access(self, value: Value, domain: str, against: Value) -> Getter:
        """A getter returning the operand converted for ``domain`` (None: empty or not one)."""
        if domain == "choice":
            # A choice cell is compared by its rank; a cell of a user column is read as a
            # value of the choice column on the other side.
            typed = value if value.type == "choice" else against
            assert typed.field is not None and typed.field.column is not None
            column = typed.field.column
            rank = _choice_rank(column)
            if value.type == "choice":
                return self.getter(value, rank.get)

            def read(v: Any) -> Any:
                choice = column.choice_for(v)
                return None if choice is None else rank[choice.value]

            return self.getter(value, read)
        convert = _CONVERT[domain]
        if value.field is not None:
            key = value.field.key
            return lambda r: None if (v := r.get(key)) is None else convert(v)
        return self.getter(value, convert)


def _base(kind: str) -> str:
    return "number" if kind == "integer" else kind


def _listlike(value: Value) -> bool:
    return value.field is not None and value.field.listlike


_RANKS: dict[int, dict[str, int]] = {}


def _choice_rank(column: Any) -> dict[str, int]:
    """Choice values by position in the schema: Lead < Qualified < … < Won; low < … < urgent."""
    rank = _RANKS.get(id(column))
    if rank is None:
        rank = _RANKS[id(column)] = {c.value: n for n, c in enumerate(column.choices)}
    return rank


def _choices_text(field: Field) -> str:
    assert field.column is not None
    return ", ".join(
        c.value if c.zh == c.value else f"{c.value} ({c.zh})" for c in field.column.choices
    )


def _compare_const(
    access: Getter, f: Callable[[Any, Any], bool], const: Any, empty: bool
) -> Predicate:
    def pred(r: Mapping[str, Any]) -> bool:
        v = access(r)
        return empty if v is None else f(v, const)

    return pred


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "text": as_text,
    "number": as_number,
    "date": as_date,
    "datetime": as_datetime,
    "bool": as_bool,
}


# One closure per operator, so a row costs a dict lookup, a conversion and a comparison.
# A cell that is empty or not convertible makes every comparison false except !=.
def _eq(key: str, convert: Callable[[Any], Any], c: Any) -> Predicate:
    def pred(r: Mapping[str, Any]) -> bool:
        v = r.get(key)
        return v is not None and convert(v) == c

    return pred


def _ne(key: str, convert: Callable[[Any], Any], c: Any) -> Predicate:
    def pred(r: Mapping[str, Any]) -> bool:
        v = r.get(key)
        return v is None or convert(v) != c

    return pred


def _lt(key: str, convert: Callable[[Any], Any], c: Any) -> Predicate:
    def pred(r: Mapping[str, Any]) -> bool:
        v = r.get(key)
        return v is not None and (v := convert(v)) is not None and v < c

    return pred


def _le(key: str, convert: Callable[[Any], Any], c: Any) -> Predicate:
    def pred(r: Mapping[str, Any]) -> bool:
        v = r.get(key)
        return v is not None and (v := convert(v)) is not None and v <= c

    return pred


def _gt(key: str, convert: Callable[[Any], Any], c: Any) -> Predicate:
    def pred(r: Mapping[str, Any]) -> bool:
        v = r.get(key)
        return v is not None and (v := convert(v)) is not None and v > c

    return pred


def _ge(key: str, convert: Callable[[Any], Any], c: Any) -> Predicate:
    def pred(r: Mapping[str, Any]) -> bool:
        v = r.get(key)
        return v is not None and (v := convert(v)) is not None and v >= c

    return pred


_FIELD_OPS = {"==": _eq, "!=": _ne, "<": _lt, "<=": _le, ">": _gt, ">=": _ge}


def _field_text_test(key: str, op: str, needle: str, negated: bool) -> Predicate:
    """contains / startswith / endswith on a column's text (folded; not a list column)."""
    if op == "contains":
        if negated:
            return lambda r: (v := r.get(key)) is None or needle not in (as_text(v) or "")
        return lambda r: (v := r.get(key)) is not None and needle in (as_text(v) or "")
    method = str.startswith if op == "startswith" else str.endswith
    if negated:
        return lambda r: (v := r.get(key)) is None or not method(as_text(v) or "", needle)
    return lambda r: (v := r.get(key)) is not None and method(as_text(v) or "", needle)


def _negate(pred: Predicate) -> Predicate:
    return lambda r: not pred(r)


def _all(preds: list[Predicate]) -> Predicate:
    if len(preds) == 2:
        a, b = preds
        return lambda r: a(r) and b(r)
    if len(preds) == 3:
        a, b, c = preds
        return lambda r: a(r) and b(r) and c(r)
    ordered = tuple(preds)

    def every(r: Mapping[str, Any]) -> bool:
        for p in ordered:  # noqa: SIM110 (a loop is faster than all() over a generator)
            if not p(r):
                return False
        return True

    return every


def _any(preds: list[Predicate]) -> Predicate:
    if len(preds) == 2:
        a, b = preds
        return lambda r: a(r) or b(r)
    if len(preds) == 3:
        a, b, c = preds
        return lambda r: a(r) or b(r) or c(r)
    ordered = tuple(preds)

    def some(r: Mapping[str, Any]) -> bool:
        for p in ordered:  # noqa: SIM110 (a loop is faster than any() over a generator)
            if p(r):
                return True
        return False

    return some


__all__ = ["Compiler", "Predicate", "fold", "fold_items", "number_text"]
