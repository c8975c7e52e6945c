"""``build_demo``: the demo workbook, built for real in a temp folder and read back.

Every assertion reads the workbook file through ``open_book`` (or python-calamine for raw
cells), i.e. what a user opening the file would find.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import python_calamine as calamine

from addin.customers import split_emails
from addin.demo import (
    DEMO_NAME,
    MAIL_FOLDER,
    SUPPORT_FOLDER,
    DemoResult,
    build_demo,
    sync_demo_mailbox,
    sync_demo_support,
)
from addin.errors import UsageError, WorkbookError
from addin.schema import TABLES
from addin.tickets import ticket_tag
from addin.workbook import open_book
from sync.local import MaildirMailbox
from sync.message import parse_message

TODAY = dt.date(2026, 3, 15)
TABLE_KEYS = ("customers", "deals", "interactions", "tickets", "products")
CJK = re.compile(r"[\u4e00-\u9fff]")

Rows = dict[str, list[dict[str, Any]]]


def read_rows(path: Path) -> Rows:
    book = open_book(path)
    try:
        return {key: list(book.table(key).rows()) for key in TABLE_KEYS}
    finally:
        book.close()


def raw_cells(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's cell values as stored, without xlcrm's typing."""
    wb = calamine.CalamineWorkbook.from_path(str(path))
    try:
        return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}
    finally:
        wb.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoResult, Rows]:
    result = build_demo(tmp_path_factory.mktemp("demo"), today=TODAY)
    return result, read_rows(result.path)


@pytest.fixture(scope="module")
def rows(built: tuple[DemoResult, Rows]) -> Rows:
    return built[1]


def test_workbook_is_where_the_result_says(built: tuple[DemoResult, Rows]) -> None:
    result, rows = built
    assert result.path.name == DEMO_NAME
    assert result.path.is_file()
    assert result.counts == {key: len(rows[key]) for key in TABLE_KEYS}
    with open_book(result.path) as book:
        assert book.lang == "en"
        assert book.state["demo_seed"] == "2026"  # lets sending features recognise a demo


def test_row_counts(rows: Rows) -> None:
    assert len(rows["customers"]) >= 240
    assert len(rows["deals"]) >= 320
    assert 550 <= len(rows["interactions"]) <= 650
    assert 35 <= len(rows["tickets"]) <= 45
    assert 10 <= len(rows["products"]) <= 14


@pytest.mark.parametrize(
    ("table", "pattern"),
    [("customers", "C{:04d}"), ("deals", "D{:04d}"), ("interactions", "I{:06d}"),
     ("tickets", "T{:04d}")],
)  # fmt: skip
def test_ids_are_unique_and_sequential(rows: Rows, table: str, pattern: str) -> None:
    ids = [row["id"] for row in rows[table]]
    assert ids == [pattern.format(n) for n in range(1, len(ids) + 1)]


def test_references_point_at_existing_rows(rows: Rows) -> None:
    customers = {c["id"] for c in rows["customers"]}
    deals = {d["id"]: d for d in rows["deals"]}
    skus = {p["sku"] for p in rows["products"]}
    assert len(skus) == len(rows["products"])
    for deal in rows["deals"]:
        assert deal["customer_id"] in customers, deal
        assert deal["product"] in skus, deal
    for item in rows["interactions"]:
        assert item["customer_id"] in customers, item
        if item["deal_id"] is not None:
            assert deals[item["deal_id"]]["customer_id"] == item["customer_id"], item
    assert any(item["deal_id"] is None for item in rows["interactions"])
    for ticket in rows["tickets"]:
        assert ticket["customer_id"] in customers, ticket


def test_choice_values_are_allowed(rows: Rows) -> None:
    for key in TABLE_KEYS:
        spec = TABLES[key]
        for column in spec.columns:
            if column.type != "choice":
                continue
            allowed = {choice.value for choice in column.choices}
            used = {row[column.key] for row in rows[key]} - {None}
            assert used <= allowed, (key, column.key, used - allowed)
    stages = Counter(d["stage"] for d in rows["deals"])
    assert set(stages) == {"Lead", "Qualified", "Proposal", "Negotiation", "Won", "Lost"}
    assert set(Counter(c["tier"] for c in rows["customers"])) == {"A", "B", "C"}


