"""The one sending loop: settle → queue → send → record, over a pluggable :class:`Store`.

Every sender — CLI campaigns, the ribbon's claimed batches, rule notices, reminder digests,
escalations — used to run its own copy of this loop; now each brings only what differs:

- a **store** (:class:`Store`): where the durable record of each message goes (a journal
  beside a closed workbook, or the claims ledger the service workers share) and how a
  settled or finished message reaches the workbook;
- the **queue** (what to send, already planned and checked by the feature) and a **build**
  function that turns one queued item into an :class:`Outgoing` message;
- optionally a **pace** (the sending limits and hours) and a progress callback.

What is the same for all of them lives here and in :mod:`.rules` only: the narrow window
(the store's "handed over" record runs at the last moment before the server takes the
message), retries with back-off, "the server keeps failing", settling what a killed sender
left from the transport's sent items, and composing ahead on a thread or in a forked process
(:mod:`.prefetch`).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

from .prefetch import prefetch
from .rules import (
    Failed,
    Lookup,
    RetryRules,
    Settled,
    Streak,
    attempt,
    never_handed,
    settle,
)

log = logging.getLogger(__name__)

Q = TypeVar("Q")


@dataclass(frozen=True)
class Outgoing:
    """One message ready to go: ``key`` is the store's name for it (a customer id, a notice
    key), ``address`` whom it is for (for reports), ``message_id`` what the transport's sent
    items are searched for."""

    key: str
    address: str
    message_id: str
    data: bytes
    subject: str = ""


@dataclass(frozen=True)
class Left:
    """A message an earlier sender recorded as leaving and never confirmed.

    ``handed`` is whether its "handed over" record was written; ``boot`` the boot in which
    its write-ahead record was made durable ("" when unknown: then nothing is assumed).
    ``record`` is the store's own record of it."""

    key: Any
    message_id: str
    handed: bool
    boot: str
    record: Any = None


class Store(Protocol):
    """Where the durable record of each message lives."""

    def left(self) -> Sequence[Left]:
        """What earlier senders left unconfirmed (after applying what they did confirm)."""
        ...

    def settled(self, left: Left, verdict: Settled) -> None:
        """Record what became of ``left``: ``sent`` (found in the sent items), ``unsent``
        (it never left: it may go again) or ``uncertain`` (only a person can tell)."""
        ...

    def begin(self, item: Outgoing) -> Callable[[], None]:
        """The write-ahead record of ``item``, made before anything of it leaves; returns the
        "handed over" record, which the engine runs just before the server takes it."""
        ...

    def finish(self, item: Outgoing, failed: Failed | None) -> None:
        """Record the outcome: None when it went."""
        ...

    def checkpoint(self) -> None:
        """Called after each message: the store may fold its record into the workbook."""
        ...

    def abandon(self, item: Outgoing) -> None:
        """``item`` was begun (its write-ahead record made) but the run stopped before it was
        sent: nothing of it left; it stays queued."""
        ...


class Pace(Protocol):
    """Sending limits and hours (:class:`addin.campaigns.limits.Limits`)."""

    def stop_reason(self, now: dt.datetime) -> str | None: ...
    def wait(self, monotonic: Callable[[], float], sleep: Callable[[float], None]) -> None: ...
    def record(self, monotonic: Callable[[], float]) -> None: ...


@dataclass
class Run(Generic[Q]):
    """What one pass of the send step did."""

    sent: int = 0
    failed: list[tuple[Outgoing, Failed]] = field(default_factory=list)  # for good or uncertain
    retry_later: list[tuple[Outgoing, Failed]] = field(default_factory=list)
    stopped: str | None = None  # why it stopped before the end of the queue
    why: Literal["limit", "server", "error"] | None = None
    remaining: list[Q] = field(default_factory=list)  # not tried (still queued)
    unbuilt: list[tuple[Q, Exception]] = field(default_factory=list)  # could not be composed

    @property
    def uncertain(self) -> list[tuple[Outgoing, Failed]]:
        return [(item, f) for item, f in self.failed if f.uncertain]

    @property
    def refused(self) -> list[tuple[Outgoing, Failed]]:
        return [(item, f) for item, f in self.failed if not f.uncertain]


