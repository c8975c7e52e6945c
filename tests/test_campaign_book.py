"""Campaigns on an open workbook, the way the ribbon service runs them: a preview the task pane
shows, a test message, and sending in claim → send batches with the whole record in the
workbook — each customer mailed once even when a batch's answer never reaches the workbook.

Nothing is mocked: the SMTP server (aiosmtpd, STARTTLS and AUTH) and our EWS server run on
loopback, and the workbook is a real .xlsx opened with the file backend, whose Book API is the
remote backend's. "The client applied the answer" is a save; "the answer was lost" is
``book.discard()`` instead.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers.smtp import SmtpServer
from test_campaign_send import (
    PASSWORD,
    TEMPLATE,
    USER,
    delivered,
    make_book,
    options,
    sends,
    smtp_url,
)

from addin.campaigns import send_batch
from addin.campaigns.batches import BatchResult, ClaimLedger, claim_key
from addin.campaigns.steps import list_templates, preview_campaign, send_test
from addin.workbook import open_book
from sync.open import open_transport

EVERYONE = {f"c{n}@customer{n}.example" for n in range(1, 9)}
LEDGER = ClaimLedger()  # this module's "service process"


@pytest.fixture
def template(tmp_path: Path) -> Path:
    """tests/test_campaign_send.py's campaign template, in a folder of its own."""
    folder = tmp_path / "spring"
    folder.mkdir()
    (folder / "en.html").write_text(TEMPLATE, encoding="utf-8")
    return folder


@pytest.fixture
def smtp_login() -> tuple[str, str]:
    """The campaign sender's mailbox (conftest's ``smtp`` accepts it)."""
    return USER, PASSWORD


@pytest.fixture
def transport(smtp: SmtpServer) -> Iterator[object]:
    """One SMTP connection for the whole test, as the service holds one per call."""
    opened = open_transport(smtp_url(smtp))
    yield opened
    opened.close()


def batch(
    path: Path, folder: Path, transport: object, claim: str | None = None, **changes: object
) -> BatchResult:
    """One call, its answer applied (saved)."""
    with open_book(path) as book:
        return send_batch(
            book, options(folder, **changes), transport, claim=claim, limit=3, ledger=LEDGER
        )


def lost(path: Path, folder: Path, transport: object, claim: str | None = None) -> BatchResult:
    """One call whose answer never reaches the workbook."""
    book = open_book(path)
    try:
        return send_batch(book, options(folder), transport, claim=claim, limit=3, ledger=LEDGER)
    finally:
        book.discard()
        book.close()


def run_to_the_end(path: Path, folder: Path, transport: object) -> list[BatchResult]:
    """Claim and send, each answer applied, until a claim says there is nothing to do."""
    results = []
    for _ in range(20):
        claimed = batch(path, folder, transport)
        results.append(claimed)
        if claimed.status != "claimed":
            return results
        results.append(batch(path, folder, transport, claim=claimed.claim))
    raise AssertionError(f"the campaign did not finish: {results[-1]}")


# -- preview and test ---------------------------------------------------------------------------


