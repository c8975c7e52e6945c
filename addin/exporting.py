"""``xlcrm export``: a CRM table as CSV or JSON, for other systems and for people.

Keys are the canonical column keys (``id``, ``customer_id``, ``expected_close``), not the
workbook's headers, so an export reads the same from an English and a Chinese workbook and
imports back into either. Columns come in the schema's order whatever order the sheet has;
columns users added follow, under their header.

CSV is written for Excel on Chinese Windows: UTF-8 *with* a BOM (``utf-8-sig``), without which
Excel reads the file as GBK and shows mojibake. Values are ISO text (``2026-01-05``,
``2026-01-05T09:30:00``, ``true``/``false``), so the file means the same in every locale.

A CSV opened in Excel runs any cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(CSV injection: ``=HYPERLINK(...)`` from a web form becomes a link, ``=cmd|...`` a command), so
such text cells get a leading ``'``. Numbers and dates are never touched, nor text that is only
a signed number (``+8613800138000``, ``-5``): without letters a formula can call nothing.
JSON is not opened by Excel and is written as is; it is the lossless round-trip format.

``--where`` selects rows with the filter language every command shares (docs/filters.md):
``xlcrm export crm.xlsx customers --where 'status == "活跃" and last_contact < today - 90d'``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

from .errors import UsageError
from .query import compile_filter
from .workbook.book import Book
from .workbook.table import Row, Table
from .workbook.values import number_text

Format = Literal["csv", "json"]
FORMATS: tuple[Format, ...] = ("csv", "json")

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make Excel (and LibreOffice, Google Sheets) treat a cell as a
formula, per OWASP's CSV injection guidance."""

_SIGNED_NUMBER = re.compile(r"[+-][\d\s.,()-]*")


def export_table(
    book: Book,
    table: str,
    out: str | os.PathLike[str] | IO[str],
    *,
    format: Format = "csv",  # the CLI option is --format
    where: str | Callable[[Row], bool] | None = None,
    escape_formulas: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the rows of ``table`` (those ``where`` accepts) to ``out``; return how many.

    ``where`` is a filter (``'tier == "A"'``, checked against the table's columns before
    anything is written; a :class:`~addin.query.FilterError` names the problem) or a predicate.

    ``out`` is a path (CSV gets a BOM so Excel detects UTF-8; JSON is plain UTF-8) or an open
    text stream (written as is, no BOM: the stream's owner chose its encoding).
    ``escape_formulas=False`` writes text exactly as stored, for programs rather than Excel.
    ``progress(written, total)`` hears of every 1,000 rows written; ``total`` is the table's
    size, or 0 (not known) with ``where``.
    """
    if format not in FORMATS:
        raise UsageError(None, f"unknown export format {format!r}", "use csv or json")
    source = book.table(table)
    if isinstance(where, str):
        where = compile_filter(where, table=source, where="--where")
    keys = export_columns(source)
    rows = source.rows(where)
    if progress is not None:
        rows = _counted(rows, 0 if where is not None else len(source), progress)
    if isinstance(out, str | os.PathLike):
        encoding = "utf-8-sig" if format == "csv" else "utf-8"
        with Path(out).open("w", encoding=encoding, newline="") as stream:
            return _write(stream, format, keys, rows, escape_formulas)
    return _write(out, format, keys, rows, escape_formulas)


def _counted(
    rows: Iterable[Row], total: int, progress: Callable[[int, int], None]
) -> Iterator[Row]:
    done = 0
    for done, row in enumerate(rows, 1):
        if done % 1000 == 0:
            progress(done, total)
        yield row
    progress(done, total or done)


def export_columns(table: Table) -> list[str]:
    """The table's canonical keys in schema order, then its user columns in sheet order.

    Schema order keeps exports stable when people reorder the sheet's columns.
    """
    present = set(table.columns)
    canonical = [c.key for c in table.spec.columns if c.key in present]
    return canonical + [k for k in table.columns if k not in table.spec.by_key]


def _write(
    stream: IO[str], format: Format, keys: list[str], rows: Iterable[Row], escape: bool
) -> int:
    if format == "json":
        return _write_json(stream, keys, rows)
    writer = csv.writer(stream, lineterminator="\r\n")  # what Excel writes and expects
    writer.writerow(keys)
    count = 0
    for cells in _csv_cells(rows, keys, escape):
        writer.writerow(cells)
        count += 1
    return count


JSON_CHUNK = 1000
"""Rows encoded per write. ``json.dump`` writes each token separately (millions of tiny writes
to a wrapped stdout for a large table: 37 s for 300,000 rows against 10 s for CSV); encoding a
row at a time and writing a thousand at once costs the same as CSV, and memory stays bounded
by a chunk rather than the whole table."""


def _write_json(stream: IO[str], keys: list[str], rows: Iterable[Row]) -> int:
    """The rows as a JSON array of objects, byte for byte what ``json.dump(..., indent=2)``
    writes, streamed. ``indent`` makes the json module fall back to its pure-Python encoder
    (three times slower than the rest of the export), so each row is encoded by the C encoder
    with the indentation as its separators: a row's values are scalars, never nested."""
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",\n    ", ": ")).encode
    count = 0
    chunk: list[str] = []
    for row in rows:
        text = encode({k: json_value(row.get(k)) for k in keys})
        if len(text) > 2:  # "{…}" → "{\n    …\n  }", as indent=2 lays out a list's objects
            text = "{\n    " + text[1:-1] + "\n  }"
        chunk.append(("[\n  " if count == 0 else ",\n  ") + text)
        count += 1
        if len(chunk) >= JSON_CHUNK:
            stream.write("".join(chunk))
            chunk.clear()
    chunk.append("\n]\n" if count else "[]\n")
    stream.write("".join(chunk))
    return count


def _csv_cells(rows: Iterable[Row], keys: list[str], escape: bool) -> Iterable[list[str]]:
    for row in rows:
        yield [csv_value(row.get(k), escape_formulas=escape) for k in keys]


def csv_value(value: Any, *, escape_formulas: bool = True) -> str:
    """One cell as CSV text: ISO dates, true/false, numbers as typed, None as empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return defuse(value) if escape_formulas else value
    scalar = json_value(value)
    if isinstance(scalar, bool):
        return "true" if scalar else "false"
    if isinstance(scalar, float):
        return number_text(scalar)
    return str(scalar)


def defuse(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would run it as a formula."""
    if text.startswith(FORMULA_PREFIXES) and not _SIGNED_NUMBER.fullmatch(text):
        return "'" + text
    return text


def json_value(value: Any) -> Any:
    """A cell value as JSON: ISO text for dates and times, whole numbers without ``.0``."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value == int(value) and abs(value) < 1e15 else value
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)  # e.g. a duration (timedelta) in a user column
