"""Mail commands: record a mailbox's mail (sync) and send campaigns."""

from __future__ import annotations

import dataclasses
import functools
import sys
from pathlib import Path

import click

from .common import BOOK, SAVING, echo_json, handle_errors, progress_bar


@click.command("sync")
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
    "--tickets",
    is_flag=True,
    help="A support mailbox: a customer's new thread opens a ticket (classified, assigned, "
    "due time set); replies join it; survey answers record satisfaction.",
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
    tickets: bool,
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

    With --tickets the mailbox is a support mailbox: each new thread from a customer becomes
    a ticket, and later messages in the thread are recorded on it (see 'xlcrm tickets').
    """

    from sync.open import open_mailbox

    from ..mailsync import SyncOptions, sync_mailbox
    from ..workbook import open_book_or_live

    options = SyncOptions(
        me=me,
        internal_domains=internal_domain,
        never_log=never_log,
        folders=folders,
        create_leads=create_leads,
        tickets=tickets,
        rescan=rescan,
        dry_run=dry_run,
        follow_up_days=follow_up_days,
    )
    wb = open_book_or_live(book)  # the live workbook when Excel has it open
    try:
        mailbox = open_mailbox(url, address=me[0] if me else None, insecure=insecure)
        if mailbox.address is None:
            click.echo(
                "xlcrm: warning: the mailbox's own address is not known: give it with --me ADDR "
                "so that mail among colleagues is recognised as internal",
                err=True,
            )
        with progress_bar("Reading mail", quiet=as_json) as progress:
            try:
                report = sync_mailbox(wb, mailbox, dataclasses.replace(options, progress=progress))
            finally:
                mailbox.close()
            if not options.dry_run:
                progress(0, 0, SAVING)
            wb.save()  # nothing to save after a dry run
    finally:
        wb.close()
    for warning in wb.warnings:
        click.echo(f"xlcrm: warning: {warning}", err=True)
    if as_json:
        echo_json(report.as_dict())
    else:
        click.echo(report.summary())


@click.command("campaign")
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
    "--drafts",
    "mode",
    flag_value="drafts",
    help="Save each message in the mailbox's Drafts, once per customer: a resumed run looks "
    "in Drafts for what an interrupted one saved.",
)
@click.option("--test-to", metavar="ADDR", help="Send one sample message to ADDR instead.")
@click.option(
    "--transport",
    metavar="URL",
    help="smtp://user@host, smtps://user@host, ews://…, graph://…; for --drafts a mailbox URL.",
)
@click.option("--sender", metavar="FROM", help="From address (default: Settings: Campaign sender).")
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    help="Template language for customers without a Language (default: the workbook's).",
)
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

    from ..campaigns import CampaignOptions, run_campaign
    from ..workbook import open_book

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
    doing = {"drafts": "Saving drafts", "send": "Sending"}.get(options.mode, "Sending")
    with progress_bar("Checking messages", quiet=as_json) as progress, open_book(book) as wb:
        staged = dataclasses.replace(
            options,
            checking=functools.partial(progress, label="Checking messages"),
            progress=functools.partial(progress, label=doing),
        )
        report = run_campaign(wb, staged)
    if as_json:
        echo_json(report.as_dict())
    else:
        click.echo("\n".join(report.lines()))
    if report.failed or report.uncertain or report.warnings:
        sys.exit(1)
