"""Turning a save into the actions the Office.js client applies (``docs/protocol.md``).

Writes are rectangles: changed cells are grouped into runs of adjacent columns, and runs with
the same columns in consecutive rows into one block, so updating a column of 100,000 rows is one
action, not 100,000. Rows past the end of a table are one ``append_rows`` (the client grows an
Excel Table with ``table.rows.add``), new columns one ``add_column`` each, a new CRM table an
``add_sheet`` and an ``add_table``. Dates travel as Excel serial numbers with a date format,
because that is what a cell holds; text is sent as text and written with Excel's text prefix by
the client, so it is never read as a formula.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from ..schema import Lang, drop_down
from ..workbook.cells import cell_ref, range_ref
from ..workbook.report import Block, ReportSheet
from ..workbook.table import TableChanges
from . import protocol as p

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
POINTS_PER_CM = 28.35
POINTS_PER_CHARACTER = 7.0  # a column width of N characters in Excel's JavaScript points

_CHARTS: dict[tuple[str, bool], p.ChartKind] = {
    ("bar", False): "BarClustered",
    ("bar", True): "BarStacked",
    ("column", False): "ColumnClustered",
    ("column", True): "ColumnStacked",
    ("line", False): "Line",
    ("line", True): "Line",
    ("pie", False): "Pie",
    ("pie", True): "Pie",
    ("doughnut", False): "Doughnut",
    ("doughnut", True): "Doughnut",
    ("scatter", False): "XYScatter",
    ("scatter", True): "XYScatter",
}


def json_cell(value: Any) -> tuple[Any, str | None]:
    """A Python cell value as the client writes it, with its number format when it needs one.
    None (a cleared cell) becomes ``""``: in an action ``null`` means "leave the cell"."""
    if value is None:
        return "", None
    if isinstance(value, dt.datetime):
        days = (value - EXCEL_EPOCH).total_seconds() / 86400
        return round(days, 9), DATETIME_FORMAT
    if isinstance(value, dt.date):
        return (value - EXCEL_EPOCH.date()).days, DATE_FORMAT
    if isinstance(value, float) and value != value:  # NaN has no cell
        return "", None
    return value, None


def _matrix(rows: list[list[Any]]) -> tuple[list[list[Any]], list[list[str | None]] | None]:
    values: list[list[Any]] = []
    formats: list[list[str | None]] = []
    any_format = False
    for row in rows:
        out_row: list[Any] = []
        fmt_row: list[str | None] = []
        for v in row:
            if v is _LEAVE:
                out_row.append(None)
                fmt_row.append(None)
                continue
            cell, fmt = json_cell(v)
            out_row.append(cell)
            fmt_row.append(fmt)
            any_format = any_format or fmt is not None
        values.append(out_row)
        formats.append(fmt_row)
    return values, (formats if any_format else None)


class _Leave:
    """A cell an action leaves as it is (``null`` in the matrix)."""


_LEAVE = _Leave()


def _blocks(
    cells: Mapping[int, Mapping[int, Any]],
) -> Iterator[tuple[int, int, int, list[list[Any]]]]:
    """(first_row, first_col, last_col, rows) rectangles covering ``cells``: column runs per
    row, merged down while consecutive rows change the same run."""
    open_blocks: dict[tuple[int, int], tuple[int, int, list[list[Any]]]] = {}
    for row in sorted(cells):
        changed = cells[row]
        runs: list[tuple[int, int]] = []
        for col in sorted(changed):
            if runs and runs[-1][1] == col - 1:
                runs[-1] = (runs[-1][0], col)
            else:
                runs.append((col, col))
        seen = set()
        for start, end in runs:
            key = (start, end)
            seen.add(key)
            values = [changed[c] for c in range(start, end + 1)]
            block = open_blocks.get(key)
            if block is not None and block[1] == row - 1:
                block[2].append(values)
                open_blocks[key] = (block[0], row, block[2])
            else:
                if block is not None:
                    yield block[0], start, end, block[2]
                open_blocks[key] = (row, row, [values])
        for key in [k for k, b in open_blocks.items() if k not in seen and b[1] < row]:
            first, _, rows = open_blocks.pop(key)
            yield first, key[0], key[1], rows
    for (start, end), (first, _, rows) in open_blocks.items():
        yield first, start, end, rows


def changes_to_actions(change: TableChanges, lang: Lang) -> list[Any]:
    """The actions writing one table's changes (see the module docstring)."""
    layout = change.layout
    c1 = layout.first_col
    width = len(layout.keys)
    last_col = c1 + width - 1
    if change.created:
        return _created_table(change, lang)
    old_last = layout.last_row
    actions: list[Any] = []
    new_columns = set(change.new_columns)
    for j in sorted(new_columns):
        column = [[layout.headers[j]]]
        for row in range(layout.header_row + 1, old_last + 1):
            cells = change.cells.get(row, {})
            column.append([cells.get(j, _LEAVE)])
        values, _ = _matrix(column)
        actions.append(
            p.AddColumn(
                sheet=layout.sheet,
                table=layout.table_name,
                address=range_ref(layout.header_row, c1 + j, old_last, c1 + j),
                values=values,
            )
        )
    inside = {
        row: {j: v for j, v in cells.items() if j not in new_columns}
        for row, cells in change.cells.items()
        if row <= old_last
    }
    for first, start, end, rows in _blocks({r: c for r, c in inside.items() if c}):
        values, formats = _matrix(rows)
        actions.append(
            p.Write(
                sheet=layout.sheet,
                address=range_ref(first, c1 + start, first + len(rows) - 1, c1 + end),
                values=values,
                number_formats=formats,
            )
        )
    if change.last_row > old_last:
        rows = []
        for row in range(old_last + 1, change.last_row + 1):
            cells = change.cells.get(row, {})
            rows.append([cells.get(j, _LEAVE) for j in range(width)])
        values, formats = _matrix(rows)
        actions.append(
            p.AppendRows(
                sheet=layout.sheet,
                table=layout.table_name,
                address=range_ref(old_last + 1, c1, change.last_row, last_col),
                values=values,
                number_formats=formats,
            )
        )
    return actions


