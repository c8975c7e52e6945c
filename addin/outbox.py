"""The outbox: the one place that decides how a message is handed over, retried and settled.

Everything that sends mail — CLI campaigns (:mod:`addin.campaigns.run`), the ribbon's claimed
batches (:mod:`addin.campaigns.batches`), rule notices, reminders, escalations and surveys
(:mod:`addin.notify.send`) — goes settle → queue → send → record over its own store (the
journal beside a closed workbook, or the Sends claims the service workers share). What must be
the same for all of them lives here, so that a fix to one is a fix to all:

- **the narrowest window** (:func:`hand_over`): the durable "handed over" record is written
  at the last moment before the server takes the message — over SMTP in ``before_commit``,
  just before the final ``.`` — so a sender killed earlier left no record and the message
  simply goes again, and only a message recorded but unconfirmed needs settling;
- **settling** (:func:`settle`) such a message from the transport's sent items (EWS, Graph,
  a mailbox's Sent folder), *uncertain* — left for a person, never sent again on a guess —
  only where the transport cannot tell (plain SMTP);
- **retries** (:func:`attempt`): temporary failures are tried again with back-off, a failure
  after the content was handed over is settled rather than retried blindly;
- **"the server keeps failing"** (:class:`Streak`): after :data:`SERVER_DOWN` messages in a row
  failed temporarily, the run stops and leaves the rest queued;
- **speed** (:class:`Prefetch`): the next messages are rendered and built on a thread while
  the current one waits on the network (socket waits release the GIL), a bounded number
  ahead so memory stays flat.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

from sync.mailbox import MailboxError

log = logging.getLogger(__name__)

# Messages in a row that failed temporarily after every retry: the server is down or
# throttling hard, so the run stops and leaves the rest queued for the next one.
SERVER_DOWN = 3
UNCERTAIN = (
    "it may have been delivered. Check the sent items, then run again with --retry-failed "
    "to send it"
)
Settled = Literal["sent", "unsent", "uncertain"]


class RetryRules(Protocol):
    """How often and how patiently a temporary failure is tried again (CampaignOptions)."""

    @property
    def attempts(self) -> int: ...
    @property
    def backoff(self) -> float: ...
    @property
    def sleep(self) -> Callable[[float], None]: ...


@dataclass
class Failed:
    """A message that did not go: ``temporary`` ones stay queued for a later run;
    ``uncertain`` ones may have gone and wait for a person."""

    text: str
    temporary: bool
    uncertain: bool = False

    def __str__(self) -> str:
        return self.text


def was_sent(transport: Any, msgid: str) -> bool | None:
    """Whether the transport's sent items hold ``msgid``; None when it cannot tell (SMTP) or
    the look-up failed (logged: a failed look-up must not pass for "not sent")."""
    check = getattr(transport, "was_sent", None)
    if check is None or not msgid:
        return None
    try:
        found = check(msgid)
    except MailboxError as error:
        log.warning("could not look for %s in the sent items: %s", msgid, error)
        return None
    return None if found is None else bool(found)


@functools.lru_cache(maxsize=1)
def boot_id() -> str:
    """This boot of the machine ("" where the system does not say: then nothing is assumed).

    A line written to a file without fsync survives the process being killed but not the
    machine stopping; within one boot, a "handed over" line that is missing was never
    written, so the message never reached the server's final step and may simply go again."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as file:
            return file.read().strip()
    except OSError:
        return ""


def never_handed(handed: bool, boot: str) -> bool:
    """Whether a ``sending`` record whose process died proves the message never left: it was
    not marked handed over, and the machine has not restarted since (see :func:`boot_id`)."""
    return not handed and bool(boot) and boot == boot_id()


def settle(transport: Any, msgid: str) -> Settled:
    """What became of a message recorded as handed over but never confirmed."""
    found = was_sent(transport, msgid)
    if found:
        return "sent"
    return "unsent" if found is False else "uncertain"


@functools.lru_cache(maxsize=32)
def _takes_before_commit(kind: Any, name: str) -> bool:
    try:
        return "before_commit" in inspect.signature(getattr(kind, name)).parameters
    except (TypeError, ValueError):
        return False


