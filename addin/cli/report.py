"""Reporting commands: ``xlcrm report`` refreshes the Dashboard sheet and customer value."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from .common import BOOK, SAVING, echo_json, handle_errors, progress_bar


@click.command()
@click.argument("book", type=BOOK)
@click.option(
    "--no-segments",
    is_flag=True,
    help="Leave the customers' Tier and Segment cells alone (the dashboard still shows them).",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Report as of this day (YYYY-MM-DD) instead of today: the last 12 months end here.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@handle_errors
def report(book: Path, no_segments: bool, today: dt.datetime | None, as_json: bool) -> None:
    """Refresh the Dashboard sheet of BOOK and every customer's tier and segment.

    The Dashboard (仪表盘 in a Chinese workbook) gets key figures and native Excel charts:
    open pipeline by stage, revenue by month, owner, region and product, win rate and
    conversion per owner, tickets by month, campaign results. Each customer gets an ABC tier
    (80/20 on the last 12 months' won revenue; Settings: ABC shares) and an RFM segment
    (Champions, Loyal, At risk…), with the thresholds shown on the dashboard. The sheet is
    rewritten on every run; tiers and segments are written only where they change, in the
    same save.
    """
    from ..report import refresh_report
    from ..workbook import open_book_or_live

    now = dt.datetime.now().replace(microsecond=0)
    if today:  # as of that day, at this time of day (which open tickets are overdue)
        now = dt.datetime.combine(today.date(), now.time())
    # Steps without counts: the report reads every table at once, then the save writes them.
    with progress_bar("Refreshing the dashboard", quiet=as_json) as progress:
        progress(0, 0)
        with open_book_or_live(book) as wb:
            summary = refresh_report(wb, today=now.date(), segments=not no_segments, now=now)
            progress(0, 0, SAVING)
    if as_json:
        echo_json(summary.as_dict())
    else:
        click.echo(f"{book}:")
        click.echo("\n".join(summary.lines()))
