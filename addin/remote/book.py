"""The **remote** backend: the workbook as the Office.js client posted it.

A :class:`RemoteBook` is made for one request. It locates CRM tables in the client's inventory
with the same rule as the file backend (:mod:`addin.workbook.locate`), reads them from the
columns the client posted, and turns :meth:`save` into a list of actions (:mod:`.actions`)
that the client applies to the real workbook in one ``Excel.run``. Nothing is written here:
when the client does not apply the actions (a closed task pane, a lost connection), the
workbook simply stays as it was, and the next run starts from there.

What the client reads is only what a command declares (:func:`plan_reads`): the columns it
uses, the key columns, and the rest of the table never leaves Excel. Columns that were not
posted read as empty; rows that hold data only in such columns are never taken for new rows
(``Table.reserved_rows``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from ..errors import UsageError, XlcrmError
from ..schema import TABLES, TableSpec
from ..workbook.book import Book
from ..workbook.cells import parse_range, range_ref
from ..workbook.locate import column_keys, header_run, locate_table
from ..workbook.report import ReportSheet
from ..workbook.table import Columns, TableChanges, TableLayout
from . import protocol as p
from .actions import changes_to_actions, report_to_actions, state_action

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
ALL = "*"  # a command needs every column of a table


def local_address(address: str) -> str:
    """``'My Sheet'!A1:B2`` → ``A1:B2``: Office.js addresses carry the sheet name."""
    return address.rsplit("!", 1)[-1].replace("$", "")


def from_serial(value: Any, *, with_time: bool) -> Any:
    """An Excel serial number as the date (or date and time) it shows; anything else as is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if not 0 < value < 2_958_466:  # 9999-12-31
        return value
    moment = EXCEL_EPOCH + dt.timedelta(days=value)
    if not with_time:
        return moment.date()
    # Serials carry float noise: round to the millisecond a workbook keeps.
    return moment.replace(microsecond=0) + dt.timedelta(
        milliseconds=round(moment.microsecond / 1000)
    )


class RemoteBook(Book):
    """The workbook of one add-in request. ``actions`` holds what :meth:`save` produced."""

    where = "workbook"

    def __init__(self, request: p.PlanRequest) -> None:
        super().__init__()
        self.request = request
        self.inventory = request.inventory
        self.posted: Mapping[str, p.PostedTable] = getattr(request, "tables", {})
        self.actions: list[Any] = []
        self.warnings: list[str] = []
        self._first_rows = {s.name: s for s in request.inventory.sheets}
        self._present: dict[str, set[str]] = {}
        self._columns: dict[str, Columns] = {}

    # -- locating ------------------------------------------------------------------------------

    def _sheet_names(self) -> list[str]:
        return [s.name for s in self.inventory.sheets]

    def _headers_of(self, sheet: str) -> list[str]:
        run = header_run(self._first_rows[sheet].first_row)
        return run[1] if run else []

    def find(self, spec: TableSpec) -> p.Read | None:
        """Where ``spec``'s table is in the workbook (all its columns), or None."""
        found = locate_table(spec, self.inventory.tables, self._sheet_names(), self._headers_of)
        if found is None:
            return None
        if isinstance(found, str):
            sheet = self._first_rows[found]
            if sheet.used is None:
                return None
            r1, c1, r2, _ = parse_range(local_address(sheet.used))
            run = header_run(sheet.first_row)
            assert run is not None  # the locator only picks sheets with headers
            start, headers = run
            first = c1 + start
            return p.Read(
                sheet=found,
                address=range_ref(r1, first, max(r2, r1), first + len(headers) - 1),
            )
        return p.Read(sheet=found.sheet, table=found.name, address=local_address(found.address))

    def _locate(self, spec: TableSpec) -> tuple[TableLayout, Columns] | None:
        posted = self.posted.get(spec.key)
        if posted is None:
            if self.find(spec) is not None:
                raise XlcrmError(
                    f"{self.where}: {spec.name}",
                    f"the add-in did not send the {spec.name} table this command reads",
                    "update the add-in (reload the task pane), then run again",
                )
            return None
        return self._layout(spec, posted)

    def _layout(self, spec: TableSpec, posted: p.PostedTable) -> tuple[TableLayout, Columns]:
        r1, c1, r2, c2 = parse_range(local_address(posted.address))
        width = c2 - c1 + 1
        header = [
            str(h) if h not in (None, "") else f"Column{j + 1}"
            for j, h in enumerate(posted.header[:width])
        ]
        keys = column_keys(spec, header)
        layout = TableLayout(spec, posted.sheet, posted.table, r1, c1, header, keys, r2)
        columns = posted.columns if posted.columns is not None else list(range(width))
        if posted.columns is not None:
            self._present[spec.key] = {keys[offset] for offset in columns if offset < width}
        if (
            len(posted.rows) > r2 - r1
            or any(c >= width for c in columns)
            or not _places_fit(posted.rows_at, len(posted.rows), r2 - r1)
        ):
            raise UsageError(
                f"{posted.sheet}!{posted.address}",
                "the posted rows do not fit the table's range",
                "reload the task pane and run again",
            )
        cached = self._columns.get(spec.key)
        if cached is None:
            cached = self._columns[spec.key] = self._to_columns(
                spec, posted, keys, columns, c1, width, r2 - r1
            )
        return layout, cached

    def _to_columns(
        self,
        spec: TableSpec,
        posted: p.PostedTable,
        keys: list[str],
        columns: list[int],
        c1: int,
        width: int,
        length: int,
    ) -> Columns:
        """The posted rows as the table's columns (those not posted blank), once per request.
        The rows are then dropped from the request: the columns hold the same cells, without
        a list per row (a table read again after a savepoint takes the columns)."""
        rows = posted.rows
        places = posted.rows_at
        if places is None:
            length = len(rows)
        blank = [""] * length
        full: list[Sequence[Any]] = [blank] * (c1 + width)
        for j, offset in enumerate(columns):
            column = spec.by_key.get(keys[offset])
            values = [row[j] if j < len(row) else "" for row in rows]
            if places is not None:  # a row filter's rows at their places, blanks between
                spread: list[Any] = [""] * length
                for at, value in zip(places, values, strict=True):
                    spread[at] = value
                values = spread
            if column is not None and column.type in ("date", "datetime"):
                with_time = column.type == "datetime"
                values = [from_serial(v, with_time=with_time) for v in values]
            full[c1 + offset] = values
        posted.rows = []
        return Columns(full, length)

    def _present_columns(self, spec: TableSpec) -> set[str] | None:
        return self._present.get(spec.key)

    def table(self, name: str):  # type: ignore[no-untyped-def]
        table = super().table(name)
        posted = self.posted.get(table.spec.key)
        if posted is not None and posted.columns is not None and posted.last_used_row:
            table.reserved_rows = max(0, posted.last_used_row - table.layout.header_row)
        if posted is not None and posted.highest_id and table.spec.id_prefix:
            table.holds_id(posted.highest_id)
        return table

    # -- state and writing ---------------------------------------------------------------------

    def _read_state(self) -> dict[str, str]:
        return dict(self.request.state)

    def _commit(
        self,
        changes: list[TableChanges],
        state: dict[str, str] | None,
        sheets: Sequence[ReportSheet] = (),
    ) -> dict[str, TableLayout]:
        layouts: dict[str, TableLayout] = {}
        actions: list[Any] = []
        for change in changes:
            actions += changes_to_actions(change, self.lang)
            layout = change.layout
            layouts[layout.spec.key] = TableLayout(
                layout.spec,
                layout.sheet,
                layout.table_name,
                layout.header_row,
                layout.first_col,
                layout.headers,
                layout.keys,
                change.last_row,
            )
        for sheet in sheets:
            actions += report_to_actions(sheet, exists=sheet.name in self._sheet_names())
        if state is not None:
            actions.append(state_action(state))
        self.actions += actions
        return layouts

    def message(self, text: str, level: str = "info") -> None:
        self.actions.append(p.Message(level=level, text=text))  # type: ignore[arg-type]

    def download(self, name: str, media_type: str, data: bytes) -> None:
        import base64

        self.actions.append(
            p.Download(name=name, media_type=media_type, data=base64.b64encode(data).decode())
        )


