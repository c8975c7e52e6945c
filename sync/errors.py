"""The one error base of xlcrm: a problem a person can act on.

Every error raised on purpose says *where* (``Customers!D14``, ``imaps://sales@corp.cn``,
``contacts.csv:12``), *what* went wrong (``message``) and, when there is one, *what to do
next* (``hint``). The workbook side (:class:`addin.errors.XlcrmError`), the mail side
(:class:`sync.mailbox.MailboxError`) and the service's input errors all derive from
:class:`ActionableError`, so a caller — the command line, the ribbon, a script — catches one
type and shows ``str(error)``; anything else that escapes is a bug.

It lives here, in ``sync``, because ``sync`` is the lowest layer: it never imports ``addin``,
and ``addin`` builds on it.
"""

from __future__ import annotations

from typing import Any


class ActionableError(Exception):
    """A problem the user can act on: ``where``, ``message`` and an optional ``hint``."""

    exit_code = 1  # what the command line exits with

    def __init__(self, where: str | None, message: str, hint: str | None = None) -> None:
        self.where = where
        self.message = message
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its fields, whatever its subclass's ``__init__`` takes: an error raised
        while composing ahead in a forked process comes back to the sender as itself."""
        return (_rebuilt, (type(self), self.__dict__.copy()))

    def as_dict(self) -> dict[str, str | None]:
        """The three fields, as the service's answers and ``--json`` output carry them."""
        return {"where": self.where, "message": self.message, "hint": self.hint}


def _rebuilt(kind: type[ActionableError], state: dict[str, Any]) -> ActionableError:
    error = kind.__new__(kind)
    error.__dict__.update(state)
    Exception.__init__(error, str(error))
    return error
