"""``xlcrm demo``: a sample CRM built, synced and put to work in one command."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from .common import handle_errors


@click.command()
@click.argument(
    "folder", required=False, default="xlcrm-demo", type=click.Path(file_okay=False, path_type=Path)
)
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default="en",
    show_default=True,
    help="Language of the demo workbook's sheet names and headers.",
)
@click.option("--force", is_flag=True, help="Replace a demo workbook left by an earlier run.")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Build and run the demo as of this day (YYYY-MM-DD; default: today). The same day "
    "gives the same workbook and the same figures: the README's transcript is --today 2026-12-07.",
)
@handle_errors
def demo(folder: Path, lang: str, force: bool, today: dt.datetime | None) -> None:
    """Build a demo CRM in FOLDER (default ./xlcrm-demo) and run what xlcrm can do on it.

    Offline and in seconds: a bilingual workbook with customers, deals, products,
    interactions and tickets, a Maildir of a month's mail with those customers and a support
    mailbox. Then, as the commands would: the mail is synced, the customers exported, a
    contract generated and a campaign previewed; the support mail becomes tickets; duplicate
    customers are listed for review, the dashboard, reminders and automation rules are run.
    Nothing is ever sent.
    """
    from ..demo import build_demo
    from ..demo.tour import hints, run_tour

    folder.mkdir(parents=True, exist_ok=True)
    result = build_demo(
        folder,
        lang=lang,  # type: ignore[arg-type]
        overwrite=force,
        today=today.date() if today else None,
    )
    click.echo(result.summary())
    run_tour(result, echo=click.echo)
    click.echo(f"\nOpen {result.path} in Excel, or try:")
    for line in hints(result):
        click.echo(f"  {line}")
