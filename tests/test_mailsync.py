"""The sync run: messages in a real Maildir → rows of a real workbook file.

Each test builds a CRM workbook with ``create_workbook`` and the Table API, writes messages
into a Maildir on disk, runs :func:`sync_mailbox` (or ``xlcrm sync``) and reads the saved
file back, as a person opening it would. Server backends have their own tests
(test_imap/test_ews/test_graph); what a run does with a failing server is checked here with
a real Maildir whose reads start failing part-way.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from books import blank_workbook, built_once
from click.testing import CliRunner
from maildirs import T0, Mail, mail

from addin.cli import cli
from addin.errors import UsageError
from addin.mailsync import SyncOptions, state_key, sync_mailbox
from addin.workbook import open_book
from sync.local import MaildirMailbox
from sync.mailbox import MailboxError, MessageRef

ME = "sales@ourco.cn"


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return _book(tmp_path / "crm.xlsx")


@built_once
def _book(path: Path) -> Path:
    blank_workbook(path)
    with open_book(path) as wb:
        wb.table("customers").insert_all(
            [
                {"name": "Li Wei", "company": "ACME 上海", "email": "li.wei@acme.cn; lw@qq.com"},
                {"name": "Alice Smith", "company": "Brightline", "email": "alice@brightline.com"},
                {"name": "张喆", "company": "喆镕贸易", "email": "zhang.zhe@zherong.cn"},
                {"name": "Bob Public", "email": "bob1999@gmail.com"},
            ]
        )
        wb.table("deals").insert_all(
            [
                {"customer_id": "C0001", "title": "500 pumps", "stage": "Proposal"},
                {"customer_id": "C0001", "title": "Service contract", "stage": "Qualified"},
                {"customer_id": "C0002", "title": "Pilot", "stage": "Negotiation"},
                {"customer_id": "C0003", "title": "Old order", "stage": "Won"},
            ]
        )
        wb.table("sends").insert_all(
            [
                {
                    "campaign": "spring",
                    "customer_id": "C0002",
                    "email": "alice@brightline.com",
                    "status": "sent",
                    "message_id": "<spring.c0002@ourco.cn>",
                    "sent_at": dt.datetime(2026, 3, 1, 10, 0),
                },
                {
                    "campaign": "spring",
                    "customer_id": "C0003",
                    "email": "zhang.zhe@zherong.cn",
                    "status": "sent",
                    "message_id": "<spring.c0003@ourco.cn>",
                    "sent_at": dt.datetime(2026, 3, 1, 10, 0),
                },
            ]
        )
    return path


@pytest.fixture
def mail_dir(tmp_path: Path) -> Mail:
    return Mail(tmp_path / "Maildir", ME)


def dsn(address: str) -> bytes:
    """An RFC 3464 report: ``address`` failed for the spring campaign's message."""
    return (
        b"From: MAILER-DAEMON@mx.example.net\r\nTo: sales@ourco.cn\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn1@mx.example.net>\r\n"
        b"Date: Mon, 02 Mar 2026 10:00:00 +0800\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.net\r\n\r\n"
        b"Final-Recipient: rfc822; " + address.encode() + b"\r\nAction: failed\r\n"
        b"Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
        b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"Message-ID: <spring.c0003@ourco.cn>\r\nSubject: Spring offer\r\n--B--\r\n"
    )


def run(book: Path, mail_dir: Mail, **options: Any) -> Any:
    with open_book(book) as wb:
        return sync_mailbox(wb, mail_dir.open(), SyncOptions(**options))


def interactions(book: Path) -> list[dict[str, Any]]:
    with open_book(book) as wb:
        return list(wb.table("interactions").rows())


def table(book: Path, name: str) -> dict[Any, dict[str, Any]]:
    with open_book(book) as wb:
        t = wb.table(name)
        return {
            tuple(r[k] for k in t.spec.pk) if len(t.spec.pk) > 1 else r[t.spec.pk[0]]: r
            for r in t.rows()
        }


