"""What every command shares: the workbook argument, error handling and a progress bar."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from sync.mailbox import MailboxError

from ..errors import XlcrmError
from ..schema import TABLES

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
