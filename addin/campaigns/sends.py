"""The Sends table: one row per (campaign, customer), and folding the journal into it.

A row moves queued → sending → sent / failed, or is created ``skipped`` with the reason in its
error cell (unsubscribed, bounced, no or invalid address, a template problem); ``draft`` when the
message was saved to a Drafts folder for a person to send. Sync later turns ``sent`` into
``bounced`` or ``replied``. Any status but ``queued`` (and ``failed``, when asked to retry) means
the customer is not mailed again by this campaign.

:func:`fold` is the only place sends reach the workbook during a run: it re-opens the workbook
(a person may have saved it in Excel meanwhile), applies the journal's latest step per send,
records each sent message as an outgoing e-mail interaction, saves once and empties the journal.
When the workbook cannot be written (open in Excel, changed on disk) the journal is kept and the
next run folds it in: nothing is lost and nothing is sent twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sync.message.addresses import normalise_message_id

from ..errors import WorkbookError
from ..journal import Entry, Journal, latest
from ..workbook import Book

DONE = frozenset({"sent", "draft", "skipped", "bounced", "replied"})
SENT_LIKE = frozenset({"sent", "bounced", "replied"})
# The note on a row a resumed run settled from the mailbox instead of sending it again.
FOUND_SENT = "found in the sent items after an interruption"
FOUND_DRAFT = "found in the drafts after an interruption"


def campaign_rows(book: Book, campaign: str) -> dict[str, dict[str, Any]]:
    """This campaign's Sends rows by customer id (campaign names match ignoring case)."""
    wanted = campaign.strip().casefold()
    return {
        row["customer_id"]: row
        for row in book.table("sends").rows()
        if isinstance(row.get("campaign"), str)
        and row["campaign"].strip().casefold() == wanted
        and row.get("customer_id")
    }


def sent_on(book: Book, day: dt.date) -> int:
    """Messages any campaign sent on ``day`` (for the per-day limit)."""
    count = 0
    for row in book.table("sends").rows():
        at = row.get("sent_at")
        if row.get("status") in SENT_LIKE and isinstance(at, dt.datetime) and at.date() == day:
            count += 1
    return count


def entry_changes(entry: Entry) -> dict[str, Any]:
    """What one journal step changes in its Sends row."""
    changes: dict[str, Any] = {
        "campaign": entry.campaign,
        "customer_id": entry.customer_id,
        "status": entry.status,
        "error": entry.error or None,
    }
    if entry.email:
        changes["email"] = entry.email
    if entry.message_id:
        changes["message_id"] = entry.message_id
    if entry.status in ("sent", "draft") and entry.at:
        changes["sent_at"] = dt.datetime.fromisoformat(entry.at).replace(microsecond=0)
    return changes


def apply_entries(book: Book, entries: Iterable[Entry], mailbox: str | None = None) -> int:
    """Write the latest step of each send into ``book`` (unsaved); returns how many rows."""
    steps = latest(list(entries))
    if not steps:
        return 0
    book.table("sends").upsert_all(entry_changes(e) for e in steps.values())
    if book.has_table("interactions"):
        _log_interactions(book, [e for e in steps.values() if e.status == "sent"], mailbox)
    return len(steps)


def fold(book: Book, journal: Journal, mailbox: str | None = None) -> str | None:
    """Move the journal into the Sends table and **save** the book (what was sent must be
    on disk); returns why it could not (the journal stays, the book is as it was).

    A send whose last step is ``sending`` is not over — in flight, or stopped (a kill, Ctrl-C,
    an error) after its write-ahead line, perhaps after its final dot: the row shows it as
    ``sending``, and its line stays in the journal, with the token the handed-over slot may
    name, for the next run to settle. Emptying the journal would leave that run only the row,
    which :class:`~.store_journal.JournalSends` settles as "may have been handed over"."""
    entries = journal.entries()
    if not entries:
        return None
    savepoint = book.savepoint()
    try:
        apply_entries(book, entries, mailbox)
        book.save()
    except WorkbookError as error:
        savepoint.rollback()
        return str(error)
    unsettled = [entry for entry in latest(entries).values() if entry.status == "sending"]
    journal.clear()
    for entry in unsettled:
        journal.append(entry, sync=False)
    if unsettled:
        journal.sync()
    return None


def _log_interactions(book: Book, sent: list[Entry], mailbox: str | None) -> None:
    """Each sent campaign message as an outgoing e-mail, once (sync finds the same Message-ID
    in the Sent folder later and skips it)."""
    if not sent:
        return
    table = book.table("interactions")
    known = {
        normalise_message_id(v)
        for row in table.rows()
        if isinstance(v := row.get("message_id"), str) and v
    }
    columns = set(table.columns)
    zh = book.lang == "zh"
    rows: list[Mapping[str, Any]] = []
    for entry in sent:
        message_id = normalise_message_id(entry.message_id) if entry.message_id else None
        if message_id and message_id in known:
            continue
        row = {
            "customer_id": entry.customer_id,
            "kind": "email",
            "direction": "out",
            "at": dt.datetime.fromisoformat(entry.at).replace(microsecond=0) if entry.at else None,
            "to": entry.email,
            "subject": entry.subject or None,
            "summary": f"群发活动 {entry.campaign}" if zh else f"Campaign {entry.campaign}",
            "message_id": message_id,
            "thread_id": message_id,
            "mailbox": mailbox,
        }
        rows.append({k: v for k, v in row.items() if k in columns})
    table.insert_all(rows)