# -- recording -----------------------------------------------------------------------------------


def test_mail_with_a_customer_becomes_an_interaction_in_both_directions(
    book: Path, mail_dir: Mail
) -> None:
    mail_dir.send(
        mail(
            f"Sales <{ME}>",
            "Li Wei <LI.WEI@acme.cn>",
            "报价：500台水泵",
            "李总您好，报价见附件。",
            ident="q1@ourco.cn",
        )
    )
    mail_dir.receive(
        mail(
            "Li Wei <lw@qq.com>",
            ME,
            "回复：报价：500台水泵",
            "价格可以，请发合同。\n\n> 李总您好",
            ident="r1@qq.com",
            at=T0 + dt.timedelta(hours=3),
            reply_to_id="q1@ourco.cn",
        )
    )
    report = run(book, mail_dir)
    assert (report.new, report.fetched) == (2, 2)
    out, reply = interactions(book)
    assert out | {"id": None} == {
        "id": None,
        "customer_id": "C0001",
        "deal_id": None,  # two open deals: which one is not guessed
        "ticket_id": None,
        "kind": "email",
        "direction": "out",
        "at": dt.datetime(2026, 3, 2, 9, 0) + _local_offset(),
        "from": f"Sales <{ME}>",
        "to": "li.wei@acme.cn",
        "subject": "报价：500台水泵",
        "summary": "李总您好，报价见附件。",
        "message_id": "q1@ourco.cn",
        "thread_id": "q1@ourco.cn",
        "mailbox": ME,
        "folder": "Sent",
        "attachments": None,
    }
    assert reply["direction"] == "in"
    assert reply["customer_id"] == "C0001"  # the private qq.com address is in the same cell
    assert reply["summary"] == "价格可以，请发合同。"  # the quote is not the customer's words
    assert reply["thread_id"] == "q1@ourco.cn"
    assert [r["id"] for r in (out, reply)] == ["I000001", "I000002"]


def _local_offset() -> dt.timedelta:
    """Rows hold this computer's wall-clock time; T0 is 09:00 in UTC+8."""
    local = T0.astimezone().replace(tzinfo=None)
    return local - dt.datetime(2026, 3, 2, 9, 0)


def test_a_second_run_adds_nothing_and_a_new_message_only_itself(
    book: Path, mail_dir: Mail
) -> None:
    mail_dir.receive(mail("alice@brightline.com", ME, "Pilot", ident="a1@brightline.com"))
    assert run(book, mail_dir).new == 1
    before = book.read_bytes()
    again = run(book, mail_dir)
    assert (again.fetched, again.new) == (0, 0)
    assert book.read_bytes() == before  # nothing to write: the file is not even rewritten
    mail_dir.receive(mail("alice@brightline.com", ME, "Pilot 2", ident="a2@brightline.com"))
    third = run(book, mail_dir)
    assert (third.fetched, third.new) == (1, 1)
    assert [r["subject"] for r in interactions(book)] == ["Pilot", "Pilot 2"]


def test_state_is_kept_per_mailbox_and_folder_in_the_hidden_sheet(
    book: Path, mail_dir: Mail
) -> None:
    mail_dir.receive(mail("alice@brightline.com", ME, "Pilot", ident="a1@brightline.com"))
    run(book, mail_dir)
    with open_book(book) as wb:
        keys = {k for k in wb.state if k.startswith("sync|")}
        box = mail_dir.open()
        assert keys == {state_key(box, "INBOX"), state_key(box, "Sent")}
        assert all(ME not in wb.state[k] for k in keys)  # opaque backend state, no address


