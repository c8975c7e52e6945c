"""The narrowest stand-in for the part of xlwings' object model that ``LiveBook`` uses.

Desktop Excel cannot run here, so ``addin/workbook/livebook.py`` is tested against this: an
in-memory grid behind App / Book / Sheets / Sheet / Range / Table / Chart objects that have only
the attributes LiveBook calls. Every class has ``__slots__``, so using any attribute the
stand-in does not define — reading or setting it — raises ``AttributeError`` instead of passing
silently. Every call that would cross to Excel is counted in ``App.calls`` so that tests can
assert reads and writes are bulk.

What it models, from xlwings' documentation (https://docs.xlwings.org/en/stable/datastructures.html
and ``help(xlwings.Range)``, xlwings 0.37):

* ``Range.value`` reads: ``None`` for an empty cell, ``float`` for every number ("numbers
  default to float"), ``datetime.datetime`` for a date cell ("dates: datetime"), ``bool``, text;
  a single cell is a scalar, one row or column a 1-D list, else a 2-D list — with
  ``options(ndim=2)`` always a 2-D list.
* ``Range.value = …`` writes from the top-left cell in the shape of the data (a 2-D list a
  rectangle, a 1-D list a row, a scalar every cell of the range). Excel parses written text as
  if typed: a leading ``'`` makes the rest text (and is not part of the value), text starting
  with ``=`` ``+`` ``-`` ``@`` becomes a formula, numbers and TRUE/FALSE become values, ISO dates
  become dates. Reading a formula cell raises, because this stand-in does not calculate — and
  no CRM write should ever make one.
* ``Range.formula`` (a string for one cell, a tuple of row tuples otherwise), ``address``
  (``$A$1:$B$2``), ``number_format``, ``column_width``, ``font.bold`` / ``font.size``.
* Excel Tables (ListObjects): ``name``, ``range``, ``header_row_range``, ``data_body_range``,
  ``resize(range)`` (headers stay in place; a new column's header comes from its cell) and
  ``sheet.tables.add``; table names are unique in the workbook, tables may not overlap.
* Sheets: ``add(name, before=, after=)``, ``delete()``, ``clear_contents()``, ``used_range``,
  ``page_setup.print_area``, and the native properties LiveBook sets: ``api.Visible`` (COM's
  ``xlSheetVisibility``), ``api.PageSetup`` (orientation, fit, margins), ``api.HPageBreaks``.
* ``Range.row_height``, ``wrap_text`` and ``api.HorizontalAlignment`` / ``api.IndentLevel``.
* ``App.alert``, ``App.status_bar``, ``App.screen_updating``; charts via ``sheet.charts.add``.

:class:`LiveBackend` opens a path as a LiveBook over a stand-in seeded from the file with
openpyxl the first time, and over the same in-memory workbook after that (the shape of the
Table contract suite's backends in ``tests/backends.py``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl

from addin.workbook.cells import column_letter, parse_range, range_ref
from addin.workbook.livebook import LiveBook

XL_VISIBLE, XL_HIDDEN, XL_VERY_HIDDEN = -1, 0, 2  # XlSheetVisibility
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")

Cell = tuple[int, int]  # (row, column), both 1-based as in xlwings


class Formula(str):
    """What a formula cell holds (its text); reading its value is refused (no calculation)."""

    __slots__ = ()


def typed_in(value: Any) -> Any:
    """What Excel stores when ``value`` is written to a cell (see the module docstring)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        if value.startswith("'"):
            return value[1:] or None
        if value == "":
            return None
        if _NUMBER.match(value.strip()):
            return float(value)
        if value[0] in "=+-@":
            return Formula(value if value[0] == "=" else "=" + value)
        if value.upper() in ("TRUE", "FALSE"):
            return value.upper() == "TRUE"
        if m := _ISO_DATE.match(value):
            return dt.datetime(int(m[1]), int(m[2]), int(m[3]))
        return value
    raise TypeError(f"xlwings cannot write {type(value).__name__}")


