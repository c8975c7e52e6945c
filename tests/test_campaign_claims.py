"""The ribbon's claims ledger on disk (issue 16): a lost batch is settled from what the ledger
recorded — who spent the claim, the message being handed over (the batch's slot, kept as a
``handed`` line when the batch ends), each outcome — instead of from the sent items alone,
which plain SMTP does not have.

Real aiosmtpd on loopback and a real .xlsx with the file backend (the remote backend's Book
API); "the answer was lost" is ``book.discard()``. The service's ledger is a
:class:`FileClaimLedger` in a temporary folder, as ``xlcrm serve --state-dir`` makes it; a
second ledger object on the same folder plays another worker. Killed workers are in
``test_outbox_ribbon_kills.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from servers.smtp import SmtpServer
from test_campaign_book import template, transport  # noqa: F401  (fixtures)
from test_campaign_send import (  # noqa: F401
    InterruptedAfter,
    delivered,
    make_book,
    options,
    sends,
    smtp_login,
)

from addin.campaigns import send_batch
from addin.campaigns.batches import BatchResult, claim_key
from addin.campaigns.claims import FileClaimLedger
from addin.outbox import Owner
from addin.workbook import open_book


@pytest.fixture
def ledger(tmp_path: Path) -> FileClaimLedger:
    return FileClaimLedger(tmp_path / "state" / "claims")


@dataclass
class Batches:
    """A campaign sent from the ribbon, batch by batch: the workbook, the template, the SMTP
    server and one connection to it, and the ledger the service keeps."""

    path: Path
    template: Path
    smtp: SmtpServer
    transport: object
    ledger: FileClaimLedger

    def book(self, customers: int) -> Path:
        return make_book(self.path, customers=customers)

    def call(
        self, claim: str | None = None, *, through: object = None, applied: bool = True
    ) -> BatchResult:
        """One call (through the shared connection unless told); its answer applied (saved)
        or lost (discarded)."""
        book = open_book(self.path)
        try:
            return send_batch(
                book,
                options(self.template),
                through or self.transport,
                claim=claim,
                limit=3,
                ledger=self.ledger,
            )
        finally:
            if applied:
                book.save()
            else:
                book.discard()
            book.close()


@pytest.fixture
def batches(
    tmp_path: Path,
    template: Path,  # noqa: F811
    smtp: SmtpServer,
    transport: object,  # noqa: F811
    ledger: FileClaimLedger,
) -> Batches:
    return Batches(tmp_path / "crm.xlsx", template, smtp, transport, ledger)


def held_token(path: Path) -> str:
    with open_book(path) as book:
        return str(json.loads(book.state[claim_key("spring-2027")])["token"])


@pytest.fixture
def alive() -> Iterator[int]:
    """Another process, at work (as another worker still sending its batch would be)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process.pid
    process.kill()
    process.wait()


def test_a_lost_batch_is_settled_from_the_ledger_even_over_smtp(batches: Batches) -> None:
    """The send call's answer never reached the workbook, but the ledger saw every message
    accepted: the rows become ``sent`` — not "may have been delivered" — and no one is
    mailed again."""
    path = batches.book(4)
    claimed = batches.call()
    assert batches.call(claimed.claim, applied=False).sent == 3
    assert {sends(path)[f"C{n:04d}"]["status"] for n in (1, 2, 3)} == {"sending"}

    settled = batches.call()
    assert (settled.recovered, settled.uncertain, settled.claimed) == (3, [], 1)
    rows = sends(path)
    assert {rows[f"C{n:04d}"]["status"] for n in (1, 2, 3)} == {"sent"}
    assert batches.call(settled.claim).status == "done"
    assert delivered(batches.smtp) == {f"c{n}@customer{n}.example": 1 for n in range(1, 5)}


