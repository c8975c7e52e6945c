"""``xlcrm import``: bring customers (or any CRM table) in from CSV, Excel and vCard files.

People arrive with what they have: a CSV saved by Excel on Chinese Windows (GB18030, or UTF-8
with a BOM, ``;`` in some locales), a sheet exported from another system, a phone's vCard
export, or a JSON export of xlcrm itself. :func:`import_file` reads any of them, maps the
headers through the schema's aliases (English and Chinese), cleans e-mail addresses and phone
numbers, and upserts the rows through the Table API, so the workbook contract (typed values,
text never becoming a formula, one write per save) holds for imported data exactly as for
everything else.

An import never aborts half-way because of one bad row and never half-applies a row: a value
that does not fit its column skips that row and is reported with the place a person finds it
in *their* file (``contacts.csv:14``, ``contacts.xlsx!Sheet1!D14``). An import never erases
data either: empty cells in the file leave the workbook's cells alone, and a customer's known
e-mail addresses are kept when new ones are added.

The caller saves (``with open_book(...)``); a dry run computes the same report and then drops
every change.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
import python_calamine as calamine
import vobject

from . import customers as contacts
from .errors import UsageError, ValueProblem, XlcrmError
from .schema import TableSpec, match_header
from .workbook.book import Book
from .workbook.cells import cell_ref
from .workbook.table import Table
from .workbook.values import coerce, number_text

Progress = Callable[[int, int], None]
"""Called as ``progress(rows_done, rows_total)`` while rows are applied."""

MAX_LISTED = 50
"""How many problems (and duplicates) a summary lists before "… and N more"."""

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
VCARD_SUFFIXES = (".vcf", ".vcard")
JSON_SUFFIXES = (".json",)

DELIMITERS = ",;\t"
"""The delimiters a CSV may use: ``,`` (most locales), ``;`` (where ``,`` is the decimal
separator) and tab (Excel's "Unicode text" and copy-paste). Sniffing is limited to these so a
stray ``:`` or space in the data is never taken for one."""

ENCODINGS = ("utf-8-sig", "gb18030")
"""Tried in order. ``utf-8-sig`` also reads UTF-8 without a BOM; GB18030 is a superset of GBK
and GB2312, what Excel writes for "CSV (Comma delimited)" on Chinese Windows. UTF-16 (Excel's
"Unicode text") is recognised by its BOM before these are tried."""

_SNIFF_CHARS = 64 * 1024
_PROGRESS_EVERY = 500


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

    def __str__(self) -> str:
        return self.summary()


# ---------------------------------------------------------------------------------------------
# Reading files into a common shape: headers plus rows, each row knowing where it came from.


@dataclass
class _Row:
    where: str  # the row, as a person finds it: "contacts.csv:14", "book.xlsx!Sheet1!14"
    number: int  # line (CSV, vCard) or sheet row (xlsx)
    values: list[Any]
    lines: list[list[int]] | None = None  # vCard: the line of each value, per column


@dataclass
class _Source:
    name: str  # the file name used in messages
    kind: str  # "csv", "xlsx", "vcf" or "json"
    headers: list[str]
    rows: list[_Row]
    sheet: str = ""
    problems: list[Problem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def cell(self, row: _Row, j: int, n: int = 0) -> str:
        """Where the j-th column's value (its n-th item, for lists) of ``row`` is."""
        if self.kind == "xlsx":
            return f"{self.name}!{self.sheet}!{cell_ref(row.number, j)}"
        if self.kind == "vcf" and row.lines is not None and row.lines[j]:
            lines = row.lines[j]
            return f"{self.name}:{lines[min(n, len(lines) - 1)]}"
        return row.where


def _read_source(path: str | os.PathLike[str], *, sheet: str | None = None) -> _Source:
    """Read an import file (by its extension) into headers and located rows."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (*CSV_SUFFIXES, *WORKBOOK_SUFFIXES, *VCARD_SUFFIXES, *JSON_SUFFIXES):
        raise UsageError(
            str(path),
            f"cannot import {suffix or 'files without an extension'}",
            "save the data as CSV (.csv), an Excel workbook (.xlsx) or vCards (.vcf)",
        )
    if sheet is not None and suffix not in WORKBOOK_SUFFIXES:
        raise UsageError(str(path), "only Excel workbooks have sheets to choose from")
    if not path.is_file():
        raise XlcrmError(str(path), "no such file", "check the path and the file name")
    if suffix in WORKBOOK_SUFFIXES:
        return _read_workbook(path, sheet)
    text = _decode(path.name, path.read_bytes())
    if suffix in VCARD_SUFFIXES:
        return _read_vcards(path.name, text)
    if suffix in JSON_SUFFIXES:
        return _read_json(path.name, text)
    return _read_csv(path.name, text)


def _decode(name: str, data: bytes) -> str:
    """The file's text: UTF-16 by BOM, else the first of :data:`ENCODINGS` that fits."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise XlcrmError(
        name,
        "cannot read the text: it is neither UTF-8 nor GB18030 (GBK)",
        "in Excel use File › Save As › 'CSV UTF-8 (Comma delimited)'",
    )


