"""The notices' write-ahead journal: ``crm.xlsx.notices-journal`` beside the workbook.

The same mechanism as the campaigns' journal (:mod:`addin.journal`: one JSON line
per step, ``sending`` fsync'd before the message leaves, an exclusive lock so that two runs
never send at once), in a file of its own so that folding campaign sends into the Sends table
never sees a notice. A line carries what the Interactions row needs, so a notice sent by a run
that died before saving is recorded by the next run even when nobody asks for it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..journal import Journal

SUFFIX = ".notices-journal"


@dataclass(frozen=True)
class NoticeEntry:
    """One step of one notice: ``sending``, then ``sent`` or ``failed``."""

    key: str
    status: str
    message_id: str
    to: str = ""
    subject: str = ""
    at: str = ""  # ISO 8601, local time
    error: str = ""
    customer_id: str | None = None
    deal_id: str | None = None
    ticket_id: str | None = None
    salt: str = ""  # the workbook's notice salt, for a run that died before saving a new one
    # The outbox's narrow window, as in the campaigns' journal (addin.journal.Entry): this
    # boot's id and a token on the fsync'd ``sending`` line; the token goes into the journal's
    # handed-over slot just before the server takes the notice. A ``sending`` not handed over
    # (``handed``: the line older runs wrote instead) from this boot never left.
    handed: bool = False
    boot: str = ""
    token: str = ""


def notices_journal_path(book_path: Path) -> Path:
    return book_path.with_name(book_path.name + SUFFIX)


class NoticeJournal(Journal):
    """The notices' journal of one workbook, locked while open (see :class:`Journal`)."""

    entry_type = NoticeEntry

    def __init__(self, book_path: Path) -> None:
        super().__init__(book_path)
        self.path = notices_journal_path(book_path)


def latest_steps(entries: list[NoticeEntry]) -> dict[str, NoticeEntry]:
    """Each notice's last step, by key."""
    return {entry.key: entry for entry in entries}


def pending_notices(book_path: Path) -> int:
    """How many lines the notices journal holds (0 when there is none), without locking."""
    try:
        with open(notices_journal_path(book_path), encoding="utf-8") as file:
            return sum(1 for line in file if line.strip())
    except OSError:
        return 0
