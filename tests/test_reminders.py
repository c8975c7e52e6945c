"""``xlcrm reminders`` on real bilingual workbooks: the Reminders / 提醒 sheet read back with
openpyxl as Excel would show it, one digest e-mail per owner through a real SMTP server
(aiosmtpd on loopback, STARTTLS and a login) and never a second one the same day, owners
without an address reported. Nothing is mocked.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
from click.testing import CliRunner
from pipeline_books import NOW, body, make_crm, received, rows, smtp_url
from servers.smtp import SmtpServer

from addin.cli import cli
from addin.cli.pipeline import run_rules_file
from addin.pipeline import RemindersOptions, RunOptions, run_reminders
from addin.workbook import open_book


def remind(path: Path, day: int = 0, server: SmtpServer | None = None, **options: object):
    now = NOW + dt.timedelta(days=day)
    if server is not None:
        options.update(send=True, transport=smtp_url(server))
    with open_book(path) as book:  # the caller saves
        return run_reminders(book, RemindersOptions(now=lambda: now, **options))  # type: ignore[arg-type]


def sheet_rows(path: Path, name: str) -> tuple[str, list[tuple], str]:
    """The heading, the Reminders table's rows (header first) and the table's range."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook[name]
    table = sheet.tables["Reminders"]
    cells = sheet[table.ref]
    return sheet["A1"].value, [tuple(c.value for c in row) for row in cells], table.ref


def test_the_reminders_sheet_lists_each_owners_work(tmp_path: Path) -> None:
    book = make_crm(tmp_path / "客户管理.xlsx", "zh")
    report = remind(book)
    assert report.sheet == "提醒"
    heading, table, ref = sheet_rows(book, "提醒")
    assert heading.startswith("提醒（2026-03-02，由 xlcrm reminders 生成")
    day = dt.datetime
    assert table == [
        ("负责人", "类型", "客户", "商机", "日期", "超出天数"),
        # "li na" (a customer's owner) and "Li Na" (a deal's) are one person in the team list.
        ("Li Na", "A级客户未联系", "Northwind Traders (C0002)", None, day(2025, 12, 1), 61),
        (
            "Li Na",
            "商机停滞",
            "Northwind Traders (C0002)",
            "D0002 ERP rollout",
            day(2026, 1, 10),
            37,
        ),
        (
            "张强",
            "商机停滞",
            "深圳华强电子有限公司 (C0003)",
            "D0003 门店 POS 升级",
            day(2026, 1, 5),
            49,
        ),
        (
            "张强",
            "跟进逾期",
            "深圳华强电子有限公司 (C0003)",
            "D0003 门店 POS 升级",
            day(2026, 2, 25),
            5,
        ),
        ("王伟", "商机停滞", "A&B 上海贸易有限公司 (C0001)", "D0001 CRM 项目", day(2026, 2, 1), 22),
    ]
    assert ref == "A3:F8"
    workbook = openpyxl.load_workbook(book)
    assert workbook["提醒"]["E4"].number_format == "yyyy-mm-dd"
    assert report.notices is not None and len(report.notices.would_send) == 2  # a dry run

    # A run records every deal's stage as first seen: that is xlcrm's bookkeeping, not
    # activity, so the deals stay idle. An e-mail with Northwind counts as contact with the
    # A-tier customer (but not as activity on its deal). The sheet is rewritten, not appended.
    run_rules_file(book, RunOptions(now=lambda: NOW))
    with open_book(book) as wb:
        wb.table("interactions").insert(
            {
                "customer_id": "C0002",
                "kind": "email",
                "direction": "in",
                "at": dt.datetime(2026, 3, 1, 16, 0),
                "subject": "Re: ERP rollout",
            }
        )
    later = remind(book, day=3)
    _, table, ref = sheet_rows(book, "提醒")
    assert table[1:] == [
        (
            "Li Na",
            "商机停滞",
            "Northwind Traders (C0002)",
            "D0002 ERP rollout",
            day(2026, 1, 10),
            40,
        ),
        (
            "张强",
            "商机停滞",
            "深圳华强电子有限公司 (C0003)",
            "D0003 门店 POS 升级",
            day(2026, 1, 5),
            52,
        ),
        (
            "张强",
            "跟进逾期",
            "深圳华强电子有限公司 (C0003)",
            "D0003 门店 POS 升级",
            day(2026, 2, 25),
            8,
        ),
        ("王伟", "商机停滞", "A&B 上海贸易有限公司 (C0001)", "D0001 CRM 项目", day(2026, 2, 1), 25),
    ]
    assert ref == "A3:F7" and len(later.reminders) == 4

    # A stage change a person made is activity: the deal is no longer idle.
    with open_book(book) as wb:
        wb.table("deals").update("D0002", {"stage": "Negotiation"})
    run_rules_file(book, RunOptions(now=lambda: NOW + dt.timedelta(days=3)))
    remind(book, day=3)
    _, table, _ = sheet_rows(book, "提醒")
    assert [(r[0], r[3]) for r in table[1:] if r[1] == "商机停滞"] == [
        ("张强", "D0003 门店 POS 升级"),
        ("王伟", "D0001 CRM 项目"),
    ]