def test_preview_shows_counts_problems_and_messages_and_changes_nothing(
    tmp_path: Path,
    template: Path,
) -> None:
    path = make_book(tmp_path / "crm.xlsx")
    with open_book(path) as book:
        book.table("customers").update("C0001", {"name": "张伟", "company": "华东贸易有限公司"})
        book.table("customers").update("C0003", {"company": None})
    before = path.read_bytes()
    with open_book(path) as book:
        preview = preview_campaign(
            book,
            options(template, where='tier == "A" or company == "Unsub Ltd"'),
            samples=2,
        )
        assert not book.dirty
    assert path.read_bytes() == before
    assert not (tmp_path / "campaign-preview").exists()  # no file, unlike the CLI's preview
    assert (preview.selected, preview.would_send) == (5, 3)  # C0001, C0005, C0007
    assert preview.skipped == Counter({"unsubscribed": 1})
    assert preview.problems == [
        {"customer_id": "C0003", "where": "Customers!C0003", "what": "customer.company is empty"}
    ]
    first, second = preview.samples
    assert (first.customer_id, first.name, first.to) == (
        "C0001",
        "张伟",
        "张伟 <c1@customer1.example>",
    )
    assert first.subject == "华东贸易有限公司: the spring offer"
    assert "has a spring offer for 华东贸易有限公司." in (first.html or "")
    assert f'href="mailto:{USER}?subject=unsubscribe%20C0001-' in (first.html or "")
    assert "Dear" in (first.text or "") and "张伟" in (first.text or "")
    assert second.customer_id == "C0005" and second.subject == "Company 5: the spring offer"
    shown = json.loads(json.dumps(preview.as_dict(), ensure_ascii=False))
    assert shown["would_send"] == 3 and shown["samples"][0]["to"] == "张伟 <c1@customer1.example>"


def test_the_template_list_has_our_own_before_the_shipped_ones(
    tmp_path: Path,
    template: Path,
) -> None:
    own = tmp_path / "emails" / "promotion"
    own.mkdir(parents=True)
    (own / "zh.html").write_text(
        '---\nsubject: "{{ customer.company }}，春季优惠"\n---\n<p>好</p>\n'
    )
    listed = list_templates("zh", near=(tmp_path,))
    by_name = {t["name"]: t for t in listed}
    assert by_name["spring"] == {
        "name": "spring",
        "kind": "own",
        "subject": "{{ customer.company }}: the spring offer",
    }
    assert by_name["emails/promotion"] == {
        "name": "emails/promotion",
        "kind": "own",
        "subject": "{{ customer.company }}，春季优惠",
    }
    assert {t["kind"] for t in listed if t["name"] == "emails/welcome"} == {"shipped"}
    assert all(t.get("subject") for t in listed if t["kind"] == "shipped")
    assert [t["name"] for t in listed].count("emails/promotion") == 1


def test_a_test_message_goes_to_the_tester_only(
    tmp_path: Path,
    template: Path,
    smtp: SmtpServer,
    transport: object,
) -> None:
    path = make_book(tmp_path / "crm.xlsx", customers=3)
    before = path.read_bytes()
    with open_book(path) as book:
        sent = send_test(book, options(template, test_to="me@xinghe.example"), transport)
        assert not book.dirty
    assert (sent.customer_id, sent.to) == ("C0001", "me@xinghe.example")
    [message] = smtp.messages
    assert message.rcpt_tos == ["me@xinghe.example"]
    parsed = email.message_from_bytes(message.content, policy=email.policy.default)
    assert parsed["Subject"] == sent.subject == "[TEST] Company 1: the spring offer"
    assert path.read_bytes() == before


# -- sending in batches -------------------------------------------------------------------------


def test_claim_then_send_until_done_mails_everyone_once(
    tmp_path: Path,
    template: Path,
    smtp: SmtpServer,
    transport: object,
) -> None:
    path = make_book(tmp_path / "crm.xlsx")
    results = run_to_the_end(path, template, transport)
    first = results[0]
    assert (first.status, first.claimed, first.sent) == ("claimed", 3, 0)
    assert (first.total, first.done, first.remaining) == (8, 0, 8)
    assert first.skipped == Counter(
        {"unsubscribed": 1, "bounced": 1, "no e-mail address": 1, "invalid address": 1}
    )
    assert [r.status for r in results] == ["claimed", "sent"] * 2 + ["claimed", "done", "done"]
    assert [r.sent for r in results if r.sent] == [3, 3, 2]
    assert [(r.done, r.remaining) for r in results[1::2]] == [(3, 5), (6, 2), (8, 0)]
    assert delivered(smtp) == Counter(dict.fromkeys(EVERYONE, 1))
    rows = sends(path)
    assert {rows[f"C{n:04d}"]["status"] for n in range(1, 9)} == {"sent"}
    first_message = email.message_from_bytes(smtp.messages[0].content, policy=email.policy.default)
    assert rows["C0001"]["message_id"] == first_message["Message-ID"]
    assert (rows["C0009"]["status"], rows["C0009"]["error"]) == ("skipped", "unsubscribed")
    with open_book(path) as book:
        assert claim_key("spring-2027") not in book.state
        logged = [r for r in book.table("interactions").rows() if r["kind"] == "email"]
    assert len(logged) == 8 and {r["subject"] for r in logged} >= {"Company 1: the spring offer"}


