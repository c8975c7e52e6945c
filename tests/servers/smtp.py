"""An SMTP server on loopback (aiosmtpd) that records what reached it.

``SmtpServer(mode=...)``: ``"plain"`` (no TLS at all), ``"starttls"`` (STARTTLS offered, AUTH
only after it) or ``"tls"`` (TLS from the first byte, as on port 465); with ``users`` it asks
for a login (AUTH PLAIN / LOGIN). It offers PIPELINING (``pipelining=False``: not), and with
``chunking=True`` CHUNKING too (RFC 3030 ``BDAT``, which aiosmtpd lacks: :class:`_Smtp`), as
Exchange, Gmail and Postfix 3.4+ do. Addresses in ``refuse`` are answered ``550`` at RCPT, as a
server answers a mailbox that does not exist; addresses in ``defer`` ``450``, as a greylisting
server answers an address it has not seen from this sender yet.

Each accepted message is kept as a :class:`Received`: the envelope (MAIL FROM, RCPT TO and
their options), the bytes exactly as transmitted after DATA (or in its BDAT chunks) and which
of the two carried it. The server also counts what a campaign's cost depends on:
``connections`` (TCP connections clients opened), ``logins`` (successful AUTH) and ``noops``.

Test hooks: ``answer(command, reply)`` answers the next MAIL, RCPT or DATA (with CHUNKING: the
``LAST`` chunk) with ``reply`` instead (``"451 4.3.0 …"``, ``"552 5.3.4 …"``; a ``421`` reply
also closes the connection, as servers do), and ``drop_connections()`` closes every open
connection from the server's side, as a server does with a client that sat idle too long.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from .tcp_cut import HOST, Certificate, free_port


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    mail_options: list[str]
    login: str | None  # who had logged in, if anyone
    tls: bool  # whether the session was encrypted
    peer: tuple[str, int]  # the client's address and port: the same for one connection
    via: str = "DATA"  # or "BDAT"


@dataclass
class _Recorder:
    refuse: set[str]
    defer: set[str]
    messages: list[Received] = field(default_factory=list)
    rcpt_seen: list[str] = field(default_factory=list)
    answers: dict[str, deque[str]] = field(default_factory=dict)  # command → replies to give
    noops: int = 0
    pipelining: bool = True
    chunking: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        """aiosmtpd reads pipelined commands but does not say so; real submission servers
        (Postfix, Exchange, Gmail) offer PIPELINING, so this one does unless told not to."""
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        if self.chunking:
            responses.insert(-1, "250-CHUNKING")
        return responses

    def _answer(self, server: Any, command: str) -> str | None:
        """The reply a test asked for, for the next ``command``; a 421 closes the connection."""
        with self.lock:
            queued = self.answers.get(command)
            reply = queued.popleft() if queued else None
        if reply is not None and reply.startswith("421"):
            transport = server.transport
            server.loop.call_later(0.05, transport.close)  # after the reply went out
        return reply

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        reply = self._answer(server, "MAIL")
        if reply is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        self.rcpt_seen.append(address)
        reply = self._answer(server, "RCPT")
        if reply is not None:
            return reply
        if address.casefold() in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address.casefold() in self.defer:
            return f"450 4.2.0 <{address}>: Recipient address rejected: Greylisted, try again"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self._answer(server, "DATA")
        if reply is not None:
            return reply
        login = session.auth_data
        via = "BDAT" if getattr(envelope, "chunks", None) is not None else "DATA"
        self.messages.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                bytes(envelope.original_content or envelope.content),
                list(envelope.mail_options),
                login.decode() if isinstance(login, bytes) else login,
                # session.ssl: after STARTTLS; the transport's SSL object: TLS from the start.
                session.ssl is not None or _tls_transport(server),
                tuple(session.peer),
                via,
            )
        )
        return "250 2.0.0 Ok: queued"

    async def handle_NOOP(self, server: Any, session: Any, envelope: Any, arg: str) -> str:
        self.noops += 1
        return "250 OK"


class _Smtp(SMTP):
    """aiosmtpd with RFC 3030 CHUNKING: ``BDAT <size> [LAST]``, offered when the recorder says.

    Each chunk is read as exactly ``size`` octets straight after its command line (pipelined
    chunks follow one another), and answered at once; the chunks of a transaction are kept on
    its envelope and, at ``LAST``, handed to the same DATA hook as a DATA transaction, so
    everything a test can ask of one (``answer("DATA", …)``, the record) holds for the other.
    A transaction without an accepted recipient, or one whose chunk failed, still reads every
    chunk it is sent (a client may have pipelined them) and refuses them with 503 until RSET;
    a connection closed before LAST delivers nothing."""

    async def smtp_BDAT(self, arg: str | None) -> None:
        size_text, _, rest = (arg or "").partition(" ")
        last = rest.strip().upper() == "LAST"
        if not size_text.isdigit() or (rest.strip() and not last):
            await self.push("501 5.5.4 Syntax: BDAT <size> [LAST]")
            return
        chunk = await self._reader.readexactly(int(size_text))  # read whatever the answer
        if not self.event_handler.chunking:
            await self.push('500 Error: command "BDAT" not recognized')
            return
        if await self.check_auth_needed("BDAT"):
            return
        envelope = self.envelope
        assert envelope is not None
        failed = getattr(envelope, "chunks_failed", False)
        if failed or not envelope.rcpt_tos or envelope.mail_from is None:
            envelope.chunks_failed = True
            await self.push("503 5.5.1 Error: no valid recipients, or an earlier chunk failed")
            return
        chunks = getattr(envelope, "chunks", None)
        if chunks is None:
            chunks = envelope.chunks = bytearray()
        chunks += chunk
        if len(chunks) > (self.data_size_limit or len(chunks)):
            envelope.chunks_failed = True
            await self.push("552 5.3.4 Error: too much mail data")
            return
        if not last:
            await self.push(f"250 2.0.0 {len(chunk)} octets received")
            return
        envelope.content = envelope.original_content = bytes(chunks)
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push(status)


class _Controller(Controller):
    """aiosmtpd's controller, keeping every connection's protocol object to count and close."""

    def __init__(self, handler: Any, **options: Any) -> None:
        super().__init__(handler, **options)
        self.opened: list[SMTP] = []

    def factory(self) -> SMTP:
        server = _Smtp(self.handler, **self.SMTP_kwargs)
        self.opened.append(server)
        return server


def _tls_transport(server: Any) -> bool:
    transport = getattr(server, "transport", None)
    return transport is not None and transport.get_extra_info("ssl_object") is not None


class SmtpServer:
    """aiosmtpd on a free loopback port; a context manager that starts and stops it."""

    def __init__(
        self,
        certificate: Certificate,
        *,
        mode: str = "starttls",
        users: dict[str, str] | None = None,
        refuse: Iterable[str] = (),
        defer: Iterable[str] = (),
        smtputf8: bool = True,
        pipelining: bool = True,
        chunking: bool = False,
    ) -> None:
        self.port = free_port()
        self.mode = mode
        self._users = users or {}
        self._recorder = _Recorder(
            {address.casefold() for address in refuse},
            {address.casefold() for address in defer},
            pipelining=pipelining,
            chunking=chunking,
        )
        self.logins = 0  # successful AUTH commands
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate.cert, certificate.key)
        options: dict[str, Any] = {
            "hostname": HOST,
            "port": self.port,
            "server_hostname": "mx.test.example",
            "enable_SMTPUTF8": smtputf8,
            "decode_data": False,
        }
        if mode == "tls":
            options["ssl_context"] = context
        elif mode == "starttls":
            options["tls_context"] = context
        if self._users:
            options["authenticator"] = self._authenticate
            options["auth_required"] = True
            # aiosmtpd only counts STARTTLS as encrypted; on "tls" the session is TLS anyway.
            options["auth_require_tls"] = mode == "starttls"
        self._controller = _Controller(self._recorder, **options)
        self._before = 0  # connections made while starting (aiosmtpd checks it is up)

    @property
    def messages(self) -> list[Received]:
        return self._recorder.messages

    @property
    def rcpt_seen(self) -> list[str]:
        """Every RCPT TO the server was asked, accepted or not."""
        return self._recorder.rcpt_seen

    @property
    def connections(self) -> int:
        """TCP connections clients opened since the server started."""
        return len(self._controller.opened) - self._before

    @property
    def noops(self) -> int:
        return self._recorder.noops

    def answer(self, command: str, reply: str, *, times: int = 1) -> None:
        """Answer the next ``times`` ``command`` (MAIL, RCPT or DATA) with ``reply``."""
        assert command in ("MAIL", "RCPT", "DATA"), command
        with self._recorder.lock:
            self._recorder.answers.setdefault(command, deque()).extend([reply] * times)

    def drop_connections(self) -> None:
        """Close every open connection from the server's side, and wait until they are."""

        def closed(server: Any) -> bool:
            # A plain connection is gone at once. A TLS one is gone only when the client
            # answers the server's close_notify, which an idle client does not do (asyncio
            # would wait 30 s for it): that the close_notify left, for the client to read at
            # its next command, is enough. (Waiting for the answer cost 2 s per call.)
            raw = getattr(server, "_original_transport", None)
            return server.transport is None or (
                raw is not None and raw.get_write_buffer_size() == 0
            )

        async def close_all() -> None:
            open_now = [s for s in self._controller.opened if s.transport is not None]
            for server in open_now:
                server.transport.close()
            for _ in range(200):
                await asyncio.sleep(0.01)
                if all(closed(s) for s in open_now):
                    return

        loop = self._controller.loop
        asyncio.run_coroutine_threadsafe(close_all(), loop).result(timeout=5)

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        ok = self._users.get(login) == password
        self.logins += ok
        return AuthResult(success=ok, handled=False, auth_data=login)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        self._before = len(self._controller.opened)
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
