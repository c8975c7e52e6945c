"""Where passwords and tokens come from: the environment, the system keyring, or a prompt.

In that order (``docs/design.md``, "Secrets and settings"). Never from a mailbox
URL (:func:`sync.mailbox.parse_url` refuses one with a password) and never from the workbook.
A scheduled run has no terminal, so a missing secret there is a clear error naming the two
ways to provide it, not a prompt that hangs.

The keyring entry is looked up under service ``xlcrm`` and the mailbox URL as the user name,
so one person can keep several mailboxes::

    keyring set xlcrm imaps://me%40corp.cn@imap.exmail.qq.com

Secrets are returned to the caller and never logged; errors name the variable or keyring entry,
never the value.
"""

from __future__ import annotations

import getpass
import logging
import os
import sys

from .mailbox import MailboxError

log = logging.getLogger(__name__)

SERVICE = "xlcrm"
PASSWORD_VARIABLE = "XLCRM_PASSWORD"


def from_keyring(url: str) -> str | None:
    """The keyring's secret for ``url``, or None when there is none or no keyring at all.

    A headless server usually has no keyring backend; that is not an error, the environment
    or a prompt are the other ways.
    """
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:  # pragma: no cover - keyring is a dependency; a broken install
        return None
    try:
        return keyring.get_password(SERVICE, url)
    except KeyringError as error:
        log.debug("no keyring for %s: %s", url, type(error).__name__)
        return None
    except Exception as error:  # third-party keyring backends raise anything
        log.warning("the system keyring could not be read (%s); trying a prompt", error)
        return None


def can_prompt() -> bool:
    """Whether someone is at a terminal to type a secret (not a scheduled or CI run)."""
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
    """The secret for mailbox ``url``: ``$variable``, then the keyring, then a prompt.

    Raises :class:`MailboxError` saying how to provide it when none of them has it.
    """
    value = os.environ.get(variable)
    if value:
        return value
    value = from_keyring(url)
    if value:
        return value
    if prompt and can_prompt():
        value = getpass.getpass(f"{what} for {url}: ")
        if value:
            return value
    raise MailboxError(
        url,
        f"no {what} was given",
        f"set {variable}, or store it in the system keyring: keyring set {SERVICE} '{url}'",
    )


def password(url: str, *, prompt: bool = True) -> str:
    """The mailbox password (``XLCRM_PASSWORD``, keyring, prompt)."""
    return secret(url, prompt=prompt)
