"""The filter language (addin.query): rows selected from real workbooks in both languages, the
exact messages a mistake gets, and the commands that take ``--where`` (export, campaign).

Workbooks are made with ``create_workbook`` and filled through the Table API; one user column
("Key account", a header with a space) is added with openpyxl, the way a person adds one in
Excel. Nothing is mocked.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
from books import blank_workbook
from click.testing import CliRunner
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import TableColumn

from addin.campaigns import CampaignOptions, run_campaign
from addin.cli import cli
from addin.errors import UsageError
from addin.query import MAX_DEPTH, MAX_LENGTH, FilterError, compile_filter, filter_rows
from addin.schema import CUSTOMERS, TICKETS
from addin.settings import write_settings
from addin.workbook import open_book

TODAY = dt.date(2026, 6, 1)  # today - 90d = 2026-03-03, today - 3m = 2026-03-01
NOW = dt.datetime(2026, 6, 1, 12, 0)

CUSTOMER_ROWS = [
    {
        "name": "王伟",
        "company": "杭州云帆科技有限公司",
        "email": "wang@yunfan.cn; W.Wang@Example.com",
        "owner": "李娜",
        "region": "华东",
        "status": "活跃",
        "tier": "A",
        "tags": "VIP、制造业",
        "unsubscribed": False,
        "created": dt.date(2025, 1, 5),
        "last_contact": dt.date(2026, 1, 10),
    },
    {
        "name": "Li Wei",
        "company": "Acme Trading Ltd",
        "email": "li.wei@acme.com",
        "owner": "Tom",
        "region": "华南",
        "status": "Lead",
        "tier": "B",
        "tags": "non-vip",
        "unsubscribed": True,
        "created": dt.date(2026, 2, 1),
        "last_contact": dt.date(2026, 5, 20),
    },
    {
        "name": "张三",
        "company": "北京示例",
        "owner": "李娜",
        "status": "流失",
        "created": dt.date(2024, 12, 31),
        "notes": "ＡＢＣ 全角备注",  # full-width letters
    },
    {
        "name": "Anna",
        "company": "ACME GmbH",
        "email": "anna@acme.de",
        "owner": "Tom",
        "region": "华东",
        "status": "Inactive",
        "tier": "C",
        "tags": "vip",
        "unsubscribed": False,
        "created": dt.date(2026, 5, 31),
        "last_contact": dt.date(2026, 3, 3),  # exactly 90 days before TODAY
    },
]
DEAL_ROWS = [
    {
        "customer_id": "C0001",
        "title": "ERP 实施",
        "stage": "谈判",
        "amount": 120000.5,
        "expected_close": dt.date(2026, 5, 1),
    },
    {
        "customer_id": "C0002",
        "title": "年度维护",
        "stage": "Lead",
        "amount": 8000,
        "expected_close": dt.date(2026, 7, 1),
    },
    {"customer_id": "C0004", "title": "培训", "stage": "Won", "amount": 10000},
]
TICKET_ROWS = [
    {
        "customer_id": "C0001",
        "subject": "发票",
        "priority": "紧急",
        "status": "open",
        "opened": dt.datetime(2026, 5, 1, 9, 30),
        "due": dt.datetime(2026, 6, 1, 11, 0),
    },
    {
        "customer_id": "C0002",
        "subject": "Login",
        "priority": "low",
        "status": "已解决",
        "opened": dt.datetime(2026, 5, 31, 23, 0),
        "due": dt.datetime(2026, 6, 2, 9, 0),
    },
]


def add_user_column(path: Path, sheet: str, header: str, values: list[str]) -> None:
    """Add a column to the sheet's Excel Table, as a person would in Excel."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    [table] = ws.tables.values()
    col = len(table.tableColumns) + 1
    ws.cell(1, col, header)
    for row, value in enumerate(values, start=2):
        ws.cell(row, col, value)
    table.ref = f"A1:{get_column_letter(col)}{ws.max_row}"
    table.tableColumns.append(TableColumn(id=col, name=header))
    wb.save(path)