class App:
    __slots__ = ("alerts", "books", "calls", "screen_updating", "status_bar", "status_history")

    def __init__(self) -> None:
        self.books: list[Book] = []
        self.calls: Counter[str] = Counter()
        self.alerts: list[dict[str, Any]] = []
        self.screen_updating = True
        self.status_bar: str | bool = False
        self.status_history: list[str | bool] = []

    def alert(
        self,
        prompt: str,
        title: str | None = None,
        buttons: str = "ok",
        mode: str | None = None,
        callback: str | None = None,
    ) -> str:
        if mode not in (None, "info", "critical"):
            raise ValueError(f"mode must be info or critical, not {mode!r}")
        self.alerts.append({"prompt": prompt, "title": title, "buttons": buttons, "mode": mode})
        return "ok"

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "status_bar" and hasattr(self, "status_history"):
            self.status_history.append(value)
        object.__setattr__(self, name, value)


class Book:
    __slots__ = ("_sheets", "app", "fullname", "name", "selection")

    def __init__(self, app: App, fullname: str) -> None:
        self.app = app
        self.selection: Range | None = None  # what the person selected; tests set it
        self.fullname = fullname
        self.name = Path(fullname).name
        self._sheets: list[Sheet] = []
        app.books.append(self)

    @property
    def sheets(self) -> Sheets:
        return Sheets(self)

    def tables(self) -> Iterator[Table]:
        for sheet in self._sheets:
            yield from sheet._tables

    # -- for tests: what a person would see ----------------------------------------------------

    def sheet(self, name: str) -> Sheet:
        return self.sheets[name]


class Sheets:
    __slots__ = ("_book",)

    def __init__(self, book: Book) -> None:
        self._book = book

    def __iter__(self) -> Iterator[Sheet]:
        return iter(list(self._book._sheets))

    def __len__(self) -> int:
        return len(self._book._sheets)

    def __getitem__(self, key: int | str) -> Sheet:
        if isinstance(key, int):
            return self._book._sheets[key]
        for sheet in self._book._sheets:
            if sheet._name.casefold() == key.casefold():
                return sheet
        raise KeyError(key)

    def add(
        self, name: str | None = None, before: Sheet | None = None, after: Sheet | None = None
    ) -> Sheet:
        book = self._book
        book.app.calls["add_sheet"] += 1
        if name is None:
            name = f"Sheet{len(book._sheets) + 1}"
        if name.casefold() in (s._name.casefold() for s in book._sheets):
            raise ValueError(f"Sheet named '{name}' already present in workbook")
        if len(name) > 31 or any(c in name for c in "[]:*?/\\"):
            raise ValueError(f"Excel refuses the sheet name {name!r}")
        sheet = Sheet(book, name)
        if before is not None:
            book._sheets.insert(book._sheets.index(before), sheet)
        elif after is not None:
            book._sheets.insert(book._sheets.index(after) + 1, sheet)
        else:  # xlwings: before the active sheet; the stand-in has none, so first
            book._sheets.insert(0, sheet)
        return sheet


class PageSetupApi:
    """COM's ``Worksheet.PageSetup``: the properties LiveBook sets for printing."""

    __slots__ = (
        "BottomMargin",
        "FitToPagesTall",
        "FitToPagesWide",
        "LeftMargin",
        "Orientation",
        "RightMargin",
        "TopMargin",
        "Zoom",
    )


class HPageBreaksApi:
    """COM's ``Worksheet.HPageBreaks``: ``Add(Before=range)`` puts a break above the range."""

    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows: list[int] = []

    def Add(self, Before: RangeApi) -> None:  # COM's names
        self.rows.append(Before._range.r1)


class SheetApi:
    """The native sheet object: ``Visible`` (COM ``Worksheet.Visible``), ``PageSetup`` and
    ``HPageBreaks``."""

    __slots__ = ("HPageBreaks", "PageSetup", "Visible")

    def __init__(self) -> None:
        self.Visible = XL_VISIBLE
        self.PageSetup = PageSetupApi()
        self.HPageBreaks = HPageBreaksApi()


class PageSetup:
    """xlwings' ``Sheet.page_setup``: only ``print_area``."""

    __slots__ = ("print_area",)

    def __init__(self) -> None:
        self.print_area: str | None = None


