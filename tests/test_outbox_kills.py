"""Exactly once with the narrowest window (issue 16): a real ``xlcrm campaign --send`` is
SIGKILLed 15 times at random points and resumed each time, against each transport the tests
can run here.

Each sink records a message before it answers (aiosmtpd stores it before its 250; the EWS and
Graph servers before their HTTP answer), so "delivered" below is what a recipient would get.
The outbox writes a message's durable ``sending`` line at the last moment before the server
takes it, so a sender killed earlier left no line and the message goes again; a line left
unconfirmed is settled from the Sent Items (EWS, Graph) or, over plain SMTP, which has none,
reported as "may have been delivered" and never sent again on a guess.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import test_campaign_send as campaign
from servers.smtp import SmtpServer

from addin.journal import Entry, Journal, journal_path
from addin.outbox import boot_id

# Run alone by .ci/run, after the rest of the suite (see there).
pytestmark = pytest.mark.kills

make_book, sends, smtp_url = campaign.make_book, campaign.sends, campaign.smtp_url
template, smtp_login = campaign.template, campaign.smtp_login  # the fixtures those tests use


CUSTOMERS = 150
KILLS = 15
EVERYONE = {f"C{n:04d}": f"c{n}@customer{n}.example" for n in range(1, CUSTOMERS + 1)}


def command(book: Path, template: Path, transport: str, *extra: str) -> list[str]:
    # Not Exchange Online's default cap of messages a minute: the kills are the point here.
    return campaign.campaign_command(book, template, transport, "--per-minute", "100000", *extra)


def kill_and_resume(argv: list[str], arrived: Callable[[], int], seed: int) -> tuple[dict, int]:
    """Run ``argv`` KILLS times, each killed at a random moment (before the first message
    or a few messages in, a random few milliseconds after one arrived), then once to the
    end; returns the last run's report and how many runs were really killed.

    ``arrived()`` counts the messages the server has taken, one recipient each. It is polled
    every millisecond, so it only counts: parsing every stored message on each poll (what
    ``delivered()`` does for the final check) held the GIL the in-process EWS and Graph
    servers need, and made those tests several times slower."""
    chance = random.Random(seed)
    killed = 0
    for _ in range(KILLS):
        before = arrived()
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wanted = before + chance.randint(0, 3)
        deadline = time.monotonic() + 60
        while arrived() < wanted and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(chance.uniform(0, 0.01))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.communicate()
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert result.stdout, result.stderr
    return json.loads(result.stdout), killed


def uncertain_rows(rows: dict[str, dict]) -> set[str]:
    return {
        c
        for c, r in rows.items()
        if r["status"] == "failed" and "may have been delivered" in (r["error"] or "")
    }


def check_once(book: Path, counts: Counter[str], report: dict, killed: int, seed: int) -> None:
    where = f"seed {seed}"
    assert killed >= KILLS - 2, f"{where}: only {killed} runs were killed mid-campaign"
    assert max(counts.values()) == 1, f"{where}: a customer got the campaign twice: {counts}"
    assert "u@unsub.example" not in counts and "b@bounce.example" not in counts
    rows = sends(book)
    uncertain = uncertain_rows(rows)  # reported by whichever run settled them
    got = {c for c, address in EVERYONE.items() if counts[address] == 1}
    assert got | uncertain == set(EVERYONE), where
    assert {c for c, r in rows.items() if r["status"] == "sent"} == got - uncertain, where
    assert not journal_path(book).exists() or not journal_path(book).read_text().strip()


@pytest.mark.slow  # sixteen real processes per transport
@pytest.mark.parametrize("seed", [16, 2027])
def test_smtp_killed_15_times_mails_no_one_twice(
    tmp_path: Path, template: Path, smtp: SmtpServer, seed: int
) -> None:
    """Plain SMTP keeps no sent items: a message killed between its ``sending`` line and the
    server's reply is reported "may have been delivered" (never sent again), and that can
    only be a message whose content was already with the server (the line is written at the
    final dot), at most one per kill."""
    book = make_book(tmp_path / "crm.xlsx", customers=CUSTOMERS)

    def delivered() -> Counter[str]:
        return Counter(a for m in smtp.messages for a in m.rcpt_tos)

    def arrived() -> int:
        return sum(len(m.rcpt_tos) for m in smtp.messages)

    report, killed = kill_and_resume(command(book, template, smtp_url(smtp)), arrived, seed)
    counts = delivered()
    check_once(book, counts, report, killed, seed)
    uncertain = uncertain_rows(sends(book))
    assert len(uncertain) <= killed
    undelivered = [c for c in uncertain if counts[EVERYONE[c]] == 0]
    # A kill before the "handed over" line (written just before the final dot) leaves the
    # message to go again; only a kill between that write and the dot's can leave an
    # undelivered message uncertain: two system calls apart, yet a sender descheduled between
    # them makes it happen in about one run in five on a loaded machine (never a duplicate;
    # bench/README.md, "The SMTP kill test"). Bringing that to zero is still open (#16).
    print(f"seed {seed}: {len(uncertain)} uncertain, {len(undelivered)} of them undelivered")


@pytest.mark.slow
@pytest.mark.parametrize("seed", [16])
def test_exchange_killed_15_times_settles_everything_from_sent_items(
    tmp_path: Path, template: Path, ews: object, seed: int
) -> None:
    """EWS: what was recorded but unconfirmed is looked up in Sent Items, so nothing is left
    uncertain and every customer gets the campaign exactly once."""
    book = make_book(tmp_path / "crm.xlsx", customers=CUSTOMERS)
    sender = f"Xinghe Sales <{ews.address}>"  # type: ignore[attr-defined]

    def delivered() -> Counter[str]:
        import email

        found: Counter[str] = Counter()
        for sent in ews.outbox:  # type: ignore[attr-defined]
            found[email.message_from_bytes(sent.mime)["To"].rpartition("<")[2].rstrip(">")] += 1
        return found

    argv = command(book, template, ews.url(), "--sender", sender)  # type: ignore[attr-defined]
    report, killed = kill_and_resume(argv, lambda: len(ews.outbox), seed)  # type: ignore[attr-defined]
    counts = delivered()
    check_once(book, counts, report, killed, seed)
    assert not uncertain_rows(sends(book)), "Sent Items can tell: nothing may stay uncertain"
    assert set(counts) == set(EVERYONE.values())


@pytest.mark.slow
@pytest.mark.parametrize("seed", [16])
def test_graph_killed_15_times_settles_everything_from_sent_items(
    tmp_path: Path, template: Path, graph: object, seed: int
) -> None:
    """Microsoft Graph: the same over sendMail, settled from the Sent Items folder."""
    book = make_book(tmp_path / "crm.xlsx", customers=CUSTOMERS)
    address = "li@contoso.onmicrosoft.com"

    def delivered() -> Counter[str]:
        import email

        found: Counter[str] = Counter()
        for mime in graph.store.outbox:  # type: ignore[attr-defined]
            found[email.message_from_bytes(mime)["To"].rpartition("<")[2].rstrip(">")] += 1
        return found

    argv = command(book, template, f"graph://{address}", "--sender", f"Li <{address}>")
    assert os.environ.get("XLCRM_GRAPH_TOKEN")
    report, killed = kill_and_resume(argv, lambda: len(graph.store.outbox), seed)  # type: ignore[attr-defined]
    counts = delivered()
    check_once(book, counts, report, killed, seed)
    assert not uncertain_rows(sends(book)), "Sent Items can tell: nothing may stay uncertain"
    assert set(counts) == set(EVERYONE.values())


def test_a_send_killed_before_it_was_handed_over_goes_again(
    tmp_path: Path, template: Path, smtp: SmtpServer
) -> None:
    """The journal's last line for C0002 is the fsync'd ``sending`` of this boot, without the
    ``handed`` line written before the final dot: the message never reached the server's
    last step, so the next run sends it, once, and reports nothing uncertain."""
    book = make_book(tmp_path / "crm.xlsx", customers=2)
    first = campaign.run_campaign(
        book, campaign.options(template, mode="send", transport=smtp_url(smtp))
    )
    assert first.sent == 2
    with campaign.open_book(book) as wb:
        wb.table("sends").update(("spring-2027", "C0002"), {"status": "queued"})
    smtp.messages.clear()
    with Journal(book) as journal:
        journal.append(
            Entry(
                "spring-2027", "C0002", "sending", "c2@customer2.example", "<x@y>", boot=boot_id()
            )
        )
    again = campaign.run_campaign(
        book, campaign.options(template, mode="send", transport=smtp_url(smtp))
    )
    assert (again.sent, again.uncertain) == (1, [])
    assert [m.rcpt_tos for m in smtp.messages] == [["c2@customer2.example"]]
    assert sends(book)["C0002"]["status"] == "sent"


@pytest.mark.parametrize("handed", [True, False])
def test_after_a_restart_or_once_handed_over_smtp_cannot_tell(
    tmp_path: Path, template: Path, smtp: SmtpServer, handed: bool
) -> None:
    """Handed over, or written before the machine restarted (a line that was not fsync'd may
    have been lost with the power): over SMTP the message may have left, so it is reported
    and not sent again."""
    book = make_book(tmp_path / "crm.xlsx", customers=2)
    campaign.run_campaign(book, campaign.options(template, mode="send", transport=smtp_url(smtp)))
    with campaign.open_book(book) as wb:
        wb.table("sends").update(("spring-2027", "C0002"), {"status": "queued"})
    smtp.messages.clear()
    boot = "" if handed else "a-boot-before-the-power-cut"
    with Journal(book) as journal:
        line = Entry("spring-2027", "C0002", "sending", "c2@customer2.example", "<x@y>", boot=boot)
        journal.append(line)
        if handed:
            journal.append(Entry(**{**line.__dict__, "handed": True}))
    again = campaign.run_campaign(
        book, campaign.options(template, mode="send", transport=smtp_url(smtp))
    )
    assert again.sent == 0 and [u.customer_id for u in again.uncertain] == ["C0002"]
    assert smtp.messages == []
    assert "may have been delivered" in sends(book)["C0002"]["error"]
