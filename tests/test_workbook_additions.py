"""New tables, new columns and xlcrm's own report sheets, written into real workbooks.

Workbooks made before a table or column existed (Stages, Customers' ``merged_into``) gain them
in the same atomic, lossless save as everything else; a report sheet (Dashboard) with native
charts is replaced whole on each refresh. Checked with openpyxl (tables, charts and their
ranges as a reader sees them), with LibreOffice (what a user sees), and byte for byte for the
parts that are not ours.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from books import blank_workbook

from addin.errors import XlcrmError
from addin.workbook import open_book
from addin.workbook.report import Block, Chart, PageSetup, ReportSheet

FIXTURES = Path(__file__).parent / "fixtures"
Csv = Callable[[Path], dict[str, list[list[str]]]]
SHARED = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml", "xl/styles.xml"}

STAGES = [
    {"stage": "Lead", "probability": 0.1, "order": 1, "idle_days": 14},
    {"stage": "Proposal", "probability": 0.4, "order": 3, "idle_days": 10},
    {"stage": "Won", "probability": 1.0, "order": 5, "notes": "签约 signed"},
]


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_package(path: Path) -> None:
    """Every part has a content type, every override names a part, every relationship
    inside the package points at a part that exists."""
    found = parts(path)
    types = found["[Content_Types].xml"].decode()
    overrides = set(re.findall(r'PartName="/([^"]+)"', types))
    defaults = set(re.findall(r'Default Extension="([^"]+)"', types))
    assert overrides <= set(found), f"overrides without parts: {overrides - set(found)}"
    for name in found:
        if name != "[Content_Types].xml":
            assert name in overrides or name.rsplit(".", 1)[-1] in defaults, name
    for name, data in found.items():
        if not name.endswith(".rels"):
            continue
        base = name.replace("_rels/", "").removesuffix(".rels")
        folder = base.rsplit("/", 1)[0] if "/" in base else ""
        for target, mode in re.findall(
            r'Target="([^"]+)"(?:\s+TargetMode="([^"]+)")?', data.decode()
        ):
            if mode == "External":
                continue
            resolved = target.lstrip("/") if target.startswith("/") else _join(folder, target)
            assert resolved in found, f"{name} points at missing {resolved}"


def _join(folder: str, target: str) -> str:
    out: list[str] = folder.split("/") if folder else []
    for piece in target.split("/"):
        if piece == "..":
            out.pop()
        elif piece not in ("", "."):
            out.append(piece)
    return "/".join(out)


@pytest.fixture
def lo_book(tmp_path: Path) -> Path:
    """A workbook LibreOffice wrote (chart, pivot table, image, VBA-free), without Stages."""
    return Path(shutil.copy(FIXTURES / "lo_features.xlsx", tmp_path / "crm.xlsx"))


# -- new CRM tables -----------------------------------------------------------------------------


def test_a_new_table_is_added_losslessly_to_a_libreoffice_workbook(lo_book: Path) -> None:
    before = parts(lo_book)
    with open_book(lo_book) as book:
        assert not book.has_table("stages")
        book.add_table("stages", STAGES)
    after = parts(lo_book)
    for name, data in before.items():
        if name not in SHARED:
            assert after[name] == data, f"{name} changed"
    check_package(lo_book)

    wb = openpyxl.load_workbook(lo_book)
    ws = wb["Stages"]
    assert wb.sheetnames[-1] == "Stages"  # last, so existing localSheetId references hold
    assert ws.tables["Stages"].ref == "A1:E4"
    assert [c.value for c in ws[1]] == ["Stage", "Probability", "Order", "Idle days", "Notes"]
    assert [c.value for c in ws["A"]][1:] == ["Lead", "Proposal", "Won"]
    assert ws["B2"].number_format == "0%"
    assert ws["A1"].font.b
    assert ws.freeze_panes == "A2"
    assert any("Lead" in str(dv.formula1) for dv in ws.data_validations.dataValidation)

    with open_book(lo_book) as book:
        rows = {r["stage"]: r for r in book.table("stages").rows()}
        assert rows["Proposal"]["probability"] == pytest.approx(0.4)
        assert rows["Won"]["notes"] == "签约 signed"
        assert book.table("customers").get("C0002")  # the old tables still read
        book.table("stages").insert({"stage": "Lost", "probability": 0, "order": 6})
    assert openpyxl.load_workbook(lo_book)["Stages"].tables["Stages"].ref == "A1:E5"


def test_libreoffice_shows_the_new_table(lo_book: Path, libreoffice_csv: Csv) -> None:
    with open_book(lo_book) as book:
        book.add_table("stages", STAGES)
    sheets = libreoffice_csv(lo_book)
    assert sheets["Stages"][:4] == [
        ["Stage", "Probability", "Order", "Idle days", "Notes"],
        ["Lead", "10%", "1", "14", ""],
        ["Proposal", "40%", "3", "10", ""],
        ["Won", "100%", "5", "", "签约 signed"],
    ]
    assert sheets["Customers"][0][0] == "id"  # and the rest of the workbook is as it was


def test_an_empty_new_table_keeps_one_blank_row_that_the_first_insert_uses(
    tmp_path: Path,
) -> None:
    path = blank_workbook(tmp_path / "crm.xlsx", "zh")
    with open_book(path) as book:
        table = book.ensure_table("duplicates")
        assert len(table) == 0
    wb = openpyxl.load_workbook(path)
    ws = wb["重复客户"]
    assert ws.tables["Duplicates"].ref == "A1:J2"
    assert ws["B1"].value == "是否合并"
    with open_book(path) as book:
        assert book.ensure_table("duplicates").name == "Duplicates"  # found, not added again
        book.table("duplicates").insert(
            {
                "keep_id": "C0001",
                "merge_id": "C0002",
                "status": "open",
                "found": dt.datetime(2026, 11, 22, 9, 30),
            }
        )
    ws = openpyxl.load_workbook(path)["重复客户"]
    assert ws.tables["Duplicates"].ref == "A1:J2"
    assert [ws["A2"].value, ws["C2"].value, ws["I2"].value] == ["P0001", "C0001", "待处理"]
    assert ws["J2"].value == dt.datetime(2026, 11, 22, 9, 30)


def test_adding_a_table_the_workbook_has_or_over_a_user_sheet_is_refused(
    lo_book: Path, tmp_path: Path
) -> None:
    with open_book(lo_book) as book, pytest.raises(XlcrmError, match="already has a Customers"):
        book.add_table("customers")
    # A sheet of notes that happens to be called like the table xlcrm wants to create.
    path = tmp_path / "notes.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Stages"
    wb.active["A1"] = "my own notes"
    wb.save(path)
    before = digest(path)
    with pytest.raises(XlcrmError) as caught, open_book(path) as book:
        assert not book.has_table("stages")
        book.add_table("stages", STAGES)
    assert "a sheet called 'Stages' exists but holds no Stages table" in str(caught.value)
    assert digest(path) == before


# -- new columns --------------------------------------------------------------------------------


def test_a_missing_column_is_added_at_the_right_end_of_the_table(lo_book: Path) -> None:
    before = parts(lo_book)
    with open_book(lo_book) as book:
        customers = book.table("customers")
        assert "merged_into" not in customers.columns
        with pytest.raises(XlcrmError, match="add a column headed 'Merged into'"):
            customers.update("C0003", {"merged_into": "C0002"})
        customers.add_column("merged_into")
        customers.add_column("merged_into")  # once is enough
        customers.update("C0003", {"merged_into": "C0002"})
        width = len(customers.columns)
    after = parts(lo_book)
    changed = {n for n in before if before[n] != after.get(n)}
    assert changed <= SHARED | {"xl/worksheets/sheet1.xml", "xl/tables/table1.xml"}
    check_package(lo_book)

    ws = openpyxl.load_workbook(lo_book)["Customers"]
    table = ws.tables["Customers"]
    last = openpyxl.utils.get_column_letter(width)
    assert table.ref == f"A1:{last}13"
    assert table.tableColumns[-1].name == "Merged into"
    assert ws[f"{last}1"].value == "Merged into"
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "C0003")
    assert row[width - 1].value == "C0002"
    with open_book(lo_book) as book:
        assert book.table("customers").get("C0003")["merged_into"] == "C0002"
        assert book.table("customers").get("C0002")["merged_into"] is None


def test_a_column_is_not_added_over_cells_that_hold_something(lo_book: Path) -> None:
    wb = openpyxl.load_workbook(lo_book)
    ws = wb["Customers"]
    last = ws.tables["Customers"].ref.split(":")[1]
    beside = openpyxl.utils.column_index_from_string(re.sub(r"\d", "", last)) + 1
    letter = openpyxl.utils.get_column_letter(beside)
    ws[f"{letter}5"] = "a note beside the table"
    wb.save(lo_book)
    before = digest(lo_book)
    with pytest.raises(XlcrmError) as caught, open_book(lo_book) as book:
        book.table("deals").update("D0002", {"stage": "Won"})
        customers = book.table("customers")
        customers.add_column("merged_into")
        customers.update("C0003", {"merged_into": "C0002"})
    assert str(caught.value).startswith(f"Customers!{letter}5: this cell is in the way")
    assert digest(lo_book) == before  # not even the Deals change: one save, all or nothing


# -- report sheets ------------------------------------------------------------------------------


def dashboard(stages: int = 3, charts: bool = True) -> ReportSheet:
    pipeline = Block(
        row=3,
        col=1,
        title="Pipeline by stage",
        table="PipelineByStage",
        rows=[["Stage", "Deals", "Amount"]]
        + [
            [s, n, a]
            for s, n, a in [("Lead", 4, 1200.0), ("方案", 2, 3400.5), ("Won", 1, 99.0)][:stages]
        ],
        formats={2: "#,##0.00"},
    )
    regions = Block(
        row=10,
        col=1,
        title="Revenue by region",
        rows=[["Region", "Revenue"], ["华东", 500], ["North", 250]],
    )
    sheet = ReportSheet(
        name="Dashboard",
        heading="CRM dashboard",
        blocks=[pipeline, regions],
        widths={1: 16, 2: 10, 3: 14},
    )
    if charts:
        sheet.charts = [
            Chart("column", "Pipeline", pipeline, values=(1, 2), anchor="F2", y_title="Deals"),
            Chart("pie", "Regions", regions, anchor="F20"),
        ]
    return sheet


def test_a_dashboard_with_native_charts(lo_book: Path) -> None:
    before = parts(lo_book)
    with open_book(lo_book) as book:
        book.put_sheet(dashboard())
    after = parts(lo_book)
    for name, data in before.items():
        if name not in SHARED:
            assert after[name] == data, f"{name} changed"
    check_package(lo_book)

    wb = openpyxl.load_workbook(lo_book)
    ws = wb["Dashboard"]
    assert ws["A1"].value == "CRM dashboard" and ws["A1"].font.b and ws["A1"].font.sz == 14
    assert ws["A2"].value == "Pipeline by stage" and ws["A2"].font.b
    assert [[c.value for c in row] for row in ws["A3:C6"]] == [
        ["Stage", "Deals", "Amount"],
        ["Lead", 4, 1200],
        ["方案", 2, 3400.5],
        ["Won", 1, 99],
    ]
    assert ws["C5"].number_format == "#,##0.00"
    assert ws.tables["PipelineByStage"].ref == "A3:C6"
    assert ws.column_dimensions["A"].width == 16
    column, pie = ws._charts
    assert type(column).__name__ == "BarChart" and column.type == "col"
    assert type(pie).__name__ == "PieChart"
    assert [s.val.numRef.f for s in column.series] == [
        "'Dashboard'!$B$4:$B$6",
        "'Dashboard'!$C$4:$C$6",
    ]
    assert [s.tx.strRef.f for s in column.series] == ["'Dashboard'!B3", "'Dashboard'!C3"]
    assert (
        column.series[0].cat.numRef.f == "'Dashboard'!$A$4:$A$6"
        or column.series[0].cat.strRef.f == "'Dashboard'!$A$4:$A$6"
    )
    assert pie.series[0].val.numRef.f == "'Dashboard'!$B$11:$B$12"
    assert column.anchor._from.col == 5 and column.anchor._from.row == 1  # F2


def test_a_refresh_replaces_the_dashboard_and_leaves_no_orphans(lo_book: Path) -> None:
    with open_book(lo_book) as book:
        book.put_sheet(dashboard())
    first = parts(lo_book)
    with open_book(lo_book) as book:
        book.put_sheet(dashboard(stages=2, charts=False))
        book.table("customers").update("C0002", {"tier": "A"})  # in the same save
    second = parts(lo_book)
    check_package(lo_book)
    original = parts(FIXTURES / "lo_features.xlsx")

    def drawn(package: dict[str, bytes]) -> set[str]:
        return {n for n in package if n.startswith(("xl/charts/", "xl/drawings/"))}

    assert drawn(first) > drawn(original)  # the dashboard's drawing and two charts …
    assert drawn(second) == drawn(original)  # … are gone again; the user's chart stays
    assert all(second[n] == original[n] for n in drawn(original))
    wb = openpyxl.load_workbook(lo_book)
    assert wb.sheetnames.count("Dashboard") == 1
    ws = wb["Dashboard"]
    assert ws._charts == []
    assert ws.tables["PipelineByStage"].ref == "A3:C5"
    assert ws["A6"].value is None  # the old third row is gone
    with open_book(lo_book) as book:
        book.put_sheet(dashboard())
    ws = openpyxl.load_workbook(lo_book)["Dashboard"]
    assert len(ws._charts) == 2
    check_package(lo_book)


def test_a_sheet_xlcrm_did_not_make_is_never_overwritten(lo_book: Path) -> None:
    before = digest(lo_book)
    with open_book(lo_book) as book, pytest.raises(XlcrmError) as caught:
        book.put_sheet(ReportSheet(name="Report", blocks=[Block(1, 1, [["x"]])]))
    assert "has a sheet called 'Report' that xlcrm did not make" in str(caught.value)
    assert digest(lo_book) == before


def test_libreoffice_opens_the_dashboard(lo_book: Path, libreoffice_csv: Csv) -> None:
    with open_book(lo_book) as book:
        book.put_sheet(dashboard())
    sheet = libreoffice_csv(lo_book)["Dashboard"]
    assert sheet[0][0] == "CRM dashboard"
    assert sheet[2][:3] == ["Stage", "Deals", "Amount"]
    assert sheet[4][:3] == ["方案", "2", "3400.5"]  # numbers as stored, like the lossless tests


def test_a_first_tab_dashboard_keeps_the_workbooks_print_areas_on_their_sheets(
    tmp_path: Path,
) -> None:
    """A sheet put first moves every other sheet one place on: the defined names that belong
    to a sheet by its index (a user's print area, a filter) must move with it."""
    path = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Customers"
    wb.active.append(["ID", "Name"])
    wb.create_sheet("Notes").append(["note"])
    wb["Notes"].print_area = "A1:B20"
    wb.active = 1  # Excel opens on Notes
    wb.save(path)
    report = dashboard()
    report.first = True
    report.page = PageSetup(print_area="A1:H40", breaks=[10])
    with open_book(path) as book:
        book.put_sheet(report)
    check_package(path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:3] == ["Dashboard", "Customers", "Notes"]
    assert wb["Notes"].print_area == "'Notes'!$A$1:$B$20"
    assert wb["Dashboard"].print_area == "'Dashboard'!$A$1:$H$40"
    assert not wb["Customers"].print_area
    assert wb.active.title == "Notes"  # still the tab it opens on
    setup = wb["Dashboard"].page_setup
    assert (setup.orientation, setup.fitToWidth, setup.fitToHeight) == ("landscape", 1, 0)
    assert [b.id for b in wb["Dashboard"].row_breaks.brk] == [9]
    with open_book(path) as book:  # a refresh: same place, same print area, nothing doubled
        book.put_sheet(report)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:3] == ["Dashboard", "Customers", "Notes"]
    assert wb["Dashboard"].print_area == "'Dashboard'!$A$1:$H$40"
    assert zipfile.ZipFile(path).read("xl/workbook.xml").count(b"_xlnm.Print_Area") == 2
