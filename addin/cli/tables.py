"""Workbook commands: create, inspect, import into and export from a CRM workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import click

from ..schema import CORE_TABLES, TABLES
from .common import BOOK, handle_errors, progress_bar


@click.command()
@click.argument("book", type=BOOK)
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default="en",
    show_default=True,
    help="Language of sheet names, headers and drop-down values (zh: 中文).",
)
@handle_errors
def init(book: Path, lang: str) -> None:
    """Create a new CRM workbook BOOK (.xlsx): empty CRM tables, and the configuration sheets
    (Settings, Stages, Rules, SLA, TicketRules) filled with their defaults.

    Refuses to overwrite an existing file.
    """
    from ..workbook.create import INITIAL_TABLES, create_workbook

    path = create_workbook(book, lang)  # type: ignore[arg-type]
    sheets = [TABLES[key].sheet_name(lang) for key in INITIAL_TABLES]  # type: ignore[arg-type]
    click.echo(f"Created {path} ({lang}): " + ", ".join(sheets))


@click.command()
@click.argument("book", type=BOOK)
@handle_errors
def info(book: Path) -> None:
    """Show which CRM tables BOOK has, where they are and how many rows they hold."""
    from ..errors import TableNotFoundError
    from ..workbook import open_book

    with open_book(book) as wb:
        click.echo(
            f"{book}  language: {wb.lang}" + ("  (password-protected)" if wb.encrypted else "")
        )
        for spec in TABLES.values():
            try:
                table = wb.table(spec.key)
            except TableNotFoundError:
                # Workflow tables (Stages, Rules…) appear when first used; until then the
                # built-in defaults apply.
                state = "missing" if spec.key in CORE_TABLES else "not yet created (defaults)"
                click.echo(f"  {spec.name:<13} {state}")
                continue
            layout = table.layout
            kind = f"table {layout.table_name}" if layout.table_name else "plain range"
            extra = [k for k in layout.keys if k not in spec.by_key]
            missing = [k for k in spec.keys if k not in layout.keys]
            line = f"  {spec.name:<13} {len(table):>8,} rows  sheet {layout.sheet!r} ({kind})"
            if extra:
                line += f"  your columns: {', '.join(extra)}"
            if missing:
                line += f"  missing columns: {', '.join(missing)}"
            click.echo(line)


@click.command(name="import")
@click.argument("book", type=BOOK)
@click.argument("table", metavar="TABLE")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option(
    "--match",
    metavar="COLUMN",
    help="Column that identifies existing rows (default: id, and e-mail for customers).",
)
@click.option(
    "--region",
    default="CN",
    show_default=True,
    metavar="CC",
    help="Country for phone numbers written without +country code.",
)
@click.option("--sheet", metavar="NAME", help="Sheet to read when FILE is a workbook.")
@handle_errors
def import_(
    book: Path,
    table: str,
    file: Path,
    dry_run: bool,
    match: str | None,
    region: str,
    sheet: str | None,
) -> None:
    """Import FILE (CSV, .xlsx or vCard .vcf) into TABLE of BOOK, updating matching rows.

    CSV may be UTF-8 or GB18030 (GBK) and use , ; or tab. Headers are matched by name in
    English or Chinese. Problems (bad e-mails, phone numbers, dates) are listed with their
    line; the rows without problems are imported. TABLE is one of: customers, deals,
    interactions, tickets, products, sends, settings.
    """
    from ..importing import import_file
    from ..workbook import open_book

    with open_book(book) as wb:
        with progress_bar("Importing") as progress:
            report = import_file(
                wb,
                table,
                file,
                dry_run=dry_run,
                match=match,
                region=region,
                sheet=sheet,
                progress=progress,
            )
        if dry_run:
            wb.discard()
    for warning in wb.warnings:
        click.echo(f"xlcrm: warning: {warning}", err=True)
    click.echo(report.summary())
    if dry_run:
        click.echo("Run again without --dry-run to import.")


@click.command()
@click.argument("book", type=BOOK)
@click.argument("table", metavar="TABLE")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="csv (UTF-8 with BOM, opens in Excel) or json.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: standard output).",
)
@click.option(
    "--no-escape-formulas",
    is_flag=True,
    help="Do not prefix cells starting with = + - @ with ' in CSV.",
)
@click.option(
    "--where",
    metavar="EXPR",
    help="""Only the rows EXPR selects, e.g. 'status == "活跃" and last_contact < today - 90d'
    (the filter language: docs/filters.md).""",
)
@handle_errors
def export(
    book: Path,
    table: str,
    fmt: Literal["csv", "json"],  # click.Choice allows only these
    output: Path | None,
    no_escape_formulas: bool,
    where: str | None,
) -> None:
    """Export TABLE of BOOK with canonical column names (ISO dates).

    CSV cells that a spreadsheet would run as a formula get a leading ' unless
    --no-escape-formulas is given. --where selects rows; a mistake in it is reported before
    anything is written, and the output file is left alone.
    """
    from ..exporting import export_table
    from ..workbook import open_book

    with open_book(book) as wb:
        # click 8.5 deprecates get_text_stream (mypy sees it as object); still the stream
        # that writes a console's text correctly, until click 9 says what replaces it.
        target: Any = output if output is not None else click.get_text_stream("stdout")  # type: ignore[operator]
        count = export_table(
            wb, table, target, format=fmt, where=where, escape_formulas=not no_escape_formulas
        )
    if output is not None:
        click.echo(f"Wrote {count:,} rows to {output}", err=True)
