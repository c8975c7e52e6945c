"""Errors that a person reads.

Every error xlcrm raises on purpose says *where* (``Customers!D14``, ``contacts.csv:12``,
``book.xlsx``), *what* went wrong and, when there is one, *what to do next*. The CLI prints
``str(error)`` and exits with :attr:`XlcrmError.exit_code`; the ribbon service shows the same
text. Anything else that escapes is a bug and is reported with a traceback.

All of them, and the mail layer's :class:`~sync.mailbox.MailboxError`, derive from
:class:`~sync.errors.ActionableError` (``where``, ``message``, ``hint``): catch that one type.
"""

from __future__ import annotations

from sync.errors import ActionableError

__all__ = [
    "ActionableError",
    "DuplicateKeyError",
    "NotFoundError",
    "TableNotFoundError",
    "UsageError",
    "ValueProblem",
    "WorkbookChangedError",
    "WorkbookError",
    "WorkbookLockedError",
    "XlcrmError",
]


class XlcrmError(ActionableError):
    """Base class of the workbook side's errors: a problem the user can act on (exit code 1)."""


class UsageError(XlcrmError):
    """The command was asked for something it cannot mean (exit code 2)."""

    exit_code = 2


class WorkbookError(XlcrmError):
    """The workbook is missing, unreadable, or not shaped like a CRM workbook."""


class WorkbookLockedError(WorkbookError):
    """Another program (Excel, LibreOffice) has the workbook open for editing."""


class WorkbookChangedError(WorkbookError):
    """The file on disk changed after xlcrm read it; writing would lose those edits."""


class TableNotFoundError(WorkbookError):
    """No sheet or Excel Table in the workbook matches the CRM table asked for."""


class AmbiguousTableError(WorkbookError):
    """A sheet may or may not be a CRM table: its headers fit, but not with enough evidence
    (or two sheets fit equally). The person marks it by naming the sheet or its Excel table."""


class ValueProblem(XlcrmError):
    """A value cannot be stored in a column (wrong type, not an allowed choice)."""


class NotFoundError(XlcrmError):
    """A row with the given key does not exist."""


class DuplicateKeyError(XlcrmError):
    """Two rows would share one primary key."""