def make_book(path: Path, lang: str) -> Path:
    blank_workbook(path, lang)
    with open_book(path) as book:
        book.table("customers").insert_all(CUSTOMER_ROWS)
        book.table("deals").insert_all(DEAL_ROWS)
        book.table("tickets").insert_all(TICKET_ROWS)
    sheet = "客户" if lang == "zh" else "Customers"
    add_user_column(path, sheet, "Key account", ["yes", "", "no", "YES"])
    return path


@pytest.fixture(scope="module", params=["en", "zh"])
def book_path(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_book(tmp_path_factory.mktemp(request.param) / "crm.xlsx", request.param)


def ids(path: Path, table: str, text: str) -> list[str]:
    with open_book(path) as book:
        rows = filter_rows(book.table(table), text, today=TODAY, now=NOW)
    return [r["id"] for r in rows]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Choice columns compare by meaning, in either language or by an alias.
        ('status == "活跃"', ["C0001"]),
        ('status == "Active"', ["C0001"]),
        ('status = "active customer"', ["C0001"]),
        ('状态 == "活跃"', ["C0001"]),
        ('Status <> "Active"', ["C0002", "C0003", "C0004"]),
        ('status in ["潜在", "Churned"]', ["C0002", "C0003"]),
        # Dates and date arithmetic; an empty cell makes a comparison false.
        ("last_contact < today - 90d", ["C0001"]),
        ("last_contact <= today - 90d", ["C0001", "C0004"]),
        ("last_contact >= today - 3m", ["C0002", "C0004"]),
        ("not (last_contact >= today - 3m)", ["C0001", "C0003"]),
        ("`Last contact` < today - 12w", ["C0001", "C0004"]),
        ("最近联系 < 今天 - 90天", ["C0001"]),
        ("created >= 2026-01-01 and created < 2026-06-01", ["C0002", "C0004"]),
        ('created >= "2026-01-01"', ["C0002", "C0004"]),
        ("created >= today - 1m - 2w", ["C0004"]),  # 2026-04-17
        ("created ≥ 2026/2/1 && !unsubscribed", ["C0004"]),
        ("created < today - 1y", ["C0001", "C0003"]),
        ("created > 2026年1月1日", ["C0002", "C0004"]),
        # Text: case-insensitive, full-width = half-width, contains/startswith/endswith.
        ('company contains "acme"', ["C0002", "C0004"]),
        ('company startswith "杭州"', ["C0001"]),
        ('company not startswith "acme"', ["C0001", "C0003"]),
        ('notes contains "abc"', ["C0003"]),
        ('owner == "tom"', ["C0002", "C0004"]),
        ("region == 「华东」", ["C0001", "C0004"]),
        ('company endswith "ltd"', ["C0002"]),
        # List cells (tags, e-mail): one of the items.
        ('tags contains "vip"', ["C0001", "C0004"]),
        ('"vip" in tags', ["C0001", "C0004"]),
        ('tags contains "制造业"', ["C0001"]),
        ('tags not contains "vip"', ["C0002", "C0003"]),
        ('email == "w.wang@example.com"', ["C0001"]),
        ('email endswith "@acme.com"', ["C0002"]),
        ('email contains "acme"', []),  # an item equals, not a substring: use endswith
        # Lists and empties.
        ('region in ["华东", "华南"]', ["C0001", "C0002", "C0004"]),
        ('region not in ("华东")', ["C0002", "C0003"]),
        ("region is empty", ["C0003"]),
        ('region == ""', ["C0003"]),
        ("region is not empty", ["C0001", "C0002", "C0004"]),
        ('tier in ["a", "b"]', ["C0001", "C0002"]),
        # Yes/no columns: bare, compared, in Chinese.
        ("unsubscribed", ["C0002"]),
        ("not unsubscribed", ["C0001", "C0003", "C0004"]),
        ("unsubscribed == false", ["C0001", "C0004"]),
        ("退订 = 是", ["C0002"]),
        # and binds tighter than or; Chinese operators; full-width punctuation.
        ('status == "活跃" 且 tier == "A" 或 status == "潜在"', ["C0001", "C0002"]),
        ('status=="活跃"且最近联系<今天-90天', ["C0001"]),
        ('非 (region == "华东") 且 name 包含 "li"', ["C0002"]),
        ("tier ＝＝ “A”", ["C0001"]),
        ('region in ["华东"，"华南"] and tier <> "A"', ["C0002", "C0004"]),
        ('owner == "李娜" and not status in ["流失"]', ["C0001"]),
        ('(tier == "A" or tier == "C") and (region == "华东")', ["C0001", "C0004"]),
        # A user column, by its header, with a space: backticks.
        ('`Key account` == "yes"', ["C0001", "C0004"]),
        ("`key account` is empty", ["C0002"]),
        ("", ["C0001", "C0002", "C0003", "C0004"]),
    ],
)
def test_customers_selected(book_path: Path, text: str, expected: list[str]) -> None:
    assert ids(book_path, "customers", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("amount > 10000", ["D0001"]),
        ("amount >= 10000", ["D0001", "D0003"]),
        ('amount >= "8,000" and amount < 9000', ["D0002"]),  # a number in quotes is a number
        ('stage >= "Proposal"', ["D0001", "D0003"]),  # stages compare in pipeline order
        ('stage >= "方案" and stage != "Won"', ["D0001"]),
        ("expected_close + 2w < today", ["D0001"]),
        ("expected_close is empty", ["D0003"]),
        ("amount > 5000 + 4000", ["D0001", "D0003"]),
        ("amount > -1", ["D0001", "D0002", "D0003"]),
        ('商机名称 contains "ERP"', ["D0001"]),
    ],
)
def test_deals_selected(book_path: Path, text: str, expected: list[str]) -> None:
    assert ids(book_path, "deals", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A date-and-time cell against a date compares its date.
        ("opened >= 2026-05-01", ["T0001", "T0002"]),
        ("opened == 2026-05-31", ["T0002"]),
        ("opened < 2026-05-01 10:00", ["T0001"]),
        ("due < now", ["T0001"]),
        ("opened < now - 48h", ["T0001"]),
        ('priority >= "high"', ["T0001"]),
        ('status in ["open", "处理中"]', ["T0001"]),
        ('priority == "p1"', ["T0001"]),
    ],
)
def test_tickets_selected(book_path: Path, text: str, expected: list[str]) -> None:
    assert ids(book_path, "tickets", text) == expected