def test_a_local_mailbox_keeps_its_state_however_its_path_is_written(
    book: Path, mail_dir: Mail, monkeypatch: pytest.MonkeyPatch
) -> None:
    mail_dir.receive(mail("alice@brightline.com", ME, "Pilot", ident="a1@brightline.com"))
    run(book, mail_dir)
    monkeypatch.chdir(mail_dir.root.parent)
    relative = MaildirMailbox("maildir:./Maildir", address=ME)
    with open_book(book) as wb:
        assert sync_mailbox(wb, relative).fetched == 0  # the same state, not a first run


def test_rescan_lists_everything_again_and_records_nothing_twice(
    book: Path, mail_dir: Mail
) -> None:
    mail_dir.receive(mail("alice@brightline.com", ME, "Pilot", ident="a1@brightline.com"))
    run(book, mail_dir)
    report = run(book, mail_dir, rescan=True)
    assert (report.fetched, report.new, report.skipped["recorded"]) == (1, 0, 1)
    assert report.summary().startswith(f"{ME}: 1 message read again (INBOX 1, Sent 0)")
    assert len(interactions(book)) == 1


def test_the_same_message_in_two_mailboxes_is_one_interaction(book: Path, tmp_path: Path) -> None:
    first, second = Mail(tmp_path / "a", ME), Mail(tmp_path / "b", ME)
    data = mail("alice@brightline.com", f"{ME}, boss@ourco.cn", "Pilot", ident="a1@brightline.com")
    first.receive(data)
    second.receive(data)
    assert run(book, first).new == 1
    assert run(book, second).skipped["recorded"] == 1
    assert len(interactions(book)) == 1


def test_a_message_without_message_id_is_recorded_once_by_its_content(
    book: Path, mail_dir: Mail
) -> None:
    data = mail("alice@brightline.com", ME, "No id", ident=None)
    mail_dir.receive(data)
    run(book, mail_dir)
    mail_dir.receive(data)  # the same message delivered twice
    run(book, mail_dir)
    (row,) = interactions(book)
    assert row["message_id"].startswith("sha256:")


# -- linking -------------------------------------------------------------------------------------


def test_thread_links_a_reply_to_the_deal_of_the_message_it_answers(
    book: Path, mail_dir: Mail
) -> None:
    with open_book(book) as wb:
        wb.table("interactions").insert(
            {
                "customer_id": "C0001",
                "deal_id": "D0002",
                "kind": "email",
                "direction": "out",
                "subject": "Service plan",
                "message_id": "<plan@ourco.cn>",
            }
        )
    mail_dir.receive(
        mail(
            "li.wei@acme.cn", ME, "Re: Service plan", ident="r@acme.cn", reply_to_id="plan@ourco.cn"
        )
    )
    run(book, mail_dir)
    assert interactions(book)[-1]["deal_id"] == "D0002"


def test_a_customer_with_one_open_deal_gets_it_and_won_deals_are_not_reopened(
    book: Path, mail_dir: Mail
) -> None:
    mail_dir.receive(mail("alice@brightline.com", ME, "Pilot", ident="a@brightline.com"))
    mail_dir.receive(mail("zhang.zhe@zherong.cn", ME, "你好", ident="z@zherong.cn"))
    report = run(book, mail_dir)
    rows = {r["customer_id"]: r for r in interactions(book)}
    assert rows["C0002"]["deal_id"] == "D0003"
    assert rows["C0003"]["deal_id"] is None  # only a Won deal
    assert report.linked_deal == 1


def test_a_colleague_at_a_customers_company_is_linked_by_domain_but_not_on_public_domains(
    book: Path, mail_dir: Mail
) -> None:
    mail_dir.receive(mail("王芳 <wang.fang@acme.cn>", ME, "采购", ident="w@acme.cn"))
    mail_dir.receive(mail("stranger@gmail.com", ME, "Hi", ident="s@gmail.com"))
    report = run(book, mail_dir)
    (row,) = interactions(book)
    assert (row["customer_id"], row["from"]) == ("C0001", "王芳 <wang.fang@acme.cn>")
    assert report.linked_by == {"domain": 1}
    assert report.unmatched == 1
    assert "stranger@gmail.com" in report.summary()


