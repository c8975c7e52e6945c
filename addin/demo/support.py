"""The demo's support mailbox: a week of customer-service mail, synced into tickets.

:func:`write_demo_support` writes a second Maildir beside the demo workbook — the inbox and sent
items of ``support@xinghe-soft.example`` — with what a support desk finds on a Monday: paying
customers writing in Chinese and English about failures, complaints and questions, one of them
urgent; our answers and a customer's "still not working"; and the answer to a satisfaction
survey of a ticket the workbook shows resolved. Chinese mail comes as Chinese clients send it:
GB2312-labelled, and GBK when a name needs a character GB2312 lacks.

:func:`sync_demo_support` syncs it as ``xlcrm sync BOOK --mailbox maildir:… --tickets`` would:
each new thread becomes a ticket, classified, assigned and given a due time; replies move the
ticket's status; the survey answer fills its satisfaction.

The messages are made from the workbook's customers and tickets with ``random.Random(seed)``,
at fixed hours of the days before ``today`` (Shanghai time), so the same demo makes the same
mailbox.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sync.local import MaildirMailbox

from ..customers import split_emails
from ..mailsync import SyncOptions, SyncReport, sync_mailbox
from ..tickets.service import SURVEY_WITHIN_DAYS
from ..workbook import open_book
from .mail import OUR_DOMAIN, _is_chinese, _write, _Writer

SUPPORT_MAILBOX = f"support@{OUR_DOMAIN}"
SUPPORT_FOLDER = "xlcrm-demo-support"
SHANGHAI = dt.timezone(dt.timedelta(hours=8), "CST")
US_CN = ("星河软件 客服中心", SUPPORT_MAILBOX)
US_EN = ("Xinghe Software Support", SUPPORT_MAILBOX)
AGENT_CN = ("赵敏", f"zhao.min@{OUR_DOMAIN}")
AGENT_EN = ("Sarah Lee", f"sarah.lee@{OUR_DOMAIN}")


@dataclass(frozen=True)
class _Thread:
    """One support request: when it came (days before today, hour), what it says, and the
    exchange that followed: (hours after the request, from us?, text)."""

    chinese: bool
    days: int
    hour: float
    subject: str
    body: str
    follow: tuple[tuple[float, bool, str], ...] = ()


# Chinese threads say {name} for the customer's name; the texts follow the TicketRules keywords
# a real customer would use (投诉, 紧急, 无法, 请问; complaint, refund, error, how do, suggest).
_THREADS = (
    _Thread(
        True,
        2,
        14.3,
        "投诉：实施顾问多次改期，上线一拖再拖",
        "你好，\n\n我们对这次实施服务非常不满意：顾问已经三次临时改期，原定上月的上线一拖再拖，"
        "门店员工的培训也还没做。请贵司负责人尽快给个说法和明确的时间表。\n\n{name}",
    ),
    _Thread(
        True,
        0,
        9.2,
        "紧急：系统无法登录，门店没法收银",
        "今天早上开始所有账号都登录不了，提示“服务器内部错误”。我们IT的刘喆已经重启过电脑和路由器，"
        "还是不行。门店现在没法收银，顾客在排队，请马上处理！\n\n{name}",
        (
            (0.5, True, "您好，已收到。工程师正在排查登录服务，预计一小时内恢复。"),
            (2.0, False, "还是无法登录，门店已经排起长队了，请再加快！"),
        ),
    ),
    _Thread(
        False,
        0,
        10.25,
        "Handheld terminals cannot sync since the update",
        "Hello,\n\nsince yesterday's update none of our H1 handheld terminals can sync orders: "
        "they all show 'error 503'. The warehouse is scanning on paper for now. "
        "Can you help?\n\n{name}",
        (
            (
                1.25,
                True,
                "Hi {name},\n\nthanks for the details. We can reproduce the 503 error and a fix "
                "is being rolled out tonight; I will confirm when it is live.",
            ),
        ),
    ),
    _Thread(
        False,
        2,
        11.0,
        "How do we add user seats?",
        "Hi,\n\nthree new colleagues start next week. How do we add seats, and what does it "
        "cost per user?\n\nThanks,\n{name}",
    ),
    _Thread(
        True,
        1,
        15.5,
        "请问如何导出月度销售报表",
        "您好，请问在哪里导出按销售员汇总的月度报表？财务每月初都要用，谢谢。\n\n{name}",
    ),
    _Thread(
        False,
        1,
        20.5,
        "Charged twice for the annual subscription",
        "Hello,\n\nthis is a complaint: we were charged twice for our annual subscription "
        "(invoice INV-2026-118). Please refund the duplicate payment.\n\n{name}",
    ),
    _Thread(
        False,
        4,
        9.75,
        "Suggestion: dark mode in the mobile app",
        "Hi team,\n\nour field staff love the mobile app. One suggestion: a dark mode would "
        "help on night shifts.\n\nBest,\n{name}",
    ),
)


def write_demo_support(
    folder: Path,
    customers: Sequence[Mapping[str, Any]],
    deals: Sequence[Mapping[str, Any]],
    tickets: Sequence[Mapping[str, Any]],
    *,
    seed: int,
    today: dt.date,
) -> Path:
    """Write the demo's support Maildir into ``folder/xlcrm-demo-support``; return its path."""
    rng = random.Random(seed * 7919 + 11)
    w = _Writer(rng, today)
    paying = {d.get("customer_id") for d in deals if d.get("stage") == "Won"}
    clients = [c for c in customers if c.get("id") in paying and split_emails(c.get("email"))]
    chinese = [c for c in clients if _is_chinese(c.get("name"))]
    english = [c for c in clients if not _is_chinese(c.get("name"))]
    rng.shuffle(chinese)
    rng.shuffle(english)
    for thread in _THREADS:
        _support_thread(w, thread, (chinese if thread.chinese else english).pop())
    _survey_answer(w, customers, tickets)
    return _write(folder / SUPPORT_FOLDER, w)


