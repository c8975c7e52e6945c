"""One sync run: a mailbox's new messages → Interactions rows, in one atomic save.

The order of work is what makes a run safe to interrupt and to repeat:

1. **List** what each folder holds beyond its saved state (``_xlcrm`` sheet, key
   ``sync|MAILBOX|FOLDER``). Nothing is written yet.
2. **Fetch and parse** every listed message. A mailbox error here (dropped connection, server
   gone) ends the run *before anything is written*: the next run lists the same messages again.
3. **Link** them in date order — so a reply finds the message it answers even when both arrive
   in the same run — and decide each one: recorded, or skipped with a reason. A message no
   rule links waits until the rest of the run is recorded and is tried again: a colleague's
   reply dated before the customer's own first message in the thread is linked by that
   thread, whatever the order the messages come in (a first sync finds what ``--rescan``
   would).
4. **Write** interactions, customers' last contact, deals' follow-up dates, bounced addresses,
   campaign sends' status *and the new folder states* in one save. A crash before the save
   changes nothing; after it, everything is there. Exactly once comes from the Message-ID
   (a content hash when a message has none): a message already in the table is never added
   again, whichever folder, mailbox or run it comes from.

The mailbox is only read; see :mod:`sync.mailbox`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sync.mailbox import LOCAL_SCHEMES, Folder, Mailbox, MessageRef
from sync.message import MailMessage, new_text, parse_message

from ..errors import UsageError
from ..settings import Settings, read_settings
from ..workbook import Book
from ..workbook.table import Table, paused_gc
from .effects import Effects
from .identity import NeverLog, Ours, is_automated, storable_address
from .linking import CustomerIndex, DealIndex, Match, ThreadIndex
from .report import SyncReport, Unknown
from .tickets import DESCRIPTION_CHARS, TicketMail

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
DEFAULT_ROLES = ("inbox", "sent")


@dataclass(frozen=True)
class SyncOptions:
    """How to sync; every field has the default a scheduled run wants."""

    me: tuple[str, ...] = ()  # our other addresses (aliases, shared mailboxes)
    internal_domains: tuple[str, ...] = ()
    never_log: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()  # by name; empty: the inbox and sent folders
    create_leads: bool = False
    rescan: bool = False  # ignore saved states: list everything again (deduplicated)
    dry_run: bool = False
    follow_up_days: int | None = None  # follow up this many days after our mail (else Settings, 3)
    tickets: bool = False  # a support mailbox: new threads become tickets (tickets.py)
    # The Interactions rows the book holds are only those whose Message-ID or thread is one
    # of these keys (the add-in's row filter, ``probe_mailbox``): a message naming another
    # key stops the run with ThreadKeysMissing before anything is decided.
    thread_keys: frozenset[str] | None = None
    progress: Progress | None = field(default=None, compare=False)


class ThreadKeysMissing(Exception):
    """The run fetched messages that name Message-IDs the book was not given the rows of
    (mail that came in after the probe). ``keys``: every key the run needs; ``count``: the
    messages it fetched."""

    def __init__(self, keys: frozenset[str], count: int) -> None:
        super().__init__(f"{len(keys)} thread keys needed for {count} messages")
        self.keys = keys
        self.count = count


@dataclass(frozen=True)
class Probe:
    """What a sync would read (:func:`probe_mailbox`)."""

    count: int  # new messages
    states: dict[str, str]  # the folders' state keys after them
    # Every Message-ID those messages are or name (their In-Reply-To and References): the
    # Interactions rows a sync of them needs are those holding one. None: not worked out.
    thread_keys: frozenset[str] | None = None


DEFAULT_FOLLOW_UP_DAYS = 3


def with_settings(options: SyncOptions, settings: Settings) -> SyncOptions:
    """The options with the workbook's Settings added: lists from both, a value given on the
    command line over the Settings one."""
    days = options.follow_up_days
    if days is None:
        days = settings.int("follow_up_days")
    return dataclasses.replace(
        options,
        internal_domains=(*options.internal_domains, *settings.list("internal_domains")),
        never_log=(*options.never_log, *settings.list("never_log")),
        follow_up_days=DEFAULT_FOLLOW_UP_DAYS if days is None else days,
    )


def state_key(mailbox: Mailbox, folder: str) -> str:
    """Where a folder's state is kept in ``_xlcrm``: per mailbox URL and folder. A local
    mailbox is named by its absolute path, so ``maildir:./mail`` run from another folder, or
    written out in full, is still the same mailbox."""
    url = mailbox.url
    scheme, _, path = url.partition(":")
    if scheme in LOCAL_SCHEMES:
        url = f"{scheme}:{Path(path).expanduser().resolve()}"
    return f"sync|{url}|{folder}"


@dataclass
class _Fetched:
    ref: MessageRef
    role: str
    message: MailMessage
    text: str = ""  # the new text in full (quotes cut), kept for tickets only


def sync_mailbox(book: Book, mailbox: Mailbox, options: SyncOptions | None = None) -> SyncReport:
    """Record ``mailbox``'s new messages in ``book``, in memory: the caller saves.

    With ``options.dry_run`` the book is left as it was (a :meth:`~Book.savepoint` rolled
    back), the caller's own unsaved edits included. Returns the report; raises
    :class:`MailboxError` when the mailbox fails and :class:`~addin.errors.XlcrmError` for
    workbook problems, in both cases with the book as it was before the call.
    """
    with book.savepoint() as savepoint:  # a failure leaves the book as it was
        report = _record(book, mailbox, options)
    if report.dry_run:
        savepoint.rollback()
    return report


def _record(book: Book, mailbox: Mailbox, options: SyncOptions | None) -> SyncReport:
    settings = read_settings(book)
    options = with_settings(options or SyncOptions(), settings)
    report = SyncReport(
        mailbox.address or mailbox.url,
        dry_run=options.dry_run,
        rescan=options.rescan,
        tickets=options.tickets,
    )
    run = _Run(book, mailbox, options, report, settings)  # workbook problems show first
    folders = _chosen_folders(mailbox, options)
    states: dict[str, str] = {}
    refs: list[MessageRef] = []
    roles: dict[str, str] = {}
    for folder in folders:
        key = state_key(mailbox, folder.name)
        previous = None if options.rescan else book.state.get(key)
        changes = mailbox.changes(folder.name, previous)
        states[key] = changes.state
        refs += changes.refs
        roles[folder.name] = folder.role
        report.folders[folder.name] = len(changes.refs)
        if changes.reset and previous is not None:
            report.resets.append(folder.name)
    fetched = _fetch(mailbox, refs, roles, options.progress, keep_text=options.tickets)
    if options.thread_keys is not None:
        needed = _thread_keys(f.message for f in fetched)
        if not needed <= options.thread_keys:
            raise ThreadKeysMissing(needed | options.thread_keys, len(fetched))
    report.fetched = len(fetched)
    run.take_all(fetched)
    run.finish()

    for key, value in states.items():
        book.state[key] = value
    return report


def probe_mailbox(
    book: Book, mailbox: Mailbox, options: SyncOptions | None = None, *, keys_up_to: int = 0
) -> Probe:
    """How many messages a sync would read, and the folders' new state keys, without reading
    a table. The ribbon asks this first, so that a Sync mail with nothing new sends the
    service no customer list at all.

    With ``keys_up_to``, when there are that many new messages or fewer, they are fetched
    and their thread keys worked out: the add-in then sends only the Interactions rows that
    hold one (a few hundred instead of 300,000; ``SyncOptions.thread_keys``). Above it, or
    for ticket mail (which reads every interaction), no keys: fetching a first sync's
    thousands of messages twice would cost more than the rows."""
    options = options or SyncOptions()
    refs: list[MessageRef] = []
    states: dict[str, str] = {}
    for folder in _chosen_folders(mailbox, options):
        key = state_key(mailbox, folder.name)
        changes = mailbox.changes(folder.name, None if options.rescan else book.state.get(key))
        states[key] = changes.state
        refs += changes.refs
    keys = None
    if refs and len(refs) <= keys_up_to and not options.tickets:
        with paused_gc():
            keys = _thread_keys(parse_message(raw) for _, raw in mailbox.fetch(refs))
    return Probe(len(refs), states, keys)


def _thread_keys(messages: Iterable[MailMessage]) -> frozenset[str]:
    """The Message-IDs that decide these messages' fate: their own (recorded already?) and
    those they answer (whose thread, customer and deal?)."""
    keys: set[str] = set()
    for message in messages:
        keys.add(message.message_id)
        if message.in_reply_to:
            keys.add(message.in_reply_to)
        keys.update(message.references)
    keys.discard("")
    return frozenset(keys)


def _sort_time(message: MailMessage) -> float:
    return message.date.timestamp() if message.date else 0.0


def _chosen_folders(mailbox: Mailbox, options: SyncOptions) -> list[Folder]:
    available = mailbox.folders()
    if options.folders:
        by_name = {f.name: f for f in available}
        by_folded = {f.name.casefold(): f for f in available}
        chosen = []
        for name in options.folders:
            folder = by_name.get(name) or by_folded.get(name.casefold())
            if folder is None:
                names = ", ".join(f.name for f in available) or "none"
                raise UsageError(
                    mailbox.url, f"there is no folder {name!r}", f"the folders are: {names}"
                )
            chosen.append(folder)
        return chosen
    chosen = [f for f in available if f.role in DEFAULT_ROLES]
    if not chosen:  # a folder of exported .eml files, say: read what there is
        chosen = [f for f in available if f.role != "drafts"]
    return chosen


def _fetch(
    mailbox: Mailbox,
    refs: Sequence[MessageRef],
    roles: dict[str, str],
    progress: Progress | None,
    *,
    keep_text: bool = False,
) -> list[_Fetched]:
    out: list[_Fetched] = []
    total = len(refs)
    with paused_gc():  # thousands of parsed messages kept, no cycles: see paused_gc
        for n, (ref, raw) in enumerate(mailbox.fetch(refs), 1):
            message = parse_message(raw)
            # A ticket's description and classification need more than the summary.
            text = new_text(message.text, DESCRIPTION_CHARS + 100) if keep_text else ""
            out.append(_Fetched(ref, roles.get(ref.folder, "other"), _compact(message), text))
            if progress and (n % 200 == 0 or n == total):
                progress(n, total)
    return out


def _compact(message: MailMessage) -> MailMessage:
    """Drop the full body text once parsed: only the summary is kept, so a first sync of a
    large mailbox holds summaries in memory, not every message's text."""
    message.text = ""
    return message