COLUMNS = (
    "id, name, company, email, phone, owner, region, industry, source, status, tier, tags, "
    "unsubscribed, created, updated, last_contact, notes, bounced, segment, merged_into, "
    "language, Key account"
)
NAMING = (
    "name a column by its key (last_contact) or its header (最近联系); "
    "put a header with spaces in backticks: `Last contact`"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'status == "活跃" and stauts == "A"',
            f"--where: at 20: unknown column 'stauts' (columns: {COLUMNS})\n"
            f"  hint: did you mean status? {NAMING}",
        ),
        (
            'status == "Actve"',
            "--where: at 11: 'Actve' is not a status value: Lead (潜在), Active (活跃), "
            "Inactive (休眠), Churned (流失)\n"
            "  hint: use one of these values, in English or Chinese",
        ),
        (
            "created < 5",
            "--where: at 9: created is a date and cannot be compared with 5 (a number)\n"
            "  hint: write a date like 2026-01-31, or today - 30d",
        ),
        (
            'created > "last week"',
            "--where: at 11: 'last week' is not a date, and created is compared as one\n"
            "  hint: write a date like 2026-01-31, or today - 30d",
        ),
        (
            "last_contact < today - 90",
            "--where: at 22: cannot subtract 90 (a number) from today (a date)\n"
            "  hint: use + and - with numbers, or a date with a duration: today - 90d",
        ),
        (
            "last_contact < 90d",
            "--where: at 16: a duration (90d) is only added to or taken from a date\n"
            "  hint: write it like: last_contact < today - 90d",
        ),
        (
            'tier == "A" and',
            "--where: at 16: expected a value after 'and', found the end\n"
            '  hint: write it like: status == "Active" and last_contact < today - 90d',
        ),
        (
            'region == "华东',
            '--where: at 11: the text starting with " has no closing "\n  hint: end it with "',
        ),
        (
            "name.__class__",
            "--where: at 5: unexpected character '.'\n"
            "  hint: a filter compares columns with values; it has no attribute access or calls",
        ),
        (
            "__import__('os')",
            "--where: at 1: __import__ is not a function; a filter has no function calls\n"
            '  hint: compare the column with a value: region == "华东"',
        ),
        (
            "{{ 7 * 7 }}",
            "--where: at 1: unexpected character '{'\n  hint: put text in quotes: \"…\"",
        ),
        (
            'status contains "act"',
            "--where: at 8: contains works on text, and status is a choice\n"
            "  hint: compare it with == or in instead",
        ),
        (
            "unsubscribed > false",
            "--where: at 14: yes/no values (unsubscribed) have no order\n"
            "  hint: compare with == or !=: unsubscribed == false",
        ),
        (
            "region",
            None,  # a bare column is a valid test (is not empty): no error
        ),
        (
            'tier == "A" == "B"',
            "--where: at 13: compare one pair at a time\n"
            "  hint: join comparisons with 'and': amount >= 100 and amount < 500",
        ),
        (
            'region in "华东"',
            '--where: at 8: \'in\' needs a list\n  hint: write it like: region in ["华东", "华南"]',
        ),
        (
            "region in [name]",
            "--where: at 12: the values in a list must be values, not columns (name)\n"
            '  hint: write them in quotes: region in ["华东", "华南"]',
        ),
        (
            "created > 2026-02-30",
            "--where: at 11: 2026-02-30 is not a real date\n  hint: write dates as 2026-11-01",
        ),
        (
            "last_contact < today - 3x",
            "--where: at 24: '3x' is not a number or a duration\n"
            "  hint: durations are whole numbers with a unit: 90d (days), 2w (weeks), "
            "6m (months), 1y (years), 48h (hours); a column whose name starts with a digit "
            "goes in backticks: `2026目标`",
        ),
        (
            'tier == "A")',
            "--where: at 12: this ')' has no '(' before it",
        ),
    ],
)
def test_mistakes_say_where_and_what_to_do(book_path: Path, text: str, message: str | None) -> None:
    with open_book(book_path) as book:
        table = book.table("customers")
        if message is None:
            compile_filter(text, table=table, where="--where")
            return
        with pytest.raises(FilterError) as error:
            compile_filter(text, table=table, where="--where")
    assert str(error.value) == message
    assert isinstance(error.value, UsageError) and error.value.exit_code == 2


