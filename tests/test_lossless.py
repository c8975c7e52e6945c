"""Lossless saves: every part xlcrm does not own comes out byte for byte, what it writes reads
back exactly, and the result still opens in openpyxl and in a real LibreOffice.

The LibreOffice-made fixtures (``fixtures/make_fixtures.py``) carry what a user's workbook
carries: a chart, a pivot table, an image, comments, conditional formats, data validation,
defined names, a user column and VBA. They are copied to ``tmp_path`` before any write.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from books import blank_workbook

from addin.errors import XlcrmError
from addin.workbook import open_book

FIXTURES = Path(__file__).parent / "fixtures"
Csv = Callable[[Path], dict[str, list[list[str]]]]
Convert = Callable[[Path, str, Path], Path]  # conftest.libreoffice_convert

# -- reading a package the way a byte-for-byte comparison needs it ------------------------------

_ROW = re.compile(rb'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)', re.DOTALL)
_CELL = re.compile(rb'<c r="([A-Z]+)\d+"([^>]*?)(?:/>|>.*?</c>)', re.DOTALL)
_STYLE = re.compile(rb'\ss="(\d+)"')
_DIMENSION = re.compile(rb'<dimension ref="([^"]*)"')
_REF = re.compile(rb'(<table\b[^>]*?\sref=")([^"]*)"')
_FILTER_REF = re.compile(rb'(<autoFilter\b[^>]*?\sref=")([^"]*)"')


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def stored(path: Path) -> dict[str, tuple[int, int, int, bytes]]:
    """Per part: CRC, compression method, size and the compressed bytes exactly as stored."""
    out = {}
    with zipfile.ZipFile(path) as z, path.open("rb") as f:
        for info in z.infolist():
            f.seek(info.header_offset)
            header = f.read(30)
            name_len, extra_len = struct.unpack("<HH", header[26:30])
            f.seek(name_len + extra_len, io.SEEK_CUR)
            raw = f.read(info.compress_size)
            out[info.filename] = (info.CRC, info.compress_type, info.file_size, raw)
    return out


def rows_of(sheet_xml: bytes) -> dict[int, bytes]:
    start = sheet_xml.index(b"<sheetData")
    end = sheet_xml.index(b"</sheetData>")
    return {int(m[1]): m[0] for m in _ROW.finditer(sheet_xml, start, end)}


def cells_of(row_xml: bytes) -> dict[str, bytes]:
    return {m[1].decode(): m[0] for m in _CELL.finditer(row_xml)}


def style_of(cell: bytes | None) -> int:
    """The cell format index; a missing cell or a missing ``s`` is format 0."""
    if cell is None:
        return 0
    m = _STYLE.search(cell.split(b">", 1)[0])
    return int(m[1]) if m else 0


def outside_sheet_data(sheet_xml: bytes) -> bytes:
    """The part with the rows and the dimension's range taken out."""
    start = sheet_xml.index(b"<sheetData")
    end = sheet_xml.index(b"</sheetData>")
    rest = sheet_xml[:start] + sheet_xml[end:]
    return _DIMENSION.sub(b'<dimension ref="?"', rest)


def table_refs(table_xml: bytes) -> tuple[str, str]:
    ref = _REF.search(table_xml)
    autofilter = _FILTER_REF.search(table_xml)
    assert ref and autofilter
    return ref[2].decode(), autofilter[2].decode()


def without_refs(table_xml: bytes) -> bytes:
    return _FILTER_REF.sub(rb'\1?"', _REF.sub(rb'\1?"', table_xml))


def letters(first: str, last: str) -> list[str]:
    return [chr(c) for c in range(ord(first), ord(last) + 1)]


# -- the LibreOffice workbook: upsert customers, update deals, save ------------------------------

CUSTOMERS_PART = "xl/worksheets/sheet1.xml"
DEALS_PART = "xl/worksheets/sheet2.xml"
CUSTOMERS_TABLE = "xl/tables/table1.xml"
DEALS_TABLE = "xl/tables/table2.xml"

