"""Pipeline commands: apply the automation rules, remind owners, forecast the open deals."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import BOOK, echo_json, handle_errors, sending_options

if TYPE_CHECKING:
    from ..pipeline.run import RunOptions, RunReport


@click.command("run")
@click.argument("book", type=BOOK)
@sending_options("From address (default: Settings: Notification sender, else Campaign sender).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for contracts the rules generate (default: contracts/ beside the workbook).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@handle_errors
def run(
    book: Path,
    send: bool,
    transport: str | None,
    sender: str | None,
    insecure: bool,
    out_dir: Path | None,
    as_json: bool,
) -> None:
    """Record stage changes in BOOK and apply its Rules sheet, each rule once per deal.

    Stage edits made in the Deals sheet are recorded as stage interactions. Each enabled rule
    (generate the contract, set the next follow-up, e-mail the owner, send the order
    hand-off) is applied to the deals in its stage that it was not applied to before. E-mail
    is a dry run unless --send is given; sheet actions always happen.
    """
    from ..pipeline.run import RunOptions

    options = RunOptions(
        send=send, transport=transport, sender=sender, insecure=insecure, out_dir=out_dir
    )
    report = run_rules_file(book, options)
    if as_json:
        echo_json(report.as_dict())
    else:
        click.echo("\n".join(report.lines()))


@click.command("reminders")
@click.argument("book", type=BOOK)
@sending_options("From address of the digests (default: Settings: Notification sender).")
@click.option(
    "--idle-days",
    type=click.IntRange(min=0),
    metavar="N",
    help="A deal is idle after N days without activity (default: Stages, then Settings, then 14).",
)
@click.option(
    "--no-contact-days",
    type=click.IntRange(min=0),
    metavar="N",
    help="Remind of A-tier customers not contacted for N days (default: Settings, then 30).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@handle_errors
def reminders(
    book: Path,
    send: bool,
    transport: str | None,
    sender: str | None,
    insecure: bool,
    idle_days: int | None,
    no_contact_days: int | None,
    as_json: bool,
) -> None:
    """Write BOOK's Reminders sheet: overdue follow-ups, idle deals, A-tier customers not
    contacted — per owner. With --send, each owner gets one digest e-mail a day."""
    from ..pipeline.reminders import RemindersOptions, run_reminders
    from ..workbook import open_book

    options = RemindersOptions(
        send=send,
        transport=transport,
        sender=sender,
        insecure=insecure,
        idle_days=idle_days,
        no_contact_days=no_contact_days,
    )
    with open_book(book) as wb:
        report = run_reminders(wb, options)
    if as_json:
        echo_json(report.as_dict())
    else:
        click.echo("\n".join(report.lines()))


@click.command("forecast")
@click.argument("book", type=BOOK)
@click.option(
    "--by",
    type=click.Choice(["month", "owner", "stage"]),
    default="month",
    show_default=True,
    help="Group by month of expected close, owner or stage.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the forecast as JSON.")
@handle_errors
def forecast(book: Path, by: str, as_json: bool) -> None:
    """The weighted forecast of BOOK's open deals: amount × probability (the deal's own
    Probability cell when filled, else its stage's from the Stages sheet)."""
    from ..pipeline.forecast import forecast as make_forecast
    from ..workbook import open_book_or_live

    handle = open_book_or_live(book)
    try:
        result = make_forecast(handle, by)
    finally:
        handle.close()
    if as_json:
        echo_json(result.as_dict())
    else:
        click.echo("\n".join(result.lines()))


def run_rules_file(book_path: Path, options: RunOptions) -> RunReport:
    """``xlcrm run`` on the workbook file at ``book_path``: run, then save; when the save
    fails (the workbook is open in Excel), the contracts the run wrote are removed again."""
    from ..pipeline import run_rules
    from ..workbook import open_book

    report: RunReport | None = None
    try:
        with open_book(book_path) as book:
            report = run_rules(book, options)
    except BaseException:
        if report is not None:
            report.remove_files()
        raise
    return report
