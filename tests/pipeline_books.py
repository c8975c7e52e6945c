"""Workbooks and a mail server for the pipeline, reminder and notice tests.

``make_crm(path, lang)`` builds a realistic bilingual CRM with ``xlcrm init``'s own code: the
seller's details, a team list, a hand-off address, two products, customers of a Shanghai
trading company, a US distributor and a Shenzhen electronics maker, and deals in every stage.
The SMTP server is conftest's ``smtp`` (aiosmtpd on loopback with STARTTLS and a login as
``USER``); ``received`` and ``body`` read what reached it. ``ribbon_campaign_book`` is the
workbook the ribbon's campaign tests send from, loaded in the Office host stand-in.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from books import blank_workbook, ready
from officehost import OfficeHost
from servers.smtp import SmtpServer

from addin.init import create_workbook
from addin.settings import write_settings
from addin.workbook import open_book

USER = "crm@xinghe.example"
PASSWORD = "通知密码-2026"
SENDER = f"星河软件 CRM <{USER}>"
TEAM = "王伟 <wang.wei@xinghe.example>; Li Na <li.na@xinghe.example>"
HANDOFF = "仓库 <warehouse@xinghe.example>; finance@xinghe.example"
NOW = dt.datetime(2026, 3, 2, 9, 30)
SELLER = {
    "company_name": "星河软件（上海）有限公司",
    "company_address": "上海市浦东新区张江路88号",
    "company_phone": "021-5080 8888",
    "company_email": "sales@xinghe.example",
    "company_tax_id": "91310115MA1K4XXXXX",
    "company_bank": "招商银行上海张江支行",
    "company_bank_account": "1219 0888 8888 0001",
    "company_representative": "陈星河",
}


def make_crm(path: Path, lang: str = "zh") -> Path:
    """Customers C0001 (A&B 上海贸易, 王伟, A), C0002 (Northwind Traders, li na, A),
    C0003 (深圳华强电子, 张强 — not in the team list, B); deals D0001 Proposal, D0002
    Qualified, D0003 Negotiation, D0004 Won long ago, D0005 Lost. Rules: the defaults, with
    the hand-off switched on. Built once per language and session, copied per call."""
    return ready(path, ("pipeline_books.make_crm", lang), lambda made: _build_crm(made, lang))


def _build_crm(path: Path, lang: str) -> Path:
    blank_workbook(path, lang)
    with open_book(path) as book:
        write_settings(book, {**SELLER, "sender": SENDER, "team": TEAM, "handoff_to": HANDOFF})
        book.table("products").insert_all(
            [
                {
                    "sku": "SAAS-STD",
                    "name": "星河CRM 标准版（年费）",
                    "unit_price": 1200,
                    "currency": "CNY",
                    "unit": "用户·年",
                },
                {"sku": "IMPL-PRO", "name": "实施与培训服务", "unit_price": 34567.89, "unit": "项"},
            ]
        )
        book.table("customers").insert_all(
            [
                {
                    "name": "王芳",
                    "company": "A&B 上海贸易有限公司",
                    "email": "wang.fang@ab-trade.cn",
                    "owner": "王伟",
                    "tier": "A",
                    "status": "Active",
                    "created": dt.date(2025, 6, 1),
                    "last_contact": dt.date(2026, 2, 20),
                },
                {
                    "name": "Anna Schmidt",
                    "company": "Northwind Traders",
                    "email": "anna@northwind.example",
                    "owner": "li na",
                    "tier": "A",
                    "status": "Active",
                    "created": dt.date(2025, 3, 1),
                    "last_contact": dt.date(2025, 12, 1),
                },
                {
                    "name": "赵强",
                    "company": "深圳华强电子有限公司",
                    "email": "zhao@huaqiang.cn",
                    "owner": "张强",
                    "tier": "B",
                    "created": dt.date(2025, 9, 1),
                },
            ]
        )
        book.table("deals").insert_all(
            [
                {
                    "customer_id": "C0001",
                    "title": "CRM 项目",
                    "stage": "Proposal",
                    "amount": 46567.89,
                    "currency": "CNY",
                    "product": "SAAS-STD x 10; IMPL-PRO",
                    "owner": "王伟",
                    "expected_close": dt.date(2026, 3, 31),
                    "created": dt.date(2026, 2, 1),
                },
                {
                    "customer_id": "C0002",
                    "title": "ERP rollout",
                    "stage": "Qualified",
                    "amount": 80000,
                    "currency": "USD",
                    "owner": "Li Na",
                    "expected_close": dt.date(2026, 4, 30),
                    "created": dt.date(2026, 1, 10),
                },
                {
                    "customer_id": "C0003",
                    "title": "门店 POS 升级",
                    "stage": "Negotiation",
                    "amount": 120000,
                    "currency": "CNY",
                    "probability": 0.9,
                    "owner": "张强",
                    "expected_close": dt.date(2026, 3, 20),
                    "next_follow_up": dt.date(2026, 2, 25),
                    "created": dt.date(2026, 1, 5),
                },
                {
                    "customer_id": "C0001",
                    "title": "年度维护服务",
                    "stage": "Won",
                    "amount": 20000,
                    "currency": "CNY",
                    "owner": "王伟",
                    "closed": dt.date(2025, 12, 1),
                },
                {
                    "customer_id": "C0002",
                    "title": "Pilot",
                    "stage": "Lost",
                    "amount": 5000,
                    "currency": "USD",
                    "owner": "Li Na",
                    "closed": dt.date(2026, 1, 15),
                },
            ]
        )
        book.table("rules").update("R002", {"enabled": True})
    return path


def set_stage(path: Path, **stages: str) -> None:
    """What a person does in Excel: type a new stage into deals' Stage cells."""
    with open_book(path) as book:
        for deal_id, stage in stages.items():
            book.table("deals").update(deal_id, {"stage": stage})


def rows(path: Path, table: str) -> list[dict[str, Any]]:
    with open_book(path) as book:
        return list(book.table(table).rows())


def received(server: SmtpServer) -> list[EmailMessage]:
    return [
        email.message_from_bytes(m.content, policy=email.policy.default)  # type: ignore[misc]
        for m in server.messages
    ]


def body(message: EmailMessage, kind: str = "plain") -> str:
    part = message.get_body((kind,))
    assert part is not None
    return part.get_content().replace("\r\n", "\n")  # type: ignore[no-any-return]


def smtp_url(server: SmtpServer) -> str:
    return f"smtp://{USER}@127.0.0.1:{server.port}"


def ribbon_campaign_book(path: Path, transport: str, addresses: list[str]) -> OfficeHost:
    """One customer per address, ``transport`` as the outgoing mail and a sender: a workbook
    the ribbon's Campaign can send from, loaded in the Office host stand-in."""
    create_workbook(path, "en")
    with open_book(path) as book:
        book.table("customers").insert_all(
            [
                {"name": f"Customer {n}", "company": f"Firm {n}", "email": address}
                for n, address in enumerate(addresses)
            ]
        )
        write_settings(
            book,
            {
                "transport": transport,
                "sender": "Star Software <sales@ours.cn>",
                "company_name": "Star Software",
            },
        )
    return OfficeHost.from_xlsx(path)
