"""Campaigns end to end: preview, send through a real SMTP server (aiosmtpd on loopback with
STARTTLS and AUTH) and our EWS server, drafts into a Maildir, and the guarantees a sender must
keep — one message per recipient even when the sender is killed, none to unsubscribed or
bounced customers, limits, retries, and the workbook never left half-written.

Nothing is mocked: the SMTP and EWS servers speak the protocols to the real client libraries,
the workbook is a real .xlsx, and the kill test kills a real ``xlcrm campaign`` process.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import functools
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from books import blank_workbook, built_once
from servers.smtp import SmtpServer
from servers.tcp_cut import HOST, Certificate, TcpCut

from addin.campaigns import CampaignOptions, CampaignReport
from addin.campaigns import run as campaign_run
from addin.campaigns import run_campaign as run_campaign_on
from addin.errors import UsageError
from addin.journal import Entry, Journal, journal_path
from addin.mailsync import SyncOptions, sync_mailbox
from addin.settings import write_settings
from addin.templating import TemplateProblems
from addin.workbook import open_book
from sync.open import open_mailbox
from sync.smtp import SmtpTransport

USER = "sales@xinghe.example"
PASSWORD = "发信密码-2027"
SENDER = f"星河软件 <{USER}>"
TEMPLATE = """---
subject: "{{ customer.company }}: the spring offer"
---
<html><head><style>p { color: #333; }</style></head><body>
<p>{{ customer | salutation }},</p>
<p>{{ company.name }} has a spring offer for {{ customer.company }}.</p>
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>
</body></html>
"""


@pytest.fixture
def template(tmp_path: Path) -> Path:
    folder = tmp_path / "spring"
    folder.mkdir()
    (folder / "en.html").write_text(TEMPLATE, encoding="utf-8")
    return folder


@built_once
def make_book(path: Path, customers: int = 8) -> Path:
    """C0001… mailable; then one unsubscribed, one bounced, one without and one with a broken
    address."""
    blank_workbook(path, "en")
    with open_book(path) as book:
        write_settings(book, {"company_name": "Xinghe Software", "sender": SENDER})
        rows = [
            {
                "name": f"Customer {n}",
                "company": f"Company {n}",
                "email": f"c{n}@customer{n}.example",
                "tier": "A" if n % 2 else "B",
            }
            for n in range(1, customers + 1)
        ]
        rows += [
            {
                "name": "Gone",
                "company": "Unsub Ltd",
                "email": "u@unsub.example",
                "unsubscribed": True,
            },
            {
                "name": "Bounce",
                "company": "Bounce Ltd",
                "email": "b@bounce.example",
                "bounced": "b@bounce.example",
            },
            {"name": "Nomail", "company": "No Mail Ltd"},
            {"name": "Broken", "company": "Broken Ltd", "email": "not-an-address"},
        ]
        book.table("customers").insert_all(rows)
    return path


@pytest.fixture
def trusted(certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.ca))
    monkeypatch.setenv("XLCRM_PASSWORD", PASSWORD)


@pytest.fixture
def smtp_login() -> tuple[str, str]:
    """The campaign sender's mailbox (conftest's ``smtp`` accepts it)."""
    return USER, PASSWORD


def smtp_url(server: SmtpServer) -> str:
    return f"smtp://{USER}@127.0.0.1:{server.port}"


def options(template: Path, **changes: object) -> CampaignOptions:
    base = CampaignOptions(template=str(template), name="spring-2027", backoff=0.01)
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def run_campaign(path: Path, options: CampaignOptions) -> CampaignReport:
    """The caller owns the book; sending saves as it goes (what left must be on disk)."""
    with open_book(path) as book:
        return run_campaign_on(book, options)


def sends(path: Path) -> dict[str, dict]:
    with open_book(path) as book:
        return {r["customer_id"]: r for r in book.table("sends").rows()}


def delivered(server: SmtpServer) -> Counter[str]:
    return Counter(a for m in server.messages for a in m.rcpt_tos)


def test_preview_writes_samples_and_changes_nothing(tmp_path: Path, template: Path) -> None:
    book = make_book(tmp_path / "crm.xlsx")
    before = book.read_bytes()
    report = run_campaign(book, options(template, where='tier == "A" or company == "Unsub Ltd"'))
    assert report.mode == "preview" and report.selected == 5
    assert report.ready == 4 and report.skipped == Counter({"unsubscribed": 1})
    assert book.read_bytes() == before and not journal_path(book).exists()
    assert report.preview_index is not None and report.preview_index.is_file()
    assert len(report.preview_files) == 4
    sample = email.message_from_bytes(
        report.preview_files[0].read_bytes(), policy=email.policy.default
    )
    assert sample["Subject"] == "Company 1: the spring offer"
    assert sample["To"] == "Customer 1 <c1@customer1.example>"
    assert "Dear Customer 1" in sample.get_body(("plain",)).get_content()
    index = report.preview_index.read_text(encoding="utf-8")
    assert "Company 1: the spring offer" in index and "would send 4 message(s)" in index


def test_send_mails_each_customer_once_over_one_connection(
    tmp_path: Path, template: Path, smtp: SmtpServer
) -> None:
    book = make_book(tmp_path / "crm.xlsx")
    report = run_campaign(book, options(template, mode="send", transport=smtp_url(smtp)))
    assert report.sent == 8 and not report.failed and not report.warnings
    assert report.skipped == Counter(
        {"unsubscribed": 1, "bounced": 1, "no e-mail address": 1, "invalid address": 1}
    )
    assert delivered(smtp) == Counter({f"c{n}@customer{n}.example": 1 for n in range(1, 9)})
    assert smtp.connections == 1 and smtp.logins == 1
    assert all(m.tls and m.login == USER for m in smtp.messages)
    first = email.message_from_bytes(smtp.messages[0].content, policy=email.policy.default)
    assert first["From"].addresses[0].display_name == "星河软件"
    assert first["List-Unsubscribe"].startswith(f"<mailto:{USER}?subject=unsubscribe%20C0001-")
    rows = sends(book)
    assert {rows[c]["status"] for c in ("C0001", "C0008")} == {"sent"}
    assert rows["C0001"]["message_id"] == first["Message-ID"]
    assert isinstance(rows["C0001"]["sent_at"], dt.datetime)
    assert (rows["C0009"]["status"], rows["C0009"]["error"]) == ("skipped", "unsubscribed")
    assert (rows["C0012"]["status"], rows["C0012"]["error"]) == ("skipped", "invalid address")
    with open_book(book) as wb:
        logged = [r for r in wb.table("interactions").rows() if r["kind"] == "email"]
    assert len(logged) == 8 and {r["direction"] for r in logged} == {"out"}
    assert not journal_path(book).read_text()  # folded into the workbook

    again = run_campaign(book, options(template, mode="send", transport=smtp_url(smtp)))
    assert again.sent == 0 and again.already == Counter({"sent": 8, "skipped": 4})
    assert len(smtp.messages) == 8


def test_problems_are_all_reported_before_anything_is_sent(
    tmp_path: Path, template: Path, smtp: SmtpServer
) -> None:
    book = make_book(tmp_path / "crm.xlsx")
    with open_book(book) as wb:
        wb.table("customers").update("C0002", {"company": None})
        wb.table("customers").update("C0005", {"company": None})
    before = book.read_bytes()
    with pytest.raises(TemplateProblems) as error:
        run_campaign(book, options(template, mode="send", transport=smtp_url(smtp)))
    text = str(error.value)
    assert "Customers!C0002: customer.company is empty" in text
    assert "Customers!C0005: customer.company is empty" in text
    assert "nothing was sent" in text
    assert smtp.messages == [] and book.read_bytes() == before

    report = run_campaign(
        book, options(template, mode="send", transport=smtp_url(smtp), skip_invalid=True)
    )
    assert report.sent == 6 and report.skipped["template problem"] == 2
    assert sends(book)["C0002"]["error"] == "customer.company is empty"


def test_temporary_failures_are_retried_and_permanent_ones_recorded(
    tmp_path: Path, template: Path, certificate: Certificate, trusted: None
) -> None:
    book = make_book(tmp_path / "crm.xlsx", customers=4)
    with SmtpServer(
        certificate, mode="starttls", users={USER: PASSWORD}, refuse={"c3@customer3.example"}
    ) as server:
        server.answer("DATA", "451 4.3.0 Please try again later")
        report = run_campaign(book, options(template, mode="send", transport=smtp_url(server)))
    assert report.sent == 3
    assert [f.customer_id for f in report.failed] == ["C0003"]
    assert "550 5.1.1" in report.failed[0].error and "User unknown" in report.failed[0].error
    assert delivered(server) == Counter(
        {a: 1 for a in ("c1@customer1.example", "c2@customer2.example", "c4@customer4.example")}
    )
    row = sends(book)["C0003"]
    assert row["status"] == "failed" and "User unknown" in row["error"]


def test_a_server_that_keeps_failing_stops_the_run_and_the_next_run_continues(
    tmp_path: Path, template: Path, smtp: SmtpServer
) -> None:
    book = make_book(tmp_path / "crm.xlsx", customers=6)
    smtp.answer("MAIL", "452 4.3.1 Insufficient system storage", times=9)
    report = run_campaign(book, options(template, mode="send", transport=smtp_url(smtp)))
    assert report.sent == 0 and report.stopped and "keeps failing" in report.stopped
    assert report.remaining == 3 and report.retry_later == 3
    assert {r["status"] for r in sends(book).values() if r["email"]} >= {"queued"}
    later = run_campaign(book, options(template, mode="send", transport=smtp_url(smtp)))
    assert later.sent == 6
    assert delivered(smtp) == Counter({f"c{n}@customer{n}.example": 1 for n in range(1, 7)})


def campaign_command(book: Path, template: Path, transport: str, *extra: str) -> list[str]:
    """``xlcrm campaign BOOK --send`` as a user runs it, in a process of its own."""
    return [
        sys.executable,
        "-m",
        "addin",
        "campaign",
        str(book),
        "--template",
        str(template),
        "--name",
        "spring-2027",
        "--send",
        "--transport",
        transport,
        "--json",
        *extra,
    ]


@pytest.mark.slow  # kills a real process mid-campaign
def test_killed_mid_campaign_the_resumed_run_never_mails_anyone_twice(
    tmp_path: Path, template: Path, smtp: SmtpServer
) -> None:
    book = make_book(tmp_path / "crm.xlsx", customers=60)
    command = campaign_command(book, template, smtp_url(smtp))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(smtp.messages) < 15 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read()  # type: ignore[union-attr]
    first = len(smtp.messages)
    assert 15 <= first < 60, "the sender was not killed mid-campaign"
    assert journal_path(book).read_text(), "the journal holds the killed run's sends"

    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    report = json.loads(result.stdout)
    counts = delivered(smtp)
    assert max(counts.values()) == 1, "a customer got the campaign twice"
    assert "u@unsub.example" not in counts and "b@bounce.example" not in counts
    uncertain = {u["customer_id"] for u in report["uncertain"]}
    assert len(uncertain) <= 1  # at most the one message in flight when the sender died
    got = {f"C{n:04d}" for n in range(1, 61) if counts[f"c{n}@customer{n}.example"] == 1}
    assert got | uncertain == {f"C{n:04d}" for n in range(1, 61)}
    rows = sends(book)
    assert {c for c, r in rows.items() if r["status"] == "sent"} == got - uncertain
    for customer in uncertain:  # it may have left: reported, and not sent again on a guess
        assert rows[customer]["status"] == "failed"
        assert "may have been delivered" in rows[customer]["error"]
    assert result.returncode == (1 if uncertain else 0), result.stderr


class InterruptedAfter(SmtpTransport):
    """The SMTP transport interrupted once message ``n`` was taken by the server and before
    the sender heard so (Ctrl-C by default; ``error``: an unexpected error such as a full
    disk): the run stops with a message handed over and no outcome."""

    def __init__(self, url: str, n: int, error: BaseException | None = None) -> None:
        super().__init__(url)
        self.n = n
        self.error = error or KeyboardInterrupt()

    @functools.wraps(SmtpTransport.send)  # the same parameters: the outbox looks at them
    def send(self, *args: Any, **kwargs: Any) -> None:
        super().send(*args, **kwargs)
        self.n -= 1
        if self.n == 0:
            raise self.error


def test_ctrl_c_after_a_message_left_keeps_it_for_the_next_run_to_settle(
    tmp_path: Path, template: Path, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run stops on Ctrl-C with customer 2's message taken by the server but unconfirmed.
    The journal is folded into the workbook as the run ends, yet that send's line stays in it
    for the next run, which finds it handed over and, over SMTP, reports it instead of sending
    it again: every customer gets the campaign once."""
    book = make_book(tmp_path / "crm.xlsx", customers=4)
    real = campaign_run.open_transport
    monkeypatch.setattr(campaign_run, "open_transport", lambda url, **kw: InterruptedAfter(url, 2))
    with pytest.raises(KeyboardInterrupt):
        run_campaign(book, options(template, mode="send", transport=smtp_url(smtp)))
    assert sends(book)["C0002"]["status"] == "sending"  # what a person opening the book sees
    assert journal_path(book).read_text().count('"C0002"') == 1  # its line, kept
    monkeypatch.setattr(campaign_run, "open_transport", real)

    again = run_campaign(book, options(template, mode="send", transport=smtp_url(smtp)))
    assert max(delivered(smtp).values()) == 1, "a customer got the campaign twice"
    assert [u.customer_id for u in again.uncertain] == ["C0002"]
    assert {c: r["status"] for c, r in sends(book).items() if c <= "C0004"} == {
        "C0001": "sent",
        "C0002": "failed",  # "may have been delivered": a person decides
        "C0003": "sent",
        "C0004": "sent",
    }


