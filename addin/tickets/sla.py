"""Service levels: when a ticket is due, and whether it is overdue.

The SLA table has one row per priority: respond within *h* hours, resolve within *h* hours, and
whom to tell when a ticket is not resolved in time. A ticket's due time is its opened time plus
the resolve hours of its priority. Hours are **calendar hours** — nights, weekends and holidays
count — because that is what a customer waiting for an answer experiences; a desk that works
office hours sets longer times. A priority without a row (or a workbook without the SLA
table) uses the built-in times: urgent 4 h, high 24 h, normal 72 h, low 168 h to resolve;
1/4/8/24 h to respond.

A ticket is **overdue** when it is still open or pending and its due time has passed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ValueProblem
from ..schema import SLA
from ..workbook import Book
from .defaults import DEFAULT_HOURS

OPEN_STATUSES = frozenset({"open", "pending"})


@dataclass(frozen=True)
class Level:
    """One priority's service level."""

    priority: str
    respond_hours: float
    resolve_hours: float
    escalate_to: str | None = None
    where: str = "SLA"  # the escalate_to cell (or the table), for messages


class ServiceLevels:
    """The SLA table by priority, with the built-in times for any priority it lacks."""

    def __init__(self, levels: Mapping[str, Level]) -> None:
        self.levels = dict(levels)

    def level(self, priority: str | None) -> Level:
        priority = priority if priority in DEFAULT_HOURS else "normal"
        found = self.levels.get(priority)
        if found is not None:
            return found
        respond, resolve = DEFAULT_HOURS[priority]
        return Level(priority, respond, resolve)

    def due(self, opened: dt.datetime, priority: str | None) -> dt.datetime:
        """When a ticket opened at ``opened`` must be resolved."""
        return opened + dt.timedelta(hours=self.level(priority).resolve_hours)


def is_overdue(ticket: Mapping[str, Any], now: dt.datetime) -> bool:
    """Open or pending, and its due time (a date and time) has passed."""
    due = ticket.get("due")
    return ticket.get("status") in OPEN_STATUSES and isinstance(due, dt.datetime) and due < now


def read_levels(book: Book) -> ServiceLevels:
    """The workbook's SLA table, or the built-in levels when it has none.

    Hours that are not a positive number are an error naming the cell.
    """
    if not book.has_table(SLA.key):
        return ServiceLevels({})
    table = book.table(SLA.key)
    levels = {}
    for row in table.rows():
        priority = row.get("priority")
        if priority is None:
            continue
        if priority not in DEFAULT_HOURS:
            raise ValueProblem(
                table.where_of(priority, "priority"),
                f"{priority!r} is not a priority",
                "use one of: urgent/紧急, high/高, normal/中, low/低",
            )
        respond, resolve = DEFAULT_HOURS[priority]
        hours = {}
        for key, default in (("respond_hours", respond), ("resolve_hours", resolve)):
            value = row.get(key)
            if value is None:
                hours[key] = default
            elif isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                hours[key] = float(value)
            else:
                raise ValueProblem(
                    table.where_of(priority, key),
                    f"{value!r} is not a number of hours",
                    "write a positive number, e.g. 24",
                )
        escalate = row.get("escalate_to")
        levels[priority] = Level(
            priority,
            hours["respond_hours"],
            hours["resolve_hours"],
            escalate.strip() if isinstance(escalate, str) and escalate.strip() else None,
            table.where_of(priority, "escalate_to"),
        )
    return ServiceLevels(levels)