def test_values_have_their_column_types(rows: Rows) -> None:
    for key in TABLE_KEYS:
        for column in TABLES[key].columns:
            for row in rows[key]:
                value = row[column.key]
                if value is None:
                    continue
                where = (key, row.get("id") or row.get("sku"), column.key, value)
                if column.type == "date":
                    assert type(value) is dt.date, where
                elif column.type == "datetime":
                    assert type(value) is dt.datetime, where
                elif column.type == "number":
                    assert type(value) is float, where
                elif column.type == "integer":
                    assert type(value) is int, where
                elif column.type == "bool":
                    assert type(value) is bool, where
                else:
                    assert type(value) is str, where


def test_dates_lie_in_the_18_months_before_today(rows: Rows) -> None:
    start = dt.date(2024, 9, 15)
    for customer in rows["customers"]:
        assert start <= customer["created"] < TODAY
        assert customer["created"] <= customer["updated"] < TODAY
        if customer["last_contact"] is not None:
            assert customer["created"] <= customer["last_contact"] < TODAY
    for item in rows["interactions"]:
        assert dt.datetime.combine(start, dt.time()) <= item["at"] < dt.datetime(2026, 3, 15)
    assert [c["created"] for c in rows["customers"]] == sorted(
        c["created"] for c in rows["customers"]
    )


def test_deals_make_sense(rows: Rows) -> None:
    probability = {"Lead": 0.1, "Qualified": 0.25, "Proposal": 0.5, "Negotiation": 0.7,
                   "Won": 1.0, "Lost": 0.0}  # fmt: skip
    customers = {c["id"]: c for c in rows["customers"]}
    overdue = 0
    for deal in rows["deals"]:
        assert deal["probability"] == probability[deal["stage"]], deal
        assert deal["amount"] > 0
        chinese = bool(CJK.search(customers[deal["customer_id"]]["company"]))
        assert deal["currency"] == "CNY" if chinese else deal["currency"] in ("USD", "EUR")
        assert deal["created"] <= deal["expected_close"]
        if deal["stage"] in ("Won", "Lost"):
            assert deal["created"] <= deal["closed"] < TODAY, deal
            assert deal["next_follow_up"] is None
        else:
            assert deal["closed"] is None and deal["contract_no"] is None
            assert deal["next_follow_up"] is not None
            overdue += deal["next_follow_up"] < TODAY
    assert overdue > 0  # reminders have something to remind of
    won = [d for d in rows["deals"] if d["stage"] == "Won"]
    assert any(d["contract_no"] is None for d in won)
    numbers = [d["contract_no"] for d in won if d["contract_no"]]
    assert len(numbers) == len(set(numbers)) > 0


def test_data_is_bilingual(rows: Rows) -> None:
    customers = rows["customers"]
    chinese = [c for c in customers if CJK.search(c["company"])]
    assert 0.5 <= len(chinese) / len(customers) <= 0.7
    assert any(c["company"].endswith("有限公司") for c in chinese)
    assert all(CJK.search(c["name"]) for c in chinese)
    regions = Counter(c["region"] for c in customers)
    assert {"华东", "华北", "华南", "西南", "华中", "EMEA", "North America", "APAC"} <= set(regions)
    assert any(c["phone"].startswith("+86 1") for c in customers)
    assert any(c["email"] and c["email"].endswith("@qq.com") for c in customers)
    subjects = [i["subject"] for i in rows["interactions"]]
    assert any(CJK.search(s) for s in subjects) and any(not CJK.search(s) for s in subjects)
    tickets = [t["subject"] for t in rows["tickets"]]
    assert any(CJK.search(s) for s in tickets) and any(not CJK.search(s) for s in tickets)
    names = [p["name"] for p in rows["products"]]
    assert any(CJK.search(n) for n in names) and any(not CJK.search(n) for n in names)
    owners = {c["owner"] for c in customers}
    assert any(CJK.search(o) for o in owners) and any(not CJK.search(o) for o in owners)