def test_a_claim_sends_nothing_and_a_replayed_claim_sends_nothing(
    tmp_path: Path,
    template: Path,
    smtp: SmtpServer,
    transport: object,
) -> None:
    path = make_book(tmp_path / "crm.xlsx", customers=4)
    claimed = batch(path, template, transport)
    assert claimed.status == "claimed" and smtp.messages == []
    rows = sends(path)
    assert [rows[f"C{n:04d}"]["status"] for n in range(1, 5)] == ["sending"] * 3 + ["queued"]
    assert rows["C0001"]["message_id"].startswith("<xlcrm.")
    assert batch(path, template, transport, claim=claimed.claim).sent == 3
    replayed = batch(path, template, transport, claim=claimed.claim)
    assert (replayed.status, replayed.sent) == ("stale", 0)
    assert "nothing was sent" in (replayed.note or "")
    assert batch(path, template, transport, claim="made-up").status == "stale"
    assert len(smtp.messages) == 3


def test_a_send_call_arriving_twice_before_its_answer_is_applied_sends_once(
    tmp_path: Path,
    template: Path,
    smtp: SmtpServer,
    transport: object,
) -> None:
    """The workbook still holds the claim (the first answer was not applied yet), so only the
    service's memory of spent claims can tell; the next claim settles the batch."""
    path = make_book(tmp_path / "crm.xlsx", customers=3)
    claimed = batch(path, template, transport)
    assert lost(path, template, transport, claim=claimed.claim).sent == 3
    again = lost(path, template, transport, claim=claimed.claim)
    assert (again.status, again.sent) == ("stale", 0)
    assert "sent already" in (again.note or "")
    assert delivered(smtp) == Counter({f"c{n}@customer{n}.example": 1 for n in (1, 2, 3)})


def test_a_lost_batch_is_settled_as_uncertain_over_smtp_and_never_resent(
    tmp_path: Path,
    template: Path,
    smtp: SmtpServer,
    transport: object,
) -> None:
    path = make_book(tmp_path / "crm.xlsx", customers=5)
    claimed = batch(path, template, transport)
    assert lost(path, template, transport, claim=claimed.claim).sent == 3
    assert {sends(path)[f"C{n:04d}"]["status"] for n in (1, 2, 3)} == {"sending"}

    settled = batch(path, template, transport)
    assert [u.customer_id for u in settled.uncertain] == ["C0001", "C0002", "C0003"]
    assert "may have been delivered" in settled.uncertain[0].error
    assert (settled.status, settled.claimed) == ("claimed", 2)  # C0004, C0005
    assert len(smtp.messages) == 3
    assert batch(path, template, transport, claim=settled.claim).status == "done"
    assert delivered(smtp) == Counter({f"c{n}@customer{n}.example": 1 for n in range(1, 6)})
    rows = sends(path)
    for customer in ("C0001", "C0002", "C0003"):
        assert rows[customer]["status"] == "failed"
        assert rows[customer]["error"].startswith("interrupted while sending: it may have been")
    assert batch(path, template, transport).status == "done"  # not resent on a guess
    assert len(smtp.messages) == 5

    # A person checked the sent items and asks for them again.
    retry = batch(path, template, transport, retry_failed=True)
    assert retry.claimed == 3
    assert batch(path, template, transport, claim=retry.claim).sent == 3
    assert delivered(smtp)["c1@customer1.example"] == 2


