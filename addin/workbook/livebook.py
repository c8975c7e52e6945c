"""The **live** backend: the workbook open in desktop Excel, through xlwings (Windows and macOS).

When a person has the workbook open, the file backend must refuse to write (Excel would
overwrite the change at its next save, or the file is locked). :class:`LiveBook` instead reads
and writes the open workbook itself, so a ribbon button or a command run beside Excel changes
what the person sees, unsaved edits included.

How it talks to Excel (``docs/design.md``, "One Table API, three backends"):

* **Reads are bulk**: one ``range.options(ndim=2).value`` per table (its data body), one per
  plain sheet searched by headers, one for the ``_xlcrm`` state sheet.
* **Writes are rectangles**: changed cells are grouped per column into runs of adjacent rows,
  and runs with the same rows in adjacent columns into one rectangle; appending 10,000 rows is
  one write. A column changed in many scattered rows (tiers after a report) is written as one
  span from its first to its last changed row, the unchanged cells with the values read — but
  only after one read of that span's formulas shows none would be overwritten.
* **Appended rows** grow the Excel Table (``Table.resize``); the new rows take the number
  formats of the table's last row, one call per column.
* **Text is text**: every string is written with Excel's text prefix ``'`` so that a subject
  from mail such as ``=HYPERLINK(…)`` never becomes a formula and ``00123`` stays ``00123``.
  Dates are written as datetimes (Excel has no date-only value); xlwings reads date cells back
  as ``datetime``, which the Table's readers turn into dates by the column's type.
* **State** lives in the very hidden ``_xlcrm`` sheet (``xlSheetVeryHidden``; see
  :func:`hide_very`, the one place that differs between Windows and macOS).

Atomicity — Excel has no transactions, so this backend does what it can and no more: everything
that can be checked is checked before the first write (a total row in the way, cells in the way
of a new column, sheet names, table shapes); the rows are written next and the ``_xlcrm`` state
last, so a run interrupted half-way (Excel closed, a protected sheet refusing a write) has not
yet recorded its progress and is repeated — not skipped — by the next run, and the CRM's own
idempotence (Message-IDs, ids) keeps the repeat from adding anything twice. Rows written before
an interruption stay in the sheet; Excel's Undo does not cover changes made by a macro.
:meth:`check_unchanged` does nothing: the live workbook is the state itself.

Report sheets (``put_sheet``) are replaced whole: values, number formats, bold headings, column
widths and row heights, alignment and wrapped headers, Excel Tables, native charts
(``sheet.charts.add``) with titles and axis titles, and the print setup (print area, and on
Windows landscape, fit to width, margins and page breaks); a new one may go first. A
chart whose value columns are not side by side is not drawn (its values are; a warning says
so), because one contiguous source range is the only chart source xlwings sets on both
Windows and macOS. New CRM tables (``add_table``) get a sheet, the header and rows, number
formats, widths and an Excel Table in the standard style; unlike the file backend they get no
drop-down lists and no frozen header row.

What is verified here, and what is not: the tests run this module's logic against
``tests/xlwings_standin.py``, an in-memory stand-in for the part of xlwings' object model used
here that models what xlwings documents (values, types, the ``'`` prefix, Excel Tables) and
counts calls. Nothing here has been run against real Excel in this repository: Excel's own
behaviour, the COM (Windows) and appscript (macOS) calls behind xlwings, ``hide_very`` on
macOS, chart rendering and the speed of real calls are not verified.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import Any

from ..errors import WorkbookError, WorkbookLockedError, XlcrmError
from ..schema import STATE_SHEET, TableSpec, column_width
from .book import Book
from .cells import MAX_CELL_TEXT, cell_ref, parse_range, range_ref
from .locate import column_keys, header_run, locate_table, plain_range
from .report import Block, Chart, ReportSheet
from .table import TableChanges, TableLayout, paused_gc

log = logging.getLogger(__name__)

TABLE_STYLE = "TableStyleMedium2"
# A column changed in more separate runs of rows than this is written as one span (see above).
MAX_RUNS = 8
STATE_CHUNK = 32_000  # long state values are split over cells, as in the file backend
_XL_SHEET_VERY_HIDDEN = 2  # XlSheetVisibility.xlSheetVeryHidden
_POINTS_PER_CM = 72 / 2.54
# COM constants (Excel's XlPageOrientation and XlHAlign).
_XL_PORTRAIT, _XL_LANDSCAPE = 1, 2
_XL_LEFT, _XL_RIGHT = -4131, -4152
_CHART_TYPES = {
    ("bar", False): "bar_clustered",
    ("bar", True): "bar_stacked",
    ("column", False): "column_clustered",
    ("column", True): "column_stacked",
    ("line", False): "line",
    ("line", True): "line_stacked",
    ("pie", False): "pie",
    ("pie", True): "pie",
    ("doughnut", False): "doughnut",
    ("doughnut", True): "doughnut",
    ("scatter", False): "xy_scatter",
    ("scatter", True): "xy_scatter",
}


@dataclass
class _TableRef:
    """An Excel Table of the live workbook, as the locator sees it (see ``locate.py``)."""

    name: str
    sheet: str
    ref: tuple[int, int, int, int]  # first row, first col (0-based), last row, last col
    last_data_row: int  # the last row of the data body (the header row when there is none)
    columns: list[str]
    has_header: bool
    xl: Any  # the xlwings Table

    @property
    def display_name(self) -> str:
        return self.name

    @property
    def totals(self) -> bool:
        return self.ref[2] > self.last_data_row


@dataclass
class _Inventory:
    sheets: list[str]
    tables: list[_TableRef]


def hide_very(sheet: Any) -> None:
    """Make ``sheet`` very hidden: not listed under Excel's Unhide, only VBA can show it.

    The one platform difference of this backend: xlwings has no very-hidden setting, so the
    native object is used — COM's ``Visible = xlSheetVeryHidden`` on Windows, appscript's
    ``visible`` property set to ``sheet very hidden`` on macOS (not verified here).
    """
    if sys.platform == "darwin":
        import appscript  # type: ignore[import-not-found]  # xlwings' own dependency on macOS

        sheet.api.visible.set(appscript.k.sheet_very_hidden)
    else:
        sheet.api.Visible = _XL_SHEET_VERY_HIDDEN


def excel_value(value: Any) -> Any:
    """A value as it is handed to Excel: strings behind the text prefix, dates as datetimes."""
    if isinstance(value, str):
        return "'" + value
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    return value


def _address(rng: Any) -> tuple[int, int, int, int]:
    return parse_range(rng.address.replace("$", ""))


def _runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as runs of adjacent rows: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    out: list[tuple[int, int]] = []
    for r in sorted(rows):
        if out and r == out[-1][1] + 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


def _formulas_2d(value: Any) -> list[list[Any]]:
    """``Range.formula`` is a string for one cell and a tuple of row tuples otherwise."""
    if isinstance(value, str | type(None)):
        return [[value]]
    return [list(row) for row in value]


class LiveBook(Book):
    """The workbook open in desktop Excel. Obtain it with :func:`open_live` (or wrap the
    ``xlwings.Book`` a RunPython call gives, as ``addin.desktop`` does)."""

    def __init__(self, xl_book: Any) -> None:
        super().__init__()
        self.xl = xl_book
        self.where = str(xl_book.name)
        self.warnings: list[str] = []
        self._inventory: _Inventory | None = None
        # The data rows as read, by table key (from column A), so that a span write can put
        # back the cells it does not change; kept up to date with every write.
        self._raw: dict[str, list[list[Any]]] = {}

    # -- reading -------------------------------------------------------------------------------

    @property
    def inventory(self) -> _Inventory:
        if self._inventory is None:
            sheets: list[str] = []
            tables: list[_TableRef] = []
            for sheet in self.xl.sheets:
                sheets.append(sheet.name)
                for table in sheet.tables:
                    tables.append(self._table_ref(sheet.name, table))
            self._inventory = _Inventory(sheets, tables)
        return self._inventory

    @staticmethod
    def _table_ref(sheet: str, table: Any) -> _TableRef:
        ref = _address(table.range)
        header = table.header_row_range
        body = table.data_body_range
        columns = (
            [str(v) if v is not None else "" for v in header.options(ndim=2).value[0]]
            if header is not None
            else []
        )
        last = _address(body)[2] if body is not None else ref[0]
        return _TableRef(table.name, sheet, ref, last, columns, header is not None, table)

    def _sheet_names(self) -> list[str]:
        return list(self.inventory.sheets)

    def _sheet(self, name: str) -> Any:
        return self.xl.sheets[name]

    def _read(self, sheet: str, r1: int, c1: int, r2: int, c2: int) -> list[list[Any]]:
        """Cells r1..r2 (1-based) by columns c1..c2 (0-based) in one read, as a 2-D list."""
        if r2 < r1 or c2 < c1:
            return []
        rng = self._sheet(sheet).range((r1, c1 + 1), (r2, c2 + 1))
        values: list[list[Any]] = rng.options(ndim=2).value
        return values

    def _sheet_grid(self, sheet: str) -> list[list[Any]]:
        """A plain sheet's cells from A1 to the end of its used range, in one read."""
        _, _, r2, c2 = _address(self._sheet(sheet).used_range)
        return self._read(sheet, 1, 0, r2, c2)

    def _headers_of(self, sheet: str) -> list[str]:
        for row in self._sheet_grid(sheet):
            run = header_run(row)
            if run is not None:
                return run[1]
        return []

    def _locate(self, spec: TableSpec) -> tuple[TableLayout, list[list[Any]]] | None:
        inv = self.inventory
        found = locate_table(spec, inv.tables, inv.sheets, self._headers_of)
        if found is None:
            return None
        if isinstance(found, str):
            return self._from_sheet(spec, found)
        return self._from_table(spec, found)

    def _from_table(self, spec: TableSpec, table: _TableRef) -> tuple[TableLayout, list[list[Any]]]:
        r1, c1, _, c2 = table.ref
        if not table.has_header:
            raise WorkbookError(
                f"{table.sheet}!{range_ref(*table.ref)}",
                f"the {table.name} table has no header row",
                "turn on 'Header Row' in Excel's Table Design tab",
            )
        last = table.last_data_row
        headers = table.columns
        with paused_gc():
            data = self._read(table.sheet, r1 + 1, c1, last, c2)
            if c1:  # the Table API takes rows from column A on
                pad = [None] * c1
                data = [pad + row for row in data]
        layout = TableLayout(
            spec, table.sheet, table.name, r1, c1, headers, column_keys(spec, headers), last
        )
        self._raw[spec.key] = data
        return layout, data

    def _from_sheet(self, spec: TableSpec, sheet: str) -> tuple[TableLayout, list[list[Any]]]:
        layout, data = plain_range(spec, sheet, self._sheet_grid(sheet))
        self._raw[spec.key] = data
        return layout, data

    def _read_state(self) -> dict[str, str]:
        if STATE_SHEET not in self.inventory.sheets:
            return {}
        out: dict[str, str] = {}
        for row in self._sheet_grid(STATE_SHEET)[1:]:
            if row and isinstance(row[0], str) and row[0]:
                out[row[0]] = "".join(_state_text(v) for v in row[1:] if v not in ("", None))
        return out

    def discard(self) -> None:
        super().discard()
        self._raw.clear()
        self._inventory = None

    def _forget(self, keys: set[str]) -> None:
        for key in keys:
            self._raw.pop(key, None)

    # -- writing -------------------------------------------------------------------------------

    def _commit(
        self,
        changes: list[TableChanges],
        state: dict[str, str] | None,
        sheets: Sequence[ReportSheet] = (),
    ) -> dict[str, TableLayout]:
        for change in changes:  # every check before the first write
            self._check(change)
        app = self.xl.app
        updating = app.screen_updating
        app.screen_updating = False
        try:
            layouts: dict[str, TableLayout] = {}
            for change in changes:
                if change.created:
                    layouts[change.layout.spec.key] = self._create(change)
                else:
                    layouts[change.layout.spec.key] = self._write_table(change)
            for report in sheets:
                self._write_report(report)
            if state is not None:  # last: an interrupted run is repeated, not skipped
                self._write_state(state)
        except XlcrmError:
            raise
        except Exception as exc:  # COM and appscript errors share no base class
            log.debug("Excel refused a write", exc_info=True)
            raise WorkbookError(
                self.where,
                f"Excel refused a change ({exc}); what was written before it stays, the run's "
                "progress was not recorded",
                "check that the sheets are not protected and no cell is being edited, then run "
                "again: nothing already recorded is recorded twice",
            ) from None
        finally:
            app.screen_updating = updating
            self._inventory = None
        return layouts

    def _check(self, change: TableChanges) -> None:
        layout = change.layout
        if change.created:
            return
        table = self._table_named(layout)
        if table is not None and table.totals and change.grows:
            raise XlcrmError(
                f"{layout.sheet}!{range_ref(*table.ref)}",
                f"the {table.name} table has a total row, which xlcrm cannot move down",
                "turn off 'Total Row' in Table Design",
            )
        for j in change.new_columns:
            col = layout.first_col + j
            column = self._read(layout.sheet, layout.header_row, col, layout.last_row, col)
            for r, (value,) in enumerate(column, start=layout.header_row):
                if value not in ("", None):
                    raise XlcrmError(
                        f"{layout.sheet}!{cell_ref(r, col)}",
                        "this cell is in the way of the table gaining a column",
                        "move it elsewhere (or insert an empty column there), then run again",
                    )

    def _table_named(self, layout: TableLayout) -> _TableRef | None:
        if layout.table_name is None:
            return None
        for table in self.inventory.tables:
            if table.name == layout.table_name and table.sheet == layout.sheet:
                return table
        raise WorkbookError(
            f"{layout.sheet}",
            f"the {layout.table_name} table is no longer on this sheet",
            "someone renamed or moved it while xlcrm was running; run again",
        )

    def _write_table(self, change: TableChanges) -> TableLayout:
        layout = change.layout
        sheet = self._sheet(layout.sheet)
        c1 = layout.first_col
        width = len(layout.keys)
        if change.new_columns:
            headers = [[excel_value(layout.headers[j]) for j in change.new_columns]]
            first = c1 + change.new_columns[0]  # new columns are appended, side by side
            sheet.range((layout.header_row, first + 1)).value = headers
        table = self._table_named(layout)
        if table is not None and (change.grows or change.new_columns):
            area = sheet.range(
                (layout.header_row, c1 + 1), (max(change.last_row, layout.last_row), c1 + width)
            )
            table.xl.resize(area)
        if change.grows:
            self._copy_formats(change)
        raw = self._raw.setdefault(layout.spec.key, [])
        for r1, j1, values in self._blocks(change, raw):
            sheet.range((r1, c1 + j1 + 1)).value = [[excel_value(v) for v in row] for row in values]
        self._remember(change, raw)
        return dc_replace(change.layout, last_row=change.last_row)

    def _copy_formats(self, change: TableChanges) -> None:
        """New rows get the number formats of the table's last row, one call per column."""
        layout = change.layout
        template = layout.last_row
        if template <= layout.header_row:
            return
        sheet = self._sheet(layout.sheet)
        first_new = layout.last_row + 1
        for j in range(len(layout.keys)):
            col = layout.first_col + j + 1
            fmt = sheet.range((template, col)).number_format
            if fmt and fmt != "General":
                sheet.range((first_new, col), (change.last_row, col)).number_format = fmt

    def _blocks(
        self, change: TableChanges, raw: list[list[Any]]
    ) -> list[tuple[int, int, list[list[Any]]]]:
        """The rectangles that write ``change``: (first row, first column index, values)."""
        layout = change.layout
        by_col: dict[int, set[int]] = defaultdict(set)
        for r, cells in change.cells.items():
            for j in cells:
                by_col[j].add(r)
        segments: dict[tuple[int, int], list[int]] = defaultdict(list)
        filled: set[int] = set()  # columns written as one span, unchanged cells put back
        for j, rows in by_col.items():
            runs = _runs(rows)
            if len(runs) > MAX_RUNS and self._span_is_plain(layout, j, runs[0][0], runs[-1][1]):
                runs = [(runs[0][0], runs[-1][1])]
                filled.add(j)
            for run in runs:
                segments[run].append(j)
        blocks = []
        for (r1, r2), cols in segments.items():
            for j1, j2 in _runs(cols):  # adjacent columns over the same rows: one rectangle
                values = []
                for r in range(r1, r2 + 1):
                    cells = change.cells.get(r, {})
                    row = []
                    for j in range(j1, j2 + 1):
                        if j in cells:
                            row.append(cells[j])
                        else:  # only in a span checked by _span_is_plain
                            assert j in filled
                            row.append(_raw_cell(raw, r - layout.header_row - 1, layout, j))
                    values.append(row)
                blocks.append((r1, j1, values))
        return blocks

    def _span_is_plain(self, layout: TableLayout, j: int, r1: int, r2: int) -> bool:
        """Whether rewriting rows r1..r2 of column ``j`` with the values read loses nothing:
        no cell there holds a formula (one read of the span's formulas)."""
        col = layout.first_col + j + 1
        formulas = self._sheet(layout.sheet).range((r1, col), (r2, col)).formula
        return not any(
            isinstance(f, str) and f.startswith("=") for row in _formulas_2d(formulas) for f in row
        )

    @staticmethod
    def _remember(change: TableChanges, raw: list[list[Any]]) -> None:
        """Keep the rows as read in step with what was written (for later span writes)."""
        layout = change.layout
        width = layout.first_col + len(layout.keys)
        for r, cells in change.cells.items():
            i = r - layout.header_row - 1
            while len(raw) <= i:
                raw.append([None] * width)
            row = raw[i]
            if len(row) < width:
                row.extend([None] * (width - len(row)))
            for j, value in cells.items():
                row[layout.first_col + j] = _as_read(value)

    # -- new tables ----------------------------------------------------------------------------

    def _create(self, change: TableChanges) -> TableLayout:
        """A new sheet holding the table of ``change``, as ``xlcrm init`` would have made it
        (without drop-down lists and frozen header: see the module docstring)."""
        layout = change.layout
        spec = layout.spec
        columns = [spec.by_key.get(k) for k in layout.keys]
        last_row = max(2, change.last_row)  # an Excel Table needs a data row
        sheets = self.xl.sheets
        sheet = sheets.add(layout.sheet, after=sheets[len(sheets) - 1])
        width = len(columns)
        for j, column in enumerate(columns):
            target = sheet.range((2, j + 1), (last_row, j + 1))
            if column is not None and column.number_format:
                target.number_format = column.number_format
            elif column is not None and column.type == "text":
                target.number_format = "@"
            cell = sheet.range((1, j + 1))
            cell.column_width = (
                column_width(column, self.lang)
                if column is not None
                else 14 + (4 if self.lang == "zh" else 0)
            )
        values = [[excel_value(h) for h in layout.headers]]
        for r in range(2, last_row + 1):
            cells = change.cells.get(r, {})
            values.append([excel_value(cells.get(j)) for j in range(width)])
        sheet.range((1, 1)).value = values
        sheet.range((1, 1), (1, width)).font.bold = True
        area = sheet.range((1, 1), (last_row, width))
        sheet.tables.add(
            source=area, name=layout.table_name or spec.name, table_style_name=TABLE_STYLE
        )
        self._raw[spec.key] = [
            [_as_read(change.cells.get(r, {}).get(j)) for j in range(width)]
            for r in range(2, last_row + 1)
        ]
        return dc_replace(
            layout, last_row=last_row, keys=list(layout.keys), headers=list(layout.headers)
        )

    # -- report sheets -------------------------------------------------------------------------

    def _write_report(self, report: ReportSheet) -> None:
        sheets = self.xl.sheets
        names = [s.name for s in sheets]
        folded = [n.casefold() for n in names]
        if report.name.casefold() in folded:  # xlcrm's own (Book.put_sheet checked): replace
            at = folded.index(report.name.casefold())
            following = names[at + 1] if at + 1 < len(names) else None
            sheets[names[at]].delete()
            if following is not None:
                sheet = sheets.add(report.name, before=sheets[following])
            else:
                sheet = sheets.add(report.name, after=sheets[len(sheets) - 1])
        elif report.first:
            sheet = sheets.add(report.name, before=sheets[0])
        else:
            sheet = sheets.add(report.name, after=sheets[len(sheets) - 1])
        if report.heading:
            cell = sheet.range((1, 1))
            cell.value = excel_value(report.heading)
            cell.font.bold = True
            cell.font.size = 14
        for col, width in report.widths.items():
            sheet.range((1, col)).column_width = width
        for row, height in report.heights.items():
            sheet.range((row, 1)).row_height = height
        for block in report.blocks:
            self._write_block(sheet, block)
        for chart in report.charts:
            self._draw_chart(sheet, report.name, chart)
        if report.page is not None:
            self._page_setup(sheet, report)

    def _page_setup(self, sheet: Any, report: ReportSheet) -> None:
        """How the sheet prints. The print area is xlwings' own (``page_setup``); the rest is
        COM's ``PageSetup`` and ``HPageBreaks`` (Windows), which appscript (macOS) does not
        offer under these names: there a warning says what was left as Excel's default."""
        page = report.page
        assert page is not None
        if page.print_area:
            sheet.page_setup.print_area = page.print_area
        if sys.platform == "darwin":
            self.warnings.append(
                f"{report.name}: orientation, fit to width and page breaks are set on Windows "
                "only; set them in Page Layout to print this sheet as designed"
            )
            return
        setup = sheet.api.PageSetup
        setup.Orientation = _XL_LANDSCAPE if page.landscape else _XL_PORTRAIT
        if page.fit_width:
            setup.Zoom = False
            setup.FitToPagesWide = 1
            setup.FitToPagesTall = False
        left, right, top, bottom = (round(m * 72, 1) for m in page.margins)
        setup.LeftMargin, setup.RightMargin = left, right
        setup.TopMargin, setup.BottomMargin = top, bottom
        for row in page.breaks:
            sheet.api.HPageBreaks.Add(Before=sheet.range((row, 1)).api)

    @staticmethod
    def _write_block(sheet: Any, block: Block) -> None:
        if block.title:
            title = sheet.range((block.row - 1, block.col))
            title.value = excel_value(block.title)
            title.font.bold = True
        width, height = block.width, block.height
        if not width or not height:
            return
        last_col = block.col + width - 1
        for offset, code in block.formats.items():
            first = block.row + (1 if block.table is not None else 0)
            last = block.row + max(1, height - 1)
            col = block.col + offset
            sheet.range((first, col), (last, col)).number_format = code
        rows = [[excel_value(v) for v in row] + [None] * (width - len(row)) for row in block.rows]
        sheet.range((block.row, block.col)).value = rows
        LiveBook._align(sheet, block)
        if block.table is not None:
            sheet.range((block.row, block.col), (block.row, last_col)).font.bold = True
            last = block.row + max(1, height - 1)  # a table needs a data row: an empty one
            area = sheet.range((block.row, block.col), (last, last_col))
            sheet.tables.add(source=area, name=block.table, table_style_name=TABLE_STYLE)

    @staticmethod
    def _align(sheet: Any, block: Block) -> None:
        """Right over numbers, text beside them one step in, a wrapped bold header row
        (``Block.header``). Alignment is the native ``HorizontalAlignment`` / ``IndentLevel``
        (xlwings has no name for it); on macOS it is left as it is."""
        last = block.row + block.height - 1
        if block.header and block.table is None:
            header = sheet.range((block.row, block.col), (block.row, block.col + block.width - 1))
            header.font.bold = True
            header.wrap_text = True
        if sys.platform == "darwin":
            return
        for offset, how in sorted(block.alignments().items()):
            column = sheet.range((block.row, block.col + offset), (last, block.col + offset)).api
            if how == "right":
                column.HorizontalAlignment = _XL_RIGHT
            else:
                column.HorizontalAlignment = _XL_LEFT
                column.IndentLevel = 1

    def _draw_chart(self, sheet: Any, sheet_name: str, chart: Chart) -> None:
        block = chart.block
        values = sorted(chart.values)
        if values != list(range(values[0], values[-1] + 1)):
            self.warnings.append(
                f"{sheet_name}: chart {chart.title!r} was not drawn (its value columns are not "
                "side by side); its figures are on the sheet"
            )
            return
        first, last = block.row + 1, block.row + max(1, block.height - 1)
        source = sheet.range((block.row, block.col + values[0]), (last, block.col + values[-1]))
        made = sheet.charts.add(
            width=chart.width_cm * _POINTS_PER_CM,
            height=chart.height_cm * _POINTS_PER_CM,
            chart_type=_CHART_TYPES[(chart.kind, chart.stacked)],
            source=source,
            plot_by="columns",
            anchor=sheet.range(chart.anchor),
        )
        made.set_x_axis_values(sheet.range((first, block.col), (last, block.col)))
        made.title = chart.title
        if chart.kind not in ("pie", "doughnut"):
            if chart.x_title:
                made.category_axis.title = chart.x_title
            if chart.y_title:
                made.value_axis.title = chart.y_title

    # -- state ---------------------------------------------------------------------------------

    def _write_state(self, state: dict[str, str]) -> None:
        sheets = self.xl.sheets
        if STATE_SHEET in [s.name for s in sheets]:
            sheet = sheets[STATE_SHEET]
            sheet.clear_contents()
        else:
            sheet = sheets.add(STATE_SHEET, after=sheets[len(sheets) - 1])
            hide_very(sheet)
        rows: list[list[Any]] = [["key", "value"]]
        for key, value in sorted(state.items()):
            parts = [value[k : k + STATE_CHUNK] for k in range(0, len(value), STATE_CHUNK)]
            rows.append([key, *(parts or [""])])
        width = max(len(r) for r in rows)
        values = [[excel_value(v) for v in r] + [None] * (width - len(r)) for r in rows]
        sheet.range((1, 1)).value = values