def test_a_sending_row_without_its_journal_line_is_never_sent_on_a_guess(
    tmp_path: Path, template: Path, smtp: SmtpServer
) -> None:
    """The workbook says ``sending`` and the journal has no line for it (lost with the machine
    between a fold and the next write): it may have been handed over, so it is settled as if
    it had — over SMTP, reported — and not sent again."""
    book = make_book(tmp_path / "crm.xlsx", customers=2)
    run_campaign(book, options(template, mode="send", transport=smtp_url(smtp)))
    with open_book(book) as wb:
        wb.table("sends").update(("spring-2027", "C0002"), {"status": "sending"})
        wb.save()
    smtp.messages.clear()
    again = run_campaign(book, options(template, mode="send", transport=smtp_url(smtp)))
    assert smtp.messages == []
    assert [u.customer_id for u in again.uncertain] == ["C0002"]
    assert "may have been delivered" in sends(book)["C0002"]["error"]


def test_an_interrupted_send_is_settled_not_repeated(
    tmp_path: Path, template: Path, smtp: SmtpServer
) -> None:
    """A run died between 'sending' and the server's answer: SMTP cannot say whether the
    message left, so it is reported and only sent again when a person says so."""
    book = make_book(tmp_path / "crm.xlsx", customers=2)
    first = run_campaign(book, options(template, mode="send", transport=smtp_url(smtp)))
    assert first.sent == 2
    with open_book(book) as wb:
        wb.table("sends").update(("spring-2027", "C0002"), {"status": "queued"})
    with Journal(book) as journal:
        journal.append(Entry("spring-2027", "C0002", "sending", "c2@customer2.example", "<x@y>"))
    report = run_campaign(book, options(template, mode="send", transport=smtp_url(smtp)))
    assert report.sent == 0 and [u.customer_id for u in report.uncertain] == ["C0002"]
    row = sends(book)["C0002"]
    assert row["status"] == "failed" and "may have been delivered" in row["error"]
    retry = run_campaign(
        book, options(template, mode="send", transport=smtp_url(smtp), retry_failed=True)
    )
    assert retry.sent == 1 and delivered(smtp)["c2@customer2.example"] == 2