class RangeApi:
    """COM's ``Range`` for alignment: ``HorizontalAlignment`` and ``IndentLevel``, recorded
    per cell in ``sheet.looks``."""

    __slots__ = ("_range",)

    def __init__(self, rng: Range) -> None:
        self._range = rng

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "_range":
            object.__setattr__(self, name, value)
            return
        if name not in ("HorizontalAlignment", "IndentLevel"):
            raise AttributeError(f"the stand-in's Range.api has no {name}")
        self._range._count("format")
        for cell in self._range._cells():
            self._range.sheet.looks.setdefault(cell, {})[name] = value


class Sheet:
    __slots__ = (
        "_charts",
        "_name",
        "_tables",
        "api",
        "book",
        "cells",
        "formats",
        "heights",
        "looks",
        "page_setup",
        "widths",
    )

    def __init__(self, book: Book, name: str) -> None:
        self.book = book
        self._name = name
        self.cells: dict[Cell, Any] = {}
        self.formats: dict[Cell, str] = {}
        self.widths: dict[int, float] = {}
        self.heights: dict[int, float] = {}
        self.looks: dict[Cell, dict[str, Any]] = {}  # alignment, wrap
        self._tables: list[Table] = []
        self._charts: list[Chart] = []
        self.api = SheetApi()
        self.page_setup = PageSetup()

    @property
    def name(self) -> str:
        return self._name

    @property
    def index(self) -> int:
        return self.book._sheets.index(self) + 1

    @property
    def tables(self) -> Tables:
        return Tables(self)

    @property
    def charts(self) -> Charts:
        return Charts(self)

    def range(self, cell1: str | Cell, cell2: str | Cell | None = None) -> Range:
        r1, c1, r2, c2 = _bounds(cell1)
        if cell2 is not None:
            q1, d1, q2, d2 = _bounds(cell2)
            r1, c1, r2, c2 = min(r1, q1), min(c1, d1), max(r2, q2), max(c2, d2)
        return Range(self, r1, c1, r2, c2)

    @property
    def used_range(self) -> Range:
        if not self.cells:
            return Range(self, 1, 1, 1, 1)  # Excel: $A$1 for an empty sheet
        rows = [r for r, _ in self.cells]
        cols = [c for _, c in self.cells]
        return Range(self, min(rows), min(cols), max(rows), max(cols))

    def delete(self) -> None:
        self.book.app.calls["delete_sheet"] += 1
        self.book._sheets.remove(self)

    def clear_contents(self) -> None:
        self.book.app.calls["write"] += 1
        self.cells.clear()

    # -- for tests -----------------------------------------------------------------------------

    def value(self, ref: str) -> Any:
        """One cell's stored value, as a person sees it (formulas as their text)."""
        row, col, _, _ = _bounds(ref)
        return self.cells.get((row, col))

    def rows(self) -> list[list[Any]]:
        """The used range's values from A1, formulas as their text."""
        if not self.cells:
            return []
        r2 = max(r for r, _ in self.cells)
        c2 = max(c for _, c in self.cells)
        return [[self.cells.get((r, c)) for c in range(1, c2 + 1)] for r in range(1, r2 + 1)]

    @property
    def formulas(self) -> dict[Cell, str]:
        return {k: v for k, v in self.cells.items() if isinstance(v, Formula)}


def _bounds(cell: str | Cell) -> tuple[int, int, int, int]:
    if isinstance(cell, tuple):
        row, col = cell
        if row < 1 or col < 1:
            raise ValueError(f"no cell {cell}")
        return row, col, row, col
    r1, c1, r2, c2 = parse_range(cell.replace("$", ""))
    return r1, c1 + 1, r2, c2 + 1


class Font:
    __slots__ = ("_range",)

    def __init__(self, rng: Range) -> None:
        self._range = rng

    def _set(self, what: str, value: Any) -> None:
        self._range.sheet.book.app.calls["format"] += 1
        for cell in self._range._cells():
            self._range.sheet.formats[cell] = f"{what}={value}"

    @property
    def bold(self) -> bool:
        raise AttributeError("LiveBook only sets font.bold")

    @bold.setter
    def bold(self, value: bool) -> None:
        self._set("bold", value)

    @property
    def size(self) -> float:
        raise AttributeError("LiveBook only sets font.size")

    @size.setter
    def size(self, value: float) -> None:
        self._set("size", value)