def test_data_is_as_dirty_as_a_real_crm(rows: Rows) -> None:
    customers = rows["customers"]
    # The same address typed twice with different case: the de-duplication feature's work.
    addresses = Counter(
        address.strip().casefold()
        for c in customers
        if c["email"]
        for address in c["email"].split(";")
    )
    twice = [a for a, n in addresses.items() if n > 1]
    assert len(twice) >= 4
    spellings = {c["email"] for c in customers if c["email"] and c["email"].casefold() in twice}
    assert len(spellings) == 2 * len(twice)  # never spelled the same way
    assert sum(1 for c in customers if c["email"] and "; " in c["email"]) >= 2
    assert sum(1 for c in customers if c["email"] is None) >= 2
    assert any(c["company"].endswith("Co., Ltd.") for c in customers)
    assert any(c["unsubscribed"] for c in customers)
    assert any(not c["unsubscribed"] for c in customers)


def test_tickets_make_sense(rows: Rows) -> None:
    for ticket in rows["tickets"]:
        assert ticket["opened"] < ticket["due"]
        if ticket["status"] in ("resolved", "closed"):
            assert ticket["opened"] < ticket["resolved"] < dt.datetime(2026, 3, 15)
        else:
            assert ticket["resolved"] is None and ticket["satisfaction"] is None
        if ticket["satisfaction"] is not None:
            assert 1 <= ticket["satisfaction"] <= 5
    assert any(t["satisfaction"] for t in rows["tickets"])


def test_phone_numbers_are_stored_as_text(built: tuple[DemoResult, Rows]) -> None:
    sheet = raw_cells(built[0].path)["Customers"]
    phone = sheet[0].index("Phone")
    assert all(isinstance(row[phone], str) and row[phone] for row in sheet[1:])


def test_same_seed_and_day_give_the_same_cells(
    built: tuple[DemoResult, Rows], tmp_path: Path
) -> None:
    again = build_demo(tmp_path, today=TODAY)
    assert raw_cells(again.path) == raw_cells(built[0].path)
    assert again.summary().replace(str(tmp_path), "") == built[0].summary().replace(
        str(built[0].path.parent), ""
    )


def test_another_seed_gives_other_data(rows: Rows, tmp_path: Path) -> None:
    other = read_rows(build_demo(tmp_path, today=TODAY, seed=7).path)
    assert [c["email"] for c in other["customers"]] != [c["email"] for c in rows["customers"]]


def test_chinese_workbook_holds_the_same_data(rows: Rows, tmp_path: Path) -> None:
    result = build_demo(tmp_path, today=TODAY, lang="zh")
    raw = raw_cells(result.path)
    assert "客户" in raw and "商机" in raw
    header = raw["商机"][0]
    stages = {row[header.index("阶段")] for row in raw["商机"][1:]}
    assert stages == {"线索", "已确认", "方案", "谈判", "赢单", "输单"}
    zh = read_rows(result.path)
    assert zh["deals"] == rows["deals"]  # labels differ in the sheet, not the data
    assert any(c["industry"] == "制造业" for c in zh["customers"])


def test_an_existing_demo_is_kept_unless_overwrite(tmp_path: Path) -> None:
    first = build_demo(tmp_path, today=TODAY, seed=1)
    before = first.path.read_bytes()
    old = read_rows(first.path)["customers"]
    with pytest.raises(WorkbookError) as caught:
        build_demo(tmp_path, today=TODAY, seed=2)
    assert str(caught.value) == (
        f"{first.path}: a demo workbook already exists here\n"
        "  hint: choose another folder, or replace it with 'xlcrm demo --force'"
    )
    assert first.path.read_bytes() == before
    second = build_demo(tmp_path, today=TODAY, seed=2, overwrite=True)
    assert second.path == first.path
    assert read_rows(second.path)["customers"] != old


def test_missing_folder_is_created(tmp_path: Path) -> None:
    result = build_demo(tmp_path / "new" / "demo", today=TODAY)
    assert result.path == tmp_path / "new" / "demo" / DEMO_NAME
    assert result.path.is_file()


def test_unknown_language_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        build_demo(tmp_path, lang="fr")  # type: ignore[arg-type]
    assert not (tmp_path / DEMO_NAME).exists()


def test_summary_names_the_file_the_rows_and_the_pipeline(built: tuple[DemoResult, Rows]) -> None:
    result, rows = built
    text = result.summary()
    assert str(result.path) in text
    assert f"{len(rows['customers'])} customers" in text
    assert f"{len(rows['deals'])} deals" in text
    won = [d for d in rows["deals"] if d["stage"] == "Won"]
    cny = sum(d["amount"] for d in won if d["currency"] == "CNY")
    line = next(line for line in text.splitlines() if line.strip().startswith("Won"))
    assert f"{len(won)}  CNY {cny:,.0f}" in line
    assert len(text.splitlines()) <= 12


