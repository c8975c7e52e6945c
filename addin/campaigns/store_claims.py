"""The ribbon's outbox store: the Sends claims in the workbook, with the claims ledger that
every service worker shares (:mod:`.claims`).

:func:`addin.campaigns.batches.send_batch` sends through :class:`~addin.outbox.Outbox` over
this store. In the workbook a claimed row is ``sending`` before its send call can run; in the
ledger the send call records which process spent the claim, names each message in the batch's
handed-over slot just before its final dot (:mod:`addin.outbox.handed`), and records each
message's outcome and the batch's end. Settling (the next claim step) reads both:

========================================  ==============================================
what the ledger says of a ``sending`` row   what the row becomes
========================================  ==============================================
the claim was never spent                  ``queued`` (the claim is revoked first, so a
                                           late send call for it sends nothing)
the message's outcome was recorded         that outcome (``sent`` even over SMTP)
its sender is alive and not finished       still ``sending``: another worker's message in
                                           flight is never settled as queued
its sender died, never handed over         ``queued`` (same boot: it never left)
handed over, no outcome                    the sent items say (``uncertain`` over SMTP)
claimed through another ledger, or before  the sent items say, as before
the ledger kept marks
========================================  ==============================================
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from ..journal import Entry
from ..outbox import UNCERTAIN, Failed, Left, Outgoing, Settled
from ..outbox.handed import HandedSlot
from ..workbook import Book
from .claims import REVOKED, ClaimLedger, FileClaimLedger, Marks
from .report import Failure
from .sends import FOUND_SENT, apply_entries, campaign_rows

log = logging.getLogger(__name__)

Ledger = ClaimLedger | FileClaimLedger
SENT_BY_SERVICE = "sent by the service; its answer had not reached the workbook"


def claim_key(campaign: str) -> str:
    """The workbook state key holding a campaign's open claim."""
    return f"campaign:{campaign.strip().casefold()}:claim"


def inflight_key(campaign: str) -> str:
    """The workbook state key listing earlier claims another worker is still sending."""
    return f"campaign:{campaign.strip().casefold()}:inflight"


def held_claims(book: Book, campaign: str) -> list[dict[str, Any]]:
    """The open claim and the claims still in flight: ``token``, ``customers``, ``ledger``."""
    found = []
    for key in (claim_key(campaign), inflight_key(campaign)):
        raw = book.state.get(key)
        try:
            data = json.loads(raw) if raw else []
        except ValueError:
            log.warning("ignoring an unreadable %s in the workbook state", key)
            continue
        for claim in data if isinstance(data, list) else [data]:
            if isinstance(claim, dict) and "token" in claim and "customers" in claim:
                found.append(claim)
    return found