def test_a_line_dropped_after_the_message_was_handed_over_is_not_sent_again(
    tmp_path: Path, template: Path, certificate: Certificate
) -> None:
    """The server had the whole message when the line dropped (a real TCP proxy cuts it just
    after the server began to answer "250 queued"): SMTP cannot tell whether it was taken,
    so the send is uncertain, never retried on a guess; the campaign goes on."""
    book = make_book(tmp_path / "crm.xlsx", customers=3)
    replies = len(b"250 OK\r\n") * 2 + len(b"354 End data with <CR><LF>.<CR><LF>\r\n") + 1
    # Counted from the end of message 1: without PIPELINING message 2's envelope replies come
    # after it (with it, they ride with message 1's "250" and the count would race them).
    with (
        SmtpServer(certificate, mode="plain", pipelining=False) as server,
        TcpCut(HOST, server.port) as proxy,
    ):

        def cut_the_second(done: int, total: int) -> None:
            if done == 1:
                proxy.cut(after=replies)
            elif done == 2:
                proxy.cut(after=10**12)  # the network is back

        report = run_campaign(
            book,
            options(
                template,
                mode="send",
                transport=f"smtp://{HOST}:{proxy.port}",
                progress=cut_the_second,
            ),
        )
    assert proxy.cuts == 1
    assert delivered(server) == Counter({f"c{n}@customer{n}.example": 1 for n in (1, 2, 3)})
    assert report.sent == 2 and [u.customer_id for u in report.uncertain] == ["C0002"]
    row = sends(book)["C0002"]
    assert row["status"] == "failed" and "may have been delivered" in row["error"]


