"""Sending notices exactly once, and recording each as an outgoing e-mail interaction.

:func:`send_notices` works on a workbook the caller has open and may have changed:

1. Each notice's Message-ID comes from its key (:func:`~.message.notice_message_id`). A notice
   whose id is already in Interactions was sent (or may have been) and is skipped: *already*.
2. Without ``dry_run=False`` that is all: the report lists what *would* go; nothing is sent,
   nothing written.
3. Sending takes the journal's lock, then stops if the workbook changed on disk since the
   caller read it (another run may have sent and saved meanwhile). Then it goes through the
   outbox engine (:class:`~addin.outbox.Outbox`) over :class:`NoticeStore`: the journal is
   read first — a notice whose last step is ``sent`` went out in a run that died before
   saving: it is recorded, not sent; one left ``sending`` and never handed over (same boot)
   simply goes again; one handed over is looked for in the transport's sent items (EWS, Graph,
   IMAP can tell) and recorded as sent, sent normally when it is not there, or — SMTP cannot
   tell — recorded as *uncertain* and never sent again on a guess.
4. Each remaining notice: ``sending`` written (fsync'd before the final dot), its token put in
   the handed-over slot just before it (:mod:`addin.outbox.handed`), the message sent (temporary
   failures retried with back-off, as for campaigns), ``sent`` or ``failed`` written. A failed
   notice is not recorded, so a later run tries it again.
5. Every sent and uncertain notice becomes an Interactions row (kind email, direction out, its
   Message-ID and customer, deal and ticket ids), the book is saved — in the same save as the
   caller's own changes — and only then is the journal emptied. If the save fails (the
   workbook is open in Excel), the journal keeps the record and the next run writes it.

So a caller changes its tables, calls ``send_notices(..., dry_run=False)``, and the one save
records both; calling ``book.save()`` afterwards is harmless (nothing left to write).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sync.message.addresses import normalise_message_id
from sync.open import open_transport

from ..errors import UsageError, WorkbookError, XlcrmError
from ..outbox import Failed, JournalStore, Left, Outbox, Outgoing, Settled, boot_id
from ..settings import read_settings
from ..workbook import Book
from .journal import NoticeEntry, NoticeJournal, latest_steps, pending_notices
from .message import Notice, compose, id_left, notice_message_id, recipients

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Retries:
    attempts: int
    backoff: float
    sleep: Callable[[float], None]


SALT_STATE_KEY = "notice_salt"  # the workbook's own part of every notice's Message-ID
UNCERTAIN = (
    "the run that sent it was interrupted and this transport cannot tell whether it left; "
    "look in the sent items — it is not sent again"
)


@dataclass
class Outcome:
    """What happened to one notice."""

    key: str
    to: str
    subject: str
    message_id: str
    status: str  # sent, would send, already, uncertain, failed, recovered
    error: str = ""


@dataclass
class NoticeReport:
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def having(self, *statuses: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status in statuses]

    @property
    def sent(self) -> list[Outcome]:
        return self.having("sent", "recovered")

    @property
    def would_send(self) -> list[Outcome]:
        return self.having("would send")

    @property
    def already(self) -> list[Outcome]:
        return self.having("already")

    @property
    def uncertain(self) -> list[Outcome]:
        return self.having("uncertain")

    @property
    def failed(self) -> list[Outcome]:
        return self.having("failed")

    def status_of(self, key: str) -> str | None:
        return next((o.status for o in self.outcomes if o.key == key), None)

    def lines(self) -> list[str]:
        out = []
        for outcome in self.outcomes:
            if outcome.status == "already":
                continue
            line = f"  {outcome.status}: {outcome.subject} → {outcome.to}"
            if outcome.error:
                line += f" ({outcome.error})"
            out.append(line)
        if self.already:
            out.append(f"  {len(self.already)} notice(s) were sent before")
        out += [f"  warning: {w}" for w in self.warnings]
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "notices": [asdict(o) for o in self.outcomes],
            "warnings": list(self.warnings),
        }


def recorded_keys(book: Book, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` name notices already recorded in the workbook's Interactions
    (sent, or uncertain after an interrupted run: either way never sent again)."""
    salt = book.state.get(SALT_STATE_KEY)
    if not salt or not book.has_table("interactions"):
        return set()
    known = _recorded_lefts(book)
    return {k for k in keys if id_left(notice_message_id(salt, k, "")) in known}


