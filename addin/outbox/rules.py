"""The rules every sender obeys: when a message counts as handed over, how a message left
unconfirmed is settled, how a temporary failure is retried, when the server is taken to be down.

- **the narrowest window** (:func:`hand_over`): the "handed over" record is written at the last
  moment before the server takes the message — over SMTP in ``before_commit``, just before the
  final ``.``, as one copy into mapped memory (:mod:`.handed`) — so a sender killed earlier left
  no record and the message simply goes again, and only a message recorded but unconfirmed needs
  settling;
- **settling** (:func:`settle`) such a message from the transport's sent items (EWS, Graph,
  a mailbox's Sent folder), *uncertain* — left for a person, never sent again on a guess —
  only where the transport cannot tell (plain SMTP);
- **retries** (:func:`attempt`): temporary failures are tried again with back-off, a failure
  after the content was handed over is settled rather than retried blindly;
- **"the server keeps failing"** (:class:`Streak`): after :data:`SERVER_DOWN` messages in a
  row failed temporarily, the run stops and leaves the rest queued;
- **who is sending** (:class:`Owner`): the boot, process and start time of a sender, so that
  another process can tell a sender that died from one still at work.

Only :mod:`.engine` calls these; senders use the engine.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

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
    cause: str = ""  # the transport's own words, without what the sender should do

    def __str__(self) -> str:
        return self.text


Lookup = Callable[[str], bool | None]  # a Message-ID → found, not found, or cannot tell


def was_sent(lookup: Lookup | None, msgid: str) -> bool | None:
    """Whether ``lookup`` finds ``msgid`` where a message handed over ends up — the
    transport's sent items (``was_sent``), or a mailbox's drafts (``was_drafted``) for a run
    that saves drafts; None when it cannot tell (SMTP) or the look-up failed (logged: a
    failed look-up must not pass for "not sent")."""
    if lookup is None or not msgid:
        return None
    try:
        found = lookup(msgid)
    except MailboxError as error:
        log.warning("could not look for %s in the sent items: %s", msgid, error)
        return None
    return None if found is None else bool(found)


@functools.lru_cache(maxsize=1)
def boot_id() -> str:
    """This boot of the machine ("" where the system does not say: then nothing is assumed).

    A record written to a file without fsync (a line, or the handed-over slot's mapped page)
    survives the process being killed but not the machine stopping; within one boot, a "handed
    over" record that is missing was never written, so the message never reached the server's
    final step and may simply go again."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as file:
            return file.read().strip()
    except OSError:
        return ""


def _started(pid: int) -> str:
    """When process ``pid`` started, in clock ticks since boot ("" where unknown): with the
    pid, it names one process even after the pid is reused."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as file:
            return file.read().rpartition(")")[2].split()[19]
    except (OSError, IndexError):
        return ""


@dataclass(frozen=True)
class Owner:
    """The process that sends a batch: this boot, its pid and its start time."""

    boot: str
    pid: int
    started: str

    @classmethod
    def here(cls) -> Owner:
        return cls(boot_id(), os.getpid(), _started(os.getpid()))

    def alive(self) -> bool:
        """Whether that very process still runs. A different boot means it died with the
        machine; the same pid with another start time is a new process."""
        here = boot_id()
        if self.boot and here and self.boot != here:
            return False
        if self.pid == os.getpid():
            return self.started == _started(self.pid)
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # someone else's process: it exists
        except OSError:
            return True  # cannot tell: assume it is at work (never settle its rows)
        started = _started(self.pid)
        return not (self.started and started and started != self.started)


def never_handed(handed: bool, boot: str) -> bool:
    """Whether a ``sending`` record whose process died proves the message never left: it was
    not marked handed over, and the machine has not restarted since (see :func:`boot_id`)."""
    return not handed and bool(boot) and boot == boot_id()


def settle(lookup: Lookup | None, msgid: str) -> Settled:
    """What became of a message recorded as handed over but never confirmed."""
    found = was_sent(lookup, msgid)
    if found:
        return "sent"
    return "unsent" if found is False else "uncertain"


@functools.lru_cache(maxsize=32)
def _takes(kind: Any, name: str, parameter: str) -> bool:
    try:
        return parameter in inspect.signature(getattr(kind, name)).parameters
    except (TypeError, ValueError):
        return False


def hand_over(
    deliver: Callable[..., None],
    data: bytes,
    record: Callable[[], None],
    then: bytes | None = None,
) -> None:
    """``deliver(data)``, with ``record`` (the "handed over" line) called at the last moment
    before the server takes the message.

    A transport whose ``send`` takes ``before_commit`` (SMTP: before the final dot) calls it
    there; for the others (EWS, Graph, saving a draft) the one call is the whole window, so
    the record goes first. Either way a message with no record never left. ``then`` (the
    message to be sent next) goes to a transport that can start it early (SMTP: its envelope
    with this message's final dot)."""
    owner = getattr(deliver, "__self__", None)
    name = getattr(deliver, "__name__", "")
    kind: Any = type(owner)
    if owner is not None and _takes(kind, name, "before_commit"):
        if then is not None and _takes(kind, name, "then"):
            deliver(data, before_commit=record, then=then)
        else:
            deliver(data, before_commit=record)
        return
    record()
    deliver(data)


def attempt(
    deliver: Callable[..., None],
    data: bytes,
    msgid: str,
    lookup: Lookup | None,
    rules: RetryRules,
    record: Callable[[], None] | None = None,
    then: bytes | None = None,
) -> Failed | None:
    """Send once, retrying temporary failures with back-off; None when it went.

    ``record`` is the durable "handed over" (see :func:`hand_over`); without it ``deliver``
    is called plainly (the caller recorded already). A failure after the message was handed
    over (the line dropped after the final dot, a gateway timeout) may have delivered it: it
    is retried only when ``lookup`` (the transport's sent items) says it did not go, and is
    *uncertain* — left for a person — when it cannot tell.
    """
    delay = rules.backoff
    for number in range(1, rules.attempts + 1):
        try:
            if record is None:
                deliver(data)
            else:
                hand_over(deliver, data, record, then)
            return None
        except MailboxError as error:
            temporary = bool(getattr(error, "temporary", False))
            text = error.message
            if temporary and getattr(error, "maybe_sent", False):
                found = was_sent(lookup, msgid)
                if found:
                    return None
                if found is None:
                    return Failed(f"{text}; {UNCERTAIN}", False, uncertain=True, cause=text)
            if not temporary or number == rules.attempts:
                return Failed(text, temporary, cause=text)
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
