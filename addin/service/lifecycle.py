"""Starting and stopping ``xlcrm serve``: a listening socket, TLS files, a bounded shutdown.

Why not plain ``uvicorn.run``: its failures are log lines and tracebacks after our banner
(``[Errno 98] error while attempting to bind``, an ``ssl.SSLError`` deep in its config), and
its graceful shutdown closes an idle TLS connection politely — it sends ``close_notify`` and
waits for the client's, which Excel never sends while it keeps the connection for the next
call, so SIGTERM took asyncio's 30-second TLS timeout per held connection, or forever with
a keep-alive client. Here the socket is bound and the certificate loaded *before* anything
is printed, each failure is one :class:`~addin.errors.XlcrmError` line, and shutdown drops
idle connections at once and gives a request in flight :data:`GRACE_SECONDS`.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import ssl
from pathlib import Path

from uvicorn.protocols.http.h11_impl import H11Protocol

from ..errors import XlcrmError

GRACE_SECONDS = 5
"""How long a request in flight may finish after SIGTERM before it is cancelled. The add-in
applies an answer only when it arrives, so a cancelled call leaves the workbook as it was."""

KEEP_ALIVE_SECONDS = 5
"""How long an idle connection stays open for the add-in's next call (uvicorn's default)."""


class PromptShutdownProtocol(H11Protocol):
    """HTTP/1.1 whose shutdown drops an idle connection at once.

    A connection that is between requests has nothing to lose: aborting it skips the TLS
    ``close_notify`` exchange that an idle client never answers (Excel's keep-alive
    connections), and the client opens a new connection for its next call. A connection
    with a request in flight finishes it and then closes, as before.
    """

    def shutdown(self) -> None:
        if self.cycle is None or self.cycle.response_complete:
            self.transport.abort()
        else:
            super().shutdown()


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (not yet listening: uvicorn does that), or one line
    saying why not — before the banner, so a busy port never looks like a started service."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        where = f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"
        if exc.errno == errno.EADDRINUSE:
            message = (
                "the port is already in use (another 'xlcrm serve'?); stop that program "
                "or choose another --port"
            )
        elif exc.errno == errno.EACCES:
            message = "this user may not listen on that port; choose one above 1023 with --port"
        elif exc.errno == errno.EADDRNOTAVAIL:
            message = "this computer has no such address; choose another --host"
        else:
            message = f"cannot listen there ({exc.strerror or exc})"
        raise XlcrmError(where, message) from None
    return sock


def check_tls(cert: Path, key: Path, *, default: bool) -> None:
    """Load the certificate and key once, so a missing, unreadable or mismatched file is one
    line that says what to do, not an ``ssl.SSLError`` traceback from inside uvicorn.
    ``default``: the files are the ones ``xlcrm addin setup`` makes (not ``--cert/--key``)."""
    remedy = (
        "run 'xlcrm addin setup' first"
        if default
        else "give the files 'xlcrm addin setup' made, or leave out --cert and --key"
    )
    for path, what in ((cert, "certificate"), (key, "private key")):
        if not path.is_file():
            raise XlcrmError(str(path), f"the service's {what} is missing; {remedy}")
        try:
            path.read_bytes()
        except OSError as exc:
            raise XlcrmError(
                str(path), f"cannot read the service's {what} ({exc.strerror}); {remedy}"
            ) from None
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError):
        raise XlcrmError(
            str(cert), f"this is not a PEM certificate with its private key in {key}; {remedy}"
        ) from None


def run(
    sock: socket.socket,
    *,
    host: str,
    port: int,
    workers: int,
    certfile: str | None = None,
    keyfile: str | None = None,
) -> None:
    """Serve the add-in's app on the bound ``sock`` until SIGTERM/SIGINT (what ``uvicorn.run``
    does, with our socket, protocol and shutdown bound)."""
    import sys

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        "addin.service.app:app_from_environment",
        factory=True,
        workers=workers,
        http=PromptShutdownProtocol,
        timeout_graceful_shutdown=GRACE_SECONDS,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        log_level="warning",
        server_header=False,
        host=host,
        port=port,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
    )
    if workers > 1:
        Multiprocess(config, sockets=[sock]).run()
        return
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl+C: stop now
        server.run(sockets=[sock])
    if not server.started:
        sys.exit(3)  # uvicorn's startup failure (it has said why)
