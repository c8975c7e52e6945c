"""A1 references and Excel's hard limits."""

from __future__ import annotations

import functools
import re

MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
MAX_CELL_TEXT = 32_767

_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


@functools.lru_cache(maxsize=1024)
def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """A -> 0, AA -> 26."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def cell_ref(row: int, col: int) -> str:
    """(14, 3) -> D14: row is 1-based, column 0-based."""
    return f"{column_letter(col)}{row}"


def parse_cell(ref: str) -> tuple[int, int]:
    """D14 -> (14, 3)."""
    m = _REF.match(ref)
    if not m:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(m[2]), column_index(m[1])


def parse_range(ref: str) -> tuple[int, int, int, int]:
    """A1:Q200 -> (first_row, first_col, last_row, last_col); rows 1-based, columns 0-based."""
    first, _, last = ref.partition(":")
    r1, c1 = parse_cell(first)
    r2, c2 = parse_cell(last or first)
    return r1, c1, r2, c2


def range_ref(first_row: int, first_col: int, last_row: int, last_col: int) -> str:
    return f"{cell_ref(first_row, first_col)}:{cell_ref(last_row, last_col)}"