@pytest.mark.libreoffice
def test_libreoffice_opens_the_demo(
    built: tuple[DemoResult, Rows], libreoffice_csv: Callable[[Path], dict[str, list[list[str]]]]
) -> None:
    result, rows = built
    sheets = libreoffice_csv(result.path)
    deals = sheets["Deals"]
    assert len(deals) == 1 + len(rows["deals"])
    header = deals[0]
    first = dict(zip(header, deals[1]))
    assert first["ID"] == "D0001"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", first["Created"])  # shown as a date
    assert first["Probability"].endswith("%")
    customers = sheets["Customers"]
    assert any("有限公司" in row[customers[0].index("Company")] for row in customers[1:])


# -- the demo mailbox and its sync ---------------------------------------------------------------


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_the_demo_mailbox_is_a_maildir_of_mail_with_the_demo_customers(
    built: tuple[DemoResult, Rows],
) -> None:
    result, rows = built
    assert result.mailbox == result.path.parent / MAIL_FOLDER
    box = MaildirMailbox(f"maildir:{result.mailbox}")
    assert {f.name: f.role for f in box.folders()} == {"INBOX": "inbox", "Sent": "sent"}
    messages = [
        parse_message(data)
        for folder in ("INBOX", "Sent")
        for _, data in box.fetch(box.changes(folder, None).refs)
    ]
    addresses = {a.casefold() for c in rows["customers"] for a in split_emails(c["email"])}
    with_customers = [m for m in messages if {a.addr for a in (m.sender, *m.to) if a} & addresses]
    assert len(messages) >= 40 and len(with_customers) >= 30
    assert all(m.date and TODAY - dt.timedelta(days=31) <= m.date.date() < TODAY for m in messages)
    # Chinese mail as Chinese clients send it: GBK labelled GB2312, decoded all the same.
    raw = b"".join(_files(result.mailbox).values())
    assert b'charset="gb2312"' in raw and b"=?gb2312?B?" in raw
    assert any(m.subject.startswith("答复: ") and CJK.search(m.summary) for m in messages)
    assert not any(m.defects for m in messages)


def test_the_same_seed_and_day_give_the_same_mailbox(tmp_path: Path) -> None:
    first = build_demo(tmp_path / "a", today=TODAY)
    second = build_demo(tmp_path / "b", today=TODAY)
    assert first.mailbox and second.mailbox
    assert _files(first.mailbox) == _files(second.mailbox)


def test_syncing_the_demo_mailbox_links_mail_to_customers_and_deals(tmp_path: Path) -> None:
    result = build_demo(tmp_path, today=TODAY)
    assert result.mailbox
    report = sync_demo_mailbox(result.path, result.mailbox)
    assert report.new >= 30 and report.linked_deal >= 10
    assert report.skipped["auto_reply"] >= 2
    assert report.skipped["internal"] == 1 and report.skipped["automated"] == 1
    assert len(report.bounced) == 1 and len(report.unknown) == 2
    after = read_rows(result.path)
    emails = [i for i in after["interactions"] if i["kind"] == "email"]
    assert len(emails) == report.new
    customers = {c["id"]: c for c in after["customers"]}
    deals = {d["id"]: d for d in after["deals"]}
    for row in emails:
        assert row["customer_id"] in customers and row["message_id"]
        if row["deal_id"]:
            assert deals[row["deal_id"]]["customer_id"] == row["customer_id"]
    bounced = [c for c in after["customers"] if c["bounced"]]
    assert [c["bounced"] for c in bounced] == report.bounced
    again = sync_demo_mailbox(result.path, result.mailbox)
    assert (again.fetched, again.new) == (0, 0)


# -- the support mailbox -------------------------------------------------------------------------