def _created_table(change: TableChanges, lang: Lang) -> list[Any]:
    layout = change.layout
    spec = layout.spec
    width = len(layout.keys)
    rows: list[list[Any]] = [list(layout.headers)]
    for row in range(layout.header_row + 1, change.last_row + 1):
        cells = change.cells.get(row, {})
        rows.append([cells.get(j) for j in range(width)])
    values, formats = _matrix(rows)
    choices = []
    for j, key in enumerate(layout.keys):
        column = spec.by_key.get(key)
        offered = drop_down(column, lang) if column is not None else None
        if isinstance(offered, list):
            choices.append(p.Choices(column=j, values=offered))
        elif offered is not None:  # another table's column, e.g. the Products' SKUs
            choices.append(p.Choices(column=j, source="=" + offered))
    top = layout.header_row
    return [
        p.AddSheet(sheet=layout.sheet),
        p.AddTable(
            sheet=layout.sheet,
            table=layout.table_name or spec.name,
            address=range_ref(
                top, layout.first_col, top + len(rows) - 1, layout.first_col + width - 1
            ),
            values=values,
            number_formats=formats,
            choices=choices,
        ),
    ]


def report_to_actions(sheet: ReportSheet, *, exists: bool) -> list[Any]:
    """A report sheet (Dashboard, Reminders) rebuilt whole: its values, tables and charts."""
    name = sheet.name
    actions: list[Any] = [p.AddSheet(sheet=name, replace=exists, first=sheet.first)]
    if sheet.heading:
        actions.append(p.Write(sheet=name, address="A1", values=[[sheet.heading]]))
        actions.append(p.Format(sheet=name, address="A1", bold=True, font_size=16))
    for block in sheet.blocks:
        if block.title:
            ref = cell_ref(block.row - 1, block.col - 1)
            actions.append(p.Write(sheet=name, address=ref, values=[[block.title]]))
            actions.append(p.Format(sheet=name, address=ref, bold=True, font_size=12))
        if not block.rows:
            continue
        values, formats = _block_matrix(block)
        address = range_ref(
            block.row, block.col - 1, block.row + block.height - 1, block.col + block.width - 2
        )
        if block.table:
            actions.append(
                p.AddTable(
                    sheet=name,
                    table=block.table,
                    address=address,
                    values=values,
                    number_formats=formats,
                )
            )
        else:
            actions.append(
                p.Write(sheet=name, address=address, values=values, number_formats=formats)
            )
        actions += _block_formats(name, block)
    for col, width in sorted(sheet.widths.items()):
        ref = cell_ref(1, col - 1)
        actions.append(
            p.Format(sheet=name, address=ref, column_width=round(width * POINTS_PER_CHARACTER, 1))
        )
    for row, height in sorted(sheet.heights.items()):
        actions.append(p.Format(sheet=name, address=f"A{row}", row_height=height))
    for chart in sheet.charts:
        block = chart.block
        last = max(chart.values)
        actions.append(
            p.Chart(
                sheet=name,
                kind=_CHARTS[(chart.kind, chart.stacked)],
                title=chart.title,
                source=range_ref(
                    block.row, block.col - 1, block.row + block.height - 1, block.col - 1 + last
                ),
                anchor=chart.anchor,
                width=round(chart.width_cm * POINTS_PER_CM, 1),
                height=round(chart.height_cm * POINTS_PER_CM, 1),
                end=chart.to,
            )
        )
    if sheet.page is not None:
        page = sheet.page
        actions.append(
            p.PageLayout(
                sheet=name,
                landscape=page.landscape,
                fit_width=page.fit_width,
                print_area=page.print_area,
                breaks=list(page.breaks),
                margins=tuple(round(m * 72, 1) for m in page.margins),  # type: ignore[arg-type]
            )
        )
    return actions


def _block_formats(sheet: str, block: Block) -> list[p.Format]:
    """A block's alignment: right over numbers (header included), text beside them one step
    in, and a header row that wraps (see ``Block.header``)."""
    out = []
    top, bottom = block.row, block.row + block.height - 1
    for offset, how in sorted(block.alignments().items()):
        col = block.col - 1 + offset
        address = range_ref(top, col, bottom, col)
        if how == "right":
            out.append(p.Format(sheet=sheet, address=address, horizontal="Right"))
        else:
            out.append(p.Format(sheet=sheet, address=address, horizontal="Left", indent=1))
    if block.header and block.table is None:
        address = range_ref(top, block.col - 1, top, block.col + block.width - 2)
        out.append(p.Format(sheet=sheet, address=address, bold=True, wrap=True))
    return out


def _block_matrix(block: Block) -> tuple[list[list[Any]], list[list[str | None]] | None]:
    width = block.width
    rows = [list(r) + [None] * (width - len(r)) for r in block.rows]
    values, formats = _matrix(rows)
    if block.formats:
        formats = formats or [[None] * width for _ in rows]
        first_data = 1 if block.table else 0
        for offset, fmt in block.formats.items():
            for i in range(first_data, len(rows)):
                formats[i][offset] = fmt
    return values, formats


def state_action(items: Mapping[str, str]) -> p.State:
    return p.State(items=dict(sorted(items.items())))