class Range:
    __slots__ = ("_ndim", "c1", "c2", "r1", "r2", "sheet")

    def __init__(self, sheet: Sheet, r1: int, c1: int, r2: int, c2: int, ndim: int | None = None):
        self.sheet = sheet
        self.r1, self.c1, self.r2, self.c2 = r1, c1, r2, c2
        self._ndim = ndim

    def _count(self, what: str) -> None:
        self.sheet.book.app.calls[what] += 1

    def _cells(self) -> Iterator[Cell]:
        for r in range(self.r1, self.r2 + 1):
            for c in range(self.c1, self.c2 + 1):
                yield r, c

    def options(self, **options: Any) -> Range:
        if set(options) != {"ndim"} or options["ndim"] != 2:
            raise TypeError(f"the stand-in models options(ndim=2) only, not {options}")
        return Range(self.sheet, self.r1, self.c1, self.r2, self.c2, ndim=2)

    @property
    def address(self) -> str:
        first = f"${column_letter(self.c1 - 1)}${self.r1}"
        if (self.r1, self.c1) == (self.r2, self.c2):
            return first
        return f"{first}:${column_letter(self.c2 - 1)}${self.r2}"

    @property
    def shape(self) -> tuple[int, int]:
        return self.r2 - self.r1 + 1, self.c2 - self.c1 + 1

    @property
    def value(self) -> Any:
        self._count("read")
        cells = self.sheet.cells
        grid = []
        for r in range(self.r1, self.r2 + 1):
            row = []
            for c in range(self.c1, self.c2 + 1):
                v = cells.get((r, c))
                if isinstance(v, Formula):
                    raise AssertionError(
                        f"{self.sheet.name}!{column_letter(c - 1)}{r} holds the formula {v}: "
                        "the stand-in does not calculate (and xlcrm should write none)"
                    )
                row.append(v)
            grid.append(row)
        if self._ndim == 2:
            return grid
        if len(grid) == 1 and len(grid[0]) == 1:
            return grid[0][0]
        if len(grid) == 1:
            return grid[0]
        if all(len(row) == 1 for row in grid):
            return [row[0] for row in grid]
        return grid

    @value.setter
    def value(self, data: Any) -> None:
        self._count("write")
        cells = self.sheet.cells
        if isinstance(data, list | tuple) and data and isinstance(data[0], list | tuple):
            width = len(data[0])
            if any(len(row) != width for row in data):
                raise ValueError("xlwings writes rectangles: rows of different lengths")
            rows = data
        elif isinstance(data, list | tuple):
            rows = [data]
        else:
            rows = [[data] * self.shape[1]] * self.shape[0]
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                stored = typed_in(v)
                key = (self.r1 + i, self.c1 + j)
                if stored is None:
                    cells.pop(key, None)
                else:
                    cells[key] = stored

    @property
    def formula(self) -> Any:
        self._count("read_formula")

        def text(cell: Cell) -> str:
            v = self.sheet.cells.get(cell)
            if v is None:
                return ""
            if isinstance(v, Formula | str):
                return str(v)
            if isinstance(v, bool):
                return "TRUE" if v else "FALSE"
            return str(v)

        if self.shape == (1, 1):
            return text((self.r1, self.c1))
        return tuple(
            tuple(text((r, c)) for c in range(self.c1, self.c2 + 1))
            for r in range(self.r1, self.r2 + 1)
        )

    @property
    def number_format(self) -> str | None:
        self._count("read_format")
        formats = {self.sheet.formats.get(cell, "General") for cell in self._cells()}
        return formats.pop() if len(formats) == 1 else None

    @number_format.setter
    def number_format(self, code: str) -> None:
        self._count("format")
        for cell in self._cells():
            self.sheet.formats[cell] = code

    @property
    def column_width(self) -> float:
        raise AttributeError("LiveBook only sets column_width")

    @column_width.setter
    def column_width(self, width: float) -> None:
        self._count("format")
        for c in range(self.c1, self.c2 + 1):
            self.sheet.widths[c] = width

    @property
    def row_height(self) -> float:
        raise AttributeError("LiveBook only sets row_height")

    @row_height.setter
    def row_height(self, height: float) -> None:
        self._count("format")
        for r in range(self.r1, self.r2 + 1):
            self.sheet.heights[r] = height

    @property
    def wrap_text(self) -> bool:
        raise AttributeError("LiveBook only sets wrap_text")

    @wrap_text.setter
    def wrap_text(self, value: bool) -> None:
        self._count("format")
        for cell in self._cells():
            self.sheet.looks.setdefault(cell, {})["wrap"] = value

    @property
    def api(self) -> RangeApi:
        return RangeApi(self)

    @property
    def font(self) -> Font:
        return Font(self)

    def overlaps(self, other: Range) -> bool:
        return not (
            self.r2 < other.r1 or other.r2 < self.r1 or self.c2 < other.c1 or other.c2 < self.c1
        )


