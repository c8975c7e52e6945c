"""Sending mail through an SMTP server: ``smtp://user@host[:port]`` and ``smtps://user@host[:port]``.

``smtps://`` is TLS from the first byte (port 465). ``smtp://`` (port 587, submission)
upgrades with STARTTLS when the server offers it; without it, logging in would send the
password in clear, which is refused unless the server is this machine.

What goes out is the caller's message, byte for byte, except the Bcc header: the envelope
sender comes from Sender (else From), the recipients from To, Cc and Bcc (each address once,
whatever its case), and the Bcc header is taken out of the transmitted copy so that no
recipient sees who else got it. 8BITMIME and SMTPUTF8 are asked for when the message needs
them and the server offers them.

All recipients are checked before the message is transmitted: when the server refuses any of
them, the transaction is abandoned (RSET) and nothing is sent to anyone, so a campaign that
records the failure never has a message that half-left. One connection is opened at the first
send and reused; the password comes from ``XLCRM_PASSWORD``, the keyring or a prompt
(:mod:`sync.secrets`).
"""

from __future__ import annotations

import base64
import logging
import re
import smtplib
from contextlib import suppress
from email.parser import HeaderParser
from email.policy import compat32
from email.utils import getaddresses

from .imap.net import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    connection_error,
    lost_connection,
    scrub,
    tls_context,
)
from .mailbox import TRANSPORT_SCHEMES, MailboxError, is_loopback, parse_url
from .secrets import PASSWORD_VARIABLE, SERVICE, password

log = logging.getLogger("sync.smtp")

PORTS_HINT = "smtps:// uses port 465 (TLS), smtp:// port 587 (STARTTLS)"
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FIELD_START = re.compile(rb"[^ \t\r\n]")


