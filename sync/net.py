"""Connections to mail servers: TLS contexts, and network failures told as a person reads them.

Shared by the IMAP backend and the SMTP transport (:mod:`sync.smtp`), which meet the same
problems: a name that does not resolve, a port where nothing listens, a server that does not
answer, a certificate this computer does not trust, a port that does not speak TLS.

Each error says whether trying again later can help (``temporary``): a refused connection, a
timeout, a name lookup that failed for now, a dropped connection can all be passing trouble;
a certificate that is not trusted or a port that does not speak TLS stays so until someone
changes something.

Certificates are checked by default, against the system's trusted authorities (OpenSSL also
reads ``SSL_CERT_FILE``, which is how a company CA or a test CA is added without code).
``insecure`` turns the checks off for test servers with self-signed certificates; the
connection is still encrypted, and a warning says that the server is not verified.
"""

from __future__ import annotations

import logging
import socket
import ssl

from .mailbox import MailboxError

log = logging.getLogger("sync.net")

CONNECT_TIMEOUT = 20.0  # seconds to set up a connection (DNS, TCP, TLS handshake)
READ_TIMEOUT = 120.0  # seconds a server may stay silent mid-command (a big FETCH is slow)

_INSECURE_HINT = (
    "for a test server with a self-signed certificate, --insecure turns certificate checks "
    "off (never use it for a real mailbox: anyone on the network could read the password)"
)


def tls_context(where: str, *, insecure: bool) -> ssl.SSLContext:
    """A client TLS context: verifying by default; with ``insecure``, encrypting only."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        log.warning(
            "%s: certificate checks are OFF (--insecure): the connection is encrypted but the "
            "server is not verified; use this only for test servers",
            where,
        )
    return context


def certificate_error(where: str, host: str, error: ssl.SSLCertVerificationError) -> MailboxError:
    """A certificate this computer does not accept: say why, and what can be done."""
    reason = error.verify_message or error.reason or str(error)
    return MailboxError(
        where,
        f"the certificate of {host} was not accepted ({reason}), so nothing was sent to it",
        "check that the server name is the one in its certificate; a company certificate "
        "authority must be installed in the system's trust store (or named by SSL_CERT_FILE); "
        + _INSECURE_HINT,
    )


def connection_error(
    where: str, host: str, port: int, error: OSError, *, ports_hint: str
) -> MailboxError:
    """A failure to connect (or a TLS handshake that failed) as a :class:`MailboxError`.

    ``ports_hint`` names the usual ports of the protocol, for the cases where a wrong port is
    the likely cause.
    """
    if isinstance(error, ssl.SSLCertVerificationError):
        return certificate_error(where, host, error)
    if isinstance(error, socket.gaierror):
        return MailboxError(
            where,
            f"the server name {host} could not be found ({error.strerror or error})",
            "check the spelling of the server name and that this computer is online",
            temporary=error.errno == socket.EAI_AGAIN,  # the name server did not answer
        )
    if isinstance(error, ConnectionRefusedError):
        return MailboxError(
            where,
            f"nothing answers at {host} port {port} (connection refused)",
            f"check the server name and port: {ports_hint}",
            temporary=True,  # a server being restarted refuses connections for a while
        )
    if isinstance(error, TimeoutError):  # socket.timeout is TimeoutError since Python 3.10
        return MailboxError(
            where,
            f"{host} port {port} did not answer in time",
            f"check the server name and port ({ports_hint}), and that a firewall or proxy "
            "lets the connection through",
            temporary=True,
        )
    if isinstance(error, ssl.SSLError):
        return MailboxError(
            where,
            f"the encrypted connection to {host} port {port} could not be set up "
            f"({error.reason or error})",
            f"the port may not speak TLS: {ports_hint}",
        )
    return MailboxError(
        where,
        f"could not connect to {host} port {port}: {error.strerror or error}",
        "check the server name, the port and the network, then try again",
        temporary=True,  # network unreachable, connection reset: the network, not the server
    )


SYNC_AGAIN = (
    "nothing was changed: check the network and run again; the next run starts from the "
    "last saved state"
)


def lost_connection(
    where: str, doing: str, error: BaseException | str, *, hint: str = SYNC_AGAIN
) -> MailboxError:
    """The connection broke (dropped, reset, timed out) in the middle of ``doing``: temporary,
    the next try connects again. ``error`` is the exception, or what the server said."""
    if isinstance(error, str):
        detail = error
    else:
        detail = "no answer in time" if isinstance(error, TimeoutError) else str(error) or "closed"
    return MailboxError(
        where,
        f"the connection to the server was lost while {doing} ({detail})",
        hint,
        temporary=True,
    )


def scrub(text: str, secret: str | None) -> str:
    """``text`` without ``secret`` in it: server replies go into error messages, and a server
    that echoes what it was sent must not put a password on a screen or in a log."""
    return text.replace(secret, "***") if secret else text