def _state_text(value: Any) -> str:
    """A state cell as text; a value Excel turned into a number (by hand) reads back plainly."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _raw_cell(raw: list[list[Any]], i: int, layout: TableLayout, j: int) -> Any:
    row = raw[i] if 0 <= i < len(raw) else []
    c = layout.first_col + j
    return row[c] if c < len(row) else None


def _as_read(value: Any) -> Any:
    """What reading a cell written with ``value`` gives back (xlwings: datetimes, floats)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and len(value) > MAX_CELL_TEXT:
        return value[:MAX_CELL_TEXT]
    return value


# -- attaching to Excel -------------------------------------------------------------------------


def _same_file(fullname: str, target: Path) -> bool:
    try:
        return Path(fullname).resolve() == target or Path(fullname).samefile(target)
    except OSError:  # an unsaved book ("Book1") or a file on SharePoint has no local path
        return False


def open_live(
    path: str | os.PathLike[str], *, apps: Iterable[Any] | None = None
) -> LiveBook | None:
    """The workbook at ``path`` as open in a running desktop Excel, or None.

    None when it cannot be reached: not Windows or macOS, xlwings not installed (it is the
    optional extra ``xlcrm[desktop]``), Excel not running, or the file not open in it.
    ``apps`` replaces ``xlwings.apps`` (the running Excel instances), for tests.
    """
    target = Path(path).resolve()
    if apps is None:
        if sys.platform not in ("win32", "darwin"):
            return None
        try:
            import xlwings
        except ImportError:
            return None
        apps = xlwings.apps
    try:
        for app in apps:
            for book in app.books:
                if _same_file(book.fullname, target):
                    return LiveBook(book)
    except Exception:  # no Excel, or automation refused: COM/appscript errors vary
        log.debug("could not reach Excel", exc_info=True)
        return None
    return None


def open_book_or_live(
    path: str | os.PathLike[str],
    *,
    password: str | None = None,
    backups: int | None = None,
    apps: Iterable[Any] | None = None,
) -> Book:
    """The workbook at ``path``: the file backend normally; when the workbook is open in Excel
    (its lock file exists, so the file backend would refuse to save), the open workbook
    itself through xlwings if it can be reached; otherwise the file backend's refusal."""
    from . import safety
    from .filebook import open_book

    target = Path(path)
    try:
        safety.check_not_locked(target.resolve())
    except WorkbookLockedError:
        live = open_live(target, apps=apps)
        if live is None:
            raise
        return live
    return open_book(target, password=password, backups=backups)