def _parse_csv(text: str, delimiter: str) -> Any:  # a csv reader (its type is private)
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def sniff_delimiter(text: str) -> str:
    """The delimiter of a CSV text, one of :data:`DELIMITERS`.

    ``csv.Sniffer`` is right most of the time but can be fooled (a ``;`` file whose notes
    contain commas). So every candidate is scored by how consistently it splits the sample —
    the share of rows with as many fields as the header, then the number of fields — and the
    Sniffer's choice is taken only when it scores best; otherwise the best scorer wins.
    """
    sample = text[:_SNIFF_CHARS]
    truncated = len(text) > _SNIFF_CHARS
    scores = {d: _consistency(sample, d, truncated) for d in DELIMITERS}
    best = max(scores.values())
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    if sniffed in scores and scores[sniffed] == best:
        return sniffed
    return max(DELIMITERS, key=lambda d: scores[d])  # ties: the earlier (",") wins


def _consistency(sample: str, delimiter: str, truncated: bool) -> tuple[float, int]:
    try:
        rows = [r for r in _parse_csv(sample, delimiter) if any(c.strip() for c in r)]
    except csv.Error:
        return (0.0, 0)
    if truncated and len(rows) > 1:
        rows.pop()  # cut mid-line by the sample
    if not rows or len(rows[0]) < 2:
        return (0.0, len(rows[0]) if rows else 0)
    width = len(rows[0])
    data = rows[1:]
    share = sum(len(r) == width for r in data) / len(data) if data else 1.0
    return (share, width)


def _read_csv(name: str, text: str) -> _Source:
    delimiter = sniff_delimiter(text)
    reader = _parse_csv(text, delimiter)
    headers: list[str] | None = None
    rows: list[_Row] = []
    problems: list[Problem] = []
    line = 0
    try:
        for record in reader:
            start, line = line + 1, reader.line_num
            if not any(c.strip() for c in record):
                continue
            if headers is None:
                headers = record
                continue
            where = f"{name}:{start}"
            extra = record[len(headers) :]
            if any(c.strip() for c in extra):
                problems.append(
                    Problem(
                        where,
                        f"{len(record)} values but the header has {len(headers)} columns; "
                        "the extra values were ignored",
                    )
                )
            rows.append(_Row(where, start, record[: len(headers)]))
    except csv.Error as exc:
        raise XlcrmError(
            f"{name}:{reader.line_num}", f"cannot read the CSV ({exc})", "check the quotes"
        ) from None
    return _Source(name, "csv", headers or [], rows, problems=problems)


def _read_workbook(path: Path, sheet: str | None) -> _Source:
    name = path.name
    try:
        workbook = calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own, unexported error types
        raise XlcrmError(name, f"cannot read the workbook ({exc})") from None
    try:
        names = workbook.sheet_names
        if sheet is None:
            if not names:
                raise XlcrmError(name, "the workbook has no sheets")
            sheet = names[0]
        elif sheet not in names:
            raise UsageError(
                name, f"there is no sheet {sheet!r}", "use one of: " + ", ".join(names)
            )
        values = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    finally:
        workbook.close()
    headers: list[str] | None = None
    rows: list[_Row] = []
    for r, record in enumerate(values):
        if not any(not _blank(v) for v in record):
            continue
        if headers is None:
            headers = [_header_text(v) for v in record]
            continue
        rows.append(_Row(f"{name}!{sheet}!{r + 1}", r + 1, list(record[: len(headers)])))
    return _Source(name, "xlsx", headers or [], rows, sheet=sheet)