def test_limits_and_sending_hours(tmp_path: Path, template: Path, smtp: SmtpServer) -> None:
    book = make_book(tmp_path / "crm.xlsx", customers=5)
    monday = dt.datetime(2027, 3, 1, 7, 30)
    early = run_campaign(
        book,
        options(
            template, mode="send", transport=smtp_url(smtp), hours="09:00-18:00", now=lambda: monday
        ),
    )
    assert early.sent == 0 and "outside the sending hours (09:00–18:00)" in (early.stopped or "")
    assert early.remaining == 5

    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    ten = monday.replace(hour=10)
    capped = run_campaign(
        book,
        options(
            template,
            mode="send",
            transport=smtp_url(smtp),
            per_day=3,
            per_minute=2,
            now=lambda: ten,
            monotonic=lambda: clock[0],
            sleep=sleep,
        ),
    )
    assert capped.sent == 3 and "daily limit of 3" in (capped.stopped or "")
    assert slept == [60.0]  # the third message waited for the minute window
    tuesday = ten + dt.timedelta(days=1)
    rest = run_campaign(
        book,
        options(template, mode="send", transport=smtp_url(smtp), per_day=3, now=lambda: tuesday),
    )
    assert rest.sent == 2 and len(smtp.messages) == 5


def test_a_workbook_locked_mid_run_keeps_the_journal_for_the_next_run(
    tmp_path: Path, template: Path, smtp: SmtpServer
) -> None:
    book = make_book(tmp_path / "crm.xlsx", customers=4)
    lock = book.with_name("~$" + book.name)

    def excel_opens_it(done: int, total: int) -> None:
        if done == 2:
            lock.write_text("someone")

    report = run_campaign(
        book,
        options(template, mode="send", transport=smtp_url(smtp), progress=excel_opens_it),
    )
    assert report.sent == 4 and report.warnings
    assert "the journal" in report.warnings[0]
    assert {r["status"] for r in sends(book).values() if r["email"]} >= {"queued"}
    lock.unlink()
    again = run_campaign(book, options(template, mode="send", transport=smtp_url(smtp)))
    assert again.sent == 0 and again.already["sent"] == 4
    assert len(smtp.messages) == 4


