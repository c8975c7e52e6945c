"""Connecting and logging in to an IMAP server, safely.

- ``imaps://`` is TLS from the first byte (port 993). ``imap://`` (port 143) upgrades with
  STARTTLS when the server offers it; when it does not, the password would cross the network
  in clear, which is refused unless the server is this machine.
- The IMAP ``ID`` command (RFC 2971) is sent after login when the server advertises it:
  NetEase (163.com, 126.com, yeah.net) answers SELECT and EXAMINE with "Unsafe Login" until
  a client has said who it is.
- CONDSTORE (RFC 7162) is enabled when the server has it, so that EXAMINE reports
  HIGHESTMODSEQ and an unchanged folder answers without a search.

The password is fetched here (``XLCRM_PASSWORD``, keyring, prompt: :mod:`sync.secrets`) and
never kept beyond login; imapclient's own protocol log already hides the LOGIN arguments.
"""

from __future__ import annotations

import ast
import imaplib
import logging
import ssl
from contextlib import suppress
from importlib import metadata

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import LoginError

from ..mailbox import MailboxError, MailboxURL, is_loopback
from ..net import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    connection_error,
    lost_connection,
    scrub,
    tls_context,
)
from ..secrets import PASSWORD_VARIABLE, password, store_hint

log = logging.getLogger("sync.imap")

PORTS_HINT = "imaps:// uses port 993 (TLS), imap:// port 143 (STARTTLS)"


def client_version() -> str:
    try:
        return metadata.version("xlcrm")
    except metadata.PackageNotFoundError:  # running from a source tree that was not installed
        return "0"


def connect(parsed: MailboxURL, *, insecure: bool) -> IMAPClient:
    """A logged-in client for ``parsed`` (an ``imap://`` or ``imaps://`` URL with a user)."""
    where = parsed.text
    host = parsed.host or ""
    implicit_tls = parsed.scheme == "imaps"
    port = parsed.port or (993 if implicit_tls else 143)
    if not parsed.user:
        raise MailboxError(
            where, "the URL names no user to log in as", f"write it as {parsed.scheme}://user@host"
        )
    context = tls_context(where, insecure=insecure)
    try:
        client = IMAPClient(
            host,
            port,
            ssl=implicit_tls,
            ssl_context=context,
            timeout=SocketTimeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
        )
    except OSError as error:
        raise connection_error(where, host, port, error, ports_hint=PORTS_HINT) from None
    except imaplib.IMAP4.error as error:  # a greeting that is not IMAP, or a BYE
        raise MailboxError(
            where,
            f"{host} port {port} did not greet like an IMAP server ({error})",
            f"check the port: {PORTS_HINT}",
        ) from None
    client.folder_encode = False  # names go through sync.utf7, which also reads raw UTF-8
    try:
        _secure(client, parsed, context)
        _login(client, parsed)
        _introduce(client, where)
    except (OSError, imaplib.IMAP4.abort) as error:
        _drop(client)
        raise lost_connection(where, "logging in", error) from None
    except BaseException:
        _drop(client)
        raise
    return client


def _secure(client: IMAPClient, parsed: MailboxURL, context: ssl.SSLContext) -> None:
    """Upgrade an ``imap://`` connection with STARTTLS, or refuse to log in in clear."""
    where, host = parsed.text, parsed.host or ""
    if parsed.scheme == "imaps":
        return
    try:
        offered = client.has_capability("STARTTLS")
        if offered:
            client.starttls(context)
            return
    except OSError as error:
        port = parsed.port or 143
        raise connection_error(where, host, port, error, ports_hint=PORTS_HINT) from None
    except imaplib.IMAP4.error as error:
        raise MailboxError(where, f"the server refused STARTTLS ({error})") from None
    if not is_loopback(host):
        raise MailboxError(
            where,
            "the server does not offer STARTTLS, so the password would cross the network "
            "unencrypted; nothing was sent",
            f"use {parsed.replace(scheme='imaps', port=None).text} (TLS, port 993) instead",
        )
    log.info("%s: no STARTTLS on this machine's server; logging in without encryption", where)


def _login(client: IMAPClient, parsed: MailboxURL) -> None:
    where = parsed.text
    user, secret = parsed.user or "", password(where)
    try:
        if (user + secret).isascii() or not client.has_capability("AUTH=PLAIN"):
            client.login(user, secret)
        else:
            # LOGIN's arguments are ASCII strings to imaplib; SASL PLAIN carries UTF-8
            # (RFC 4616), so a password like "密码2025" still gets through.
            client.plain_login(user, secret)
    except UnicodeEncodeError:
        raise MailboxError(
            where,
            "the user name or password has non-ASCII characters, which this server's LOGIN "
            "cannot take (it offers no AUTHENTICATE PLAIN)",
            "use an ASCII password (many providers offer app passwords for mail clients)",
        ) from None
    except LoginError as error:
        said = scrub(server_words(error), secret)
        raise MailboxError(
            where,
            f"login failed for {parsed.user} (the server said: {said})",
            f"check the password in {PASSWORD_VARIABLE} or in the keyring entry "
            f"({store_hint(where)}); some providers (QQ, 163, Gmail) want an "
            "app password or IMAP to be enabled in the web mail settings",
        ) from None
    except OSError as error:
        raise MailboxError(
            where,
            f"the server closed the connection during login ({scrub(str(error), secret)})",
            "try again; if it keeps happening, the server may limit logins from this address",
        ) from None


def server_words(error: BaseException) -> str:
    """What the server said, as text: imapclient puts the reply's bytes into its exceptions
    (``b'[AUTHENTICATIONFAILED] Authentication failed.'``), which is not for a person."""
    text = str(error)
    if len(error.args) == 1 and isinstance(error.args[0], bytes):
        text = error.args[0].decode("utf-8", "replace")
    elif text[:2] in ("b'", 'b"') and text[-1:] == text[1]:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        if isinstance(value, bytes):
            text = value.decode("utf-8", "replace")
    return text.strip()


def _introduce(client: IMAPClient, where: str) -> None:
    """ID (who we are) and ENABLE CONDSTORE, each only when the server advertises it.

    Neither is needed for correctness on most servers, so a refusal is logged, not raised;
    SELECT on a NetEase server fails clearly later if ID really was required.
    """
    try:
        if client.has_capability("ID"):
            client.id_({"name": "xlcrm", "version": client_version()})
        if client.has_capability("CONDSTORE") and client.has_capability("ENABLE"):
            client.enable("CONDSTORE")
    except imaplib.IMAP4.abort:
        raise  # the connection is gone: connect() says so
    except imaplib.IMAP4.error as error:
        log.info("%s: the server refused ID or ENABLE CONDSTORE (%s); continuing", where, error)


def _drop(client: IMAPClient) -> None:
    """Close a connection that failed half-way; it may already be dead."""
    with suppress(OSError, imaplib.IMAP4.error):
        client.shutdown()


def logout(client: IMAPClient) -> None:
    """Say goodbye if the connection still works, close it in any case."""
    try:
        client.logout()
    except (OSError, imaplib.IMAP4.error, AttributeError):
        # AttributeError: imaplib after a broken STARTTLS or a connection already shut down.
        _drop(client)
