"""A stand-in for Excel as the Office.js client sees it, in Python, for the service's tests.

Excel cannot run here. This holds a workbook as the JavaScript API shows it — cell values as
``Range.values`` gives them (dates as serial numbers, ``""`` for an empty cell), Excel Tables
with their ranges, sheet visibility — and does what ``addin/web/js/client.js`` does with it:
build the inventory, read the ranges a plan asks for (only those columns), and apply the
actions of an answer. It is seeded from a real .xlsx (read with openpyxl) and can be written
back to one, so a test can compare a workbook changed through the service with the same
workbook changed by the CLI.

What it does not model: Excel's own parsing of typed text (the client writes every string with
the text prefix, so the value stored is the string itself), formulas, and formatting beyond
number formats.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl

from addin.remote.protocol import filter_key
from addin.workbook.cells import parse_range, range_ref

EPOCH = dt.datetime(1899, 12, 30)


def serial(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return round((value - EPOCH).total_seconds() / 86400, 9)
    if isinstance(value, dt.date):
        return (value - EPOCH.date()).days
    return value


@dataclass
class Sheet:
    name: str
    cells: dict[tuple[int, int], Any] = field(default_factory=dict)  # (row 1-based, col 0-based)
    formats: dict[tuple[int, int], str] = field(default_factory=dict)
    visibility: str = "Visible"
    charts: list[dict[str, Any]] = field(default_factory=list)

    def get(self, row: int, col: int) -> Any:
        return self.cells.get((row, col), "")

    def put(self, row: int, col: int, value: Any) -> None:
        if value in ("", None):
            self.cells.pop((row, col), None)
        else:
            self.cells[(row, col)] = value

    def used(self) -> tuple[int, int, int, int] | None:
        if not self.cells:
            return None
        rows = [r for r, _ in self.cells]
        cols = [c for _, c in self.cells]
        return min(rows), min(cols), max(rows), max(cols)


@dataclass
class XlTable:
    name: str
    sheet: str
    r1: int
    c1: int
    r2: int
    c2: int

    @property
    def address(self) -> str:
        return range_ref(self.r1, self.c1, self.r2, self.c2)


class ApplyError(Exception):
    """An action the host cannot apply (the client would fail and leave the workbook as is)."""


class OfficeHost:
    """An in-memory workbook with the client's read and apply logic."""

    def __init__(self) -> None:
        self.sheets: dict[str, Sheet] = {}
        self.tables: list[XlTable] = []
        self.selection: dict[str, str] | None = None
        self.downloads: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.page_layouts: dict[str, dict[str, Any]] = {}  # sheet -> its page_layout action

    @classmethod
    def from_xlsx(cls, path: Path) -> OfficeHost:
        host = cls()
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            sheet = Sheet(
                ws.title,
                visibility={"visible": "Visible", "hidden": "Hidden"}.get(
                    ws.sheet_state, "VeryHidden"
                ),
            )
            for row in ws.iter_rows():
                for cell in row:
                    if cell.value not in (None, ""):
                        sheet.cells[(cell.row, cell.column - 1)] = serial(cell.value)
            host.sheets[ws.title] = sheet
            for table in ws.tables.values():
                r1, c1, r2, c2 = parse_range(table.ref)
                host.tables.append(XlTable(table.displayName, ws.title, r1, c1, r2, c2))
        return host

    @classmethod
    def from_large_xlsx(cls, path: Path) -> OfficeHost:
        """The same as :meth:`from_xlsx` for workbooks of 100,000 rows, read with calamine
        (openpyxl needs minutes for those)."""
        from addin.workbook import FileBook

        host = cls()
        book = FileBook(path)
        try:
            info = book._info
            for entry in info.sheets:
                sheet = Sheet(
                    entry.name,
                    visibility={"visible": "Visible", "hidden": "Hidden"}.get(
                        entry.state, "VeryHidden"
                    ),
                )
                for r, row in enumerate(book._values(entry.name), start=1):
                    for c, value in enumerate(row):
                        if value not in (None, ""):
                            sheet.cells[(r, c)] = serial(value)
                host.sheets[entry.name] = sheet
            for table in info.tables:
                r1, c1, r2, c2 = parse_range(table.ref)
                host.tables.append(XlTable(table.display_name, table.sheet, r1, c1, r2, c2))
        finally:
            book.close()
        return host

    # -- what client.js reads ------------------------------------------------------------------

    def inventory(self) -> dict[str, Any]:
        sheets = []
        for sheet in self.sheets.values():
            used = sheet.used()
            entry: dict[str, Any] = {"name": sheet.name, "visibility": sheet.visibility}
            if used:
                r1, c1, r2, c2 = used
                entry["used"] = range_ref(r1, c1, r2, c2)
                entry["first_row"] = [sheet.get(r1, c) for c in range(c1, c2 + 1)]
            sheets.append(entry)
        tables = [
            {
                "name": t.name,
                "sheet": t.sheet,
                "address": t.address,
                "headers": [self.sheets[t.sheet].get(t.r1, c) for c in range(t.c1, t.c2 + 1)],
            }
            for t in self.tables
        ]
        return {"sheets": sheets, "tables": tables}

    def state(self) -> dict[str, str]:
        sheet = self.sheets.get("_xlcrm")
        if sheet is None or not sheet.cells:
            return {}
        out = {}
        last = max(r for r, _ in sheet.cells)
        width = max(c for _, c in sheet.cells) + 1
        for row in range(2, last + 1):
            key = sheet.get(row, 0)
            if isinstance(key, str) and key:
                out[key] = "".join(str(sheet.get(row, c)) for c in range(1, width))
        return out

    def read(self, reads: dict[str, Any]) -> dict[str, Any]:
        tables = {}
        for key, read in reads.items():
            sheet = self.sheets[read["sheet"]]
            r1, c1, r2, c2 = parse_range(read["address"])
            columns = read.get("columns")
            offsets = columns if columns is not None else list(range(c2 - c1 + 1))
            last_used = max(
                (r for (r, c) in sheet.cells if r1 <= r <= r2 and c1 <= c <= c2), default=r1
            )
            rows = [[sheet.get(r, c1 + j) for j in offsets] for r in range(r1 + 1, r2 + 1)]
            tables[key] = {
                "sheet": read["sheet"],
                "table": read.get("table"),
                "address": read["address"],
                "columns": columns,
                "header": [sheet.get(r1, c) for c in range(c1, c2 + 1)],
                "rows": rows,
                "last_used_row": last_used,
            }
            if read.get("filter"):
                tables[key].update(self._filtered(read["filter"], sheet, r1, c1, r2, rows))
        return tables

    @staticmethod
    def _filtered(
        spec: dict[str, Any], sheet: Sheet, r1: int, c1: int, r2: int, rows: list[list[Any]]
    ) -> dict[str, Any]:
        """A plan's row filter, as excel-read.js applies it: the kept rows, their places and
        the highest id (``protocol.RowFilter``)."""
        keys = set(spec["keys"])
        places = [
            n
            for n in range(r2 - r1)
            if any(filter_key(sheet.get(r1 + 1 + n, c1 + c)) in keys for c in spec["columns"])
        ]
        highest = None
        if spec.get("id_column") is not None:
            pattern = re.compile(re.escape(spec["id_prefix"]) + r"([0-9]+)", re.IGNORECASE)
            best = -1
            for r in range(r1 + 1, r2 + 1):
                cell = sheet.get(r, c1 + spec["id_column"])
                found = pattern.fullmatch(cell.strip()) if isinstance(cell, str) else None
                if found and int(found[1]) > best:
                    best, highest = int(found[1]), cell.strip()
        return {"rows": [rows[n] for n in places], "rows_at": places, "highest_id": highest}

    def request(self, command: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "protocol": 1,
            "command": command,
            "options": options or {},
            "inventory": self.inventory(),
            "state": self.state(),
            "selection": self.selection,
        }

    # -- what client.js applies ----------------------------------------------------------------

    def apply(self, actions: list[dict[str, Any]], operation: str | None = None) -> bool:
        """All or nothing, like the client: on any failure the workbook is left as it was.
        With the answer's ``operation`` id, an answer already applied changes nothing (the ids
        are kept in the ``_xlcrm`` row ``applied``, as excel-apply.js keeps them); returns
        whether anything was applied."""
        import copy

        applied = self.state().get("applied", "").split()
        if operation and operation in applied:
            return False
        before = copy.deepcopy((self.sheets, self.tables))
        try:
            for action in actions:
                getattr(self, "_" + action["type"])(action)
            if operation and any(a["type"] not in ("message", "download") for a in actions):
                ids = [*self.state().get("applied", "").split(), operation]
                self._state_rows({"applied": " ".join(ids[-50:])}, replace=False)
        except Exception:
            self.sheets, self.tables = before
            raise
        return True

    def _sheet(self, name: str) -> Sheet:
        sheet = self.sheets.get(name)
        if sheet is None:
            raise ApplyError(f"no sheet {name!r}")
        return sheet

    def _table(self, name: str) -> XlTable:
        for table in self.tables:
            if table.name.casefold() == name.casefold():
                return table
        raise ApplyError(f"no table {name!r}")

    def _put_matrix(self, action: dict[str, Any]) -> tuple[int, int, int, int]:
        sheet = self._sheet(action["sheet"])
        r1, c1, r2, c2 = parse_range(action["address"])
        values = action["values"]
        if len(values) != r2 - r1 + 1 or any(len(v) != c2 - c1 + 1 for v in values):
            raise ApplyError(f"values do not fit {action['address']}")
        formats = action.get("number_formats")
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                if value is None:
                    continue
                sheet.put(r1 + i, c1 + j, value)
                if formats and formats[i][j]:
                    sheet.formats[(r1 + i, c1 + j)] = formats[i][j]
        return r1, c1, r2, c2

    def _write(self, action: dict[str, Any]) -> None:
        self._put_matrix(action)

    def _append_rows(self, action: dict[str, Any]) -> None:
        r1, c1, r2, c2 = parse_range(action["address"])
        if action.get("table"):
            table = self._table(action["table"])
            if r1 != table.r2 + 1 or (c1, c2) != (table.c1, table.c2):
                raise ApplyError(f"{action['address']} is not under table {table.name}")
            table.r2 = r2
        self._put_matrix(action)

    def _add_column(self, action: dict[str, Any]) -> None:
        _r1, c1, _r2, _c2 = parse_range(action["address"])
        if action.get("table"):
            table = self._table(action["table"])
            if c1 != table.c2 + 1:
                raise ApplyError(f"{action['address']} is not right of table {table.name}")
            table.c2 = c1
        self._put_matrix(action)

    def _add_sheet(self, action: dict[str, Any]) -> None:
        name = action["sheet"]
        if name in self.sheets:
            if not action.get("replace"):
                raise ApplyError(f"a sheet {name!r} exists")
            del self.sheets[name]
            self.tables = [t for t in self.tables if t.sheet != name]
        elif action.get("first"):  # Worksheet.position = 0: the new sheet is the first tab
            self.sheets = {name: Sheet(name), **self.sheets}
        self.sheets[name] = Sheet(name, visibility=action.get("visibility", "Visible"))

    def _add_table(self, action: dict[str, Any]) -> None:
        r1, c1, r2, c2 = self._put_matrix(action)
        if any(t.name.casefold() == action["table"].casefold() for t in self.tables):
            raise ApplyError(f"a table {action['table']!r} exists")
        self.tables.append(XlTable(action["table"], action["sheet"], r1, c1, max(r2, r1 + 1), c2))

    def _format(self, action: dict[str, Any]) -> None:
        self._sheet(action["sheet"])

    def _page_layout(self, action: dict[str, Any]) -> None:
        self._sheet(action["sheet"])
        if action.get("print_area"):
            parse_range(action["print_area"])
        self.page_layouts[action["sheet"]] = action

    def _chart(self, action: dict[str, Any]) -> None:
        sheet = self._sheet(action["sheet"])
        parse_range(action["source"])
        sheet.charts.append(action)

    def _state(self, action: dict[str, Any]) -> None:
        self._state_rows(action["items"], replace=True)

    def _state_rows(self, items: dict[str, str], *, replace: bool) -> None:
        """One row per key, as excel-apply.js writes it: a changed key's row in place, a new
        key under the last row, a key gone (``replace``) blanked; never the whole sheet."""
        sheet = self.sheets.get("_xlcrm")
        if sheet is None:
            sheet = self.sheets.setdefault("_xlcrm", Sheet("_xlcrm"))
            sheet.visibility = "VeryHidden"
            sheet.cells[(1, 0)] = "key"
            sheet.cells[(1, 1)] = "value"
        rows = {v: r for (r, c), v in sheet.cells.items() if c == 0 and r > 1 and v}
        last = max((r for r, _ in sheet.cells), default=1)

        def clear_row(row: int) -> None:
            for key in [k for k in sheet.cells if k[0] == row]:
                del sheet.cells[key]

        for key, value in sorted(items.items()):
            row = rows.get(key)
            if row is None:
                last += 1
                row = last
            clear_row(row)
            sheet.cells[(row, 0)] = key
            for j in range(0, max(len(value), 1), 32_000):
                sheet.put(row, 1 + j // 32_000, value[j : j + 32_000])
        if replace:
            for key, row in rows.items():
                if key not in items and key != "applied":
                    clear_row(row)

    def _download(self, action: dict[str, Any]) -> None:
        self.downloads.append(action)

    def _message(self, action: dict[str, Any]) -> None:
        self.messages.append(action)