def test_a_reply_from_an_unknown_address_follows_its_thread(book: Path, mail_dir: Mail) -> None:
    mail_dir.send(mail(ME, "bob1999@gmail.com", "Offer", ident="o@ourco.cn"))
    mail_dir.receive(
        mail(
            "assistant@bob-home.net",
            ME,
            "Re: Offer",
            ident="r@bob-home.net",
            reply_to_id="o@ourco.cn",
        )
    )
    report = run(book, mail_dir)
    assert [r["customer_id"] for r in interactions(book)] == ["C0004", "C0004"]
    assert report.linked_by == {"address": 1, "thread": 1}


# -- skipping ------------------------------------------------------------------------------------


def test_internal_never_log_auto_replies_and_newsletters_are_not_recorded(
    book: Path, mail_dir: Mail
) -> None:
    mail_dir.receive(mail("boss@ourco.cn", ME, "Team lunch", ident="i1@ourco.cn"))
    mail_dir.receive(mail("boss@hq.ourco.cn", ME, "Budget", ident="i2@ourco.cn"))
    mail_dir.receive(mail("counsel@lawfirm.cn", ME, "Privileged", ident="l@lawfirm.cn"))
    mail_dir.receive(
        mail("li.wei@acme.cn", ME, "Privileged too", ident="l2@acme.cn", cc="x@lawfirm.cn")
    )
    mail_dir.receive(
        mail(
            "alice@brightline.com",
            ME,
            "Automatic reply: Pilot",
            ident="oof@brightline.com",
            headers={"Auto-Submitted": "auto-replied"},
        )
    )
    mail_dir.receive(
        mail(
            "news@vendor.com",
            ME,
            "Newsletter",
            ident="n@vendor.com",
            headers={"List-Unsubscribe": "<mailto:leave@vendor.com>"},
        )
    )
    mail_dir.receive(mail("noreply@bank.cn", ME, "Statement", ident="b@bank.cn"))
    report = run(book, mail_dir, never_log=("lawfirm.cn",))
    assert interactions(book) == []
    assert dict(report.skipped) == {
        "internal": 2,
        "never_log": 2,
        "auto_reply": 1,
        "automated": 2,
    }
    assert report.unknown == {}  # machines are not reported as people to add


def test_the_settings_table_never_log_list_and_internal_domains_apply(
    book: Path, mail_dir: Mail
) -> None:
    with open_book(book) as wb:
        wb.table("settings").update("Never log", {"value": "lawfirm.cn"})
        wb.table("settings").update("Internal domains", {"value": "ourco-group.com"})
    mail_dir.receive(mail("counsel@lawfirm.cn", ME, "Privileged", ident="l@lawfirm.cn"))
    mail_dir.receive(mail("cfo@ourco-group.com", ME, "Numbers", ident="n@ourco-group.com"))
    report = run(book, mail_dir)
    assert dict(report.skipped) == {"never_log": 1, "internal": 1}


def test_mail_to_our_own_domain_from_an_alias_counts_as_ours(book: Path, mail_dir: Mail) -> None:
    mail_dir.receive(mail("me@private.cn", "li.wei@acme.cn", "From home", ident="h@private.cn"))
    run(book, mail_dir, me=("me@private.cn",))
    (row,) = interactions(book)
    assert (row["direction"], row["customer_id"]) == ("out", "C0001")


# -- unknown correspondents and leads ----------------------------------------------------------


