"""Whole new parts: a worksheet, an Excel Table, a drawing with its charts.

Existing parts are patched byte by byte (``sheet.py``, ``patch.py``); these functions write the
parts xlcrm adds to a package — a CRM table that a workbook did not have yet (Stages, Rules…)
and the sheets it owns (Dashboard, Reminders). Chart XML comes from openpyxl's chart classes,
which know DrawingML far better than anything we would write by hand; everything else is small
enough to write directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ..cells import MAX_ROWS, cell_ref, column_letter, range_ref
from .parts import NS_MAIN, NS_REL
from .sheet import CellWriter

NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
REL_DRAWING = NS_REL + "/drawing"
REL_CHART = NS_REL + "/chart"
CT_TABLE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
TABLE_STYLE = "TableStyleMedium2"
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


@dataclass
class Validation:
    """A drop-down list on a column: the allowed labels, as a warning (aliases also work)."""

    col: int  # 0-based
    first_row: int
    labels: Sequence[str]
    title: str
    message: str
    formula: str | None = None  # instead of labels: a range, e.g. 'Products'!$A$2:$A$10001


@dataclass
class NewSheet:
    """The contents of a worksheet written from scratch."""

    cells: dict[int, dict[int, tuple[Any, int | None]]] = field(default_factory=dict)
    widths: dict[int, float] = field(default_factory=dict)  # 0-based column -> width
    freeze_row: int = 0  # rows above this one stay in view (0: none)
    validations: list[Validation] = field(default_factory=list)
    table_rids: list[str] = field(default_factory=list)
    drawing_rid: str | None = None
    heights: dict[int, float] = field(default_factory=dict)
    landscape: bool = False
    fit_width: bool = False  # print one page wide (as many tall as needed)
    breaks: list[int] = field(default_factory=list)  # 1-based rows that start a new page
    margins: tuple[float, float, float, float] = (0.7, 0.7, 0.75, 0.75)  # inches: l, r, t, b

    def put(self, row: int, col: int, value: Any, style: int | None = None) -> None:
        if value is None and not style:
            return
        self.cells.setdefault(row, {})[col] = (value, style)

    def xml(self, writer: CellWriter) -> bytes:
        """The worksheet part, elements in the order CT_Worksheet requires."""
        out = [_XML_DECL, f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_REL}">']
        if self.fit_width:
            out.append('<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>')
        if self.cells:
            last_row = max(self.cells)
            last_col = (
                max(max(r) for r in self.cells.values() if r) if any(self.cells.values()) else 0
            )
            out.append(f'<dimension ref="{range_ref(1, 0, last_row, last_col)}"/>')
        out.append('<sheetViews><sheetView workbookViewId="0">')
        if self.freeze_row > 1:
            top = cell_ref(self.freeze_row, 0)
            out.append(
                f'<pane ySplit="{self.freeze_row - 1}" topLeftCell="{top}" '
                'activePane="bottomLeft" state="frozen"/>'
            )
        out.append("</sheetView></sheetViews>")
        # customHeight: rows are 15 points in LibreOffice too (it would size them from its
        # substitute font), so a chart covers the same rows, and prints beside the same cells.
        out.append('<sheetFormatPr defaultRowHeight="15" customHeight="1"/>')
        if self.widths:
            out.append("<cols>")
            for col in sorted(self.widths):
                width = self.widths[col]
                out.append(
                    f'<col min="{col + 1}" max="{col + 1}" width="{width:g}" customWidth="1"/>'
                )
            out.append("</cols>")
        out.append("<sheetData>")
        parts = [p.encode() if isinstance(p, str) else p for p in out]
        for r in sorted(self.cells):
            row = self.cells[r]
            height = self.heights.get(r)
            attrs = f' ht="{height:g}" customHeight="1"' if height else ""
            parts.append(f'<row r="{r}"{attrs}>'.encode())
            parts.extend(writer.cell(cell_ref(r, c), v, s) for c, (v, s) in sorted(row.items()))
            parts.append(b"</row>")
        tail = ["</sheetData>"]
        if self.validations:
            tail.append(f'<dataValidations count="{len(self.validations)}">')
            for v in self.validations:
                letter = column_letter(v.col)
                sqref = f"{letter}{v.first_row}:{letter}{MAX_ROWS}"
                formula = escape(v.formula or '"' + ",".join(v.labels) + '"')
                tail.append(
                    '<dataValidation type="list" errorStyle="warning" allowBlank="1" '
                    f'showErrorMessage="1" errorTitle={quoteattr(v.title)} '
                    f'error={quoteattr(v.message)} sqref="{sqref}">'
                    f"<formula1>{formula}</formula1></dataValidation>"
                )
            tail.append("</dataValidations>")
        m_left, m_right, m_top, m_bottom = self.margins
        tail.append(
            f'<pageMargins left="{m_left:g}" right="{m_right:g}" top="{m_top:g}" '
            f'bottom="{m_bottom:g}" header="{m_top / 3:.3g}" footer="{m_bottom / 3:.3g}"/>'
        )
        if self.landscape or self.fit_width:
            setup = ' orientation="landscape"' if self.landscape else ""
            if self.fit_width:
                setup += ' fitToWidth="1" fitToHeight="0"'
            tail.append(f"<pageSetup{setup}/>")
        rows = sorted({r for r in self.breaks if r > 1})
        if rows:
            # A break's id is the last row of the page before it (Excel's rowBreaks).
            tail.append(f'<rowBreaks count="{len(rows)}" manualBreakCount="{len(rows)}">')
            tail.extend(f'<brk id="{r - 1}" max="16383" man="1"/>' for r in rows)
            tail.append("</rowBreaks>")
        if self.drawing_rid:
            tail.append(f'<drawing r:id="{self.drawing_rid}"/>')
        if self.table_rids:
            tail.append(f'<tableParts count="{len(self.table_rids)}">')
            tail.extend(f'<tablePart r:id="{rid}"/>' for rid in self.table_rids)
            tail.append("</tableParts>")
        tail.append("</worksheet>")
        parts.append("".join(tail).encode())
        return b"".join(parts)


def table_xml(table_id: int, name: str, ref: str, headers: Sequence[str]) -> bytes:
    """An Excel Table part: a header row, an autofilter, the default striped style."""
    columns = "".join(
        f'<tableColumn id="{i}" name={quoteattr(_column_name(h))}/>'
        for i, h in enumerate(headers, start=1)
    )
    return (
        f'{_XML_DECL}<table xmlns="{NS_MAIN}" id="{table_id}" name={quoteattr(name)} '
        f'displayName={quoteattr(name)} ref="{ref}"><autoFilter ref="{ref}"/>'
        f'<tableColumns count="{len(headers)}">{columns}</tableColumns>'
        f'<tableStyleInfo name="{TABLE_STYLE}" showFirstColumn="0" showLastColumn="0" '
        'showRowStripes="1" showColumnStripes="0"/></table>'
    ).encode()


def _column_name(header: str) -> str:
    # Excel keeps table column names on one line; a line break in a header is a space there.
    return re.sub(r"[\r\n]+", " ", header)


def rels_xml(rels: Iterable[tuple[str, str, str]]) -> bytes:
    """A relationships part from (id, type, target) triples."""
    body = "".join(
        f'<Relationship Id="{rid}" Type="{kind}" Target={quoteattr(target)}/>'
        for rid, kind, target in rels
    )
    return f'{_XML_DECL}<Relationships xmlns="{NS_PKG_REL}">{body}</Relationships>'.encode()


@dataclass
class ChartPart:
    """One chart to draw: where its data is and how it looks (see ``report.Chart``)."""

    kind: str
    title: str
    sheet: str
    categories: tuple[int, int, int]  # column (0-based), first row, last row
    series: list[tuple[int, int]]  # (column, header row) per series; data rows as categories
    anchor: str
    width_cm: float
    height_cm: float
    x_title: str | None = None
    y_title: str | None = None
    stacked: bool = False
    to: str | None = None  # the last cell covered: a two-cell anchor


def drawing_and_charts(
    charts: Sequence[ChartPart], first_number: int
) -> tuple[bytes, bytes, list[bytes]]:
    """The drawing part, its relationships and one chart part per chart.

    Chart ``i`` is written as ``/xl/charts/chart{first_number + i}.xml``; the drawing refers
    to it by that absolute path.
    """
    from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
    from openpyxl.xml.functions import tostring

    built = []
    for i, part in enumerate(charts):
        chart = _openpyxl_chart(part)
        chart._id = first_number + i
        built.append(chart)
    drawing = SpreadsheetDrawing()
    drawing.charts = built
    drawing_xml = tostring(drawing._write())
    rels = tostring(drawing._write_rels())
    return drawing_xml, rels, [tostring(c._write()) for c in built]


def _openpyxl_chart(part: ChartPart) -> Any:
    from openpyxl.chart import (
        BarChart,
        DoughnutChart,
        LineChart,
        PieChart,
        Reference,
        ScatterChart,
        Series,
    )

    # Reference only needs the sheet's title, to quote it in the formula.
    sheet = SimpleNamespace(title=part.sheet)
    col, first, last = part.categories
    last = max(first, last)
    categories = Reference(sheet, min_col=col + 1, min_row=first, max_row=last)
    chart: Any
    if part.kind in ("bar", "column"):
        chart = BarChart()
        chart.type = "bar" if part.kind == "bar" else "col"
        if part.stacked:
            chart.grouping = "stacked"
            chart.overlap = 100
        if part.kind == "bar":
            chart.y_axis.majorGridlines = None
            chart.x_axis.scaling.orientation = "maxMin"  # first category on top, as in the table
    elif part.kind == "line":
        chart = LineChart()
    elif part.kind == "pie":
        chart = PieChart()
    elif part.kind == "doughnut":
        chart = DoughnutChart()
    else:
        chart = ScatterChart()
        chart.style = 13
    chart.title = part.title
    chart.width = part.width_cm
    chart.height = part.height_cm
    chart.anchor = part.anchor
    if part.to is not None:
        chart.anchor = _two_cell_anchor(part.anchor, part.to)
    if part.kind == "scatter":
        for value_col, header_row in part.series:
            values = Reference(
                sheet, min_col=value_col + 1, min_row=first, max_row=max(first, last)
            )
            series = Series(values, categories, title_from_data=False)
            series.tx = _series_title(part.sheet, value_col, header_row)
            chart.series.append(series)
    else:
        for value_col, header_row in part.series:
            data = Reference(
                sheet, min_col=value_col + 1, min_row=header_row, max_row=max(first, last)
            )
            chart.add_data(data, titles_from_data=True)
        chart.set_categories(categories)
        if part.kind == "line":
            for series in chart.series:
                series.smooth = False  # openpyxl smooths by default: a curve invents values
    if part.kind not in ("pie", "doughnut"):
        if part.x_title:
            chart.x_axis.title = part.x_title
        if part.y_title:
            chart.y_axis.title = part.y_title
        # openpyxl (3.1) hides axes unless told otherwise; a dashboard wants them.
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        if part.kind in ("line", "column") and last - first >= 6:
            # Many categories (months): slanted labels stay on one line each, where upright
            # ones wrap ("2025年12月" over three lines in LibreOffice, "2025-" "12" in both).
            chart.x_axis.txPr = _rotated_labels(-45)
        if len(part.series) == 1:
            chart.legend = None
    return chart


def _two_cell_anchor(first: str, last: str) -> Any:
    from openpyxl.drawing.spreadsheet_drawing import AnchorMarker, TwoCellAnchor

    from ..cells import parse_cell

    r1, c1 = parse_cell(first)
    r2, c2 = parse_cell(last)
    # Markers are 0-based; the end marker is the top-left corner of the cell after ``last``.
    return TwoCellAnchor(
        _from=AnchorMarker(col=c1, row=r1 - 1), to=AnchorMarker(col=c2 + 1, row=r2)
    )


def _rotated_labels(degrees: int) -> Any:
    from openpyxl.chart.text import RichText
    from openpyxl.drawing.text import (
        CharacterProperties,
        Paragraph,
        ParagraphProperties,
        RichTextProperties,
    )

    return RichText(
        bodyPr=RichTextProperties(rot=degrees * 60000, vert="horz"),
        p=[Paragraph(pPr=ParagraphProperties(defRPr=CharacterProperties()), endParaRPr=None)],
    )


def _series_title(sheet: str, col: int, row: int) -> Any:
    from openpyxl.chart.series import SeriesLabel, StrRef
    from openpyxl.utils import quote_sheetname

    ref = f"{quote_sheetname(sheet)}!${column_letter(col)}${row}"
    return SeriesLabel(strRef=StrRef(ref))