def _read_json(name: str, text: str) -> _Source:
    """An array of objects, as :func:`addin.exporting.export_table` writes. A record is
    located as ``customers.json#3`` (the third object, counting from 1)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise XlcrmError(f"{name}:{exc.lineno}", f"not valid JSON ({exc.msg})") from None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise XlcrmError(name, "expected a JSON array of objects, one per row")
    headers: dict[str, None] = {}
    for record in data:
        headers.update(dict.fromkeys(str(k) for k in record))
    keys = list(headers)
    rows = []
    for n, record in enumerate(data, start=1):
        record = {str(k): v for k, v in record.items()}
        values = [_json_cell(record.get(k)) for k in keys]
        if any(not _blank(v) for v in values):
            rows.append(_Row(f"{name}#{n}", n, values))
    return _Source(name, "json", keys, rows)


def _json_cell(value: Any) -> Any:
    if isinstance(value, dict | list):  # nested data: kept as its JSON text
        return json.dumps(value, ensure_ascii=False)
    return value


def _header_text(value: Any) -> str:
    if isinstance(value, float):
        return number_text(value)
    return "" if value is None else str(value)


# vCard property -> canonical customer column. Everything else is listed as ignored.
_VCARD_COLUMNS = ("name", "company", "email", "phone", "notes", "tags")
_VCARD_QUIET = {"BEGIN", "END", "VERSION", "PRODID", "REV", "UID", "KIND", "N", "FN"}


def _read_vcards(name: str, text: str) -> _Source:
    """vCard 2.1/3.0/4.0: FN (or N) → name, ORG → company, every EMAIL → email, every TEL →
    phone, NOTE → notes, CATEGORIES → tags."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    located = _vcard_lines(text)
    rows: list[_Row] = []
    ignored: list[str] = []
    try:
        cards = [c for c in vobject.readComponents(text) if c.name.upper() == "VCARD"]
    except Exception as exc:  # vobject raises ParseError and plain exceptions alike
        raise XlcrmError(name, f"cannot read the vCards ({exc})", "export them again") from None
    for n, card in enumerate(cards):
        begin, props = located[n] if n < len(located) else (1, {})
        contents = card.contents
        for prop in contents:
            upper = prop.upper()
            if upper not in _VCARD_QUIET and upper not in _VCARD_MAP and upper not in ignored:
                ignored.append(upper)
        values: list[Any] = []
        lines: list[list[int]] = []
        for column in _VCARD_COLUMNS:
            value, prop = _VCARD_READERS[column](contents)
            values.append(value)
            lines.append(props.get(prop, []) if prop else [])
        rows.append(_Row(f"{name}:{begin}", begin, values, lines))
    return _Source(name, "vcf", list(_VCARD_COLUMNS), rows, ignored=ignored)


def _vcard_lines(text: str) -> list[tuple[int, dict[str, list[int]]]]:
    """For each card: the line of BEGIN:VCARD and the lines of each property, in file order.

    vobject's own line numbers are unreliable, and a person wants to be sent to the EMAIL line
    that holds the bad address, not to the top of the card.
    """
    cards: list[tuple[int, dict[str, list[int]]]] = []
    props: dict[str, list[int]] | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        if not line or line[0] in " \t":
            continue  # folded continuation
        prop = line.split(":", 1)[0].split(";", 1)[0].rsplit(".", 1)[-1].strip().upper()
        if prop == "BEGIN" and line.split(":", 1)[-1].strip().upper() == "VCARD":
            if props is None:  # nested cards (AGENT) belong to their parent
                props = {}
                cards.append((number, props))
        elif prop == "END" and line.split(":", 1)[-1].strip().upper() == "VCARD":
            props = None
        elif props is not None:
            props.setdefault(prop, []).append(number)
    return cards


def _texts(contents: dict[str, list[Any]], prop: str) -> list[str]:
    out = []
    for line in contents.get(prop.lower(), []):
        value = line.value
        if isinstance(value, list | tuple):
            value = " ".join(str(v).strip() for v in value if str(v).strip())
        value = str(value).strip()
        if value:
            out.append(value)
    return out


def _vcard_name(contents: dict[str, list[Any]]) -> tuple[str | None, str | None]:
    full = _texts(contents, "fn")
    if full:
        return full[0], "FN"
    for line in contents.get("n", []):
        n = line.value
        family = " ".join(_as_list(getattr(n, "family", ""))).strip()
        given = " ".join(_as_list(getattr(n, "given", ""))).strip()
        if not (family or given):
            continue
        # Chinese (and Japanese, Korean) names are written family name first, without a space.
        if any(_is_cjk(ch) for ch in family + given):
            return family + given, "N"
        return " ".join(p for p in (given, family) if p), "N"
    return None, None


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value or "")]