class _Run:
    """The linking and row-building of one run; :mod:`.effects` does the other tables."""

    def __init__(
        self,
        book: Book,
        mailbox: Mailbox,
        options: SyncOptions,
        report: SyncReport,
        settings: Settings | None = None,
    ):
        self.book = book
        self.options = options
        self.report = report
        self.mailbox_name = mailbox.address or mailbox.url
        self.ours = Ours.build([mailbox.address, *options.me], options.internal_domains)
        self.never_log = NeverLog.build(options.never_log)
        self.interactions = book.table("interactions")
        if "message_id" not in self.interactions.columns:
            raise UsageError(
                self.interactions.layout.sheet,
                "the Interactions table has no Message-ID column, which sync needs to record "
                "each email exactly once",
                "add a column headed 'Message-ID' to the table, then run again",
            )
        customers = book.table("customers")
        deal_rows = list(book.table("deals").rows()) if book.has_table("deals") else []
        self.tickets: TicketMail | None = None
        if options.tickets:  # may add the ticket_id column: before the columns are taken
            customer_rows: list[dict[str, Any]] = list(customers.rows())
            interaction_rows = list(self.interactions.rows())
            self.tickets = TicketMail(
                book, settings or Settings({}), customer_rows, interaction_rows, report
            )
            report.tables_created = self.tickets.created_tables

        def each(table: Table) -> Iterable[Mapping[str, Any]]:
            """Ticket mail keeps the rows it looked at; plain mail goes through each table
            row by row, so that copies of 100,000 customers and 300,000 interactions never
            exist at the same time (bench/README.md, "The service's memory")."""
            if options.tickets:
                return customer_rows if table is customers else interaction_rows
            return table.rows(where=_every_row)

        self.customers = CustomerIndex(each(customers))
        self.threads = ThreadIndex(each(self.interactions))
        self.deals = DealIndex(deal_rows)
        self.effects = Effects(book, self.customers, each(customers), deal_rows, report, options)
        self.columns = set(self.interactions.columns)
        self.rows: list[dict[str, object]] = []
        self.upcoming: set[str] = set()  # Message-IDs of this run not decided yet
        self.unlinked: list[tuple[_Fetched, list[str]]] = []  # no rule linked them yet

    def take_all(self, fetched: list[_Fetched]) -> None:
        """Decide every message. Oldest first, so a reply is linked after the message it
        answers (undated ones last); a reply that still comes first (equal times, a sender's
        clock wrong) waits for it."""
        fetched.sort(key=lambda f: (f.message.date is None, _sort_time(f.message)))
        self.upcoming = {f.message.message_id for f in fetched}
        waiting = [item for item in fetched if not self.take(item)]
        for item in waiting:
            self.take(item, last_chance=True)
        self._take_unlinked()

    def _take_unlinked(self) -> None:
        """The messages no rule linked, once every other message of the run is recorded.

        A thread's messages may come in any order: a colleague's reply, or the thread's first
        message from an unknown address, can be dated before the customer's own first
        message in it. Each round links the waiting messages whose thread (their
        In-Reply-To / References, or their own Message-ID named as a recorded message's
        thread) is now known; a linked one can make another's thread known, so rounds go on
        until one links nothing. What is left is decided as unmatched (or becomes a lead).
        """
        pending, self.unlinked = self.unlinked, []
        while pending:
            later = []
            for item, thread_ids in pending:
                if self.threads.customer([*thread_ids, item.message.message_id]):
                    self._decide(item, thread_ids, final=True)
                else:
                    later.append((item, thread_ids))
            if len(later) == len(pending):
                break
            pending = later
        for item, thread_ids in pending:
            self._decide(item, thread_ids, final=True)

    # -- one message ---------------------------------------------------------------------------

    def take(self, item: _Fetched, *, last_chance: bool = False) -> bool:
        """Decide one message; False when it waits for a message of this run it answers."""
        message = item.message
        report = self.report
        ident = message.message_id
        if ident in self.threads.recorded:
            report.skipped["recorded"] += 1
            self.upcoming.discard(ident)
            return True
        thread_ids = [i for i in (message.in_reply_to, *reversed(message.references)) if i]
        if not last_chance and any(i in self.upcoming for i in thread_ids):
            return False
        self.upcoming.discard(ident)
        self._decide(item, thread_ids)
        return True

    def _decide(self, item: _Fetched, thread_ids: list[str], *, final: bool = False) -> None:
        """Record one message or count why not; ``final``: the last chance of a message no
        rule linked in date order (see :meth:`_take_unlinked`)."""
        message = item.message
        report = self.report
        if message.bounce is not None:
            self.effects.bounce(message)
            report.skipped["bounce"] += 1
            return
        if message.complaint is not None:  # "this is spam": an unsubscribe, never a row
            self.effects.complaint(message)
            report.skipped["complaint"] += 1
            return
        if message.kind in ("delay", "delivered"):
            report.skipped["delivery_report"] += 1
            return
        sender = message.sender.addr if message.sender else ""
        if sender and not storable_address(sender):
            sender = ""
        outgoing = item.role == "sent" or bool(sender and sender in self.ours)
        recipients = [
            a.addr for a in (*message.to, *message.cc, *message.bcc) if storable_address(a.addr)
        ]
        everyone = [sender, *recipients] if sender else recipients
        if self.never_log and any(a in self.never_log for a in everyone):
            report.skipped["never_log"] += 1
            return
        if message.auto_reply:
            report.skipped["auto_reply"] += 1
            return
        theirs = [a for a in (recipients if outgoing else [sender]) if a and a not in self.ours]
        if not theirs:
            report.skipped["internal"] += 1
            return
        match = self._customer(theirs, [*thread_ids, message.message_id], message.subject)
        if not outgoing:
            asking = self.effects.unsubscribe(message, match.customer_id if match else None)
            if asking and match is None:  # written from another address, with the token
                match = Match(asking, "unsubscribe token")
        if match is None:
            if not final:  # the rest of the run may link its thread
                self.unlinked.append((item, thread_ids))
                return
            if (
                message.list_unsubscribe
                or message.kind == "list"
                or all(is_automated(a) for a in theirs)
            ):
                report.skipped["automated"] += 1
                return
            match = self._unknown(message, theirs)
            if match is None:
                report.skipped["unmatched"] += 1
                return
        self._record(item, match, thread_ids, outgoing)

    def _customer(
        self, theirs: list[str], thread_ids: list[str], subject: str = ""
    ) -> Match | None:
        for address in theirs:
            found = self.customers.by_exact_address(address)
            if found:
                return Match(found, "address")
        found = self.threads.customer(thread_ids)
        if found:
            return Match(found, "thread")
        if self.tickets is not None:
            found = self.tickets.customer_by_tag(subject)
            if found:
                return Match(found, "ticket")
        for address in theirs:
            found = self.customers.by_company_domain(address)
            if found:
                return Match(found, "domain")
        return None

    def _unknown(self, message: MailMessage, theirs: list[str]) -> Match | None:
        """Note who wrote; with --create-leads, make them a customer (status Lead)."""
        people = [a for a in theirs if not is_automated(a)]
        names = {a.addr: a.name for a in (message.sender, *message.to, *message.cc) if a}
        lead = None
        for address in people:
            who = self.report.unknown.setdefault(address, Unknown(address, names.get(address, "")))
            who.messages += 1
            who.last_subject = message.subject
            if self.options.create_leads and lead is None:
                who.lead = who.lead or self.effects.new_lead(address, who.name)
                lead = who.lead
        return Match(lead, "lead") if lead else None

    def _record(self, item: _Fetched, match: Match, thread_ids: list[str], outgoing: bool) -> None:
        message = item.message
        customer = match.customer_id
        thread = message.references[0] if message.references else message.in_reply_to
        thread = thread or message.message_id
        ticket = None
        if self.tickets is not None:
            if customer not in self.tickets.desk.owners:  # a lead made by this run
                self.tickets.desk.add_customer(customer)
            ticket = self.tickets.take(
                message_id=message.message_id,
                thread=thread,
                thread_ids=thread_ids,
                subject=message.subject,
                text=item.text,
                customer=customer,
                outgoing=bool(outgoing),
                at=_local(message.date),
                known_thread=any(i in self.threads.recorded for i in thread_ids),
            )
        # Support mail is about a ticket, not a sale: no deal, no deal follow-up.
        deal = None if ticket else self._deal(customer, thread_ids)
        row: dict[str, object] = {
            "customer_id": customer,
            "deal_id": deal,
            "ticket_id": ticket,
            "kind": "email",
            "direction": "out" if outgoing else "in",
            "at": _local(message.date),
            "from": _address_text(message.sender),
            "to": "; ".join(a.addr for a in (*message.to, *message.cc)),
            "subject": message.subject,
            "summary": message.summary,
            "message_id": message.message_id,
            "thread_id": thread,
            "mailbox": self.mailbox_name,
            "folder": item.ref.folder,
            "attachments": "; ".join(message.attachments),
        }
        self.rows.append({k: v for k, v in row.items() if k in self.columns})
        self.threads.remember(message.message_id, thread, row)
        self.report.new += 1
        self.report.linked_by[match.how] += 1
        if deal:
            self.report.linked_deal += 1
        self.effects.contacted(customer, deal, message.date, outgoing=outgoing)
        if outgoing:
            # One row per message, on the first customer; the other customers it went to
            # were contacted too.
            found = (self.customers.by_exact_address(a) for a in self._theirs_of(message))
            for other in {o for o in found if o is not None} - {customer}:
                self.effects.contacted(other, None, message.date, outgoing=True)
        else:
            self.effects.replied(thread_ids)

    def _theirs_of(self, message: MailMessage) -> list[str]:
        return [a.addr for a in (*message.to, *message.cc, *message.bcc) if a.addr not in self.ours]

    def _deal(self, customer: str, thread_ids: list[str]) -> str | None:
        deal = self.threads.deal(thread_ids)
        if deal and self.deals.customer_of.get(deal, customer) == customer:
            return deal
        return self.deals.only_open_deal(customer)

    # -- the end ---------------------------------------------------------------------------------

    def finish(self) -> None:
        if self.tickets is not None:
            self.rows += [
                {k: v for k, v in note.items() if k in self.columns} for note in self.tickets.notes
            ]
        if self.rows:
            self.interactions.insert_all(self.rows)
        self.effects.finish()


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    """Workbooks hold wall-clock times: the message's instant in this computer's time zone."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone().replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _address_text(address: object) -> str:
    if address is None:
        return ""
    name, addr = getattr(address, "name", ""), getattr(address, "addr", "")
    return f"{name} <{addr}>" if name else addr


def _every_row(_: Mapping[str, Any]) -> bool:
    """``Table.rows``'s filter that keeps every row: it makes ``rows`` lazy."""
    return True
