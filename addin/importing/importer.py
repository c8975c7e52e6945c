"""Applying a :class:`.Source` to a workbook table: :func:`import_file` and its run.

This is where the file's headers are mapped through the schema's aliases, values are checked
and typed, e-mail addresses and phone numbers cleaned, rows matched against the table (by key,
e-mail or a chosen column) and written through the Table API, so the workbook contract holds
for imported data exactly as for everything else. Each row is applied whole or skipped and
reported; nothing here saves the book.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import phonenumbers

from .. import customers as contacts
from ..errors import UsageError, ValueProblem, XlcrmError
from ..schema import TABLES, TableSpec, match_header
from ..workbook.book import Book
from ..workbook.table import Table, fold_key
from ..workbook.values import coerce, number_text
from .report import Change, ImportReport, Problem
from .rows import Row, Source, blank
from .sources import VCARD_SUFFIXES, read_source

Progress = Callable[[int, int], None]
"""Called as ``progress(rows_done, rows_total)`` while rows are applied."""

_PROGRESS_EVERY = 500


def import_file(
    book: Book,
    table: str,
    path: str | os.PathLike[str],
    *,
    dry_run: bool = False,
    match: str | None = None,
    region: str = contacts.DEFAULT_REGION,
    sheet: str | None = None,
    progress: Progress | None = None,
    today: dt.date | None = None,
    overwrite: bool = False,
    strict: bool = False,
) -> ImportReport:
    """Upsert the rows of a CSV, .xlsx/.xlsm, .vcf or .json file into ``table`` of ``book``.

    Rows match existing ones on the table's key (``id``, ``sku``…) when the file gives it;
    otherwise on ``match`` (a column key or header) — by default, for customers, any e-mail
    address of the row against any address of an existing customer. Matched rows are updated
    with the file's non-empty values, the others inserted (customers get the next
    ``C0001``-style id). A row repeating an earlier row of the file is merged into it, the later
    values winning as in ``Table.upsert_all``. ``created`` is set to ``today`` for new rows and
    ``updated`` for changed ones, unless the file has them.

    ``region`` is the country for phone numbers without a ``+`` prefix. ``sheet`` picks the
    sheet of a workbook (default: the first). ``progress(done, total)`` is called every few
    hundred rows. Nothing is saved here: the caller saves the book; with ``dry_run`` every
    change is dropped (``book.discard()``) after the report is made, so a dry run refuses to
    start on a book with unsaved changes rather than silently lose them.

    A row with a problem (a bad e-mail or phone number, a value that does not fit its column,
    a customer or deal that does not exist, an address of another customer) writes nothing:
    it is counted as skipped and listed with its line. With ``strict`` any problem fails the
    whole import: every change is dropped and :class:`ImportRefused` carries the report.

    A value the workbook already has is kept when the file has another one (counted and
    listed, so a person sees it) unless ``overwrite``: a vCard fills a customer's blanks but
    never turns 王伟 into "Wang Wei". Phones and e-mails compare by meaning (E.164,
    case-insensitive), so importing an export changes nothing.
    """
    if not region or region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise UsageError(
            None, f"unknown phone region {region!r}", "use a country code such as CN, HK or US"
        )
    if (dry_run or strict) and book.dirty:
        raise UsageError(
            book.where,
            "a dry run or a strict import needs a workbook without unsaved changes "
            "(it may discard all changes)",
            "save the workbook first",
        )
    target = book.table(table)
    suffix = Path(path).suffix.lower()
    if suffix in VCARD_SUFFIXES and target.spec.key != "customers":
        raise UsageError(
            str(path), f"vCards hold contacts; import them into customers, not {target.name}"
        )
    source = read_source(path, sheet=sheet)
    report = ImportReport(source=source.name, table=target.name, dry_run=dry_run)
    report.problems += source.problems
    report.ignored_columns += source.ignored
    failed = True
    try:
        _Importer(
            book, target, source, report, match, region, today or dt.date.today(), overwrite
        ).run(progress)
        failed = strict and report.skipped > 0
    finally:
        if dry_run or failed:
            book.discard()
    if failed:
        report.refused = True
        raise ImportRefused(
            report.source,
            f"{report.skipped} of {report.rows} rows have problems, so with --strict nothing "
            "was imported",
            "fix the rows listed, or run without --strict to import the rows without problems",
            report,
        )
    return report


class ImportRefused(XlcrmError):
    """A strict import found problems and wrote nothing; ``report`` lists them."""

    def __init__(self, where: str, message: str, hint: str, report: ImportReport) -> None:
        super().__init__(where, message, hint)
        self.report = report


REFERENCES: dict[str, dict[str, str]] = {
    "deals": {"customer_id": "customers"},
    "interactions": {"customer_id": "customers", "deal_id": "deals", "ticket_id": "tickets"},
    "tickets": {"customer_id": "customers"},
    "sends": {"customer_id": "customers"},
}
"""Columns that name a row of another table, by table: an import checks that it exists."""


def _show(value: Any) -> str:
    """A value as the person typed it, for messages."""
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class _Importer:
    """One import run: the column plan, the match indexes and the report, row by row.

    Each row is checked completely (every value coerced, e-mails and phones cleaned) before
    anything is written, then written with one Table call, so a row is applied whole or not
    at all.
    """

    def __init__(
        self,
        book: Book,
        table: Table,
        source: Source,
        report: ImportReport,
        match: str | None,
        region: str,
        today: dt.date,
        overwrite: bool,
    ) -> None:
        self.book = book
        self.overwrite = overwrite
        self.pending: list[Problem] = []  # the current row's problems
        self.notes: list[Problem] = []  # the current row's warnings
        self.ids: dict[str, set[Any]] = {}  # referenced table -> its folded keys
        self.table = table
        self.spec: TableSpec = table.spec
        self.source = source
        self.report = report
        self.region = region
        self.today = today
        self.columns = set(table.columns)
        self.plan = self._plan()
        self.is_customers = self.spec.key == "customers"
        self.match = self._match_key(match)
        self.known: dict[tuple[Any, ...], Any] = {}  # folded key -> stored key
        self.index: dict[Any, Any] = {}  # folded ``match`` value -> stored key (not e-mail)
        existing = list(table.rows())
        # Every customer address -> customer id, whatever ``match`` is: an address must lead
        # to one customer, so it is never added to a second one.
        self.emails = contacts.email_index(existing) if self.is_customers else {}
        for row in existing:
            stored = self._stored_key(row)
            if stored is not None:
                self.known.setdefault(self._folded_key(row), stored)
                if self.match not in (None, "email"):
                    self._index_row(row, stored)
        self.touched: dict[tuple[Any, ...], str] = {}  # rows this import wrote -> first source row
        self.inserted: set[tuple[Any, ...]] = set()

    # -- set-up ------------------------------------------------------------------------------

    def _plan(self) -> list[tuple[int, str]]:
        """(source column, table key) pairs; unknown columns go to report.ignored_columns."""
        spec = self.spec
        user_columns = {k.strip(): k for k in self.table.columns if k not in spec.by_key}
        used: set[str] = set()
        plan: list[tuple[int, str]] = []
        for j, header in enumerate(self.source.headers):
            label = header.strip()
            if not label:
                if any(j < len(r.values) and not blank(r.values[j]) for r in self.source.rows):
                    self.report.ignored_columns.append(f"(column {j + 1} has no header)")
                continue
            key = match_header(spec, label)
            if key is None or key not in self.columns:
                key = user_columns.get(label)
            if key is None or key in used:
                self.report.ignored_columns.append(label)
                continue
            used.add(key)
            plan.append((j, key))
        return plan

    def _match_key(self, match: str | None) -> str | None:
        if match is None:
            return "email" if self.is_customers and "email" in self.columns else None
        key = match_header(self.spec, match) or match
        if key not in self.columns:
            raise UsageError(
                self.table.name,
                f"cannot match on {match!r}: the table has no such column",
                "use one of: " + ", ".join(self.table.columns),
            )
        return None if (key,) == self.spec.pk else key

    def _folded_key(self, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(fold_key(values.get(k)) for k in self.spec.pk)

    def _stored_key(self, row: dict[str, Any]) -> Any:
        key = tuple(row.get(k) for k in self.spec.pk)
        if any(v in (None, "") for v in key):
            return None
        return key[0] if len(key) == 1 else key

    def _match_values(self, key: str, value: Any) -> list[Any]:
        """The folded values a cell offers for matching (several for e-mail and phone cells)."""
        if blank(value):
            return []
        if key == "email":
            items = value if isinstance(value, list) else contacts.split_emails(str(value))
            return [contacts.email_key(a) for a in items]
        if key == "phone":
            return [contacts.phone_key(p, self.region) for p in contacts.split_phones(value)]
        return [fold_key(value)]

    def _index_row(self, row: dict[str, Any], stored: Any) -> None:
        """Make a row this import wrote findable by the rows after it."""
        if self.is_customers:
            for address in contacts.split_emails(row.get("email")):
                self.emails.setdefault(contacts.email_key(address), stored)
        match = self.match
        if match is not None and match != "email":
            for value in self._match_values(match, row.get(match)):
                self.index.setdefault(value, stored)

    # -- the run -----------------------------------------------------------------------------

    def run(self, progress: Progress | None) -> None:
        rows = self.source.rows
        total = len(rows)
        self.report.rows = total
        if not self.plan:
            expected = ", ".join(c.header(self.table.lang) for c in self.spec.columns[:6])
            raise XlcrmError(
                self.source.name,
                f"no column of the file matches a column of the {self.table.name} table",
                f"the first row must hold headers such as: {expected}",
            )
        by_row: dict[str, list[Problem]] = {}
        for problem in self.report.problems:  # the reader's, e.g. extra values in a CSV row
            by_row.setdefault(problem.where, []).append(problem)
        self.report.problems = [p for p in self.report.problems if p.where not in by_row]
        for done, row in enumerate(rows, start=1):
            self.pending = list(by_row.get(row.where, []))
            self.notes = []
            values = self._values(row)
            if not self.pending and not values:
                self._problem(row.where, "nothing to import in this row")
            if not self.pending:
                self._check_references(row, values)
            if not self.pending:
                self._apply(row, values)
            if self.pending:  # nothing of the row was written
                self.report.problems += [
                    Problem(p.where, f"{p.message}; the row was skipped") for p in self.pending
                ]
                self.report.skipped += 1
            else:
                self.report.warnings += self.notes
            if progress is not None and (done % _PROGRESS_EVERY == 0 or done == total):
                progress(done, total)

    def _problem(self, where: str, message: str) -> None:
        self.pending.append(Problem(where, message))

    def _check_references(self, row: Row, values: dict[str, Any]) -> None:
        """A customer, deal or ticket the row names must exist in its table."""
        for key, other in REFERENCES.get(self.spec.key, {}).items():
            value = values.get(key)
            if blank(value):
                continue
            if other not in self.ids:
                ids: set[Any] = set()
                if self.book.has_table(other):
                    ids = {fold_key(r.get("id")) for r in self.book.table(other).rows()}
                self.ids[other] = ids
            if fold_key(value) not in self.ids[other]:
                name = TABLES[other].name
                where = self._cell_of(row, key)
                self._problem(where, f'{key} "{_show(value)}" is not in the {name} table')

    def _cell_of(self, row: Row, key: str) -> str:
        j = next((j for j, k in self.plan if k == key), None)
        return row.where if j is None else self.source.cell(row, j)

    def _values(self, row: Row) -> dict[str, Any]:
        """The row's non-empty values, checked and typed, and its problems (``pending``).
        E-mail values are lists of clean addresses."""
        values: dict[str, Any] = {}
        for j, key in self.plan:
            raw = row.values[j] if j < len(row.values) else None
            if blank(raw):
                continue
            if key == "email":
                addresses = self._emails(row, j, raw)
                if addresses:
                    values[key] = addresses
                continue
            if key == "phone":
                raw = self._phones(row, j, raw)
            where = self.source.cell(row, j)
            try:
                value = coerce(self.spec.by_key.get(key), raw, where=where)
            except ValueProblem as exc:
                reason = exc.message
                if reason.startswith(repr(raw)):
                    reason = reason[len(repr(raw)) :].lstrip()
                self._problem(where, f'{key} "{_show(raw)}" {reason}')
                continue
            if value is not None:  # None would erase the cell on update
                values[key] = value
        return values

    def _emails(self, row: Row, j: int, raw: Any) -> list[str]:
        """Valid addresses of a cell, normalised; each invalid one is reported and left out
        (an address in the email column is one campaigns send to and imports match on)."""
        out: list[str] = []
        for n, address in enumerate(contacts.split_emails(_show(raw))):
            try:
                out.append(contacts.normalise_email(address))
            except contacts.InvalidAddress:
                self._problem(
                    self.source.cell(row, j, n), f'email "{address}" is not a valid address'
                )
        return [a for a in out if a]

    def _phones(self, row: Row, j: int, raw: Any) -> str:
        """The cell's numbers in the one display format (:func:`addin.customers.display_phone`);
        a number that does not parse is kept as written, with a warning."""
        out: list[str] = []
        for n, text in enumerate(contacts.split_phones(_show(raw))):
            try:
                out.append(contacts.display_phone(text, self.region))
            except contacts.InvalidPhone:
                # Kept as written, not a problem: an extension or a short internal number is
                # still what the person wants to see, and nothing sends to a phone cell.
                self.notes.append(
                    Problem(
                        self.source.cell(row, j, n),
                        f'phone "{text}" is not a valid {self.region} phone number; '
                        "kept as written",
                    )
                )
                out.append(text)
        return "; ".join(dict.fromkeys(out))

    # -- matching and writing ----------------------------------------------------------------

    def _apply(self, row: Row, values: dict[str, Any]) -> None:
        spec = self.spec
        stored = None
        how = ""
        by_key = all(not blank(values.get(k)) for k in spec.pk)
        if by_key:
            stored = self.known.get(self._folded_key(values))
            how = ", ".join(f"{k} {values[k]}" for k in spec.pk)
        elif self.match is not None:
            stored, how = self._find(row, values)
            if self.pending:
                return
        if stored is None:
            self._insert(row, values)
        else:
            self._update(row, values, stored, how, by_key=by_key)

    def _find(self, row: Row, values: dict[str, Any]) -> tuple[Any, str]:
        assert self.match is not None
        found: dict[Any, str] = {}
        offered = values.get(self.match)
        shown = offered if isinstance(offered, list) else [offered]
        index = self.emails if self.match == "email" else self.index
        for value, text in zip(self._match_values(self.match, offered), shown):
            stored = index.get(value)
            if stored is not None and stored not in found:
                found[stored] = str(text)
        if not found:
            return None, ""
        label = "e-mail" if self.match == "email" else self.match
        (stored, text), *others = found.items()
        if others:
            names = ", ".join(f"{s} ({t})" for s, t in found.items())
            self._problem(row.where, f"matches several rows by {label}: {names}")
        return stored, f"{label} {text}"

    def _insert(self, row: Row, values: dict[str, Any]) -> None:
        spec = self.spec
        generated = spec.id_prefix is not None and "id" in self.columns
        missing = [k for k in spec.pk if blank(values.get(k))]
        if missing and not generated:
            self._problem(row.where, f"{', '.join(missing)} is empty")
            return
        new = dict(values)
        if isinstance(new.get("email"), list):
            new["email"] = contacts.join_emails(new["email"])
            if self.is_customers:
                new["email"] = self._own_addresses(row, None, new["email"])
                if self.pending:
                    return
        if "created" in self.columns and "created" not in new:
            new["created"] = self.today
        try:
            (stored,) = self.table.insert_all([new])
        except XlcrmError as exc:
            self._problem(row.where, exc.message)
            return
        folded = self._folded_key(self._as_row(stored))
        self.known[folded] = stored
        self.touched[folded] = row.where
        self.inserted.add(folded)
        self._index_row(new, stored)
        self.report.inserted += 1
        self.report.changes.append(Change(row.where, self._key_text(stored)))

    def _own_addresses(self, row: Row, stored: Any, cell: str | None) -> str | None:
        """Drop addresses that already belong to another customer (reported): an address
        must lead to one customer, or mail would be filed under the wrong one."""
        keep = []
        for address in contacts.split_emails(cell):
            owner = self.emails.get(contacts.email_key(address))
            if owner is not None and owner != stored:
                self._problem(
                    row.where,
                    f"e-mail {address} already belongs to {owner}, so it cannot be added "
                    + (f"to {stored}" if stored is not None else "to a new customer"),
                )
            else:
                keep.append(address)
        return contacts.join_emails(keep) or None

    def _key_text(self, stored: Any) -> str:
        """``C0012``, or ``campaign spring, customer_id C0001`` for a composite key."""
        if isinstance(stored, tuple):
            return ", ".join(f"{k} {v}" for k, v in zip(self.spec.pk, stored))
        return str(stored)

    def _as_row(self, stored: Any) -> dict[str, Any]:
        values = stored if isinstance(stored, tuple) else (stored,)
        return dict(zip(self.spec.pk, values))

    def _update(
        self, row: Row, values: dict[str, Any], stored: Any, how: str, *, by_key: bool
    ) -> None:
        table = self.table
        existing = table.get(stored)
        folded = self._folded_key(existing)
        changes = {k: v for k, v in values.items() if k not in self.spec.pk}
        if isinstance(changes.get("email"), list):
            incoming = changes.pop("email")
            if self.is_customers:
                merged = self._merge_emails(row, stored, existing.get("email"), incoming)
                if self.pending:
                    return
                if merged is not None:
                    changes["email"] = merged
            else:
                changes["email"] = contacts.join_emails(incoming)
        fresh = folded in self.inserted  # a row of this file repeated: not an update
        diff: dict[str, Any] = {}
        kept: list[Change] = []
        target = self._key_text(stored)
        for key, value in changes.items():
            old = existing.get(key)
            if self._same(key, old, value):
                continue
            if blank(old) or self.overwrite or fresh or key == "email":  # e-mails only grow
                diff[key] = value
            else:
                kept.append(Change(row.where, target, key, old, value, kept=True))
        if diff and "updated" in self.columns and "updated" not in values and not fresh:
            diff["updated"] = self.today
        if diff:
            try:
                table.update(stored, diff)
            except XlcrmError as exc:
                self._problem(row.where, exc.message)
                return
            self._index_row({**existing, **diff}, stored)
        self.report.changes += [
            Change(row.where, target, k, existing.get(k), v)
            for k, v in diff.items()
            if k != "updated" or "updated" in values
        ]
        self.report.changes += kept
        self.report.kept += len(kept)
        first = self.touched.get(folded)
        if first is not None:
            self.report.merged += 1
            self.report.duplicates.append(
                Problem(
                    row.where,
                    f"duplicate of {first} (same {how}): merged into {self._key_text(stored)}",
                )
            )
            return
        self.touched[folded] = row.where
        if not by_key:  # matched by e-mail (or ``match``): say so, a person may disagree
            self.report.duplicates.append(
                Problem(row.where, f"matched existing {self._key_text(stored)} (same {how})")
            )
        if diff:
            self.report.updated += 1
        else:
            self.report.unchanged += 1

    def _same(self, key: str, old: Any, new: Any) -> bool:
        """Whether two values mean the same: phones by number, e-mails by address, text
        without surrounding spaces."""
        if old == new:
            return True
        if blank(old) or blank(new):
            return blank(old) and blank(new)
        if key == "phone":
            return self._phone_keys(old) == self._phone_keys(new)
        if key == "email":
            return self._email_keys(old) == self._email_keys(new)
        if isinstance(old, str) and isinstance(new, str):
            return old.strip() == new.strip()
        return False

    def _phone_keys(self, cell: Any) -> list[str]:
        return sorted(
            {contacts.phone_key(p, self.region) for p in contacts.split_phones(_show(cell))}
        )

    def _email_keys(self, cell: Any) -> list[str]:
        items = cell if isinstance(cell, list) else contacts.split_emails(_show(cell))
        return sorted({contacts.email_key(a) for a in items})

    def _merge_emails(
        self, row: Row, stored: Any, cell: Any, incoming: Iterable[str]
    ) -> str | None:
        """The customer's addresses plus the new ones, or None when nothing is new.

        Known addresses are never dropped or rewritten: the cell keeps its spelling.
        """
        current = contacts.split_emails(cell if isinstance(cell, str) else None)
        have = {contacts.email_key(a) for a in current}
        new = [a for a in incoming if contacts.email_key(a) not in have]
        if not new:
            return None
        added = self._own_addresses(row, stored, contacts.join_emails(new))
        if not added:
            return None
        return contacts.join_emails([*current, *contacts.split_emails(added)])