CUSTOMER_ROWS = [
    {
        "id": "C0002",
        "name": "艾丽斯·约翰逊 (Alice Johnson)",
        "notes": "改用微信联系，周五回访",
        "last_contact": dt.date(2026, 3, 1),
    },
    {"id": "C0005", "tier": "A", "tags": "consulting;重点客户", "updated": dt.date(2026, 3, 2)},
    {
        "name": "周杰",
        "company": "重庆渝中贸易有限公司",
        "email": "zhoujie@yuzhong-trade.cn",
        "phone": "+86 135 0000 0001",
        "status": "Lead",
        "tier": "B",
        "created": dt.date(2026, 3, 3),
        "notes": "展会名片",
    },
    {
        "name": "Grace Hopper",
        "company": "Cobol & Co <Navy>",
        "email": "grace@cobol.example",
        "status": "Active",
        "tier": "A",
        "created": dt.date(2026, 3, 4),
        "last_contact": dt.date(2026, 3, 5),
    },
]
NEW_CUSTOMER_IDS = ["C0013", "C0014"]
DEAL_UPDATE = {"stage": "Won", "closed": dt.date(2026, 3, 6), "notes": "已签约 signed"}
NEW_DEAL = {
    "customer_id": "C0013",
    "title": "渝中 首单",
    "stage": "Proposal",
    "amount": 1234.5,
    "currency": "CNY",
    "created": dt.date(2026, 3, 7),
}
# Sheet rows xlcrm rewrites, and in the existing ones the columns it writes.
CUSTOMERS_WRITTEN = {3: {"B", "P", "Q"}, 6: {"K", "L", "O"}, 14: None, 15: None}
DEALS_WRITTEN = {3: {"D", "M", "P"}, 10: None}


@dataclass
class Saved:
    before: Path
    after: Path
    rows_before: dict[str, list[dict[str, Any]]]
    warnings: list[str] = field(default_factory=list)


def _read_all(path: Path) -> dict[str, list[dict[str, Any]]]:
    with open_book(path) as book:
        return {name: list(book.table(name).rows()) for name in ("customers", "deals")}


@pytest.fixture(scope="module")
def lo_saved(tmp_path_factory: pytest.TempPathFactory) -> Saved:
    folder = tmp_path_factory.mktemp("lo_features")
    before = shutil.copy(FIXTURES / "lo_features.xlsx", folder / "before.xlsx")
    after = shutil.copy(FIXTURES / "lo_features.xlsx", folder / "crm.xlsx")
    saved = Saved(Path(before), Path(after), _read_all(Path(before)))
    with open_book(after) as book:
        counts = book.table("customers").upsert_all(CUSTOMER_ROWS)
        assert (counts.inserted, counts.updated) == (2, 2)
        deals = book.table("deals")
        assert deals.update("D0002", DEAL_UPDATE)
        assert deals.insert(NEW_DEAL) == "D0009"
        book.save()
        saved.warnings = list(book.warnings)
    return saved


def test_every_other_part_is_copied_as_stored(lo_saved: Saved) -> None:
    before, after = stored(lo_saved.before), stored(lo_saved.after)
    assert list(after) == list(before)  # same parts, same order
    changed = {n for n in before if before[n] != after[n]}
    assert changed == {CUSTOMERS_PART, DEALS_PART, CUSTOMERS_TABLE, DEALS_TABLE}
    # The same check through an ordinary ZIP reader: decompressed content is identical too.
    plain_before, plain_after = parts(lo_saved.before), parts(lo_saved.after)
    for name in set(before) - changed:
        assert plain_after[name] == plain_before[name], name
    for name in (  # what a user put in the workbook, all present and untouched
        "xl/charts/chart1.xml",
        "xl/pivotTables/pivotTable1.xml",
        "xl/pivotCache/pivotCacheDefinition1.xml",
        "xl/pivotCache/pivotCacheRecords1.xml",
        "xl/media/image1.png",
        "xl/comments1.xml",
        "xl/drawings/vmlDrawing1.vml",
        "xl/workbook.xml",  # defined names, sheet order
        "xl/styles.xml",
        "xl/sharedStrings.xml",
    ):
        assert name in before and name not in changed, name
    assert lo_saved.warnings == []