class Table:
    __slots__ = ("name", "ref", "sheet", "style")

    def __init__(self, sheet: Sheet, name: str, ref: tuple[int, int, int, int], style: str):
        self.sheet = sheet
        self.name = name
        self.ref = ref  # r1, c1, r2, c2: 1-based
        self.style = style

    @property
    def range(self) -> Range:
        return Range(self.sheet, *self.ref)

    @property
    def header_row_range(self) -> Range:
        r1, c1, _, c2 = self.ref
        return Range(self.sheet, r1, c1, r1, c2)

    @property
    def data_body_range(self) -> Range | None:
        r1, c1, r2, c2 = self.ref
        return None if r2 == r1 else Range(self.sheet, r1 + 1, c1, r2, c2)

    def resize(self, rng: Range) -> None:
        """``ListObject.Resize``: the header row stays where it is; new header cells that are
        empty get Excel's ``ColumnN`` names; the table may not run into another one."""
        self.sheet.book.app.calls["resize"] += 1
        r1, c1, _, _ = self.ref
        if (rng.r1, rng.c1) != (r1, c1) or rng.sheet is not self.sheet:
            raise ValueError("Resize keeps the header row and the first column in place")
        _check_free(self.sheet, rng, self)
        for c in range(c1, rng.c2 + 1):
            if self.sheet.cells.get((r1, c)) in (None, ""):
                self.sheet.cells[(r1, c)] = f"Column{c - c1 + 1}"
        self.ref = (rng.r1, rng.c1, rng.r2, rng.c2)

    def headers(self) -> list[Any]:
        r1, c1, _, c2 = self.ref
        return [self.sheet.cells.get((r1, c)) for c in range(c1, c2 + 1)]

    @property
    def address(self) -> str:
        return range_ref(self.ref[0], self.ref[1] - 1, self.ref[2], self.ref[3] - 1)


def _check_free(sheet: Sheet, rng: Range, table: Table | None) -> None:
    for other in sheet._tables:
        if other is not table and other.range.overlaps(rng):
            raise ValueError(f"a table cannot overlap the table {other.name}")


class Tables:
    __slots__ = ("_sheet",)

    def __init__(self, sheet: Sheet) -> None:
        self._sheet = sheet

    def __iter__(self) -> Iterator[Table]:
        return iter(list(self._sheet._tables))

    def __len__(self) -> int:
        return len(self._sheet._tables)

    def add(
        self,
        source: Range | None = None,
        name: str | None = None,
        table_style_name: str = "TableStyleMedium2",
    ) -> Table:
        book = self._sheet.book
        book.app.calls["add_table"] += 1
        if not isinstance(source, Range):
            raise TypeError("'source' must be a Range")
        name = name or f"Table{sum(1 for _ in book.tables()) + 1}"
        if name.casefold() in (t.name.casefold() for t in book.tables()):
            raise ValueError(f"a table named {name!r} exists in the workbook")
        _check_free(self._sheet, source, None)
        table = Table(self._sheet, name, (source.r1, source.c1, source.r2, source.c2), "")
        table.style = table_style_name
        for c in range(source.c1, source.c2 + 1):
            if self._sheet.cells.get((source.r1, c)) in (None, ""):
                self._sheet.cells[(source.r1, c)] = f"Column{c - source.c1 + 1}"
        self._sheet._tables.append(table)
        return table