def test_the_support_mailbox_holds_requests_in_chinese_and_english(
    built: tuple[DemoResult, Rows],
) -> None:
    result, rows = built
    assert result.support == result.path.parent / SUPPORT_FOLDER
    box = MaildirMailbox(f"maildir:{result.support}")
    inbox = [parse_message(d) for _, d in box.fetch(box.changes("INBOX", None).refs)]
    sent = [parse_message(d) for _, d in box.fetch(box.changes("Sent", None).refs)]
    assert 6 <= len(inbox) <= 12 and 1 <= len(sent) <= 4
    assert not any(m.defects for m in inbox + sent)
    assert all(m.date and TODAY - dt.timedelta(days=7) <= m.date.date() <= TODAY for m in sent)
    customers = {a.casefold() for c in rows["customers"] for a in split_emails(c["email"])}
    assert all(m.sender and m.sender.addr in customers for m in inbox)  # paying customers
    raw = b"".join(_files(result.support).values())
    # GB2312 as usual, and GBK when a name needs more (刘喆): both decoded right.
    assert b'charset="gb2312"' in raw and b'charset="gbk"' in raw and b"=?gbk?B?" in raw
    assert any("刘喆" in m.summary for m in inbox)
    assert any(CJK.search(m.subject) for m in inbox) and any(m.subject.isascii() for m in inbox)
    # The answer to the survey of a recently resolved ticket, found by its [T…] tag.
    [answer] = [m for m in inbox if ticket_tag(m.subject)]
    ticket = next(t for t in rows["tickets"] if t["id"] == ticket_tag(answer.subject))
    assert ticket["status"] == "resolved" and ticket["satisfaction"] is None


def test_syncing_the_support_mailbox_opens_classified_tickets(tmp_path: Path) -> None:
    result = build_demo(tmp_path, today=TODAY)
    assert result.support
    before = {t["id"] for t in read_rows(result.path)["tickets"]}
    report = sync_demo_support(result.path, result.support)
    tickets = {t["id"]: t for t in read_rows(result.path)["tickets"]}
    opened = [tickets[t] for t in report.tickets_opened]
    assert len(opened) == 7 and not report.tickets_unassigned
    assert not set(report.tickets_opened) & before
    by_subject = {t["subject"]: t for t in opened}
    urgent = by_subject["紧急：系统无法登录，门店没法收银"]  # the GBK one
    assert (urgent["type"], urgent["priority"], urgent["status"]) == ("failure", "urgent", "open")
    assert "刘喆" in urgent["description"]
    complaint = by_subject["投诉：实施顾问多次改期，上线一拖再拖"]
    assert complaint["type"] == "complaint" and complaint["priority"] in ("high", "urgent")
    terminals = by_subject["Handheld terminals cannot sync since the update"]
    assert terminals["type"] == "failure" and terminals["status"] == "pending"  # we answered
    assert by_subject["How do we add user seats?"]["type"] == "question"
    assert by_subject["Suggestion: dark mode in the mobile app"]["type"] == "feedback"
    assert all(t["assignee"] and t["due"] > t["opened"] for t in opened)
    [(rated, score)] = report.satisfaction.items()
    assert tickets[rated]["satisfaction"] == score and 1 <= score <= 5
    again = sync_demo_support(result.path, result.support)
    assert (again.new, again.tickets_opened) == (0, [])


# -- xlcrm demo ----------------------------------------------------------------------------------


@dataclass
class Shown:
    """What a user finds after ``xlcrm demo``: the output, and the workbook and files."""

    output: str
    rows: dict[str, list[dict[str, Any]]]
    reminders: list[tuple[Any, ...]]
    charts: int
    contracts: list[str]


def _shown(folder: Path, output: str) -> Shown:
    import openpyxl

    book = open_book(folder / DEMO_NAME)
    try:
        rows = {
            key: list(book.table(key).rows()) for key in (*TABLE_KEYS, "duplicates", "settings")
        }
    finally:
        book.close()
    wb = openpyxl.load_workbook(folder / DEMO_NAME)
    try:
        sheet = wb["Reminders"]
        [table] = sheet.tables.values()
        reminders = [tuple(c.value for c in row) for row in sheet[table.ref]]
        charts = len(wb["Dashboard"]._charts)
    finally:
        wb.close()
    contracts = sorted(p.name for p in (folder / "contracts").iterdir())
    return Shown(output.replace(str(folder), "DEMO"), rows, reminders, charts, contracts)


@dataclass
class CliDemo:
    folder: Path
    first: Shown
    again: Any  # the CliRunner result of running it a second time without --force
    forced: Shown
    seconds: float


