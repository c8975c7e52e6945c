"""Where passwords and tokens come from: the environment, the system keyring, or a prompt —
and which mailbox each one belongs to.

In that order (``docs/design.md``, "Secrets and settings"). Never from a mailbox
URL (:func:`sync.mailbox.parse_url` refuses one with a password) and never from the workbook.
A scheduled run has no terminal, so a missing secret there is a clear error naming the two
ways to provide it, not a prompt that hangs.

**A secret belongs to one mailbox.** The keyring entry is looked up under service ``xlcrm``
and the mailbox's *normalised* URL (:func:`secret_key`: scheme, user, host, port, path) as the
user name, so one person keeps several mailboxes and a password stored for
``imaps://me@imap.corp.cn`` is never offered to ``imaps://me@imap.other.cn`` or to another port::

    xlcrm secret set 'imaps://me%40corp.cn@imap.exmail.qq.com'

The environment (``XLCRM_PASSWORD`` and the token variables) has no URL of its own: on the
command line it is for the URL the user typed, but a service whose requests name the URL must
say which URLs its environment is for. :func:`scoped` does that for the code it wraps (the
ribbon service wraps every command); outside it, the command line's behaviour is unchanged.

Secrets are returned to the caller and never logged; errors name the variable or keyring entry,
never the value. (``docs/secrets.md`` describes all of this for users.)
"""

from __future__ import annotations

import getpass
import logging
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from .mailbox import (
    MAILBOX_SCHEMES,
    TRANSPORT_SCHEMES,
    MailboxError,
    MailboxURL,
    parse_url,
)

log = logging.getLogger(__name__)

SERVICE = "xlcrm"
PASSWORD_VARIABLE = "XLCRM_PASSWORD"

# Ports a URL may leave out: written or not, they name the same server and so the same entry.
DEFAULT_PORTS = {"imap": 143, "imaps": 993, "smtp": 587, "smtps": 465, "ews": 443, "graph": 443}


def parse_any(url: str) -> MailboxURL:
    """``url`` parsed as a mailbox URL, or else as an SMTP transport URL."""
    scheme = url.partition(":")[0].lower()
    schemes = TRANSPORT_SCHEMES if scheme in TRANSPORT_SCHEMES else MAILBOX_SCHEMES
    return parse_url(url, schemes=schemes)


def secret_key(url: str) -> str:
    """The URL a secret is stored for: scheme and host in lower case, the default port left
    out, no trailing slash — the same text for every spelling of one mailbox, and a different
    one for another user, host, port or path. Raises :class:`MailboxError` for a bad URL."""
    parsed = parse_any(url.strip())
    if parsed.host is None:
        return parsed.text
    port = None if parsed.port == DEFAULT_PORTS.get(parsed.scheme) else parsed.port
    host = parsed.host.lower().rstrip(".")
    return parsed.replace(host=host, port=port, path=parsed.path.rstrip("/")).text


@dataclass(frozen=True)
class Scope:
    """What the code running under :func:`scoped` may use: the environment's secrets only
    for the URLs in ``environment`` (normalised), and a prompt only when ``prompt``."""

    environment: frozenset[str]
    prompt: bool = False

    def allows_environment(self, url: str) -> bool:
        try:
            return secret_key(url) in self.environment
        except MailboxError:
            return False


_scope: ContextVar[Scope | None] = ContextVar("xlcrm_secret_scope", default=None)


@contextmanager
def scoped(environment: Iterable[str] = (), *, prompt: bool = False) -> Iterator[Scope]:
    """Within the block, environment secrets serve only the URLs in ``environment`` (the ones
    a service was started with) and nobody is prompted: a URL that came in a request gets
    its own keyring entry or nothing. Context-local, so threads of one service do not mix."""
    scope = Scope(frozenset(secret_key(url) for url in environment), prompt)
    reset = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(reset)


def current_scope() -> Scope | None:
    """The :func:`scoped` block this code runs in, or None (the command line)."""
    return _scope.get()


def from_environment(
    url: str, variable: str, environ: Mapping[str, str] = os.environ
) -> str | None:
    """``$variable`` when it may be used for ``url`` (always on the command line; in a
    :func:`scoped` block only for the URLs the block names), else None."""
    scope = _scope.get()
    if scope is not None and not scope.allows_environment(url):
        return None
    return environ.get(variable) or None


