"""Which Excel Table or sheet holds a CRM table — one rule for every backend.

A workbook file, the live Excel workbook and the Office.js client's inventory all answer the
same question the same way, so a workbook that works from the command line works from the
ribbon. In order:

1. an Excel Table named like the CRM table (``Customers``, ``customers``);
2. a sheet named like it in either language (``Customers``, ``客户``): its best-matching Excel
   Table, else its first filled row as headers — but a non-core table's sheet only when the
   headers include its key (a sheet of notes called "Stages" is not the Stages table);
3. any Excel Table whose headers are the table's headers (at least three, with the key), unless
   it is, by its name, another CRM table (Deals has a stage and a probability column);
4. a plain sheet whose first filled row is the table's headers, under the same conditions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..schema import CORE_TABLES, STATE_SHEET, TABLES, TableSpec, match_header, normalize_label

if TYPE_CHECKING:
    from .table import TableLayout

MIN_HEADER_MATCHES = 3


class TableEntry(Protocol):
    """What the locator needs to know of an Excel Table (ListObject)."""

    @property
    def name(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def sheet(self) -> str: ...
    @property
    def columns(self) -> list[str]: ...


T = TypeVar("T", bound=TableEntry)


def header_run(row: Sequence[Any]) -> tuple[int, list[str]] | None:
    """The headers of a plain sheet: the first filled cell of its first filled row and the
    filled cells right of it, up to the first blank. None for a blank row."""
    c1 = next((c for c, v in enumerate(row) if v not in ("", None)), None)
    if c1 is None:
        return None
    c2 = c1
    while c2 + 1 < len(row) and row[c2 + 1] not in ("", None):
        c2 += 1
    return c1, [str(v) for v in row[c1 : c2 + 1]]


def locate_table(
    spec: TableSpec,
    tables: Sequence[T],
    sheets: Sequence[str],
    headers_of: Callable[[str], list[str]],
) -> T | str | None:
    """The Excel Table (an element of ``tables``) or the plain sheet (its name) holding
    ``spec``, or None. ``headers_of(sheet)`` gives a plain sheet's header run (see
    :func:`header_run`); it is called only for sheets without Excel Tables."""
    wanted = {normalize_label(n) for n in (spec.name, spec.key)}
    for table in tables:
        if normalize_label(table.display_name) in wanted or normalize_label(table.name) in wanted:
            return table
    names = {normalize_label(n) for n in (spec.name, spec.zh, spec.key, *spec.aliases)}
    for sheet in sheets:
        if normalize_label(sheet) not in names:
            continue
        on_sheet = [t for t in tables if t.sheet == sheet]
        if on_sheet:
            return max(on_sheet, key=lambda t: score(spec, t.columns))
        if spec.key in CORE_TABLES or has_pk(spec, headers_of(sheet)):
            return sheet
    scored = [
        (t, score(spec, t.columns))
        for t in tables
        if not named_as_other(spec, t.display_name, t.sheet)
    ]
    scored = [(t, s) for t, s in scored if s >= MIN_HEADER_MATCHES and has_pk(spec, t.columns)]
    if scored:
        return max(scored, key=lambda ts: ts[1])[0]
    best: tuple[int, str] | None = None
    with_tables = {t.sheet for t in tables}
    for sheet in sheets:
        if sheet == STATE_SHEET or sheet in with_tables or named_as_other(spec, sheet):
            continue
        headers = headers_of(sheet)
        points = score(spec, headers)
        if (
            points >= MIN_HEADER_MATCHES
            and has_pk(spec, headers)
            and (best is None or points > best[0])
        ):
            best = (points, sheet)
    return None if best is None else best[1]


def plain_range(
    spec: TableSpec, sheet: str, grid: list[list[Any]]
) -> tuple[TableLayout, list[list[Any]]]:
    """The table on a plain sheet (no Excel Table): headers from its first filled row, data
    down to the last row with a value under them. ``grid`` is the sheet's values from A1."""
    from ..errors import WorkbookError
    from .table import TableLayout

    for r, row in enumerate(grid):
        run = header_run(row)
        if run is None:
            continue
        c1, headers = run
        c2 = c1 + len(headers)
        data = grid[r + 1 :]
        while data and all(v in ("", None) for v in data[-1][c1:c2]):
            data.pop()
        keys = column_keys(spec, headers)
        layout = TableLayout(spec, sheet, None, r + 1, c1, headers, keys, r + 1 + len(data))
        return layout, data
    raise WorkbookError(
        f"{sheet}!A1", f"the {sheet} sheet is empty", "put the column headers in the first row"
    )


def column_keys(spec: TableSpec, headers: Sequence[str]) -> list[str]:
    """Canonical key per header; user columns keep their header; a second column mapping to
    the same key is treated as a user column so nothing is written to it by accident."""
    seen: set[str] = set()
    keys = []
    for header in headers:
        key = match_header(spec, header)
        if key is None or key in seen:
            keys.append(header)
        else:
            seen.add(key)
            keys.append(key)
    return keys


def score(spec: TableSpec, headers: Sequence[str]) -> int:
    return len({match_header(spec, h) for h in headers} - {None})


def has_pk(spec: TableSpec, headers: Sequence[str]) -> bool:
    keys = {match_header(spec, h) for h in headers}
    return all(k in keys for k in spec.pk)


def named_as_other(spec: TableSpec, *names: str) -> bool:
    """Whether a table or sheet name is the name of a CRM table other than ``spec``."""
    for other in TABLES.values():
        if other.key == spec.key:
            continue
        known = {normalize_label(n) for n in (other.name, other.zh, other.key)}
        if any(normalize_label(n) in known for n in names):
            return True
    return False