def test_a_lost_batch_is_settled_from_the_exchange_sent_items(
    tmp_path: Path,
    template: Path,
    ews: object,
) -> None:
    path = make_book(tmp_path / "crm.xlsx", customers=2)
    sender = f"Xinghe Sales <{ews.address}>"  # type: ignore[attr-defined]
    exchange = open_transport(ews.url())  # type: ignore[attr-defined]
    try:
        with open_book(path) as book:
            claimed = send_batch(book, options(template, sender=sender), exchange, claim=None)
        assert claimed.claimed == 2
        book = open_book(path)
        sent = send_batch(book, options(template, sender=sender), exchange, claim=claimed.claim)
        assert sent.sent == 2
        book.discard()
        book.close()
        assert len(ews.outbox) == 2  # type: ignore[attr-defined]
        with open_book(path) as book:
            settled = send_batch(book, options(template, sender=sender), exchange, claim=None)
    finally:
        exchange.close()
    assert (settled.status, settled.recovered, settled.uncertain) == ("done", 2, [])
    assert (settled.total, settled.done, settled.remaining) == (2, 2, 0)
    assert len(ews.outbox) == 2  # type: ignore[attr-defined]
    rows = sends(path)
    assert {rows["C0001"]["status"], rows["C0002"]["status"]} == {"sent"}
    sent_ids = {email.message_from_bytes(t.mime)["Message-ID"] for t in ews.outbox}  # type: ignore[attr-defined]
    assert sent_ids == {rows["C0001"]["message_id"], rows["C0002"]["message_id"]}


def test_limits_say_when_to_run_again(
    tmp_path: Path,
    template: Path,
    smtp: SmtpServer,
    transport: object,
) -> None:
    path = make_book(tmp_path / "crm.xlsx", customers=4)
    early = dt.datetime(2027, 3, 1, 7, 30)
    waiting = batch(path, template, transport, hours="09:00-18:00", now=lambda: early)
    assert (waiting.status, waiting.claimed) == ("waiting", 0)
    assert "outside the sending hours (09:00–18:00)" in (waiting.stopped or "")
    assert waiting.retry_at == dt.datetime(2027, 3, 1, 9, 0)

    ten = early.replace(hour=10)
    claimed = batch(path, template, transport, per_day=2, now=lambda: ten)
    assert claimed.claimed == 2
    batch(path, template, transport, claim=claimed.claim, per_day=2, now=lambda: ten)
    capped = batch(path, template, transport, per_day=2, now=lambda: ten)
    assert capped.status == "waiting" and "daily limit of 2" in (capped.stopped or "")
    assert capped.retry_at == dt.datetime(2027, 3, 2, 0, 0)
    assert (capped.done, capped.remaining) == (2, 2)

    later = ten + dt.timedelta(seconds=20)
    minute = batch(path, template, transport, per_minute=2, now=lambda: later)
    assert minute.status == "waiting" and "2 messages a minute" in (minute.stopped or "")
    assert minute.retry_at == ten + dt.timedelta(seconds=60)
    assert len(smtp.messages) == 2


def test_a_server_that_keeps_failing_stops_the_batch_and_leaves_it_queued(
    tmp_path: Path,
    template: Path,
    smtp: SmtpServer,
    transport: object,
) -> None:
    path = make_book(tmp_path / "crm.xlsx", customers=3)
    smtp.answer("MAIL", "452 4.3.1 Insufficient system storage", times=9)
    claimed = batch(path, template, transport)
    stopped = batch(path, template, transport, claim=claimed.claim)
    assert (stopped.status, stopped.sent, stopped.retry_later) == ("sent", 0, 3)
    assert "keeps failing" in (stopped.stopped or "") and stopped.retry_at is not None
    assert {sends(path)[f"C{n:04d}"]["status"] for n in (1, 2, 3)} == {"queued"}
    results = run_to_the_end(path, template, transport)
    assert results[-1].status == "done"
    assert delivered(smtp) == Counter({f"c{n}@customer{n}.example": 1 for n in (1, 2, 3)})