def test_type_errors_are_found_before_any_row_is_read(book_path: Path) -> None:
    with open_book(book_path) as book, pytest.raises(FilterError) as error:
        compile_filter('amount > "abc"', table=book.table("deals"), where="--where")
    assert str(error.value) == (
        "--where: at 10: 'abc' is not a number, and amount is compared as one\n"
        "  hint: write a number: amount > 1000"
    )


def test_a_canonical_column_the_sheet_lacks_is_named() -> None:
    with pytest.raises(FilterError) as error:
        compile_filter(
            'segment == "At risk"', spec=CUSTOMERS, columns=["id", "name"], lang="zh", where="R1"
        )
    assert str(error.value) == (
        "R1: at 1: the Customers table has no '客户分群' column (segment)\n"
        "  hint: add a column headed '客户分群' to the Customers table, or leave it out"
    )


def test_size_and_nesting_are_bounded() -> None:
    deep = "(" * (MAX_DEPTH + 1) + 'tier == "A"' + ")" * (MAX_DEPTH + 1)
    with pytest.raises(FilterError, match=f"at {MAX_DEPTH + 1}: the filter nests deeper than"):
        compile_filter(deep, spec=CUSTOMERS)
    nots = "not " * (MAX_DEPTH + 1) + "unsubscribed"
    with pytest.raises(FilterError, match="nests deeper than 32 levels"):
        compile_filter(nots, spec=CUSTOMERS)
    ok = "(" * MAX_DEPTH + 'tier == "A"' + ")" * MAX_DEPTH
    assert compile_filter(ok, spec=CUSTOMERS)({"tier": "A"})
    long = " or ".join(['tier == "A"'] * 400)  # flat: no recursion, however long
    assert len(long) > MAX_LENGTH
    with pytest.raises(
        FilterError, match="at 1: the filter is 5,996 characters long; at most 4,000"
    ):
        compile_filter(long, spec=CUSTOMERS)
    wide = " or ".join(['tier == "B"'] * 200 + ['tier == "A"'])
    assert compile_filter(wide, spec=CUSTOMERS)({"tier": "A"})


