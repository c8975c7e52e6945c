"""Sending a campaign in batches on any open :class:`~addin.workbook.Book`, each customer at
most once — for the ribbon service, which has no workbook file.

The command line sends a whole campaign in one run and keeps its durable record of each send
in a journal file beside the workbook (:mod:`.journal`). The service has neither: it gets the
workbook's tables with each call, and its changes reach the workbook only when the Excel client
applies the answer — after the call returned, and perhaps never (the task pane was closed, the
network cut). So the workbook itself must say, before any message can leave, which messages
might be leaving. :func:`send_batch` therefore takes two calls per batch:

1. **Claim** (no ``claim`` given). First *settle* what an earlier batch left: a Sends row still
   ``sending`` belongs to a batch whose answer never reached the workbook, so its message may
   or may not have gone. Exchange (EWS, Graph) is asked for the row's deterministic Message-ID
   in its sent items: found → ``sent``, not found → ``queued`` again. SMTP cannot tell: the row
   becomes ``failed`` with the same "may have been delivered" text as the command line, and is
   sent again only when a person asks (``retry_failed``). Then recipients not yet in the Sends
   table are queued, and the next ``limit`` queued rows (within the sending limits) are marked
   ``sending`` with their Message-IDs, and a fresh random token with those customers is put in
   the workbook state (``campaign:<name>:claim``). Nothing is sent. The caller saves.
2. **Send** (``claim`` = that token). Only when the workbook holds exactly that claim are its
   rows — still ``sending`` — sent; each gets its final status (``sent``, ``failed`` with the
   server's answer, or ``queued`` again after temporary failures), the claim is removed, and
   the caller saves. A token the workbook does not hold (already used, or replaced by a newer
   claim) sends nothing: ``status="stale"``.

Why this is exactly once: a row is ``sending`` in the saved workbook before any message for it
can go out, so a batch whose answer is lost leaves ``sending`` rows that the next claim settles
— never resends on a guess. The one gap the workbook cannot see is the same send call arriving
twice before its answer was applied (a client retrying a request that timed out, or a replay):
the service remembers the tokens it has begun to send and refuses a second use. Its workers are
separate processes that any call may reach, so ``xlcrm serve`` keeps that memory on disk
(:class:`FileClaimLedger`: an append-only, fsync'd file per campaign under a file lock, which
every worker sees); :class:`ClaimLedger` is the one-process form. A client must still never
retry a send call, but claim again instead. A batch claimed
but never sent (the pane closed in between) looks the same as a lost one and is settled the
same way — over SMTP as uncertain: the price of never guessing.

Selection, plans, the preflight, composition, Message-IDs, unsubscribe links, retries and limits
are the command line's own (:mod:`.run`, :mod:`.plan`, :mod:`.limits`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import UsageError, XlcrmError
from ..journal import Entry
from ..outbox import UNCERTAIN, Streak, attempt, settle
from ..templating import Problem, TemplateProblems
from ..unsubscribe import SALT_STATE_KEY
from ..workbook import Book
from ..workbook.book import init_command
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
from .sends import SENT_LIKE, apply_entries, campaign_rows, sent_on
from .steps import campaign_name

log = logging.getLogger(__name__)

BatchStatus = Literal["claimed", "sent", "stale", "waiting", "done"]
# After this many temporary failures in a row the server is taken to be down: the client
# waits this long before the next batch instead of claiming again at once.
SERVER_DOWN_PAUSE = dt.timedelta(minutes=5)
NOT_SELECTED = "no longer selected (the customer was deleted or the filter changed)"
FOUND_SENT = "found in the sent items after an interruption"


def claim_key(campaign: str) -> str:
    """The workbook state key holding a campaign's open claim."""
    return f"campaign:{campaign.strip().casefold()}:claim"


class ClaimLedger:
    """Claim tokens this process has begun to send, so that a send call that arrives twice
    (before the client applied the first answer, so the workbook still holds the claim) sends
    once. Bounded: the oldest tokens are forgotten first. One process only: a service with
    several workers uses :class:`FileClaimLedger`."""

    def __init__(self, size: int = 10_000) -> None:
        self._spent: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def spend(self, token: str, campaign: str = "") -> bool:
        """True the first time ``token`` is spent, False ever after."""
        with self._lock:
            if token in self._spent:
                return False
            self._spent[token] = None
            while len(self._spent) > self._size:
                self._spent.popitem(last=False)
            return True


SPENT_CLAIMS = ClaimLedger()


