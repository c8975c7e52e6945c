"""Importing CSV, Excel and vCard files into a real CRM workbook, then reading it back.

Every test builds a workbook with ``create_workbook``, imports a real file (committed under
``tests/data/import/`` or written here by openpyxl / the csv module), and re-opens the saved
workbook to assert the rows a person would see. Nothing is mocked.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
from books import blank_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import TableColumn

from addin import customers
from addin.errors import UsageError, XlcrmError
from addin.importing import ImportReport, Problem, import_file, sniff_delimiter
from addin.workbook import open_book

DATA = Path(__file__).parent / "data" / "import"
TODAY = dt.date(2026, 1, 15)

# The three customers in contacts_utf8_comma.csv, contacts_utf8sig_semicolon.csv and
# contacts_gb18030_tab.csv (same people; English, alias and Chinese headers).
THREE = [
    {
        "id": "C0001",
        "name": "张三",
        "company": "北京示例科技有限公司",
        "email": "zhang.san@example.cn",
        "phone": "+86 138 0013 8000",
        "region": "北京",
        "status": "Active",
        "tags": "VIP, 制造业",
        "notes": "老客户；年底续约",
        "created": TODAY,
    },
    {
        "id": "C0002",
        "name": "Li Wei",
        "company": "Shanghai Example Trading Co., Ltd.",
        "email": "li.wei@example.com; LW@example.com",
        "phone": "+86 21 6555 1234",
        "region": "上海",
        "status": "Lead",
        "notes": "Met at the 2025 展会",
        "created": TODAY,
    },
    {
        "id": "C0003",
        "name": "王芳",
        "company": "深圳某某电子有限公司",
        "email": "wang.fang@example.cn",
        "phone": "+86 755 2345 6789",
        "region": "广东",
        "status": "Inactive",
        "tags": "电子",
        "notes": "生僻字：𠮷",
        "created": TODAY,
    },
]


def new_book(tmp_path: Path, lang: str = "en", name: str = "crm.xlsx") -> Path:
    return blank_workbook(tmp_path / name, lang)


def run_import(book_path: Path, source: Path, table: str = "customers", **kw) -> ImportReport:
    """Import and save, as ``xlcrm import`` does."""
    kw.setdefault("today", TODAY)
    with open_book(book_path) as book:
        return import_file(book, table, source, **kw)


def visible(book_path: Path, table: str = "customers") -> list[dict]:
    """The rows of a re-opened workbook, without the empty cells."""
    with open_book(book_path) as book:
        return [{k: v for k, v in r.items() if v is not None} for r in book.table(table).rows()]


def sheet_cells(book_path: Path, sheet: str) -> list[list]:
    """What Excel shows in a sheet's cells (read by openpyxl, not by xlcrm)."""
    wb = openpyxl.load_workbook(book_path)
    try:
        return [list(r) for r in wb[sheet].iter_rows(values_only=True)]
    finally:
        wb.close()


def write_csv(path: Path, rows: list[list[str]], encoding="utf-8", delimiter=",") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


def add_user_column(book_path: Path, sheet: str, table: str, header: str) -> None:
    """Add a column to an Excel Table as a person would in Excel (test set-up only)."""
    wb = openpyxl.load_workbook(book_path)
    ws = wb[sheet]
    t = ws.tables[table]
    col = len(t.tableColumns) + 1
    ws.cell(1, col, header)
    t.ref = f"A1:{get_column_letter(col)}{ws.max_row}"
    t.tableColumns.append(TableColumn(id=col, name=header))
    wb.save(book_path)


