"""``xlcrm tickets`` (and ``xlcrm run``): assign, set due times, escalate, survey.

:func:`check_tickets` looks at every ticket and changes the workbook in memory:

- a ticket without a status is *open*; an open one without an opened time, opened now;
- an open or pending ticket without a type or priority is classified from its subject and
  description (only the empty cells are filled: a person's choice is never overwritten);
  without an assignee it is assigned (rule, owner, round-robin: :mod:`.assign`); without a
  due time it gets opened + the resolve hours of its priority (:mod:`.sla`);
- a resolved or closed ticket without a resolved time gets now;
- an **overdue** ticket (open or pending, due passed, not escalated before) is listed for
  escalation to its SLA row's *Escalate to*, else the ``escalate_to`` setting;
- a **resolved** ticket without a satisfaction rating, resolved in the last
  ``SURVEY_WITHIN_DAYS`` days, whose survey was never sent, is listed for a survey — to the
  address the ticket came from, else the customer's first address; unsubscribed customers
  are not surveyed. (The window keeps a first run on an old workbook from surveying years
  of tickets.)

:func:`deliver` then sends what was listed through :func:`addin.notify.send_notices` — only
with ``send=True``; otherwise it reports what would go and marks nothing. Each notice has a
key (``escalate-T0042``, ``survey-T0042``) and goes out at most once, ever, even across
crashes. An escalation that went out (or had gone out in an interrupted run) sets the
ticket's ``escalated`` time and adds a ``ticket`` interaction saying to whom; a ticket is
escalated once. Nothing is deleted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..customers import split_emails
from ..schema import PRIORITIES, TICKET_STATUS, TICKET_TYPES, language_code
from ..settings import Settings, read_settings
from ..team import Team, read_team
from ..workbook import Book
from .desk import Desk
from .satisfaction import survey
from .sla import OPEN_STATUSES, is_overdue

SURVEY_WITHIN_DAYS = 14
ESCALATE_KEY = "escalate-{}"
SURVEY_KEY = "survey-{}"


@dataclass(frozen=True)
class Escalation:
    """An overdue ticket and whom to tell."""

    ticket_id: str
    customer_id: str | None
    to: str | None  # an address; None when nobody (or nobody with an address) is configured
    who: str | None  # as written in the SLA table or the setting
    subject: str
    text: str


@dataclass(frozen=True)
class SurveyDue:
    ticket_id: str
    customer_id: str | None
    to: str
    subject: str
    text: str


@dataclass
class TicketReport:
    """What :func:`check_tickets` and :func:`deliver` did; ``lines()`` is the printed form."""

    now: dt.datetime
    dry_run: bool = True
    classified: list[str] = field(default_factory=list)
    assigned: dict[str, str] = field(default_factory=dict)  # ticket → assignee
    unassigned: list[str] = field(default_factory=list)
    due_set: list[str] = field(default_factory=list)
    overdue: list[Escalation] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)  # marked escalated in this run
    surveys: list[SurveyDue] = field(default_factory=list)
    surveyed: list[str] = field(default_factory=list)  # surveys that went out in this run
    no_address: list[str] = field(default_factory=list)  # resolved, customer without e-mail
    problems: list[str] = field(default_factory=list)
    notices: list[Any] = field(default_factory=list)  # NoticeReports from addin.notify

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(sep=" "),
            "dry_run": self.dry_run,
            "classified": list(self.classified),
            "assigned": dict(self.assigned),
            "unassigned": list(self.unassigned),
            "due_set": list(self.due_set),
            "overdue": [asdict(e) for e in self.overdue],
            "escalated": list(self.escalated),
            "surveys": [asdict(s) for s in self.surveys],
            "surveyed": list(self.surveyed),
            "no_address": list(self.no_address),
            "problems": list(self.problems),
            "notices": [n.as_dict() for n in self.notices],
        }

    def lines(self) -> list[str]:
        out = []
        if self.assigned:
            who = ", ".join(f"{t} → {a}" for t, a in self.assigned.items())
            out.append(f"assigned: {who}")
        if self.classified:
            out.append(f"classified: {', '.join(self.classified)}")
        if self.due_set:
            out.append(f"due times set: {', '.join(self.due_set)}")
        if self.unassigned:
            out.append(f"unassigned (no rule, owner or support team): {', '.join(self.unassigned)}")
        if self.overdue:
            verb = "would escalate" if self.dry_run else "overdue"
            listed = ", ".join(f"{e.ticket_id} → {e.who or '?'}" for e in self.overdue)
            out.append(f"{verb}: {listed}")
        if self.escalated:
            out.append(f"escalated: {', '.join(self.escalated)}")
        if self.surveys:
            verb = "would survey" if self.dry_run else "surveys due"
            out.append(f"{verb}: {', '.join(f'{s.ticket_id} → {s.to}' for s in self.surveys)}")
        if self.surveyed:
            out.append(f"surveys sent: {', '.join(self.surveyed)}")
        if self.no_address:
            out.append(
                f"no survey (the customer has no e-mail address): {', '.join(self.no_address)}"
            )
        for report in self.notices:
            out += report.lines()
        out += [f"problem: {p}" for p in self.problems]
        if not out:
            out.append("nothing to do: every ticket is assigned, on time and surveyed")
        if self.dry_run and (self.overdue or self.surveys):
            out.append("dry run: no e-mail sent; run with --send --transport URL to send")
        return out


def check_tickets(
    book: Book,
    now: dt.datetime,
    *,
    settings: Settings | None = None,
    desk: Desk | None = None,
) -> TicketReport:
    """Assign, classify and time the tickets that need it, and list escalations and surveys
    (see the module docstring). Changes ``book`` in memory; the caller saves."""
    from ..notify import recorded_keys

    now = now.replace(microsecond=0)
    settings = settings if settings is not None else read_settings(book)
    customers = {r["id"]: r for r in book.table("customers").rows() if r.get("id")}
    desk = desk or Desk(book, settings, customers.values())
    team = read_team(book, settings)
    report = TicketReport(now)
    table = book.table("tickets")
    for key in ("thread_id", "escalated"):
        table.add_column(key)
    first_from = _first_senders(book)
    rows = [r for r in table.rows() if r.get("id")]
    for row in rows:
        ticket = row["id"]
        changes = _triage(desk, row, now, report)
        if changes:
            table.update(ticket, changes)
            row.update(changes)
        if is_overdue(row, now) and row.get("escalated") is None:
            report.overdue.append(
                _escalation(
                    row,
                    customers.get(row.get("customer_id") or ""),
                    desk,
                    team,
                    settings,
                    book.lang,
                    report,
                )
            )
    candidates = [r for r in rows if _wants_survey(r, customers, now)]
    done = recorded_keys(book, [SURVEY_KEY.format(r["id"]) for r in candidates])
    company = settings.text("company_name")
    for row in candidates:
        if SURVEY_KEY.format(row["id"]) in done:
            continue
        customer = customers.get(row.get("customer_id") or "", {})
        to = first_from.get(str(row.get("message_id") or "").strip("<> ").lower())
        to = to or next(iter(split_emails(customer.get("email"))), None)
        if not to:
            report.no_address.append(row["id"])
            continue
        # the customer's own language when their row names one, as campaigns do
        lang = language_code(customer.get("language")) or book.lang
        mail = survey(row["id"], row.get("subject"), customer.get("name"), company, lang)
        report.surveys.append(
            SurveyDue(row["id"], row.get("customer_id"), to, mail.subject, mail.text)
        )
    return report


def _triage(
    desk: Desk, row: Mapping[str, Any], now: dt.datetime, report: TicketReport
) -> dict[str, Any]:
    """The empty cells of one ticket that xlcrm fills (nothing a person wrote is replaced)."""
    ticket = row["id"]
    changes: dict[str, Any] = {}
    status = row.get("status")
    if status is None:
        status = changes["status"] = "open"
    if status in OPEN_STATUSES:
        if row.get("opened") is None:  # entered by hand: xlcrm sees it for the first time now
            changes["opened"] = now
        customer = row.get("customer_id")
        found = desk.classify(row.get("subject"), row.get("description"), customer)
        priority = row.get("priority")
        if row.get("type") is None and found.type:
            changes["type"] = found.type
        if priority is None:
            priority = changes["priority"] = found.priority
        if "type" in changes or "priority" in changes:
            report.classified.append(ticket)
        if row.get("assignee") is None:
            assignment = desk.assigner.assign(found.assignee, found.assignee_rule or "", customer)
            if assignment.assignee:
                changes["assignee"] = report.assigned[ticket] = assignment.assignee
            else:
                report.unassigned.append(ticket)
        opened = changes.get("opened", row.get("opened"))
        if row.get("due") is None and isinstance(opened, dt.datetime):
            changes["due"] = desk.levels.due(opened, priority)
            report.due_set.append(ticket)
    elif status in ("resolved", "closed") and row.get("resolved") is None:
        changes["resolved"] = now
    return changes


def _wants_survey(row: Mapping[str, Any], customers: Mapping[str, Any], now: dt.datetime) -> bool:
    resolved = row.get("resolved")
    customer = customers.get(row.get("customer_id") or "", {})
    return (
        row.get("status") == "resolved"
        and row.get("satisfaction") is None
        and isinstance(resolved, dt.datetime)
        and now - resolved <= dt.timedelta(days=SURVEY_WITHIN_DAYS)
        and customer.get("unsubscribed") is not True
    )


def _first_senders(book: Book) -> dict[str, str]:
    """Message-ID → sender address, for incoming e-mail interactions (a ticket's first
    message tells where to send its survey)."""
    out = {}
    for row in book.table("interactions").rows():
        ident, sender = row.get("message_id"), row.get("from")
        if isinstance(ident, str) and isinstance(sender, str) and row.get("direction") == "in":
            found = split_emails(sender)
            if found:
                out[ident.strip("<> ").lower()] = found[0]
    return out


def _label(choices: Any, value: object, lang: str) -> str:
    for choice in choices:
        if choice.value == value:
            return choice.label(lang)
    return str(value or "-")


def _escalation(
    row: Mapping[str, Any],
    customer: Mapping[str, Any] | None,
    desk: Desk,
    team: Team,
    settings: Settings,
    lang: str,
    report: TicketReport,
) -> Escalation:
    ticket = row["id"]
    level = desk.levels.level(row.get("priority"))
    who, where = level.escalate_to, level.where
    if not who:
        who, where = settings.text("escalate_to") or None, settings.where("escalate_to")
    to = team.address_of(who) if who else None
    if who is None:
        report.problems.append(
            f"{ticket} is overdue but nobody is named to hear of it: fill the SLA table's "
            f"'Escalate to' for priority {row.get('priority') or 'normal'}, or the "
            "escalate_to setting"
        )
    elif to is None:
        report.problems.append(
            f"{where}: {who!r} has no e-mail address: write it as an address, or list "
            f"{who} with their address in the team setting ({team.where})"
        )
    name = (customer or {}).get("name") or (customer or {}).get("company") or ""
    fmt = "%Y-%m-%d %H:%M"
    due = row["due"].strftime(fmt)
    opened = row["opened"].strftime(fmt) if isinstance(row.get("opened"), dt.datetime) else "-"
    subject = row.get("subject") or ""
    values = (
        f"{name} ({row.get('customer_id') or '-'})",
        subject,
        _label(PRIORITIES, row.get("priority"), lang),
        _label(TICKET_TYPES, row.get("type"), lang),
        _label(TICKET_STATUS, row.get("status"), lang),
        row.get("assignee") or "-",
        opened,
        due,
    )
    if lang == "zh":
        labels = ("客户", "主题", "优先级", "类型", "状态", "处理人", "创建时间", "截止时间")
        head = f"工单 {ticket} 已超过解决时限（{due}），仍未解决。"
        title = f"[{ticket}] 工单超时未解决：{subject}"
        tail = "请尽快跟进。此邮件由 xlcrm 自动发送，每张工单只发一次。"
        sep = "："
    else:
        labels = ("Customer", "Subject", "Priority", "Type", "Status", "Assignee", "Opened", "Due")
        head = f"Ticket {ticket} passed its resolution time ({due}) and is not resolved."
        title = f"[{ticket}] Overdue ticket: {subject}"
        tail = "Please follow up. Sent by xlcrm, once per ticket."
        sep = ": "
    body = "\n".join(f"{label}{sep}{value}" for label, value in zip(labels, values))
    return Escalation(
        ticket, row.get("customer_id"), to, who, title, f"{head}\n\n{body}\n\n{tail}\n"
    )


def deliver(
    book: Book,
    book_path: str | Path,
    report: TicketReport,
    *,
    send: bool = False,
    transport_url: str | None = None,
    sender: str | None = None,
    insecure: bool = False,
) -> None:
    """Send (with ``send``) the escalations and surveys ``report`` lists, mark escalated
    tickets, and save. Without ``send`` nothing is sent or marked; the caller saves the
    assignments :func:`check_tickets` made."""
    from ..notify import Notice, send_notices

    report.dry_run = not send
    escalations = [e for e in report.overdue if e.to]
    groups = []
    if escalations:
        notices = [
            Notice(
                ESCALATE_KEY.format(e.ticket_id),
                e.to or "",  # never empty: only escalations with an address are here
                e.subject,
                e.text,
                customer_id=e.customer_id,
                ticket_id=e.ticket_id,
            )
            for e in escalations
        ]
        groups.append((notices, sender))
    if report.surveys:
        settings = read_settings(book)
        notices = [
            Notice(
                SURVEY_KEY.format(s.ticket_id),
                s.to,
                s.subject,
                s.text,
                customer_id=s.customer_id,
                ticket_id=s.ticket_id,
            )
            for s in report.surveys
        ]
        groups.append((notices, sender or settings.text("support_sender") or None))
    for notices, from_ in groups:
        result = send_notices(
            book,
            book_path,
            notices,
            transport_url=transport_url,
            sender=from_,
            dry_run=not send,
            insecure=insecure,
            now=report.now,
        )
        report.notices.append(result)
        if not send:
            continue
        went = {o.key for o in result.having("sent", "recovered", "already", "uncertain")}
        for escalation in escalations:
            if ESCALATE_KEY.format(escalation.ticket_id) in went:
                _mark_escalated(book, escalation, report)
        fresh = {o.key for o in result.having("sent", "recovered", "uncertain")}
        report.surveyed += [
            s.ticket_id for s in report.surveys if SURVEY_KEY.format(s.ticket_id) in fresh
        ]
    if send:
        book.save()


def _mark_escalated(book: Book, escalation: Escalation, report: TicketReport) -> None:
    tickets = book.table("tickets")
    if tickets.get(escalation.ticket_id).get("escalated") is not None:
        return
    tickets.update(escalation.ticket_id, {"escalated": report.now})
    interactions = book.table("interactions")
    interactions.add_column("ticket_id")
    zh = book.lang == "zh"
    row = {
        "customer_id": escalation.customer_id,
        "ticket_id": escalation.ticket_id,
        "kind": "ticket",
        "direction": "out",
        "at": report.now,
        "to": escalation.to,
        "subject": escalation.subject,
        "summary": (
            f"超时升级给 {escalation.who}" if zh else f"Escalated to {escalation.who}: overdue"
        ),
    }
    columns = set(interactions.columns)
    interactions.insert({k: v for k, v in row.items() if k in columns})
    report.escalated.append(escalation.ticket_id)
