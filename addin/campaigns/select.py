"""``--where``: which customers a campaign goes to, as a Jinja expression over their columns.

``tier == "A" and region == "华东"``, ``"vip" in tags``, ``status != "Churned"``,
``last_contact and last_contact < today``: the expression language people already meet in the
templates, evaluated in the same sandbox, so a segment cannot run code. Every column is a name
(an empty text cell is ``""`` and an empty number or date ``none``, so ``region == "华东"`` and
``"vip" in tags`` are simply false for a customer without one);
a name that is not a column is an error that lists the columns — a typo must not silently select
nobody, or everybody.

Choice columns compare by meaning: ``status == "活跃"`` and ``status == "Active"`` select the same
customers in a workbook of either language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import TemplateError, meta

from ..errors import UsageError
from ..schema import CUSTOMERS, Column
from ..templating import TemplateEnvironment
from ..templating.preflight import template_error_text

Predicate = Callable[[Mapping[str, Any]], bool]


class ChoiceValue(str):
    """A choice cell's canonical value that also equals its labels and aliases."""

    __slots__ = ("column",)
    column: Column

    def __new__(cls, value: str, column: Column) -> ChoiceValue:
        self = super().__new__(cls, value)
        self.column = column
        return self

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            choice = self.column.choice_for(other)
            return choice is not None and choice.value == str(self)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = str.__hash__


def compile_where(expression: str | None, columns: list[str]) -> Predicate:
    """A predicate over customer rows; selects everybody when ``expression`` is empty."""
    if expression is None or not expression.strip():
        return lambda _row: True
    env = TemplateEnvironment("en", autoescape=False)
    try:
        names = meta.find_undeclared_variables(env.parse("{{ " + expression + " }}"))
        compiled = env.compile_expression(expression, undefined_to_none=False)
    except TemplateError as error:
        raise UsageError(
            "--where",
            f"{expression!r} is not a valid expression: {template_error_text(error)}",
            'write it like: tier == "A" and region == "华东"',
        ) from None
    known = set(columns) | {"today"}
    unknown = sorted(names - known)
    if unknown:
        raise UsageError(
            "--where",
            f"no column named {', '.join(unknown)}",
            f"the columns are: {', '.join(columns)}",
        )
    choices = {c.key: c for c in CUSTOMERS.columns if c.type == "choice"}
    texts = {n for n in columns if n not in CUSTOMERS.by_key or CUSTOMERS.by_key[n].type == "text"}
    texts |= set(choices)
    today = dt.date.today()

    def predicate(row: Mapping[str, Any]) -> bool:
        values: dict[str, Any] = {name: row.get(name) for name in columns}
        for name in texts:
            if values[name] is None:
                values[name] = ""
        for key, column in choices.items():
            if isinstance(values.get(key), str):
                values[key] = ChoiceValue(values[key], column)
        values["today"] = today
        try:
            return bool(compiled(**values))
        except (TemplateError, TypeError) as error:
            raise UsageError(
                "--where",
                f"{expression!r} failed for customer {row.get('id')}: {template_error_text(error)}",
                "compare like with like: numbers with numbers, dates with dates"
                if isinstance(error, TypeError)
                else None,
            ) from None

    return predicate
