"""What a sync run did, for the command line, the ribbon and scheduled-run logs."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..workbook import Book

# Why a message did not become an interaction, in the order the summary lists them.
SKIP_REASONS = {
    "recorded": "already recorded",
    "internal": "internal only",
    "never_log": "never-log list",
    "auto_reply": "auto-replies",
    "automated": "newsletters and no-reply senders",
    "unmatched": "no customer",
    "bounce": "delivery failures",
    "complaint": "spam complaints (recorded as unsubscribes)",
    "delivery_report": "delay and delivery notices",
}


@dataclass
class Unknown:
    """An address that wrote to us (or that we wrote to) and is no customer."""

    address: str
    name: str
    messages: int = 0
    last_subject: str = ""
    lead: str | None = None  # the customer id created for it with --create-leads


@dataclass
class SyncReport:
    """Counts and details of one run over one mailbox; :meth:`summary` is the printed form."""

    mailbox: str
    dry_run: bool = False
    rescan: bool = False  # every message listed again, not only new ones
    folders: dict[str, int] = field(default_factory=dict)  # folder → messages listed
    resets: list[str] = field(default_factory=list)  # folders listed whole again
    fetched: int = 0
    new: int = 0  # interactions added
    linked_deal: int = 0  # of which linked to a deal
    linked_by: Counter[str] = field(default_factory=Counter)  # address / thread / domain / lead
    skipped: Counter[str] = field(default_factory=Counter)  # reason → messages
    unknown: dict[str, Unknown] = field(default_factory=dict)  # email_key → who
    leads: list[str] = field(default_factory=list)  # customer ids created
    bounced: list[str] = field(default_factory=list)  # addresses marked on customers
    soft_bounced: list[str] = field(default_factory=list)  # "address (reason)": not marked
    sends_bounced: int = 0
    sends_replied: int = 0
    unsubscribed: list[str] = field(default_factory=list)  # customer ids
    customers_contacted: int = 0  # last_contact moved forward
    deals_followed_up: int = 0  # next_follow_up changed
    problems: list[str] = field(default_factory=list)  # messages that could not be used
    # --tickets (a support mailbox): see tickets.py
    tickets: bool = False
    tables_created: list[str] = field(default_factory=list)  # TicketRules / SLA sheets added
    tickets_opened: list[str] = field(default_factory=list)  # ticket ids created
    tickets_unassigned: list[str] = field(default_factory=list)  # of those, nobody to assign
    ticket_messages: int = 0  # messages added to existing tickets
    tickets_reopened: list[str] = field(default_factory=list)
    satisfaction: dict[str, int] = field(default_factory=dict)  # ticket id → rating recorded
    unclear_ratings: list[str] = field(default_factory=list)  # survey answers not understood

    @property
    def unmatched(self) -> int:
        return self.skipped["unmatched"]

    def as_dict(self) -> dict[str, object]:
        """Plain data, for the ribbon service and JSON logs."""
        return {
            "mailbox": self.mailbox,
            "dry_run": self.dry_run,
            "rescan": self.rescan,
            "folders": dict(self.folders),
            "resets": list(self.resets),
            "fetched": self.fetched,
            "new": self.new,
            "linked": sum(self.linked_by.values()),
            "linked_by": dict(self.linked_by),
            "linked_deal": self.linked_deal,
            "unmatched": self.unmatched,
            "skipped": dict(self.skipped),
            "unknown": [vars(u) for u in self.unknown.values()],
            "leads": list(self.leads),
            "bounced": list(self.bounced),
            "soft_bounced": list(self.soft_bounced),
            "sends_bounced": self.sends_bounced,
            "sends_replied": self.sends_replied,
            "unsubscribed": list(self.unsubscribed),
            "customers_contacted": self.customers_contacted,
            "deals_followed_up": self.deals_followed_up,
            "problems": list(self.problems),
            **(
                {
                    "tickets": {
                        "tables_created": list(self.tables_created),
                        "opened": list(self.tickets_opened),
                        "unassigned": list(self.tickets_unassigned),
                        "replies": self.ticket_messages,
                        "reopened": list(self.tickets_reopened),
                        "satisfaction": dict(self.satisfaction),
                        "unclear_ratings": list(self.unclear_ratings),
                    }
                }
                if self.tickets
                else {}
            ),
        }

    def lines(self) -> list[str]:
        """:meth:`summary`, one line each (the :class:`~addin.outcome.Report` protocol)."""
        return self.summary().splitlines()

    def summary(self, *, unknown_limit: int = 10) -> str:
        """A few lines a person reads after a run: new, linked, unmatched, skipped, bounced."""
        verb = "would add" if self.dry_run else "added"
        listed = ", ".join(f"{name} {n}" for name, n in self.folders.items()) or "no folders"
        lines = [
            f"{self.mailbox}: {_n(self.fetched, 'message' if self.rescan else 'new message')}"
            f"{' read again' if self.rescan else ''} ({listed})",
            f"  {verb} {_n(self.new, 'interaction')}, {self.linked_deal} of them on a deal",
        ]
        if self.linked_by:
            how = ", ".join(f"{n} by {way}" for way, n in self.linked_by.most_common())
            lines.append(f"  linked: {how}")
        skipped = [
            f"{self.skipped[reason]} {label}"
            for reason, label in SKIP_REASONS.items()
            if self.skipped[reason]
        ]
        if skipped:
            lines.append("  not recorded: " + ", ".join(skipped))
        if self.leads:
            lines.append(f"  new leads: {len(self.leads)} ({', '.join(self.leads[:10])})")
        if self.bounced or self.sends_bounced:
            lines.append(
                f"  bounced: {', '.join(self.bounced) or '-'}"
                f" ({self.sends_bounced} campaign sends marked)"
            )
        if self.soft_bounced:
            lines.append(
                "  soft bounces (the address may work later; not marked): "
                + ", ".join(self.soft_bounced[:10])
                + ("…" if len(self.soft_bounced) > 10 else "")
            )
        if self.unsubscribed:
            lines.append(f"  unsubscribed: {', '.join(self.unsubscribed)}")
        if self.sends_replied:
            lines.append(f"  campaign replies: {self.sends_replied} sends marked replied")
        if self.customers_contacted or self.deals_followed_up:
            lines.append(
                f"  last contact moved on {self.customers_contacted} customers, "
                f"follow-up dates on {self.deals_followed_up} deals"
            )
        if self.tickets:
            lines += self._ticket_lines()
        if self.resets:
            lines.append(
                "  listed again in full (the server's state changed): " + ", ".join(self.resets)
            )
        unknown = [u for u in self.unknown.values() if u.lead is None]
        if unknown:
            unknown.sort(key=lambda u: (-u.messages, u.address))
            lines.append(f"  unknown correspondents ({len(unknown)}):")
            for who in unknown[:unknown_limit]:
                name = f"{who.name} " if who.name else ""
                last = f"last {who.last_subject!r}"
                lines.append(f"    {name}<{who.address}>: {_n(who.messages, 'message')}, {last}")
            if len(unknown) > unknown_limit:
                lines.append(f"    … and {len(unknown) - unknown_limit} more")
            lines.append("  hint: add them as customers, or run again with --create-leads --rescan")
        for problem in self.problems[:10]:
            lines.append(f"  problem: {problem}")
        if self.dry_run:
            lines.append("  dry run: nothing was written")
        return "\n".join(lines)

    def _ticket_lines(self) -> list[str]:
        verb = "would open" if self.dry_run else "opened"
        opened = ", ".join(self.tickets_opened[:10])
        more = "…" if len(self.tickets_opened) > 10 else ""
        lines = [
            f"  tickets: {verb} {len(self.tickets_opened)}"
            + (f" ({opened}{more})" if opened else "")
            + f", {_n(self.ticket_messages, 'reply', 'replies')} on existing tickets"
        ]
        if self.tickets_unassigned:
            lines.append(
                f"  unassigned (no rule, owner or support team): "
                f"{', '.join(self.tickets_unassigned)}"
            )
            lines.append("  hint: list the support team in Settings (support_team)")
        if self.tickets_reopened:
            lines.append(f"  reopened by the customer: {', '.join(self.tickets_reopened)}")
        if self.satisfaction:
            rated = ", ".join(f"{t} {n}" for t, n in self.satisfaction.items())
            lines.append(f"  satisfaction recorded: {rated}")
        if self.unclear_ratings:
            lines.append(
                f"  survey answers without a clear 1–5 rating (enter them by hand): "
                f"{', '.join(self.unclear_ratings)}"
            )
        if self.tables_created:
            lines.append(
                f"  added the {' and '.join(self.tables_created)} sheets with the built-in "
                "rules: edit them to change classification and due times"
            )
        return lines


def _n(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {plural or noun + 's'}"


def latest_emails(book: Book, *, limit: int = 6) -> list[str]:
    """The newest email interactions, one line each: when, direction, who, deal, subject."""
    emails = [r for r in book.table("interactions").rows() if r.get("kind") == "email"]
    emails.sort(key=lambda r: r.get("at") or dt.datetime.min, reverse=True)
    names = {c["id"]: c.get("name") or c.get("company") or "" for c in book.table("customers")}
    lines = []
    for row in emails[:limit]:
        at = row["at"].strftime("%Y-%m-%d %H:%M") if row.get("at") else "?"
        arrow = "→" if row.get("direction") == "out" else "←"
        who = f"{names.get(row.get('customer_id'), '')} ({row.get('customer_id')})"
        deal = f" [{row['deal_id']}]" if row.get("deal_id") else ""
        subject = row.get("subject") or ""
        subject = subject if len(subject) <= 50 else subject[:49] + "…"
        lines.append(f"{at} {arrow} {who}{deal}: {subject}")
    return lines
