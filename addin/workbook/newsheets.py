"""The file backend's structural edits: new CRM tables, new columns, xlcrm's own sheets.

Everything here adds parts to a package or replaces parts that xlcrm wrote itself; the user's
parts are only ever touched by the byte-level splices in ``xlsx/patch.py`` (a new
``<sheet>`` in workbook.xml, a relationship, a content-type override, a table's range).
All of it lands in the same atomic write as the cell changes (``FileBook._commit``).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ..errors import XlcrmError
from ..schema import Column, Lang, column_width, drop_down, print_one_page_wide
from .cells import cell_ref, parse_range, range_ref
from .report import Chart, ReportSheet
from .table import TableChanges, TableLayout
from .xlsx.newparts import (
    CT_CHART,
    CT_DRAWING,
    CT_TABLE,
    REL_DRAWING,
    ChartPart,
    NewSheet,
    Validation,
    drawing_and_charts,
    rels_xml,
    table_xml,
)
from .xlsx.package import Content, Package
from .xlsx.parts import REL_TABLE, SheetInfo, TableInfo, WorkbookInfo, read_rels, rels_path
from .xlsx.patch import add_sheet, set_print_area, set_table_ref
from .xlsx.sheet import CellWriter
from .xlsx.styles import Styles

CONTENT_TYPES = "[Content_Types].xml"
CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"
_TABLE_ID = re.compile(rb'<(?:\w+:)?table\b[^>]*?\sid="(\d+)"')


@dataclass
class PackageEdit:
    """The parts one save replaces, adds and removes, and the shared parts they touch."""

    pkg: Package
    info: WorkbookInfo
    replace: dict[str, Content] = field(default_factory=dict)
    add: dict[str, Content] = field(default_factory=dict)
    remove: set[str] = field(default_factory=set)
    _table_ids: set[int] | None = None

    def read(self, name: str) -> bytes:
        """A part as it will be written: its pending new bytes, else the stored ones."""
        for pending in (self.replace, self.add):
            if name in pending:
                data = pending[name]
                return data if isinstance(data, bytes) else b"".join(data)  # type: ignore[arg-type]
        return self.pkg.read(name)

    def put(self, name: str, data: bytes) -> None:
        """Write ``name``: replace it when the package has it, else add it."""
        if name in self.pkg and name not in self.remove:
            self.replace[name] = data
        else:
            self.add[name] = data

    def free_name(self, pattern: str) -> str:
        """The first ``pattern.format(n)`` that no part, stored or pending, has."""
        # Part names are case-insensitive (OPC): Sheet2.xml and sheet2.xml are one name.
        taken = {n.lower() for n in (*self.pkg.names, *self.add)}
        n = 1
        while (name := pattern.format(n)).lower() in taken:
            n += 1
        return name

    def finish(self) -> None:
        """Give every added part a content type: ``.rels`` parts get the ``rels`` Default
        when ``[Content_Types].xml`` lacks one (LibreOffice 5/6 and POI write none); any
        other part must have got its override where it was added."""
        types = self.read(CONTENT_TYPES)
        defaults = {
            e.lower() for e in re.findall(rb'<(?:\w+:)?Default\b[^>]*?Extension="([^"]*)"', types)
        }
        overrides = {
            p.lower().lstrip(b"/")
            for p in re.findall(rb'<(?:\w+:)?Override\b[^>]*?PartName="([^"]*)"', types)
        }
        for name in self.add:
            ext = name.rsplit(".", 1)[-1].lower().encode()
            if ext in defaults or name.lower().encode() in overrides:
                continue
            if ext != b"rels":
                raise XlcrmError(None, f"internal error: the new part {name} has no content type")
            m = re.search(rb"<(\w+:)?Types\b[^>]*>", types)
            if m is None:
                raise XlcrmError(None, "[Content_Types].xml has no <Types> element")
            element = b'<%sDefault Extension="rels" ContentType="%s"/>' % (
                m.group(1) or b"",
                CT_RELS.encode(),
            )
            types = types[: m.end()] + element + types[m.end() :]
            defaults.add(b"rels")
            self.replace[CONTENT_TYPES] = types

    def override(self, part: str, content_type: str) -> None:
        types = self.read(CONTENT_TYPES)
        element = f'<Override PartName="/{escape(part)}" ContentType="{content_type}"/>'.encode()
        at = types.rfind(b"</Types>")
        self.replace[CONTENT_TYPES] = types[:at] + element + types[at:]

    def sheet_pattern(self) -> str:
        """New worksheets go beside the workbook's own (``xl/worksheets/`` when workbook.xml
        is ``xl/workbook.xml``): readers such as calamine resolve sheet targets only there."""
        folder = posixpath.dirname(self.info.part)
        return posixpath.join(folder, "worksheets", "sheet{}.xml")

    def new_sheet(self, name: str, *, first: bool = False) -> tuple[str, str]:
        """Register a new visible worksheet (last in the tab order, or first); its part name
        and rId."""
        part = self.free_name(self.sheet_pattern())
        workbook, rels, types = add_sheet(
            self.read(self.info.part),
            self.read(self.info.rels_part),
            self.read(CONTENT_TYPES),
            name=name,
            part=part,
            state="visible",
            workbook_part=self.info.part,
            first=first,
        )
        self.replace[self.info.part] = workbook
        self.replace[self.info.rels_part] = rels
        self.replace[CONTENT_TYPES] = types
        return part, name

    def drop_tree(self, part: str) -> None:
        """Remove a part xlcrm wrote, with what hangs off it (a drawing's charts, their
        styles), and its content-type override."""
        if part in self.remove or part not in self.pkg:
            return
        self.remove.add(part)
        rels = rels_path(part)
        if rels in self.pkg:
            self.remove.add(rels)
            for _, _, target in read_rels(self.pkg, part):
                if target.startswith(("xl/drawings/", "xl/charts/")):
                    self.drop_tree(target)
        types = self.read(CONTENT_TYPES)
        pattern = rb'<(?:\w+:)?Override\b[^>]*PartName="/' + re.escape(part.encode()) + rb'"[^>]*/>'
        self.replace[CONTENT_TYPES] = re.sub(pattern, b"", types)

    def table_id(self) -> int:
        """A table id no other table in the workbook uses (Excel insists on unique ids)."""
        if self._table_ids is None:
            self._table_ids = set()
            for table in self.info.tables:
                m = _TABLE_ID.search(self.pkg.read(table.part))
                if m:
                    self._table_ids.add(int(m.group(1)))
        n = max(self._table_ids, default=0) + 1
        self._table_ids.add(n)
        return n


CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
MINIMAL_STYLES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    b'<fills count="2"><fill><patternFill patternType="none"/></fill>'
    b'<fill><patternFill patternType="gray125"/></fill></fills>'
    b'<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    b'<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    b'<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    b'<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    b"</styleSheet>"
)


def add_styles(edit: PackageEdit) -> str:
    """Add a minimal styles part to a workbook that has none; its name.

    A relationship that points at a missing part gets that part; otherwise the part goes
    beside workbook.xml with a new relationship. Either way it gets its content type.
    """
    from .xlsx.parts import REL_STYLES
    from .xlsx.patch import add_relationship, free_rid, relative_target

    info = edit.info
    part = info.styles_part
    if part is None:
        folder = info.part.rsplit("/", 1)[0] + "/" if "/" in info.part else ""
        part = folder + "styles.xml"
        if part.lower() in {n.lower() for n in edit.pkg.names}:
            part = edit.free_name(folder + "styles{}.xml")
        rels = edit.read(info.rels_part)
        edit.put(
            info.rels_part,
            add_relationship(rels, free_rid(rels), REL_STYLES, relative_target(info.part, part)),
        )
    edit.add[part] = MINIMAL_STYLES
    edit.override(part, CT_STYLES)
    return part


# -- a CRM table the workbook did not have ------------------------------------------------------


def create_table(
    edit: PackageEdit, styles: Styles, writer: CellWriter, change: TableChanges, lang: Lang
) -> TableLayout:
    """Write a new sheet holding the table of ``change`` as ``xlcrm init`` would have made it.

    The rows are the table's first rows; a table without rows keeps one blank, formatted row,
    because an Excel Table needs a data row and new rows copy their formats from it.
    """
    layout = change.layout
    spec = layout.spec
    columns: list[Column | None] = [spec.by_key.get(k) for k in layout.keys]
    bold = styles.xf(bold=True)
    formats = [_column_style(styles, c) for c in columns]
    sheet = NewSheet(freeze_row=2)
    for j, (header, column) in enumerate(zip(layout.headers, columns, strict=True)):
        sheet.put(1, j, header, bold)
        sheet.widths[j] = column_width(column, lang) if column else 14 + (4 if lang == "zh" else 0)
        offered = drop_down(column, lang) if column is not None else None
        if column is not None and offered is not None:
            sheet.validations.append(
                Validation(
                    col=j,
                    first_row=2,
                    labels=offered if isinstance(offered, list) else [],
                    formula=offered if isinstance(offered, str) else None,
                    title=column.header(lang),
                    message="请从列表中选择" if lang == "zh" else "Pick a value from the list",
                )
            )
    sheet.landscape = True
    sheet.fit_width = print_one_page_wide(columns, lang)
    last_row = max(2, change.last_row)
    for r in range(2, last_row + 1):
        values = change.cells.get(r, {})
        for j in range(len(columns)):
            sheet.put(r, j, values.get(j), formats[j])
    part, _ = edit.new_sheet(layout.sheet)
    table_part = edit.free_name("xl/tables/table{}.xml")
    ref = range_ref(1, 0, last_row, len(columns) - 1)
    edit.add[table_part] = table_xml(
        edit.table_id(), layout.table_name or spec.name, ref, layout.headers
    )
    edit.override(table_part, CT_TABLE)
    sheet.table_rids = ["rId1"]
    edit.add[rels_path(part)] = rels_xml([("rId1", REL_TABLE, "/" + table_part)])
    edit.add[part] = sheet.xml(writer)
    return dc_replace(
        layout, last_row=last_row, keys=list(layout.keys), headers=list(layout.headers)
    )


def _column_style(styles: Styles, column: Column | None) -> int | None:
    if column is None:
        return None
    if column.number_format:
        return styles.xf(column.number_format)
    if column.type == "text":
        return styles.xf("@")  # phone numbers, ids: text, never reformatted
    return None


# -- a column added to an existing table --------------------------------------------------------


def check_column_free(sheet: str, values: list[list[Any]], col: int, rows: range) -> None:
    """Refuse to grow a table over cells that hold something (they would become table data)."""
    for r in rows:
        row = values[r - 1] if r - 1 < len(values) else []
        if col < len(row) and row[col] not in ("", None):
            raise XlcrmError(
                f"{sheet}!{cell_ref(r, col)}",
                "this cell is in the way of the table gaining a column",
                "move it elsewhere (or insert an empty column there), then run again",
            )


def widened_table(xml: bytes, table: TableInfo, last_row: int, headers: list[str]) -> bytes:
    """The table part reaching down to ``last_row`` and right over ``headers`` (the new ones)."""
    r1, c1, r2, c2 = parse_range(table.ref)
    xml = set_table_ref(xml, range_ref(r1, c1, max(r2, last_row), c2 + len(headers)))
    ids = [int(x) for x in re.findall(rb'<(?:\w+:)?tableColumn\b[^>]*?\sid="(\d+)"', xml)]
    m = re.search(rb"</(\w+:)?tableColumns>", xml)
    if m is None:
        raise XlcrmError(table.sheet, f"the {table.display_name} table part has no columns")
    prefix = m.group(1) or b""
    new = b"".join(
        b'<%stableColumn id="%d" name=%s/>'
        % (prefix, max(ids, default=0) + i, quoteattr(h).encode())
        for i, h in enumerate(headers, start=1)
    )
    xml = xml[: m.start()] + new + xml[m.start() :]
    return re.sub(
        rb'(<(?:\w+:)?tableColumns\b[^>]*?count=")(\d+)(")',
        lambda c: c.group(1) + str(int(c.group(2)) + len(headers)).encode() + c.group(3),
        xml,
        count=1,
    )


# -- xlcrm's own sheets -------------------------------------------------------------------------


def write_report(
    edit: PackageEdit,
    styles: Styles,
    writer: CellWriter,
    report: ReportSheet,
    existing: SheetInfo | None,
) -> None:
    """Write (or rewrite) a report sheet with its tables and charts.

    A sheet written before keeps its part and its place among the tabs; its old tables,
    drawing and charts are removed and written anew.
    """
    if existing is not None:
        part = existing.part
        for _, kind, target in read_rels(edit.pkg, part):
            if kind in (REL_TABLE, REL_DRAWING):
                edit.drop_tree(target)
    else:
        part, _ = edit.new_sheet(report.name, first=report.first)
    sheet = NewSheet()
    page = report.page
    if page is not None:
        sheet.landscape = page.landscape
        sheet.fit_width = page.fit_width
        sheet.breaks = list(page.breaks)
        sheet.margins = page.margins
    if report.heading:
        sheet.put(1, 0, report.heading, styles.xf(bold=True, size=14))
        sheet.heights[1] = 22
    title = styles.xf(bold=True)
    for col, width in report.widths.items():
        sheet.widths[col - 1] = width
    sheet.heights.update(report.heights)
    rels: list[tuple[str, str, str]] = []
    for block in report.blocks:
        if block.title:
            sheet.put(block.row - 1, block.col - 1, block.title, title)
        aligned = block.alignments()
        align = {j: aligned.get(j) for j in range(block.width)}
        formats = {
            j: styles.xf(block.formats.get(j), align=align[j])
            for j in range(block.width)
            if j in block.formats or align[j]
        }
        wrap = block.header and block.table is None  # a table's header row stays one line
        heads = {j: styles.xf(bold=True, align=align[j], wrap=wrap) for j in range(block.width)}
        for i, values in enumerate(block.rows):
            header = (block.table is not None or block.header) and i == 0
            for j, value in enumerate(values):
                style = heads[j] if header else formats.get(j)
                sheet.put(block.row + i, block.col - 1 + j, value, style)
        if block.table is not None:
            ref = range_ref(
                block.row,
                block.col - 1,
                block.row + max(1, block.height - 1),
                block.col - 2 + block.width,
            )
            if block.height < 2:  # a table needs a data row: an empty one
                for j in range(block.width):
                    sheet.put(block.row + 1, block.col - 1 + j, None, formats.get(j))
            table_part = edit.free_name("xl/tables/table{}.xml")
            edit.add[table_part] = table_xml(
                edit.table_id(), block.table, ref, [str(h) for h in block.rows[0]]
            )
            edit.override(table_part, CT_TABLE)
            rid = f"rId{len(rels) + 1}"
            rels.append((rid, REL_TABLE, "/" + table_part))
            sheet.table_rids.append(rid)
    if report.charts:
        first = _next_chart_number(edit)
        parts = [_chart_part(report.name, chart) for chart in report.charts]
        drawing_xml, drawing_rels, charts = drawing_and_charts(parts, first)
        drawing_part = edit.free_name("xl/drawings/drawing{}.xml")
        edit.add[drawing_part] = drawing_xml
        edit.add[rels_path(drawing_part)] = drawing_rels
        edit.override(drawing_part, CT_DRAWING)
        for i, chart_xml in enumerate(charts):
            chart_part = f"xl/charts/chart{first + i}.xml"
            edit.add[chart_part] = chart_xml
            edit.override(chart_part, CT_CHART)
        rid = f"rId{len(rels) + 1}"
        rels.append((rid, REL_DRAWING, "/" + drawing_part))
        sheet.drawing_rid = rid
    edit.put(part, sheet.xml(writer))
    if page is not None or existing is not None:
        name = existing.name if existing is not None else report.name
        area = page.print_area if page is not None else None
        edit.replace[edit.info.part] = set_print_area(edit.read(edit.info.part), name, area)
    sheet_rels = rels_path(part)
    if rels:
        edit.put(sheet_rels, rels_xml(rels))
    elif sheet_rels in edit.pkg:
        edit.put(sheet_rels, rels_xml([]))


def _next_chart_number(edit: PackageEdit) -> int:
    names: Iterable[str] = [*edit.pkg.names, *edit.add]
    used = [int(m.group(1)) for n in names if (m := re.fullmatch(r"xl/charts/chart(\d+)\.xml", n))]
    return max(used, default=0) + 1


def _chart_part(sheet: str, chart: Chart) -> ChartPart:
    block = chart.block
    col = block.col - 1
    first, last = block.row + 1, block.row + max(1, block.height - 1)
    return ChartPart(
        kind=chart.kind,
        title=chart.title,
        sheet=sheet,
        categories=(col, first, last),
        series=[(col + v, block.row) for v in chart.values],
        anchor=chart.anchor,
        width_cm=chart.width_cm,
        height_cm=chart.height_cm,
        x_title=chart.x_title,
        y_title=chart.y_title,
        stacked=chart.stacked,
        to=chart.to,
    )