def send_notices(
    book: Book,
    book_path: str | Path | None,
    notices: Sequence[Notice],
    *,
    transport_url: str | None = None,
    sender: str | None = None,
    dry_run: bool = True,
    insecure: bool = False,
    now: dt.datetime | None = None,
) -> NoticeReport:
    """Send each notice at most once and record it; see the module docstring. When it sends,
    it **saves** ``book`` (the caller's changes with it): mail that left cannot be taken back.

    ``sender`` defaults to the *Notification sender* setting, then the *Campaign sender*.
    ``book_path`` None (a book with no file, the ribbon service's): a dry run only, since the
    journal that makes sending safe lives beside the file.
    """
    if book_path is None and not dry_run:
        raise UsageError(
            book.where,
            "sending notices needs the workbook as a file (its journal is kept beside it)",
            "run xlcrm run BOOK --send on the .xlsx file",
        )
    path = Path(book_path) if book_path is not None else None
    now = (now or dt.datetime.now()).replace(microsecond=0)
    _check_keys(notices)
    report = NoticeReport(dry_run)
    settings = read_settings(book)
    sender = sender or settings.text("notify_sender") or settings.text("sender")
    recorded = _recorded_lefts(book) if book.has_table("interactions") else set()
    if dry_run:
        salt = book.state.get(SALT_STATE_KEY) or ""
        for notice in notices:
            msgid = notice_message_id(salt, notice.key, sender or "")
            if salt and id_left(msgid) in recorded:
                report.outcomes.append(_outcome(notice, msgid, "already"))
                continue
            recipients(notice.to, f"notice {notice.key}")  # a bad address shows in a dry run
            report.outcomes.append(_outcome(notice, msgid, "would send"))
        if path is not None and pending_notices(path):
            report.warnings.append(
                "an earlier run was interrupted while sending notices; run with --send to settle it"
            )
        return report
    assert path is not None  # checked above: only a dry run goes without a file
    if not notices and not pending_notices(path):
        return report
    for notice in notices:  # every address checked before the first message leaves
        recipients(notice.to, f"notice {notice.key}")
    if not transport_url:
        raise UsageError(
            "--transport",
            "sending needs a transport",
            "e.g. --transport smtps://crm@smtp.exmail.qq.com, or ews://…, graph://…",
        )
    if not sender:
        raise UsageError(
            "--sender",
            "notices need a From address",
            f"fill {settings.where('notify_sender')} (Notification sender) or "
            f"{settings.where('sender')} (Campaign sender), or give --sender 'Name <address>'",
        )
    if book.state.is_demo:
        raise UsageError(
            str(path),
            "this is the demo workbook: its addresses are made up, so it never sends mail",
            "run without --send to see what would be sent",
        )
    with NoticeJournal(path) as journal:
        book.check_unchanged()
        entries = journal.entries()
        # The salt makes this workbook's ids its own. A run that died before saving a new
        # one left it in the journal: the ids it sent under must stay the ids.
        salt = (
            book.state.get(SALT_STATE_KEY)
            or next((e.salt for e in entries if e.salt), "")
            or secrets.token_hex(16)
        )
        todo: list[tuple[Notice, str]] = []
        for notice in notices:
            msgid = notice_message_id(salt, notice.key, sender)
            if id_left(msgid) in recorded:
                report.outcomes.append(_outcome(notice, msgid, "already"))
            else:
                todo.append((notice, msgid))
        transport = None
        if todo or entries:  # a bad URL stops the run before anything is sent
            transport = open_transport(transport_url, insecure=insecure)
        try:
            store = NoticeStore(journal, salt, now, report, recorded, [n for n, _ in todo])
            with store:
                if transport is not None:
                    _send_through(store, transport, todo, sender, now)
            records = store.records
        finally:
            if transport is not None:
                transport.close()
        if records:
            _record(book, records, transport_url)
        book.state[SALT_STATE_KEY] = salt
        try:
            book.save()
        except WorkbookError as error:
            if records:
                raise XlcrmError(
                    error.where,
                    f"{error.message}; {len(records)} notice(s) went out and are kept in "
                    f"{journal.path.name}, which the next run records in the workbook",
                    error.hint,
                ) from None
            raise
        journal.clear()
    return report


def _check_keys(notices: Sequence[Notice]) -> None:
    seen: set[str] = set()
    for notice in notices:
        if not notice.key or notice.key in seen:
            raise XlcrmError(None, f"notice keys must be unique and not empty: {notice.key!r}")
        seen.add(notice.key)


def _outcome(notice: Notice, msgid: str, status: str, error: str = "") -> Outcome:
    return Outcome(notice.key, notice.to, notice.subject, msgid, status, error)


def _recorded_lefts(book: Book) -> set[str]:
    return {
        id_left(v)
        for row in book.table("interactions").rows()
        if isinstance(v := row.get("message_id"), str) and v.strip()
    }


# Notices are few and internal: a temporary failure is tried again a little, then left for
# the next run (a failed notice is not recorded, so asking again sends it).
RETRIES = _Retries(attempts=3, backoff=2.0, sleep=time.sleep)


def _send_through(
    store: NoticeStore,
    transport: Any,
    todo: list[tuple[Notice, str]],
    sender: str,
    now: dt.datetime,
) -> None:
    """Settle what an interrupted run left, then send the rest through the outbox."""
    outbox = Outbox(store, transport, RETRIES)
    outbox.settle()
    queue = [(n, msgid) for n, msgid in todo if n.key not in store.settled_keys]

    def build(pair: tuple[Notice, str]) -> Outgoing:
        notice, msgid = pair
        data = compose(notice, sender, msgid, now)
        return Outgoing(notice.key, notice.to, f"<{msgid}>", data, notice.subject)

    run = outbox.send(queue, build)
    for notice, msgid in run.remaining:
        error = f"not sent: {run.stopped}; it is sent when asked for again"
        store.report.outcomes.append(_outcome(notice, msgid, "failed", error))


