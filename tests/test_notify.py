"""Internal notices sent exactly once: through a real SMTP server (aiosmtpd, STARTTLS and a
login) and our EWS server on loopback, recorded as interactions in a real workbook, and never
sent twice — not by a repeated run, not after a run died between sending and saving, not by a
second run that read the workbook before the first one saved. Also the team list.

Nothing is mocked. A crashed run is recreated by writing the journal lines it leaves behind.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path

import pytest
from pipeline_books import SENDER, body, make_crm, received, smtp_url
from servers.smtp import SmtpServer

from addin.errors import ValueProblem, WorkbookChangedError
from addin.notify import Notice, notice_message_id, recorded_keys, send_notices
from addin.notify.journal import NoticeEntry, NoticeJournal, notices_journal_path
from addin.notify.send import SALT_STATE_KEY
from addin.settings import write_settings
from addin.team import read_team
from addin.workbook import open_book

NOW = dt.datetime(2026, 3, 2, 9, 30)
ESCALATION = Notice(
    "escalate-T0007",
    "王伟 <wang.wei@xinghe.example>",
    "工单 T0007 已超时：门店 POS 无法开票",
    "王伟：\n\n工单 T0007 已超过解决时限，请尽快处理。\n",
    "<p>王伟：</p><p>工单 T0007 已超过解决时限，请尽快处理。</p>",
    customer_id="C0003",
    ticket_id="T0007",
)
OWNER = Notice(
    "rule-r004-d0002-negotiation",
    "li.na@xinghe.example",
    "Deal D0002 is now in Negotiation",
    "Hello Li Na,\n\nD0002 has entered the Negotiation stage.\n",
    customer_id="C0002",
    deal_id="D0002",
)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return make_crm(tmp_path / "客户管理.xlsx", "zh")


def send(path: Path, notices: list[Notice], url: str | None, **options: object):
    with open_book(path) as wb:
        return send_notices(wb, path, notices, transport_url=url, dry_run=False, now=NOW, **options)


def emails(path: Path) -> list[dict]:
    with open_book(path) as wb:
        return [r for r in wb.table("interactions").rows() if r["kind"] == "email"]


def test_each_notice_is_sent_once_and_recorded(book: Path, smtp: SmtpServer) -> None:
    report = send(book, [ESCALATION, OWNER], smtp_url(smtp))
    assert [o.status for o in report.outcomes] == ["sent", "sent"]
    first, _ = received(smtp)
    assert first["Subject"] == "工单 T0007 已超时：门店 POS 无法开票"
    assert first["To"].addresses[0].addr_spec == "wang.wei@xinghe.example"
    assert first["From"].addresses[0].display_name == "星河软件 CRM"
    assert first["Auto-Submitted"] == "auto-generated"
    assert "请尽快处理" in body(first) and "<p>王伟：</p>" in body(first, "html")
    assert smtp.messages[0].tls and smtp.messages[0].login == "crm@xinghe.example"
    logged = emails(book)
    assert [(r["ticket_id"], r["deal_id"], r["customer_id"]) for r in logged] == [
        ("T0007", None, "C0003"),
        (None, "D0002", "C0002"),
    ]
    assert {r["direction"] for r in logged} == {"out"}
    assert logged[0]["message_id"] == first["Message-ID"].strip("<>")
    assert logged[0]["subject"] == "工单 T0007 已超时：门店 POS 无法开票"
    assert logged[0]["at"] == NOW and logged[0]["summary"] == "内部通知"
    assert notices_journal_path(book).read_text() == ""

    again = send(book, [ESCALATION, OWNER], smtp_url(smtp))
    assert [o.status for o in again.outcomes] == ["already", "already"]
    assert len(smtp.messages) == 2 and len(emails(book)) == 2
    with open_book(book) as wb:
        assert recorded_keys(wb, [ESCALATION.key, OWNER.key, "other"]) == {
            ESCALATION.key,
            OWNER.key,
        }


def test_a_dry_run_sends_and_writes_nothing(book: Path, smtp: SmtpServer) -> None:
    before = book.read_bytes()
    with open_book(book) as wb:
        report = send_notices(wb, book, [ESCALATION], transport_url=smtp_url(smtp), now=NOW)
    assert [(o.key, o.status) for o in report.outcomes] == [("escalate-T0007", "would send")]
    assert smtp.messages == [] and book.read_bytes() == before
    assert not notices_journal_path(book).exists()


def test_without_a_sender_the_settings_cells_are_named(book: Path, smtp: SmtpServer) -> None:
    with open_book(book) as wb:
        write_settings(wb, {"sender": ""})
    with pytest.raises(Exception) as error:
        send(book, [ESCALATION], smtp_url(smtp))
    assert "notices need a From address" in str(error.value)
    assert "fill 设置!B" in str(error.value) and "(Notification sender)" in str(error.value)
    assert smtp.messages == []


def _salted(book: Path) -> str:
    """Send one notice so that the workbook has its salt, and return it."""
    with open_book(book) as wb:
        send_notices(wb, book, [], dry_run=False, now=NOW)  # nothing: no salt is needed yet
    with open_book(book) as wb:
        return wb.state.get(SALT_STATE_KEY, "")


def _crashed(book: Path, notice: Notice, status: str, salt: str) -> str:
    """Leave the journal as a run that died after writing ``status`` leaves it."""
    msgid = notice_message_id(salt, notice.key, SENDER)
    with NoticeJournal(book) as journal:
        journal.append(
            NoticeEntry(  # type: ignore[arg-type]
                notice.key,
                status,
                msgid,
                notice.to,
                notice.subject,
                NOW.isoformat(),
                customer_id=notice.customer_id,
                ticket_id=notice.ticket_id,
                salt=salt,
            )
        )
    return msgid


def test_a_send_cut_off_over_smtp_is_uncertain_and_never_resent(
    book: Path, smtp: SmtpServer
) -> None:
    assert _salted(book) == ""  # nothing was sent, so nothing was saved
    # The run died with ESCALATION's "sending" on disk, before its workbook save: the salt it
    # made is only in the journal.
    msgid = _crashed(book, ESCALATION, "sending", "f00dfeed")
    report = send(book, [ESCALATION, OWNER], smtp_url(smtp))
    assert [(o.key, o.status) for o in report.outcomes] == [
        ("escalate-T0007", "uncertain"),
        ("rule-r004-d0002-negotiation", "sent"),
    ]
    assert "look in the sent items — it is not sent again" in report.outcomes[0].error
    assert [m["Subject"] for m in received(smtp)] == ["Deal D0002 is now in Negotiation"]
    logged = emails(book)
    assert logged[0]["message_id"] == msgid
    assert logged[0]["summary"] == "内部通知：发送结果不确定，请查看已发送邮件"
    with open_book(book) as wb:
        assert wb.state[SALT_STATE_KEY] == "f00dfeed"  # the crashed run's ids stay its ids

    again = send(book, [ESCALATION, OWNER], smtp_url(smtp))
    assert [o.status for o in again.outcomes] == ["already", "already"]
    assert len(smtp.messages) == 1


def test_a_notice_sent_before_a_crash_is_recorded_not_resent(book: Path, smtp: SmtpServer) -> None:
    send(book, [OWNER], smtp_url(smtp))  # the workbook has its salt now
    with open_book(book) as wb:
        salt = wb.state[SALT_STATE_KEY]
    _crashed(book, ESCALATION, "sending", salt)
    msgid = _crashed(book, ESCALATION, "sent", salt)
    # Nobody asks for ESCALATION again: the journal alone gets it recorded.
    report = send(book, [], smtp_url(smtp))
    assert [(o.key, o.status) for o in report.outcomes] == [("escalate-T0007", "recovered")]
    assert len(smtp.messages) == 1
    logged = [r for r in emails(book) if r["message_id"] == msgid]
    assert [(r["ticket_id"], r["subject"]) for r in logged] == [
        ("T0007", "工单 T0007 已超时：门店 POS 无法开票")
    ]


def test_exchange_sent_items_settle_an_interrupted_send(tmp_path: Path, ews: object) -> None:
    book = make_crm(tmp_path / "crm.xlsx", "en")
    url = ews.url()  # type: ignore[attr-defined]
    sender = f"Xinghe CRM <{ews.address}>"  # type: ignore[attr-defined]
    send(book, [OWNER], url, sender=sender)
    assert len(ews.outbox) == 1  # type: ignore[attr-defined]
    with open_book(book) as wb:
        salt = wb.state[SALT_STATE_KEY]
    # A run handed ESCALATION to Exchange and died: it is in Sent Items, the journal says
    # "sending". Another notice's "sending" never reached Exchange.
    gone = ESCALATION
    stuck = Notice("digest-li-na", "li.na@xinghe.example", "Reminders", "3 items\n")
    msgid = notice_message_id(salt, gone.key, sender)
    message = email.message.EmailMessage(policy=email.policy.SMTP)
    message["From"], message["To"], message["Subject"] = sender, gone.to, gone.subject
    message["Message-ID"] = f"<{msgid}>"
    message.set_content(gone.text)
    ews.add_message("sentitems", message.as_bytes())  # type: ignore[attr-defined]
    with NoticeJournal(book) as journal:
        for notice in (gone, stuck):
            journal.append(  # type: ignore[arg-type]
                NoticeEntry(
                    notice.key,
                    "sending",
                    notice_message_id(salt, notice.key, sender),
                    notice.to,
                    notice.subject,
                    NOW.isoformat(),
                    salt=salt,
                )
            )
    report = send(book, [gone, stuck], url, sender=sender)
    assert [(o.key, o.status) for o in report.outcomes] == [
        ("escalate-T0007", "recovered"),
        ("digest-li-na", "sent"),
    ]
    assert len(ews.outbox) == 2  # type: ignore[attr-defined]  # only the stuck one went
    assert {r["subject"] for r in emails(book)} >= {gone.subject, "Reminders"}


def test_a_run_that_read_the_workbook_before_another_saved_sends_nothing(
    book: Path, smtp: SmtpServer
) -> None:
    early = open_book(book)
    try:
        early.table("interactions")  # read before the other run saved
        send(book, [OWNER], smtp_url(smtp))
        with pytest.raises(WorkbookChangedError, match="changed on disk after xlcrm read it"):
            send_notices(early, book, [OWNER], transport_url=smtp_url(smtp), dry_run=False)
    finally:
        early.close()
    assert len(smtp.messages) == 1


def test_the_team_list_maps_names_to_addresses(book: Path) -> None:
    with open_book(book) as wb:
        team = read_team(wb)
        assert [(m.name, m.email) for m in team.members] == [
            ("王伟", "wang.wei@xinghe.example"),
            ("Li Na", "li.na@xinghe.example"),
        ]
        assert team.address_of("王伟") == "wang.wei@xinghe.example"
        assert team.address_of(" li  NA ") == "li.na@xinghe.example"
        assert team.address_of("Ｌｉ Ｎａ") == "li.na@xinghe.example"  # full-width
        assert team.address_of("Zhang <zhang@xinghe.example>") == "zhang@xinghe.example"
        assert team.address_of("张强") is None and team.address_of(None) is None
        write_settings(wb, {"team": "王伟 <wang.wei@xinghe.example>; 张强"})
        cell = wb.table("settings").where_of("团队成员", "value")
    with open_book(book) as wb, pytest.raises(ValueProblem) as error:
        read_team(wb)
    assert str(error.value).startswith(
        f"{cell}: '张强' in the team list has no e-mail address\n  hint: write each person as"
    )