def test_each_owner_gets_one_digest_a_day(tmp_path: Path, smtp: SmtpServer) -> None:
    book = make_crm(tmp_path / "客户管理.xlsx", "zh")
    report = remind(book, server=smtp)
    assert report.no_address == ["张强: 2 reminder(s), not in the team list (设置!B24)"]
    li_na, wang_wei = received(smtp)
    assert smtp.messages[0].rcpt_tos == ["li.na@xinghe.example"]
    assert li_na["Subject"] == "Li Na 的今日提醒（2026-03-02）：2 项"
    text = body(li_na)
    assert "A级客户未联系:\n  - Northwind Traders (C0002) — 自 2025-12-01 起，超出 61 天" in text
    assert "商机停滞:\n  - Northwind Traders (C0002) / D0002 ERP rollout — 自 2026-01-10 起" in text
    assert "<td" in body(li_na, "html")
    assert smtp.messages[1].rcpt_tos == ["wang.wei@xinghe.example"]
    assert wang_wei["Subject"] == "王伟 的今日提醒（2026-03-02）：1 项"
    digests = [r for r in rows(book, "interactions") if r["kind"] == "email"]
    assert [r["to"] for r in digests] == ["li.na@xinghe.example", "wang.wei@xinghe.example"]

    again = remind(book, server=smtp)  # the same day: nothing new goes out
    assert again.notices is not None and len(again.notices.already) == 2
    assert len(smtp.messages) == 2
    remind(book, day=1, server=smtp)  # the next day, the next digest
    assert len(smtp.messages) == 4


def test_the_command_line_in_english(tmp_path: Path, smtp: SmtpServer) -> None:
    book = make_crm(tmp_path / "crm.xlsx", "en")
    today = dt.date.today()  # the command uses the real date
    with open_book(book) as wb:
        for deal in wb.table("deals").rows():  # nothing else is due today
            wb.table("deals").update(deal["id"], {"created": today})
        for customer in wb.table("customers").rows():
            wb.table("customers").update(customer["id"], {"last_contact": today})
        wb.table("deals").update("D0003", {"next_follow_up": None})
        wb.table("deals").update("D0002", {"next_follow_up": today - dt.timedelta(days=4)})
    dry = CliRunner().invoke(cli, ["reminders", str(book), "--json"])
    assert dry.exit_code == 0, dry.output
    data = json.loads(dry.output)
    assert [(r["owner"], r["kind"], r["deal_id"], r["days_over"]) for r in data["reminders"]] == [
        ("Li Na", "follow_up", "D0002", 4)
    ]
    assert [n["status"] for n in data["notices"]["notices"]] == ["would send"]
    assert smtp.messages == []
    sent = CliRunner().invoke(
        cli, ["reminders", str(book), "--send", "--transport", smtp_url(smtp), "--idle-days", "0"]
    )
    assert sent.exit_code == 0, sent.output
    assert sent.output.startswith("1 reminder(s) on the Reminders sheet\n  Li Na: 1\n  sent: ")
    [message] = received(smtp)
    assert message["Subject"] == f"Reminders for Li Na, {today.isoformat()}: 1 item(s)"
    assert "Follow-up overdue:\n  - Northwind Traders (C0002) / D0002 ERP rollout" in body(message)
    _, table, _ = sheet_rows(book, "Reminders")
    assert table[0] == ("Owner", "Kind", "Customer", "Deal", "Date", "Days over")


def test_nothing_to_remind_still_writes_the_sheet(tmp_path: Path) -> None:
    book = make_crm(tmp_path / "crm.xlsx", "en")
    report = remind(book, day=-400)  # a year before anything in the workbook was due
    assert report.reminders == []
    _, table, _ = sheet_rows(book, "Reminders")
    assert table[0] == ("Owner", "Kind", "Customer", "Deal", "Date", "Days over")
    assert all(v is None for row in table[1:] for v in row)