def test_tables_and_their_autofilters_grow_to_the_new_rows(lo_saved: Saved) -> None:
    before, after = parts(lo_saved.before), parts(lo_saved.after)
    assert table_refs(before[CUSTOMERS_TABLE]) == ("A1:R13", "A1:R13")
    assert table_refs(after[CUSTOMERS_TABLE]) == ("A1:R15", "A1:R15")
    assert table_refs(after[DEALS_TABLE]) == ("A1:P10", "A1:P10")
    for name in (CUSTOMERS_TABLE, DEALS_TABLE):
        assert without_refs(after[name]) == without_refs(before[name])


def test_changed_sheets_keep_everything_outside_the_rows(lo_saved: Saved) -> None:
    before, after = parts(lo_saved.before), parts(lo_saved.after)
    for name in (CUSTOMERS_PART, DEALS_PART):
        assert outside_sheet_data(after[name]) == outside_sheet_data(before[name]), name
    customers = after[CUSTOMERS_PART]
    assert _DIMENSION.search(customers)[1] == b"A1:R15"  # type: ignore[index]
    assert _DIMENSION.search(after[DEALS_PART])[1] == b"A1:P10"  # type: ignore[index]
    # What a user set up on the sheet, spelled out: all still there, exactly as LibreOffice wrote.
    for element in (
        b'<conditionalFormatting sqref="K2:K13">',
        b'<dataValidation allowBlank="true" error="Choose one of: A, B, C"',
        b'<legacyDrawing r:id="rId2"/>',
        b'<tableParts><tablePart r:id="rId3"/></tableParts>',
    ):
        assert element in customers


def test_untouched_rows_and_cells_are_byte_identical(lo_saved: Saved) -> None:
    before, after = parts(lo_saved.before), parts(lo_saved.after)
    for name, written in ((CUSTOMERS_PART, CUSTOMERS_WRITTEN), (DEALS_PART, DEALS_WRITTEN)):
        rows_before, rows_after = rows_of(before[name]), rows_of(after[name])
        assert set(rows_after) == set(rows_before) | {n for n, c in written.items() if c is None}
        for n, row in rows_before.items():
            if n not in written:
                assert rows_after[n] == row, f"{name} row {n}"
                continue
            cells_before, cells_after = cells_of(row), cells_of(rows_after[n])
            for col, cell in cells_before.items():
                if col not in written[n]:  # type: ignore[operator]
                    assert cells_after[col] == cell, f"{name} {col}{n}"


def test_user_column_birthday_is_untouched(lo_saved: Saved) -> None:
    before, after = parts(lo_saved.before), parts(lo_saved.after)
    rows_before, rows_after = rows_of(before[CUSTOMERS_PART]), rows_of(after[CUSTOMERS_PART])
    for n in range(2, 14):
        assert cells_of(rows_after[n])["R"] == cells_of(rows_before[n])["R"]
    birthdays = {r["id"]: r["Birthday"] for r in _read_all(lo_saved.after)["customers"]}
    assert birthdays["C0001"] == dt.date(1985, 3, 12)
    assert birthdays["C0005"] == dt.date(1978, 11, 23)
    assert birthdays["C0002"] is None
    assert birthdays == {
        **{r["id"]: r["Birthday"] for r in lo_saved.rows_before["customers"]},
        "C0013": None,
        "C0014": None,
    }


def test_new_rows_copy_the_styles_of_the_row_above(lo_saved: Saved) -> None:
    after = parts(lo_saved.after)
    for name, template, new_rows, last_col in (
        (CUSTOMERS_PART, 13, (14, 15), "R"),
        (DEALS_PART, 9, (10,), "P"),
    ):
        rows = rows_of(after[name])
        above = cells_of(rows[template])
        assert b'ht="12.8"' in rows[template]
        for n in new_rows:
            assert b'ht="12.8"' in rows[n].split(b">", 1)[0]
            cells = cells_of(rows[n])
            for col in letters("A", last_col):
                assert style_of(cells.get(col)) == style_of(above.get(col)), f"{name} {col}{n}"
    # The styles part itself was not touched: the date columns were already date-formatted.
    assert parts(lo_saved.after)["xl/styles.xml"] == parts(lo_saved.before)["xl/styles.xml"]