def test_unknown_senders_are_reported_and_become_leads_when_asked(
    book: Path, mail_dir: Mail
) -> None:
    mail_dir.receive(mail("陈晓明 <chen.xm@newco.cn>", ME, "询价", ident="c1@newco.cn"))
    mail_dir.receive(mail("陈晓明 <chen.xm@newco.cn>", ME, "询价 2", ident="c2@newco.cn"))
    mail_dir.receive(mail("Jo <jo.tan@brightline.com>", ME, "Hi", ident="j@brightline.com"))
    report = run(book, mail_dir)
    assert report.unmatched == 2
    assert report.unknown["chen.xm@newco.cn"].messages == 2
    assert "陈晓明 <chen.xm@newco.cn>: 2 messages, last '询价 2'" in report.summary()
    assert "--create-leads --rescan" in report.summary()

    report = run(book, mail_dir, create_leads=True, rescan=True)
    assert report.leads == ["C0005"]
    customers = table(book, "customers")
    lead = customers["C0005"]
    assert (lead["name"], lead["email"], lead["status"], lead["source"]) == (
        "陈晓明",
        "chen.xm@newco.cn",
        "Lead",
        "Email",
    )
    assert lead["created"] == dt.date.today()
    assert [r["customer_id"] for r in interactions(book)] == ["C0002", "C0005", "C0005"]


def test_raw_8bit_addresses_become_leads_exactly_or_not_at_all(book: Path, mail_dir: Mail) -> None:
    """An SMTPUTF8 address (raw UTF-8) is kept exactly; raw Latin-1 bytes in an address
    cannot be written back and are never stored, under any reading."""

    def raw_from(address: bytes, ident: str) -> bytes:
        return (
            b"From: Dang <" + address + b">\r\nTo: " + ME.encode() + b"\r\nSubject: Hallo\r\n"
            b"Date: Mon, 02 Mar 2026 10:00:00 +0800\r\nMessage-ID: <" + ident.encode() + b">\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\nGuten Tag.\r\n"
        )

    mail_dir.receive(raw_from("danglüe@newco.de".encode(), "u@newco.de"))
    mail_dir.receive(raw_from("m\u00fcller@oldco.de".encode("latin-1"), "l@oldco.de"))
    report = run(book, mail_dir, create_leads=True)
    customers = table(book, "customers")
    assert report.leads == ["C0005"]
    assert customers["C0005"]["email"] == "danglüe@newco.de"
    emails = "; ".join(str(r["email"]) for r in customers.values())
    assert "oldco" not in emails
    rows = interactions(book)
    assert [r["customer_id"] for r in rows] == ["C0005"]
    assert "oldco" not in repr(rows)


def test_a_new_lead_at_a_known_company_gets_the_company(book: Path, mail_dir: Mail) -> None:
    mail_dir.receive(mail("Jo <jo@newco.cn>", ME, "Hi", ident="j@newco.cn"))
    mail_dir.receive(
        mail("Ann <ann@newco.cn>", ME, "Hi", ident="a@newco.cn", at=T0 + dt.timedelta(1))
    )
    run(book, mail_dir, create_leads=True)
    customers = table(book, "customers")
    assert customers["C0005"]["email"] == "jo@newco.cn"
    # Ann's domain now belongs to Jo's row: she is linked to it rather than made a lead.
    assert [r["customer_id"] for r in interactions(book)] == ["C0005", "C0005"]


# -- customers, deals, campaigns -------------------------------------------------------------


def test_last_contact_moves_forward_only_and_follow_ups_follow_the_ball(
    book: Path, mail_dir: Mail
) -> None:
    with open_book(book) as wb:
        wb.table("customers").update("C0002", {"last_contact": dt.date(2026, 3, 20)})
    mail_dir.send(mail(ME, "alice@brightline.com", "Proposal", ident="p@ourco.cn"))
    mail_dir.receive(mail("zhang.zhe@zherong.cn", ME, "收到", ident="z@zherong.cn"))
    report = run(book, mail_dir, follow_up_days=5)
    customers, deals = table(book, "customers"), table(book, "deals")
    assert customers["C0002"]["last_contact"] == dt.date(2026, 3, 20)  # later than the mail
    assert customers["C0003"]["last_contact"] == T0.astimezone().date()
    assert deals["D0003"]["next_follow_up"] == T0.astimezone().date() + dt.timedelta(days=5)
    assert deals["D0004"]["next_follow_up"] is None  # won: no follow-up
    assert report.customers_contacted == 1

    # Their answer: the next step is ours, due the next day.
    mail_dir.receive(
        mail(
            "alice@brightline.com",
            ME,
            "Re: Proposal",
            ident="ra@brightline.com",
            at=T0 + dt.timedelta(days=1),
            reply_to_id="p@ourco.cn",
        )
    )
    run(book, mail_dir)
    assert table(book, "deals")["D0003"]["next_follow_up"] == (
        (T0 + dt.timedelta(days=2)).astimezone().date()
    )