class FileClaimLedger:
    """Claim tokens spent by any process that shares ``folder``: the workers of one
    ``xlcrm serve``, which may each receive the same send call.

    One small append-only file per campaign (named by a hash of the campaign, so no request
    text becomes a file name) holds the SHA-256 of each spent token, one per line. Spending
    takes an exclusive lock on the file (``fcntl.flock``; ``msvcrt.locking`` on Windows),
    reads it, and appends and fsyncs the token before the lock is released — so of two
    workers spending the same token at the same moment exactly one gets True, and a token
    spent before a crash stays spent. A line is 65 bytes per batch of up to 25 messages: a
    million-customer campaign leaves under 3 MB.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, campaign: str) -> Path:
        digest = hashlib.sha256(campaign.strip().casefold().encode("utf-8")).hexdigest()
        return self.folder / f"claims-{digest[:32]}.log"

    def spend(self, token: str, campaign: str = "") -> bool:
        """True the first time ``token`` is spent by any process, False ever after."""
        line = hashlib.sha256(token.encode("utf-8")).hexdigest().encode("ascii") + b"\n"
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path(campaign), os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            with _locked(fd):
                os.lseek(fd, 0, os.SEEK_SET)
                chunks = []
                while chunk := os.read(fd, 1 << 20):
                    chunks.append(chunk)
                if line in b"".join(chunks).splitlines(keepends=True):
                    return False
                os.write(fd, line)
                os.fsync(fd)
                return True
        finally:
            os.close(fd)


@contextlib.contextmanager
def _locked(fd: int) -> Iterator[None]:
    """An exclusive lock on the open file ``fd`` for the block, waiting for other processes."""
    if os.name == "nt":  # pragma: no cover - Windows: lock byte 0 (waits ~10 s, then raises)
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined]
        try:
            yield
        finally:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


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
    ledger: ClaimLedger | FileClaimLedger = SPENT_CLAIMS,
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
        return _claim(book, options, transport, campaign, limit, base_dir, templates_near)
    return _send(book, options, transport, campaign, claim, ledger, base_dir, templates_near)


def _claim(
    book: Book,
    options: CampaignOptions,
    transport: Any,
    campaign: str,
    limit: int,
    base_dir: Path | None,
    templates_near: Sequence[Path],
) -> BatchResult:
    result = BatchResult("claimed", campaign)
    _settle(book, campaign, transport, options.now(), result)
    book.state.pop(claim_key(campaign), None)
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
        r for r in prepared.plan.to_send if prepared.data.customer_where(r.customer_id) not in bad
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
            }
        )
        result.claim, result.claimed = token, len(chosen)
    elif result.status == "claimed":
        result.status = "done"
    _progress(book, prepared, result)
    return result


def _settle(
    book: Book, campaign: str, transport: Any, now: dt.datetime, result: BatchResult
) -> None:
    """Decide every row an earlier batch left ``sending``: from the sent items when the
    transport has them, else uncertain (never sent again on a guess)."""
    at = now.isoformat(timespec="seconds")
    entries = []
    for customer_id, row in campaign_rows(book, campaign).items():
        if row.get("status") != "sending":
            continue
        msgid = row.get("message_id") or ""
        address = row.get("email") or ""
        name = row["campaign"]
        settled = settle(transport, msgid)
        if settled == "sent":
            entries.append(Entry(name, customer_id, "sent", address, msgid, at, FOUND_SENT))
            result.recovered += 1
        elif settled == "unsent":
            entries.append(Entry(name, customer_id, "queued", address, msgid, at))
        else:
            error = f"interrupted while sending: {UNCERTAIN}"
            entries.append(Entry(name, customer_id, "failed", address, msgid, at, error))
            result.uncertain.append(Failure(customer_id, address, error))
    apply_entries(book, entries, getattr(transport, "url", None))


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
    ledger: ClaimLedger | FileClaimLedger,
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
    if not ledger.spend(claim, campaign):
        result.status = "stale"
        result.note = (
            "this batch was sent already and its results have not reached the workbook: "
            "nothing was sent again; run again without the batch to settle it"
        )
        return result
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
    entries = _deliver(book, options, transport, campaign, prepared, outgoing, result)
    apply_entries(book, entries, getattr(transport, "url", None))
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
    campaign: str,
    prepared: Prepared,
    outgoing: list[Recipient],
    result: BatchResult,
) -> list[Entry]:
    """Send ``outgoing`` (all claimed, all ``sending``); one final step per recipient."""
    start = options.now()
    limits = limits_for(options, prepared.data.settings, sent_on(book, start.date()))
    ages = [(start - at).total_seconds() for at in _recent(book, start)]
    limits.remember(ages, options.monotonic)
    entries: list[Entry] = []
    streak = Streak()

    def step(recipient: Recipient, status: str, msgid: str = "", error: str = "") -> Entry:
        at = options.now().isoformat(timespec="seconds")
        return Entry(campaign, recipient.customer_id, status, recipient.email, msgid, at, error)

    for position, recipient in enumerate(outgoing):
        reason = limits.stop_reason(options.now())
        if reason:
            result.stopped, result.retry_at = reason, limits.resume_at(options.now())
            entries += [step(r, "queued") for r in outgoing[position:]]
            break
        limits.wait(options.monotonic, options.sleep)
        try:
            data, msgid, subject = compose_message(prepared, recipient, campaign, options.now())
        except Exception as error:  # a template that checked out fails now: not sent
            log.exception("could not compose the message for %s", recipient.customer_id)
            entries.append(step(recipient, "failed", error=f"could not be composed: {error}"))
            result.failed.append(Failure(recipient.customer_id, recipient.email, str(error)))
            continue
        try:
            outcome = attempt(transport.send, data, msgid, transport, options)
        except Exception as error:
            # Unknown whether it left: the row stays ``sending`` for the next claim to settle.
            log.exception("sending to %s failed unexpectedly", recipient.customer_id)
            result.stopped = f"sending stopped on an unexpected error: {error}"
            entries += [step(r, "queued") for r in outgoing[position + 1 :]]
            break
        if outcome is None:
            entry = step(recipient, "sent", msgid)
            entries.append(dataclasses.replace(entry, subject=subject))
            limits.record(options.monotonic)
            result.sent += 1
        elif outcome.temporary:
            entries.append(step(recipient, "queued", msgid, f"will retry: {outcome}"))
            result.retry_later += 1
        else:
            entries.append(step(recipient, "failed", msgid, str(outcome)))
            failure = Failure(recipient.customer_id, recipient.email, str(outcome))
            (result.uncertain if outcome.uncertain else result.failed).append(failure)
        if streak.outcome(outcome):
            result.stopped = f"the server keeps failing: {outcome}"
            result.retry_at = options.now() + SERVER_DOWN_PAUSE
            entries += [step(r, "queued") for r in outgoing[position + 1 :]]
            break
    return entries


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
