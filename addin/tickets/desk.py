"""The support desk's configuration for one run, and what a new ticket gets from it.

Read once per run (a sync, ``xlcrm tickets``, ``xlcrm run``): the TicketRules and SLA tables
(or their built-in defaults), the ``support_team`` setting, and each customer's tier and owner.
:meth:`Desk.triage` then gives a new ticket its type, priority, assignee and due time at once,
so a ticket created from mail is complete before anyone opens the workbook.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..schema import SLA, TICKET_RULES
from ..settings import Settings, read_settings
from ..workbook import Book
from .assign import Assigner, Assignment
from .classify import Classification, classify, read_rules
from .defaults import rule_rows, sla_rows
from .sla import read_levels

# Columns added to workbooks made before tickets came from mail (schema: Tickets.thread_id…).
TICKET_COLUMNS = ("thread_id", "escalated")
INTERACTION_COLUMNS = ("ticket_id",)


def prepare_workbook(book: Book) -> list[str]:
    """Give an older workbook what ticket work writes: the Tickets columns ``thread_id`` and
    ``escalated``, Interactions' ``ticket_id``, and the TicketRules and SLA tables holding the
    built-in rows (so people see, and can edit, the rules that were applied); an empty one
    (as ``xlcrm init`` once made them) gets those rows too. Unsaved; returns the sheet names
    of the tables created or filled."""
    tickets = book.table("tickets")
    for key in TICKET_COLUMNS:
        tickets.add_column(key)
    interactions = book.table("interactions")
    for key in INTERACTION_COLUMNS:
        interactions.add_column(key)
    created = []
    for spec, rows in ((TICKET_RULES, rule_rows), (SLA, sla_rows)):
        if not book.has_table(spec.key):
            book.add_table(spec.key, rows(book.lang))
            created.append(spec.sheet_name(book.lang))
        elif len(book.table(spec.key)) == 0:  # never filled in: the built-in rows
            book.table(spec.key).insert_all(rows(book.lang))
            created.append(spec.sheet_name(book.lang))
    return created


@dataclass(frozen=True)
class Triage:
    """A new ticket's classification, assignment and due time."""

    classification: Classification
    assignment: Assignment
    due: dt.datetime | None

    def fields(self) -> dict[str, Any]:
        """The Tickets columns it fills."""
        return {
            "type": self.classification.type,
            "priority": self.classification.priority,
            "assignee": self.assignment.assignee,
            "due": self.due,
        }


class Desk:
    """Rules, service levels and assignment for one run over one workbook."""

    def __init__(
        self,
        book: Book,
        settings: Settings | None = None,
        customers: Iterable[Mapping[str, Any]] | None = None,
    ) -> None:
        settings = settings if settings is not None else read_settings(book)
        self.book = book
        self.settings = settings
        self.rules = read_rules(book)
        self.levels = read_levels(book)
        self.team = settings.list("support_team")
        rows = customers if customers is not None else book.table("customers").rows()
        self.owners: dict[str, str | None] = {}
        self.tiers: dict[str, str | None] = {}
        for row in rows:
            if row.get("id"):
                self.add_customer(row["id"], row.get("owner"), row.get("tier"))
        self.assigner = Assigner(book.state, self.team, self.owners)

    def add_customer(self, customer: str, owner: object = None, tier: object = None) -> None:
        """Know a customer created during the run (a new lead)."""
        self.owners[customer] = owner.strip() if isinstance(owner, str) and owner.strip() else None
        self.tiers[customer] = tier if isinstance(tier, str) else None

    def classify(
        self, subject: str | None, text: str | None, customer: str | None
    ) -> Classification:
        return classify(subject, text, self.rules, self.tiers.get(customer or ""))

    def triage(
        self,
        subject: str | None,
        text: str | None,
        customer: str | None,
        opened: dt.datetime | None,
    ) -> Triage:
        """Type, priority, assignee and due time for a new ticket."""
        found = self.classify(subject, text, customer)
        assignment = self.assigner.assign(found.assignee, found.assignee_rule or "", customer)
        due = self.levels.due(opened, found.priority) if opened else None
        return Triage(found, assignment, due)