def _keyring() -> tuple[Any, type[Exception]]:
    """The keyring module and its error type; ``(None, Exception)`` on a broken install."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:  # pragma: no cover - keyring is a dependency; a broken install
        return None, Exception
    return keyring, KeyringError


def from_keyring(url: str) -> str | None:
    """The keyring's secret for exactly the mailbox ``url`` names, or None when there is none
    or no keyring at all.

    Looked up under :func:`secret_key`, then under the URL as written (entries stored before
    URLs were normalised): both spell the same scheme, user, host, port and path. A headless
    server usually has no keyring backend; that is not an error, the environment or a prompt
    are the other ways.
    """
    keyring, KeyringError = _keyring()
    if keyring is None:
        return None
    try:
        names = [secret_key(url)]
    except MailboxError:
        return None
    if url not in names:
        names.append(url)
    for name in names:
        try:
            value = keyring.get_password(SERVICE, name)
        except KeyringError as error:
            log.debug("no keyring for %s: %s", name, type(error).__name__)
            return None
        except Exception as error:  # third-party keyring backends raise anything
            log.warning("the system keyring could not be read (%s); trying a prompt", error)
            return None
        if value:
            return str(value)
    return None


def store(url: str, value: str) -> str:
    """Keep ``value`` in the system keyring for exactly ``url``; returns the entry's name.

    Raises :class:`MailboxError` for a URL that is not a server mailbox or transport (local
    mail has no password) or when there is no keyring to keep it in."""
    key = secret_key(url)
    if parse_any(key).host is None:
        raise MailboxError(key, "local mail folders have no password", None)
    keyring, KeyringError = _keyring()
    if keyring is None:  # pragma: no cover - keyring is a dependency
        raise MailboxError(key, "the keyring package is missing", "reinstall xlcrm")
    try:
        keyring.set_password(SERVICE, key, value)
    except KeyringError as error:
        raise MailboxError(
            key,
            f"there is no system keyring to keep the password in ({type(error).__name__})",
            "run where a keyring is available (a desktop session, or keyrings.alt), or give "
            f"the password in {PASSWORD_VARIABLE} to a service started with this URL",
        ) from None
    return key


def forget(url: str) -> bool:
    """Remove the keyring entry for ``url``; False when there was none."""
    keyring, KeyringError = _keyring()
    if keyring is None:  # pragma: no cover
        return False
    key = secret_key(url)
    try:
        keyring.delete_password(SERVICE, key)
    except KeyringError:
        return False
    return True


def store_hint(url: str) -> str:
    """The command that stores the secret for ``url`` (for error hints)."""
    try:
        return f"xlcrm secret set '{secret_key(url)}'"
    except MailboxError:
        return "xlcrm secret set URL"


def can_prompt() -> bool:
    """Whether someone is at a terminal to type a secret (not a scheduled or CI run, not a
    service: a :func:`scoped` block says whether it may)."""
    scope = _scope.get()
    if scope is not None and not scope.prompt:
        return False
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # closed stdin
        return False


def secret(
    url: str,
    *,
    variable: str = PASSWORD_VARIABLE,
    what: str = "password",
    prompt: bool = True,
) -> str:
    """The secret for mailbox ``url``: ``$variable`` (when it may serve ``url``), then the
    keyring entry for exactly ``url``, then a prompt.

    Raises :class:`MailboxError` saying how to provide it when none of them has it.
    """
    value = from_environment(url, variable)
    if value:
        return value
    value = from_keyring(url)
    if value:
        return value
    if prompt and can_prompt():
        value = getpass.getpass(f"{what} for {url}: ")
        if value:
            return value
    if _scope.get() is not None:
        raise MailboxError(
            url,
            f"the xlcrm service has no {what} for this mailbox",
            f"store it in the task pane's Settings, or at the service's computer: "
            f"{store_hint(url)}",
        )
    raise MailboxError(
        url,
        f"no {what} was given",
        f"set {variable}, or store it in the system keyring: {store_hint(url)}",
    )


def password(url: str, *, prompt: bool = True) -> str:
    """The mailbox password (``XLCRM_PASSWORD``, keyring, prompt)."""
    return secret(url, prompt=prompt)