def test_drafts_go_to_the_mailbox_for_review_once(tmp_path: Path, template: Path) -> None:
    book = make_book(tmp_path / "crm.xlsx", customers=3)
    maildir = tmp_path / "Mail"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    run = options(template, mode="drafts", transport=f"maildir:{maildir}")
    report = run_campaign(book, run)
    assert report.drafts == 3
    assert {r["status"] for c, r in sends(book).items() if c <= "C0003"} == {"draft"}
    saved = list(maildir.glob("**/cur/*"))
    assert len(saved) == 3
    assert run_campaign(book, run).drafts == 0


def test_test_to_sends_one_sample_and_records_nothing(
    tmp_path: Path, template: Path, smtp: SmtpServer
) -> None:
    book = make_book(tmp_path / "crm.xlsx", customers=3)
    before = book.read_bytes()
    report = run_campaign(
        book,
        options(template, mode="test", transport=smtp_url(smtp), test_to="me@xinghe.example"),
    )
    [message] = smtp.messages
    assert message.rcpt_tos == ["me@xinghe.example"]
    parsed = email.message_from_bytes(message.content, policy=email.policy.default)
    assert parsed["Subject"] == "[TEST] Company 1: the spring offer"
    assert book.read_bytes() == before and report.ready == 3


def test_sending_through_exchange_and_settling_from_its_sent_items(
    tmp_path: Path, template: Path, ews: object
) -> None:
    book = make_book(tmp_path / "crm.xlsx", customers=2)
    url = ews.url()  # type: ignore[attr-defined]
    # Exchange sends only as the mailbox's own address (ErrorSendAsDenied otherwise).
    sender = f"Xinghe Sales <{ews.address}>"  # type: ignore[attr-defined]
    report = run_campaign(book, options(template, mode="send", transport=url, sender=sender))
    assert report.sent == 2
    sent = [email.message_from_bytes(t.mime) for t in ews.outbox]  # type: ignore[attr-defined]
    rows = sends(book)
    assert {m["Message-ID"] for m in sent} == {
        rows["C0001"]["message_id"],
        rows["C0002"]["message_id"],
    }
    # A run died after Exchange took C0002's message: the sent items say it went.
    with open_book(book) as wb:
        wb.table("sends").update(("spring-2027", "C0002"), {"status": "queued"})
    with Journal(book) as journal:
        journal.append(
            Entry(
                "spring-2027",
                "C0002",
                "sending",
                "c2@customer2.example",
                rows["C0002"]["message_id"],
            )
        )
    again = run_campaign(book, options(template, mode="send", transport=url, sender=sender))
    assert again.recovered == 1 and again.sent == 0
    assert len(ews.outbox) == 2  # type: ignore[attr-defined]
    assert sends(book)["C0002"]["status"] == "sent"