def test_spec_alone_and_plain_rows() -> None:
    """Compiled from a spec, a filter runs over any dicts: the rows a reminder builds itself."""
    due = compile_filter('due < now and status != "已解决"', spec=TICKETS, now=NOW)
    rows = [
        {"id": "T1", "due": dt.datetime(2026, 6, 1, 8, 0), "status": "pending"},
        {"id": "T2", "due": dt.datetime(2026, 6, 1, 8, 0), "status": "resolved"},
        {"id": "T3", "due": None, "status": "open"},
        {"id": "T4", "due": dt.datetime(2026, 6, 1, 13, 0), "status": None},
    ]
    assert [r["id"] for r in rows if due(r)] == ["T1"]
    # A list cell against another column: one of its items equals the other cell.
    replied = compile_filter("to == from", spec="interactions")
    assert replied({"to": "a@x.cn; B@y.cn", "from": "b@y.cn"})
    assert not replied({"to": "a@x.cn; b@y.cn", "from": None})
    months = compile_filter("created <= today - 1m", spec="customers", today=dt.date(2026, 3, 31))
    # calendar months: March 31 minus one month is February 28
    assert months({"created": dt.date(2026, 2, 28)}) and not months(
        {"created": dt.date(2026, 3, 1)}
    )


def test_export_where_on_the_command_line(book_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "lapsed.json"
    result = CliRunner().invoke(
        cli,
        [
            "export",
            str(book_path),
            "customers",
            "--format",
            "json",
            "-o",
            str(out),
            "--where",
            'status != "流失" and (last_contact < 2026-03-03 or last_contact is empty)',
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert [(r["id"], r["status"], r["last_contact"]) for r in rows] == [
        ("C0001", "Active", "2026-01-10")
    ]
    assert f"Wrote 1 rows to {out}" in result.stderr


def test_export_where_mistake_exits_2_and_writes_nothing(book_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    result = CliRunner().invoke(
        cli, ["export", str(book_path), "deals", "-o", str(out), "--where", "amont > 5"]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "xlcrm: --where: at 1: unknown column 'amont' (columns: id, customer_id, title, stage, "
        "amount,"
    )
    assert "did you mean amount?" in result.stderr
    assert not out.exists()


def test_export_where_selects_the_rows_written(book_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["export", str(book_path), "客户", "--where", '`Key account` == "yes" and tier != "A"']
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("id,name,company") and lines[0].endswith(",Key account")
    assert [line.split(",")[0] for line in lines[1:]] == ["C0004"]


TEMPLATE = """---
subject: "{{ customer.company }}: hello again"
---
<html><body><p>{{ customer | salutation }},</p>
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>
"""


def test_campaign_where_uses_the_filter_language(tmp_path: Path) -> None:
    book = make_book(tmp_path / "crm.xlsx", "zh")
    with open_book(book) as wb:
        write_settings(wb, {"company_name": "星河软件", "sender": "Sales <sales@xinghe.example>"})
    folder = tmp_path / "hello"
    folder.mkdir()
    (folder / "zh.html").write_text(TEMPLATE, encoding="utf-8")
    base = CampaignOptions(template=str(folder), name="hello", lang="zh")
    base.where = 'tags contains "vip" and 状态 in ["活跃", "Inactive"]'
    with open_book(book) as wb:
        report = run_campaign(wb, base)
    assert report.selected == 2 and report.ready == 2
    base.where = 'tags contains "vip" and stauts == "活跃"'
    with (
        open_book(book) as wb,
        pytest.raises(FilterError, match="--where: at 25: unknown column 'stauts'"),
    ):
        run_campaign(wb, base)