class Outbox:
    """The engine: ``run`` = :meth:`settle`, the caller's queue, :meth:`send`.

    ``deliver`` is the transport's ``send`` unless given (``save_draft`` for drafts), and
    ``lookup`` where a message handed over is looked for: the transport's sent items
    (``was_sent``) unless given (``was_drafted`` for drafts, which never reach Sent Items);
    ``rules`` the retry rules (attempts, back-off, sleep). ``unexpected``: what an error
    other than the transport's own does — ``raise`` it (the store's write-ahead record
    stands, the next run settles it), or ``stop`` the run with the reason."""

    def __init__(
        self,
        store: Store,
        transport: Any,
        rules: RetryRules,
        *,
        deliver: Callable[..., None] | None = None,
        lookup: Lookup | None = None,
        pace: Pace | None = None,
        now: Callable[[], dt.datetime] = dt.datetime.now,
        monotonic: Callable[[], float] = time.monotonic,
        progress: Callable[[int, int], None] | None = None,
        unexpected: Literal["raise", "stop"] = "raise",
        pipeline: bool = True,
    ) -> None:
        self.store = store
        self.transport = transport
        self.rules = rules
        self.deliver = deliver or transport.send
        self.lookup: Lookup | None = lookup or getattr(transport, "was_sent", None)
        self.pace = pace
        self.now = now
        self.monotonic = monotonic
        self.progress = progress
        self.unexpected = unexpected
        # Start the next message with this one's final dot (one round trip a message over
        # SMTP). Off where the next message must not be composed early (a per-minute limit
        # would date it minutes before it leaves).
        self.pipeline = pipeline

    def settle(self) -> Counter[Settled]:
        """Decide every message an earlier sender left unconfirmed; never by sending again
        on a guess. A message whose "handed over" record is missing, in this same boot,
        never reached the server's last step: it simply goes again."""
        verdicts: Counter[Settled] = Counter()
        for left in self.store.left():
            verdict: Settled
            if never_handed(left.handed, left.boot):
                verdict = "unsent"
            else:
                verdict = settle(self.lookup, left.message_id)
            self.store.settled(left, verdict)
            verdicts[verdict] += 1
        return verdicts

    def _abandon(self, item: Outgoing | None) -> None:
        """A message begun early that will not be sent in this run after all."""
        if item is not None:
            self.store.abandon(item)

    def run(
        self,
        queue: Callable[[], Sequence[Q]],
        build: Callable[[Q], Outgoing],
        *,
        ahead: int = 0,
        process: bool = False,
    ) -> Run[Q]:
        """Settle, then ``queue()`` (the feature's plan, written where it keeps it), then send."""
        self.settle()
        return self.send(queue(), build, ahead=ahead, process=process)

    def send(
        self,
        queue: Sequence[Q],
        build: Callable[[Q], Outgoing],
        *,
        ahead: int = 0,
        process: bool = False,
    ) -> Run[Q]:
        """Send ``queue`` in order, ``build`` running ahead of the sender: up to ``ahead``
        items on a thread, or (``process``, where :func:`~.prefetch.fork_is_safe`) in a forked
        process. A build that raised is in ``run.unbuilt`` (nothing of it was sent)."""
        run: Run[Q] = Run()
        streak = Streak()
        total = len(queue)
        with prefetch(queue, build, ahead, process=process) as composed:
            stream = iter(composed)
            upcoming = next(stream, None)
            early: Callable[[], None] | None = None  # the upcoming one's record, begun early
            position = -1
            while upcoming is not None:
                position += 1
                entry, built = upcoming
                upcoming, record, early = None, early, None
                if self.pace is not None:
                    reason = self.pace.stop_reason(self.now())
                    if reason:
                        self._abandon(built if isinstance(built, Outgoing) and record else None)
                        run.stopped, run.why = reason, "limit"
                        run.remaining = list(queue[position:])
                        return run
                    self.pace.wait(self.monotonic, self.rules.sleep)
                if isinstance(built, Exception):
                    run.unbuilt.append((entry, built))
                    if self.unexpected == "raise":
                        raise built
                    upcoming = next(stream, None)
                    continue
                # The next message, when it is ready, starts with this one: its write-ahead
                # record now (the fsync overlaps this message's round trip), its envelope on
                # the wire with this one's final dot (SmtpTransport.send's ``then``).
                then: Outgoing | None = None
                if self.pipeline:
                    upcoming = next(stream, None)
                    if upcoming is not None and isinstance(upcoming[1], Outgoing):
                        then = upcoming[1]
                try:
                    if record is None:
                        record = self.store.begin(built)
                    if then is not None:
                        early = self.store.begin(then)
                    failed = attempt(
                        self.deliver,
                        built.data,
                        built.message_id,
                        self.lookup,
                        self.rules,
                        record,
                        then.data if then is not None else None,
                    )
                except Exception as error:
                    if self.unexpected == "raise":
                        raise
                    # Unknown whether it left: its write-ahead record stands for the next
                    # run to settle; the rest stays queued.
                    log.exception("sending %s failed unexpectedly", built.key)
                    self._abandon(then if early is not None else None)
                    run.stopped = f"sending stopped on an unexpected error: {error}"
                    run.why = "error"
                    run.remaining = list(queue[position + 1 :])
                    return run
                self.store.finish(built, failed)
                if failed is None:
                    run.sent += 1
                    if self.pace is not None:
                        self.pace.record(self.monotonic)
                elif failed.temporary:
                    run.retry_later.append((built, failed))
                else:
                    run.failed.append((built, failed))
                if streak.outcome(failed):
                    self._abandon(then if early is not None else None)
                    run.stopped, run.why = f"the server keeps failing: {failed}", "server"
                    run.remaining = list(queue[position + 1 :])
                    return run
                if self.progress is not None:
                    self.progress(position + 1, total)
                self.store.checkpoint()
                if not self.pipeline:
                    upcoming = next(stream, None)
        return run
