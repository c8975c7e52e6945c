"""The common shape of an import file: headers plus rows, each row knowing where it came from.

Every reader (:mod:`.sources`, :mod:`.vcard`) produces a :class:`Source`, and the importer
consumes only that, so a new file format never touches the matching and writing logic. The
locations are kept per row (and, for vCards, per value) so that a problem is reported at the
place a person finds it in *their* file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..workbook.cells import cell_ref
from .report import Problem


@dataclass
class Row:
    where: str  # the row, as a person finds it: "contacts.csv:14", "book.xlsx!Sheet1!14"
    number: int  # line (CSV, vCard) or sheet row (xlsx)
    values: list[Any]
    lines: list[list[int]] | None = None  # vCard: the line of each value, per column


@dataclass
class Source:
    name: str  # the file name used in messages
    kind: str  # "csv", "xlsx", "vcf" or "json"
    headers: list[str]
    rows: list[Row]
    sheet: str = ""
    problems: list[Problem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def cell(self, row: Row, j: int, n: int = 0) -> str:
        """Where the j-th column's value (its n-th item, for lists) of ``row`` is."""
        if self.kind == "xlsx":
            return f"{self.name}!{self.sheet}!{cell_ref(row.number, j)}"
        if self.kind == "vcf" and row.lines is not None and row.lines[j]:
            lines = row.lines[j]
            return f"{self.name}:{lines[min(n, len(lines) - 1)]}"
        return row.where


def blank(value: Any) -> bool:
    """An empty cell: None, or text of nothing but spaces."""
    return value is None or (isinstance(value, str) and not value.strip())
