"""An SMTP server on loopback (aiosmtpd) that records what reached it.

``SmtpServer(mode=...)``: ``"plain"`` (no TLS at all), ``"starttls"`` (STARTTLS offered, AUTH
only after it) or ``"tls"`` (TLS from the first byte, as on port 465); with ``users`` it asks
for a login (AUTH PLAIN / LOGIN). Addresses in ``refuse`` are answered ``550`` at RCPT, as a
server answers a mailbox that does not exist.

Each accepted message is kept as a :class:`Received`: the envelope (MAIL FROM, RCPT TO and
their options) and the bytes exactly as transmitted after DATA.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

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


@dataclass
class _Recorder:
    refuse: set[str]
    messages: list[Received] = field(default_factory=list)
    rcpt_seen: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        self.rcpt_seen.append(address)
        if address.casefold() in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data
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
            )
        )
        return "250 2.0.0 Ok: queued"


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
        smtputf8: bool = True,
    ) -> None:
        self.port = free_port()
        self.mode = mode
        self._users = users or {}
        self._recorder = _Recorder({address.casefold() for address in refuse})
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
        self._controller = Controller(self._recorder, **options)

    @property
    def messages(self) -> list[Received]:
        return self._recorder.messages

    @property
    def rcpt_seen(self) -> list[str]:
        """Every RCPT TO the server was asked, accepted or not."""
        return self._recorder.rcpt_seen

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        ok = self._users.get(login) == password
        return AuthResult(success=ok, handled=False, auth_data=login)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