@pytest.fixture(scope="module")
def cli_demo(tmp_path_factory: pytest.TempPathFactory) -> CliDemo:
    from click.testing import CliRunner

    from addin.cli import cli

    folder = tmp_path_factory.mktemp("cli") / "d"
    started = time.perf_counter()
    out = CliRunner().invoke(cli, ["demo", str(folder)])
    seconds = time.perf_counter() - started
    assert out.exit_code == 0, out.output
    first = _shown(folder, out.output)
    again = CliRunner().invoke(cli, ["demo", str(folder)])
    forced = CliRunner().invoke(cli, ["demo", str(folder), "--force"])
    assert forced.exit_code == 0, forced.output
    return CliDemo(folder, first, again, _shown(folder, forced.output), seconds)


def _section(output: str, title: str) -> str:
    return output.split(title, 1)[1].split("\n\n", 1)[0]


def test_xlcrm_demo_syncs_and_shows_the_linked_emails(cli_demo: CliDemo) -> None:
    output = cli_demo.first.output
    assert "Syncing the demo mailbox (maildir:DEMO/xlcrm-demo-mail):" in output
    assert "sales@xinghe-soft.example: 46 new messages (INBOX 21, Sent 25)" in output
    latest = output.split("Latest emails recorded:\n")[1].split("\n\n")[0].splitlines()
    assert len(latest) == 6 and all(
        re.match(r"  \d{4}-\d\d-\d\d \d\d:\d\d [←→] ", x) for x in latest
    )
    # A contract for a won deal, and a campaign preview that sends nothing.
    found = re.search(r"\n  (D\d{4})  (CT-\d{4}-0001)  DEMO/contracts/(.*\.docx)\n", output)
    assert found and found[3] in cli_demo.first.contracts
    preview = cli_demo.folder / "campaign-preview" / "demo-promotion"
    assert len(list(preview.glob("*.eml"))) == 5 and (preview / "index.html").is_file()
    assert "would send" in output and "nothing was sent (preview)" in output
    assert "problem" not in _section(output, "Previewing a campaign")


def test_xlcrm_demo_lists_the_planted_duplicates(cli_demo: CliDemo) -> None:
    customers = cli_demo.first.rows["customers"]
    by_address: dict[str, list[str]] = {}
    for c in customers:
        for address in split_emails(c["email"]):
            by_address.setdefault(address.casefold(), []).append(c["id"])
    planted = {frozenset(ids) for ids in by_address.values() if len(ids) == 2}
    assert len(planted) == 4
    review = cli_demo.first.rows["duplicates"]
    pairs = {frozenset((p["keep_id"], p["merge_id"])) for p in review if p["merge_id"]}
    assert pairs == planted  # every planted pair, and nothing else
    assert all(p["status"] == "open" and p["decision"] is None for p in review)  # not merged
    assert not any(c.get("merged_into") for c in customers)
    # One was typed with a Chinese input method: full-width digits in the phone number.
    duplicates = {c["id"]: c for c in customers if any(c["id"] in p for p in planted)}
    assert any(re.search("[０-９]", c["phone"]) for c in duplicates.values())
    shown = _section(cli_demo.first.output, "Looking for duplicate customers")
    assert "4 likely duplicate pair(s)" in shown
    assert all(f"{p['keep_id']} " in shown and f"{p['merge_id']} " in shown for p in review[:4])


def test_xlcrm_demo_turns_the_support_mail_into_tickets(cli_demo: CliDemo) -> None:
    shown = _section(cli_demo.first.output, "Syncing the support mailbox into tickets")
    assert "support@xinghe-soft.example: " in shown and "tickets: opened 7 (" in shown
    tickets = {t["id"]: t for t in cli_demo.first.rows["tickets"]}
    opened = re.search(r"tickets: opened 7 \(([T0-9, ]+)\)", shown)
    assert opened
    new = {tickets[t]["subject"]: tickets[t] for t in opened[1].split(", ")}
    gbk = new["紧急：系统无法登录，门店没法收银"]
    assert (gbk["type"], gbk["priority"], gbk["status"]) == ("failure", "urgent", "open")
    assert "刘喆" in gbk["description"]
    assert {t["type"] for t in new.values()} == {"complaint", "failure", "question", "feedback"}
    rated = re.search(r"satisfaction recorded: (T\d{4}) (\d)", shown)
    assert rated and tickets[rated[1]]["satisfaction"] == int(rated[2])
    checked = _section(cli_demo.first.output, "Checking every ticket's due time")
    assert f"{gbk['id']} → 赵敏" in checked  # urgent and overdue: escalated (dry run)
    assert "would escalate" in checked and "dry run: no e-mail sent" in checked