class Axis:
    __slots__ = ("title",)

    def __init__(self) -> None:
        self.title: str | None = None


class Chart:
    __slots__ = (
        "anchor",
        "category_axis",
        "chart_type",
        "height",
        "plot_by",
        "source",
        "title",
        "value_axis",
        "width",
        "x_values",
    )

    def __init__(self, **kw: Any) -> None:
        for key, value in kw.items():
            setattr(self, key, value)
        self.title: str | None = None
        self.x_values: str | None = None
        self.category_axis = Axis()
        self.value_axis = Axis()

    def set_x_axis_values(self, source: Range) -> None:
        self.x_values = source.address


class Charts:
    __slots__ = ("_sheet",)

    def __init__(self, sheet: Sheet) -> None:
        self._sheet = sheet

    def __iter__(self) -> Iterator[Chart]:
        return iter(list(self._sheet._charts))

    def add(
        self,
        left: float = 0,
        top: float = 0,
        width: float = 355,
        height: float = 211,
        chart_type: str | None = None,
        source: Range | None = None,
        plot_by: str | None = None,
        anchor: Range | None = None,
    ) -> Chart:
        self._sheet.book.app.calls["add_chart"] += 1
        if anchor is not None and (left or top):
            raise ValueError("You must either provide 'anchor' or 'top'/'left', but not both.")
        if plot_by is not None and source is None:
            raise ValueError("'plot_by' requires 'source'.")
        chart = Chart(
            chart_type=chart_type,
            source=source.address if source is not None else None,
            plot_by=plot_by,
            anchor=anchor.address if anchor is not None else None,
            width=width,
            height=height,
        )
        self._sheet._charts.append(chart)
        return chart


# -- seeding from a real workbook file ----------------------------------------------------------


def _read_value(value: Any) -> Any:
    """An openpyxl cell value as Excel holds it (numbers are doubles, dates datetimes)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str) and value.startswith("="):
        return Formula(value)
    return None if value == "" else value


def seed_book(path: str | Path, app: App | None = None) -> Book:
    """A stand-in book holding what the workbook file at ``path`` holds (read with openpyxl):
    sheets in order with their visibility, cell values, number formats and Excel Tables."""
    app = app or App()
    book = Book(app, str(Path(path).resolve()))
    source = openpyxl.load_workbook(path)
    for ws in source.worksheets:
        sheet = Sheet(book, ws.title)
        sheet.api.Visible = {"visible": XL_VISIBLE, "hidden": XL_HIDDEN}.get(
            ws.sheet_state, XL_VERY_HIDDEN
        )
        for row in ws.iter_rows():
            for cell in row:
                value = _read_value(cell.value)
                if value is not None:
                    sheet.cells[(cell.row, cell.column)] = value
                if cell.number_format and cell.number_format != "General":
                    sheet.formats[(cell.row, cell.column)] = cell.number_format
        for table in ws.tables.values():
            r1, c1, r2, c2 = parse_range(table.ref)
            style = table.tableStyleInfo.name if table.tableStyleInfo else ""
            sheet._tables.append(Table(sheet, table.displayName, (r1, c1 + 1, r2, c2 + 1), style))
        book._sheets.append(sheet)
    return book


class LiveBackend:
    """The live backend for the Table contract suite: ``open(path)`` is a LiveBook over a
    stand-in seeded from the file the first time a path is seen, over the same in-memory
    workbook after that (as desktop Excel keeps a workbook open between commands)."""

    name = "live"

    def __init__(self) -> None:
        self.books: dict[Path, Book] = {}

    def open(self, path: str | Path) -> LiveBook:
        key = Path(path).resolve()
        if key not in self.books:
            self.books[key] = seed_book(key)
        return LiveBook(self.books[key])

    def book(self, path: str | Path) -> Book:
        """The stand-in workbook behind ``path``, to look at what Excel would show."""
        return self.books[Path(path).resolve()]
