"""Exporting CRM tables to CSV and JSON, and importing the exports back.

Real workbooks made with ``create_workbook``, filled through the Table API and saved; the
exported files are read back with the csv and json modules, as another program would.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import openpyxl
import pytest
from books import blank_workbook, built_once
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import TableColumn

from addin.errors import UsageError
from addin.exporting import defuse, export_table
from addin.importing import import_file
from addin.schema import TABLES
from addin.workbook import open_book

CUSTOMERS = [
    {
        "name": "张三",
        "company": "北京示例科技有限公司",
        "email": "zhang.san@example.cn; zs@example.com",
        "phone": "+86 138 0013 8000",  # the one format xlcrm writes (customers.display_phone)
        "status": "Active",
        "tier": "A",
        "tags": "VIP, 制造业",
        "unsubscribed": False,
        "created": dt.date(2025, 1, 5),
        "updated": dt.date(2026, 1, 15),
        "notes": '多行备注\n第二行, "引号"',
    },
    {
        "name": "Li Wei",
        "email": "li.wei@example.com",
        "phone": "12345",  # not a valid number: kept as written, both ways
        "status": "Lead",
        "unsubscribed": True,
        "created": dt.date(2025, 2, 1),
    },
]
DEALS = [
    {
        "customer_id": "C0001",
        "title": "ERP 实施",
        "stage": "Won",
        "amount": 120000.5,
        "currency": "CNY",
        "probability": 0.25,
        "expected_close": dt.date(2026, 3, 31),
        "created": dt.date(2026, 1, 2),
    },
    {
        "customer_id": "C0002",
        "title": "Pilot",
        "stage": "Proposal",
        "amount": 8000.0,
        "created": dt.date(2026, 1, 3),
    },
]
INTERACTIONS = [
    {
        "customer_id": "C0001",
        "kind": "email",
        "direction": "in",
        "at": dt.datetime(2026, 1, 15, 9, 30, 5),
        "from": "zhang.san@example.cn",
        "subject": "报价单",
    }
]
DATA = {"customers": CUSTOMERS, "deals": DEALS, "interactions": INTERACTIONS}


def filled_book(tmp_path: Path, lang: str = "en", name: str = "crm.xlsx") -> Path:
    return _filled(tmp_path / name, lang)


@built_once
def _filled(path: Path, lang: str) -> Path:
    blank_workbook(path, lang)
    with open_book(path) as book:
        for table, rows in DATA.items():
            book.table(table).insert_all(rows)
    return path


def table_rows(path: Path, table: str) -> list[dict]:
    with open_book(path) as book:
        return list(book.table(table).rows())


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def test_csv_is_utf8_with_bom_canonical_keys_and_iso_values(tmp_path):
    book = filled_book(tmp_path, "zh")
    out = tmp_path / "customers.csv"
    with open_book(book) as b:
        assert export_table(b, "客户", out) == 2
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel on Chinese Windows needs the BOM
    assert b"\r\n" in data
    header, first, second = read_csv(out)
    assert header == list(TABLES["customers"].keys)
    assert dict(zip(header, first)) == {
        "id": "C0001",
        "name": "张三",
        "company": "北京示例科技有限公司",
        "email": "zhang.san@example.cn; zs@example.com",
        "phone": "+86 138 0013 8000",  # a signed number: not a formula, not escaped
        "owner": "",
        "region": "",
        "industry": "",
        "source": "",
        "status": "Active",  # the canonical value, although the sheet says 活跃
        "tier": "A",
        "tags": "VIP, 制造业",
        "unsubscribed": "false",
        "created": "2025-01-05",
        "updated": "2026-01-15",
        "last_contact": "",
        "notes": '多行备注\n第二行, "引号"',
        "bounced": "",
        "segment": "",
        "merged_into": "",
        "language": "",
    }
    assert dict(zip(header, second))["unsubscribed"] == "true"


def test_csv_numbers_and_datetimes(tmp_path):
    book = filled_book(tmp_path)
    deals, interactions = tmp_path / "deals.csv", tmp_path / "interactions.csv"
    with open_book(book) as b:
        export_table(b, "deals", deals)
        export_table(b, "interactions", interactions)
    header, first, second = read_csv(deals)
    row = dict(zip(header, first))
    assert (row["amount"], row["probability"], row["expected_close"]) == (
        "120000.5",
        "0.25",
        "2026-03-31",
    )
    assert dict(zip(header, second))["amount"] == "8000"
    header, first = read_csv(interactions)
    assert dict(zip(header, first))["at"] == "2026-01-15T09:30:05"


DANGEROUS = {
    "name": '=HYPERLINK("http://evil","click")',
    "company": "+cmd|' /C calc'!A0",
    "region": "-2+3+cmd|' /C calc'!A0",
    "industry": "@SUM(1+1)",
    "source": "\t=1+1",
    "owner": "\r=1+1",
    "notes": "-5",  # text that is just a number: harmless, left alone
    "phone": "+86 138 0013 8000",
}


def test_csv_injection_is_defused_unless_turned_off(tmp_path):
    book = blank_workbook(tmp_path / "crm.xlsx", "en")
    with open_book(book) as b:
        b.table("customers").insert(DANGEROUS)
    escaped, raw = tmp_path / "escaped.csv", tmp_path / "raw.csv"
    with open_book(book) as b:
        export_table(b, "customers", escaped)
        export_table(b, "customers", raw, escape_formulas=False)
    header, row = read_csv(escaped)
    got = {k: v for k, v in zip(header, row) if k in DANGEROUS}
    assert got == {
        "name": '\'=HYPERLINK("http://evil","click")',
        "company": "'+cmd|' /C calc'!A0",
        "region": "'-2+3+cmd|' /C calc'!A0",
        "industry": "'@SUM(1+1)",
        "source": "'\t=1+1",
        "owner": "'\r=1+1",
        "notes": "-5",
        "phone": "+86 138 0013 8000",
    }
    header, row = read_csv(raw)
    assert {k: v for k, v in zip(header, row) if k in DANGEROUS} == DANGEROUS


def test_defuse_leaves_ordinary_text_alone():
    assert defuse("张三") == "张三"
    assert defuse("a=b") == "a=b"
    assert defuse("=1") == "'=1"
    assert defuse("-") == "-"


def test_json_keys_in_schema_order_user_columns_last_iso_values(tmp_path):
    book = filled_book(tmp_path)
    # A user column, and the sheet's columns reordered: keys still come in schema order.
    wb = openpyxl.load_workbook(book)
    ws = wb["Deals"]
    t = ws.tables["Deals"]
    col = len(t.tableColumns) + 1
    ws.cell(1, col, "微信群")
    ws.cell(2, col, "ERP 项目群")
    t.ref = f"A1:{get_column_letter(col)}{ws.max_row}"
    t.tableColumns.append(TableColumn(id=col, name="微信群"))
    for r in range(1, ws.max_row + 1):  # move Stage before Title
        ws.cell(r, 3).value, ws.cell(r, 4).value = ws.cell(r, 4).value, ws.cell(r, 3).value
    t.tableColumns[2].name, t.tableColumns[3].name = "Stage", "Title"
    wb.save(book)

    out = io.StringIO()
    with open_book(book) as b:
        assert b.table("deals").columns[2:4] == ["stage", "title"]
        assert export_table(b, "deals", out, format="json") == 2
    text = out.getvalue()
    assert "ERP 实施" in text  # ensure_ascii=False: Chinese stays readable
    data = json.loads(text)
    assert list(data[0]) == [*TABLES["deals"].keys, "微信群"]
    assert data[0]["微信群"] == "ERP 项目群"
    assert {k: v for k, v in data[0].items() if v is not None} == {
        "id": "D0001",
        "customer_id": "C0001",
        "title": "ERP 实施",
        "stage": "Won",
        "amount": 120000.5,
        "currency": "CNY",
        "probability": 0.25,
        "expected_close": "2026-03-31",
        "created": "2026-01-02",
        "微信群": "ERP 项目群",
    }
    assert data[1]["amount"] == 8000


def test_where_selects_rows_and_stream_csv_has_no_bom(tmp_path):
    book = filled_book(tmp_path)
    out = io.StringIO(newline="")
    with open_book(book) as b:
        n = export_table(b, "customers", out, where=lambda r: r["status"] == "Lead")
    assert n == 1
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert rows[0][0] == "id" and len(rows) == 2 and rows[1][1] == "Li Wei"


def test_unknown_format(tmp_path):
    with open_book(filled_book(tmp_path)) as b, pytest.raises(UsageError, match="xml"):
        export_table(b, "customers", tmp_path / "x.xml", format="xml")  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_round_trip_into_a_fresh_book(tmp_path, fmt):
    source = filled_book(tmp_path, "en", "source.xlsx")
    target = blank_workbook(tmp_path / "target.xlsx", "zh")
    for table in DATA:
        out = tmp_path / f"{table}.{fmt}"
        with open_book(source) as b:
            export_table(b, table, out, format=fmt)
        with open_book(target) as b:
            report = import_file(b, table, out, today=dt.date(2000, 1, 1))
        assert report.inserted == len(DATA[table]) and report.skipped == 0, report
    for table in DATA:
        assert table_rows(target, table) == table_rows(source, table), table