def test_reading_back_gives_what_was_written(lo_saved: Saved) -> None:
    expected = {name: [dict(r) for r in rows] for name, rows in lo_saved.rows_before.items()}
    by_id = {r["id"]: r for r in expected["customers"]}
    for change in CUSTOMER_ROWS[:2]:
        by_id[change["id"]].update(change)
    keys = list(expected["customers"][0])
    for new_id, row in zip(NEW_CUSTOMER_IDS, CUSTOMER_ROWS[2:]):
        expected["customers"].append({**dict.fromkeys(keys), **row, "id": new_id})
    deal = next(r for r in expected["deals"] if r["id"] == "D0002")
    deal.update(DEAL_UPDATE)
    keys = list(expected["deals"][0])
    expected["deals"].append({**dict.fromkeys(keys), **NEW_DEAL, "id": "D0009"})

    got = _read_all(lo_saved.after)
    assert got == expected
    assert got["customers"][12]["created"] == dt.date(2026, 3, 3)  # typed, not a serial number
    assert got["customers"][1]["last_contact"] == dt.date(2026, 3, 1)


def test_openpyxl_loads_the_saved_workbook(lo_saved: Saved) -> None:
    wb = openpyxl.load_workbook(lo_saved.after)
    assert wb.sheetnames == ["Customers", "Deals", "Report"]
    ws = wb["Customers"]
    assert ws.tables["Customers"].ref == "A1:R15"
    assert [ws[f"{c}14"].value for c in "ABC"] == ["C0013", "周杰", "重庆渝中贸易有限公司"]
    assert ws["C15"].value == "Cobol & Co <Navy>"
    assert ws["N14"].value == dt.datetime(2026, 3, 3)
    assert ws["N14"].is_date
    assert ws["B3"].value == "艾丽斯·约翰逊 (Alice Johnson)"
    assert ws["R2"].value == dt.datetime(1985, 3, 12)
    assert {"TopDeals", "CustomerIds"} <= set(wb.defined_names)
    assert "TierColumn" in ws.defined_names
    assert wb["Deals"]["D3"].value == "Won"


@pytest.mark.libreoffice
def test_libreoffice_shows_the_new_and_updated_rows(lo_saved: Saved, libreoffice_csv: Csv) -> None:
    before = libreoffice_csv(lo_saved.before)
    after = libreoffice_csv(lo_saved.after)
    assert set(after) == {"Customers", "Deals", "Report"}

    customers = {row[0]: row for row in before["Customers"]}
    customers["C0002"][1] = "艾丽斯·约翰逊 (Alice Johnson)"
    customers["C0002"][15] = "2026-03-01"
    customers["C0002"][16] = "改用微信联系，周五回访"
    customers["C0005"][10] = "A"
    customers["C0005"][11] = "consulting;重点客户"
    customers["C0005"][14] = "2026-03-02"
    c0013 = ["C0013", "周杰", "重庆渝中贸易有限公司", "zhoujie@yuzhong-trade.cn"]
    c0013 += ["+86 135 0000 0001", "", "", "", "", "Lead", "B", "", "", "2026-03-03", "", ""]
    c0013 += ["展会名片", ""]
    c0014 = ["C0014", "Grace Hopper", "Cobol & Co <Navy>", "grace@cobol.example"]
    c0014 += ["", "", "", "", "", "Active", "A", "", "", "2026-03-04", "", "2026-03-05", "", ""]
    assert after["Customers"] == [*customers.values(), c0013, c0014]

    deals = {row[0]: row for row in before["Deals"]}
    deals["D0002"][3] = "Won"
    deals["D0002"][12] = "2026-03-06"
    deals["D0002"][15] = "已签约 signed"
    new_deal = ["D0009", "C0013", "渝中 首单", "Proposal", "1234.5", "CNY", "", "", "", "", ""]
    new_deal += ["2026-03-07", "", "", "", ""]
    assert after["Deals"] == [*deals.values(), new_deal]

    report = after["Report"]
    assert report[0][0] == "Deal report"
    assert ["stage", "Sum - amount"] in report  # the pivot table's output is still there
    assert any(row[0] == "Total Result" for row in report)
    assert report[-6:] == before["Report"][-6:]  # the stage-targets block


