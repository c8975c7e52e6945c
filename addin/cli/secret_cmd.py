"""``xlcrm secret``: keep a mailbox's password or token in the system keyring, for exactly
that mailbox (``docs/secrets.md``).

Typed at a terminal (never an option: options end up in shell history and process lists), or
read from standard input for scripts. The entry's name is the normalised URL, so the same
password is found whichever way the URL is spelled, and never for another user, host or port.
"""

from __future__ import annotations

import getpass
import sys

import click

from sync import secrets

from .common import handle_errors


@click.group("secret")
def secret() -> None:
    """Passwords and tokens for mailboxes and outgoing mail, kept in the system keyring.

    Each is kept for one URL (scheme, user, host, port and path) and used for that URL only,
    by the command line and by 'xlcrm serve'.
    """


@secret.command("set")
@click.argument("url")
@handle_errors
def set_(url: str) -> None:
    """Store the password (or token) for URL: typed at the prompt, or read from stdin."""
    key = secrets.secret_key(url)
    if sys.stdin.isatty():
        value = getpass.getpass(f"password for {key}: ")
        if value and getpass.getpass("again: ") != value:
            raise click.UsageError("the two passwords differ; nothing was stored")
    else:
        value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise click.UsageError("no password was given; nothing was stored")
    click.echo(f"stored the password for {secrets.store(key, value)}")


@secret.command("delete")
@click.argument("url")
@handle_errors
def delete(url: str) -> None:
    """Remove the stored password for URL."""
    key = secrets.secret_key(url)
    if secrets.forget(key):
        click.echo(f"removed the password for {key}")
    else:
        click.echo(f"no password was stored for {key}")


@secret.command("check")
@click.argument("url")
@handle_errors
def check(url: str) -> None:
    """Say whether a password is stored for URL (never shows it); exit 1 when none is."""
    key = secrets.secret_key(url)
    if secrets.from_keyring(key) is None:
        click.echo(f"no password is stored for {key}")
        raise SystemExit(1)
    click.echo(f"a password is stored for {key}")
