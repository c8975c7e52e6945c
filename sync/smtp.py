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
records the failure never has a message that half-left. The password comes from
``XLCRM_PASSWORD``, the keyring or a prompt (:mod:`sync.secrets`).

One connection carries every message, opened at the first send: a campaign of thousands
logs in once. With PIPELINING a message's envelope is one write, and a caller that names the
next message (``send(..., then=next)``) has that message's envelope written along with this
one's final dot: one round trip a message. When the server also offers CHUNKING (RFC 3030:
Exchange, Gmail, Postfix 3.4+), the content goes in a ``BDAT`` chunk with the envelope, no
dot-stuffing, and ``BDAT 0 LAST`` takes the place of the final dot; a transaction whose
recipient was refused is reset (RSET) instead of the connection dropped. The connection is
used as it is while it was busy recently, and checked with NOOP first only after it sat idle
(servers close idle connections after a minute or so), so a message costs no extra round
trip. When a connection that was kept turns out to be closed at the first command of a
message (MAIL), nothing of that message went out, and it is sent again over a new connection
at once; a connection lost later in a message is an error.

Errors keep the server's own words (code and reply), which a campaign shows on the failed
row, and say whether trying again later can succeed (``MailboxError.temporary``): 4xx replies
(greylisting, rate limits, a full queue) and lost connections are temporary, 5xx replies (an
address that does not exist, a refused sender or login) are not. When some recipients are
refused with 5xx and others with 4xx, the message is refused for good until the addresses
are corrected. A connection lost after the message's content was handed over leaves it
unknown whether the server took it: the error says so.
"""

from __future__ import annotations

import base64
import functools
import logging
import re
import smtplib
import socket
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from email.utils import getaddresses
from typing import cast

from .mailbox import TRANSPORT_SCHEMES, MailboxError, is_loopback, parse_url
from .net import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    connection_error,
    lost_connection,
    scrub,
    tls_context,
)
from .secrets import PASSWORD_VARIABLE, password, store_hint

log = logging.getLogger("sync.smtp")

PORTS_HINT = "smtps:// uses port 465 (TLS), smtp:// port 587 (STARTTLS)"
NOTHING_SENT = "nothing was sent: send it again (a new connection is made)"
MAYBE_SENT = (
    "the connection dropped while the message was being handed over, so the server may have "
    "taken it: look for it at a recipient before sending it again"
)
# smtplib.quoteaddr parses the address again (about 0.1 ms): the sender is the same for every
# message of a campaign, so it is parsed once.
_quote_parsed = functools.lru_cache(maxsize=64)(smtplib.quoteaddr)


def _quoted(address: str) -> str:
    """``<address>`` as MAIL and RCPT write it. A plain ``a@b`` (what :func:`envelope` takes
    out of a campaign's To) is wrapped as it is; anything else goes through smtplib's
    ``quoteaddr``, whose address parsing costs 30 µs a recipient."""
    if _BARE_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return _quote_parsed(address)


_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FIELD_START = re.compile(rb"[^ \t\r\n]")


class SmtpTransport:
    """A :class:`~sync.mailbox.Transport` through one SMTP server, connected at first use."""

    idle_check = 30.0  # seconds of idleness after which the connection is checked with NOOP

    def __init__(self, url: str, *, insecure: bool = False) -> None:
        parsed = parse_url(url, schemes=TRANSPORT_SCHEMES)
        self.url = parsed.text
        self._parsed = parsed
        self._host = parsed.host or ""
        self._port = parsed.port or (465 if parsed.scheme == "smtps" else 587)
        self._insecure = insecure
        self._smtp: smtplib.SMTP | None = None
        self._used = 0.0  # time.monotonic() of the connection's last use
        self._secret: str | None = None
        self._pending: _Pending | None = None  # the next message's envelope, sent ahead

    def send(
        self,
        message: bytes,
        *,
        before_commit: Callable[[], None] | None = None,
        then: bytes | None = None,
    ) -> None:
        """Send ``message`` to every address in its To, Cc and Bcc, or to none of them.

        ``before_commit`` is called once the whole content is with the server and only the
        final ``.`` that makes the server take it is left to send: a sender that records
        "handed over" there knows that a message whose record is missing never left (it
        can simply go again), and only a message recorded but unconfirmed is uncertain.
        An exception from it abandons the message (the connection is dropped, and a server
        discards a transaction whose content never ended).

        ``then`` is the message the caller sends next. With PIPELINING its envelope (MAIL,
        RCPT, DATA) goes out in the same write as this message's final ``.``, so their
        replies come back together: one round trip a message instead of two. Nothing of
        ``then`` can be delivered before its own content and final dot, which only its own
        ``send`` writes (after its own ``before_commit``); a ``send`` of any other message,
        or :meth:`close`, drops the connection instead, and the server discards the envelope
        that waited for content."""
        pending, self._pending = self._pending, None
        if pending is not None and pending.message != message:
            self._drop()  # the server waits for the content of another message
            pending = None
        if pending is not None:
            sender, recipients, data = pending.sender, pending.recipients, pending.data
        else:
            sender, recipients = envelope(self.url, message)
            data = without_bcc(message)
        kept = self._smtp is not None
        try:
            self._transaction(sender, recipients, data, before_commit, pending, then)
        except _Unsent as unsent:
            if not kept:
                raise unsent.error from None
            log.info(
                "%s: %s, before this message; sending it over a new connection",
                self.url,
                unsent.message,
            )
            try:
                self._transaction(sender, recipients, data, before_commit, None, then)
            except _Unsent as again:
                raise again.error from None
        log.info("%s: sent a message to %d recipient(s)", self.url, len(recipients))

    def was_sent(self, message_id: str) -> bool | None:
        """SMTP cannot tell: a server keeps no sent mail that a client could ask about."""
        return None

    def _transaction(
        self,
        sender: str,
        recipients: list[str],
        data: bytes,
        before_commit: Callable[[], None] | None,
        pending: _Pending | None = None,
        then: bytes | None = None,
    ) -> None:
        """MAIL, RCPT for each recipient, DATA, the content; a refusal at any step is a
        MailboxError and sends nothing.

        With PIPELINING (RFC 2920, offered by Postfix, Exchange, Gmail…) MAIL, every RCPT and
        DATA go out in one write and their replies are read together: a message costs two
        round trips (the envelope, then the content) instead of three plus one per recipient,
        which on a real network is most of a campaign's time. With ``then``, the next
        message's envelope rides with this one's final dot (``pending`` is that envelope,
        sent with the previous message's dot: only its replies are left to read), and a
        message costs one round trip."""
        smtp = self._smtp if pending is not None and self._smtp is not None else None
        smtp = smtp or self._connection()
        options = self._mail_options(smtp, sender, recipients, data)
        chunked = _chunking(smtp)
        try:
            if pending is not None:
                self._envelope_replies(smtp, sender, recipients, chunked=chunked)
            elif smtp.has_extn("pipelining"):
                chunk = crlf_lines(data) if chunked else None
                self._envelope_pipelined(smtp, sender, options, recipients, chunk)
            else:
                self._envelope(smtp, sender, options, recipients)
            following = self._next_envelope(smtp, then) if then is not None else None
            self._content(smtp, data, before_commit, following, chunked=chunked)
        except smtplib.SMTPException as error:  # a reply smtplib could not make sense of
            self._drop()
            raise MailboxError(self.url, f"sending failed: {error}") from None

    def _next_envelope(self, smtp: smtplib.SMTP, then: bytes) -> _Pending | None:
        """The envelope of the message sent next, to go with this one's final dot; None
        when it cannot go ahead (no PIPELINING, or a message the server cannot take: its own
        ``send`` says why)."""
        if not smtp.has_extn("pipelining"):
            return None
        try:
            sender, recipients = envelope(self.url, then)
            data = without_bcc(then)
            options = self._mail_options(smtp, sender, recipients, data)
        except MailboxError:
            return None
        chunk = crlf_lines(data) if _chunking(smtp) else None
        return _Pending(
            then, _envelope_bytes(sender, options, recipients, chunk), sender, recipients, data
        )

    def _envelope(
        self, smtp: smtplib.SMTP, sender: str, options: list[str], recipients: list[str]
    ) -> None:
        """MAIL, RCPT and DATA one at a time, each waiting for its reply (no PIPELINING)."""
        code, reply = self._command("MAIL", lambda: smtp.mail(sender, options))
        if code != 250:
            self._reset(smtp)
            raise self._sender_refused(sender, code, reply)
        refused: dict[str, tuple[int, str]] = {}
        for address in recipients:
            code, reply = self._command("RCPT", functools.partial(smtp.rcpt, address))
            if code not in (250, 251):
                refused[address] = (code, _text(reply))
        if refused:
            self._reset(smtp)
            raise self._recipients_refused(refused, len(recipients))
        code, reply = self._command("DATA command", lambda: smtp.docmd("data"))
        if code != 354:
            self._reset(smtp)
            raise self._data_refused(code, reply)

    def _envelope_pipelined(
        self,
        smtp: smtplib.SMTP,
        sender: str,
        options: list[str],
        recipients: list[str],
        chunk: bytes | None = None,
    ) -> None:
        """MAIL, every RCPT and DATA (or, with CHUNKING, the content as one ``BDAT`` chunk
        that is not the last) in one write; then their replies, in order.

        When a recipient is refused and the server still answered DATA with 354 (it does when
        any recipient was accepted), the content must not follow — that would send to the
        others — so the connection is dropped: a server discards a transaction whose content
        never ended, and the next message connects again. A chunk is not delivered before a
        ``LAST`` one, so a refusal there is simply reset."""
        batch = _envelope_bytes(sender, options, recipients, chunk)

        def first() -> tuple[int, bytes]:
            smtp.send(batch)
            return smtp.getreply()

        self._envelope_replies(smtp, sender, recipients, first, chunked=chunk is not None)

    def _envelope_replies(
        self,
        smtp: smtplib.SMTP,
        sender: str,
        recipients: list[str],
        first: Callable[[], tuple[int, bytes]] | None = None,
        *,
        chunked: bool = False,
    ) -> None:
        """The replies to a pipelined envelope (already written), in order; ``first`` writes
        it and reads the MAIL reply, when it was not sent with the previous message's dot.
        ``chunked``: the envelope ended in a ``BDAT`` chunk, not DATA."""
        mail_code, mail_reply = self._command("MAIL", first or smtp.getreply)
        refused: dict[str, tuple[int, str]] = {}
        for address in recipients:
            code, reply = self._command("RCPT", smtp.getreply)
            if code not in (250, 251):
                refused[address] = (code, _text(reply))
        code, reply = self._command("DATA command", smtp.getreply)
        if chunked:
            if code == 250 and mail_code == 250 and not refused:
                return
            self._reset(smtp)  # nothing is delivered before a LAST chunk: RSET discards it
        elif code == 354:
            if mail_code == 250 and not refused:
                return
            self._drop()  # the server waits for content that must not come
        else:
            self._reset(smtp)
        if mail_code != 250:
            raise self._sender_refused(sender, mail_code, mail_reply)
        if refused:
            raise self._recipients_refused(refused, len(recipients))
        raise self._data_refused(code, reply)

    def _content(
        self,
        smtp: smtplib.SMTP,
        data: bytes,
        before_commit: Callable[[], None] | None,
        following: _Pending | None = None,
        *,
        chunked: bool = False,
    ) -> None:
        """The content after a 354, then the final ``.``, which makes the server take it
        (with the next message's envelope behind it when ``following``). ``chunked``: the
        content went already, as a chunk with the envelope, and ``BDAT 0 LAST`` is the dot.

        A connection lost before that dot went cannot have delivered anything (the error
        says to send again); only one lost between the dot and the server's reply leaves the
        message uncertain (``maybe_sent``)."""
        ahead = following.envelope if following is not None else b""
        end = (b"BDAT 0 LAST\r\n" if chunked else b".\r\n") + ahead
        body = b"" if chunked else dot_stuffed(data)
        if before_commit is None:
            body += end
        try:
            if body:  # with CHUNKING and a record, nothing is left to go before the commit
                smtp.send(body)
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self._drop()
            # Without a record the dot may be in it: the message may have been taken.
            raise self._lost("DATA" if before_commit is None else "DATA command", error) from None
        if before_commit is not None:
            try:
                write = _raw_writer(smtp)
            except smtplib.SMTPServerDisconnected as error:
                self._drop()
                raise self._lost("DATA command", error) from None
            sys.audit("smtplib.send", smtp, end)  # smtplib's own event, raised before the moment
            try:
                before_commit()
            except BaseException:
                self._drop()  # the transaction never ends: the server discards it
                raise
            try:
                write(end)  # the very next thing after the record: see _raw_writer
            except OSError as error:  # some of it may have gone: the message may be taken
                self._drop()
                raise self._lost("DATA", error) from None
        code, reply = self._command("DATA", smtp.getreply)
        if following is not None and self._smtp is smtp:
            self._pending = following  # its replies follow this one's
        if code != 250:
            raise self._refused(
                f"the server did not accept the message ({code} {_text(reply)})", code
            )

    def _sender_refused(self, sender: str, code: int, reply: bytes) -> MailboxError:
        return self._refused(
            f"the server refused the sender {sender} ({code} {_text(reply)})",
            code,
            "the server may only accept the address you log in with as sender",
        )

    def _data_refused(self, code: int, reply: bytes) -> MailboxError:
        return self._refused(f"the server did not accept the message ({code} {_text(reply)})", code)

    def _command(self, stage: str, call: Callable[[], tuple[int, bytes]]) -> tuple[int, bytes]:
        """One SMTP command of a message, and its reply. ``stage`` is MAIL, RCPT, DATA (the
        content handed over) or "DATA command" (refused before the content went).

        The connection closing under it (reset, silence, or the server's 421 "closing
        channel") is a temporary MailboxError; at MAIL it is :class:`_Unsent`: nothing of the
        message went out, so it can go again over a new connection."""
        try:
            code, reply = call()
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self._drop()
            raise self._lost(stage, error) from None
        return self._reply(stage, code, reply)

    def _reply(self, stage: str, code: int, reply: bytes) -> tuple[int, bytes]:
        """A reply that ends the connection (421, or one cut off by a dropped line, which
        smtplib reads as a code like 2 or -1) as a MailboxError; any other as it is."""
        if 200 <= code <= 599 and code != 421:
            self._used = time.monotonic()
            return code, reply
        self._drop()
        if code != 421:  # "2" and then nothing: the line dropped in the middle of the reply
            raise self._lost(stage, f"the reply was cut off: {code} {_text(reply)}".strip())
        said = f"the server closed the connection ({code} {_text(reply)})"
        if stage == "MAIL":
            raise _Unsent(MailboxError(self.url, said, NOTHING_SENT, temporary=True))
        raise MailboxError(
            self.url, f"{said}; the message was not sent", "send it again later", temporary=True
        )

    def _lost(self, stage: str, error: BaseException | str) -> MailboxError:
        """A connection lost during ``stage``: before DATA nothing was sent; during DATA the
        server may have taken the message just before the line dropped."""
        if stage == "DATA":
            lost = lost_connection(self.url, "sending a message", error, hint=MAYBE_SENT)
            lost.maybe_sent = True
            return lost
        lost = lost_connection(self.url, "sending a message", error, hint=NOTHING_SENT)
        return _Unsent(lost) if stage == "MAIL" else lost

    def _refused(self, text: str, code: int, hint: str | None = None) -> MailboxError:
        """A 4xx reply is the server saying "not now" (temporary), a 5xx "no" (permanent)."""
        if _temporary(code):
            hint = "the server asks to try again later (busy, or limiting how much is sent)"
        return MailboxError(self.url, text, hint, temporary=_temporary(code))

    def _recipients_refused(self, refused: dict[str, tuple[int, str]], total: int) -> MailboxError:
        names = "; ".join(f"{a} ({code} {why})" for a, (code, why) in refused.items())
        temporary = all(_temporary(code) for code, _ in refused.values())
        return MailboxError(
            self.url,
            f"the server refused {len(refused)} of {total} recipients, so the message was sent "
            f"to no one: {names}",
            "the server turned them away for now (greylisting or a sending limit): send again later"
            if temporary
            else "correct or remove those addresses and send again",
            temporary=temporary,
        )

    def _reset(self, smtp: smtplib.SMTP) -> None:
        """RSET after a refusal, so the next message starts a clean transaction; a connection
        that fails here is dropped (the next message connects again)."""
        try:
            smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def close(self) -> None:
        """QUIT, tolerant of a connection the server already closed. With an envelope sent
        ahead for a message that was not sent after all, the server is waiting for content
        (a QUIT would be read as content): the connection is dropped, and the server discards
        the transaction."""
        if self._pending is not None:
            self._drop()
            return
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
        """The open connection, or a new one when there is none. One that sat idle longer
        than ``idle_check`` seconds is checked with NOOP first (servers close idle connections
        after a minute or so); one used recently is used as it is, with no extra round trip."""
        if self._smtp is not None:
            if time.monotonic() - self._used <= self.idle_check:
                return self._smtp
            try:
                if self._smtp.noop()[0] == 250:
                    return self._smtp
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()
        self._smtp = self._connect()
        self._used = time.monotonic()
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
                # Small writes (a pipelined envelope, the final dot) go out at once instead of
                # waiting for the server's delayed ACK of the previous segment: ~40 ms a
                # message over TLS otherwise.
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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
            temporary = _temporary(error.smtp_code)
            raise MailboxError(
                where,
                f"the server turned the connection away ({error.smtp_code} "
                f"{_text(error.smtp_error)})",
                "try again later"
                if temporary
                else "the server does not take mail from this computer: ask its administrator",
                temporary=temporary,
            ) from None
        except smtplib.SMTPServerDisconnected as error:  # closed on us: busy, or a dropped line
            _close_quietly(smtp)
            raise lost_connection(
                where, "connecting", error, hint=f"try again later; check the port: {PORTS_HINT}"
            ) from None
        except smtplib.SMTPResponseException as error:
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
            if _temporary(error.smtp_code):  # 454: the server cannot check passwords just now
                raise MailboxError(
                    where,
                    f"login failed for {user} for now (the server said: {error.smtp_code} {said})",
                    "try again later",
                    temporary=True,
                ) from None
            self._secret = None  # ask again next time rather than repeat a wrong one
            raise MailboxError(
                where,
                f"login failed for {user} (the server said: {error.smtp_code} {said})",
                f"check the password in {PASSWORD_VARIABLE} or in the keyring entry "
                f"({store_hint(where)}); some providers (QQ, 163, Gmail) want an "
                "authorisation code or app password for SMTP",
            ) from None
        except smtplib.SMTPServerDisconnected as error:
            raise lost_connection(where, "logging in", error, hint="try again later") from None
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
        self._pending = None
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


@dataclass(frozen=True)
class _Pending:
    """An envelope written ahead with the previous message's final dot, for ``message``."""

    message: bytes
    envelope: bytes
    sender: str  # what envelope() and without_bcc() made of it, kept for its own send
    recipients: list[str]
    data: bytes


def _raw_writer(smtp: smtplib.SMTP) -> Callable[[bytes], object]:
    """The call that writes the final dot, as directly as the socket allows.

    Between the "handed over" record and this write nothing may give a kill a chance to land:
    a C method runs no Python code first, so the interpreter cannot hand the GIL to another
    thread (the service's composing thread) between the record and the system call, as it
    can on entering a Python function such as ``SSLSocket.sendall``. Over TLS that is the
    SSL object's ``write`` (blocking, it writes the whole buffer); in clear the socket's own
    C ``sendall``. Both write all of it or raise (an ``OSError``)."""
    sock = smtp.sock
    if sock is None:
        raise smtplib.SMTPServerDisconnected("the connection was closed")
    ssl_object = getattr(sock, "_sslobj", None)  # the C object behind an SSLSocket
    write = getattr(ssl_object, "write", None) or sock.sendall
    return cast(Callable[[bytes], object], write)


def _envelope_bytes(
    sender: str, options: list[str], recipients: list[str], chunk: bytes | None = None
) -> bytes:
    """MAIL, every RCPT and DATA as one pipelined write (RFC 2920); UTF-8 with SMTPUTF8.
    With ``chunk`` (CHUNKING, RFC 3030) a ``BDAT`` of that content, not the last, instead of
    DATA."""
    mail = f"MAIL FROM:{_quoted(sender)}"
    if options:
        mail += " " + " ".join(options)
    lines = [mail, *(f"RCPT TO:{_quoted(a)}" for a in recipients)]
    lines.append("DATA" if chunk is None else f"BDAT {len(chunk)}")
    utf8 = any(option.upper() == "SMTPUTF8" for option in options)
    head = "".join(line + "\r\n" for line in lines).encode("utf-8" if utf8 else "ascii")
    return head if chunk is None else head + chunk


def _chunking(smtp: smtplib.SMTP) -> bool:
    """Whether messages go in BDAT chunks: CHUNKING offered, with PIPELINING (the chunk rides
    with the envelope; every server that offers CHUNKING offers PIPELINING too)."""
    return bool(smtp.has_extn("chunking") and smtp.has_extn("pipelining"))


class _Unsent(MailboxError):
    """The connection was found closed at a message's first command: nothing of it was sent."""

    def __init__(self, error: MailboxError) -> None:
        super().__init__(error.where, error.message, error.hint, temporary=True)
        self.error = error


def _temporary(code: int) -> bool:
    return 400 <= code < 500


# ---- the message ---------------------------------------------------------------------------


def envelope(where: str, message: bytes) -> tuple[str, list[str]]:
    """The envelope sender (Sender, else From) and recipients (To, Cc, Bcc; each once)."""
    # Decoded as UTF-8 (RFC 6532 headers) before parsing: the bytes parser would turn every
    # non-ASCII byte into U+FFFD, and 张三@例子.中国 into an address that does not exist.
    text = message[: _header_length(message)].decode("utf-8", "surrogateescape")
    headers = _address_fields(text)

    def addresses(*fields: str) -> list[str]:
        values = [v for field in fields for v in headers.get(field.lower(), ())]
        found = []
        for value in values:
            simple = _ONE_ADDRESS.fullmatch(value)
            if simple is not None:  # what a campaign writes: one plain address
                found.append(simple["bare"] or simple["angle"])
            else:
                found += [address for _, address in getaddresses([value]) if "@" in address]
        return found

    senders = addresses("Sender") or addresses("From")
    if not senders:
        raise MailboxError(where, "the message has no From address, so it cannot be sent")
    recipients: dict[str, str] = {}
    for address in addresses("To", "Cc", "Bcc"):
        recipients.setdefault(address.casefold(), address)
    if not recipients:
        raise MailboxError(where, "the message has no recipients (no To, Cc or Bcc address)")
    return senders[0], list(recipients.values())


_ADDRESS_FIELDS = frozenset({"sender", "from", "to", "cc", "bcc"})
# One address with nothing getaddresses could read otherwise: ``a@b`` or ``Name <a@b>`` (the
# name an atom run or one quoted string without escapes). getaddresses costs a tenth of a
# millisecond per field; anything else (groups, comments, several addresses) goes to it.
_ADDR = r"[^\s<>()\[\],;:\\\"@]+@[^\s<>()\[\],;:\\\"@]+"
_BARE_ADDRESS = re.compile(_ADDR)
_ONE_ADDRESS = re.compile(
    rf"\s*(?:(?P<bare>{_ADDR})|(?:\"[^\"\\]*\"\s*|[^\"<>()\[\],;:\\@]*)<(?P<angle>{_ADDR})>)\s*"
)


def _address_fields(header: str) -> dict[str, list[str]]:
    """The values of the address fields of a message header, folded lines joined, by lower-case
    name. Only five fields are wanted, so this scans the lines instead of building a whole
    :mod:`email` message (a third of a millisecond a message, twice per message)."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in header.split("\n"):
        line = line.rstrip("\r")
        if line[:1] in (" ", "\t"):
            if current is not None:
                current[-1] += line
            continue
        name, colon, value = line.partition(":")
        name = name.strip().lower()
        if colon and name in _ADDRESS_FIELDS:
            current = found.setdefault(name, [])
            current.append(value.strip())
        else:
            current = None
    return found


_LINE_END = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


def crlf_lines(data: bytes) -> bytes:
    """The content with CRLF line ends, ending in CRLF: what a BDAT chunk carries, and what
    the server stores of a DATA transmission after taking the dots out again."""
    data = _LINE_END.sub(b"\r\n", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def dot_stuffed(data: bytes) -> bytes:
    """The content as DATA transmits it (RFC 5321 4.5.2): CRLF line ends, a leading dot
    doubled, ending in CRLF — without the final ``.`` line."""
    return _LEADING_DOT.sub(b"..", crlf_lines(data))


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
