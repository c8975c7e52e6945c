"""What every command shares: the workbook argument, error handling and a progress line."""

from __future__ import annotations

import contextlib
import functools
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click

from sync.errors import ActionableError

from ..schema import TABLES

F = TypeVar("F", bound=Callable[..., Any])

TABLE_NAMES = ", ".join(TABLES)
BOOK = click.Path(dir_okay=False, path_type=Path)


def handle_errors(func: F) -> F:
    """Turn an :class:`ActionableError` (the workbook's, the mailbox's) into a message on
    stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ActionableError as exc:
            click.echo(f"xlcrm: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


Progress = Callable[..., None]
"""``progress(done, total)``, or ``progress(done, total, label)`` when a job moves to its next
step (dedupe: reading customers, then comparing pairs)."""

SAVING = "Saving the workbook"  # the last step of a command that writes a big workbook
REDRAW_SECONDS = 0.1  # often enough to look alive, rarely enough to cost nothing


class _ProgressLine:
    """One line on a terminal, redrawn in place: ``Label: 1,200/30,000 (4%)``. Only ``\r`` and
    spaces: every console understands them (escape codes need Windows' VT mode)."""

    def __init__(self, label: str, stream: TextIO) -> None:
        self.label = label
        self.stream = stream
        self.width = 0  # of the text on the line now
        self.last = 0.0

    def __call__(self, done: int, total: int, label: str | None = None) -> None:
        now = time.monotonic()
        moved_on = label is not None and label != self.label
        if not (moved_on or done >= total or now - self.last >= REDRAW_SECONDS):
            return
        self.label = label or self.label
        self.last = now
        self._draw(progress_text(self.label, done, total))

    def clear(self) -> None:
        if self.width:  # the command's own report takes the line
            self._draw("")
            self.stream.write("\r")
            self.stream.flush()

    def _draw(self, text: str) -> None:
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)


def progress_text(label: str, done: int, total: int) -> str:
    """``Comparing pairs: 1,200/30,000 (4%)``; without a known total, just the count; a step
    that counts nothing (``0, 0``: saving the workbook), just its name."""
    if total <= 0:
        return f"{label}: {done:,}" if done else f"{label}…"
    return f"{label}: {done:,}/{total:,} ({min(100, done * 100 // total)}%)"


@contextlib.contextmanager
def progress_bar(label: str, *, quiet: bool = False) -> Iterator[Progress]:
    """The progress of a long job, as a callback for the library: one updating line with
    counts on stderr, at a terminal only — nothing when stderr is a file or a pipe, or with
    ``quiet`` (``--json``: a script reads the output). Every long command uses this one."""
    stream = sys.stderr
    if quiet or not stream.isatty():
        yield _ignore
        return
    line = _ProgressLine(label, stream)
    try:
        yield line
    finally:
        line.clear()


def _ignore(done: int, total: int, label: str | None = None) -> None:
    pass


def echo_json(data: object) -> None:
    """A command's report for scripts: UTF-8 JSON (Chinese stays readable), dates as text."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def sending_options(sender_help: str) -> Callable[[F], F]:
    """``--send --transport --sender --insecure``: the options of every command that mails
    colleagues or customers, with the same names, defaults (a dry run) and help."""

    def decorate(func: F) -> F:
        for option in reversed(
            (
                click.option(
                    "--send",
                    is_flag=True,
                    help="Really send the e-mails (default: a dry run that shows what would go).",
                ),
                click.option(
                    "--transport",
                    metavar="URL",
                    help="smtp://user@host[:port], smtps://…, or ews://… / graph://… to send "
                    "through (needed with --send).",
                ),
                click.option("--sender", metavar="ADDR", help=sender_help),
                click.option(
                    "--insecure",
                    is_flag=True,
                    help="Do not check the server's certificate (test servers on loopback only).",
                ),
            )
        ):
            func = option(func)
        return func

    return decorate