def _is_cjk(ch: str) -> bool:
    return "\u3040" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" or "\uf900" <= ch <= "\ufaff"


def _joined(prop: str, sep: str) -> Callable[[dict[str, list[Any]]], tuple[str | None, str]]:
    def read(contents: dict[str, list[Any]]) -> tuple[str | None, str]:
        texts = _texts(contents, prop)
        if prop == "TEL":  # vCard 4.0 writes TEL;VALUE=uri:tel:+86-...
            texts = [t[4:] if t.lower().startswith("tel:") else t for t in texts]
        return (sep.join(texts) or None), prop

    return read


def _categories(contents: dict[str, list[Any]]) -> tuple[str | None, str]:
    tags: list[str] = []
    for line in contents.get("categories", []):
        value = line.value
        for tag in value if isinstance(value, list | tuple) else str(value).split(","):
            if str(tag).strip() and str(tag).strip() not in tags:
                tags.append(str(tag).strip())
    return (", ".join(tags) or None), "CATEGORIES"


_VCARD_READERS: dict[str, Callable[[dict[str, list[Any]]], tuple[str | None, str | None]]] = {
    "name": _vcard_name,
    "company": _joined("ORG", " "),
    "email": _joined("EMAIL", contacts.EMAIL_SEPARATOR),
    "phone": _joined("TEL", "; "),
    "notes": _joined("NOTE", "\n"),
    "tags": _categories,
}
_VCARD_MAP = {"ORG", "EMAIL", "TEL", "NOTE", "CATEGORIES"}


