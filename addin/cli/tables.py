"""Workbook commands: create, inspect, import into and export from a CRM workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import click

from ..schema import CORE_TABLES, TABLES
from .common import BOOK, SAVING, echo_json, handle_errors, progress_bar


@click.command()
@click.argument("book", type=BOOK)
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default=None,
    help="Language of sheet names, headers and drop-down values (zh: 中文; default en, or "
    "the language of the CRM tables an existing workbook has).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Add the tables to a digitally signed workbook although its signature will break.",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was added as JSON.")
@handle_errors
def init(book: Path, lang: str | None, force: bool, as_json: bool) -> None:
    """Make BOOK a CRM workbook: the CRM tables (Customers, Deals, Interactions, Tickets,
    Products, Sends) and the configuration sheets (Settings, Stages, Rules, SLA,
    TicketRules) filled with their defaults.

    A new BOOK is created. An existing workbook (.xlsx or .xlsm) gets only the tables and
    Settings rows it lacks, each table on a new sheet; nothing else in it changes, and a
    backup is kept. A workbook whose structure is locked is refused; a digitally signed one
    needs --force, because the change breaks its signature.
    """
    from ..init import INITIAL_TABLES, InitOptions, add_crm, create_workbook
    from ..workbook import open_book

    if not book.exists():
        path = create_workbook(book, lang or "en")  # type: ignore[arg-type]
        sheets = [TABLES[key].sheet_name(lang or "en") for key in INITIAL_TABLES]  # type: ignore[arg-type]
        if as_json:
            echo_json({"created": str(path), "lang": lang or "en", "sheets": sheets})
        else:
            click.echo(f"Created {path} ({lang or 'en'}): " + ", ".join(sheets))
        return
    with open_book(book) as wb:
        report = add_crm(wb, InitOptions(force=force, lang=lang))  # type: ignore[arg-type]
    if as_json:
        echo_json({"workbook": str(book), **report.as_dict()})
        return
    for line in report.lines():
        click.echo(f"{book}: {line}")


@click.command()
@click.argument("book", type=BOOK)
@click.option("--json", "as_json", is_flag=True, help="Print the tables and their state as JSON.")
@handle_errors
def info(book: Path, as_json: bool) -> None:
    """Show which CRM tables BOOK has, where they are and how many rows they hold."""
    from ..workbook import open_book

    with open_book(book) as wb:
        tables = [_table_info(wb, key) for key in TABLES]
        found = {"workbook": str(book), "lang": wb.lang, "encrypted": wb.encrypted}
    if as_json:
        echo_json({**found, "tables": tables})
        return
    locked = "  (password-protected)" if found["encrypted"] else ""
    click.echo(f"{book}  language: {found['lang']}{locked}")
    for entry in tables:
        name = TABLES[entry["table"]].name
        if entry["state"] == "missing":
            click.echo(f"  {name:<13} missing")
        elif entry["state"] == "defaults":
            click.echo(f"  {name:<13} not yet created (defaults)")
        elif entry["state"] == "unclear":
            problem = entry["problem"]
            click.echo(f"  {name:<13} unclear: {problem['where']}: {problem['message']}")
        else:
            kind = f"table {entry['excel_table']}" if entry["excel_table"] else "plain range"
            line = f"  {name:<13} {entry['rows']:>8,} rows  sheet {entry['sheet']!r} ({kind})"
            if entry["your_columns"]:
                line += f"  your columns: {', '.join(entry['your_columns'])}"
            if entry["missing_columns"]:
                line += f"  missing columns: {', '.join(entry['missing_columns'])}"
            click.echo(line)


def _table_info(wb: Any, key: str) -> dict[str, Any]:
    """One CRM table's place and state in the workbook: what ``info`` prints, or its JSON.
    ``state``: ``found``, ``missing`` (a core table), ``defaults`` (a workflow table — Stages,
    Rules… — not created yet: the built-in defaults apply) or ``unclear`` (a sheet that may or
    may not be this table, with the ``problem``)."""
    from ..errors import AmbiguousTableError, TableNotFoundError

    spec = TABLES[key]
    entry: dict[str, Any] = {"table": key, "name": spec.name}
    try:
        table = wb.table(key)
    except TableNotFoundError:
        return {**entry, "state": "missing" if key in CORE_TABLES else "defaults"}
    except AmbiguousTableError as exc:
        return {**entry, "state": "unclear", "problem": exc.as_dict()}
    layout = table.layout
    return {
        **entry,
        "state": "found",
        "rows": len(table),
        "sheet": layout.sheet,
        "excel_table": layout.table_name or None,
        "your_columns": [k for k in layout.keys if k not in spec.by_key],
        "missing_columns": [k for k in spec.keys if k not in layout.keys],
    }


@click.command(name="import")
@click.argument("book", type=BOOK)
@click.argument("table", metavar="TABLE")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Show what would change, field by field; write nothing."
)
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
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace values the workbook already has with the file's (default: only fill blanks).",
)
@click.option(
    "--strict", is_flag=True, help="Import nothing when any row has a problem (default: skip it)."
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="List every change and problem (default: the first 20 changes).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@handle_errors
def import_(
    book: Path,
    table: str,
    file: Path,
    dry_run: bool,
    match: str | None,
    region: str,
    sheet: str | None,
    overwrite: bool,
    strict: bool,
    verbose: bool,
    as_json: bool,
) -> None:
    """Import FILE (CSV, .xlsx, JSON or vCard .vcf) into TABLE of BOOK, updating matching rows.

    CSV may be UTF-8 or GB18030 (GBK) and use , ; or tab. Headers are matched by name in
    English or Chinese. A row with a problem (a bad e-mail address, a date that is
    not one, a customer or deal that does not exist) is skipped and listed with its line;
    the other rows are imported (--strict: nothing is). Values the workbook already has are
    kept unless --overwrite is given; phones and e-mails compare by meaning. The changes are
    listed field by field (the first 20; all with --verbose). TABLE is one of: customers,
    deals, interactions, tickets, products, sends, settings. BOOK needs the table: add the
    CRM tables to any workbook with 'xlcrm init BOOK'.
    """
    from ..importing import ImportRefused, import_file
    from ..workbook import open_book

    try:
        # The line outlives the workbook's context: its save is the last step shown.
        with progress_bar("Importing", quiet=as_json) as progress, open_book(book) as wb:
            report = import_file(
                wb,
                table,
                file,
                dry_run=dry_run,
                match=match,
                region=region,
                sheet=sheet,
                progress=progress,
                overwrite=overwrite,
                strict=strict,
            )
            if dry_run:
                wb.discard()
            else:
                progress(0, 0, SAVING)
    except ImportRefused as exc:
        if as_json:
            echo_json(exc.report.as_dict())
        else:
            click.echo(exc.report.summary(verbose), err=True)
        raise
    for warning in wb.warnings:
        click.echo(f"xlcrm: warning: {warning}", err=True)
    if as_json:
        echo_json(report.as_dict())
        return
    click.echo(report.summary(verbose))
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
        # Progress only beside a file: on a terminal, stdout is the data itself.
        with progress_bar("Exporting", quiet=output is None) as progress:
            count = export_table(
                wb,
                table,
                target,
                format=fmt,
                where=where,
                escape_formulas=not no_escape_formulas,
                progress=progress,
            )
    if output is not None:
        click.echo(f"Wrote {count:,} rows to {output}", err=True)
