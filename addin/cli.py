"""The ``xlcrm`` command line: the thinnest shell over the library.

Each command parses its options, calls one library function and prints what happened. Errors
the user can act on (:class:`~addin.errors.XlcrmError`) print as ``xlcrm: <where>: <what>``
plus a hint and exit 1 (2 for usage errors); anything else is a bug and shows a traceback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from sync.mailbox import MailboxError

from . import __version__
from .errors import XlcrmError
from .schema import TABLES

F = TypeVar("F", bound=Callable[..., Any])

TABLE_NAMES = ", ".join(TABLES)
BOOK = click.Path(dir_okay=False, path_type=Path)


def handle_errors(func: F) -> F:
    """Turn XlcrmError and MailboxError into a message on stderr and their exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except XlcrmError as exc:
            click.echo(f"xlcrm: {exc}", err=True)
            sys.exit(exc.exit_code)
        except MailboxError as exc:  # the mail layer knows no XlcrmError (sync never imports addin)
            click.echo(f"xlcrm: {exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback drawing a bar on stderr, at a terminal only."""
    with click.progressbar(
        length=0, label=label, file=sys.stderr, hidden=not sys.stderr.isatty()
    ) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        yield progress


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="xlcrm")
def cli() -> None:
    """xlcrm: a CRM in an Excel workbook and your mailbox.

    The workbook's sheets are the CRM's tables (Customers, Deals, Interactions, Tickets,
    Products, Sends, Settings). Every command works on a closed workbook file; xlcrm refuses
    to write while Excel has it open and keeps backups in .xlcrm-backups/ beside it.
    """


@cli.command()
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
    """Create a new CRM workbook BOOK (.xlsx) with all tables, empty.

    Refuses to overwrite an existing file.
    """
    from .workbook.create import create_workbook

    path = create_workbook(book, lang)  # type: ignore[arg-type]
    click.echo(
        f"Created {path} ({lang}): "
        + ", ".join(
            s.sheet_name(lang)  # type: ignore[arg-type]
            for s in TABLES.values()
        )
    )


@cli.command()
@click.argument("book", type=BOOK)
@handle_errors
def info(book: Path) -> None:
    """Show which CRM tables BOOK has, where they are and how many rows they hold."""
    from .errors import TableNotFoundError
    from .workbook import open_book

    with open_book(book) as wb:
        click.echo(
            f"{book}  language: {wb.lang}" + ("  (password-protected)" if wb.encrypted else "")
        )
        for spec in TABLES.values():
            try:
                table = wb.table(spec.key)
            except TableNotFoundError:
                click.echo(f"  {spec.name:<13} missing")
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


@cli.command(name="import")
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
    from .importing import import_file
    from .workbook import open_book

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


@cli.command()
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
@handle_errors
def export(book: Path, table: str, fmt: str, output: Path | None, no_escape_formulas: bool) -> None:
    """Export TABLE of BOOK with canonical column names (ISO dates).

    CSV cells that a spreadsheet would run as a formula get a leading ' unless
    --no-escape-formulas is given.
    """
    from .exporting import export_table
    from .workbook import open_book

    with open_book(book) as wb:
        target: Any = output if output is not None else click.get_text_stream("stdout")
        count = export_table(wb, table, target, format=fmt, escape_formulas=not no_escape_formulas)
    if output is not None:
        click.echo(f"Wrote {count:,} rows to {output}", err=True)


@cli.command()
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
@handle_errors
def demo(folder: Path, lang: str, force: bool) -> None:
    """Build a demo CRM in FOLDER (default ./xlcrm-demo) and run what xlcrm can do on it.

    Offline and in seconds: a bilingual workbook with customers, deals, products,
    interactions and tickets, and a Maildir of a month's mail with those customers, which is
    then synced into the workbook as 'xlcrm sync' would; then an export of the customers, a
    contract for a won deal, and a preview of a campaign (nothing is sent).
    """
    from .campaigns import CampaignOptions, run_campaign
    from .contracts.generate import ContractOptions, generate_contracts
    from .demo import DEMO_MAILBOX, build_demo, demo_won_deal, sync_demo_mailbox
    from .exporting import export_table
    from .mailsync import latest_emails
    from .workbook import open_book

    folder.mkdir(parents=True, exist_ok=True)
    result = build_demo(folder, lang=lang, overwrite=force)  # type: ignore[arg-type]
    click.echo(result.summary())
    assert result.mailbox is not None
    url = f"maildir:{result.mailbox}"
    click.echo(f"\nSyncing the demo mailbox ({url}):")
    report = sync_demo_mailbox(result.path, result.mailbox)
    click.echo(report.summary())
    with open_book(result.path) as wb:
        click.echo("Latest emails recorded:")
        for line in latest_emails(wb, limit=6):
            click.echo(f"  {line}")
        csv_path = folder / "customers.csv"
        count = export_table(wb, "customers", csv_path, format="csv")
    click.echo(f"\nExported {count} customers to {csv_path}")
    won = demo_won_deal(result.path)
    click.echo(f"\nA contract for the won deal {won}:")
    contracts = generate_contracts(result.path, ContractOptions(deal_ids=[won]))
    click.echo("\n".join(contracts.lines()))
    click.echo("\nPreviewing a campaign to the A-tier customers (nothing is sent):")
    campaign = run_campaign(
        result.path,
        CampaignOptions(template="emails/promotion", name="demo-promotion", where='tier == "A"'),
    )
    click.echo("\n".join(campaign.lines()))
    click.echo(
        f"\nOpen {result.path} in Excel, or try:\n  xlcrm info {result.path}\n"
        f"  xlcrm sync {result.path} --mailbox {url} --me {DEMO_MAILBOX} --create-leads --rescan\n"
        f"  xlcrm contract {result.path} --stage Won --pdf\n"
        f"  xlcrm campaign {result.path} --template emails/renewal --name renewals "
        "--where 'status == \"Active\"'"
    )


