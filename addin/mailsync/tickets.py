"""A support mailbox (``xlcrm sync --tickets``): new threads become tickets, replies join them.

What each message does, once it is linked to a customer (an unknown sender is handled as
without ``--tickets``: reported, or a new lead with ``--create-leads``):

- **A customer starts a new thread** (its In-Reply-To/References name no message already
  recorded): a new Ticket — subject; description: the text they wrote, the quoted earlier
  message and signature cut off; opened: the message's date; its Message-ID and thread id;
  status *open*; classified, assigned and given a due time at once (:mod:`addin.tickets`).
  A reply in a thread recorded before without a ticket (a sales conversation) stays an
  ordinary interaction.
- **A message in a ticket's thread** — found by In-Reply-To/References, or by ``[T0042]`` in
  the subject (how a survey answer finds its ticket when a client drops the headers) — is
  recorded with that ticket's id. Ticket mail is not put on a deal, and it moves no deal's
  follow-up date.
- **Status**: our reply moves *open* → *pending* (处理中: we answered, the customer is next);
  the customer's reply moves *pending* → *open* (our turn). On a *resolved* or *closed* ticket
  a customer's reply is read as a survey answer first: a 1–5 rating is recorded in
  ``satisfaction`` (once: an existing rating is never overwritten); an answer to the survey
  (a reply to it, or ``[T0042]`` in the subject) without a clear rating is listed for a
  person; a short thank-you
  (``谢谢``, ``thanks, solved``) changes nothing; anything else **reopens** the ticket: status
  *open*, a new due time from the reply, the old resolved time moved into a ``ticket``
  interaction that says so. A reopened ticket is not escalated a second time.

Everything is written in the sync's one save; a message already recorded is skipped before it
gets here, so a second run creates no ticket twice.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..settings import Settings
from ..tickets.desk import Desk, prepare_workbook
from ..tickets.satisfaction import read_rating, ticket_tag
from ..workbook import Book
from .linking import stored_message_id
from .report import SyncReport

DESCRIPTION_CHARS = 2000
RESOLVED = frozenset({"resolved", "closed"})
_THANKS = re.compile(
    r"谢谢|感谢|多谢|收到|好的|已解决|解决了|\bthanks?\b|thank you|\bok\b|okay|\bgreat\b|"
    r"\bsolved\b|\bresolved\b|\bworks\b|\bfixed\b",
    re.IGNORECASE,
)
_NOT_DONE = re.compile(
    r"没|未|不|还是|仍|依然|又|再次|\bnot\b|n't|\bstill\b|\bagain\b|\bno\b", re.IGNORECASE
)
THANKS_CHARS = 60


def is_thanks(text: str) -> bool:
    """A short thank-you that needs no answer (``谢谢！``, ``Thanks, it works now``)."""
    text = text.strip()
    return (
        0 < len(text) <= THANKS_CHARS
        and _THANKS.search(text) is not None
        and _NOT_DONE.search(text) is None
    )


class TicketMail:
    """The ticket side of one sync run: the Tickets table, indexed by thread."""

    def __init__(
        self,
        book: Book,
        settings: Settings,
        customer_rows: Iterable[Mapping[str, Any]],
        interaction_rows: Iterable[Mapping[str, Any]],
        report: SyncReport,
    ) -> None:
        self.created_tables = prepare_workbook(book)
        self.book = book
        self.report = report
        self.desk = Desk(book, settings, customer_rows)
        self.table = book.table("tickets")
        self.tickets: dict[str, dict[str, Any]] = {}
        self.by_id: dict[str, str] = {}  # folded ticket id → id as written
        self.thread_of: dict[str, str] = {}  # Message-ID or thread id → ticket id
        for row in self.table.rows():
            ticket = row.get("id")
            if not ticket:
                continue
            self.tickets[ticket] = row
            self.by_id[ticket.upper()] = ticket
            self._remember(ticket, row.get("message_id"), row.get("thread_id"))
        self.surveys: set[str] = set()  # Message-IDs of the surveys we sent
        for seen in interaction_rows:
            ticket = seen.get("ticket_id")
            if ticket and ticket in self.tickets:
                self._remember(ticket, seen.get("message_id"), seen.get("thread_id"))
                ident = stored_message_id(seen.get("message_id"))
                if ident and seen.get("direction") == "out" and ticket_tag(seen.get("subject")):
                    self.surveys.add(ident)
        self.notes: list[dict[str, Any]] = []  # "ticket" interactions (reopened…)

    def _remember(self, ticket: str, *idents: object) -> None:
        for ident in idents:
            key = stored_message_id(ident)
            if key:
                self.thread_of.setdefault(key, ticket)

    # -- finding ---------------------------------------------------------------------------------

    def by_tag(self, subject: str | None) -> str | None:
        tag = ticket_tag(subject)
        return self.by_id.get(tag) if tag else None

    def customer_by_tag(self, subject: str | None) -> str | None:
        """The customer of the ticket named in the subject, for a sender the workbook lacks."""
        ticket = self.by_tag(subject)
        return self.tickets[ticket].get("customer_id") if ticket else None

    def find(self, thread_ids: list[str], subject: str | None, customer: str) -> str | None:
        for ident in thread_ids:
            ticket = self.thread_of.get(ident)
            if ticket:
                return ticket
        ticket = self.by_tag(subject)
        if ticket and self.tickets[ticket].get("customer_id") in (customer, None):
            return ticket
        return None

    # -- deciding --------------------------------------------------------------------------------

    def take(
        self,
        *,
        message_id: str,
        thread: str,
        thread_ids: list[str],
        subject: str,
        text: str,
        customer: str,
        outgoing: bool,
        at: dt.datetime | None,
        known_thread: bool,
    ) -> str | None:
        """The ticket this message belongs to (created when it starts one), or None.

        ``known_thread``: the message answers one already recorded (so it starts nothing).
        """
        ticket = self.find(thread_ids, subject, customer)
        if ticket is None:
            if outgoing or known_thread:
                return None
            ticket = self._open(message_id, thread, subject, text, customer, at)
        else:
            self._reply(ticket, thread_ids, subject, text, outgoing, at)
        self._remember(ticket, message_id, thread)
        return ticket

    def _open(
        self,
        message_id: str,
        thread: str,
        subject: str,
        text: str,
        customer: str,
        at: dt.datetime | None,
    ) -> str:
        triage = self.desk.triage(subject, text, customer, at)
        row = {
            "customer_id": customer,
            "status": "open",
            "opened": at,
            "subject": subject,
            "description": _trim(text),
            "message_id": message_id,
            "thread_id": thread,
            **triage.fields(),
        }
        ticket = str(self.table.insert(row))
        self.tickets[ticket] = {**row, "id": ticket}
        self.by_id[ticket.upper()] = ticket
        self.report.tickets_opened.append(ticket)
        if triage.assignment.assignee is None:
            self.report.tickets_unassigned.append(ticket)
        return ticket

    def _reply(
        self,
        ticket: str,
        thread_ids: list[str],
        subject: str,
        text: str,
        outgoing: bool,
        at: dt.datetime | None,
    ) -> None:
        row = self.tickets[ticket]
        status = row.get("status")
        changes: dict[str, Any] = {}
        if outgoing:
            if status in (None, "open"):
                changes["status"] = "pending"
        elif status == "pending":
            changes["status"] = "open"
        elif status in RESOLVED:
            survey = ticket_tag(subject) == ticket.upper() or any(
                i in self.surveys for i in thread_ids
            )
            changes = self._after_resolution(ticket, row, survey, text, at)
        if changes:
            self.table.update(ticket, changes)
            row.update(changes)
        self.report.ticket_messages += 1

    def _after_resolution(
        self,
        ticket: str,
        row: Mapping[str, Any],
        answers_survey: bool,
        text: str,
        at: dt.datetime | None,
    ) -> dict[str, Any]:
        rating = read_rating(text)
        if rating.value is not None:
            if row.get("satisfaction") is None:
                self.report.satisfaction[ticket] = rating.value
                return {"satisfaction": rating.value}
            return {}
        if answers_survey:
            if row.get("satisfaction") is None:
                self.report.unclear_ratings.append(ticket)
            return {}
        if is_thanks(text):
            return {}
        when = at or dt.datetime.now().replace(microsecond=0)
        resolved = row.get("resolved")
        was = resolved.strftime("%Y-%m-%d %H:%M") if isinstance(resolved, dt.datetime) else "?"
        zh = self.book.lang == "zh"
        self.notes.append(
            {
                "customer_id": row.get("customer_id"),
                "ticket_id": ticket,
                "kind": "ticket",
                "direction": "in",
                "at": when,
                "subject": row.get("subject"),
                "summary": (
                    f"客户回复后工单重新打开（原解决时间 {was}）"
                    if zh
                    else f"Reopened by the customer's reply (had been resolved {was})"
                ),
            }
        )
        self.report.tickets_reopened.append(ticket)
        return {
            "status": "open",
            "resolved": None,
            "due": self.desk.levels.due(when, row.get("priority")),
        }


def _trim(text: str) -> str:
    text = text.strip()
    if len(text) <= DESCRIPTION_CHARS:
        return text
    return text[:DESCRIPTION_CHARS].rstrip() + "…"
