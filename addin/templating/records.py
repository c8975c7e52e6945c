"""Workbook rows as templates see them.

A :class:`Record` is a dict of a row's *filled* fields: an empty cell is simply absent, so a
template that uses it gets a strict undefined value and the run stops with
``customer.phone is empty`` instead of printing a blank. The record knows its name in templates
(``customer``) and every field it could have had, so a misspelt field (``customer.emial``) is
reported as unknown, with the names that exist.

Templates test optional fields the Jinja way: ``{% if customer.phone is defined %}`` or
``{{ customer.phone | default("—") }}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

_EMPTY = (None, "")


class Record(dict[str, Any]):
    """One row's non-empty fields, named ``label`` in templates."""

    __slots__ = ("_fields", "_label", "_where")

    def __init__(
        self,
        label: str,
        values: Mapping[str, Any],
        fields: Iterable[str] = (),
        *,
        where: str | None = None,
    ) -> None:
        super().__init__((k, template_value(v)) for k, v in values.items() if v not in _EMPTY)
        self._label = label
        self._fields = frozenset(fields) | frozenset(values)
        self._where = where

    @property
    def label(self) -> str:
        return self._label

    @property
    def where(self) -> str | None:
        """The cell range this record came from (``Deals!D0042``), for problem reports."""
        return self._where

    def missing_message(self, name: str) -> str:
        if name in self._fields:
            return f"{self._label}.{name} is empty"
        known = ", ".join(sorted(self._fields)) or "none"
        return f"{self._label} has no field {name!r} (its fields: {known})"


def template_value(value: Any) -> Any:
    """Cell values as templates want them: money as Decimal (no 0.1 + 0.2 surprises)."""
    if isinstance(value, float) and not isinstance(value, bool):
        return Decimal(repr(value))
    return value