@cli.command("sync")
@click.argument("book", type=BOOK)
@click.option(
    "--mailbox",
    "url",
    required=True,
    metavar="URL",
    help="maildir:PATH, mbox:PATH, eml:DIR, imaps://user@host, ews://user@host/EWS/Exchange.asmx "
    "or graph://user@tenant.",
)
@click.option(
    "--me",
    multiple=True,
    metavar="ADDR",
    help="An address of ours: the mailbox's own (local mail cannot tell it), an alias or a "
    "shared mailbox; its domain is internal. Repeatable.",
)
@click.option(
    "--internal-domain",
    multiple=True,
    metavar="DOMAIN",
    help="A domain of our own company: mail among internal addresses only is skipped.",
)
@click.option(
    "--never-log",
    multiple=True,
    metavar="ADDR|DOMAIN",
    help="Never record mail with this address or domain (lawyers, HR, private). Repeatable.",
)
@click.option(
    "--folder",
    "folders",
    multiple=True,
    metavar="NAME",
    help="Folder to read (repeatable; default: the inbox and sent folders).",
)
@click.option(
    "--create-leads", is_flag=True, help="Add unknown correspondents as customers (status Lead)."
)
@click.option(
    "--rescan",
    is_flag=True,
    help="List every message again, not only new ones (nothing is recorded twice).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be recorded; write nothing.")