def test_the_demo_workbook_is_never_mailed(tmp_path: Path, template: Path) -> None:
    from addin.demo import build_demo

    demo = build_demo(tmp_path / "demo").path
    with pytest.raises(UsageError, match="this is the demo workbook"):
        run_campaign(demo, options(template, mode="send", transport="smtp://a@127.0.0.1:1"))


def test_an_unsubscribe_reply_found_by_sync_stops_every_campaign(
    tmp_path: Path, template: Path, smtp: SmtpServer
) -> None:
    book = make_book(tmp_path / "crm.xlsx", customers=2)
    run_campaign(book, options(template, mode="send", transport=smtp_url(smtp)))
    sent = email.message_from_bytes(smtp.messages[1].content, policy=email.policy.default)
    mailto = sent["List-Unsubscribe"].split(">")[0].lstrip("<")
    token = mailto.rpartition("%20")[2]
    # C0002 answers from a private address, as the List-Unsubscribe mailto asks.
    maildir = tmp_path / "inbox"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.eml").write_bytes(
        b"From: someone@home.example\r\nTo: " + USER.encode() + b"\r\n"
        b"Subject: =?utf-8?b?"
        + __import__("base64").b64encode(f"退订 {token}".encode())
        + b"?=\r\n"
        b"Message-ID: <unsub-1@home.example>\r\nDate: Mon, 1 Mar 2027 10:00:00 +0800\r\n\r\n"
        b"unsubscribe\r\n"
    )
    with open_book(book) as wb:
        mailbox = open_mailbox(f"maildir:{maildir}", address=USER)
        result = sync_mailbox(wb, mailbox, SyncOptions(me=(USER,)))
    assert result.unsubscribed == ["C0002"]
    with open_book(book) as wb:
        assert wb.table("customers").get("C0002")["unsubscribed"] is True
    autumn = run_campaign(
        book, options(template, name="autumn-2027", mode="send", transport=smtp_url(smtp))
    )
    assert autumn.sent == 1 and autumn.skipped["unsubscribed"] == 2
    assert delivered(smtp) == Counter({"c1@customer1.example": 2, "c2@customer2.example": 1})
