"""Buttons of your own in desktop Excel: entry points for xlwings' ``RunPython``.

Wire a button (a shape, a Quick Access Toolbar macro, a custom ribbon) to a VBA one-liner::

    Sub SyncMail()
        RunPython "import addin.desktop; addin.desktop.sync_mail()"
    End Sub

Each function works on the workbook that called it (``xlwings.Book.caller()``) through the live
backend (:class:`~addin.workbook.livebook.LiveBook`), calls the same library function as the
matching ``xlcrm`` command, and shows the outcome in a message box. It never lets a Python
traceback reach the person: a problem they can act on (:class:`~addin.errors.XlcrmError`, a
mailbox that refuses the password) is shown as xlcrm words it — where, what, what to do — and
anything else as a short message pointing to the log (``%LOCALAPPDATA%\\xlcrm\\desktop.log`` on
Windows, ``~/Library/Logs/xlcrm/desktop.log`` on macOS, ``~/.cache/xlcrm/desktop.log`` elsewhere).

What they need comes from the workbook's Settings sheet (``mailbox``, ``support_mailbox``…);
passwords from ``XLCRM_PASSWORD`` or the system keyring — never a prompt, since a RunPython
call has no terminal to type into. See docs/desktop.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import UsageError
from .workbook.cells import parse_range
from .workbook.livebook import LiveBook

log = logging.getLogger(__name__)

TITLE = "xlcrm"


# -- the entry points -----------------------------------------------------------------------------


def sync_mail() -> None:
    """Record the new mail of the Settings' ``mailbox`` (and ``support_mailbox``, as tickets)."""
    _run("Sync mail", _sync_mail)


def generate_contract() -> None:
    """Generate a contract for each deal whose row is selected on the Deals sheet."""
    _run("Generate contract", _generate_contract)


def refresh_dashboard() -> None:
    """Refresh the Dashboard sheet and every customer's tier and segment."""
    _run("Refresh dashboard", _refresh_dashboard)


def find_duplicates() -> None:
    """List likely duplicate customers on the Duplicates sheet for review."""
    _run("Find duplicates", lambda book: _dedupe(book, apply=False))


def merge_duplicates() -> None:
    """Merge the pairs marked merge on the Duplicates sheet, then look again."""
    _run("Merge duplicates", lambda book: _dedupe(book, apply=True))


def reminders() -> None:
    """Write the Reminders sheet: overdue follow-ups, idle deals, customers not contacted."""
    _run("Reminders", _reminders)


# -- the work, on a LiveBook ----------------------------------------------------------------------


def _sync_mail(book: LiveBook) -> str:
    from sync.open import open_mailbox

    from .mailsync import SyncOptions, sync_mailbox
    from .settings import read_settings

    settings = read_settings(book)
    urls = [(settings.text("mailbox"), False), (settings.text("support_mailbox"), True)]
    urls = [(url, tickets) for url, tickets in urls if url]
    if not urls:
        raise UsageError(
            settings.where("mailbox"),
            "no mailbox to sync: the Settings sheet's Mailbox (邮箱) is empty",
            "write the mailbox's address there, e.g. imaps://sales@corp.cn@imap.exmail.qq.com "
            "(no password: set XLCRM_PASSWORD or keep it in the system keyring)",
        )
    summaries = []
    for url, tickets in urls:
        mailbox = open_mailbox(url)
        try:
            report = sync_mailbox(book, mailbox, SyncOptions(tickets=tickets))
        finally:
            mailbox.close()
        book.save()  # each mailbox's mail is kept even when the next one fails
        summaries.append(report.summary())
    return "\n\n".join(summaries + _warnings(book))


def _generate_contract(book: LiveBook) -> str:
    from .contracts.generate import ContractOptions, generate_contracts

    deal_ids = selected_ids(book, "deals")
    base = _folder(book)
    report = generate_contracts(
        book,
        ContractOptions(deal_ids=tuple(deal_ids)),
        base_dir=base,
        templates_near=(base, base / "templates"),
    )
    try:
        book.save()
    except BaseException:  # the workbook does not know these numbers: remove the files
        for item in report.generated:
            for file in item.files:
                file.unlink(missing_ok=True)
        raise
    return "\n".join(report.lines() + _warnings(book))


def _refresh_dashboard(book: LiveBook) -> str:
    from .report import refresh_report

    now = dt.datetime.now().replace(microsecond=0)
    summary = refresh_report(book, today=now.date(), now=now)
    book.save()
    return "\n".join(summary.lines() + _warnings(book))