# -- formats --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(
    "name",
    ["contacts_utf8_comma.csv", "contacts_utf8sig_semicolon.csv", "contacts_gb18030_tab.csv"],
)
def test_csv_files_in_each_encoding_and_delimiter(tmp_path, name, lang):
    book = new_book(tmp_path, lang)
    report = run_import(book, DATA / name)
    assert (report.inserted, report.updated, report.skipped) == (3, 0, 0)
    assert report.problems == [] and report.ignored_columns == []
    assert visible(book) == THREE
    # What the sheet shows: labels in the workbook's language, phones as text.
    sheet = "客户" if lang == "zh" else "Customers"
    cells = sheet_cells(book, sheet)
    assert cells[1][:5] == [
        "C0001",
        "张三",
        "北京示例科技有限公司",
        "zhang.san@example.cn",
        "+86 138 0013 8000",
    ]
    assert cells[1][9] == ("活跃" if lang == "zh" else "Active")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_every_encoding_with_every_delimiter(tmp_path, encoding, delimiter):
    with (DATA / "contacts_utf8_comma.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    source = write_csv(tmp_path / "in.csv", rows, encoding, delimiter)
    book = new_book(tmp_path)
    report = run_import(book, source)
    assert report.inserted == 3 and report.problems == []
    assert visible(book) == THREE


def test_excel_unicode_text_and_extra_values(tmp_path):
    """Excel's "Unicode text" export is UTF-16 with a BOM and tabs."""
    source = tmp_path / "unicode.txt"
    source.write_bytes(
        "姓名\t邮箱\r\n周九\tzhou@example.cn\textra\r\n吴十\twu@example.cn\r\n".encode("utf-16")
    )
    book = new_book(tmp_path)
    report = run_import(book, source)
    # A row that does not fit the header is a problem row: nothing of it is written.
    assert [str(p) for p in report.problems] == [
        "unicode.txt:2: 3 values but the header has 2 columns; the row was skipped"
    ]
    assert (report.inserted, report.skipped) == (1, 1)
    assert visible(book) == [
        {"id": "C0001", "name": "吴十", "email": "wu@example.cn", "created": TODAY}
    ]


def test_json_records_are_located_by_number(tmp_path):
    source = tmp_path / "people.json"
    source.write_text('[{"name": "A", "email": "a@example.cn"}, {"name": "B", "email": "b@"}]')
    report = run_import(new_book(tmp_path), source)
    assert [str(p) for p in report.problems] == [
        'people.json#2: email "b@" is not a valid address; the row was skipped'
    ]


def test_delimiter_sniffing_is_not_fooled_by_commas_in_a_semicolon_file():
    text = "Name;Notes;Phone\nA;one, two, three;1\nB;four, five;2\nC;x,y,z,w;3\n"
    assert sniff_delimiter(text) == ";"
    assert sniff_delimiter("Name\tEmail\nA\ta@example.cn\n") == "\t"
    assert sniff_delimiter("Name\nA\n") == ","


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_vcard_3_and_4_with_chinese_names(tmp_path, lang):
    book = new_book(tmp_path, lang)
    report = run_import(book, DATA / "contacts.vcf")
    assert (report.inserted, report.skipped) == (3, 1)
    assert [str(p) for p in report.problems] == [
        'contacts.vcf:32: email "foo@" is not a valid address; the row was skipped'
    ]
    assert report.ignored_columns == ["ADR", "TITLE"]
    assert visible(book) == [
        {
            "id": "C0001",
            "name": "张三",
            "company": "北京示例科技有限公司 销售部",
            "email": "zhang.san@example.cn; ZS@example.com",
            "phone": "+86 138 0013 8000",
            "tags": "VIP, 制造业",
            "notes": "老客户, 重要",
            "created": TODAY,
        },
        {"id": "C0002", "name": "欧阳娜娜", "phone": "+86 10 6552 9988", "created": TODAY},
        {
            "id": "C0003",
            "name": "Li Wei",
            "email": "li.wei@example.com",
            "phone": "+86 21 6555 1234",
            "notes": "Met at the trade fair in Shanghai; prefers e-mail over phone calls.",
            "created": TODAY,
        },
    ]


def test_vcards_go_into_customers_only(tmp_path):
    with open_book(new_book(tmp_path)) as book, pytest.raises(UsageError, match="vCards"):
        import_file(book, "deals", DATA / "contacts.vcf")


def test_xlsx_sheet_with_user_column_and_cell_locations(tmp_path):
    book = new_book(tmp_path, "zh")
    add_user_column(book, "客户", "Customers", "微信")
    source = tmp_path / "leads.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    wb.active["A1"] = "Exported from the trade fair app"
    ws = wb.create_sheet("Leads")
    # The table starts at B2, as exports with a title row often do.
    ws.append([])
    for r in [
        ["客户名称", "邮箱", "手机", "创建日期", "微信", "生日"],
        ["赵六", "zhao@example.cn", 13800138000, dt.datetime(2025, 3, 1), "zhao_wx", "1990-01-01"],
        ["钱七", "qian@", "139 0013 9000", None, None, None],
        ["孙八", "sun@example.cn", None, "not a date", None, None],
    ]:
        ws.append([None, *r])
    wb.save(source)

    report = run_import(book, source, sheet="Leads")

    assert [str(p) for p in report.problems] == [
        'leads.xlsx!Leads!C4: email "qian@" is not a valid address; the row was skipped',
        'leads.xlsx!Leads!E5: created "not a date" is not a date; the row was skipped',
    ]
    assert report.ignored_columns == ["生日"]
    assert (report.inserted, report.skipped) == (1, 2)
    assert visible(book) == [
        {
            "id": "C0001",
            "name": "赵六",
            "email": "zhao@example.cn",
            "phone": "+86 138 0013 8000",
            "created": dt.date(2025, 3, 1),
            "微信": "zhao_wx",
        },
    ]


def test_xlsx_first_sheet_by_default(tmp_path):
    source = tmp_path / "leads.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["Name", "Email"])
    wb.active.append(["Zhou", "zhou@example.cn"])
    wb.create_sheet("Other").append(["nothing", "here"])
    wb.save(source)
    book = new_book(tmp_path)
    run_import(book, source)
    assert visible(book) == [
        {"id": "C0001", "name": "Zhou", "email": "zhou@example.cn", "created": TODAY}
    ]
    with open_book(book) as b, pytest.raises(UsageError, match="no sheet 'Missing'"):
        import_file(b, "customers", source, sheet="Missing")


def test_unsupported_extension_is_a_usage_error_with_a_hint(tmp_path):
    source = tmp_path / "contacts.pdf"
    source.write_bytes(b"%PDF-1.7")
    with open_book(new_book(tmp_path)) as book, pytest.raises(UsageError) as caught:
        import_file(book, "customers", source)
    assert str(caught.value).startswith(
        f"{source}: cannot import .pdf\n  hint: save the data as CSV"
    )
    assert caught.value.exit_code == 2


def test_no_matching_header_fails_before_writing(tmp_path):
    source = write_csv(tmp_path / "x.csv", [["foo", "bar"], ["1", "2"]])
    book = new_book(tmp_path)
    before = book.read_bytes()
    with pytest.raises(XlcrmError, match="no column of the file matches"):
        run_import(book, source)
    assert book.read_bytes() == before


# -- upserts --------------------------------------------------------------------------------


def seed_customers(book_path: Path) -> None:
    with open_book(book_path) as book:
        book.table("customers").insert_all(
            [
                {
                    "name": "Li Wei",
                    "email": "Li.Wei@Example.com; lw@corp.example.cn",
                    "phone": "13800138000",
                    "tier": "B",
                    "created": dt.date(2025, 1, 1),
                },
                {"name": "王芳", "email": "wang.fang@example.cn", "created": dt.date(2025, 1, 2)},
                {"name": "赵六", "email": "zhao@example.cn", "created": dt.date(2025, 1, 3)},
            ]
        )


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_upsert_by_any_email_case_insensitively(tmp_path, lang):
    book = new_book(tmp_path, lang)
    seed_customers(book)
    source = write_csv(
        tmp_path / "update.csv",
        [
            ["Name", "Email", "Phone", "Tier"],
            ["Li Wei (Shanghai)", "LW@CORP.EXAMPLE.CN", "139 0013 9000", "A"],
            ["王芳", "WANG.FANG@example.cn; fang@new.example.cn", "", ""],
            ["赵六", "Zhao@Example.cn", "", ""],
            ["New Person", "new@example.cn", "", "C"],
        ],
    )
    report = run_import(book, source)
    # Li Wei's name, phone and tier are kept: the file may not rewrite what the sheet has.
    assert (report.inserted, report.updated, report.unchanged, report.skipped) == (1, 1, 2, 0)
    assert report.kept == 3
    assert [str(c) for c in report.changes] == [
        'update.csv:2: C0001 name: kept "Li Wei" (the file has "Li Wei (Shanghai)")',
        'update.csv:2: C0001 phone: kept "13800138000" (the file has "+86 139 0013 9000")',
        'update.csv:2: C0001 tier: kept "B" (the file has "A")',
        'update.csv:3: C0002 email: "wang.fang@example.cn" → '
        '"wang.fang@example.cn; fang@new.example.cn"',
        "update.csv:5: new C0004",
    ]
    assert "kept 3 existing values that differ from the file (--overwrite replaces them)" in (
        report.summary()
    )
    assert visible(book)[0] == {
        "id": "C0001",
        "name": "Li Wei",
        "email": "Li.Wei@Example.com; lw@corp.example.cn",
        "phone": "13800138000",
        "tier": "B",
        "created": dt.date(2025, 1, 1),
    }
    report = run_import(book, source, overwrite=True)
    assert (report.inserted, report.updated, report.unchanged, report.skipped) == (0, 1, 3, 0)
    assert [d for d in report.duplicates if "C0001" in str(d)] == [
        Problem("update.csv:2", "matched existing C0001 (same e-mail LW@corp.example.cn)")
    ]
    assert visible(book) == [
        {
            "id": "C0001",
            "name": "Li Wei (Shanghai)",
            "email": "Li.Wei@Example.com; lw@corp.example.cn",  # kept as it was
            "phone": "+86 139 0013 9000",
            "tier": "A",
            "created": dt.date(2025, 1, 1),
            "updated": TODAY,
        },
        {
            "id": "C0002",
            "name": "王芳",
            "email": "wang.fang@example.cn; fang@new.example.cn",
            "created": dt.date(2025, 1, 2),
            "updated": TODAY,
        },
        {"id": "C0003", "name": "赵六", "email": "zhao@example.cn", "created": dt.date(2025, 1, 3)},
        {
            "id": "C0004",
            "name": "New Person",
            "email": "new@example.cn",
            "tier": "C",
            "created": TODAY,
        },
    ]


def test_id_wins_over_email_and_unknown_ids_are_inserted(tmp_path):
    book = new_book(tmp_path)
    seed_customers(book)
    source = write_csv(
        tmp_path / "ids.csv",
        [
            ["客户编号", "姓名", "邮箱"],
            ["c0003", "赵六 (renamed)", ""],
            ["C0100", "Restored", "restored@example.cn"],
            ["", "Fresh", "fresh@example.cn"],
        ],
    )
    report = run_import(book, source, overwrite=True)
    assert (report.inserted, report.updated) == (2, 1)
    assert report.duplicates == []  # matching by id is no surprise
    names = {r["id"]: r["name"] for r in visible(book)}
    assert names == {
        "C0001": "Li Wei",
        "C0002": "王芳",
        "C0003": "赵六 (renamed)",
        "C0100": "Restored",
        "C0101": "Fresh",
    }


def test_match_on_phone_compares_normalised_numbers(tmp_path):
    book = new_book(tmp_path)
    seed_customers(book)  # Li Wei's phone is stored as typed: 13800138000
    source = write_csv(tmp_path / "x.csv", [["Phone", "Region"], ["+86 138-0013-8000", "上海"]])
    report = run_import(book, source, match="手机")
    assert [str(d) for d in report.duplicates] == [
        "x.csv:2: matched existing C0001 (same phone +86 138 0013 8000)"
    ]
    first = visible(book)[0]
    # The same number by meaning: the cell keeps how it was typed; the blank region fills.
    assert (first["region"], first["phone"]) == ("上海", "13800138000")
    assert report.unchanged == 0 and report.updated == 1
    with open_book(book) as b, pytest.raises(UsageError, match="cannot match on 'wechat'"):
        import_file(b, "customers", source, match="wechat")


def test_composite_keys_of_sends(tmp_path):
    book = new_book(tmp_path)
    seed_customers(book)  # C0001…C0003: each send names an existing customer
    source = write_csv(
        tmp_path / "sends.csv",
        [
            ["Campaign", "Customer ID", "Email", "Status"],
            ["spring", "C0001", "a@example.cn", "queued"],
            ["spring", "C0002", "b@example.cn", "sent"],
            ["SPRING", "c0001", "", "sent"],
            ["spring", "", "c@example.cn", "sent"],
        ],
    )
    report = run_import(book, source, table="sends")
    assert (report.inserted, report.merged, report.skipped) == (2, 1, 1)
    assert [str(p) for p in report.problems] == [
        "sends.csv:5: customer_id is empty; the row was skipped"
    ]
    assert [str(d) for d in report.duplicates] == [
        "sends.csv:4: duplicate of sends.csv:2 (same campaign SPRING, customer_id c0001): "
        "merged into campaign spring, customer_id C0001"
    ]
    assert [(r["campaign"], r["customer_id"], r["status"]) for r in visible(book, "sends")] == [
        ("spring", "C0001", "sent"),
        ("spring", "C0002", "sent"),
    ]


def test_email_of_another_customer_is_not_added(tmp_path):
    book = new_book(tmp_path)
    seed_customers(book)
    source = write_csv(
        tmp_path / "x.csv", [["ID", "Email"], ["C0003", "zhao@example.cn; wang.fang@example.cn"]]
    )
    report = run_import(book, source)
    assert [str(p) for p in report.problems] == [
        "x.csv:2: e-mail wang.fang@example.cn already belongs to C0002, so it cannot be added "
        "to C0003; the row was skipped"
    ]
    assert report.skipped == 1
    assert [r["email"] for r in visible(book)][1:] == ["wang.fang@example.cn", "zhao@example.cn"]


def test_deals_upsert_on_id_and_bad_choice_or_number_skips_the_row(tmp_path):
    book = new_book(tmp_path, "zh")
    seed_customers(book)  # C0001…C0003; C0004 does not exist
    with open_book(book) as b:
        b.table("deals").insert_all([{"customer_id": "C0001", "title": "ERP", "stage": "Lead"}])
    source = write_csv(
        tmp_path / "deals.csv",
        [
            ["ID", "客户编号", "商机名称", "阶段", "金额", "预计成交"],
            ["D0001", "", "", "赢单", "120000", "2026-03-31"],
            ["", "C0002", "CRM rollout", "Proposal", "8,500.50", ""],
            ["", "C0003", "Maybe deal", "Maybe", "1", ""],
            ["", "C0003", "Bad amount", "Lead", "abc", "2026/4/1"],
            ["", "C0004", "No such customer", "Lead", "1", ""],
        ],
    )
    report = run_import(book, source, table="deals")
    assert [str(p) for p in report.problems] == [
        'deals.csv:4: stage "Maybe" is not one of: Lead, Qualified, Proposal, Negotiation, '
        "Won, Lost; the row was skipped",
        'deals.csv:5: amount "abc" is not a number; the row was skipped',
        'deals.csv:6: customer_id "C0004" is not in the Customers table; the row was skipped',
    ]
    assert (report.inserted, report.updated, report.skipped) == (1, 1, 3)
    # The stage the sheet has is kept (--overwrite replaces it); the blanks are filled.
    assert [str(c) for c in report.changes] == [
        "deals.csv:2: D0001 amount: (empty) → 120000",
        "deals.csv:2: D0001 expected_close: (empty) → 2026-03-31",
        'deals.csv:2: D0001 stage: kept "Lead" (the file has "Won")',
        "deals.csv:3: new D0002",
    ]
    assert visible(book, "deals") == [
        {
            "id": "D0001",
            "customer_id": "C0001",
            "title": "ERP",
            "stage": "Lead",
            "amount": 120000.0,
            "expected_close": dt.date(2026, 3, 31),
        },
        {
            "id": "D0002",
            "customer_id": "C0002",
            "title": "CRM rollout",
            "stage": "Proposal",
            "amount": 8500.5,
            "created": TODAY,
        },
    ]
    assert sheet_cells(book, "商机")[1][3] == "线索"
    report = run_import(book, source, table="deals", overwrite=True)
    assert sheet_cells(book, "商机")[1][3] == "赢单"


def test_products_need_their_key(tmp_path):
    book = new_book(tmp_path)
    source = write_csv(
        tmp_path / "p.csv",
        [["SKU", "Name", "Price"], ["A-1", "Widget", "9.9"], ["", "No sku", "1"]],
    )
    report = run_import(book, source, table="products")
    assert [str(p) for p in report.problems] == ["p.csv:3: sku is empty; the row was skipped"]
    assert visible(book, "products") == [{"sku": "A-1", "name": "Widget", "unit_price": 9.9}]


# -- the validation report ------------------------------------------------------------------

PROBLEMS = [
    'contacts_problems.csv:3: email "foo@" is not a valid address; the row was skipped',
    'contacts_problems.csv:7: email "张三@" is not a valid address; the row was skipped',
    'contacts_problems.csv:8: email "a@b" is not a valid address; the row was skipped',
    'contacts_problems.csv:10: created "2025-02-30" is not a date; the row was skipped',
]


def test_problems_are_located_as_a_person_counts_lines(tmp_path):
    book = new_book(tmp_path)
    report = run_import(book, DATA / "contacts_problems.csv")
    assert [str(p) for p in report.problems] == PROBLEMS
    assert report.duplicates == [
        Problem(
            "contacts_problems.csv:11",
            "duplicate of contacts_problems.csv:2 (same e-mail GOOD1@example.cn): "
            "merged into C0001",
        )
    ]
    # A phone number that does not parse is kept as written: a warning, not a problem.
    assert [str(w) for w in report.warnings] == [
        'contacts_problems.csv:9: phone "12345" is not a valid CN phone number; kept as written'
    ]
    assert (report.rows, report.inserted, report.merged, report.skipped) == (9, 4, 1, 4)
    rows = visible(book)
    # A row with a problem writes nothing: not even the valid half of "Bad Mail".
    assert [r["name"] for r in rows] == ["Good One", "Multi\nline", "Bad Phone", "Evil"]
    first, multi, bad_phone, _ = rows
    assert bad_phone["phone"] == "12345"
    assert first == {
        "id": "C0001",
        "name": "Good One",
        "email": "good1@example.cn",  # the repeat's spelling is not added twice
        "phone": "+86 138 0013 8000",
        "notes": "second visit",  # the later row of the file wins, as in upsert_all
        "created": dt.date(2025, 1, 5),
    }
    assert multi["notes"] == "a note\non two lines"


def test_summary_lists_fifty_problems_then_counts_the_rest(tmp_path):
    rows = [["Name", "Email"]] + [[f"P{n}", f"p{n}@"] for n in range(60)]
    report = run_import(new_book(tmp_path), write_csv(tmp_path / "many.csv", rows))
    text = str(report)
    lines = text.splitlines()
    assert lines[0] == (
        "many.csv → Customers: 60 rows: 0 inserted, 0 updated, 0 unchanged, 60 skipped"
    )
    assert lines[1] == "problems (60):"
    assert lines[2] == '  many.csv:2: email "p0@" is not a valid address; the row was skipped'
    assert lines[51] == '  many.csv:51: email "p49@" is not a valid address; the row was skipped'
    assert lines[52] == "  … and 10 more"
    assert len(lines) == 53
    assert len(report.summary(verbose=True).splitlines()) == 62


def test_formula_text_is_imported_as_text(tmp_path):
    book = new_book(tmp_path)
    run_import(book, DATA / "contacts_problems.csv")
    evil = '=HYPERLINK("http://evil")'
    assert visible(book)[-1]["notes"] == evil
    texts = []
    with zipfile.ZipFile(book) as z:
        for part in z.namelist():
            if not re.fullmatch(r"xl/worksheets/sheet\d+\.xml", part):
                continue
            root = ElementTree.fromstring(z.read(part))
            assert not [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "f"], part
            texts += [e.text for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "t"]
    assert evil in texts


# -- dry run ----------------------------------------------------------------------------------


def test_dry_run_reports_the_same_and_leaves_the_file_byte_identical(tmp_path):
    book = new_book(tmp_path)
    seed_customers(book)
    copy = tmp_path / "copy.xlsx"
    shutil.copyfile(book, copy)
    before = book.read_bytes()

    dry = run_import(book, DATA / "contacts_problems.csv", dry_run=True)
    real = run_import(copy, DATA / "contacts_problems.csv")

    assert book.read_bytes() == before
    assert dry.dry_run and not real.dry_run
    assert "dry run: nothing was written" in str(dry)
    assert (dry.inserted, dry.updated, dry.merged, dry.skipped) == (4, 0, 1, 4)
    for field in ("inserted", "updated", "unchanged", "merged", "skipped", "problems"):
        assert getattr(dry, field) == getattr(real, field)
    assert dry.duplicates == real.duplicates
    assert dry.changes == real.changes
    assert len(visible(copy)) == 3 + 4


def test_dry_run_refuses_a_book_with_unsaved_changes(tmp_path):
    with open_book(new_book(tmp_path)) as book:
        book.table("customers").insert({"name": "unsaved"})
        with pytest.raises(UsageError, match="without unsaved changes"):
            import_file(book, "customers", DATA / "contacts.vcf", dry_run=True)
        assert book.dirty


def test_progress_is_reported(tmp_path):
    seen = []
    run_import(
        new_book(tmp_path), DATA / "contacts_utf8_comma.csv", progress=lambda *a: seen.append(a)
    )
    assert seen == [(3, 3)]


# -- the customer helpers -------------------------------------------------------------------


def test_email_lists_and_index():
    assert customers.split_emails("a@x.cn; B@y.cn,c@z.cn，张三 <zs@x.cn>\nd@x.cn e@x.cn") == [
        "a@x.cn",
        "B@y.cn",
        "c@z.cn",
        "zs@x.cn",
        "d@x.cn",
        "e@x.cn",
    ]
    index = customers.email_index(
        [
            {"id": "C0001", "email": "Li@Example.cn; li.wei@corp.cn"},
            {"id": "C0002", "email": "LI@example.cn"},
            {"id": "C0003", "email": None},
        ]
    )
    assert index == {"li@example.cn": "C0001", "li.wei@corp.cn": "C0001"}


def test_phone_normalisation():
    assert customers.normalise_phone("138 0013 8000") == "+8613800138000"
    assert customers.normalise_phone("(415) 555-0100 ext. 12", region="US") == (
        "+14155550100 ext. 12"
    )
    with pytest.raises(customers.InvalidPhone):
        customers.normalise_phone("12345")
    assert customers.split_phones("138 0013 8000; 010-6552 9988 / 021 6555 1234") == [
        "138 0013 8000",
        "010-6552 9988",
        "021 6555 1234",
    ]