def test_our_mail_to_several_customers_is_one_row_and_contact_with_each(
    book: Path, mail_dir: Mail
) -> None:
    mail_dir.send(
        mail(ME, "alice@brightline.com", "Joint meeting", ident="j@ourco.cn", cc="li.wei@acme.cn")
    )
    run(book, mail_dir)
    (row,) = interactions(book)
    assert (row["customer_id"], row["to"]) == ("C0002", "alice@brightline.com; li.wei@acme.cn")
    customers = table(book, "customers")
    day = T0.astimezone().date()
    assert customers["C0002"]["last_contact"] == customers["C0001"]["last_contact"] == day
    assert customers["C0003"]["last_contact"] is None


def test_a_bounce_marks_the_address_on_the_customer_and_the_campaign_send(
    book: Path, mail_dir: Mail
) -> None:
    mail_dir.receive(dsn("zhang.zhe@zherong.cn"))
    report = run(book, mail_dir)
    assert interactions(book) == []
    customer = table(book, "customers")["C0003"]
    assert (customer["bounced"], customer["updated"]) == ("zhang.zhe@zherong.cn", dt.date.today())
    send = table(book, "sends")[("spring", "C0003")]
    assert (send["status"], send["error"]) == ("bounced", "smtp; 550 5.1.1 User unknown")
    assert report.bounced == ["zhang.zhe@zherong.cn"]
    assert report.sends_bounced == 1
    assert "bounced: zhang.zhe@zherong.cn (1 campaign sends marked)" in report.summary()


def test_a_reply_to_a_campaign_marks_the_send_replied(book: Path, mail_dir: Mail) -> None:
    mail_dir.receive(
        mail(
            "alice@brightline.com",
            ME,
            "Re: Spring offer",
            ident="re@brightline.com",
            reply_to_id="spring.c0002@ourco.cn",
        )
    )
    mail_dir.receive(
        mail(
            "zhang.zhe@zherong.cn",
            ME,
            "自动回复: Spring offer",
            ident="oof@zherong.cn",
            reply_to_id="spring.c0003@ourco.cn",
            headers={"Auto-Submitted": "auto-replied"},
        )
    )
    report = run(book, mail_dir)
    sends = table(book, "sends")
    assert sends[("spring", "C0002")]["status"] == "replied"
    assert sends[("spring", "C0003")]["status"] == "sent"  # an out-of-office is no reply
    assert report.sends_replied == 1


# -- safety --------------------------------------------------------------------------------------


def test_dry_run_writes_nothing_and_says_what_it_would_add(book: Path, mail_dir: Mail) -> None:
    mail_dir.receive(mail("alice@brightline.com", ME, "Pilot", ident="a1@brightline.com"))
    before = book.read_bytes()
    report = run(book, mail_dir, dry_run=True)
    assert book.read_bytes() == before
    assert "would add 1 interaction," in report.summary()
    assert "dry run: nothing was written" in report.summary()
    assert run(book, mail_dir).new == 1  # the state did not move on either


