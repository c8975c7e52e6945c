"""Which column a name in a filter means: canonical key, header in either language, or a
column a user added (by its header text).

A filter may be compiled against a table spec alone (every canonical column allowed), a list
of the keys a sheet actually has (``Table.columns``), or a :class:`~addin.workbook.table.Table`.
With a real table, naming a canonical column the sheet lacks is an error: a reminder over
``segment`` in a workbook without that column must say so, not quietly select nobody.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from ..schema import Column, Lang, TableSpec, match_header, normalize_label

# Cells holding several values separated by ; , 、 or new lines.
LIST_COLUMNS = {
    ("customers", "email"),
    ("customers", "tags"),
    ("customers", "bounced"),
    ("interactions", "to"),
    ("interactions", "attachments"),
    ("ticket_rules", "keywords"),
}


@dataclass(frozen=True)
class Field:
    """A column as a filter sees it: the row key, its type, and how messages name it."""

    key: str
    type: str  # text, integer, number, date, datetime, bool, choice, or any (a user column)
    label: str
    column: Column | None = None
    listlike: bool = False


class Columns:
    """The columns one filter may name."""

    def __init__(
        self, spec: TableSpec, keys: Sequence[str] | None = None, lang: Lang = "en"
    ) -> None:
        self.spec = spec
        self.lang = lang
        self.strict = keys is not None
        self.keys = list(spec.keys if keys is None else keys)
        present = set(self.keys)
        self.user = {normalize_label(k): k for k in self.keys if k not in spec.by_key}
        self.present = present

    def resolve(self, name: str) -> Field | str:
        """The field ``name`` means, or the message saying why it means none."""
        key = name if name in self.spec.by_key else match_header(self.spec, name)
        if key is None or (self.strict and key not in self.present):
            user = self.user.get(normalize_label(name))
            if user is not None:
                return Field(user, "any", user)
        if key is None:
            return f"unknown column {name!r} (columns: {', '.join(self.names())})"
        column = self.spec.by_key[key]
        if self.strict and key not in self.present:
            header = column.header(self.lang)
            return f"the {self.spec.name} table has no {header!r} column ({key})"
        listlike = (self.spec.key, key) in LIST_COLUMNS
        return Field(key, column.type, key, column, listlike)

    def hint(self, name: str) -> str:
        """What to write instead of an unknown or missing column ``name``."""
        key = name if name in self.spec.by_key else match_header(self.spec, name)
        if key is not None and self.strict and key not in self.present:
            header = self.spec.by_key[key].header(self.lang)
            return f"add a column headed {header!r} to the {self.spec.name} table, or leave it out"
        near = self.suggest(name)
        guess = f"did you mean {near}? " if near else ""
        return (
            f"{guess}name a column by its key (last_contact) or its header (最近联系); "
            "put a header with spaces in backticks: `Last contact`"
        )

    def names(self) -> list[str]:
        return [k for k in self.keys if k]

    def suggest(self, name: str) -> str | None:
        """The nearest column name, for "did you mean"."""
        candidates: dict[str, str] = {}
        for key in self.keys:
            candidates[normalize_label(key)] = key
            column = self.spec.by_key.get(key)
            if column is not None:
                for label in (column.en, column.zh):
                    candidates.setdefault(normalize_label(label), key)
        close = difflib.get_close_matches(normalize_label(name), list(candidates), 1, 0.6)
        return candidates[close[0]] if close else None