def test_a_claim_never_sent_is_revoked_and_queued_again(batches: Batches) -> None:
    """The task pane closed between claiming and sending: nothing can have left, so the rows
    are simply queued again (no "uncertain" over SMTP), and the old claim's send call, should
    it still arrive, sends nothing."""
    batches.book(3)
    first = batches.call()
    again = batches.call()
    assert (again.uncertain, again.claimed) == ([], 3)
    late = batches.call(first.claim)
    assert (late.status, late.sent) == ("stale", 0)
    assert batches.call(again.claim).sent == 3
    assert delivered(batches.smtp) == {f"c{n}@customer{n}.example": 1 for n in range(1, 4)}


def test_rows_another_worker_is_still_sending_are_left_to_it(batches: Batches, alive: int) -> None:
    """Another worker spent the claim and is at work (its process runs, the batch has not
    ended): the next claim applies the outcome it recorded already (C0001 sent), leaves the
    others ``sending`` and says so. Once that batch ended, the claim after settles the rest:
    C0003, handed over and unconfirmed, is uncertain over SMTP; C0002, never handed over,
    goes again."""
    path = batches.book(4)
    batches.call()
    token = held_token(path)
    other = FileClaimLedger(batches.ledger.folder)  # the other worker's view of the same files
    assert other.spend(token, "spring-2027", Owner(Owner.here().boot, alive, ""))
    other.mark(token, "spring-2027", "C0001", {"status": "sent", "at": "2027-03-01T10:00:00"})

    waiting = batches.call()
    assert "still being sent by another worker" in (waiting.note or "")
    rows = sends(path)
    assert [rows[f"C{n:04d}"]["status"] for n in (1, 2, 3)] == ["sent", "sending", "sending"]
    assert (waiting.recovered, waiting.claimed, waiting.uncertain) == (1, 1, [])  # C0004
    assert batches.call(waiting.claim).sent == 1

    other.mark(token, "spring-2027", "C0003", {"status": "handed"})
    other.finish(token, "spring-2027")  # the batch ended (its worker then died)
    settled = batches.call()
    rows = sends(path)
    assert rows["C0001"]["status"] == "sent" and settled.recovered == 0
    assert [u.customer_id for u in settled.uncertain] == ["C0003"]  # handed over: SMTP can't tell
    assert rows["C0002"]["status"] == "sending" and settled.claimed == 1  # queued, claimed again
    assert batches.call(settled.claim).sent == 1
    assert delivered(batches.smtp) == {"c4@customer4.example": 1, "c2@customer2.example": 1}


def test_a_batch_stopped_after_a_message_left_never_sends_it_again(batches: Batches) -> None:
    """The send call stopped on an error with its second message taken but unconfirmed, and
    its answer was lost. The batch's end folds the handed-over slot into the ledger, so the
    next claim finds that message handed over — "may have been delivered" over SMTP — and
    mails no one twice."""
    path = batches.book(4)
    claimed = batches.call()
    failing = InterruptedAfter(batches.transport.url, 2, RuntimeError("disk full"))  # type: ignore[attr-defined]
    try:
        stopped = batches.call(claimed.claim, through=failing, applied=False)
    finally:
        failing.close()
    assert stopped.sent == 1 and "disk full" in (stopped.note or "") + str(stopped.stopped)
    assert not list(batches.ledger.folder.rglob("*.handed"))  # folded into the marks at its end

    settled = batches.call()
    assert [u.customer_id for u in settled.uncertain] == ["C0002"]
    while settled.status != "done":
        settled = batches.call(settled.claim)
    assert max(delivered(batches.smtp).values()) == 1, "a customer got the campaign twice"
    assert "may have been delivered" in sends(path)["C0002"]["error"]


def test_a_handed_line_never_hides_the_outcome_before_it(ledger: FileClaimLedger) -> None:
    """The slot folded at a batch's end may name a message whose outcome line is already
    there (the sender recorded it, then stopped): the outcome stands."""
    assert ledger.spend("token-1", "spring-2027", Owner.here())
    ledger.mark("token-1", "spring-2027", "C0001", {"status": "sent"})
    with ledger.handed_slot("token-1", "spring-2027") as slot:
        slot.put(slot.encode("C0001"))
    ledger.finish("token-1", "spring-2027")
    marks = ledger.marks("token-1", "spring-2027")
    assert marks is not None and marks.done
    assert marks.steps["C0001"]["status"] == "sent"