def _places_fit(places: Sequence[int] | None, count: int, length: int) -> bool:
    """A row filter's places: one per posted row, ascending, inside the range."""
    if places is None:
        return True
    return (
        len(places) == count
        and all(a < b for a, b in pairwise(places))
        and (not places or places[-1] < length)
    )


@dataclass(frozen=True)
class Matching:
    """A command's need for some rows of a table only: ``columns`` of the rows whose cell in
    one of the ``match`` columns is one of ``keys`` (normalised Message-IDs, all ASCII: the
    client lower-cases as Python does only there). The client sends those rows and the
    table's highest id (:class:`~addin.remote.protocol.RowFilter`); every other row reads
    as blank, and new rows still go below the last one and get new ids."""

    columns: Sequence[str]
    match: Sequence[str]
    keys: Sequence[str]

    def __post_init__(self) -> None:
        if not all(key.isascii() for key in self.keys):
            raise ValueError("row filter keys must be ASCII")


Need = Iterable[str] | str | Matching


def plan_reads(book: RemoteBook, needs: Mapping[str, Need]) -> dict[str, p.Read]:
    """What the client must read for a command that ``needs`` these tables and columns.

    Key columns always come along (rows are found and written by key), and so does a column
    a command needs but the table lacks — nothing, as the table has no such column.
    """
    reads: dict[str, p.Read] = {}
    for name, columns in needs.items():
        spec = TABLES[name]
        where = book.find(spec)
        if where is None:
            continue
        if columns == ALL:
            reads[spec.key] = where
            continue
        header = _header_of(book, where)
        keys = column_keys(spec, header)
        wanted = {*spec.pk, "id"}
        if isinstance(columns, Matching):
            wanted.update(columns.columns, columns.match)
            where.filter = _row_filter(spec, keys, columns)
        else:
            wanted.update(columns)
        where.columns = [j for j, key in enumerate(keys) if key in wanted]
        reads[spec.key] = where
    return reads


def _row_filter(spec: TableSpec, keys: list[str], matching: Matching) -> p.RowFilter | None:
    match = [j for j, key in enumerate(keys) if key in matching.match]
    if not match:  # nothing to compare: every row
        return None
    ids = keys.index("id") if spec.id_prefix and "id" in keys else None
    return p.RowFilter(
        columns=match,
        keys=sorted(set(matching.keys)),
        id_column=ids,
        id_prefix=spec.id_prefix or "",
    )


def _header_of(book: RemoteBook, read: p.Read) -> list[str]:
    if read.table is not None:
        table = next(t for t in book.inventory.tables if t.name == read.table)
        return table.columns
    return book._headers_of(read.sheet)


__all__ = ["ALL", "Matching", "Need", "RemoteBook", "from_serial", "local_address", "plan_reads"]
