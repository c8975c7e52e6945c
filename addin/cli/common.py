"""What every command shares: the workbook argument, error handling and a progress bar."""

from __future__ import annotations

import contextlib
import functools
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

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


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Callable[..., None]]:
    """A ``progress(done, total)`` callback drawing a bar on stderr, at a terminal only.

    ``progress(done, total, label="…")`` starts a new stage on the same line (the bar
    restarts from zero under the new label): a campaign checks every message, then sends."""
    with click.progressbar(
        length=0, label=label, file=sys.stderr, hidden=not sys.stderr.isatty(), show_pos=True
    ) as bar:

        def progress(done: int, total: int, label: str | None = None) -> None:
            if label is not None and label != bar.label:
                bar.label, bar.pos, bar.avg = label, 0, []
                bar.start = bar.last_eta = time.time()
            bar.length = total
            bar.update(done - bar.pos)

        yield progress


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
