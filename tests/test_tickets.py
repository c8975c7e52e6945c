"""Customer service (#6): a support mailbox's threads become tickets; classification, assignment,
due times, escalation and satisfaction surveys — on real workbooks, real Maildirs and a real
SMTP server (aiosmtpd on loopback, STARTTLS and AUTH).

Each test builds a bilingual CRM workbook, writes real messages (UTF-8 and GBK) into a Maildir,
runs ``sync_mailbox`` / ``xlcrm sync --tickets`` / ``xlcrm tickets`` and reads the saved file
back as a person opening it would. Nothing is mocked.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
from pathlib import Path
from typing import Any

import pytest
from books import blank_workbook, built_once
from click.testing import CliRunner
from maildirs import T0, Mail, mail
from servers.smtp import SmtpServer

from addin.cli import cli
from addin.errors import ValueProblem
from addin.mailsync import SyncOptions, sync_mailbox
from addin.settings import write_settings
from addin.tickets import Rule, check_tickets, classify, read_rating, read_rules
from addin.tickets.defaults import rule_rows
from addin.workbook import open_book
from sync.local import MaildirMailbox

ME = "support@ourco.cn"
USER = "crm@ourco.cn"
PASSWORD = "发信密码-2027"


def local(moment: dt.datetime) -> dt.datetime:
    """A message time as the workbook keeps it: wall-clock time of this computer."""
    return moment.astimezone().replace(tzinfo=None)


SETTINGS = {
    "support_team": "张三; 李四; 王五",
    "escalate_to": "王经理",
    "team": "王经理 <wang.jl@ourco.cn>; 张三 <zhang.san@ourco.cn>; 王伟 <wang.wei@ourco.cn>",
    "company_name": "星河软件",
    "notify_sender": f"xlcrm <{USER}>",
    "support_sender": f"星河客服 <{USER}>",
}
CUSTOMERS = [
    {
        "name": "Li Wei",
        "company": "ACME 上海",
        "email": "li.wei@acme.cn",
        "owner": "王伟",
        "tier": "A",
    },
    {"name": "Alice Smith", "company": "Brightline", "email": "alice@brightline.com", "tier": "B"},
    {"name": "张喆", "company": "喆镕贸易", "email": "zhang.zhe@zherong.cn", "tier": "C"},
]


@built_once
def make_book(path: Path, lang: str = "en") -> Path:
    blank_workbook(path, lang)
    with open_book(path) as wb:
        write_settings(wb, SETTINGS)
        wb.table("customers").insert_all(CUSTOMERS)
        wb.table("deals").insert({"customer_id": "C0003", "title": "年度维保", "stage": "Proposal"})
    return path


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return make_book(tmp_path / "crm.xlsx")


@pytest.fixture
def support(tmp_path: Path) -> Mail:
    return Mail(tmp_path / "Support")


def sync(book: Path, support: Mail, **options: Any) -> Any:
    with open_book(book) as wb:
        return sync_mailbox(
            wb, MaildirMailbox(support.url, address=ME), SyncOptions(tickets=True, **options)
        )


def rows(book: Path, table: str) -> list[dict[str, Any]]:
    with open_book(book) as wb:
        return list(wb.table(table).rows())


def by_id(book: Path, table: str = "tickets") -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in rows(book, table)}


# A GBK message from a Chinese customer, an English question, an English complaint from an
# A-tier customer, our reply in the first thread and the customer's answer to it.
URGENT_GBK = mail(
    "张喆 <zhang.zhe@zherong.cn>",
    ME,
    "紧急：系统无法登录",
    "你好，\n\n我们的系统从今天早上开始无法登录，页面报错 500。请尽快处理！\n\n张喆\n喆镕贸易",
    ident="login@zherong.cn",
    charset="gbk",
)
QUESTION = mail(
    "Alice Smith <alice@brightline.com>",
    ME,
    "Invoices",
    "Hello,\n\nhow do I download last month's invoice from the portal?\n\nBest regards,\nAlice",
    ident="invoice@brightline.com",
    at=T0 + dt.timedelta(minutes=30),
)
COMPLAINT = mail(
    "Li Wei <li.wei@acme.cn>",
    ME,
    "Late delivery",
    "We are not happy: the order arrived two weeks late and we want a refund.\n\n"
    "-----Original Message-----\nFrom: support@ourco.cn\nSent: Monday\nSubject: urgent\n\n"
    "This quoted urgent failure must not count.",
    ident="late@acme.cn",
    at=T0 + dt.timedelta(hours=1),
)
OUR_REPLY = mail(
    f"客服 <{ME}>",
    "zhang.zhe@zherong.cn",
    "回复：紧急：系统无法登录",
    "张总您好，我们正在排查，请稍候。",
    ident="answer1@ourco.cn",
    at=T0 + dt.timedelta(hours=2),
    reply_to_id="login@zherong.cn",
)
STILL_BROKEN = mail(
    "张喆 <zhang.zhe@zherong.cn>",
    ME,
    "回复：回复：紧急：系统无法登录",
    "还是无法登录，投诉！\n\n在 2026-03-02 11:00，客服 写道：\n> 张总您好，我们正在排查，请稍候。",
    ident="again@zherong.cn",
    at=T0 + dt.timedelta(hours=3),
    reply_to_id="answer1@ourco.cn",
    charset="gbk",
)


# -- sync --tickets --------------------------------------------------------------------------


def test_new_threads_become_classified_assigned_tickets_and_replies_join_them(
    book: Path, support: Mail
) -> None:
    for data in (URGENT_GBK, QUESTION, COMPLAINT, STILL_BROKEN):
        support.receive(data)
    support.send(OUR_REPLY)
    report = sync(book, support)

    assert report.tickets_opened == ["T0001", "T0002", "T0003"]
    assert report.ticket_messages == 2
    tickets = by_id(book)
    urgent, question, complaint = tickets["T0001"], tickets["T0002"], tickets["T0003"]
    # GBK, Chinese keywords: 紧急 → urgent, 无法/报错 → failure; no owner → support team.
    assert {k: urgent[k] for k in ("customer_id", "type", "priority", "assignee")} == {
        "customer_id": "C0003",
        "type": "failure",
        "priority": "urgent",
        "assignee": "张三",
    }
    assert urgent["subject"] == "紧急：系统无法登录"
    assert urgent["description"] == (
        "你好， 我们的系统从今天早上开始无法登录，页面报错 500。请尽快处理！ 张喆 喆镕贸易"
    )
    assert urgent["opened"] == local(T0)
    assert urgent["due"] == local(T0) + dt.timedelta(hours=4)
    assert (urgent["message_id"], urgent["thread_id"]) == ("login@zherong.cn",) * 2
    # Our reply made it pending, the customer's answer open again ("投诉" in a reply does not
    # reclassify the ticket).
    assert urgent["status"] == "open"
    # "download" is not "down"; a B-tier question stays normal; the next in the rotation.
    assert (question["type"], question["priority"], question["assignee"]) == (
        "question",
        "normal",
        "李四",
    )
    assert question["due"] == local(T0) + dt.timedelta(minutes=30, hours=72)
    # complaint (high) + A tier → urgent; the customer's owner; quoted text not scanned.
    assert (complaint["type"], complaint["priority"], complaint["assignee"]) == (
        "complaint",
        "urgent",
        "王伟",
    )
    assert "quoted" not in complaint["description"]

    interactions = {r["message_id"]: r for r in rows(book, "interactions")}
    assert {m: (r["ticket_id"], r["direction"]) for m, r in interactions.items()} == {
        "login@zherong.cn": ("T0001", "in"),
        "invoice@brightline.com": ("T0002", "in"),
        "late@acme.cn": ("T0003", "in"),
        "answer1@ourco.cn": ("T0001", "out"),
        "again@zherong.cn": ("T0001", "in"),
    }
    # Support mail is not put on the customer's open deal.
    assert interactions["login@zherong.cn"]["deal_id"] is None
    assert rows(book, "deals")[0]["next_follow_up"] is None
    # The rules that were applied are in the workbook for people to edit.
    assert [r["keywords"] for r in rows(book, "ticket_rules")] == [
        r["keywords"] for r in rule_rows("en")
    ]
    assert [r["priority"] for r in rows(book, "sla")] == ["urgent", "high", "normal", "low"]


def test_our_reply_makes_a_ticket_pending(book: Path, support: Mail) -> None:
    support.receive(URGENT_GBK)
    support.send(OUR_REPLY)
    sync(book, support)
    assert by_id(book)["T0001"]["status"] == "pending"


def test_resync_creates_nothing_twice_and_the_rotation_is_not_advanced(
    book: Path, support: Mail
) -> None:
    for data in (URGENT_GBK, QUESTION, COMPLAINT):
        support.receive(data)
    sync(book, support)
    before = (rows(book, "tickets"), rows(book, "interactions"))
    again = sync(book, support, rescan=True)
    assert (again.new, again.tickets_opened, again.skipped["recorded"]) == (0, [], 3)
    assert (rows(book, "tickets"), rows(book, "interactions")) == before
    support.receive(
        mail(
            "alice@brightline.com",
            ME,
            "Suggestion",
            "A suggestion: a dark mode.",
            ident="dark@brightline.com",
        )
    )
    sync(book, support)
    new = by_id(book)["T0004"]
    assert (new["type"], new["priority"], new["assignee"]) == ("feedback", "low", "王五")


def test_unknown_senders_open_tickets_only_with_create_leads(book: Path, support: Mail) -> None:
    support.receive(
        mail(
            "陈静 <chen.jing@newco.cn>",
            ME,
            "请问如何导出报表？",
            "请问如何导出报表？",
            ident="q@newco.cn",
        )
    )
    report = sync(book, support)
    assert report.tickets_opened == [] and "chen.jing@newco.cn" in report.unknown
    report = sync(book, support, create_leads=True, rescan=True)
    assert report.tickets_opened == ["T0001"] and report.leads == ["C0004"]
    ticket = by_id(book)["T0001"]
    assert (ticket["customer_id"], ticket["type"], ticket["assignee"]) == (
        "C0004",
        "question",
        "张三",
    )


def test_dry_run_writes_nothing(book: Path, support: Mail) -> None:
    support.receive(QUESTION)
    before = book.read_bytes()
    report = sync(book, support, dry_run=True)
    assert report.tickets_opened == ["T0001"]
    assert book.read_bytes() == before


def test_an_older_workbook_gets_the_ticket_columns_and_tables(
    tmp_path: Path, support: Mail
) -> None:
    """A workbook made before #6: no TicketRules/SLA sheets, no thread/escalated/ticket
    columns. Sync adds them and fills them."""
    from openpyxl import Workbook

    path = tmp_path / "old.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "Customers"
    ws.append(["ID", "Name", "Email", "Owner", "Tier"])
    ws.append(["C0001", "Alice", "alice@brightline.com", "Li Na", "B"])
    wb.create_sheet("Interactions").append(["ID", "Customer ID", "Subject", "Message-ID"])
    headers = "ID,Customer ID,Type,Priority,Status,Assignee,Opened,Due,Subject,Description"
    wb.create_sheet("Tickets").append([*headers.split(","), "Message-ID"])
    wb.save(path)
    support.receive(QUESTION)
    report = sync(path, support)
    assert report.tables_created == ["TicketRules", "SLA"]
    (ticket,) = rows(path, "tickets")
    assert (ticket["assignee"], ticket["thread_id"], ticket["escalated"]) == (
        "Li Na",
        "invoice@brightline.com",
        None,
    )
    (interaction,) = rows(path, "interactions")
    assert interaction["ticket_id"] == "T0001"
    with open_book(path) as book:
        assert book.table("tickets").layout.headers[-2:] == ["Thread ID", "Escalated"]
        assert len(book.table("ticket_rules")) == 5


def test_a_chinese_workbook_shows_chinese_labels(tmp_path: Path, support: Mail) -> None:
    path = make_book(tmp_path / "客户管理.xlsx", "zh")
    support.receive(URGENT_GBK)
    sync(path, support)
    import python_calamine

    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    header, first = workbook.get_sheet_by_name("工单").to_python()[:2]
    cells = dict(zip(header, first))
    assert (cells["类型"], cells["优先级"], cells["状态"], cells["处理人"]) == (
        "故障",
        "紧急",
        "待处理",
        "张三",
    )
    rules = workbook.get_sheet_by_name("工单规则").to_python()
    assert rules[0][:4] == ["规则编号", "关键词", "类型", "优先级"]
    assert rules[2][2:4] == ["投诉", "高"]
    assert rules[1][-1] == "含“紧急”等字样的工单为紧急优先级，不论类型。"


# -- classification --------------------------------------------------------------------------


def default_rules() -> list[Rule]:
    return [Rule.make(r["id"], r["keywords"], r["type"], r["priority"]) for r in rule_rows("en")]


@pytest.mark.parametrize(
    ("subject", "text", "tier", "expected"),
    [
        ("投诉：售后服务太差", "我们对处理结果不满意。", None, ("complaint", "high")),
        ("Refund please", "The product is broken.", None, ("complaint", "high")),
        ("设备故障", "打印机报错，无法打印。", None, ("failure", "high")),
        ("Server down", "The API returns errors since 9:00.", "B", ("failure", "high")),
        ("ＵＲＧＥＮＴ", "Ｃａｎｎｏｔ log in", None, ("failure", "urgent")),
        ("Download", "Where can I download the manual?", None, (None, "normal")),
        ("请问", "请问如何修改密码？", None, ("question", "normal")),
        ("请问", "请问如何修改密码？", "A", ("question", "high")),
        ("建议", "建议增加导出功能。", "A", ("feedback", "normal")),
        ("马上处理", "紧急！投诉！", "A", ("complaint", "urgent")),
        ("Hello", "Just saying hi.", None, (None, "normal")),
    ],
)
def test_classification_in_both_languages(
    subject: str, text: str, tier: str | None, expected: tuple[str | None, str]
) -> None:
    found = classify(subject, text, default_rules(), tier)
    assert (found.type, found.priority) == expected


def test_rules_from_the_workbook_route_tickets(tmp_path: Path) -> None:
    """A Chinese workbook's own rules: invoices to one person, outages round-robin between
    two, VIP wording to the customer's owner; the first matching type wins, the highest
    priority wins."""
    path = make_book(tmp_path / "crm.xlsx", "zh")
    now = dt.datetime(2026, 3, 2, 12, 0)
    with open_book(path) as book:
        book.table("ticket_rules").insert_all(
            [
                {"keywords": "发票; invoice", "type": "需求", "assignee": "财务小刘"},
                {
                    "keywords": "宕机; outage",
                    "type": "故障",
                    "priority": "紧急",
                    "assignee": "甲; 乙",
                },
                {"keywords": "VIP", "priority": "高", "assignee": "客户负责人"},
            ]
        )
        book.table("tickets").insert_all(
            [
                {"customer_id": "C0003", "subject": "发票抬头错误", "opened": now},
                {"customer_id": "C0003", "subject": "服务宕机", "opened": now},
                {"customer_id": "C0002", "subject": "Outage again", "opened": now},
                {"customer_id": "C0001", "subject": "VIP: invoice", "opened": now},
                {"customer_id": "C0002", "subject": "Outage", "opened": now, "assignee": "老陈"},
            ]
        )
        report = check_tickets(book, now)
    assert report.assigned == {
        "T0001": "财务小刘",
        "T0002": "甲",
        "T0003": "乙",
        "T0004": "财务小刘",
    }
    tickets = by_id(path)
    assert {t: (r["type"], r["priority"], r["status"]) for t, r in tickets.items()} == {
        "T0001": ("request", "normal", "open"),
        "T0002": ("failure", "urgent", "open"),
        "T0003": ("failure", "urgent", "open"),
        "T0004": ("request", "urgent", "open"),  # high + A tier
        "T0005": ("failure", "urgent", "open"),
    }
    assert tickets["T0005"]["assignee"] == "老陈"  # a person's choice is kept


def test_a_rule_with_an_unknown_type_is_an_error_naming_its_cell(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = make_book(tmp_path / "crm.xlsx", "zh")
    with open_book(path) as book:
        book.table("ticket_rules").insert({"keywords": "退货", "type": "request"})
    wb = load_workbook(path)  # a person types a type xlcrm does not know
    wb["工单规则"]["C2"] = "退货"
    wb.save(path)
    with open_book(path) as book, pytest.raises(ValueProblem) as error:
        read_rules(book)
    assert str(error.value) == (
        "工单规则!C2: '退货' is not a ticket type\n"
        "  hint: use one of: question/咨询, complaint/投诉, failure/故障, request/需求, "
        "feedback/反馈"
    )


# -- assignment: round-robin over runs -------------------------------------------------------


def test_round_robin_is_fair_over_three_runs(book: Path) -> None:
    """Two new tickets per run from customers without an owner, three `xlcrm tickets` runs:
    each of the three support people gets two."""
    runner = CliRunner()
    opened = dt.datetime.now().replace(microsecond=0)
    for run in range(3):
        with open_book(book) as wb:
            wb.table("tickets").insert_all(
                [
                    {"customer_id": "C0002", "subject": f"Question {run}a", "opened": opened},
                    {"customer_id": "C0003", "subject": f"问题 {run}b", "opened": opened},
                ]
            )
        result = runner.invoke(cli, ["tickets", str(book)])
        assert result.exit_code == 0, result.output
    assignees = [r["assignee"] for r in rows(book, "tickets")]
    assert assignees == ["张三", "李四", "王五", "张三", "李四", "王五"]
    assert "assigned: T0005 → 李四, T0006 → 王五" in result.output


# -- SLA ---------------------------------------------------------------------------------------


def test_due_times_come_from_the_sla_table(tmp_path: Path) -> None:
    path = make_book(tmp_path / "crm.xlsx", "zh")
    opened = dt.datetime(2026, 3, 6, 17, 30)  # a Friday evening: calendar hours
    with open_book(path) as book:
        book.table("sla").upsert_all(
            [
                {"priority": "紧急", "respond_hours": 0.5, "resolve_hours": 2},
                {"priority": "高", "resolve_hours": 12},
            ]
        )
        book.table("tickets").insert_all(
            [
                {"customer_id": "C0002", "subject": "紧急", "opened": opened},
                {"customer_id": "C0002", "subject": "投诉", "opened": opened},
                {"customer_id": "C0002", "subject": "你好", "opened": opened},
                {"customer_id": "C0002", "subject": "x", "priority": "低", "opened": opened},
            ]
        )
        check_tickets(book, opened)
    due = {t: r["due"] - opened for t, r in by_id(path).items()}
    assert due == {
        "T0001": dt.timedelta(hours=2),
        "T0002": dt.timedelta(hours=12),
        "T0003": dt.timedelta(hours=72),  # no row for normal: the built-in time
        "T0004": dt.timedelta(hours=168),
    }


def test_bad_sla_hours_are_an_error_naming_the_cell(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = make_book(tmp_path / "crm.xlsx")
    with open_book(path) as book:
        book.table("tickets").insert({"customer_id": "C0002", "subject": "x"})
    wb = load_workbook(path)
    wb["SLA"]["C3"] = "soon"  # a person types text where hours belong (row 3: high)
    wb.save(path)
    with open_book(path) as book, pytest.raises(ValueProblem) as error:
        check_tickets(book, dt.datetime(2026, 3, 2, 12, 0))
    assert str(error.value) == (
        "SLA!C3: 'soon' is not a number of hours\n  hint: write a positive number, e.g. 24"
    )


# -- escalation and surveys through a real SMTP server ---------------------------------------


@pytest.fixture
def smtp_login() -> tuple[str, str]:
    """The help desk's mailbox (conftest's ``smtp`` accepts it)."""
    return USER, PASSWORD


def tickets_cli(book: Path, server: SmtpServer | None = None, *extra: str) -> Any:
    args = ["tickets", str(book), *extra]
    if server is not None:
        args += ["--send", "--transport", f"smtp://{USER}@127.0.0.1:{server.port}"]
    return CliRunner().invoke(cli, args)


def received(server: SmtpServer) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(m.content, policy=email.policy.default)  # type: ignore[misc]
        for m in server.messages
    ]


def test_an_overdue_ticket_is_escalated_once(book: Path, smtp: SmtpServer) -> None:
    now = dt.datetime.now().replace(microsecond=0)
    with open_book(book) as wb:
        wb.table("sla").update("urgent", {"resolve_hours": 4, "escalate_to": "王经理"})
        wb.table("tickets").insert_all(
            [
                {
                    "customer_id": "C0003",
                    "subject": "系统无法登录",
                    "priority": "urgent",
                    "type": "failure",
                    "status": "pending",
                    "assignee": "张三",
                    "opened": now - dt.timedelta(hours=5),
                },
                {  # due later: not overdue
                    "customer_id": "C0002",
                    "subject": "Question",
                    "status": "open",
                    "opened": now - dt.timedelta(hours=5),
                },
                {  # resolved long ago: neither escalated nor surveyed
                    "customer_id": "C0001",
                    "subject": "Old",
                    "status": "resolved",
                    "opened": now - dt.timedelta(days=60),
                    "resolved": now - dt.timedelta(days=50),
                },
            ]
        )
    dry = tickets_cli(book)
    assert dry.exit_code == 0, dry.output
    assert "would escalate: T0001 → 王经理" in dry.output
    assert "dry run: no e-mail sent" in dry.output
    assert smtp.messages == [] and by_id(book)["T0001"]["escalated"] is None

    for _ in range(2):
        result = tickets_cli(book, smtp)
        assert result.exit_code == 0, result.output
    assert len(smtp.messages) == 1
    assert smtp.messages[0].rcpt_tos == ["wang.jl@ourco.cn"]
    (message,) = received(smtp)
    assert message["Subject"] == "[T0001] Overdue ticket: 系统无法登录"
    body = message.get_content()
    assert "Ticket T0001 passed its resolution time" in body
    assert "Customer: 张喆 (C0003)" in body and "Assignee: 张三" in body
    ticket = by_id(book)["T0001"]
    assert ticket["escalated"] is not None and ticket["status"] == "pending"
    notes = [r for r in rows(book, "interactions") if r["ticket_id"] == "T0001"]
    assert sorted((r["kind"], r["summary"]) for r in notes) == [
        ("email", "Internal notice"),
        ("ticket", "Escalated to 王经理: overdue"),
    ]


def test_escalation_without_anyone_to_tell_says_where_to_configure(book: Path) -> None:
    now = dt.datetime.now().replace(microsecond=0)
    with open_book(book) as wb:
        write_settings(wb, {"escalate_to": "赵总"})
        wb.table("tickets").insert(
            {"customer_id": "C0002", "subject": "x", "opened": now - dt.timedelta(days=4)}
        )
    result = tickets_cli(book)
    assert result.exit_code == 1
    assert (
        "problem: Settings!B" in result.output
        and "'赵总' has no e-mail address: write it as an address, or list 赵总 with their "
        "address in the team setting (Settings!B"
        in result.output
    )


def test_a_resolved_ticket_gets_one_survey_and_the_answer_records_satisfaction(
    book: Path, support: Mail, smtp: SmtpServer
) -> None:
    support.receive(URGENT_GBK)
    support.receive(QUESTION)
    sync(book, support)
    now = dt.datetime.now().replace(microsecond=0)
    with open_book(book) as wb:  # a person resolves both tickets
        wb.table("tickets").update("T0001", {"status": "已解决", "resolved": now})
        wb.table("tickets").update("T0002", {"status": "resolved"})  # no time: xlcrm fills it
    for _ in range(2):
        result = tickets_cli(book, smtp)
        assert result.exit_code == 0, result.output
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == [
        "alice@brightline.com",
        "zhang.zhe@zherong.cn",
    ]
    surveys = {m["To"]: m for m in received(smtp)}
    chinese = surveys["zhang.zhe@zherong.cn"]
    assert chinese["Subject"] == "[T0001] How did we do? 紧急：系统无法登录"
    assert "reply to this e-mail with a number from 1 to 5" in chinese.get_content()
    assert chinese["From"] == f"星河客服 <{USER}>"
    assert by_id(book)["T0002"]["resolved"] is not None

    # The answers come back to the support mailbox: one by the [T0001] tag only (a client
    # that drops the threading headers; a full-width digit; the survey quoted below), one by
    # the thread headers only, and unclear.
    support.receive(
        mail(
            "张喆 <zhang.zhe@zherong.cn>",
            ME,
            "回复：[T0001] How did we do?",
            "５分，非常满意，谢谢！\n\n在 2026-03-05，星河客服 写道：\n> 5 very satisfied\n"
            "> 1 very dissatisfied",
            ident="rating@zherong.cn",
            at=dt.datetime.now().astimezone(),
            charset="gbk",
        )
    )
    support.receive(
        mail(
            "alice@brightline.com",
            ME,
            "Re: your survey",
            "Not bad, but 5 days is long. Maybe 3?",
            ident="unclear@brightline.com",
            at=dt.datetime.now().astimezone(),
            reply_to_id=surveys["alice@brightline.com"]["Message-ID"].strip("<>"),
        )
    )
    report = sync(book, support)
    assert report.satisfaction == {"T0001": 5}
    assert report.unclear_ratings == ["T0002"]
    tickets = by_id(book)
    assert (tickets["T0001"]["satisfaction"], tickets["T0001"]["status"]) == (5, "resolved")
    assert (tickets["T0002"]["satisfaction"], tickets["T0002"]["status"]) == (None, "resolved")
    assert "survey answers without a clear 1–5 rating (enter them by hand): T0002" in (
        report.summary()
    )
    # Rated tickets get no survey again.
    assert tickets_cli(book, smtp).exit_code == 0 and len(smtp.messages) == 2


def test_a_customer_reply_to_a_resolved_ticket_reopens_it_but_thanks_do_not(
    book: Path, support: Mail
) -> None:
    support.receive(URGENT_GBK)
    sync(book, support)
    resolved = local(T0) + dt.timedelta(hours=2)
    with open_book(book) as wb:
        wb.table("tickets").update("T0001", {"status": "resolved", "resolved": resolved})
    support.receive(
        mail(
            "zhang.zhe@zherong.cn",
            ME,
            "回复：紧急：系统无法登录",
            "好的，谢谢！",
            ident="thanks@zherong.cn",
            at=T0 + dt.timedelta(hours=3),
            reply_to_id="login@zherong.cn",
        )
    )
    sync(book, support)
    assert by_id(book)["T0001"]["status"] == "resolved"
    support.receive(
        mail(
            "zhang.zhe@zherong.cn",
            ME,
            "回复：紧急：系统无法登录",
            "又出现了同样的问题，登录失败。",
            ident="again2@zherong.cn",
            at=T0 + dt.timedelta(hours=5),
            reply_to_id="thanks@zherong.cn",
        )
    )
    report = sync(book, support)
    assert report.tickets_reopened == ["T0001"]
    ticket = by_id(book)["T0001"]
    assert (ticket["status"], ticket["resolved"]) == ("open", None)
    assert ticket["due"] == local(T0) + dt.timedelta(hours=5 + 4)
    note = next(r for r in rows(book, "interactions") if r["kind"] == "ticket")
    assert note["summary"] == (
        f"Reopened by the customer's reply (had been resolved {resolved:%Y-%m-%d %H:%M})"
    )


@pytest.mark.parametrize(
    ("text", "value", "ambiguous"),
    [
        ("5", 5, False),
        ("５", 5, False),
        ("5分", 5, False),
        ("给你们打4分吧", 4, False),
        ("非常满意", 5, False),
        ("满意", 4, False),
        ("一般般吧", 3, False),
        ("不满意", 2, False),
        ("非常不满意！", 1, False),
        ("Very satisfied, thanks!", 5, False),
        ("dissatisfied", 2, False),
        ("★★★★☆", 4, False),
        ("4/5 — quick and friendly", 4, False),
        ("五星好评", 5, False),
        ("非常满意，5分", 5, False),
        ("不满意，5分", None, True),
        ("It took 3 days to fix.", None, False),
        ("谢谢", None, False),
        ("", None, False),
    ],
)
def test_ratings_are_read_or_left_alone(text: str, value: int | None, ambiguous: bool) -> None:
    rating = read_rating(text)
    assert (rating.value, rating.ambiguous) == (value, ambiguous)


# -- the command line ------------------------------------------------------------------------


def test_cli_sync_tickets_prints_and_reports_json(book: Path, support: Mail) -> None:
    support.receive(URGENT_GBK)
    runner = CliRunner()
    result = runner.invoke(
        cli, ["sync", str(book), "--mailbox", support.url, "--me", ME, "--tickets"]
    )
    assert result.exit_code == 0, result.output
    assert "  tickets: opened 1 (T0001), 0 replies on existing tickets\n" in result.output
    support.receive(QUESTION)
    result = runner.invoke(
        cli, ["sync", str(book), "--mailbox", support.url, "--me", ME, "--tickets", "--json"]
    )
    data = json.loads(result.output)
    assert data["tickets"]["opened"] == ["T0002"]


def test_cli_tickets_json(book: Path) -> None:
    with open_book(book) as wb:
        wb.table("tickets").insert({"customer_id": "C0001", "subject": "Refund"})
    result = tickets_cli(book, None, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["assigned"] == {"T0001": "王伟"} and data["classified"] == ["T0001"]
    assert data["dry_run"] is True


def test_the_survey_speaks_the_workbooks_language() -> None:
    from addin.tickets import survey

    zh = survey("T0042", "无法登录", "张喆", "星河软件", "zh")
    assert zh.subject == "[T0042] 服务满意度调查：无法登录"
    assert zh.text.startswith("张喆，您好：\n\n您的工单 T0042“无法登录”已处理完毕。")
    assert "  5 非常满意\n" in zh.text and zh.text.endswith("谢谢！\n星河软件\n")
    # The survey's own legend, quoted in an answer, is never read as the answer.
    assert read_rating("") == read_rating("\n".join(f"> {line}" for line in [""]))


def test_a_survey_is_written_in_the_customers_language(
    book: Path, support: Mail, smtp: SmtpServer
) -> None:
    """An English workbook; 张喆's row says 中文, so his survey is Chinese (issue 16)."""
    support.receive(URGENT_GBK)
    sync(book, support)
    now = dt.datetime.now().replace(microsecond=0)
    with open_book(book) as wb:
        wb.table("customers").update("C0003", {"language": "中文"})
        wb.table("tickets").update("T0001", {"status": "resolved", "resolved": now})
    result = tickets_cli(book, smtp)
    assert result.exit_code == 0, result.output
    [message] = received(smtp)
    assert message["To"] == "zhang.zhe@zherong.cn"
    assert message["Subject"] == "[T0001] 服务满意度调查：紧急：系统无法登录"
    assert (
        message.get_content()
        .replace("\r\n", "\n")
        .startswith("张喆，您好：\n\n您的工单 T0001“紧急：系统无法登录”已处理完毕。")
    )
