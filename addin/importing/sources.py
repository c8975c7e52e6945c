"""Reading an import file (CSV, .xlsx/.xlsm, JSON or vCard) into the common :class:`.Source`.

People arrive with what they have: a CSV saved by Excel on Chinese Windows (GB18030, or UTF-8
with a BOM, ``;`` in some locales), a sheet exported from another system, a JSON export of
xlcrm itself, or a phone's vCards (read by :mod:`.vcard`). This module picks the reader by the
file's extension and deals with the encoding and delimiter guessing, so the importer sees
headers and located rows, whatever the file was.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from ..errors import UsageError, XlcrmError
from ..workbook.values import number_text
from .report import Problem
from .rows import Row, Source, blank
from .vcard import read_vcards

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


def read_source(path: str | os.PathLike[str], *, sheet: str | None = None) -> Source:
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
        return read_vcards(path.name, text)
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


def _read_csv(name: str, text: str) -> Source:
    delimiter = sniff_delimiter(text)
    reader = _parse_csv(text, delimiter)
    headers: list[str] | None = None
    rows: list[Row] = []
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
                        f"{len(record)} values but the header has {len(headers)} columns",
                    )
                )
            rows.append(Row(where, start, record[: len(headers)]))
    except csv.Error as exc:
        raise XlcrmError(
            f"{name}:{reader.line_num}", f"cannot read the CSV ({exc})", "check the quotes"
        ) from None
    return Source(name, "csv", headers or [], rows, problems=problems)


def _read_workbook(path: Path, sheet: str | None) -> Source:
    """The rows of one sheet, read through the file backend: the same bounds as a CRM
    workbook (no ZIP bomb, no sheet reaching ``XFD1048576``), damaged packages and strict
    OOXML refused with a reason, macro sheets skipped."""
    from ..workbook.filebook import FileBook

    name = path.name
    try:
        book = FileBook(path, backups=0)
    except XlcrmError as exc:
        raise XlcrmError(name, exc.message, exc.hint) from None
    try:
        names = book.sheet_names()
        if sheet is None:
            if not names:
                raise XlcrmError(name, "the workbook has no sheets")
            sheet = names[0]
        elif sheet not in names:
            raise UsageError(
                name, f"there is no sheet {sheet!r}", "use one of: " + ", ".join(names)
            )
        try:
            values = book.sheet_values(sheet)
        except XlcrmError as exc:
            raise XlcrmError(f"{name}!{sheet}", exc.message, exc.hint) from None
    finally:
        book.close()
    headers: list[str] | None = None
    rows: list[Row] = []
    for r, record in enumerate(values):
        if not any(not blank(v) for v in record):
            continue
        if headers is None:
            headers = [_header_text(v) for v in record]
            continue
        rows.append(Row(f"{name}!{sheet}!{r + 1}", r + 1, list(record[: len(headers)])))
    return Source(name, "xlsx", headers or [], rows, sheet=sheet)


def _read_json(name: str, text: str) -> Source:
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
        if any(not blank(v) for v in values):
            rows.append(Row(f"{name}#{n}", n, values))
    return Source(name, "json", keys, rows)


def _json_cell(value: Any) -> Any:
    if isinstance(value, dict | list):  # nested data: kept as its JSON text
        return json.dumps(value, ensure_ascii=False)
    return value


def _header_text(value: Any) -> str:
    if isinstance(value, float):
        return number_text(value)
    return "" if value is None else str(value)