def test_a_dry_run_inside_a_callers_book_keeps_the_callers_own_edits(
    book: Path, mail_dir: Mail
) -> None:
    mail_dir.receive(mail("alice@brightline.com", ME, "Pilot", ident="a1@brightline.com"))
    with open_book(book) as wb:
        customers = wb.table("customers")
        customers.update("C0001", {"notes": "met at the fair"})
        alice = dict(customers.get("C0002"))
        wb.state["caller"] = "mine"
        mailbox = mail_dir.open()
        report = sync_mailbox(wb, mailbox, SyncOptions(dry_run=True))
        assert report.new == 1
        assert list(wb.table("interactions").rows()) == []  # the sync's rows are gone
        assert customers.get("C0002") == alice
        assert customers.get("C0001")["notes"] == "met at the fair"  # the caller's are not
        assert state_key(mailbox, "INBOX") not in wb.state
    with open_book(book) as wb:
        assert wb.table("customers").get("C0001")["notes"] == "met at the fair"
        assert wb.state["caller"] == "mine"
        assert list(wb.table("interactions").rows()) == []
    assert run(book, mail_dir).new == 1  # the mailbox's state did not move on


def test_a_failed_sync_leaves_the_callers_book_as_it_was(book: Path, mail_dir: Mail) -> None:
    for n in range(5):
        mail_dir.receive(mail("alice@brightline.com", ME, f"M{n}", ident=f"m{n}@brightline.com"))
    with open_book(book) as wb:
        wb.table("customers").update("C0001", {"notes": "called"})
        with pytest.raises(MailboxError):
            sync_mailbox(wb, FailingMailbox(mail_dir.open(), good=3))  # type: ignore[arg-type]
        assert list(wb.table("interactions").rows()) == []
        wb.save()
    with open_book(book) as wb:
        assert wb.table("customers").get("C0001")["notes"] == "called"
        assert list(wb.table("interactions").rows()) == []


class FailingMailbox:
    """A real Maildir whose reads fail after ``good`` messages, as a dropped connection does."""

    def __init__(self, inner: MaildirMailbox, good: int) -> None:
        self.inner, self.good = inner, good
        self.url, self.address = inner.url, inner.address

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def fetch(self, refs: Sequence[MessageRef]) -> Iterator[tuple[MessageRef, bytes]]:
        for n, item in enumerate(self.inner.fetch(refs)):
            if n == self.good:
                raise MailboxError(self.url, "the server closed the connection")
            yield item


def test_a_mailbox_failing_mid_run_writes_nothing_and_the_next_run_completes(
    book: Path, mail_dir: Mail
) -> None:
    for n in range(5):
        mail_dir.receive(
            mail(
                "alice@brightline.com",
                ME,
                f"M{n}",
                ident=f"m{n}@brightline.com",
                at=T0 + dt.timedelta(minutes=n),
            )
        )
    before = book.read_bytes()
    with open_book(book) as wb, pytest.raises(MailboxError, match="closed the connection"):
        sync_mailbox(wb, FailingMailbox(mail_dir.open(), good=3))  # type: ignore[arg-type]
    assert book.read_bytes() == before
    assert run(book, mail_dir).new == 5
    assert [r["subject"] for r in interactions(book)] == [f"M{n}" for n in range(5)]


