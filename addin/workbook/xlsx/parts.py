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
    root = ET.fromstring(pkg.read(path))
    out = []
    for rel in root.iter(P + "Relationship"):
        if rel.get("TargetMode") == "External":
            continue
        out.append((rel.get("Id", ""), rel.get("Type", ""), resolve(part, rel.get("Target", ""))))
    return out


def read_workbook_info(pkg: Package) -> WorkbookInfo:
    workbook_part = next(
        (target for _, kind, target in read_rels(pkg, "") if kind == REL_OFFICE_DOC), None
    )
    if workbook_part is None or workbook_part not in pkg:
        raise PackageError("no workbook part in the package (is this an Excel file?)")
    data = pkg.read(workbook_part)
    if NS_STRICT.encode() in data[:2000]:
        raise PackageError(
            "the file is saved as 'Strict Open XML', which xlcrm does not write; "
            "save it as an ordinary Excel Workbook (.xlsx) first"
        )
    root = ET.fromstring(data)
    pr = root.find(M + "workbookPr")
    date1904 = pr is not None and pr.get("date1904") in ("1", "true")
    rels = {rid: (kind, target) for rid, kind, target in read_rels(pkg, workbook_part)}
    sheets = []
    for el in root.iter(M + "sheet"):
        rid = el.get(R + "id", "")
        kind, target = rels.get(rid, ("", ""))
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
    return WorkbookInfo(workbook_part, date1904, sheets, tables, styles, rels_path(workbook_part))


def _read_table(pkg: Package, part: str, sheet: str) -> TableInfo:
    root = ET.fromstring(pkg.read(part))
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