@click.option(
    "--follow-up-days",
    type=click.IntRange(0, 365),
    help="After our mail on an open deal, follow up this many days later "
    "(default: the Settings table's value, else 3).",
)
@click.option(
    "--insecure",
    is_flag=True,
    help="Do not check the server's TLS certificate (self-signed test servers only).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@handle_errors
def sync_(
    book: Path,
    url: str,
    me: tuple[str, ...],
    internal_domain: tuple[str, ...],
    never_log: tuple[str, ...],
    folders: tuple[str, ...],
    create_leads: bool,
    rescan: bool,
    dry_run: bool,
    follow_up_days: int | None,
    insecure: bool,
    as_json: bool,
) -> None:
    """Record the mail in a mailbox as interactions of BOOK's customers.

    Reads new messages since the last run (the state is kept in the workbook, never a
    password), links each to a customer by address, thread or company domain and to a deal,
    and saves everything in one step. Internal domains, the never-log list and the follow-up
    days also come from the workbook's Settings table. The mailbox is only read: nothing is
    marked read, moved or deleted. Running it twice records nothing twice. Passwords come from
    XLCRM_PASSWORD, the system keyring, or a prompt.
    """
    import json

    from sync.open import open_mailbox

    from .mailsync import SyncOptions, sync_mailbox
    from .workbook import open_book

    options = SyncOptions(
        me=me,
        internal_domains=internal_domain,
        never_log=never_log,
        folders=folders,
        create_leads=create_leads,
        rescan=rescan,
        dry_run=dry_run,
        follow_up_days=follow_up_days,
    )
    wb = open_book(book)
    try:
        mailbox = open_mailbox(url, address=me[0] if me else None, insecure=insecure)
        if mailbox.address is None:
            click.echo(
                "xlcrm: warning: the mailbox's own address is not known: give it with --me ADDR "
                "so that mail among colleagues is recognised as internal",
                err=True,
            )
        try:
            with progress_bar("Reading mail") as progress:
                report = sync_mailbox(wb, mailbox, dataclasses.replace(options, progress=progress))
        finally:
            mailbox.close()
    finally:
        wb.close()
    for warning in wb.warnings:
        click.echo(f"xlcrm: warning: {warning}", err=True)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(report.summary())


@cli.command("contract")
@click.argument("book", type=BOOK)
@click.argument("deal_ids", nargs=-1, metavar="[DEAL_ID]...")
@click.option(
    "--stage",
    metavar="STAGE",
    help="Every deal in this stage (e.g. Won / 赢单) that has no contract yet.",
)
@click.option(
    "--template",
    default="contracts/sales_contract",
    show_default=True,
    metavar="T",
    help="contracts/sales_contract, contracts/quotation, or the path of your own .docx.",
)
@click.option(
    "--lang", type=click.Choice(["en", "zh"]), help="Template language (default: the workbook's)."
)
@click.option("--pdf", is_flag=True, help="Also write a PDF of each contract (needs LibreOffice).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the files (default: contracts/ beside the workbook).",
)
@handle_errors
def contract(
    book: Path,
    deal_ids: tuple[str, ...],
    stage: str | None,
    template: str,
    lang: str | None,
    pdf: bool,
    out_dir: Path | None,
) -> None:
    """Generate Word (and PDF) contracts for deals of BOOK from a Jinja template.

    Every deal is checked first; one report lists every empty field. Each deal gets the next
    contract number (Settings: Contract number format) unless it has one, a file with a safe
    name, its Contract no. and Contract file cells filled, and a document interaction.
    """
    from .contracts.generate import ContractOptions, generate_contracts

    options = ContractOptions(
        deal_ids=deal_ids,
        stage=stage,
        template=template,
        lang=lang,  # type: ignore[arg-type]
        pdf=pdf,
        out_dir=out_dir,
    )
    report = generate_contracts(book, options)
    click.echo("\n".join(report.lines()))


@cli.command("campaign")
@click.argument("book", type=BOOK)
@click.option(
    "--template",
    required=True,
    metavar="T",
    help="emails/welcome, emails/follow-up, emails/promotion, emails/renewal, or your own folder.",
)
@click.option("--name", required=True, metavar="N", help="The campaign's name, e.g. spring-2027.")
@click.option(
    "--where",
    metavar="EXPR",
    help="""Which customers, e.g. 'tier == "A" and region == "华东"' (default: everybody).""",
)
@click.option("--send", "mode", flag_value="send", help="Send for real (default: preview only).")
@click.option(
    "--drafts", "mode", flag_value="drafts", help="Save each message in the mailbox's Drafts."
)
@click.option("--test-to", metavar="ADDR", help="Send one sample message to ADDR instead.")
@click.option(
    "--transport",
    metavar="URL",
    help="smtp://user@host, smtps://user@host, ews://…, graph://…; for --drafts a mailbox URL.",
)
@click.option("--sender", metavar="FROM", help="From address (default: Settings: Campaign sender).")
@click.option("--lang", type=click.Choice(["en", "zh"]), help="Template language.")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Send to the others when some customers' messages have problems (they are skipped).",
)
@click.option("--retry-failed", is_flag=True, help="Send again to customers whose send failed.")
@click.option("--per-minute", type=click.IntRange(1), help="At most this many messages a minute.")
@click.option("--per-day", type=click.IntRange(1), help="At most this many messages a day.")
@click.option("--hours", metavar="HH:MM-HH:MM", help="Send only between these hours.")
@click.option(
    "--preview-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the preview goes (default: campaign-preview/NAME beside the workbook).",
)
@click.option("--insecure", is_flag=True, help="Do not check the server's certificate (tests).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@handle_errors
def campaign(
    book: Path,
    template: str,
    name: str,
    where: str | None,
    mode: str | None,
    test_to: str | None,
    transport: str | None,
    sender: str | None,
    lang: str | None,
    skip_invalid: bool,
    retry_failed: bool,
    per_minute: int | None,
    per_day: int | None,
    hours: str | None,
    preview_dir: Path | None,
    insecure: bool,
    as_json: bool,
) -> None:
    """Preview, test or send a mail-merge campaign to BOOK's customers.

    Without --send it only previews: every selected customer's message is checked, problems are
    listed, and the first few are written as .eml files with an HTML index page. --send mails
    each customer at most once per campaign, even across crashes: progress goes to a journal
    beside the workbook and into the Sends table; running the same command again continues.
    Unsubscribed and bounced customers are never mailed. Passwords come from XLCRM_PASSWORD,
    the system keyring, or a prompt.
    """
    import json

    from .campaigns import CampaignOptions, run_campaign

    if test_to and mode:
        raise click.UsageError("--test-to sends one sample; it cannot be combined with --send")
    options = CampaignOptions(
        template=template,
        name=name,
        where=where,
        mode="test" if test_to else (mode or "preview"),  # type: ignore[arg-type]
        transport=transport,
        test_to=test_to,
        sender=sender,
        lang=lang,  # type: ignore[arg-type]
        skip_invalid=skip_invalid,
        retry_failed=retry_failed,
        per_minute=per_minute,
        per_day=per_day,
        hours=hours,
        insecure=insecure,
        preview_dir=preview_dir,
    )
    with progress_bar("Sending") as progress:
        report = run_campaign(book, dataclasses.replace(options, progress=progress))
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(report.lines()))
    if report.failed or report.uncertain or report.warnings:
        sys.exit(1)


def main() -> None:
    cli(prog_name="xlcrm")


if __name__ == "__main__":
    main()
