"""Fake IMAP and SMTP servers on loopback that record every byte they receive.

They stand for a mail server an attacker points a forged request at: a test names one in a
workbook's Settings and then asserts what reached it — nothing at all, or, for a mailbox the
user did set up, exactly the credential stored for it. They speak just enough of each protocol
for a client to get to its login (IMAP ``LOGIN``, SMTP ``AUTH PLAIN``), refuse the login, and
record the lines; nothing is real mail handling (the real servers are Dovecot and aiosmtpd).
"""

from __future__ import annotations

import asyncio
import base64
import shlex
import threading
from typing import Literal

HOST = "127.0.0.1"


class Recorder:
    """``with Recorder("imap") as server``: listening on ``server.port`` in a thread."""

    def __init__(self, kind: Literal["imap", "smtp"]) -> None:
        self.kind = kind
        self.received = bytearray()
        self.connections = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> Recorder:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        started.result(10)
        return self

    def __exit__(self, *_: object) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def url_host(self) -> str:
        return f"{HOST}:{self.port}"

    def logins(self) -> list[tuple[str, str]]:
        """The (user, password) pairs clients tried (IMAP LOGIN, SMTP AUTH PLAIN)."""
        found = []
        for line in bytes(self.received).splitlines():
            text = line.decode("utf-8", "replace")
            words = text.split()
            if self.kind == "imap" and len(words) >= 4 and words[1].upper() == "LOGIN":
                user, secret = shlex.split(text)[2:4]  # "quoted strings" as IMAP sends them
                found.append((user, secret))
            if self.kind == "smtp" and len(words) >= 3 and words[:2] == ["AUTH", "PLAIN"]:
                _, user, secret = base64.b64decode(words[2]).decode("utf-8").split("\0")
                found.append((user, secret))
        return found

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        greeting = b"* OK fake IMAP ready\r\n" if self.kind == "imap" else b"220 fake ESMTP\r\n"
        writer.write(greeting)
        try:
            while line := await reader.readline():
                self.received += line
                writer.write(self._answer(line))
                await writer.drain()
                if line.upper().startswith(b"QUIT") or b" LOGOUT" in line.upper():
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def _answer(self, line: bytes) -> bytes:
        if self.kind == "imap":
            tag, _, rest = line.decode("utf-8", "replace").partition(" ")
            command = rest.split(" ", 1)[0].strip().upper()
            if command == "CAPABILITY":
                return f"* CAPABILITY IMAP4rev1\r\n{tag} OK done\r\n".encode()
            if command == "LOGIN":
                return f"{tag} NO [AUTHENTICATIONFAILED] refused\r\n".encode()
            if command == "LOGOUT":
                return f"* BYE\r\n{tag} OK bye\r\n".encode()
            return f"{tag} BAD unknown\r\n".encode()
        verb = line[:4].upper()
        if verb in (b"EHLO", b"HELO"):
            return b"250-fake\r\n250 AUTH PLAIN LOGIN\r\n"
        if verb == b"AUTH":
            return b"535 5.7.8 refused\r\n"
        if verb == b"QUIT":
            return b"221 bye\r\n"
        return b"503 5.5.1 log in first\r\n"
