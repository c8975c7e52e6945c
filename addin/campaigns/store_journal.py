"""The command line's outbox store: the journal beside the workbook, folded into Sends.

:func:`addin.campaigns.run.run_campaign` sends through :class:`~addin.outbox.Outbox` over this
store. A message's lines are ``sending`` (fsync'd before it can leave; its token goes into the
handed-over slot just before the final dot), then ``sent``/``draft``, ``queued`` (a temporary
failure) or ``failed``; the journal is folded into the Sends table every ``batch`` messages or
``batch_seconds``, and at the end (:func:`.sends.fold`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import XlcrmError
from ..journal import Entry, Journal
from ..outbox import UNCERTAIN, Failed, JournalStore, Left, Outgoing, Settled, boot_id
from ..workbook import Book
from .report import CampaignReport, Failure
from .sends import FOUND_DRAFT, FOUND_SENT, campaign_rows, fold

log = logging.getLogger(__name__)


def step(entry: Entry, status: str, at: str, error: str) -> Entry:
    """The next line of ``entry``'s send."""
    return Entry(
        entry.campaign,
        entry.customer_id,
        status,
        entry.email,
        entry.message_id,
        at,
        error,
        entry.subject,
    )


class JournalSends(JournalStore):
    """One campaign run's store; ``options`` is its :class:`~.run.CampaignOptions`."""

    def __init__(
        self,
        book: Book,
        journal: Journal,
        options: Any,
        report: CampaignReport,
        mailbox: str | None,
    ) -> None:
        super().__init__(journal)
        self.book = book
        self.options = options
        self.report = report
        self.mailbox = mailbox
        self.done_status = "draft" if options.mode == "drafts" else "sent"
        self._since_fold = 0
        self._last_fold = options.monotonic()

    def __enter__(self) -> JournalSends:
        return self

    def _at(self) -> str:
        return str(self.options.now().isoformat(timespec="seconds"))

    def sending(self, item: Outgoing) -> Entry:
        return Entry(
            self.report.campaign,
            item.key,
            "sending",
            item.address,
            item.message_id,
            self._at(),
            "",
            item.subject,
            boot=boot_id(),
        )

    def left(self) -> Sequence[Left]:
        """The journal's unsettled sends, and this campaign's rows the workbook shows as
        ``sending`` that the journal has no line for (its line lost with the machine between
        a fold and the next write): whether those were handed over is unknown, so they are
        settled as if they were — from the sent items, else "may have been delivered"."""
        entries = self.journal.entries()
        found = self.left_in(entries)
        if not self.book.has_table("sends"):
            return found
        journaled = {entry.customer_id for entry in entries}
        campaign = self.report.campaign
        for customer_id, row in campaign_rows(self.book, campaign).items():
            if row.get("status") != "sending" or customer_id in journaled:
                continue
            entry = Entry(
                campaign,
                customer_id,
                "sending",
                row.get("email") or "",
                row.get("message_id") or "",
            )
            found.append(Left(entry.key, self.lookup_id(entry), True, "", entry))
        return found

    def settled(self, left: Left, verdict: Settled) -> None:
        entry: Entry = left.record
        at = self._at()
        if verdict == "sent":  # for drafts: found in the drafts, and a draft it stays
            found = FOUND_DRAFT if self.done_status == "draft" else FOUND_SENT
            self.journal.append(step(entry, self.done_status, at, found))
            self.report.recovered += 1
        elif verdict == "unsent":
            self.journal.append(step(entry, "queued", at, ""))
        else:
            error = f"interrupted while sending: {UNCERTAIN}"
            self.journal.append(step(entry, "failed", at, error))
            self.report.uncertain.append(Failure(entry.customer_id, entry.email, error))

    def fold_settled(self, path: Path) -> None:
        """What settling decided (and what an earlier run left) into the workbook, before
        anything is queued: a workbook that cannot be written stops the run unsent."""
        warning = fold(self.book, self.journal, self.mailbox)
        if warning:
            raise XlcrmError(
                str(path),
                f"an earlier run's sends are not in the workbook yet and it cannot be written: "
                f"{warning}",
                "close the workbook in Excel and run again; nothing was sent",
            )

    def finish(self, item: Outgoing, failed: Failed | None) -> None:
        entry = self.open.pop(item.key)
        at = self._at()
        if failed is None:
            self.journal.append(step(entry, self.done_status, at, ""), sync=False)
            if self.done_status == "draft":
                self.report.drafts += 1
            else:
                self.report.sent += 1
        elif failed.temporary:
            self.journal.append(step(entry, "queued", at, f"will retry: {failed}"))
            self.report.retry_later += 1
        else:
            self.journal.append(step(entry, "failed", at, str(failed)))
            failure = Failure(item.key, item.address, str(failed))
            (self.report.uncertain if failed.uncertain else self.report.failed).append(failure)

    def abandon(self, item: Outgoing) -> None:
        """Begun early (the next message), but the run stopped first: queued, as it was."""
        entry = self.open.pop(item.key, None)
        if entry is not None:
            self.journal.append(step(entry, "queued", self._at(), ""), sync=False)

    def checkpoint(self) -> None:
        """Fold every ``batch`` messages or ``batch_seconds``, whichever comes first."""
        self._since_fold += 1
        options = self.options
        if (
            self._since_fold < options.batch
            and options.monotonic() - self._last_fold < options.batch_seconds
        ):
            return
        warning = fold(self.book, self.journal, self.mailbox)
        if warning:
            log.warning("the Sends table could not be updated yet: %s", warning)
        self._since_fold, self._last_fold = 0, options.monotonic()