def _at(today: dt.date, days: int, hours: float) -> dt.datetime:
    start = dt.datetime.combine(today - dt.timedelta(days=days), dt.time(), SHANGHAI)
    return start + dt.timedelta(minutes=round(hours * 60))


def _support_thread(w: _Writer, thread: _Thread, customer: Mapping[str, Any]) -> None:
    theirs = (customer.get("name") or "", split_emails(customer["email"])[0])
    domain = theirs[1].partition("@")[2]
    at = _at(w.today, thread.days, thread.hour)
    first = w.ident(domain)
    w.inbox.append(
        (
            at,
            w.message(
                theirs,
                US_CN if thread.chinese else US_EN,
                thread.subject,
                thread.body.format(name=theirs[0]),
                at,
                chinese=thread.chinese,
                ident=first,
            ),
        )
    )
    previous, quoted = first, thread.body.format(name=theirs[0])
    for hours, ours, text in thread.follow:
        when = at + dt.timedelta(minutes=round(hours * 60))
        text = text.format(name=theirs[0])
        agent = AGENT_CN if thread.chinese else AGENT_EN
        sender, to = (agent, theirs) if ours else (theirs, agent)
        ident = w.ident(OUR_DOMAIN if ours else domain)
        prefix = "回复：" if thread.chinese else "Re: "
        body = text + "\n\n" + "\n".join(f"> {line}" for line in quoted.splitlines())
        message = w.message(
            sender,
            to,
            prefix + thread.subject,
            body,
            when,
            chinese=thread.chinese,
            ident=ident,
            answers=previous,
        )
        (w.sent if ours else w.inbox).append((when, message))
        previous, quoted = ident, text


def _survey_answer(
    w: _Writer, customers: Sequence[Mapping[str, Any]], tickets: Sequence[Mapping[str, Any]]
) -> None:
    """A customer's answer to the satisfaction survey of a recently resolved ticket (the one
    resolved first among those of the last two weeks still without a rating; none when there
    is no such ticket)."""
    by_id = {c.get("id"): c for c in customers}
    since = dt.datetime.combine(w.today - dt.timedelta(days=SURVEY_WITHIN_DAYS), dt.time())
    waiting = [
        t
        for t in tickets
        if t.get("status") == "resolved"
        and t.get("satisfaction") is None
        and isinstance(t.get("resolved"), dt.datetime)
        and t["resolved"] >= since
        and split_emails((by_id.get(t.get("customer_id")) or {}).get("email"))
    ]
    if not waiting:
        return
    ticket = min(waiting, key=lambda t: (t["resolved"], t["id"]))
    customer = by_id[ticket["customer_id"]]
    theirs = (customer.get("name") or "", split_emails(customer["email"])[0])
    chinese = _is_chinese(customer.get("name"))
    resolved = ticket["resolved"].replace(tzinfo=SHANGHAI)
    at = min(resolved + dt.timedelta(hours=18), _at(w.today, 0, 8.5))
    about = ticket.get("subject") or ""
    if chinese:
        subject = f"回复：[{ticket['id']}] 服务满意度调查：{about}"
        body = (
            "5分，非常满意，问题当天就解决了，谢谢！\n\n"
            f"> 您的工单 {ticket['id']}“{about}”已处理完毕。\n"
            "> 请直接回复本邮件，用 1–5 分评价我们的服务。"
        )
    else:
        subject = f"Re: [{ticket['id']}] How did we do? {about}"
        body = (
            "4 - quick and friendly, thank you.\n\n"
            f"> Your request {ticket['id']} has been resolved. How satisfied are you with our "
            "help? Please reply with a number from 1 to 5."
        )
    w.inbox.append(
        (
            at,
            w.message(
                theirs,
                US_CN if chinese else US_EN,
                subject,
                body,
                at,
                chinese=chinese,
                ident=w.ident(theirs[1].partition("@")[2]),
            ),
        )
    )


def sync_demo_support(book_path: Path, mail_root: Path) -> SyncReport:
    """Sync the demo's support mailbox into the workbook with tickets, as
    ``xlcrm sync BOOK --mailbox maildir:… --tickets`` would."""
    mailbox = MaildirMailbox(f"maildir:{mail_root}", address=SUPPORT_MAILBOX)
    options = SyncOptions(internal_domains=(OUR_DOMAIN,), tickets=True)
    with open_book(book_path) as book:
        return sync_mailbox(book, mailbox, options)
