"""``xlcrm init``: a new CRM workbook, or the CRM added to a workbook the person already has.

:func:`create_workbook` makes a new file. The workbook layer builds it
(:func:`addin.workbook.create.build_workbook`); what the configuration tables start with —
every known setting (empty), the stages with their probabilities, example rules, the ticket
keyword rules and service levels — belongs to the modules that read those tables, so it is
gathered here, above them, and passed down.

:func:`add_crm` adds to an existing workbook each CRM table it does not have (found by the
locator's rules: a table or sheet of that name, or one with the table's key columns) as a new
sheet, and the Settings rows it does not have, and reports what it added. The caller owns the
save, so the command line, the ribbon's settings path and the corpus check run the same code,
and the file backend's save keeps every other part of the package byte-identical. It respects
the owner's marks (:mod:`addin.workbook.protection`): a locked structure is refused, and a
digital signature needs ``force`` because the save breaks it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import WorkbookError
from .pipeline import rules, stages
from .schema import TABLES, Lang
from .settings import default_rows as settings_rows
from .settings import missing_rows
from .tickets.defaults import default_rows as ticket_rows
from .workbook import Book
from .workbook.create import INITIAL_TABLES, build_workbook

__all__ = [
    "INITIAL_TABLES",
    "InitOptions",
    "InitReport",
    "add_crm",
    "create_workbook",
    "starting_rows",
]


def create_workbook(path: str | os.PathLike[str], lang: Lang = "en") -> Path:
    """Create a new CRM workbook at ``path``, ready to use; refuse to replace an existing file."""
    return build_workbook(path, lang, starting_rows(lang))


def starting_rows(lang: Lang) -> dict[str, list[dict[str, Any]]]:
    """What a new workbook's configuration tables start with, by table key — all data that
    people then edit in Excel."""
    return {
        "settings": settings_rows(lang),
        "stages": stages.default_rows(lang),
        "rules": rules.default_rows(lang),
        **ticket_rows(lang),
    }


@dataclass(frozen=True)
class InitOptions:
    """What :func:`add_crm` may add: ``tables`` by key (default: what ``xlcrm init`` makes);
    ``force`` accepts breaking a digital signature; ``lang`` names new sheets and headers
    when the workbook has no language yet (else the workbook's own wins)."""

    tables: Sequence[str] = INITIAL_TABLES
    force: bool = False
    lang: Lang | None = None  # names of the new sheets when the workbook has not chosen yet


@dataclass
class InitReport:
    """What was added: tables as ``(table name, sheet name, rows)``, and Settings rows."""

    tables: list[tuple[str, str, int]] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)
    signed: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.tables or self.settings)

    def lines(self) -> list[str]:
        """What a person is told, one line per addition."""
        out = [
            f"added the {name} table on a new sheet {sheet!r}"
            + (f" ({rows} starting rows)" if rows else "")
            for name, sheet, rows in self.tables
        ]
        if self.settings:
            out.append(f"added {len(self.settings)} rows to Settings: " + ", ".join(self.settings))
        if not out:
            out.append("nothing to add: the workbook has every CRM table and setting")
        elif self.signed:
            out.append("the workbook's digital signature is no longer valid (--force)")
        return out

    def as_dict(self) -> dict[str, object]:
        return {
            "tables": [{"table": t, "sheet": s, "rows": n} for t, s, n in self.tables],
            "settings": list(self.settings),
            "signature_broken": self.signed and self.changed,
        }


def add_crm(book: Book, options: InitOptions | None = None) -> InitReport:
    """Add the CRM tables and Settings rows ``book`` lacks (unsaved: the caller saves).

    Raises WorkbookError, before changing anything, when the structure is locked, or when the
    workbook is signed and ``options.force`` is not set — and there is something to add.
    """
    options = options or InitOptions()
    if options.lang is not None and "lang" not in book.state and not _has_crm_tables(book):
        book.state["lang"] = options.lang
        book.discard_lang()
    lang = book.lang
    missing = [key for key in options.tables if not book.has_table(key)]
    new_settings = (
        missing_rows(book) if "settings" in options.tables and "settings" not in missing else []
    )
    report = InitReport()
    if not missing and not new_settings:
        return report
    protection = book.protection()
    if protection.structure_locked and missing:
        names = ", ".join(TABLES[k].name for k in missing)
        raise WorkbookError(
            book.where,
            f"the workbook's structure is locked (Protect Workbook), so the {names} "
            "sheets cannot be added",
            "in Excel, Review › Protect Workbook (enter its password) to unlock the "
            "structure, then run again",
        )
    if protection.signed and not options.force:
        raise WorkbookError(
            book.where,
            "the workbook is digitally signed: adding the CRM tables changes it, and Excel "
            "will then show the signature as invalid",
            "run again with --force to add them anyway (sign it again afterwards if you need "
            "to), or work on a copy",
        )
    report.signed = protection.signed
    starting = starting_rows(lang)
    for key in missing:
        table = book.add_table(key, starting.get(key, []))
        report.tables.append((table.spec.name, table.layout.sheet, len(table)))
    if new_settings:
        book.table("settings").insert_all(new_settings)
        report.settings = [r["key"] for r in new_settings]
    return report


def _has_crm_tables(book: Book) -> bool:
    return any(book.has_table(key) for key in INITIAL_TABLES)