def test_first_state_save_adds_only_the_state_sheet(tmp_path: Path) -> None:
    """xlcrm's state goes in a very-hidden sheet; adding it touches one element in each of the
    three parts that list sheets, and nothing else (defined names keep their sheet indexes)."""
    path = Path(shutil.copy(FIXTURES / "lo_features.xlsx", tmp_path / "crm.xlsx"))
    before = parts(path)
    with open_book(path) as book:
        book.state["sync:maildir:/srv/mail/sales"] = '{"uid": 42}'
        book.table("customers").update("C0001", {"tier": "B"})
    after = parts(path)
    assert set(after) - set(before) == {"xl/worksheets/sheet4.xml"}
    changed = {n for n in before if before[n] != after[n]}
    assert changed == {
        "xl/worksheets/sheet1.xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "[Content_Types].xml",
    }
    for name, added in (
        ("xl/workbook.xml", rb'<sheet name="_xlcrm" sheetId="4" state="veryHidden" r:id="[^"]+"/>'),
        (
            "xl/_rels/workbook.xml.rels",
            rb'<Relationship Id="[^"]+" Type="[^"]+/worksheet" '
            rb'Target="worksheets/sheet4.xml"/>',
        ),
        ("[Content_Types].xml", rb'<Override PartName="/xl/worksheets/sheet4.xml" [^>]+/>'),
    ):
        assert re.sub(added, b"", after[name], count=1) == before[name], name
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Customers", "Deals", "Report", "_xlcrm"]
    assert wb["_xlcrm"].sheet_state == "veryHidden"
    assert "ReportTitle" in wb["Report"].defined_names
    with open_book(path) as book:
        assert book.state["sync:maildir:/srv/mail/sales"] == '{"uid": 42}'
        assert book.table("customers").get("C0001")["tier"] == "B"


# -- the macro workbook ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def xlsm_saved(tmp_path_factory: pytest.TempPathFactory) -> Saved:
    folder = tmp_path_factory.mktemp("lo_macro")
    before = Path(shutil.copy(FIXTURES / "lo_macro.xlsm", folder / "before.xlsm"))
    after = Path(shutil.copy(FIXTURES / "lo_macro.xlsm", folder / "crm.xlsm"))
    saved = Saved(before, after, _read_all_customers(before))
    with open_book(after) as book:
        customers = book.table("customers")
        customers.update("C0001", {"notes": "宏工作簿：已更新", "tier": "B"})
        customers.insert({"name": "宏 新客户", "company": "苏州工业园区", "created": "2026-04-01"})
    return saved


def _read_all_customers(path: Path) -> dict[str, list[dict[str, Any]]]:
    with open_book(path) as book:
        return {"customers": list(book.table("customers").rows())}


def test_xlsm_keeps_its_vba_project_and_content_types(xlsm_saved: Saved) -> None:
    before, after = stored(xlsm_saved.before), stored(xlsm_saved.after)
    assert list(after) == list(before)
    changed = {n for n in before if before[n] != after[n]}
    assert changed == {"xl/worksheets/sheet1.xml", "xl/tables/table1.xml"}
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
    assert after["[Content_Types].xml"] == before["[Content_Types].xml"]
    types = parts(xlsm_saved.after)["[Content_Types].xml"]
    assert b"application/vnd.ms-excel.sheet.macroEnabled.main+xml" in types
    rows = _read_all_customers(xlsm_saved.after)["customers"]
    assert [r["id"] for r in rows] == ["C0001", "C0002", "C0003", "C0004"]
    assert rows[0]["notes"] == "宏工作簿：已更新"
    assert rows[3]["created"] == dt.date(2026, 4, 1)


