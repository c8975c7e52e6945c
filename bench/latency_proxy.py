"""A TCP proxy on loopback that delays every byte by half a round trip each way.

A loopback connection answers in microseconds, so a benchmark there rewards a client that
makes many round trips as much as one that makes few. A real mail server is a network away:
``LatencyProxy(host, port, rtt=0.020)`` puts 20 ms between a client and the server, as a
server in the same city does, and round trips cost what they cost in use.

Each direction of each connection is a reader thread, which stamps every chunk it reads with
the time it may leave, and a writer thread, which sends it then, in order. Bytes are passed
through untouched (TLS included); closing either side closes both.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from contextlib import suppress

HOST = "127.0.0.1"


class LatencyProxy:
    """Listens on ``self.port``; forwards to ``(host, port)`` with ``rtt`` seconds of delay."""

    def __init__(self, host: str, port: int, *, rtt: float) -> None:
        self.target = (host, port)
        self.delay = rtt / 2
        self._listener = socket.create_server((HOST, 0))
        self.port: int = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sockets += [client, server]
            self._pump(client, server)
            self._pump(server, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        chunks: queue.Queue[tuple[float, bytes]] = queue.Queue()

        def read() -> None:
            while True:
                try:
                    data = source.recv(65536)
                except OSError:
                    data = b""
                chunks.put((time.monotonic() + self.delay, data))
                if not data:
                    return

        def write() -> None:
            while True:
                due, data = chunks.get()
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                if not data:
                    with suppress(OSError):
                        sink.shutdown(socket.SHUT_WR)
                    return
                try:
                    sink.sendall(data)
                except OSError:
                    return

        threading.Thread(target=read, daemon=True).start()
        threading.Thread(target=write, daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        for sock in self._sockets:
            with suppress(OSError):
                sock.close()

    def __enter__(self) -> LatencyProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