def _dedupe(book: LiveBook, *, apply: bool) -> str:
    from .dedupe import DedupeOptions
    from .dedupe.run import dedupe_customers

    report = dedupe_customers(book, DedupeOptions(apply=apply))
    report.saved = book.save()
    return "\n".join(report.lines() + _warnings(book))


def _reminders(book: LiveBook) -> str:
    """The Reminders sheet as ``xlcrm reminders`` writes it; the owners' digest e-mails are
    left to ``xlcrm reminders --send`` (a button press should not send mail)."""
    from .pipeline.reminders import RemindersReport, make_reminders, reminders_sheet
    from .settings import read_settings
    from .team import read_team

    today = dt.date.today()
    settings = read_settings(book)
    report = RemindersReport(book.lang, today)
    report.reminders = make_reminders(
        book, today, settings=settings, team=read_team(book, settings)
    )
    sheet = reminders_sheet(report.reminders, book.lang, today)
    report.sheet = sheet.name
    book.put_sheet(sheet)
    book.save()
    return "\n".join(report.lines() + _warnings(book))


# -- helpers --------------------------------------------------------------------------------------


def selected_ids(book: LiveBook, table_name: str) -> list[str]:
    """The ids (keys) of the rows of ``table_name`` that the selection touches, in sheet order.

    Any cell of a row selects the row; several areas (Ctrl+click) are fine. A selection on
    another sheet, or only on the header, is a clear error rather than an empty run.
    """
    table = book.table(table_name)
    layout = table.layout
    key = table.spec.pk[0]
    j = layout.column_index(key)
    selection = book.xl.selection
    sheet = selection.sheet.name if selection is not None else None
    if selection is None or sheet is None or sheet.casefold() != layout.sheet.casefold():
        raise UsageError(
            layout.sheet,
            f"select the rows of the {layout.sheet} sheet to work on",
            f"click any cell in each row you want (Ctrl+click for several), on {layout.sheet}",
        )
    first, last = layout.header_row + 1, layout.last_row
    rows: list[int] = []
    for area in selection.address.replace("$", "").split(","):
        r1, _, r2, _ = parse_range(area)
        rows += [r for r in range(max(r1, first), min(r2, last) + 1) if r not in rows]
    if j is None or not rows:
        raise UsageError(
            f"{layout.sheet}!{selection.address.replace('$', '')}",
            f"the selection holds no {table.name} row",
            "select cells in the rows below the header",
        )
    xl_sheet = book.xl.sheets[layout.sheet]
    col = layout.first_col + j + 1
    ids = []
    for r in sorted(rows):
        value = xl_sheet.range((r, col)).value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if value not in (None, ""):
            ids.append(str(value))
    if not ids:
        raise UsageError(
            f"{layout.sheet}!{selection.address.replace('$', '')}",
            f"the selected rows have no {key}",
        )
    return ids


def _folder(book: LiveBook) -> Path:
    """The workbook's folder, where contracts/ and templates/ go, as for the file backend."""
    full = Path(str(book.xl.fullname))
    if not full.parent.is_dir() or not full.is_absolute():
        raise UsageError(
            book.where,
            "the workbook has not been saved to a folder yet",
            "save it (File › Save As) to a folder on this computer, then try again",
        )
    return full.parent


def _warnings(book: LiveBook) -> list[str]:
    return [f"warning: {w}" for w in book.warnings]


def log_path() -> Path:
    """Where unexpected errors are logged with their traceback (see the module docstring)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "xlcrm" / "desktop.log"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Logs" / "xlcrm" / "desktop.log"
    return (
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "xlcrm" / "desktop.log"
    )


def _log_unexpected(what: str) -> Path | None:
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    try:
        log.error("%s failed", what, exc_info=True)
    finally:
        log.removeHandler(handler)
        handler.close()
    return path


def _run(what: str, work: Callable[[LiveBook], str]) -> None:
    """Run ``work`` on the calling workbook and show its outcome; never raise at the person."""
    import xlwings as xw

    from sync.errors import ActionableError

    book: Any = xw.Book.caller()
    app = book.app
    app.status_bar = f"xlcrm: {what}…"
    try:
        message, mode = work(LiveBook(book)), "info"
    except ActionableError as exc:
        message, mode = str(exc), "critical"
    except Exception as exc:
        logged = _log_unexpected(what)
        message = f"{what} stopped: unexpected {type(exc).__name__}: {exc}"
        if logged is not None:
            message += f"\nDetails are in {logged}"
        mode = "critical"
    finally:
        app.status_bar = False
    app.alert(message, title=f"{TITLE}: {what}", mode=mode)