def test_text_from_mail_is_never_a_formula(book: Path, mail_dir: Mail) -> None:
    mail_dir.receive(
        mail(
            "alice@brightline.com",
            ME,
            '=HYPERLINK("http://evil.example","x")',
            "=1+1 @SUM(A1)",
            ident="f@brightline.com",
        )
    )
    run(book, mail_dir)
    (row,) = interactions(book)
    assert row["subject"] == '=HYPERLINK("http://evil.example","x")'
    with zipfile.ZipFile(book) as z:
        sheets = [z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    assert not any(b"<f>" in xml or b"<f " in xml for xml in sheets)


def test_a_table_without_message_id_column_is_refused_with_a_hint(tmp_path: Path) -> None:
    from openpyxl import Workbook

    path = tmp_path / "mine.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "Customers"
    ws.append(["ID", "Name", "Email"])
    ws.append(["C0001", "Alice", "alice@brightline.com"])
    other = wb.create_sheet("Interactions")
    other.append(["ID", "Customer ID", "Kind", "Subject"])
    wb.save(path)
    mail_dir = Mail(tmp_path / "Maildir", ME)
    mail_dir.receive(mail("alice@brightline.com", ME, "Hi", ident="h@brightline.com"))
    with pytest.raises(UsageError) as caught:
        run(path, mail_dir)
    assert "add a column headed 'Message-ID'" in str(caught.value)


def test_a_workbook_without_a_bounced_column_gets_a_bounced_tag(tmp_path: Path) -> None:
    from openpyxl import Workbook

    path = tmp_path / "mine.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "Customers"
    ws.append(["ID", "Name", "Email", "Tags"])
    ws.append(["C0001", "Alice", "alice@brightline.com", "VIP，展会"])
    wb.create_sheet("Interactions").append(["ID", "Customer ID", "Subject", "Message-ID"])
    wb.save(path)
    mail_dir = Mail(tmp_path / "Maildir", ME)
    mail_dir.receive(dsn("alice@brightline.com"))
    report = run(path, mail_dir)
    assert table(path, "customers")["C0001"]["tags"] == "VIP, 展会, bounced"
    assert report.bounced == ["alice@brightline.com"]


def test_a_chinese_workbook_gets_chinese_labels(tmp_path: Path) -> None:
    path = blank_workbook(tmp_path / "客户.xlsx", "zh")
    with open_book(path) as wb:
        wb.table("customers").insert({"name": "李伟", "email": "li.wei@acme.cn"})
    mail_dir = Mail(tmp_path / "Maildir", ME)
    gbk = mail(
        "李伟 <li.wei@acme.cn>",
        ME,
        "合同",
        "合同已盖章，请查收。",
        ident="g@acme.cn",
        charset="gbk",
    )
    mail_dir.receive(gbk)
    run(path, mail_dir)
    (row,) = interactions(path)
    assert (row["kind"], row["direction"], row["summary"]) == (
        "email",
        "in",
        "合同已盖章，请查收。",
    )
    import python_calamine

    sheet = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("互动记录")
    header, first = sheet.to_python()[:2]
    cells = dict(zip(header, first))
    assert (cells["类型"], cells["方向"]) == ("邮件", "收")


# -- the command line ------------------------------------------------------------------------


def test_cli_sync_prints_the_summary_and_json(book: Path, mail_dir: Mail) -> None:
    mail_dir.receive(mail("alice@brightline.com", ME, "Pilot", ident="a1@brightline.com"))
    runner = CliRunner()
    result = runner.invoke(
        cli, ["sync", str(book), "--mailbox", mail_dir.url, "--me", ME, "--dry-run", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["new"], data["dry_run"], data["folders"]) == (1, True, {"INBOX": 1, "Sent": 0})
    result = runner.invoke(cli, ["sync", str(book), "--mailbox", mail_dir.url, "--me", ME])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"{ME}: 1 new message (INBOX 1, Sent 0)\n"
        "  added 1 interaction, 1 of them on a deal\n"
        "  linked: 1 by address\n"
        "  last contact moved on 1 customers, follow-up dates on 1 deals\n"
    )


def test_cli_sync_errors_say_where_and_exit_1(book: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["sync", str(book), "--mailbox", f"maildir:{tmp_path / 'nope'}"]
    )
    assert result.exit_code == 1
    assert f"xlcrm: maildir:{tmp_path / 'nope'}: there is no folder" in result.output


def test_cli_sync_unknown_folder_is_a_usage_error(book: Path, mail_dir: Mail) -> None:
    result = CliRunner().invoke(
        cli, ["sync", str(book), "--mailbox", mail_dir.url, "--folder", "Archive"]
    )
    assert result.exit_code == 2
    assert "the mailbox's own address is not known: give it with --me ADDR" in result.output
    assert "there is no folder 'Archive'" in result.output
    assert "the folders are: INBOX, Sent" in result.output
