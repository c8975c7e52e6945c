"""What an import tells the person who ran it: :class:`ImportReport` and :class:`Problem`.

Readers and the importer both add problems and the CLI prints the summary, so the report is its
own small module, depending on nothing else of the import.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

MAX_LISTED = 50
"""How many problems (and duplicates) a summary lists before "… and N more"."""

MAX_CHANGES = 20
"""How many field changes a summary lists before "… and N more" (all with ``verbose``)."""


@dataclass(frozen=True)
class Problem:
    """Something a person should look at, and where it is in their file."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class Change:
    """One change an import made (or, in a dry run, would make) to the workbook: a new row
    (``field`` None), a field set from ``old`` to ``new``, or a different value in the file
    that was ``kept`` out because the workbook already had one (see ``--overwrite``)."""

    where: str  # the row in the person's file
    target: str  # the workbook row: "C0012"
    field: str | None = None
    old: Any = None
    new: Any = None
    kept: bool = False

    def __str__(self) -> str:
        if self.field is None:
            return f"{self.where}: new {self.target}"
        if self.kept:
            return (
                f"{self.where}: {self.target} {self.field}: kept {_quoted(self.old)} "
                f"(the file has {_quoted(self.new)})"
            )
        return (
            f"{self.where}: {self.target} {self.field}: {_quoted(self.old)} → {_quoted(self.new)}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "row": self.target,
            "field": self.field,
            "old": _plain(self.old),
            "new": _plain(self.new),
            "kept": self.kept,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value == int(value) and abs(value) < 1e15:
        return int(value)
    return value


def _quoted(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    return f'"{value}"' if isinstance(value, str) else str(_plain(value))


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do).

    Counts are rows of the file: ``merged`` rows repeated an earlier row of the same file and
    were folded into it; ``duplicates`` lists those and the rows that matched an existing
    customer by e-mail rather than by id, because that is a decision a person may question.
    """

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    duplicates: list[Problem] = field(default_factory=list)
    merged: int = 0
    rows: int = 0
    source: str = ""
    table: str = ""
    dry_run: bool = False
    changes: list[Change] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # imported, but worth a look
    kept: int = 0  # values in the file that differ from the workbook's and were not written
    refused: bool = False  # --strict and problems: nothing was written

    def summary(self, verbose: bool = False) -> str:
        """A few lines for a person: the counts, ignored columns, the changes (the first
        :data:`MAX_CHANGES`, all when ``verbose``), then problems and duplicates."""
        target = f"{self.source} → {self.table}" if self.source else self.table
        counts = (
            f"{self.rows} rows: {self.inserted} inserted, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )
        if self.merged:
            counts += f", {self.merged} merged (repeated in the file)"
        counts += f", {self.skipped} skipped"
        lines = [f"{target}: {counts}" if target else counts]
        if self.dry_run:
            lines.append("dry run: nothing was written")
        if self.refused:
            lines.append("--strict: nothing was written because of the problems below")
        if self.ignored_columns:
            lines.append("ignored columns: " + ", ".join(self.ignored_columns))
        if self.kept:
            lines.append(
                f"kept {self.kept} existing values that differ from the file "
                "(--overwrite replaces them)"
            )
        sections = (
            ("changes", [] if self.refused else self.changes, MAX_CHANGES),
            ("problems", self.problems, MAX_LISTED),
            ("warnings", self.warnings, MAX_LISTED),
            ("duplicates", self.duplicates, MAX_LISTED),
        )
        for title, items, most in sections:
            if items:
                shown = items if verbose else items[:most]
                lines.append(f"{title} ({len(items)}):")
                lines += [f"  {p}" for p in shown]
                if len(items) > len(shown):
                    more = "--verbose lists them all" if title == "changes" else ""
                    lines.append(
                        f"  … and {len(items) - len(shown)} more" + (f" ({more})" if more else "")
                    )
        return "\n".join(lines)

    def lines(self) -> list[str]:
        """:meth:`summary`, one line each (the :class:`~addin.outcome.Report` protocol)."""
        return self.summary().splitlines()

    def as_dict(self) -> dict[str, Any]:
        """The report for scripts (``xlcrm import --json``, the ribbon)."""
        return {
            "source": self.source,
            "table": self.table,
            "dry_run": self.dry_run,
            "written": not (self.dry_run or self.refused),
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "merged": self.merged,
            "skipped": self.skipped,
            "kept": self.kept,
            "ignored_columns": list(self.ignored_columns),
            "changes": [c.as_dict() for c in self.changes],
            "problems": [{"where": p.where, "message": p.message} for p in self.problems],
            "warnings": [{"where": p.where, "message": p.message} for p in self.warnings],
            "duplicates": [{"where": p.where, "message": p.message} for p in self.duplicates],
        }

    def __str__(self) -> str:
        return self.summary()
