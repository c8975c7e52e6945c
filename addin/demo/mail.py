"""The demo's mailbox: a month of mail with the demo customers, synced like a real one.

:func:`write_demo_mailbox` writes a Maildir (``INBOX`` and ``Sent``, the layout Dovecot and
most mail tools use) beside the demo workbook, made from the workbook's own customers and open
deals, so :func:`sync_demo_mailbox` has something real to link: quotes we sent and the answers
that came back, in threads. It holds what a real mailbox holds besides:

- Chinese customers' mail the way their clients send it: GBK bodies labelled ``GB2312``,
  subjects as GBK encoded-words, ``答复:`` / ``回复：`` prefixes and quoted history below;
- out-of-office auto-replies, a delivery failure for a stale address, a newsletter, mail
  among colleagues, and two inquiries from people who are not customers yet.

Everything is drawn from ``random.Random(seed)`` and dated in the 30 days before ``today``, so
the same demo makes the same mailbox. The company is made up: 星河软件 (Xinghe Software,
``xinghe-soft.example`` — a reserved name that can never receive mail).
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import re
from collections.abc import Mapping, Sequence
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

from sync.local import MaildirMailbox

from ..customers import split_emails
from ..mailsync import SyncOptions, SyncReport, sync_mailbox
from ..workbook import open_book

OUR_DOMAIN = "xinghe-soft.example"
MAILBOX = f"sales@{OUR_DOMAIN}"
MAIL_FOLDER = "xlcrm-demo-mail"
REP_ADDRESSES = {
    "王芳": "wang.fang",
    "李强": "li.qiang",
    "陈静": "chen.jing",
    "Kevin Zhang": "kevin.zhang",
    "Emily Carter": "emily.carter",
    "James Wilson": "james.wilson",
}
_CJK = re.compile(r"[\u4e00-\u9fff]")
_THREADS = 16  # customers with an open deal who get a quote thread

# (our subject, our text, their answer) in Chinese and English; {title} is the deal.
_QUOTES_ZH = (
    (
        "关于{title}的报价",
        "{name}您好：\n\n附件是{title}的正式报价，有效期30天。如有问题请随时联系。",
        "收到报价，谢谢。我们内部评审后周五前回复您。价格方面能否再优惠5%？",
    ),
    (
        "{title}：方案和实施计划",
        "{name}您好：\n\n按上周沟通的需求，整理了实施方案和时间表，请查阅。",
        "方案基本可以，实施周期希望压缩到六周。下周二方便开个电话会吗？",
    ),
    (
        "{title}合同草稿",
        "{name}您好：\n\n合同草稿已发您邮箱，付款条款按三三四分期。",
        "合同我们法务在看，第七条违约责任需要修改，稍后把修订稿发您。",
    ),
)
_QUOTES_EN = (
    (
        "Quote: {title}",
        "Hi {name},\n\nPlease find our quote for {title} attached; it is valid for 30 days.",
        "Thanks for the quote. We are reviewing it and will come back by Friday. "
        "Any room on the price?",
    ),
    (
        "{title}: proposal and timeline",
        "Hi {name},\n\nAs discussed, here are the proposal and the rollout plan.",
        "Looks good overall. Could we shorten the rollout to six weeks? "
        "Free for a call on Tuesday?",
    ),
    (
        "{title}: draft contract",
        "Hi {name},\n\nThe draft contract is attached, with payment in three instalments.",
        "Our legal team is reviewing it; clause 7 on liability needs changes. Redline to follow.",
    ),
)


def _is_chinese(text: str | None) -> bool:
    return bool(text and _CJK.search(text))


class _Writer:
    """Builds the messages; ``inbox`` and ``sent`` collect (date, bytes)."""

    def __init__(self, rng: random.Random, today: dt.date) -> None:
        self.rng = rng
        self.today = today
        self.inbox: list[tuple[dt.datetime, bytes]] = []
        self.sent: list[tuple[dt.datetime, bytes]] = []
        self.serial = 0

    def when(self, after: dt.datetime | None = None) -> dt.datetime:
        tz = dt.timezone(dt.timedelta(hours=8))
        if after is None:
            day = self.today - dt.timedelta(days=self.rng.randint(4, 30))
            minutes = self.rng.randrange(9 * 60, 18 * 60, 1)
            return dt.datetime(day.year, day.month, day.day, tzinfo=tz) + dt.timedelta(
                minutes=minutes
            )
        return after + dt.timedelta(hours=self.rng.randint(2, 50), minutes=self.rng.randint(0, 59))

    def ident(self, domain: str) -> str:
        self.serial += 1
        return f"<demo.{self.serial:04d}.{self.rng.getrandbits(32):08x}@{domain}>"

    def message(
        self,
        sender: tuple[str, str],
        to: tuple[str, str],
        subject: str,
        body: str,
        at: dt.datetime,
        *,
        chinese: bool,
        ident: str,
        answers: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> bytes:
        # Chinese mail clients still send GB2312-labelled GBK, or GBK for the characters
        # GB2312 lacks (喆, 镕); the parser must cope.
        charset = "utf-8"
        if chinese:
            text = body + subject + sender[0] + to[0]
            charset = next((c for c in ("gb2312", "gbk") if _encodable(text, c)), "utf-8")
        msg = MIMEText(body, "plain", charset)
        msg["From"] = _address(sender, charset)
        msg["To"] = _address(to, charset)
        msg["Subject"] = _words(subject, charset)
        msg["Date"] = format_datetime(at)
        msg["Message-ID"] = ident
        if answers:
            msg["In-Reply-To"] = answers
            msg["References"] = answers
        for name, value in (headers or {}).items():
            msg[name] = value
        return msg.as_bytes()


def _encodable(text: str, charset: str) -> bool:
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def _words(text: str, charset: str) -> str:
    """RFC 2047 encoded-words as Chinese mail clients write them: the label as sent
    (``gb2312``, not Python's codec name ``eucgb2312_cn``), and the bytes cut every 30, even
    inside a character, which the parser must join again before decoding."""
    if text.isascii():
        return text
    data = text.encode(charset)
    chunks = [data[i : i + 30] for i in range(0, len(data), 30)]
    return " ".join(f"=?{charset}?B?{base64.b64encode(c).decode()}?=" for c in chunks)


def _address(who: tuple[str, str], charset: str) -> str:
    name, address = who
    if not name:
        return address
    if name.isascii():
        return formataddr(who)
    return f"{_words(name, charset)} <{address}>"


def write_demo_mailbox(
    folder: Path,
    customers: Sequence[Mapping[str, Any]],
    deals: Sequence[Mapping[str, Any]],
    *,
    seed: int,
    today: dt.date,
) -> Path:
    """Write the demo Maildir into ``folder/xlcrm-demo-mail`` and return its path."""
    w = _Writer(random.Random(seed * 7919 + 3), today)
    by_id = {c["id"]: c for c in customers}
    with_mail = {cid: c for cid, c in by_id.items() if split_emails(c.get("email"))}
    open_deals = [
        d
        for d in deals
        if d.get("stage") not in ("Won", "Lost") and d.get("customer_id") in with_mail
    ]
    w.rng.shuffle(open_deals)
    seen: set[str] = set()
    threads = 0
    for deal in open_deals:
        if threads == _THREADS:
            break
        if deal["customer_id"] in seen:
            continue
        seen.add(deal["customer_id"])
        _thread(w, with_mail[deal["customer_id"]], deal, answered=threads % 4 != 3)
        threads += 1
    others = [c for cid, c in with_mail.items() if cid not in seen]
    _extras(w, others)
    return _write(folder / MAIL_FOLDER, w)


def _thread(w: _Writer, customer: Mapping[str, Any], deal: Mapping[str, Any], *, answered: bool):
    chinese = _is_chinese(customer.get("name"))
    rep = customer.get("owner") or "王芳"
    rep_address = f"{REP_ADDRESSES.get(rep, 'sales')}@{OUR_DOMAIN}"
    theirs = split_emails(customer["email"])[0]
    name = customer.get("name") or theirs
    subject, text, answer = w.rng.choice(_QUOTES_ZH if chinese else _QUOTES_EN)
    title = deal.get("title") or "the order"
    subject = subject.format(title=title)
    sent_at = w.when()
    ours = w.ident(OUR_DOMAIN)
    sign = (
        f"\n\n{rep}\n星河软件 销售部" if chinese else f"\n\nBest regards,\n{rep}\nXinghe Software"
    )
    w.sent.append(
        (
            sent_at,
            w.message(
                (rep, rep_address),
                (name, theirs),
                subject,
                text.format(name=name, title=title) + sign,
                sent_at,
                chinese=chinese,
                ident=ours,
            ),
        )
    )
    if not answered:
        # Some customers are travelling: an out-of-office instead of an answer.
        at = sent_at + dt.timedelta(minutes=1)
        auto = ("自动回复: " if chinese else "Automatic reply: ") + subject
        body = "我正在出差，邮件将延迟回复。" if chinese else "I am out of the office until Monday."
        w.inbox.append(
            (
                at,
                w.message(
                    (name, theirs),
                    (rep, rep_address),
                    auto,
                    body,
                    at,
                    chinese=chinese,
                    ident=w.ident(theirs.partition("@")[2]),
                    answers=ours,
                    headers={"Auto-Submitted": "auto-replied"},
                ),
            )
        )
        return
    at = w.when(sent_at)
    prefix = "答复: " if chinese else "Re: "
    quoted = "\n".join(f"> {line}" for line in text.format(name=name, title=title).splitlines())
    intro = (
        f"\n\n-----原始邮件-----\n发件人: {rep}\n"
        if chinese
        else f"\n\nOn {sent_at:%d %b}, {rep} wrote:\n"
    )
    reply = w.ident(theirs.partition("@")[2])
    w.inbox.append(
        (
            at,
            w.message(
                (name, theirs),
                (rep, rep_address),
                prefix + subject,
                answer + intro + quoted,
                at,
                chinese=chinese,
                ident=reply,
                answers=ours,
            ),
        )
    )


def _extras(w: _Writer, others: list[Mapping[str, Any]]) -> None:
    """Mail that is not a quote thread: inquiries, noise, a bounce."""
    us = ("星河软件 销售部", MAILBOX)
    inquiries = (
        (
            ("周建国", "zhou.jianguo@hengtai-jixie.example"),
            "咨询：ERP系统价格",
            "您好，我们是一家机械制造企业，约200人，想了解贵司ERP系统的价格和实施周期。",
            True,
        ),
        (
            ("Maria Rossi", "m.rossi@officina-rossi.example"),
            "Pricing for 50 seats",
            "Hello, we found you at the Hannover fair. Could you send pricing for 50 users?",
            False,
        ),
    )
    for who, subject, body, chinese in inquiries:
        at = w.when()
        w.inbox.append(
            (
                at,
                w.message(
                    who,
                    us,
                    subject,
                    body,
                    at,
                    chinese=chinese,
                    ident=w.ident(who[1].partition("@")[2]),
                ),
            )
        )
    at = w.when()
    w.inbox.append(
        (
            at,
            w.message(
                ("王芳", f"wang.fang@{OUR_DOMAIN}"),
                us,
                "周例会改到周四",
                "各位，本周例会改到周四下午三点。",
                at,
                chinese=True,
                ident=w.ident(OUR_DOMAIN),
            ),
        )
    )
    at = w.when()
    w.inbox.append(
        (
            at,
            w.message(
                ("Trade Show News", "news@expo-news.example"),
                us,
                "Your weekly trade show digest",
                "New exhibitors this week…",
                at,
                chinese=False,
                ident=w.ident("expo-news.example"),
                headers={"List-Unsubscribe": "<mailto:leave@expo-news.example>"},
            ),
        )
    )
    for customer in others[:8]:  # a short note to a few more customers
        chinese = _is_chinese(customer.get("name"))
        address = split_emails(customer["email"])[0]
        at = w.when()
        subject = "近期合作回访" if chinese else "Quick check-in"
        body = (
            "您好，想了解一下系统最近的使用情况，有任何问题欢迎随时联系。"
            if chinese
            else "Hi, how is everything running on your side? Happy to help with anything."
        )
        w.sent.append(
            (
                at,
                w.message(
                    us,
                    (customer.get("name") or "", address),
                    subject,
                    body,
                    at,
                    chinese=chinese,
                    ident=w.ident(OUR_DOMAIN),
                ),
            )
        )
    if others:
        _bounce(w, others[-1], us)


def _bounce(w: _Writer, customer: Mapping[str, Any], us: tuple[str, str]) -> None:
    """A newsletter to a stale address, and the delivery failure that came back."""
    address = split_emails(customer["email"])[-1]
    at = w.when()
    original = w.ident(OUR_DOMAIN)
    w.sent.append(
        (
            at,
            w.message(
                us,
                ("", address),
                "Product update",
                "Our autumn release is out.",
                at,
                chinese=False,
                ident=original,
            ),
        )
    )
    back = at + dt.timedelta(minutes=2)
    mta = f"mx.{OUR_DOMAIN}"
    # Written out as Postfix does: the stdlib generator cannot build message/delivery-status.
    report = (
        f"From: Mail Delivery System <MAILER-DAEMON@{mta}>\r\n"
        f"To: {MAILBOX}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {format_datetime(back)}\r\n"
        f"Message-ID: {w.ident(mta)}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"\r\n'
        "\r\n--dsn\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"Delivery to <{address}> failed permanently.\r\n"
        "\r\n--dsn\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; {mta}\r\n\r\n"
        f"Final-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 mailbox does not exist\r\n"
        "\r\n--dsn\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {original}\r\nSubject: Product update\r\n"
        "\r\n--dsn--\r\n"
    )
    w.inbox.append((back, report.encode("ascii")))


def _write(root: Path, w: _Writer) -> Path:
    """Write the Maildir with stable file names (the same demo gives the same files)."""
    for folder, items in ((root, w.inbox), (root / ".Sent", w.sent)):
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        for n, (at, data) in enumerate(sorted(items, key=lambda item: item[0]), 1):
            stamp = int(at.timestamp())
            path = folder / "cur" / f"{stamp}.M{n:04d}P0.xlcrm-demo:2,S"
            path.write_bytes(data)
    return root


def sync_demo_mailbox(book_path: Path, mail_root: Path) -> SyncReport:
    """Sync the demo mailbox into the demo workbook, as ``xlcrm sync`` would."""
    mailbox = MaildirMailbox(f"maildir:{mail_root}", address=MAILBOX)
    options = SyncOptions(internal_domains=(OUR_DOMAIN,))
    with open_book(book_path) as book:
        return sync_mailbox(book, mailbox, options)