class SmtpTransport:
    """A :class:`~sync.mailbox.Transport` through one SMTP server, connected at first use."""

    def __init__(self, url: str, *, insecure: bool = False) -> None:
        parsed = parse_url(url, schemes=TRANSPORT_SCHEMES)
        self.url = parsed.text
        self._parsed = parsed
        self._host = parsed.host or ""
        self._port = parsed.port or (465 if parsed.scheme == "smtps" else 587)
        self._insecure = insecure
        self._smtp: smtplib.SMTP | None = None
        self._secret: str | None = None

    def send(self, message: bytes) -> None:
        """Send ``message`` to every address in its To, Cc and Bcc, or to none of them."""
        sender, recipients = envelope(self.url, message)
        data = without_bcc(message)
        smtp = self._connection()
        options = self._mail_options(smtp, sender, recipients, data)
        try:
            code, reply = smtp.mail(sender, options)
            if code != 250:
                smtp.rset()
                raise MailboxError(
                    self.url,
                    f"the server refused the sender {sender} ({code} {_text(reply)})",
                    "the server may only accept the address you log in with as sender",
                )
            refused = {}
            for address in recipients:
                code, reply = smtp.rcpt(address)
                if code not in (250, 251):
                    refused[address] = f"{code} {_text(reply)}"
            if refused:
                smtp.rset()
                names = "; ".join(f"{a} ({why})" for a, why in refused.items())
                raise MailboxError(
                    self.url,
                    f"the server refused {len(refused)} of {len(recipients)} recipients, so "
                    f"the message was sent to no one: {names}",
                    "correct or remove those addresses and send again",
                )
            code, reply = smtp.data(data)
            if code != 250:
                raise MailboxError(
                    self.url, f"the server did not accept the message ({code} {_text(reply)})"
                )
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self._drop()
            raise lost_connection(self.url, "sending a message", error) from None
        except smtplib.SMTPException as error:  # a reply smtplib could not make sense of
            self._drop()
            raise MailboxError(self.url, f"sending failed: {error}") from None
        log.info("%s: sent a message to %d recipient(s)", self.url, len(recipients))

    def close(self) -> None:
        """QUIT, tolerant of a connection the server already closed."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the connection

    def _connection(self) -> smtplib.SMTP:
        """The open connection, or a new one when there is none or the server dropped it
        while it sat idle (servers close idle connections after a minute or so)."""
        if self._smtp is not None:
            try:
                if self._smtp.noop()[0] == 250:
                    return self._smtp
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()
        self._smtp = self._connect()
        return self._smtp

    def _connect(self) -> smtplib.SMTP:
        where, host, port = self.url, self._host, self._port
        context = tls_context(where, insecure=self._insecure)
        smtp: smtplib.SMTP | None = None
        try:
            if self._parsed.scheme == "smtps":
                smtp = smtplib.SMTP_SSL(host, port, timeout=CONNECT_TIMEOUT, context=context)
            else:
                smtp = smtplib.SMTP(host, port, timeout=CONNECT_TIMEOUT)
            if smtp.sock is not None:
                smtp.sock.settimeout(READ_TIMEOUT)
            smtp.ehlo_or_helo_if_needed()
            if self._parsed.scheme == "smtp":
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=context)
                    smtp.ehlo()
                elif is_loopback(self._parsed.host):
                    log.info("%s: no STARTTLS on this machine's server; not encrypting", where)
                elif self._parsed.user:
                    raise MailboxError(
                        where,
                        "the server does not offer STARTTLS, so the password would cross the "
                        "network unencrypted; nothing was sent",
                        f"use {self._parsed.replace(scheme='smtps', port=None).text} "
                        "(TLS, port 465) instead",
                    )
                else:
                    log.warning(
                        "%s: the server does not offer STARTTLS: messages cross the network "
                        "unencrypted",
                        where,
                    )
            if self._parsed.user:
                self._login(smtp)
            return smtp
        except MailboxError:
            _close_quietly(smtp)
            raise
        except smtplib.SMTPConnectError as error:
            _close_quietly(smtp)
            raise MailboxError(
                where,
                f"the server turned the connection away ({error.smtp_code} "
                f"{_text(error.smtp_error)})",
                "try again later",
            ) from None
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException) as error:
            _close_quietly(smtp)
            raise MailboxError(
                where,
                f"{host} port {port} did not talk like an SMTP server ({error})",
                f"check the port: {PORTS_HINT}",
            ) from None
        except OSError as error:
            _close_quietly(smtp)
            raise connection_error(where, host, port, error, ports_hint=PORTS_HINT) from None

    def _login(self, smtp: smtplib.SMTP) -> None:
        where, user = self.url, self._parsed.user or ""
        if not smtp.has_extn("auth"):
            raise MailboxError(
                where,
                "the server offers no login (AUTH), so it cannot check who is sending",
                "remove the user from the URL if this server relays without a login "
                f"(smtp://{self._host}), or check the port: {PORTS_HINT}",
            )
        if self._secret is None:
            self._secret = password(where)
        try:
            if (user + self._secret).isascii() or "PLAIN" not in _mechanisms(smtp):
                smtp.login(user, self._secret)
            else:
                _login_plain_utf8(smtp, user, self._secret)
        except UnicodeEncodeError:
            raise MailboxError(
                where,
                "the user name or password has non-ASCII characters, which this server's "
                "login methods cannot take (it offers no AUTH PLAIN)",
                "use an ASCII password (many providers offer app passwords for mail clients)",
            ) from None
        except smtplib.SMTPAuthenticationError as error:
            said = scrub(_text(error.smtp_error), self._secret)
            self._secret = None  # ask again next time rather than repeat a wrong one
            raise MailboxError(
                where,
                f"login failed for {user} (the server said: {error.smtp_code} {said})",
                f"check the password in {PASSWORD_VARIABLE} or in the keyring entry "
                f"(keyring set {SERVICE} '{where}'); some providers (QQ, 163, Gmail) want an "
                "authorisation code or app password for SMTP",
            ) from None
        except smtplib.SMTPException as error:
            raise MailboxError(where, f"login failed for {user}: {error}") from None

    def _mail_options(
        self, smtp: smtplib.SMTP, sender: str, recipients: list[str], data: bytes
    ) -> list[str]:
        """BODY=8BITMIME and SMTPUTF8 when the message needs them; an error when it needs
        them and the server cannot take them (it would corrupt the message or bounce it)."""
        options = []
        addresses_8bit = not all(a.isascii() for a in [sender, *recipients])
        headers_8bit = not data[: _header_length(data)].isascii()
        if addresses_8bit or headers_8bit:
            if smtp.has_extn("smtputf8"):
                options.append("SMTPUTF8")
            elif addresses_8bit:
                raise MailboxError(
                    self.url,
                    "the message has addresses with non-ASCII characters and the server "
                    "does not accept them (no SMTPUTF8)",
                    "send through a server that supports SMTPUTF8, or use ASCII addresses",
                )
        if not data.isascii():
            if not smtp.has_extn("8bitmime"):
                raise MailboxError(
                    self.url,
                    "the message has 8-bit content and the server does not accept it (no 8BITMIME)",
                    "encode the message as quoted-printable or base64, or use another server",
                )
            options.append("BODY=8BITMIME")
        return options

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        _close_quietly(smtp)


def _mechanisms(smtp: smtplib.SMTP) -> list[str]:
    return smtp.esmtp_features.get("auth", "").upper().split()


def _login_plain_utf8(smtp: smtplib.SMTP, user: str, secret: str) -> None:
    """AUTH PLAIN with UTF-8 credentials (RFC 4616): smtplib encodes them as ASCII, so a
    password like "密码2025" could not be used at all."""
    token = base64.b64encode(f"\0{user}\0{secret}".encode()).decode("ascii")
    code, reply = smtp.docmd("AUTH", f"PLAIN {token}")
    if code == 334:  # a server that wants the credentials after an empty challenge
        code, reply = smtp.docmd(token)
    if code not in (235, 503):  # 503: already authenticated
        raise smtplib.SMTPAuthenticationError(code, reply)


# ---- the message ---------------------------------------------------------------------------


def envelope(where: str, message: bytes) -> tuple[str, list[str]]:
    """The envelope sender (Sender, else From) and recipients (To, Cc, Bcc; each once)."""
    # Decoded as UTF-8 (RFC 6532 headers) before parsing: the bytes parser would turn every
    # non-ASCII byte into U+FFFD, and 张三@例子.中国 into an address that does not exist.
    text = message[: _header_length(message)].decode("utf-8", "surrogateescape")
    headers = HeaderParser(policy=compat32).parsestr(text)

    def addresses(*fields: str) -> list[str]:
        values = [str(v) for field in fields for v in headers.get_all(field, [])]
        return [address for _, address in getaddresses(values) if "@" in address]

    senders = addresses("Sender") or addresses("From")
    if not senders:
        raise MailboxError(where, "the message has no From address, so it cannot be sent")
    recipients: dict[str, str] = {}
    for address in addresses("To", "Cc", "Bcc"):
        recipients.setdefault(address.casefold(), address)
    if not recipients:
        raise MailboxError(where, "the message has no recipients (no To, Cc or Bcc address)")
    return senders[0], list(recipients.values())


def without_bcc(message: bytes) -> bytes:
    """``message`` with every Bcc field (and its folded lines) taken out of the header."""
    end = _header_length(message)
    lines = message[:end].splitlines(keepends=True)
    kept: list[bytes] = []
    dropping = False
    for line in lines:
        if _FIELD_START.match(line):  # a new field starts; folded lines begin with space/tab
            dropping = line.split(b":", 1)[0].strip().lower() == b"bcc"
        if not dropping:
            kept.append(line)
    return b"".join(kept) + message[end:]


def _header_length(message: bytes) -> int:
    """Where the header ends (just before the blank line), or the whole message if none."""
    found = _HEADER_END.search(message)
    if found is None:
        return len(message)
    return found.start() + (2 if message[found.start()] == 0x0D else 1)  # keep its line end


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _close_quietly(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        with suppress(OSError):
            smtp.close()
