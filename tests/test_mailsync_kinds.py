"""Sync and the kinds of mail (issue #15): threads linked whatever the order of their
messages, list mail from customers recorded, complaints as unsubscribes, soft bounces, delay
notices.

Each test writes messages into a real Maildir on disk, runs :func:`sync_mailbox` on a real
workbook file and reads the saved file back, as a person opening it would.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from maildirs import T0, Mail, mail

from addin.init import create_workbook
from addin.mailsync import SyncOptions, sync_mailbox
from addin.workbook import open_book

ME = "sales@ourco.cn"
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = create_workbook(tmp_path / "crm.xlsx")
    with open_book(path) as wb:
        wb.table("customers").insert_all(
            [
                {"name": "Li Wei", "company": "ACME", "email": "li.wei@acme.cn"},
                {"name": "Alice Smith", "company": "Brightline", "email": "alice@brightline.com"},
                {"name": "张喆", "company": "喆镕贸易", "email": "zhang.zhe@zherong.cn"},
            ]
        )
        wb.table("sends").insert_all(
            [
                {
                    "campaign": "spring",
                    "customer_id": cid,
                    "email": email,
                    "status": "sent",
                    "message_id": f"<spring.{cid.lower()}@ourco.cn>",
                    "sent_at": dt.datetime(2026, 3, 1, 10, 0),
                }
                for cid, email in (
                    ("C0002", "alice@brightline.com"),
                    ("C0003", "zhang.zhe@zherong.cn"),
                )
            ]
        )
    return path


@pytest.fixture
def mail_dir(tmp_path: Path) -> Mail:
    return Mail(tmp_path / "Maildir", ME)


def run(book: Path, mail_dir: Mail, **options: Any) -> Any:
    with open_book(book) as wb:
        return sync_mailbox(wb, mail_dir.open(), SyncOptions(**options))


def rows(book: Path, name: str) -> list[dict[str, Any]]:
    with open_book(book) as wb:
        return list(wb.table(name).rows())


def by_id(book: Path, name: str) -> dict[Any, dict[str, Any]]:
    with open_book(book) as wb:
        t = wb.table(name)
        pk = t.spec.pk
        return {tuple(r[k] for k in pk) if len(pk) > 1 else r[pk[0]]: r for r in t.rows()}


# -- linking whatever the order --------------------------------------------------------------------


def test_a_first_sync_links_replies_dated_before_the_customers_own_first_message(
    book: Path, mail_dir: Mail
) -> None:
    """A colleague of the customer starts the thread from a private address; we answer; only
    later does the customer write in it. Each message names only the one it answers."""
    colleague = "wang.private@gmail.com"  # a public domain: no company match
    mail_dir.receive(mail(colleague, ME, "Pumps for ACME", ident="t1@gmail.com", at=T0))
    mail_dir.send(
        mail(ME, colleague, "Re: Pumps for ACME", ident="t2@ourco.cn", at=T0 + HOUR,
             reply_to_id="t1@gmail.com")
    )  # fmt: skip
    mail_dir.receive(
        mail(colleague, ME, "Re: Pumps for ACME", ident="t3@gmail.com", at=T0 + 2 * HOUR,
             reply_to_id="t2@ourco.cn")
    )  # fmt: skip
    mail_dir.receive(
        mail("li.wei@acme.cn", ME, "Re: Pumps for ACME", "We approve.", ident="t4@acme.cn",
             at=T0 + 3 * HOUR, reply_to_id="t3@gmail.com")
    )  # fmt: skip

    report = run(book, mail_dir)

    recorded = {r["message_id"]: r["customer_id"] for r in rows(book, "interactions")}
    assert recorded == {
        "t1@gmail.com": "C0001",
        "t2@ourco.cn": "C0001",
        "t3@gmail.com": "C0001",
        "t4@acme.cn": "C0001",
    }
    assert report.linked_by == {"address": 1, "thread": 3}
    assert report.unknown == {}  # the colleague is no longer an unknown correspondent
    assert run(book, mail_dir, rescan=True).new == 0  # --rescan finds nothing more


def test_a_message_in_no_customers_thread_is_still_unmatched(book: Path, mail_dir: Mail) -> None:
    mail_dir.receive(mail("stranger@gmail.com", ME, "Hello", ident="s1@gmail.com"))
    mail_dir.receive(mail("li.wei@acme.cn", ME, "Order", ident="o1@acme.cn", at=T0 + HOUR))
    report = run(book, mail_dir)
    assert [r["message_id"] for r in rows(book, "interactions")] == ["o1@acme.cn"]
    assert report.skipped["unmatched"] == 1
    assert list(report.unknown) == ["stranger@gmail.com"]


# -- list mail and auto-replies --------------------------------------------------------------------


def test_a_customers_reply_on_a_mailing_list_is_recorded(book: Path, mail_dir: Mail) -> None:
    list_headers = {
        "List-Id": "Pump users <pumps.lists.example.org>",
        "List-Post": "<mailto:pumps@lists.example.org>",
        "Precedence": "bulk",
    }
    mail_dir.receive(
        mail("alice@brightline.com", "pumps@lists.example.org", "Re: seals wearing out",
             "Change them every 6 months.", ident="l1@brightline.com", headers=list_headers)
    )  # fmt: skip
    mail_dir.receive(
        mail("someone@elsewhere.example", "pumps@lists.example.org", "Re: seals wearing out",
             ident="l2@elsewhere.example", at=T0 + HOUR, headers=list_headers)
    )  # fmt: skip
    report = run(book, mail_dir)
    (row,) = rows(book, "interactions")
    assert (row["customer_id"], row["message_id"]) == ("C0002", "l1@brightline.com")
    assert row["summary"] == "Change them every 6 months."
    assert report.skipped["automated"] == 1 and report.skipped["auto_reply"] == 0
    assert report.unknown == {}


def test_an_out_of_office_reply_is_skipped(book: Path, mail_dir: Mail) -> None:
    mail_dir.receive(
        mail("alice@brightline.com", ME, "Abwesenheitsnotiz: Angebot", ident="a1@brightline.com")
    )
    report = run(book, mail_dir)
    assert rows(book, "interactions") == []
    assert report.skipped["auto_reply"] == 1


# -- complaints, soft bounces, delays --------------------------------------------------------------


def arf(recipient: str | None, original_id: str) -> bytes:
    rcpt = f"Original-Rcpt-To: <{recipient}>\r\n" if recipient else ""
    to = recipient or "redacted@isp.example"
    return (
        "From: Feedback Loop <fbl@isp.example>\r\nTo: abuse@ourco.cn\r\n"
        "Subject: Abuse report\r\nMessage-ID: <fbl1@isp.example>\r\n"
        "Date: Tue, 03 Mar 2026 10:00:00 +0800\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="F"\r\n\r\n'
        "--F\r\nContent-Type: text/plain\r\n\r\nA complaint.\r\n"
        "--F\r\nContent-Type: message/feedback-report\r\n\r\n"
        f"Feedback-Type: abuse\r\nVersion: 1\r\n{rcpt}\r\n"
        "--F\r\nContent-Type: message/rfc822\r\n\r\n"
        f"From: {ME}\r\nTo: {to}\r\nMessage-ID: <{original_id}>\r\nSubject: Spring offer\r\n\r\n"
        "Hello.\r\n--F--\r\n"
    ).encode()


def test_a_complaint_unsubscribes_the_customer_it_names(book: Path, mail_dir: Mail) -> None:
    mail_dir.receive(arf("alice@brightline.com", "elsewhere.1@ourco.cn"))
    report = run(book, mail_dir)
    customers = by_id(book, "customers")
    assert customers["C0002"]["unsubscribed"] is True
    assert customers["C0001"]["unsubscribed"] in (None, False)
    assert rows(book, "interactions") == []
    assert report.unsubscribed == ["C0002"]
    assert report.bounced == [] and report.skipped["complaint"] == 1
    assert "1 spam complaints (recorded as unsubscribes)" in report.summary()


def test_a_redacted_complaint_finds_the_customer_by_the_campaign_send(
    book: Path, mail_dir: Mail
) -> None:
    mail_dir.receive(arf(None, "spring.c0003@ourco.cn"))
    report = run(book, mail_dir)
    assert by_id(book, "customers")["C0003"]["unsubscribed"] is True
    assert report.unsubscribed == ["C0003"]


def notice(subject: str, text: str, *, ident: str = "n1@mx.example.net") -> bytes:
    return (
        "From: Mail Delivery System <Mailer-Daemon@mx.example.net>\r\nTo: sales@ourco.cn\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{ident}>\r\n"
        "Date: Tue, 03 Mar 2026 10:00:00 +0800\r\nContent-Type: text/plain\r\n\r\n"
        + text.replace("\n", "\r\n")
        + "\r\n------ This is a copy of the message's headers. ------\r\n\r\n"
        "Message-ID: <spring.c0003@ourco.cn>\r\nFrom: sales@ourco.cn\r\n"
    ).encode()


def test_a_soft_bounce_marks_the_send_but_not_the_customer(book: Path, mail_dir: Mail) -> None:
    mail_dir.receive(
        notice(
            "Mail delivery failed: returning message to sender",
            "A message that you sent could not be delivered to one or more of its\n"
            "recipients. This is a permanent error. The following address(es) failed:\n\n"
            "  zhang.zhe@zherong.cn\n    552 5.2.2 Mailbox full: quota exceeded\n",
        )
    )
    report = run(book, mail_dir)
    assert by_id(book, "customers")["C0003"]["bounced"] is None
    send = by_id(book, "sends")[("spring", "C0003")]
    assert (send["status"], send["error"]) == ("bounced", "552 5.2.2 Mailbox full: quota exceeded")
    assert report.bounced == [] and report.soft_bounced == ["zhang.zhe@zherong.cn (mailbox full)"]
    assert "soft bounces (the address may work later; not marked): zhang.zhe@zherong.cn" in (
        report.summary()
    )


def test_a_hard_bounce_in_a_providers_format_marks_the_customer(book: Path, mail_dir: Mail) -> None:
    mail_dir.receive(
        notice(
            "系统退信",
            "很抱歉您发送的邮件被退回。\n收件人：zhang.zhe@zherong.cn\n"
            "退信原因：收件人账户不存在 (550 5.1.1 User not found)",
        )
    )
    report = run(book, mail_dir)
    assert by_id(book, "customers")["C0003"]["bounced"] == "zhang.zhe@zherong.cn"
    assert report.bounced == ["zhang.zhe@zherong.cn"]


def test_a_delay_notice_changes_nothing(book: Path, mail_dir: Mail) -> None:
    mail_dir.receive(
        notice(
            "Warning: message 1abc-0001 delayed 24 hours",
            "A message that you sent has not yet been delivered to one or more of its\n"
            "recipients after more than 24 hours on the queue.\n\n  zhang.zhe@zherong.cn\n"
            "No action is required on your part.",
        )
    )
    report = run(book, mail_dir)
    assert by_id(book, "customers")["C0003"]["bounced"] is None
    assert by_id(book, "sends")[("spring", "C0003")]["status"] == "sent"
    assert rows(book, "interactions") == []
    assert report.skipped["delivery_report"] == 1
