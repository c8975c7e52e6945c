"""What xlcrm reads from a package's small XML parts: sheets, relationships, Excel Tables.

Parsing stays read-only here. The few edits xlcrm makes to shared parts (a table's ``ref``, a
new state sheet) are byte-level splices in ``patch.py``, so everything else in those parts
stays exactly as the application that wrote them left it.
"""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from .package import Package, PackageError

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REL_OFFICE_DOC = NS_REL + "/officeDocument"
REL_WORKSHEET = NS_REL + "/worksheet"
REL_TABLE = NS_REL + "/table"
REL_STYLES = NS_REL + "/styles"
REL_SHARED_STRINGS = NS_REL + "/sharedStrings"
REL_STRICT_OFFICE_DOC = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
# Sheets that are neither worksheets nor chart sheets, which calamine cannot read, by the last
# part of their relationship type (Microsoft's namespace for macro sheets, ECMA's for dialogs).
OLD_SHEETS = {
    "xlMacrosheet": "an Excel 4.0 macro sheet",
    "xlIntlMacrosheet": "an Excel 4.0 international macro sheet",
    "dialogsheet": "an Excel 5.0 dialog sheet",
}
STRICT = "the file is saved as 'Strict Open XML', which xlcrm cannot read or write"
STRICT_HINT = (
    "open it in Excel and use File > Save As > 'Excel Workbook (.xlsx)' "
    "(not 'Strict Open XML Spreadsheet'), then run again"
)
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

M = f"{{{NS_MAIN}}}"
R = f"{{{NS_REL}}}"
P = f"{{{NS_PKG_REL}}}"


@dataclass
class SheetInfo:
    name: str
    sheet_id: int
    rid: str
    part: str
    state: str  # visible | hidden | veryHidden


@dataclass
class TableInfo:
    part: str
    sheet: str
    name: str
    display_name: str
    ref: str
    header_rows: int
    totals_rows: int
    columns: list[str]
    formulas: dict[int, str] = field(default_factory=dict)  # column index -> formula


@dataclass
class WorkbookInfo:
    part: str
    date1904: bool
    sheets: list[SheetInfo]
    tables: list[TableInfo]
    styles_part: str | None
    rels_part: str
    shared_parts: list[str] = field(default_factory=list)  # shared strings, styles
    old_sheets: list[tuple[str, str, str]] = field(default_factory=list)  # name, what, rId

    def sheet(self, name: str) -> SheetInfo | None:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        folded = name.casefold()
        return next((s for s in self.sheets if s.name.casefold() == folded), None)

    def tables_on(self, sheet: str) -> list[TableInfo]:
        return [t for t in self.tables if t.sheet == sheet]


def rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve(source_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def read_rels(pkg: Package, part: str) -> list[tuple[str, str, str]]:
    """(id, type, resolved target) for each relationship of ``part``."""
    path = rels_path(part)
    if path not in pkg:
        return []
    root = parse_xml(pkg, path)
    out = []
    for rel in root.iter(P + "Relationship"):
        if rel.get("TargetMode") == "External":
            continue
        out.append((rel.get("Id", ""), rel.get("Type", ""), resolve(part, rel.get("Target", ""))))
    return out


def parse_xml(pkg: Package, part: str, data: bytes | None = None) -> ET.Element:
    """A part's XML tree; a syntax error names the part instead of ending in a traceback."""
    try:
        return ET.fromstring(pkg.read(part) if data is None else data)
    except ET.ParseError as exc:
        raise PackageError(
            f"the file is damaged: part {part} is not well-formed XML ({exc})",
            "open it in Excel (which offers to repair it) and save it again, or use a backup",
        ) from None


def read_workbook_info(pkg: Package) -> WorkbookInfo:
    root_rels = read_rels(pkg, "")
    kinds = {kind for _, kind, _ in root_rels}
    if REL_STRICT_OFFICE_DOC in kinds and REL_OFFICE_DOC not in kinds:
        raise PackageError(STRICT, STRICT_HINT)
    workbook_part = next((target for _, kind, target in root_rels if kind == REL_OFFICE_DOC), None)
    if workbook_part is None or workbook_part not in pkg:
        what = "has no workbook part" if workbook_part is None else f"lacks {workbook_part}"
        raise PackageError(
            f"the package {what}: it is not an Excel workbook, or it is damaged",
            "open it in Excel or LibreOffice and save it as an Excel Workbook (.xlsx)",
        )
    data = pkg.read(workbook_part)
    if NS_STRICT.encode() in data[:2000]:
        raise PackageError(STRICT, STRICT_HINT)
    root = parse_xml(pkg, workbook_part, data)
    pr = root.find(M + "workbookPr")
    date1904 = pr is not None and pr.get("date1904") in ("1", "true")
    rels = {rid: (kind, target) for rid, kind, target in read_rels(pkg, workbook_part)}
    sheets = []
    old_sheets = []
    for el in root.iter(M + "sheet"):
        rid = el.get(R + "id", "")
        kind, target = rels.get(rid, ("", ""))
        old = OLD_SHEETS.get(kind.rsplit("/", 1)[-1])
        if rid not in rels:
            # Excel keeps the tab of an Excel 5.0 VBA module sheet with no part behind it.
            old = "an Excel 5.0 VBA module sheet (a tab with no content)"
        if old is not None:
            old_sheets.append((el.get("name", ""), old, rid))
        if kind != REL_WORKSHEET:
            continue  # chart sheets, dialog sheets: not tables
        sheets.append(
            SheetInfo(
                el.get("name", ""),
                int(el.get("sheetId", "0")),
                rid,
                target,
                el.get("state", "visible"),
            )
        )
    styles = next((t for k, t in rels.values() if k == REL_STYLES), None)
    tables = []
    for sheet in sheets:
        for _, kind, target in read_rels(pkg, sheet.part):
            if kind == REL_TABLE and target in pkg:
                tables.append(_read_table(pkg, target, sheet.name))
    shared = [t for k, t in rels.values() if k in (REL_STYLES, REL_SHARED_STRINGS)]
    return WorkbookInfo(
        workbook_part,
        date1904,
        sheets,
        tables,
        styles,
        rels_path(workbook_part),
        shared,
        old_sheets,
    )


def _read_table(pkg: Package, part: str, sheet: str) -> TableInfo:
    root = parse_xml(pkg, part)
    columns: list[str] = []
    formulas: dict[int, str] = {}
    for j, col in enumerate(root.iter(M + "tableColumn")):
        columns.append(col.get("name", ""))
        formula = col.find(M + "calculatedColumnFormula")
        if formula is not None and formula.text and formula.get("array") not in ("1", "true"):
            formulas[j] = formula.text
    return TableInfo(
        part=part,
        sheet=sheet,
        name=root.get("name", ""),
        display_name=root.get("displayName", root.get("name", "")),
        ref=root.get("ref", ""),
        header_rows=int(root.get("headerRowCount", "1")),
        totals_rows=int(root.get("totalsRowCount", "0")),
        columns=columns,
        formulas=formulas,
    )
