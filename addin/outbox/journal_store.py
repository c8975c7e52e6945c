"""A store over the write-ahead journal beside a closed workbook (:mod:`addin.journal`).

Each message gets a ``sending`` line carrying this boot's id, written at once and fsync'd on a
helper thread while the envelope is on the wire; the "handed over" record waits for that fsync
(durable before anything can be delivered) and writes a second ``sending`` line with
``handed`` — to the operating system only, which keeps it through a kill — just before the
server takes the message. Campaigns (:mod:`addin.campaigns.run`) and notices
(:mod:`addin.notify.send`) subclass it with their own lines and their own way to the workbook.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ..journal import Journal
from .engine import Left, Outgoing
from .rules import Failed, Settled


class JournalStore:
    """The journal part of a :class:`~.engine.Store`; subclasses say what a line holds
    (:meth:`sending`) and what settling and finishing write (:meth:`settled`, :meth:`finish`).
    Use it as a context manager: the fsync thread stops at the end."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._syncer = ThreadPoolExecutor(1, thread_name_prefix="journal-fsync")
        self.open: dict[str, Any] = {}  # the ``sending`` line of each message in flight

    def __enter__(self) -> JournalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self._syncer.shutdown(wait=True)

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
        """Begun, never sent: its ``sending`` line without ``handed`` already says it never
        left (a later run queues it again); subclasses may say so at once."""
        self.open.pop(item.key, None)

    # -- the shared part

    def left(self) -> Sequence[Left]:
        """Every message whose last line is ``sending``."""
        latest = {entry.key: entry for entry in self.journal.entries()}
        return [
            Left(key, self.lookup_id(entry), entry.handed, entry.boot, entry)
            for key, entry in latest.items()
            if entry.status == "sending"
        ]

    def lookup_id(self, entry: Any) -> str:
        """The Message-ID as the sent items are searched for it."""
        return str(entry.message_id)

    def begin(self, item: Outgoing) -> Callable[[], None]:
        entry = self.sending(item)
        self.open[item.key] = entry
        self.journal.append(entry, sync=False)
        synced = self._syncer.submit(self.journal.sync)
        handed = dataclasses.replace(entry, handed=True, boot="")

        def record(synced: Future[None] = synced) -> None:
            synced.result()  # the ``sending`` line is on disk before anything can be delivered
            self.journal.append(handed, sync=False)

        return record
