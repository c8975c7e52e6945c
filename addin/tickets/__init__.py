"""Customer service: tickets from a support mailbox, classified, assigned, timed, escalated,
and rated by the customer.

- ``defaults.py`` — the TicketRules and SLA rows a workbook starts with (both languages);
- ``classify.py`` — keyword rules (Chinese and English) and the customer's tier → type, priority;
- ``assign.py`` — the rule's assignee, the customer's owner, or round-robin over a team;
- ``sla.py`` — due times from the priority's service level; what is overdue;
- ``satisfaction.py`` — the survey e-mail and reading a 1–5 rating from the answer;
- ``desk.py`` — all of that read once per run; what a new ticket gets;
- ``service.py`` — :func:`check_tickets` (assign, due times, list escalations and surveys)
  and :func:`deliver` (send them, exactly once, through :mod:`addin.notify`).

The mail side — a support mailbox's new threads becoming tickets — is
:mod:`addin.mailsync.tickets` (``xlcrm sync --tickets``).
"""

from .assign import Assigner, Assignment
from .classify import Classification, Rule, classify, read_rules
from .defaults import default_rows, rule_rows, sla_rows
from .desk import Desk, Triage, prepare_workbook
from .satisfaction import Rating, read_rating, survey, ticket_tag
from .service import Escalation, SurveyDue, TicketReport, check_tickets, deliver
from .sla import Level, ServiceLevels, is_overdue, read_levels

__all__ = [
    "Assigner",
    "Assignment",
    "Classification",
    "Desk",
    "Escalation",
    "Level",
    "Rating",
    "Rule",
    "ServiceLevels",
    "SurveyDue",
    "TicketReport",
    "Triage",
    "check_tickets",
    "classify",
    "default_rows",
    "deliver",
    "is_overdue",
    "prepare_workbook",
    "read_levels",
    "read_rating",
    "read_rules",
    "rule_rows",
    "sla_rows",
    "survey",
    "ticket_tag",
]