# ---------------------------------------------------------------------------------------------
# Importing


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
    """
    if not region or region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise UsageError(
            None, f"unknown phone region {region!r}", "use a country code such as CN, HK or US"
        )
    if dry_run and book.dirty:
        raise UsageError(
            book.where,
            "a dry run needs a workbook without unsaved changes (it discards all changes)",
            "save the workbook first",
        )
    target = book.table(table)
    suffix = Path(path).suffix.lower()
    if suffix in VCARD_SUFFIXES and target.spec.key != "customers":
        raise UsageError(
            str(path), f"vCards hold contacts; import them into customers, not {target.name}"
        )
    source = _read_source(path, sheet=sheet)
    report = ImportReport(source=source.name, table=target.name, dry_run=dry_run)
    report.problems += source.problems
    report.ignored_columns += source.ignored
    try:
        _Importer(target, source, report, match, region, today or dt.date.today()).run(progress)
    finally:
        if dry_run:
            book.discard()
    return report


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _fold(value: Any) -> Any:
    """How key values compare: as Table does, text case-insensitively without outer spaces."""
    return value.strip().casefold() if isinstance(value, str) else value


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
        table: Table,
        source: _Source,
        report: ImportReport,
        match: str | None,
        region: str,
        today: dt.date,
    ) -> None:
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
                if any(j < len(r.values) and not _blank(r.values[j]) for r in self.source.rows):
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
        return tuple(_fold(values.get(k)) for k in self.spec.pk)

    def _stored_key(self, row: dict[str, Any]) -> Any:
        key = tuple(row.get(k) for k in self.spec.pk)
        if any(v in (None, "") for v in key):
            return None
        return key[0] if len(key) == 1 else key

    def _match_values(self, key: str, value: Any) -> list[Any]:
        """The folded values a cell offers for matching (several for e-mail and phone cells)."""
        if _blank(value):
            return []
        if key == "email":
            items = value if isinstance(value, list) else contacts.split_emails(str(value))
            return [contacts.email_key(a) for a in items]
        if key == "phone":
            return [contacts.phone_key(p, self.region) for p in contacts.split_phones(value)]
        return [_fold(value)]

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
        for done, row in enumerate(rows, start=1):
            values = self._values(row)
            if values is None:
                self.report.skipped += 1
            elif not values:
                self._problem(row.where, "nothing to import in this row; skipped")
                self.report.skipped += 1
            else:
                self._apply(row, values)
            if progress is not None and (done % _PROGRESS_EVERY == 0 or done == total):
                progress(done, total)

    def _problem(self, where: str, message: str) -> None:
        self.report.problems.append(Problem(where, message))

    def _values(self, row: _Row) -> dict[str, Any] | None:
        """The row's non-empty values, checked and typed; None (and problems) when it must be
        skipped. E-mail values are lists of clean addresses."""
        values: dict[str, Any] = {}
        ok = True
        for j, key in self.plan:
            raw = row.values[j] if j < len(row.values) else None
            if _blank(raw):
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
                self._problem(where, f'{key} "{_show(raw)}" {reason}; the row was skipped')
                ok = False
                continue
            if value is not None:  # None would erase the cell on update
                values[key] = value
        return values if ok else None

    def _emails(self, row: _Row, j: int, raw: Any) -> list[str]:
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

    def _phones(self, row: _Row, j: int, raw: Any) -> str:
        """The cell's numbers in E.164; a number that does not parse is kept as written."""
        out: list[str] = []
        for n, text in enumerate(contacts.split_phones(_show(raw))):
            try:
                out.append(contacts.normalise_phone(text, self.region))
            except contacts.InvalidPhone:
                self._problem(
                    self.source.cell(row, j, n),
                    f'phone "{text}" is not a valid {self.region} phone number; kept as written',
                )
                out.append(text)
        return "; ".join(dict.fromkeys(out))

    # -- matching and writing ----------------------------------------------------------------

    def _apply(self, row: _Row, values: dict[str, Any]) -> None:
        spec = self.spec
        stored = None
        how = ""
        by_key = all(not _blank(values.get(k)) for k in spec.pk)
        if by_key:
            stored = self.known.get(self._folded_key(values))
            how = ", ".join(f"{k} {values[k]}" for k in spec.pk)
        elif self.match is not None:
            stored, how = self._find(row, values)
        if stored is None:
            self._insert(row, values)
        else:
            self._update(row, values, stored, how, by_key=by_key)

    def _find(self, row: _Row, values: dict[str, Any]) -> tuple[Any, str]:
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
            self._problem(
                row.where,
                f"matches several rows by {label}: {names}; only {stored} was updated",
            )
        return stored, f"{label} {text}"

    def _insert(self, row: _Row, values: dict[str, Any]) -> None:
        spec = self.spec
        generated = spec.id_prefix is not None and "id" in self.columns
        missing = [k for k in spec.pk if _blank(values.get(k))]
        if missing and not generated:
            self._problem(row.where, f"{', '.join(missing)} is empty; the row was skipped")
            self.report.skipped += 1
            return
        new = dict(values)
        if isinstance(new.get("email"), list):
            new["email"] = contacts.join_emails(new["email"])
            if self.is_customers:
                new["email"] = self._own_addresses(row, None, new["email"])
        if "created" in self.columns and "created" not in new:
            new["created"] = self.today
        try:
            (stored,) = self.table.insert_all([new])
        except XlcrmError as exc:
            self._problem(row.where, f"{exc.message}; the row was skipped")
            self.report.skipped += 1
            return
        folded = self._folded_key(self._as_row(stored))
        self.known[folded] = stored
        self.touched[folded] = row.where
        self.inserted.add(folded)
        self._index_row(new, stored)
        self.report.inserted += 1

    def _own_addresses(self, row: _Row, stored: Any, cell: str | None) -> str | None:
        """Drop addresses that already belong to another customer (reported): an address
        must lead to one customer, or mail would be filed under the wrong one."""
        keep = []
        for address in contacts.split_emails(cell):
            owner = self.emails.get(contacts.email_key(address))
            if owner is not None and owner != stored:
                self._problem(
                    row.where,
                    f"e-mail {address} already belongs to {owner}; not added "
                    + (f"to {stored}" if stored is not None else "to the new row"),
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
        self, row: _Row, values: dict[str, Any], stored: Any, how: str, *, by_key: bool
    ) -> None:
        table = self.table
        existing = table.get(stored)
        folded = self._folded_key(existing)
        changes = {k: v for k, v in values.items() if k not in self.spec.pk}
        if isinstance(changes.get("email"), list):
            incoming = changes.pop("email")
            if self.is_customers:
                merged = self._merge_emails(row, stored, existing.get("email"), incoming)
                if merged is not None:
                    changes["email"] = merged
            else:
                changes["email"] = contacts.join_emails(incoming)
        diff = {k: v for k, v in changes.items() if existing.get(k) != v}
        fresh = folded in self.inserted  # a row of this file repeated: not an update
        if diff and "updated" in self.columns and "updated" not in values and not fresh:
            diff["updated"] = self.today
        if diff:
            try:
                table.update(stored, diff)
            except XlcrmError as exc:
                self._problem(row.where, f"{exc.message}; the row was skipped")
                self.report.skipped += 1
                return
            self._index_row({**existing, **diff}, stored)
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

    def _merge_emails(
        self, row: _Row, stored: Any, cell: Any, incoming: Iterable[str]
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
