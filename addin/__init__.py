"""xlcrm: a CRM that lives in an Excel workbook and the company mailbox.

The library is the product; the ``xlcrm`` command line, the Excel ribbon and the task pane are
thin shells over it. These names are its front door (``docs/python-api.md``)::

    from addin import open_book, open_mailbox, sync_mailbox, SyncOptions

    with open_book("crm.xlsx") as book:  # saves when the block ends without an error
        report = sync_mailbox(book, open_mailbox("maildir:~/Maildir"), SyncOptions())
    print("\\n".join(report.lines()))

Every workflow is ``verb(book, options) -> report``: it changes the book in memory and the
caller saves, except the ones that send mail, which save as they go (mail that left cannot be
taken back). Every report has ``lines()`` and ``as_dict()`` (:class:`Report`); every error a
person can act on is an :class:`ActionableError` (``where``, ``message``, ``hint``).

The names are imported on first use, so ``import addin`` stays cheap.
"""

import importlib
import typing

__version__ = "0.1.0"

# name → the module that defines it
_HOMES = {
    # the workbook
    "Book": "addin.workbook",
    "Table": "addin.workbook",
    "Savepoint": "addin.workbook.book",
    "open_book": "addin.workbook",
    "open_book_or_live": "addin.workbook",
    "create_workbook": "addin.init",
    "add_crm": "addin.init",
    "InitOptions": "addin.init",
    "InitReport": "addin.init",
    # errors and reports
    "ActionableError": "sync.errors",
    "XlcrmError": "addin.errors",
    "MailboxError": "sync.mailbox",
    "Report": "addin.outcome",
    # mailboxes
    "open_mailbox": "sync.open",
    # workflows: the verb, its options, its report
    "sync_mailbox": "addin.mailsync",
    "SyncOptions": "addin.mailsync",
    "SyncReport": "addin.mailsync",
    "import_file": "addin.importing",
    "ImportReport": "addin.importing",
    "export_table": "addin.exporting",
    "refresh_report": "addin.report",
    "ReportSummary": "addin.report",
    "run_rules": "addin.pipeline",
    "RunOptions": "addin.pipeline",
    "RunReport": "addin.pipeline",
    "run_reminders": "addin.pipeline",
    "RemindersOptions": "addin.pipeline",
    "RemindersReport": "addin.pipeline",
    "generate_contracts": "addin.contracts.generate",
    "ContractOptions": "addin.contracts.generate",
    "ContractReport": "addin.contracts.generate",
    "run_campaign": "addin.campaigns",
    "preview_campaign": "addin.campaigns",
    "send_batch": "addin.campaigns",
    "CampaignOptions": "addin.campaigns",
    "CampaignReport": "addin.campaigns",
    "CampaignPreview": "addin.campaigns",
    "BatchResult": "addin.campaigns",
    "dedupe_customers": "addin.dedupe",
    "DedupeOptions": "addin.dedupe",
    "DedupeReport": "addin.dedupe",
    "check_tickets": "addin.tickets",
    "TicketReport": "addin.tickets",
    "send_notices": "addin.notify",
    "Notice": "addin.notify",
    "NoticeReport": "addin.notify",
}

__all__ = [
    "ActionableError",
    "BatchResult",
    "Book",
    "CampaignOptions",
    "CampaignPreview",
    "CampaignReport",
    "ContractOptions",
    "ContractReport",
    "DedupeOptions",
    "DedupeReport",
    "ImportReport",
    "InitOptions",
    "InitReport",
    "MailboxError",
    "Notice",
    "NoticeReport",
    "RemindersOptions",
    "RemindersReport",
    "Report",
    "ReportSummary",
    "RunOptions",
    "RunReport",
    "Savepoint",
    "SyncOptions",
    "SyncReport",
    "Table",
    "TicketReport",
    "XlcrmError",
    "add_crm",
    "check_tickets",
    "create_workbook",
    "dedupe_customers",
    "export_table",
    "generate_contracts",
    "import_file",
    "open_book",
    "open_book_or_live",
    "open_mailbox",
    "preview_campaign",
    "refresh_report",
    "run_campaign",
    "run_reminders",
    "run_rules",
    "send_batch",
    "send_notices",
    "sync_mailbox",
]

if typing.TYPE_CHECKING:
    from sync.errors import ActionableError
    from sync.mailbox import MailboxError
    from sync.open import open_mailbox

    from .campaigns import (
        BatchResult,
        CampaignOptions,
        CampaignPreview,
        CampaignReport,
        preview_campaign,
        run_campaign,
        send_batch,
    )
    from .contracts.generate import ContractOptions, ContractReport, generate_contracts
    from .dedupe import DedupeOptions, DedupeReport, dedupe_customers
    from .errors import XlcrmError
    from .exporting import export_table
    from .importing import ImportReport, import_file
    from .init import InitOptions, InitReport, add_crm, create_workbook
    from .mailsync import SyncOptions, SyncReport, sync_mailbox
    from .notify import Notice, NoticeReport, send_notices
    from .outcome import Report
    from .pipeline import (
        RemindersOptions,
        RemindersReport,
        RunOptions,
        RunReport,
        run_reminders,
        run_rules,
    )
    from .report import ReportSummary, refresh_report
    from .tickets import TicketReport, check_tickets
    from .workbook import Book, Table, open_book, open_book_or_live
    from .workbook.book import Savepoint


def __getattr__(name: str) -> typing.Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'addin' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once is enough
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
