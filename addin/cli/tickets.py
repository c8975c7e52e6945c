"""``xlcrm tickets``: assign, time, escalate and survey the Tickets table."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from .common import BOOK, echo_json, handle_errors, sending_options


@click.command("tickets")
@click.argument("book", type=BOOK)
@sending_options(
    "From address (default: Settings: Notification sender for escalations, "
    "Support sender for surveys)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@handle_errors
def tickets(
    book: Path,
    send: bool,
    transport: str | None,
    sender: str | None,
    insecure: bool,
    as_json: bool,
) -> None:
    """Work through BOOK's tickets: assign, set due times, escalate, survey.

    Open tickets without a type, priority, assignee or due time get them from the TicketRules
    and SLA tables (added with the built-in rules when the workbook lacks them); these
    changes are saved. Overdue tickets are escalated once to the SLA table's 'Escalate to' (or
    the escalate_to setting), and customers of newly resolved tickets get one satisfaction
    survey. E-mail goes out only with --send; each message at most once, even across crashes.
    """
    from ..tickets import check_tickets, deliver, prepare_workbook
    from ..workbook import open_book

    with open_book(book) as wb:
        created = prepare_workbook(wb)
        report = check_tickets(wb, dt.datetime.now())
        wb.save()  # assignments and due times, whatever happens to the mail
        deliver(
            wb, book, report, send=send, transport_url=transport, sender=sender, insecure=insecure
        )
    if as_json:
        echo_json({**report.as_dict(), "tables_created": created})
    else:
        if created:
            click.echo(
                f"added the {' and '.join(created)} sheets with the built-in rules: "
                "edit them to change classification and due times"
            )
        click.echo("\n".join(report.lines()))
    failed = any(n.failed or n.uncertain or n.warnings for n in report.notices)
    if failed or report.problems:
        sys.exit(1)
