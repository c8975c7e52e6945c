"""Sending a campaign in batches on any open :class:`~addin.workbook.Book`, each customer at
most once — for the ribbon service, which has no workbook file.

The command line sends a whole campaign in one run and keeps its durable record of each send
in a journal file beside the workbook (:mod:`.journal`). The service has neither: it gets the
workbook's tables with each call, and its changes reach the workbook only when the Excel client
applies the answer — after the call returned, and perhaps never (the task pane was closed, the
network cut). So the workbook itself must say, before any message can leave, which messages
might be leaving. :func:`send_batch` therefore takes two calls per batch:

1. **Claim** (no ``claim`` given). First *settle* what an earlier batch left: a Sends row still
   ``sending`` belongs to a batch whose answer never reached the workbook. The claims ledger
   (:mod:`.claims`), which every worker of the service shares, says what became of it
   (:mod:`.store_claims` has the table): a claim never spent is revoked and its rows queued
   again; an outcome the sender recorded is applied (``sent`` even over SMTP); a row whose
   sender is still at work stays ``sending`` (never settled as queued behind its back); a
   message whose sender died before handing it over goes again; only one handed over and
   unconfirmed is looked for in the sent items (EWS, Graph) — over SMTP it becomes ``failed``
   with the same "may have been delivered" text as the command line, sent again only when a
   person asks (``retry_failed``). Then recipients not yet in the Sends table are queued, and
   the next ``limit`` queued rows (within the sending limits) are marked ``sending`` with their
   Message-IDs, and a fresh random token with those customers and the ledger's identity is put
   in the workbook state (``campaign:<name>:claim``). Nothing is sent. The caller saves.
2. **Send** (``claim`` = that token). Only when the workbook holds exactly that claim, and the
   ledger lets this process spend it (once, ever, recording the process), are its rows — still
   ``sending`` — sent through the outbox (:class:`~addin.outbox.Outbox`): the ledger gets
   ``handed`` just before each final dot and each outcome after; each row gets its final status
   (``sent``, ``failed`` with the server's answer, or ``queued`` again after temporary
   failures), the claim is removed, and the caller saves. A token the workbook does not hold
   (already used, or replaced by a newer claim) sends nothing: ``status="stale"``.

Why this is exactly once: a row is ``sending`` in the saved workbook before any message for it
can go out, so a batch whose answer is lost leaves ``sending`` rows that the next claim settles
— never resends on a guess. The same send call arriving twice before its answer was applied (a
client retrying a request that timed out, or a replay) is refused by the ledger, whichever
worker it reaches; a send call arriving after its claim was revoked is refused the same way. A
client must still never retry a send call, but claim again instead. Without a shared ledger
(:class:`ClaimLedger`, one process's memory) a lost batch is settled from the sent items
alone, as uncertain over SMTP: the price of never guessing.

Selection, plans, the preflight, composition, Message-IDs, unsubscribe links, retries and limits
are the command line's own (:mod:`.run`, :mod:`.plan`, :mod:`.limits`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import UsageError, XlcrmError
from ..journal import Entry
from ..outbox import Outbox, Outgoing, Owner
from ..templating import Problem, TemplateProblems
from ..unsubscribe import SALT_STATE_KEY
from ..workbook import Book
from ..workbook.book import init_command
from .claims import ClaimLedger, FileClaimLedger
from .plan import Recipient
from .report import CampaignReport, Failure
from .run import (
    TEMPLATE_PROBLEM,
    CampaignOptions,
    Prepared,
    compose_message,
    limits_for,
    message_id,
    prepare_book,
    refuse_demo,
    send_row,
)
from .sends import SENT_LIKE, campaign_rows, sent_on
from .steps import campaign_name
from .store_claims import ClaimSends, claim_key

log = logging.getLogger(__name__)

Ledger = ClaimLedger | FileClaimLedger
__all__ = [
    "SPENT_CLAIMS",
    "BatchResult",
    "ClaimLedger",
    "FileClaimLedger",
    "claim_key",
    "send_batch",
]

BatchStatus = Literal["claimed", "sent", "stale", "waiting", "done"]
# After this many temporary failures in a row the server is taken to be down: the client
# waits this long before the next batch instead of claiming again at once.
SERVER_DOWN_PAUSE = dt.timedelta(minutes=5)
NOT_SELECTED = "no longer selected (the customer was deleted or the filter changed)"


SPENT_CLAIMS = ClaimLedger()


@dataclass
class BatchResult:
    """One call of :func:`send_batch`; ``total``/``done``/``remaining`` drive a progress bar
    (customers to mail, those finished, those still queued or being sent)."""

    status: BatchStatus
    campaign: str
    claim: str | None = None  # with "claimed": pass it back to send the batch
    claimed: int = 0
    sent: int = 0
    failed: list[Failure] = field(default_factory=list)
    uncertain: list[Failure] = field(default_factory=list)
    recovered: int = 0  # settled as sent from the sent items
    retry_later: int = 0  # temporary failures, queued again
    skipped: Counter[str] = field(default_factory=Counter)  # this call, by reason
    problems: list[Problem] = field(default_factory=list)  # skipped for (skip_invalid)
    total: int = 0
    done: int = 0
    remaining: int = 0
    stopped: str | None = None  # why this call sent or claimed less than it could
    retry_at: dt.datetime | None = None  # when to call again, when a limit stopped it
    note: str | None = None  # why a stale claim sent nothing

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "campaign": self.campaign,
            "claim": self.claim,
            "claimed": self.claimed,
            "sent": self.sent,
            "failed": [vars(f) for f in self.failed],
            "uncertain": [vars(f) for f in self.uncertain],
            "recovered": self.recovered,
            "retry_later": self.retry_later,
            "skipped": dict(self.skipped),
            "problems": [str(p) for p in self.problems],
            "progress": {"total": self.total, "done": self.done, "remaining": self.remaining},
            "stopped": self.stopped,
            "retry_at": self.retry_at.isoformat(timespec="seconds") if self.retry_at else None,
            "note": self.note,
        }

    def lines(self) -> list[str]:
        """What the task pane says about this call."""
        out = [f"campaign {self.campaign!r}: {self.done} of {self.total} done"]
        if self.recovered:
            out.append(f"  {self.recovered} interrupted send(s) found in the sent items")
        if self.status == "claimed":
            out.append(f"  {self.claimed} message(s) ready to send in this batch")
        if self.sent:
            out.append(f"  sent {self.sent} message(s)")
        for reason, n in sorted(self.skipped.items()):
            out.append(f"  skipped {n}: {reason}")
        for item in self.failed:
            out.append(f"  failed {item.customer_id} <{item.email}>: {item.error}")
        for item in self.uncertain:
            out.append(f"  uncertain {item.customer_id} <{item.email}>: {item.error}")
        if self.retry_later:
            out.append(f"  {self.retry_later} temporary failure(s) left queued")
        if self.note:
            out.append(f"  {self.note}")
        if self.stopped:
            out.append(f"  stopped: {self.stopped}")
        if self.status == "done":
            out.append("  nothing is left to send")
        return out


def send_batch(
    book: Book,
    options: CampaignOptions,
    transport: Any,
    *,
    claim: str | None,
    limit: int = 25,
    now: Callable[[], dt.datetime] | None = None,
    base_dir: Path | None = None,
    templates_near: Sequence[Path] = (),
    ledger: Ledger = SPENT_CLAIMS,
) -> BatchResult:
    """Claim the next batch (``claim=None``) or send the claimed one; see the module docstring.

    The caller saves ``book`` after every call that returns (whatever the status: settling
    and queueing change the workbook too), and never after one that raised. ``transport``
    (an SMTP transport or an EWS/Graph mailbox) stays open; the caller closes it.
    ``retry_failed`` belongs in the first call of a run only: passed on every call, a
    customer whose address fails for good would be claimed again and again.
    """
    if limit < 1:
        raise UsageError("limit", f"a batch needs at least one message, not {limit}")
    campaign = campaign_name(options)
    options = dataclasses.replace(
        options,
        now=now or options.now,
        transport=options.transport or getattr(transport, "url", None),
    )
    refuse_demo(book, book.where)
    if not book.has_table("sends"):
        raise XlcrmError(
            book.where, "the workbook has no Sends table", f"add it with {init_command(book.where)}"
        )
    if claim is None:
        return _claim(book, options, transport, campaign, limit, base_dir, templates_near, ledger)
    return _send(book, options, transport, campaign, claim, ledger, base_dir, templates_near)


def _claim(
    book: Book,
    options: CampaignOptions,
    transport: Any,
    campaign: str,
    limit: int,
    base_dir: Path | None,
    templates_near: Sequence[Path],
    ledger: Ledger,
) -> BatchResult:
    result = BatchResult("claimed", campaign)
    store = ClaimSends(book, campaign, ledger, options.now, result)
    Outbox(store, transport, options).settle()
    store.apply(getattr(transport, "url", None))
    store.keep_inflight()
    book.state.pop(claim_key(campaign), None)
    if store.inflight:
        count = sum(len(c["customers"]) for c in store.inflight.values())
        result.note = f"{count} message(s) are still being sent by another worker"
    existing = campaign_rows(book, campaign)
    report = CampaignReport(campaign, "send", options.template)
    prepared = prepare_book(
        book,
        options,
        report,
        base_dir=base_dir,
        templates_near=templates_near,
        only=lambda cid: (existing.get(cid) or {}).get("status") != "queued",
    )
    bad = set(prepared.problems)
    if bad and not options.skip_invalid:
        raise TemplateProblems(report.problems, "nothing was sent")
    result.problems = report.problems
    _queue(book, campaign, prepared, existing, result)
    book.state[SALT_STATE_KEY] = prepared.salt
    ready = [
        r
        for r in prepared.plan.to_send
        if prepared.data.customer_where(r.customer_id) not in bad
        and _status(existing, r.customer_id) != "sending"  # another worker's, in flight
    ]
    moment = options.now()
    limits = limits_for(options, prepared.data.settings, sent_on(book, moment.date()))
    room = limit
    if ready:
        reason = limits.stop_reason(moment)
        if reason is None and limits.per_minute:
            recent = _recent(book, moment)
            if len(recent) >= limits.per_minute:
                again = min(recent) + dt.timedelta(seconds=60)
                reason = (
                    f"the limit of {limits.per_minute} messages a minute is reached; "
                    f"run again at {again:%H:%M:%S}"
                )
                result.retry_at = again
            room = min(room, limits.per_minute - len(recent))
        elif reason is not None:
            result.retry_at = limits.resume_at(moment)
        if reason is not None:
            result.status, result.stopped = "waiting", reason
            ready = []
        if limits.per_day is not None:
            room = min(room, limits.per_day - limits.sent_today)
    chosen = ready[:room]
    if chosen:
        changes = []
        for recipient in chosen:
            msgid = message_id(campaign, recipient.customer_id, prepared.salt, prepared.sender)
            row = send_row(campaign, recipient.customer_id, recipient.email, "sending")
            changes.append({**row, "message_id": msgid})
        book.table("sends").upsert_all(changes)
        token = secrets.token_urlsafe(24)
        book.state[claim_key(campaign)] = json.dumps(
            {
                "token": token,
                "customers": [r.customer_id for r in chosen],
                "at": moment.isoformat(timespec="seconds"),
                "ledger": ledger.ident,  # whose marks settle this claim (addin.campaigns.claims)
            }
        )
        result.claim, result.claimed = token, len(chosen)
    elif result.status == "claimed":
        result.status = "done"
    _progress(book, prepared, result)
    return result


def _queue(
    book: Book,
    campaign: str,
    prepared: Prepared,
    existing: dict[str, dict[str, Any]],
    result: BatchResult,
) -> None:
    """Every recipient not yet queued becomes ``queued`` (or ``skipped`` with the template's
    problem); every customer the plan now skips (unsubscribed, bounced, merged…) ``skipped``."""
    rows: list[dict[str, Any]] = []
    for recipient in prepared.plan.to_send:
        before = existing.get(recipient.customer_id) or {}
        if before.get("status") == "sending":
            continue  # another worker is sending it: its outcome settles the row
        where = prepared.data.customer_where(recipient.customer_id)
        if where in prepared.problems:
            reason = "; ".join(prepared.problems[where])
            rows.append(
                send_row(campaign, recipient.customer_id, recipient.email, "skipped", reason)
            )
            result.skipped[TEMPLATE_PROBLEM] += 1
        elif before.get("status") != "queued" or before.get("email") != recipient.email:
            rows.append(send_row(campaign, recipient.customer_id, recipient.email, "queued"))
    for skip in prepared.plan.skipped:
        if _status(existing, skip.customer_id) == "sending":
            continue  # in flight: settled from its sender's outcome first
        rows.append(send_row(campaign, skip.customer_id, skip.email, "skipped", skip.reason))
        result.skipped[skip.reason] += 1
    if rows:
        book.table("sends").upsert_all(rows)


def _recent(book: Book, now: dt.datetime) -> list[dt.datetime]:
    """When the messages of the last minute (any campaign) were sent."""
    since = now - dt.timedelta(seconds=60)
    return [
        at
        for row in book.table("sends").rows()
        if row.get("status") in SENT_LIKE
        and isinstance(at := row.get("sent_at"), dt.datetime)
        and since < at <= now
    ]


def _send(
    book: Book,
    options: CampaignOptions,
    transport: Any,
    campaign: str,
    claim: str,
    ledger: Ledger,
    base_dir: Path | None,
    templates_near: Sequence[Path],
) -> BatchResult:
    result = BatchResult("sent", campaign)
    held = _held_claim(book, campaign)
    rows = campaign_rows(book, campaign)
    claimed = [] if held is None else [c for c in held[1] if _status(rows, c) == "sending"]
    if held is None or not secrets.compare_digest(held[0], claim) or not claimed:
        result.status = "stale"
        result.note = (
            "this batch is not the workbook's open batch (it was sent already, or a newer one "
            "replaced it): nothing was sent; run again without the batch to continue"
        )
        return result
    if not ledger.spend(claim, campaign, Owner.here()):
        result.status = "stale"
        result.note = (
            "this batch was sent already and its results have not reached the workbook: "
            "nothing was sent again; run again without the batch to settle it"
        )
        return result
    try:
        return _send_claimed(
            book,
            options,
            transport,
            campaign,
            claim,
            claimed,
            rows,
            ledger,
            result,
            base_dir,
            templates_near,
        )
    finally:
        ledger.finish(claim, campaign)  # whatever happened: this batch is not in flight any more


def _send_claimed(
    book: Book,
    options: CampaignOptions,
    transport: Any,
    campaign: str,
    claim: str,
    claimed: list[str],
    rows: dict[str, dict[str, Any]],
    ledger: Ledger,
    result: BatchResult,
    base_dir: Path | None,
    templates_near: Sequence[Path],
) -> BatchResult:
    """The send step once this process spent the claim."""
    wanted = set(claimed)
    report = CampaignReport(campaign, "send", options.template)
    prepared = prepare_book(
        book,
        options,
        report,
        base_dir=base_dir,
        templates_near=templates_near,
        only=wanted.__contains__,
    )
    recipients = {r.customer_id: r for r in prepared.plan.to_send}
    skips = {s.customer_id: s for s in prepared.plan.skipped}
    outgoing: list[Recipient] = []
    changes: list[dict[str, Any]] = []
    for customer_id in claimed:
        address = rows[customer_id].get("email") or ""
        where = prepared.data.customer_where(customer_id)
        if customer_id in skips:  # unsubscribed or bounced since the claim
            skip = skips[customer_id]
            changes.append(send_row(campaign, customer_id, skip.email, "skipped", skip.reason))
            result.skipped[skip.reason] += 1
        elif customer_id not in recipients:
            changes.append(send_row(campaign, customer_id, address, "skipped", NOT_SELECTED))
            result.skipped[NOT_SELECTED] += 1
        elif where in prepared.problems:
            reason = "; ".join(prepared.problems[where])
            changes.append(send_row(campaign, customer_id, address, "skipped", reason))
            result.skipped[TEMPLATE_PROBLEM] += 1
            result.problems += [Problem(where, text) for text in prepared.problems[where]]
        else:
            outgoing.append(recipients[customer_id])
    if changes:
        book.table("sends").upsert_all(changes)
    with ClaimSends(book, campaign, ledger, options.now, result, token=claim) as store:
        _deliver(book, options, transport, store, prepared, outgoing, result)
    store.apply(getattr(transport, "url", None))
    book.state.pop(claim_key(campaign), None)
    _progress(book, prepared, result)
    if result.remaining == 0:
        result.status = "done"
    return result


def _held_claim(book: Book, campaign: str) -> tuple[str, list[str]] | None:
    raw = book.state.get(claim_key(campaign))
    try:
        held = json.loads(raw) if raw else None
        return (str(held["token"]), [str(c) for c in held["customers"]]) if held else None
    except (ValueError, KeyError, TypeError):
        log.warning("ignoring an unreadable claim of campaign %s in the workbook state", campaign)
        return None


def _status(rows: dict[str, dict[str, Any]], customer_id: str) -> Any:
    return (rows.get(customer_id) or {}).get("status")


def _deliver(
    book: Book,
    options: CampaignOptions,
    transport: Any,
    store: ClaimSends,
    prepared: Prepared,
    outgoing: list[Recipient],
    result: BatchResult,
) -> None:
    """Send ``outgoing`` (all claimed, all ``sending``) through the outbox; one final step
    per recipient, in ``store.entries``; the ledger marks the batch done at the end."""
    campaign = store.campaign
    start = options.now()
    limits = limits_for(options, prepared.data.settings, sent_on(book, start.date()))
    ages = [(start - at).total_seconds() for at in _recent(book, start)]
    limits.remember(ages, options.monotonic)
    outbox = Outbox(
        store,
        transport,
        options,
        pace=limits,
        now=options.now,
        monotonic=options.monotonic,
        unexpected="stop",  # the row stays ``sending`` for the next claim to settle
        pipeline=not limits.per_minute,
    )
    ahead = min(1, options.prefetch) if limits.per_minute else options.prefetch

    def build(recipient: Recipient) -> Outgoing:
        data, msgid, subject = compose_message(prepared, recipient, campaign, options.now())
        return Outgoing(recipient.customer_id, recipient.email, msgid, data, subject)

    run = outbox.send(outgoing, build, ahead=ahead)
    at = options.now().isoformat(timespec="seconds")
    for recipient, error in run.unbuilt:  # a template that checked out fails now: not sent
        log.error("could not compose the message for %s: %s", recipient.customer_id, error)
        store.entries.append(
            Entry(
                campaign,
                recipient.customer_id,
                "failed",
                recipient.email,
                "",
                at,
                f"could not be composed: {error}",
            )
        )
        result.failed.append(Failure(recipient.customer_id, recipient.email, str(error)))
    store.entries += [
        Entry(campaign, r.customer_id, "queued", r.email, "", at) for r in run.remaining
    ]
    if run.stopped:
        result.stopped = run.stopped
        if run.why == "limit":
            result.retry_at = limits.resume_at(options.now())
        elif run.why == "server":
            result.retry_at = options.now() + SERVER_DOWN_PAUSE


def _progress(book: Book, prepared: Prepared, result: BatchResult) -> None:
    """Totals over the customers the campaign selects (skipped ones are not counted)."""
    plan = prepared.plan
    selected = {r.customer_id for r in plan.to_send} | set(plan.done)
    selected |= {s.customer_id for s in plan.skipped}
    statuses = [
        row.get("status")
        for customer_id, row in campaign_rows(book, result.campaign).items()
        if customer_id in selected and row.get("status") != "skipped"
    ]
    result.total = len(statuses)
    result.remaining = sum(s in ("queued", "sending") for s in statuses)
    result.done = result.total - result.remaining
