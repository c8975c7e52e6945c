"""Data-cleaning commands: duplicate customers."""

from __future__ import annotations

from pathlib import Path

import click

from .common import BOOK, SAVING, echo_json, handle_errors, progress_bar

STEPS = {
    "linked": "Reading deals, interactions, tickets",
    "customers": "Reading customers",
    "pairs": "Comparing pairs",
}


@click.command("dedupe")
@click.argument("book", type=BOOK)
@click.option(
    "--apply",
    is_flag=True,
    help="Merge the pairs marked merge (合并, yes, x) on the Duplicates sheet, then look again.",
)
@click.option(
    "--threshold",
    type=click.IntRange(0, 100),
    default=80,
    show_default=True,
    help="Lowest score (0-100) of a pair worth proposing.",
)
@click.option(
    "--region",
    metavar="CC",
    help="Country of phone numbers without a country code (default: Settings' Phone region, "
    "else CN).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was found and done as JSON.")
@handle_errors
def dedupe(book: Path, apply: bool, threshold: int, region: str | None, as_json: bool) -> None:
    """Find duplicate customers in BOOK and list them on its Duplicates sheet for review.

    Customers with the same e-mail address or phone number (however written), or alike names
    at alike companies, are listed in pairs with a score and the evidence; invalid addresses
    and numbers are listed too. Mark a pair merge (合并/x) or separate, then run with --apply:
    the duplicate's deals, interactions, tickets and sends move to the survivor, its details
    fill the survivor's gaps, and it stays in Customers with Merged into set. Nothing is
    deleted; decisions are kept from run to run.
    """
    from ..dedupe import DedupeOptions
    from ..dedupe import dedupe_customers as run
    from ..workbook import open_book

    with open_book(book) as wb, progress_bar(STEPS["linked"], quiet=as_json) as progress:
        options = DedupeOptions(
            apply=apply,
            threshold=threshold,
            region=region,
            progress=lambda done, total, step: progress(done, total, STEPS[step]),
        )
        report = run(wb, options)
        progress(0, 0, SAVING)  # a big workbook takes seconds to write
        report.saved = wb.save()
    if as_json:
        echo_json(report.as_dict())
    else:
        click.echo("\n".join(report.lines()))
