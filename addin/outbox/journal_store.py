"""A store over the write-ahead journal beside a closed workbook (:mod:`addin.journal`).

Each message gets a ``sending`` line carrying this boot's id and a token of its own, written at
once and fsync'd on a helper thread while the envelope is on the wire. The "handed over"
record waits for that fsync (durable before anything can be delivered), then puts the token in
the journal's :class:`~.handed.HandedSlot` — one copy into mapped memory, kept through a kill —
just before the server takes the message. Campaigns (:mod:`addin.campaigns.run`) and notices
(:mod:`addin.notify.send`) subclass it with their own lines and their own way to the workbook.

Journals written before the slot existed mark a handed-over message with a second ``sending``
line with ``handed``; :meth:`JournalStore.was_handed` still reads them.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..journal import Journal
from .engine import Left, Outgoing
from .handed import HandedSlot
from .rules import Failed, Settled


class JournalStore:
    """The journal part of a :class:`~.engine.Store`; subclasses say what a line holds
    (:meth:`sending`) and what settling and finishing write (:meth:`settled`, :meth:`finish`).
    Use it as a context manager: the fsync thread stops and the slot closes at the end.

    The journal must be open (its lock held): the slot beside it is this run's alone."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._syncer = ThreadPoolExecutor(1, thread_name_prefix="journal-fsync")
        self.open: dict[str, Any] = {}  # the ``sending`` line of each message in flight
        self.slot = HandedSlot(handed_path(journal.path))

    def __enter__(self) -> JournalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self._syncer.shutdown(wait=True)
        self.slot.close()

    # -- what subclasses say

    def sending(self, item: Outgoing) -> Any:
        """The ``sending`` line of ``item`` (with ``boot=boot_id()``)."""
        raise NotImplementedError

    def settled(self, left: Left, verdict: Settled) -> None:
        raise NotImplementedError

    def finish(self, item: Outgoing, failed: Failed | None) -> None:
        raise NotImplementedError

    def checkpoint(self) -> None:
        """Nothing by default: the caller folds the journal at the end."""

    def abandon(self, item: Outgoing) -> None:
        """Begun, never sent: its ``sending`` line, never handed over, already says it never
        left (a later run queues it again); subclasses may say so at once."""
        self.open.pop(item.key, None)

    # -- the shared part

    def left(self) -> Sequence[Left]:
        """Every message whose last line is ``sending``."""
        return self.left_in(self.journal.entries())

    def left_in(self, entries: Sequence[Any]) -> list[Left]:
        """:meth:`left` of the journal's ``entries``, read once by the caller."""
        latest = {entry.key: entry for entry in entries}
        handed = self.handed_now()
        return [
            Left(key, self.lookup_id(entry), self.was_handed(entry, handed), entry.boot, entry)
            for key, entry in latest.items()
            if entry.status == "sending"
        ]

    def handed_now(self) -> str:
        """The token in the slot: the message an earlier run was handing over when it
        stopped (if it stopped there), read before this run hands over anything."""
        return HandedSlot.read(self.slot.path)

    @staticmethod
    def was_handed(entry: Any, handed_now: str) -> bool:
        """Whether the ``sending`` line ``entry`` was handed over: the slot names its token,
        or (a journal from before the slot) a ``handed`` line followed it."""
        return bool(entry.handed) or (bool(entry.token) and entry.token == handed_now)

    def lookup_id(self, entry: Any) -> str:
        """The Message-ID as the sent items are searched for it."""
        return str(entry.message_id)

    def begin(self, item: Outgoing) -> Callable[[], None]:
        # A token for this ``sending`` line alone: the slot may still name one of an earlier
        # run's lines (its outcome written since), and that one now matches nothing.
        entry = dataclasses.replace(self.sending(item), token=secrets.token_hex(8))
        self.open[item.key] = entry
        self.journal.append(entry, sync=False)
        synced = self._syncer.submit(self.journal.sync)
        handed = HandedSlot.encode(entry.token)

        def record(synced: Future[None] = synced) -> None:
            synced.result()  # the ``sending`` line is on disk before anything can be delivered
            self.slot.put(handed)  # the last statement before the final dot (see handed.py)

        return record


def handed_path(journal_path: Path) -> Path:
    """The slot file beside a journal: ``crm.xlsx.sends-journal.handed``."""
    return journal_path.with_name(journal_path.name + ".handed")