def test_xlcrm_demo_refreshes_the_dashboard_tiers_and_segments(cli_demo: CliDemo) -> None:
    assert cli_demo.first.charts >= 6  # native Excel charts
    customers = cli_demo.first.rows["customers"]
    assert {c["tier"] for c in customers} == {"A", "B", "C"}
    segments = Counter(c["segment"] for c in customers)
    assert None not in segments and len(segments) >= 5 and {"Champions", "At risk"} <= set(segments)
    shown = _section(cli_demo.first.output, "Refreshing the dashboard")
    assert "Dashboard refreshed: sheet 'Dashboard'" in shown
    assert "converted at 1 USD = 7.2 CNY" in shown  # the demo's exchange rates
    assert "left out" not in shown


def test_xlcrm_demo_writes_reminders_and_applies_the_rules(cli_demo: CliDemo) -> None:
    header, *reminders = cli_demo.first.reminders
    assert header == ("Owner", "Kind", "Customer", "Deal", "Date", "Days over")
    kinds = {r[1] for r in reminders}
    assert kinds == {"Follow-up overdue", "Deal idle", "A-tier not contacted"}
    owners = {r[0] for r in reminders}
    assert owners <= {"王芳", "李强", "陈静", "Kevin Zhang", "Emily Carter", "James Wilson"}
    output = cli_demo.first.output
    assert f"{len(reminders)} on the Reminders sheet" in output
    assert f"would send each of the {len(owners)} owners a digest e-mail" in output
    # The first run records every deal's stage; the rules fire, e-mail is a dry run.
    rows = cli_demo.first.rows
    stages = [i for i in rows["interactions"] if i["kind"] == "stage"]
    assert len({i["deal_id"] for i in stages}) == len(rows["deals"])
    rules = _section(output, "Applying the automation rules")
    assert f"the stage of {len(rows['deals'])} deals recorded" in rules
    assert re.search(r"R001 \(generate the contract\): \d+ contract", rules)
    assert re.search(r"R002 \(e-mail the order hand-off\): would send \d+", rules)
    assert "R003 (set the next follow-up)" in rules and "R004 (e-mail the owner)" in rules
    # Then a deal is won: the change is recorded, its contract made, its hand-off prepared.
    won = re.search(r"A deal is won — (D\d{4}) ", output)
    assert won
    deal = next(d for d in rows["deals"] if d["id"] == won[1])
    assert deal["stage"] == "Won" and deal["closed"] and deal["contract_file"]
    assert Path(deal["contract_file"]).name in cli_demo.first.contracts
    moves = [i for i in stages if i["deal_id"] == deal["id"]]
    assert [i["subject"] for i in moves] == ["Stage: Negotiation", "Stage: Negotiation → Won"]
    after = output.split("A deal is won")[1]
    assert f"stage: {deal['id']} Negotiation → Won" in after
    assert f"would send: R002 {deal['id']} handoff — to warehouse@xinghe-soft.example" in after
    assert "dry run: no e-mail was sent" in after


def test_xlcrm_demo_suggests_the_workflow_commands(cli_demo: CliDemo) -> None:
    hints = cli_demo.first.output.split("or try:\n")[1]
    for command in ("dedupe", "run", "reminders", "report", "tickets", "forecast", "export"):
        assert f"  xlcrm {command} DEMO/xlcrm-demo.xlsx" in hints, command
    assert "--apply" in hints


def test_xlcrm_demo_force_gives_the_same_demo_again(cli_demo: CliDemo) -> None:
    again = cli_demo.again
    assert again.exit_code == 1 and "already exists" in again.output
    first, forced = cli_demo.first, cli_demo.forced
    assert forced.output == first.output  # a fresh mailbox, synced into a fresh book
    assert forced.rows == first.rows
    assert forced.reminders == first.reminders and forced.charts == first.charts
    assert forced.contracts == first.contracts  # no "(2)" copies of the first run's files
    assert not any("(2)" in name for name in forced.contracts)
    assert cli_demo.seconds < 15  # the demo stays a matter of seconds