def hand_over(deliver: Callable[..., None], data: bytes, record: Callable[[], None]) -> None:
    """``deliver(data)``, with ``record`` (the "handed over" line) called at the last moment
    before the server takes the message.

    A transport whose ``send`` takes ``before_commit`` (SMTP: before the final dot) calls it
    there; for the others (EWS, Graph, saving a draft) the one call is the whole window, so
    the record goes first. Either way a message with no record never left."""
    owner = getattr(deliver, "__self__", None)
    name = getattr(deliver, "__name__", "")
    kind: Any = type(owner)
    if owner is not None and _takes_before_commit(kind, name):
        deliver(data, before_commit=record)
        return
    record()
    deliver(data)


def attempt(
    deliver: Callable[..., None],
    data: bytes,
    msgid: str,
    transport: Any,
    rules: RetryRules,
    record: Callable[[], None] | None = None,
) -> Failed | None:
    """Send once, retrying temporary failures with back-off; None when it went.

    ``record`` is the durable "handed over" (see :func:`hand_over`); without it ``deliver``
    is called plainly (the caller recorded already). A failure after the message was handed
    over (the line dropped after the final dot, a gateway timeout) may have delivered it: it
    is retried only when the transport's sent items say it did not go, and is *uncertain* —
    left for a person — when the transport cannot tell.
    """
    delay = rules.backoff
    for number in range(1, rules.attempts + 1):
        try:
            if record is None:
                deliver(data)
            else:
                hand_over(deliver, data, record)
            return None
        except MailboxError as error:
            temporary = bool(getattr(error, "temporary", False))
            text = error.message
            if temporary and getattr(error, "maybe_sent", False):
                found = was_sent(transport, msgid)
                if found:
                    return None
                if found is None:
                    return Failed(f"{text}; {UNCERTAIN}", temporary=False, uncertain=True)
            if not temporary or number == rules.attempts:
                return Failed(text, temporary)
            wait = getattr(error, "retry_after", None) or delay
            log.info("temporary failure (%s); trying again in %.0f s", text, wait)
            rules.sleep(wait)
            delay *= 2
    return None  # pragma: no cover - the loop always returns


class Streak:
    """Temporary failures in a row: :data:`SERVER_DOWN` of them mean the server is down."""

    def __init__(self) -> None:
        self.count = 0

    def outcome(self, failed: Failed | None) -> bool:
        """Count one message's outcome; True when the run should stop."""
        if failed is None or not failed.temporary:
            self.count = 0
            return False
        self.count += 1
        return self.count >= SERVER_DOWN


T = TypeVar("T")
R = TypeVar("R")
_DONE = object()


class Prefetch(Generic[T, R]):
    """``build(item)`` for each item, done up to ``ahead`` items in advance on one thread.

    Iterating yields ``(item, result)`` in order; ``result`` is the exception when ``build``
    raised (the caller decides: one bad message must not stop a campaign). Rendering a rich
    template costs milliseconds of CPU a message, which then overlaps the network round trips
    of the message before it. Leaving the loop early (``close``) stops the thread after at
    most ``ahead`` wasted builds; nothing is sent by it, so nothing needs undoing.
    """

    # While the builder holds the GIL, the sender whose reply has arrived waits up to the
    # interpreter's switch interval (5 ms by default) to get it back: per message that is more
    # than a loopback round trip. A shorter interval while prefetching hands it back sooner.
    switch_interval = 0.0005

    def __init__(self, items: Iterable[T], build: Callable[[T], R], ahead: int = 8) -> None:
        self._saved_interval = sys.getswitchinterval()
        self._inline = ahead < 1  # no thread: build each item when it is asked for
        self._items = iter(items)
        self._build = build
        if self._inline:
            return
        sys.setswitchinterval(min(self._saved_interval, self.switch_interval))
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max(1, ahead))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-prefetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for item in self._items:
            if self._stop.is_set():
                return
            try:
                result: Any = self._build(item)
            except Exception as error:  # handed to the consumer, which reports it
                result = error
            while not self._stop.is_set():
                try:
                    self._queue.put((item, result), timeout=0.1)
                    break
                except queue.Full:
                    continue
        self._queue.put(_DONE)

    def __iter__(self) -> Iterator[tuple[T, R | Exception]]:
        if self._inline:
            for item in self._items:
                try:
                    result: R | Exception = self._build(item)
                except Exception as error:
                    result = error
                yield item, result
            return
        while True:
            got = self._queue.get()
            if got is _DONE:
                return
            yield got

    def close(self) -> None:
        if self._inline:
            return
        self._stop.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()
        sys.setswitchinterval(self._saved_interval)

    def __enter__(self) -> Prefetch[T, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
