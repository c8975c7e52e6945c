"""The ``xlcrm`` command line: the thinnest shell over the library.

Each command parses its options, calls one library function and prints what happened. Errors
the user can act on (:class:`~addin.errors.XlcrmError`) print as ``xlcrm: <where>: <what>``
plus a hint and exit 1 (2 for usage errors); anything else is a bug and shows a traceback.
Commands live in modules by topic and are registered here, in the order ``--help`` lists them.
"""

from __future__ import annotations

import click

from .. import __version__
from . import (
    addin_cmd,
    dedupe,
    documents,
    mail,
    pipeline,
    report,
    secret_cmd,
    serve,
    tables,
    tickets,
)
from . import demo as demo_module
from .common import handle_errors, progress_bar

__all__ = ["cli", "handle_errors", "main", "progress_bar"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="xlcrm")
def cli() -> None:
    """xlcrm: a CRM in an Excel workbook and your mailbox.

    The workbook's sheets are the CRM's tables (Customers, Deals, Interactions, Tickets,
    Products, Sends) and its configuration, which people edit like any sheet (Settings,
    Stages, Rules, SLA, TicketRules). Every command works on a closed workbook file; xlcrm
    refuses to write while Excel has it open and keeps backups in .xlcrm-backups/ beside it.
    """


COMMANDS: tuple[click.Command, ...] = (
    tables.init,
    tables.info,
    tables.import_,
    tables.export,
    demo_module.demo,
    mail.sync_,
    documents.contract,
    mail.campaign,
    tickets.tickets,
    dedupe.dedupe,
    report.report,
    pipeline.run,
    pipeline.reminders,
    pipeline.forecast,
    serve.serve,
    secret_cmd.secret,
    addin_cmd.addin,
)
for command in COMMANDS:
    cli.add_command(command)


def main() -> None:
    cli(prog_name="xlcrm")


if __name__ == "__main__":
    main()
