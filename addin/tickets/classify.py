"""Ticket type and priority from keyword rules (the TicketRules table), and the customer's tier.

Each TicketRules row lists keywords (``投诉; complaint; refund``), separated by ``;`` (or ``,``,
``；``, ``、``, new lines), and says what a ticket that mentions one of them is: its type, its
priority, who handles it. How a message is matched:

- **What is scanned**: the subject and the text the customer just wrote — the quoted earlier
  message of a reply is cut off first, so words from our own answer never classify anything.
- **How**: both sides are NFKC-normalised (full-width ``ＵＲＧＥＮＴ`` reads ``urgent``) and
  case-folded. Chinese keywords match anywhere; keywords in Latin letters match whole words
  (plus an English ending: ``error`` matches ``errors``, ``suggest`` matches ``suggestion``),
  so ``down`` does not match ``download``.
- **Several rules match**: the type comes from the *first* matching rule (in table order) that
  has a type; the priority is the *highest* priority among the matching rules; the assignee is
  the first matching rule's that has one. A rule may set only a priority (``紧急; urgent``).
- **Nothing matches**: no type (a person chooses), priority ``normal``.
- **Tier**: an A-tier customer's ticket is raised one step (low → normal → high → urgent).
  B and C tiers leave it as it is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..errors import ValueProblem
from ..schema import PRIORITIES, TICKET_RULES, TICKET_TYPES
from ..workbook import Book
from .defaults import rule_rows

PRIORITY_ORDER = tuple(c.value for c in PRIORITIES)  # low, normal, high, urgent
DEFAULT_PRIORITY = "normal"
RAISING_TIERS = frozenset({"A"})

_SPLIT = re.compile(r"[;,；，、\r\n]+")
_LATIN = re.compile(r"[a-z0-9][a-z0-9 '\-.&]*")
_ENDINGS = r"(?:s|es|ed|d|ing|ion|ions)?"


def fold(text: str) -> str:
    """Text as rules compare it: NFKC (full-width → half-width), case-folded, one kind of
    apostrophe, runs of white space as one space."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    return " ".join(text.split())


@dataclass(frozen=True)
class Rule:
    """One TicketRules row, ready to match."""

    id: str
    keywords: tuple[str, ...]
    type: str | None = None
    priority: str | None = None
    assignee: str | None = None
    where: str = "TicketRules"  # the row, for messages
    pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def make(
        cls,
        id: str,
        keywords: str | Iterable[str],
        type: str | None = None,
        priority: str | None = None,
        assignee: str | None = None,
        where: str = "TicketRules",
    ) -> Rule:
        words = _SPLIT.split(keywords) if isinstance(keywords, str) else list(keywords)
        folded = tuple(dict.fromkeys(w for w in (fold(k) for k in words) if w))
        return cls(id, folded, type, priority, assignee, where, _pattern(folded))

    def matches(self, folded_text: str) -> bool:
        return self.pattern is not None and self.pattern.search(folded_text) is not None


def _pattern(keywords: Sequence[str]) -> re.Pattern[str] | None:
    parts = []
    for word in sorted(keywords, key=len, reverse=True):
        escaped = re.escape(word)
        if _LATIN.fullmatch(word):
            parts.append(rf"(?<![a-z0-9]){escaped}{_ENDINGS}(?![a-z0-9])")
        else:
            parts.append(escaped)
    return re.compile("|".join(parts)) if parts else None


@dataclass(frozen=True)
class Classification:
    """What the rules say about one ticket."""

    type: str | None
    priority: str
    assignee: str | None  # the first matching rule's assignee text, if any
    assignee_rule: str | None  # that rule's id (its round-robin group)
    rules: tuple[str, ...]  # ids of the matching rules, in table order
    raised_by_tier: bool = False


def classify(
    subject: str | None, text: str | None, rules: Sequence[Rule], tier: str | None = None
) -> Classification:
    """Type, priority and rule assignee for a ticket with this subject and new text."""
    folded = fold(f"{subject or ''}\n{text or ''}")
    matching = [rule for rule in rules if rule.matches(folded)]
    type_ = next((r.type for r in matching if r.type), None)
    by = next((r for r in matching if r.assignee), None)
    ranks = [PRIORITY_ORDER.index(r.priority) for r in matching if r.priority in PRIORITY_ORDER]
    rank = max(ranks) if ranks else PRIORITY_ORDER.index(DEFAULT_PRIORITY)
    raised = False
    if tier in RAISING_TIERS and rank < len(PRIORITY_ORDER) - 1:
        rank += 1
        raised = True
    return Classification(
        type_,
        PRIORITY_ORDER[rank],
        by.assignee if by else None,
        by.id if by else None,
        tuple(r.id for r in matching),
        raised,
    )


def read_rules(book: Book) -> list[Rule]:
    """The workbook's TicketRules in table order, or the built-in rules when it has no such
    table or an empty one.

    A row whose type or priority is not one xlcrm knows is an error naming its cell: a typo
    there would otherwise quietly send tickets to the wrong queue.
    """
    if not book.has_table(TICKET_RULES.key) or len(book.table(TICKET_RULES.key)) == 0:
        return [
            Rule.make(r["id"], r["keywords"], r["type"], r["priority"], r["assignee"])
            for r in rule_rows(book.lang)
        ]
    table = book.table(TICKET_RULES.key)
    rules = []
    for n, row in enumerate(table.rows()):
        keywords = row.get("keywords")
        if not isinstance(keywords, str) or not keywords.strip():
            continue
        ident = str(row.get("id") or f"row {n + 1}")
        where = table.where_of(row["id"]) if row.get("id") else table.layout.sheet
        for key, choices in (("type", TICKET_TYPES), ("priority", PRIORITIES)):
            value = row.get(key)
            if value is not None and value not in {c.value for c in choices}:
                cell = table.where_of(row["id"], key) if row.get("id") else where
                allowed = ", ".join(f"{c.value}/{c.zh}" for c in choices)
                raise ValueProblem(
                    cell, f"{value!r} is not a ticket {key}", f"use one of: {allowed}"
                )
        assignee = row.get("assignee")
        rules.append(
            Rule.make(
                ident,
                keywords,
                row.get("type"),
                row.get("priority"),
                assignee.strip() if isinstance(assignee, str) and assignee.strip() else None,
                where,
            )
        )
    return rules
