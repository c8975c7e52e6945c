"""The write-ahead journal that makes "at most one message per recipient" survive a crash.

Shared by everything that sends (campaigns here, notices through a subclass in
:mod:`addin.notify.journal`), so it lives below the features that use it.

Saving a large workbook after every message would cap a campaign at a few messages a second, so
the durable record of each send is a small append-only file beside the workbook
(``crm.xlsx.sends-journal``), one JSON line per step:

1. ``sending`` — written and fsync'd *before* the message leaves, with a token of its own;
2. at the last moment before the server takes the message (just before SMTP's final dot) that
   token goes into the slot beside the journal (``crm.xlsx.sends-journal.handed``,
   :mod:`addin.outbox.handed`): one copy into mapped memory, so a kill can hardly land between
   the record and the dot. Journals from before the slot have a second ``sending`` line with
   ``handed`` instead, and are still read;
3. ``sent`` / ``failed`` / ``draft`` — written after the server answered (and on disk with the
   next fsync: see :meth:`Journal.append`).

Every minute (or ten thousand messages), and at the end, the journal is folded into the Sends
table (one workbook save) and emptied of every finished send; a send still ``sending`` (a run
stopped by Ctrl-C or an error after its write-ahead line) keeps its line for the next run to
settle. A run that was killed leaves the journal behind; the next run folds it in first. A
recipient whose last line is a ``sending`` that was not handed over, written since the machine
last started, never left and is queued again; otherwise the message may have left. It is never
sent again blindly — the transport is asked whether it has the Message-ID in its sent items,
and when it cannot tell, the row says so and waits for a person.

An exclusive lock on the journal keeps two runs (a scheduled one and a person at the keyboard)
from sending the same campaign at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from .errors import XlcrmError

SUFFIX = ".sends-journal"


@dataclass(frozen=True)
class Entry:
    """One step of one send."""

    campaign: str
    customer_id: str
    status: str  # sending, sent, failed, draft
    email: str = ""
    message_id: str = ""
    at: str = ""  # ISO 8601, local time
    error: str = ""
    subject: str = ""
    # The outbox's narrow window (addin.outbox): the fsync'd ``sending`` line carries the
    # machine's boot id and a token, which goes into the journal's handed-over slot just
    # before the server takes the message. A ``sending`` not handed over (neither in the slot
    # nor followed by a ``handed`` line, as older runs wrote) from this boot never left.
    handed: bool = False
    boot: str = ""
    token: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.campaign, self.customer_id)


def journal_path(book_path: Path) -> Path:
    return book_path.with_name(book_path.name + SUFFIX)


J = TypeVar("J", bound="Journal")


class Journal:
    """The journal of one workbook, opened for appending under an exclusive lock."""

    entry_type: type[Any] = Entry  # what one line holds; the notices' journal has its own

    def __init__(self, book_path: Path) -> None:
        self.path = journal_path(book_path)
        self._file: IO[str] | None = None

    def __enter__(self: J) -> J:
        self._file = open(self.path, "a+", encoding="utf-8", newline="\n")
        try:
            _lock(self._file)
        except OSError:
            self._file.close()
            self._file = None
            raise XlcrmError(
                str(self.path),
                "another xlcrm run is sending from this workbook right now",
                "wait for it to finish; two runs at once could mail a customer twice",
            ) from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()  # closing releases the lock
            self._file = None

    def append(self, entry: Entry, *, sync: bool = True) -> None:
        """Add ``entry``; with ``sync`` (the default) it is on disk before this returns.

        Without ``sync`` the line is handed to the operating system only: it survives the
        process being killed, and the next synced line (the next ``sending``) takes it to
        disk. The sender syncs each ``sending`` — the write-ahead rule — and not each
        ``sent``: after a power cut a message whose ``sent`` was lost is *uncertain*, never
        sent twice.
        """
        file = self._require()
        # vars(): the fields as they are (asdict copies them deeply: 60 µs a line)
        file.write(json.dumps(vars(entry), ensure_ascii=False) + "\n")
        file.flush()
        if sync:
            os.fsync(file.fileno())

    def sync(self) -> None:
        """Put every line written so far on disk. Safe from another thread while this one
        writes: the sender fsyncs a message's ``sending`` line on a helper thread while the
        SMTP envelope is on the wire, and waits for it before the final dot."""
        os.fsync(self._require().fileno())

    def entries(self) -> list[Any]:
        """Everything written since the journal was last emptied; a torn last line is dropped."""
        file = self._require()
        file.seek(0)
        found = []
        for line in file.read().splitlines():
            try:
                data: dict[str, Any] = json.loads(line)
                found.append(self.entry_type(**data))
            except (ValueError, TypeError):
                continue  # the line being written when the process died
        file.seek(0, os.SEEK_END)
        return found

    def clear(self) -> None:
        """Empty the journal: every entry is now in the saved workbook."""
        file = self._require()
        file.truncate(0)
        file.seek(0)
        file.flush()
        os.fsync(file.fileno())

    def _require(self) -> IO[str]:
        if self._file is None:
            raise RuntimeError("the journal is not open")
        return self._file


def latest(entries: list[Entry]) -> dict[tuple[str, str], Entry]:
    """Each send's last step."""
    return {entry.key: entry for entry in entries}


def pending(book_path: Path) -> int:
    """How many lines the journal of ``book_path`` holds (0 when there is none), without locking."""
    with contextlib.suppress(OSError), open(journal_path(book_path), encoding="utf-8") as file:
        return sum(1 for line in file if line.strip())
    return 0


def _lock(file: IO[str]) -> None:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        file.seek(0)
        msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