@pytest.mark.libreoffice
def test_xlsm_still_opens_in_libreoffice_with_its_macros(
    xlsm_saved: Saved, libreoffice_csv: Csv, libreoffice_convert: Convert, tmp_path: Path
) -> None:
    sheets = libreoffice_csv(xlsm_saved.after)
    rows = sheets["Customers"]
    assert rows[1][0] == "C0001"
    assert rows[1][10] == "B"
    assert rows[1][16] == "宏工作簿：已更新"
    assert rows[4][:3] == ["C0004", "宏 新客户", "苏州工业园区"]
    assert rows[4][13] == "2026-04-01"
    # LibreOffice loaded the VBA project: saving again from LibreOffice writes the module back.
    libreoffice_convert(xlsm_saved.after, "xlsm:Calc MS Excel 2007 VBA XML", tmp_path / "out")
    with zipfile.ZipFile(tmp_path / "out" / "crm.xlsm") as z:
        assert b"Module=CrmMacros" in z.read("xl/vbaProject.bin")


# -- a workbook made by `xlcrm init` -----------------------------------------------------------


@pytest.fixture(params=["en", "zh"])
def new_book(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return blank_workbook(tmp_path / "crm.xlsx", request.param)


def _sheet_xml(path: Path, part: str = "xl/worksheets/sheet1.xml") -> bytes:
    return parts(path)[part]


def test_empty_table_reuses_its_blank_row_then_grows(new_book: Path) -> None:
    assert table_refs(parts(new_book)["xl/tables/table1.xml"]) == ("A1:U2", "A1:U2")
    with open_book(new_book) as book:
        customers = book.table("customers")
        sheet = customers.layout.sheet
        ids = customers.insert_all(
            [
                {"name": "张伟", "status": "Lead", "created": dt.date(2026, 1, 5)},
                {"name": "Ann Lee", "created": "2026-01-06", "last_contact": dt.date(2026, 2, 1)},
                {"name": "王芳", "updated": dt.datetime(2026, 1, 7, 15, 30)},
            ]
        )
    assert ids == ["C0001", "C0002", "C0003"]
    after = parts(new_book)
    assert table_refs(after["xl/tables/table1.xml"]) == ("A1:U4", "A1:U4")
    assert sorted(rows_of(after["xl/worksheets/sheet1.xml"])) == [1, 2, 3, 4]

    ws = openpyxl.load_workbook(new_book)[sheet]
    assert [ws[f"A{n}"].value for n in (2, 3, 4)] == ids  # row 2 was the blank row
    assert ws["J2"].value == ("潜在" if sheet == "客户" else "Lead")
    for ref, value in (
        ("N2", dt.datetime(2026, 1, 5)),
        ("N3", dt.datetime(2026, 1, 6)),
        ("P3", dt.datetime(2026, 2, 1)),
        ("O4", dt.datetime(2026, 1, 7)),  # a date column: the time of day is not kept
    ):
        assert ws[ref].value == value, ref
        assert ws[ref].is_date, ref
        assert ws[ref].number_format == "yyyy-mm-dd", ref
    with open_book(new_book) as book:
        rows = list(book.table("customers").rows())
    assert [(r["id"], r["name"], r["created"]) for r in rows] == [
        ("C0001", "张伟", dt.date(2026, 1, 5)),
        ("C0002", "Ann Lee", dt.date(2026, 1, 6)),
        ("C0003", "王芳", None),
    ]
    assert rows[0]["status"] == "Lead"
    assert rows[2]["updated"] == dt.date(2026, 1, 7)


EXACT_TEXTS = [
    "_x0041_",  # Excel's escape syntax, meant literally
    "a_x000D_b",
    "_x005F_",
    "line1\r\nline2",
    "only\rCR",
    "\ttab, trailing space ",
    "  leading spaces",
    "emoji 😀 和中文",
    "<b>&amp;</b> \"q\" 'a'",
]


def test_text_round_trips_exactly(new_book: Path) -> None:
    with open_book(new_book) as book:
        book.table("customers").insert_all({"notes": text} for text in EXACT_TEXTS)
    with open_book(new_book) as book:
        notes = [r["notes"] for r in book.table("customers").rows()]
    assert notes == EXACT_TEXTS


def test_back_to_back_escape_like_text_round_trips(new_book: Path) -> None:
    """Two escape-like sequences sharing an underscore: each must be kept literally."""
    texts = ["_x0041_x0042_", "_x005F_x0041_", "C:\\dump_x0030_x0031_.txt"]
    with open_book(new_book) as book:
        book.table("customers").insert_all({"notes": text} for text in texts)
    with open_book(new_book) as book:
        notes = [r["notes"] for r in book.table("customers").rows()]
    assert notes == texts


def test_control_characters_are_removed(new_book: Path) -> None:
    with open_book(new_book) as book:
        book.table("customers").insert(
            {"name": "A\x00B\x07C\x1bD\x0bE\x0cF\ufffeG", "notes": "tab\tand\nnewline stay"}
        )
    with open_book(new_book) as book:
        row = book.table("customers").get("C0001")
    assert row["name"] == "ABCDEFG"
    assert row["notes"] == "tab\tand\nnewline stay"


def test_overlong_text_is_cut_with_a_visible_marker_and_a_warning(new_book: Path) -> None:
    text = "".join(f"第{i}行 line {i}; " for i in range(4000))[:40_000]
    assert len(text) == 40_000
    with open_book(new_book) as book:
        customers = book.table("customers")
        sheet = customers.layout.sheet
        customers.insert({"name": "长备注", "notes": text})
        book.save()
        assert book.warnings == [f"{sheet}!Q2: text longer than Excel's 32,767 characters was cut"]
    with open_book(new_book) as book:
        notes = book.table("customers").get("C0001")["notes"]
    assert len(notes) <= 32_767
    kept, marker = notes.split("…[cut by xlcrm", 1)
    assert text.startswith(kept)
    assert len(kept) > 32_000
    assert marker == f": {40_000 - len(kept)} more characters]"


def test_formula_like_text_is_stored_as_text(new_book: Path) -> None:
    texts = {"name": '=HYPERLINK("x")', "tags": "=1+1", "notes": "@SUM(A1:A3)", "phone": "+86 1"}
    workbook_before = parts(new_book)["xl/workbook.xml"]
    with open_book(new_book) as book:
        book.table("customers").insert(texts)
    sheet = _sheet_xml(new_book)
    assert b"<f>" not in sheet and b"<f " not in sheet
    assert re.search(rb'<c r="B2"[^>]* t="inlineStr"><is><t>=HYPERLINK\("x"\)</t></is></c>', sheet)
    assert parts(new_book)["xl/workbook.xml"] == workbook_before  # no recalculation asked
    with open_book(new_book) as book:
        row = book.table("customers").get("C0001")
    assert {k: row[k] for k in texts} == texts
    ws = openpyxl.load_workbook(new_book).worksheets[0]
    assert (ws["B2"].value, ws["B2"].data_type) == ('=HYPERLINK("x")', "s")


def _near_the_row_limit(path: Path, header_row: int) -> Path:
    """A new workbook whose Customers table (header + one blank row) sits at ``header_row``.

    Made by editing the sheet and table XML, as Excel would store a table placed there.
    """
    blank_workbook(path)
    shift = header_row - 1

    def renumber(m: re.Match[bytes]) -> bytes:
        return m[1] + str(int(m[2]) + shift).encode() + b'"'

    source = parts(path)
    sheet = source["xl/worksheets/sheet1.xml"]
    sheet = re.sub(rb'(<row r=")(\d+)"', renumber, sheet)
    sheet = re.sub(rb'(<c r="[A-Z]+)(\d+)"', renumber, sheet)
    new_ref = f"A{header_row}:R{header_row + 1}".encode()
    sheet = sheet.replace(b'<dimension ref="A1:U2"/>', b'<dimension ref="' + new_ref + b'"/>')
    source["xl/worksheets/sheet1.xml"] = sheet
    table = source["xl/tables/table1.xml"]
    assert table.count(b'ref="A1:U2"') == 2  # the table and its autofilter
    source["xl/tables/table1.xml"] = table.replace(b'ref="A1:U2"', b'ref="' + new_ref + b'"')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in source.items():
            z.writestr(name, data)
    return path


def test_row_limit_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    path = _near_the_row_limit(tmp_path / "full.xlsx", header_row=1_048_574)
    original = path.read_bytes()
    with open_book(path) as book:
        customers = book.table("customers")
        assert customers.layout.last_row == 1_048_575
        with pytest.raises(XlcrmError) as err:
            customers.insert_all([{"name": "a"}, {"name": "b"}, {"name": "c"}])
        assert str(err.value) == (
            "Customers!1048577: the Customers table would pass Excel's limit of 1,048,576 "
            "rows\n  hint: archive old rows into another workbook first"
        )
        assert len(customers) == 0
        assert book.save() is False
        assert path.read_bytes() == original

        # Up to the last row of the sheet is fine...
        assert customers.insert_all([{"name": "a"}, {"name": "b"}]) == ["C0001", "C0002"]
        assert book.save() is True
        saved = path.read_bytes()
        # ...one more is not, and the file stays as it was.
        with pytest.raises(XlcrmError, match="1048577"):
            customers.insert({"name": "c"})
        assert book.save() is False
    assert path.read_bytes() == saved
    after = parts(path)
    assert table_refs(after["xl/tables/table1.xml"]) == ("A1048574:R1048576",) * 2
    last = rows_of(after["xl/worksheets/sheet1.xml"])[1_048_576]
    assert b"<t>C0002</t>" in last and b"<t>b</t>" in last


def test_dates_in_a_plain_user_sheet_get_a_date_format(tmp_path: Path) -> None:
    """A list a person typed (no Excel Table, no formats): the dates xlcrm adds look like dates."""
    path = tmp_path / "mine.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Customers"
    ws.append(["ID", "Name", "Email", "Created"])
    ws.append(["C0001", "Li Lei", "li@example.cn", "2026-01-02"])
    wb.save(path)
    before = parts(path)
    with open_book(path) as book:
        customers = book.table("customers")
        customers.update("C0001", {"created": dt.date(2026, 1, 3)})
        customers.insert({"name": "韩梅梅", "created": dt.date(2026, 5, 6)})
    after = parts(path)
    assert {n for n in before if before[n] != after[n]} == {
        "xl/worksheets/sheet1.xml",
        "xl/styles.xml",
    }
    ws = openpyxl.load_workbook(path)["Customers"]
    for ref, value in (("D2", dt.datetime(2026, 1, 3)), ("D3", dt.datetime(2026, 5, 6))):
        assert ws[ref].value == value
        assert ws[ref].is_date
        assert ws[ref].number_format == "yyyy-mm-dd"
    assert [ws[f"{c}3"].value for c in "AB"] == ["C0002", "韩梅梅"]


def test_changed_cells_are_spliced_in_column_order_keeping_the_others() -> None:
    """The fast path for updates: cells found by reference, new ones inserted in order, the
    untouched ones byte for byte — and a row whose cells lack ``r`` still patches correctly."""
    from addin.workbook.xlsx.sheet import CellWriter, CellWrites, SheetPatcher
    from addin.workbook.xlsx.styles import Styles

    def patch(row_xml: bytes, values: dict[int, Any]) -> bytes:
        sheet = (
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>h</t></is></c></row>'
            + row_xml
            + b"</sheetData></worksheet>"
        )
        writer = CellWriter(Styles(None), False)
        out = b"".join(SheetPatcher(sheet, writer, "S").apply(CellWrites(rows={2: values})))
        return rows_of(out)[2]

    row = (
        b'<row r="2" spans="1:5"><c r="A2" s="3" t="s"><v>7</v></c><c r="C2" s="4"/>'
        b'<c r="E2"><v>1.5</v></c></row>'
    )
    patched = patch(row, {1: "new B", 2: 42, 3: "new D"})
    assert patched == (
        b'<row r="2"><c r="A2" s="3" t="s"><v>7</v></c>'
        b'<c r="B2" t="inlineStr"><is><t>new B</t></is></c><c r="C2" s="4"><v>42</v></c>'
        b'<c r="D2" t="inlineStr"><is><t>new D</t></is></c><c r="E2"><v>1.5</v></c></row>'
    )
    no_refs = b'<row r="2"><c s="3" t="s"><v>7</v></c><c><v>2</v></c></row>'
    assert cells_of(patch(no_refs, {1: 5}))["B"] == b'<c r="B2"><v>5</v></c>'