class NoticeStore(JournalStore):
    """The notices' outbox store: the notices journal; what went (or may have) becomes
    ``records``, which the caller writes as Interactions rows."""

    def __init__(
        self,
        journal: NoticeJournal,
        salt: str,
        now: dt.datetime,
        report: NoticeReport,
        recorded: set[str],
        todo: list[Notice],
    ) -> None:
        super().__init__(journal)
        self.salt = salt
        self.now = now
        self.report = report
        self.recorded = recorded
        self.by_key = {n.key: n for n in todo}
        self.records: list[NoticeEntry] = []
        self.settled_keys: set[str] = set()

    def __enter__(self) -> NoticeStore:
        return self

    def lookup_id(self, entry: Any) -> str:
        return f"<{entry.message_id}>"

    def left(self) -> Sequence[Left]:
        """Notices an interrupted run left ``sending``; those it left ``sent`` are recorded
        now (that run died before its save), whether or not anyone asks for them again."""
        out = []
        handed = self.handed_now()
        for entry in latest_steps(self.journal.entries()).values():
            if id_left(entry.message_id) in self.recorded:
                continue  # that run's save got through; only emptying the journal did not
            if entry.status == "sending":
                was = self.was_handed(entry, handed)
                out.append(Left(entry.key, self.lookup_id(entry), was, entry.boot, entry))
            elif entry.status == "sent":  # sent by that run, recorded by this one
                self._keep(entry, "recovered", "")
        return out

    def settled(self, left: Left, verdict: Settled) -> None:
        if verdict == "unsent":
            return  # it did not leave: sent normally if asked for again
        if verdict == "sent":
            self._keep(left.record, "recovered", "")
        else:
            self._keep(left.record, "uncertain", UNCERTAIN)

    def _keep(self, entry: NoticeEntry, status: str, error: str) -> None:
        done = _step(entry, status, error)
        notice = self.by_key.get(entry.key)
        if notice is not None:
            done = replace(done, to=notice.to, subject=notice.subject)
        self.report.outcomes.append(
            Outcome(entry.key, done.to, done.subject, entry.message_id, status, error)
        )
        self.records.append(done)
        self.settled_keys.add(entry.key)

    def sending(self, item: Outgoing) -> NoticeEntry:
        notice = self.by_key[item.key]
        return NoticeEntry(
            notice.key,
            "sending",
            item.message_id.strip("<>"),
            notice.to,
            notice.subject,
            self.now.isoformat(),
            "",
            notice.customer_id,
            notice.deal_id,
            notice.ticket_id,
            self.salt,
            boot=boot_id(),
        )

    def finish(self, item: Outgoing, failed: Failed | None) -> None:
        entry: NoticeEntry = self.open.pop(item.key)
        notice = self.by_key[item.key]
        if failed is None:
            done = _step(entry, "sent", "")
            self.journal.append(done, sync=False)  # type: ignore[arg-type]
            self.report.outcomes.append(_outcome(notice, entry.message_id, "sent"))
            self.records.append(done)
        elif failed.uncertain:
            done = _step(entry, "uncertain", f"{failed.cause}; {UNCERTAIN}")
            self.journal.append(done)  # type: ignore[arg-type]
            self.report.outcomes.append(_outcome(notice, entry.message_id, "uncertain", done.error))
            self.records.append(done)
        else:
            self.journal.append(_step(entry, "failed", failed.cause))  # type: ignore[arg-type]
            self.report.outcomes.append(_outcome(notice, entry.message_id, "failed", failed.cause))


def _step(entry: NoticeEntry, status: str, error: str) -> NoticeEntry:
    return replace(entry, status=status, error=error)


def _record(book: Book, records: list[NoticeEntry], mailbox: str) -> None:
    """Each notice as an outgoing e-mail interaction (unsaved)."""
    table = book.table("interactions")
    if any(r.ticket_id for r in records):
        table.add_column("ticket_id")
    columns = set(table.columns)
    zh = book.lang == "zh"
    rows = []
    for record in records:
        msgid = normalise_message_id(record.message_id) or record.message_id
        summary = "内部通知" if zh else "Internal notice"
        if record.status == "uncertain":
            summary += "：发送结果不确定，请查看已发送邮件" if zh else ": delivery uncertain, "
            summary += "" if zh else "check the sent items"
        row = {
            "customer_id": record.customer_id,
            "deal_id": record.deal_id,
            "ticket_id": record.ticket_id,
            "kind": "email",
            "direction": "out",
            "at": dt.datetime.fromisoformat(record.at) if record.at else None,
            "to": record.to,
            "subject": record.subject,
            "summary": summary,
            "message_id": msgid,
            "thread_id": msgid,
            "mailbox": mailbox,
        }
        rows.append({k: v for k, v in row.items() if k in columns})
    table.insert_all(rows)