class ClaimSends:
    """One claim or send call's store; ``result`` is its :class:`~.batches.BatchResult`."""

    def __init__(
        self,
        book: Book,
        campaign: str,
        ledger: Ledger,
        now: Callable[[], dt.datetime],
        result: Any,
        token: str = "",
    ) -> None:
        self.book = book
        self.campaign = campaign
        self.ledger = ledger
        self.now = now
        self.result = result
        self.token = token
        self.entries: list[Entry] = []
        self.inflight: dict[str, dict[str, Any]] = {}  # token → claim, another worker's
        self._slot: HandedSlot | None = None  # opened by the first message sent

    def __enter__(self) -> ClaimSends:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._slot is not None:
            self._slot.close()

    def _at(self) -> str:
        return self.now().isoformat(timespec="seconds")

    def _entry(self, row: dict[str, Any], status: str, error: str = "", **more: Any) -> None:
        self.entries.append(
            Entry(
                row["campaign"],
                row["customer_id"],
                status,
                row.get("email") or "",
                row.get("message_id") or "",
                more.get("at") or self._at(),
                error,
                more.get("subject") or "",
            )
        )

    # -- settling (the claim step)

    def _marks(self, token: str) -> Marks:
        """What the ledger knows of ``token``; a claim never spent is revoked here."""
        found = self.ledger.marks(token, self.campaign)
        if found is None:
            if self.ledger.spend(token, self.campaign, REVOKED):
                return Marks(REVOKED, done=True)
            found = self.ledger.marks(token, self.campaign)  # spent this instant by a sender
        return found or Marks(None)

    def left(self) -> Sequence[Left]:
        claims = held_claims(self.book, self.campaign)
        by_customer = {str(c): claim for claim in claims for c in claim["customers"]}
        known: dict[str, Marks] = {}
        out = []
        for customer_id, row in campaign_rows(self.book, self.campaign).items():
            if row.get("status") != "sending":
                continue
            msgid = row.get("message_id") or ""
            claim = by_customer.get(customer_id)
            if claim is None or not self.ledger.ident or claim.get("ledger") != self.ledger.ident:
                out.append(Left(customer_id, msgid, True, "", row))
                continue
            token = str(claim["token"])
            if token not in known:
                known[token] = self._marks(token)
            marks = known[token]
            step = marks.steps.get(customer_id) or {}
            status = step.get("status")
            if marks.revoked:
                self._entry(row, "queued")
            elif status in ("sent", "failed", "queued"):
                self._recorded(row, step)
            elif marks.owner is None:
                out.append(Left(customer_id, msgid, True, "", row))
            elif not marks.done and marks.owner.alive():
                self.inflight[token] = claim
            else:
                out.append(Left(customer_id, msgid, status == "handed", marks.owner.boot, row))
        return out

    def _recorded(self, row: dict[str, Any], step: dict[str, Any]) -> None:
        """An outcome the sender recorded in the ledger but the workbook never got."""
        status, error = step["status"], step.get("error") or ""
        if status == "sent":
            self._entry(row, "sent", at=step.get("at"), subject=step.get("subject"))
            self.result.recovered += 1
            return
        self._entry(row, status, error)
        if status == "failed":
            failure = Failure(row["customer_id"], row.get("email") or "", error)
            (self.result.uncertain if step.get("uncertain") else self.result.failed).append(failure)

    def settled(self, left: Left, verdict: Settled) -> None:
        row = left.record
        if verdict == "sent":
            self._entry(row, "sent", FOUND_SENT)
            self.result.recovered += 1
        elif verdict == "unsent":
            self._entry(row, "queued")
        else:
            error = f"interrupted while sending: {UNCERTAIN}"
            self._entry(row, "failed", error)
            self.result.uncertain.append(Failure(row["customer_id"], row.get("email") or "", error))

    def keep_inflight(self) -> None:
        """Remember the claims another worker is still sending (the next claim settles them)."""
        if self.inflight:
            self.book.state[inflight_key(self.campaign)] = json.dumps(list(self.inflight.values()))
        else:
            self.book.state.pop(inflight_key(self.campaign), None)

    # -- sending (the send step)

    def begin(self, item: Outgoing) -> Callable[[], None]:
        if self._slot is None:
            self._slot = self.ledger.handed_slot(self.token, self.campaign)
        slot = self._slot
        try:
            handed = HandedSlot.encode(item.key)
        except ValueError:  # an id too long for the slot: a line in the marks instead
            slot = None
        if slot is None:

            def mark() -> None:
                self.ledger.mark(self.token, self.campaign, item.key, {"status": "handed"})

            return mark

        def record() -> None:
            slot.put(handed)  # the last statement before the final dot (see outbox/handed.py)

        return record

    def finish(self, item: Outgoing, failed: Failed | None) -> None:
        at = self._at()
        if failed is None:
            status, error = "sent", ""
            self.result.sent += 1
        elif failed.temporary:
            status, error = "queued", f"will retry: {failed}"
            self.result.retry_later += 1
        else:
            status, error = "failed", str(failed)
            failure = Failure(item.key, item.address, error)
            (self.result.uncertain if failed.uncertain else self.result.failed).append(failure)
        step: dict[str, Any] = {"status": status, "error": error, "at": at, "subject": item.subject}
        if failed is not None and failed.uncertain:
            step["uncertain"] = True
        self.ledger.mark(self.token, self.campaign, item.key, step)
        self.entries.append(
            Entry(
                self.campaign,
                item.key,
                status,
                item.address,
                item.message_id,
                at,
                error,
                item.subject if status == "sent" else "",
            )
        )

    def checkpoint(self) -> None:
        """Nothing: the answer carries every step to the workbook."""

    def abandon(self, item: Outgoing) -> None:
        """Nothing was recorded at ``begin``: the caller queues what was not sent."""

    def apply(self, mailbox: str | None) -> None:
        apply_entries(self.book, self.entries, mailbox)
        self.entries = []
