"""Limits checked *before* a user's workbook or .docx is read (issue 13).

python-calamine reads a sheet into a dense grid from A1 to its last cell: a 5 KB file with one
cell at ``XFD1048576`` asks for 17 billion cells and the process aborts. A ZIP entry that
inflates a thousandfold, or lies about its size, does the same to memory. So before any reader
sees a package:

* :func:`check_zip` looks at the ZIP directory only (cheap): duplicate entry names, a part
  larger than :data:`MAX_PART_BYTES`, a package larger than :data:`MAX_TOTAL_BYTES` unpacked,
  a part inflating more than :data:`MAX_RATIO` times;
* :func:`inflate` unpacks one part in chunks, refusing as soon as it grows past what the
  directory declared (a lying header) or its CRC does not match (a damaged file);
* :func:`sheet_extent` streams a worksheet through :func:`inflate` and finds its real last row
  and column from the ``r`` attributes (counting rows and cells that have none), without
  building anything — ``<dimension>`` is only a claim, so it is not trusted.

Every refusal is a :class:`WorkbookError` naming the file (and the sheet) and saying what to do.
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from typing import BinaryIO

from ..errors import WorkbookError

MAX_PART_BYTES = 512 * 1024**2  # one unpacked part (a 100,000-customer sheet: about 250 MB)
MAX_TOTAL_BYTES = 1024**3  # the whole package unpacked
MAX_RATIO = 500  # unpacked/packed, parts over RATIO_FLOOR: real sheets stay under ~150,
# a deflate bomb reaches ~1,000
RATIO_FLOOR = 1024**2
MAX_CELLS = 25_000_000  # rows x columns from A1 (python-calamine pads the grid to A1): every
# row of Excel at 23 columns; about 8 bytes per padded cell, more for real ones
CELLS_ENV = "XLCRM_MAX_CELLS"
_CHUNK = 4 * 1024**2

_ROW_R = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?row\b[^>]*?\sr="(\d+)"')
_ROW_ANY = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
# Cells that can hold a value: not self-closing (``<c r="X9" s="1"/>`` is formatting only,
# and calamine leaves it out of the grid).
_CELL_R = re.compile(
    rb'<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?(?<=\s)r="\$?([A-Za-z]{1,3})\$?(\d+)"[^>]*(?<!/)>'
)
_CELL_ANY = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c(?:\s[^>]*)?(?<!/)>")
_ROW_END = re.compile(rb"row>")


def max_cells() -> int:
    raw = os.environ.get(CELLS_ENV, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else MAX_CELLS


def check_zip(infos: list[zipfile.ZipInfo], where: str, *, kind: str = "workbook") -> None:
    """Refuse a package whose ZIP directory alone shows it cannot be read safely."""
    seen: Counter[str] = Counter(info.filename for info in infos)
    twice = sorted(name for name, n in seen.items() if n > 1)
    if twice:
        raise WorkbookError(
            where,
            f"the file holds two entries named {twice[0]!r}, so it is ambiguous which one "
            "counts (a damaged or tampered package)",
            f"open it in {_app(kind)} or LibreOffice and save it again as a new {_format(kind)}",
        )
    backslash = next((info.filename for info in infos if "\\" in info.filename), None)
    if backslash is not None:
        raise WorkbookError(
            where,
            f"the file names its parts with backslashes ({backslash}), which Office packages "
            "never do (the program that wrote it has a bug)",
            f"open it in LibreOffice and save it as a new {_format(kind)}",
        )
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > MAX_PART_BYTES:
            raise WorkbookError(
                where,
                f"the part {info.filename} unpacks to {_mb(info.file_size)}, more than xlcrm "
                f"reads ({_mb(MAX_PART_BYTES)})",
                "split the data over smaller files, or remove what is not needed",
            )
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise WorkbookError(
                where,
                f"the part {info.filename} inflates "
                f"{info.file_size // max(info.compress_size, 1):,} times "
                f"({_mb(info.compress_size)} to {_mb(info.file_size)}): a ZIP bomb, "
                "not something Excel writes",
                f"do not use this file; if you trust it, save it again as a new {_format(kind)}",
            )
    if total > MAX_TOTAL_BYTES:
        raise WorkbookError(
            where,
            f"the file unpacks to {_mb(total)}, more than xlcrm reads ({_mb(MAX_TOTAL_BYTES)})",
            "split the data over smaller files",
        )


def inflate(
    fp: BinaryIO, info: zipfile.ZipInfo, where: str, *, kind: str = "workbook"
) -> Iterator[bytes]:
    """The unpacked bytes of one entry in chunks, never more than its header declares.

    ``fp`` is the package file (its local header is read at ``info.header_offset``). The CRC
    is checked at the end.
    """
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise _damaged(where, info.filename, "its entry header is missing", kind)
    name_len = int.from_bytes(header[26:28], "little")
    extra_len = int.from_bytes(header[28:30], "little")
    fp.seek(name_len + extra_len, os.SEEK_CUR)
    left = info.compress_size
    if info.compress_type == zipfile.ZIP_STORED:
        decomp = None
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        decomp = zlib.decompressobj(-15)
    else:
        raise _damaged(where, info.filename, f"it uses ZIP method {info.compress_type}", kind)
    crc = size = 0
    limit = min(info.file_size, MAX_PART_BYTES)
    while True:
        if decomp is not None and decomp.unconsumed_tail:
            piece = decomp.decompress(decomp.unconsumed_tail, _CHUNK)
        else:
            if left <= 0:
                if decomp is not None:
                    piece = decomp.flush()
                    if not piece:
                        break
                else:
                    break
            else:
                raw = fp.read(min(left, _CHUNK))
                if not raw:
                    raise _damaged(where, info.filename, "the file is cut short", kind)
                left -= len(raw)
                try:
                    piece = raw if decomp is None else decomp.decompress(raw, _CHUNK)
                except zlib.error as exc:
                    raise _damaged(
                        where, info.filename, f"its data is corrupt ({exc})", kind
                    ) from None
        size += len(piece)
        if size > limit:
            raise WorkbookError(
                where,
                f"the part {info.filename} unpacks to more than the {_mb(info.file_size)} its "
                "header declares (a ZIP bomb or a damaged file)",
                "do not use this file; if you trust it, open it in Excel and save it again",
            )
        crc = zlib.crc32(piece, crc)
        if piece:
            yield piece
    if size != info.file_size or crc != info.CRC:
        raise _damaged(where, info.filename, "its checksum (CRC) does not match its data", kind)


def sheet_extent(chunks: Iterator[bytes]) -> tuple[int, int]:
    """(last row, last column), 1-based, of the cells in a worksheet's XML.

    Rows and cells without an ``r`` attribute follow the previous one, so they can only push
    the extent further: they are counted on top (per row for cells), which errs large, never
    small.
    """
    last_row = last_col = 0
    free_rows = free_cells = 0
    carry = b""
    for chunk in chunks:
        buf = carry + chunk
        cut = buf.rfind(b"row>")
        if cut < 0 and len(buf) < 64 * _CHUNK:
            carry = buf
            continue
        cut = len(buf) if cut < 0 else cut + 4
        part, carry = buf[:cut], buf[cut:]
        r, c, fr, fc = _scan(part)
        last_row, last_col = max(last_row, r), max(last_col, c)
        free_rows += fr
        free_cells = max(free_cells, fc)
    if carry:
        r, c, fr, fc = _scan(carry)
        last_row, last_col = max(last_row, r), max(last_col, c)
        free_rows += fr
        free_cells = max(free_cells, fc)
    return last_row + free_rows, last_col + free_cells


def _scan(xml: bytes) -> tuple[int, int, int, int]:
    fast = _fast_extent(xml)
    if fast is not None:
        return fast[0], fast[1], 0, 0
    cells = _CELL_R.findall(xml)
    last_col = max((_col(letters) for letters in {c for c, _ in cells}), default=0)
    last_row = max((int(r) for r in {r for _, r in cells}), default=0)
    if len(_CELL_ANY.findall(xml)) == len(cells):
        return last_row, last_col, 0, 0
    # Cells without a reference follow the previous cell, in their row (numbered or, without
    # ``r``, the one after the previous): count them on top, the most in any one row.
    rows = _ROW_R.findall(xml)
    last_row = max(last_row, max(map(int, rows), default=0))
    free_rows = len(_ROW_ANY.findall(xml)) - len(rows)
    free_cells = max(
        len(_CELL_ANY.findall(row)) for row in re.split(rb"<(?:[A-Za-z_][\w.-]*:)?row\b", xml)
    )
    return last_row, last_col, max(free_rows, 0), free_cells


_PREFIXED = re.compile(rb":(?:c|row)[\s/>]")
_REF = re.compile(rb'<c r="([A-Z]{1,3})([1-9]\d*)"[^>]*>')


def _fast_extent(xml: bytes) -> tuple[int, int] | None:
    """The extent without a Python step per cell, for the shape Excel and most writers
    produce: every cell numbered, ``r`` first, no namespace prefix.

    Guess from the last value cell, then let one regex search (at C speed) for a value cell
    beyond the guess — or a cell of another shape, which sends the chunk to the cell-by-cell
    scan (``None``). A sorted sheet takes one pass.
    """
    if _PREFIXED.search(xml):
        return None
    end = len(xml)
    while True:  # the last cell that can hold a value (not ``<c …/>``)
        end = xml.rfind(b'<c r="', 0, end)
        if end < 0:
            return 0, 0
        m = _REF.match(xml, end)
        if m is None:
            return None
        if not m.group(0).endswith(b"/>"):
            break
    letters, digits = m.group(1), m.group(2)
    pos = 0
    while True:
        pattern = re.compile(
            rb'<c(?:(?=[\s/>])(?! r="[A-Z]{1,3}[1-9]\d*")'
            rb'| r="(?:' + _greater_letters(letters) + rb')\d+"[^>]*(?<!/)>'
            rb'| r="[A-Z]{1,3}' + _greater_digits(digits) + rb'"[^>]*(?<!/)>)'
        )
        found = pattern.search(xml, pos)
        if found is None:
            return int(digits), _col(letters)
        ref = _REF.match(xml, found.start())
        if ref is None:
            return None  # a cell without ``r`` first, or an odd reference
        if (len(ref.group(1)), ref.group(1)) > (len(letters), letters):
            letters = ref.group(1)
        if int(ref.group(2)) > int(digits):
            digits = ref.group(2)
        pos = found.start() + 1


def _greater_digits(n: bytes) -> bytes:
    """A pattern for the numbers (no leading zero) greater than ``n``."""
    alts = [rb"[1-9]\d{%d,}" % len(n)]
    for i, ch in enumerate(n):
        if ch < ord("9"):
            alts.append(n[:i] + b"[%c-9]" % (ch + 1) + rb"\d" * (len(n) - i - 1))
    return b"(?:" + b"|".join(alts) + b")"


def _greater_letters(n: bytes) -> bytes:
    """A pattern for the column letters after ``n`` (longer, or same length and later)."""
    alts = [rb"[A-Z]{%d,3}" % (len(n) + 1)] if len(n) < 3 else []
    for i, ch in enumerate(n):
        if ch < ord("Z"):
            alts.append(n[:i] + b"[%c-Z]" % (ch + 1) + b"[A-Z]" * (len(n) - i - 1))
    return b"(?:" + b"|".join(alts or [b"(?!)"]) + b")"


def _col(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def check_extent(rows: int, cols: int, where: str, sheet: str) -> None:
    limit = max_cells()
    if rows * cols > limit:
        from .cells import cell_ref

        raise WorkbookError(
            where,
            f"sheet {sheet!r} reaches cell {cell_ref(max(rows, 1), max(cols, 1) - 1)}: read "
            f"as a grid that is {rows:,} rows by {cols:,} columns, more than the "
            f"{limit:,} cells xlcrm reads",
            f"in sheet {sheet!r}, delete the rows and columns past your data (select them, "
            "Delete, then save), or set "
            f"{CELLS_ENV} higher if the data really is that large",
        )


def _damaged(where: str, part: str, why: str, kind: str) -> WorkbookError:
    return WorkbookError(
        where,
        f"the file is damaged: part {part} cannot be read ({why})",
        f"open it in {_app(kind)} (which offers to repair it) and save it as a new "
        f"{_format(kind)}, "
        "or use a backup",
    )


def _app(kind: str) -> str:
    return "Word" if kind == "document" else "Excel"


def _format(kind: str) -> str:
    return "Word Document (.docx)" if kind == "document" else "Excel Workbook (.xlsx)"


def _mb(n: int) -> str:
    return f"{n / 1024**2:,.0f} MB" if n >= 1024**2 else f"{n / 1024:,.0f} KB"
