"""What an import tells the person who ran it: :class:`ImportReport` and :class:`Problem`.

Readers and the importer both add problems and the CLI prints the summary, so the report is its
own small module, depending on nothing else of the import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_LISTED = 50
"""How many problems (and duplicates) a summary lists before "… and N more"."""


@dataclass(frozen=True)
class Problem:
    """Something a person should look at, and where it is in their file."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


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

    def summary(self) -> str:
        """A few lines for a person: the counts, ignored columns, then problems and duplicates."""
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
        if self.ignored_columns:
            lines.append("ignored columns: " + ", ".join(self.ignored_columns))
        for title, items in (("problems", self.problems), ("duplicates", self.duplicates)):
            if items:
                lines.append(f"{title} ({len(items)}):")
                lines += [f"  {p}" for p in items[:MAX_LISTED]]
                if len(items) > MAX_LISTED:
                    lines.append(f"  … and {len(items) - MAX_LISTED} more")
        return "\n".join(lines)

    def lines(self) -> list[str]:
        """:meth:`summary`, one line each (the :class:`~addin.outcome.Report` protocol)."""
        return self.summary().splitlines()

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "table": self.table,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "merged": self.merged,
            "skipped": self.skipped,
            "ignored_columns": list(self.ignored_columns),
            "problems": [str(p) for p in self.problems],
            "duplicates": [str(p) for p in self.duplicates],
        }

    def __str__(self) -> str:
        return self.summary()
