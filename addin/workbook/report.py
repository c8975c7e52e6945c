"""Sheets that xlcrm owns: a Dashboard, a Reminders list — rewritten whole on every refresh.

A CRM table is the user's data and is only ever patched cell by cell. A report sheet is the
opposite: xlcrm computes it, so each refresh replaces the sheet (its cells, its Excel Tables,
its charts) in the same atomic save as the table changes it goes with. People read and filter
it; whatever they type into it is gone at the next refresh, which the sheet's heading says.

The layout is described here, independent of the backend: blocks of values at a position,
optionally made into an Excel Table, and native charts over a block's columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ChartKind = Literal["bar", "column", "line", "pie", "doughnut", "scatter"]


@dataclass
class Block:
    """A rectangle of values with its top-left cell at ``row``, ``col`` (1-based).

    With ``table``, the block becomes an Excel Table of that name and its first row must be
    the headers (unique, non-empty text). Text is always written as text, never a formula.
    """

    row: int
    col: int
    rows: list[list[Any]]
    title: str | None = None  # bold, in the row above the block
    table: str | None = None
    formats: dict[int, str] = field(default_factory=dict)  # column offset -> number format
    # The first row names the columns: bold, wrapped (two short lines rather than one wide
    # column) and right-aligned over columns of numbers, so that each header sits over its
    # figures. A table's first row is its header row, bold and right-aligned likewise.
    header: bool = False

    def alignments(self) -> dict[int, str]:
        """How each column lines up: ``"right"`` over numbers; ``"indent"`` (left, one step
        in) for text just right of a column of numbers, which would otherwise touch it."""
        right = set(self.right_columns())
        out = {j: "right" for j in right}
        for j in range(1, self.width):
            if j not in right and j - 1 in right:
                out[j] = "indent"
        return out

    def right_columns(self) -> list[int]:
        """Column offsets that hold numbers (and blanks) below the header: their cells, the
        header included, are right-aligned, as Excel aligns numbers."""
        body = self.rows[1:] if (self.header or self.table) else self.rows
        out = []
        for j in range(self.width):
            values = [r[j] for r in body if j < len(r) and r[j] is not None]
            if values and all(_is_number(v) for v in values):
                out.append(j)
        return out

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    @property
    def height(self) -> int:
        return len(self.rows)


def _is_number(value: Any) -> bool:
    import datetime as dt

    return isinstance(value, (int, float, dt.date)) and not isinstance(value, bool)


@dataclass
class PageSetup:
    """How the sheet prints: people print a dashboard to take it to a meeting, and a sheet
    that spills over dozens of portrait pages, charts cut from their figures, is no use."""

    landscape: bool = True
    fit_width: bool = True  # one page wide, as many pages tall as needed
    print_area: str | None = None  # an A1 range, e.g. "A1:R120"
    breaks: list[int] = field(default_factory=list)  # 1-based rows that start a new page
    # left, right, top, bottom in inches (header and footer get a third of top and bottom):
    # narrower than Excel's default 0.7/0.75, so a page holds a table with its chart.
    margins: tuple[float, float, float, float] = (0.4, 0.4, 0.5, 0.5)


@dataclass
class Chart:
    """A native chart over a block: categories from its first column, one series per value
    column (named by the header cell), data rows below the header row."""

    kind: ChartKind
    title: str
    block: Block
    values: tuple[int, ...] = (1,)
    anchor: str = "H2"
    width_cm: float = 15
    height_cm: float = 7.5
    # The last cell the chart covers: it then spans anchor..to whatever the widths and
    # heights (the same cells in Excel and LibreOffice, whose default column widths differ),
    # so it prints beside the rows it belongs to. Without it: width_cm × height_cm.
    to: str | None = None
    x_title: str | None = None
    y_title: str | None = None
    stacked: bool = False


@dataclass
class ReportSheet:
    """A whole sheet that xlcrm writes: ``book.put_sheet(sheet)``, then ``book.save()``."""

    name: str
    blocks: list[Block] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)  # 1-based column -> width
    heights: dict[int, float] = field(default_factory=dict)  # 1-based row -> points
    heading: str | None = None  # large and bold in A1
    page: PageSetup | None = None
    # A new sheet goes first among the tabs (where people look), not after the last one;
    # a sheet that exists keeps the place its user gave it.
    first: bool = False

    def check(self) -> None:
        """Refuse layouts Excel would reject (overlapping tables, bad headers, bad anchors)."""
        from ..errors import XlcrmError
        from .cells import MAX_COLUMNS, MAX_ROWS, parse_range

        where = f"{self.name} (report sheet)"
        if not self.name or len(self.name) > 31 or any(c in self.name for c in "[]:*?/\\"):
            raise XlcrmError(where, "is not a valid sheet name (1-31 characters, no []:*?/\\)")
        names: set[str] = set()
        for block in self.blocks:
            if block.row < 1 or block.col < 1:
                raise XlcrmError(
                    where, f"a block starts outside the sheet ({block.row}, {block.col})"
                )
            if block.row + block.height > MAX_ROWS or block.col + block.width > MAX_COLUMNS:
                raise XlcrmError(where, "a block reaches past Excel's last row or column")
            if block.table is None:
                continue
            if not block.rows:
                raise XlcrmError(where, f"table {block.table!r} has no header row")
            headers = block.rows[0]
            if any(not isinstance(h, str) or not h.strip() for h in headers) or len(
                {h.casefold() for h in headers}
            ) != len(headers):
                raise XlcrmError(where, f"table {block.table!r} needs unique text headers")
            if block.table.casefold() in names:
                raise XlcrmError(where, f"two tables are called {block.table!r}")
            names.add(block.table.casefold())
        if self.page is not None and self.page.print_area is not None:
            try:
                parse_range(self.page.print_area)
            except ValueError:
                raise XlcrmError(where, f"bad print area {self.page.print_area!r}") from None
        for chart in self.charts:
            if chart.block not in self.blocks:
                raise XlcrmError(where, f"chart {chart.title!r} draws a block not on the sheet")
            if not chart.values or any(v < 1 or v >= chart.block.width for v in chart.values):
                raise XlcrmError(where, f"chart {chart.title!r} has no such value column")
            try:
                r1, c1, _, _ = parse_range(chart.anchor)
                if chart.to is not None:
                    r2, c2, _, _ = parse_range(chart.to)
                    if r2 < r1 or c2 < c1:
                        raise ValueError(chart.to)
            except ValueError:
                raise XlcrmError(
                    where, f"chart {chart.title!r}: bad anchor {chart.anchor!r} – {chart.to!r}"
                ) from None
