"""An Exchange Web Services server on loopback that the real exchangelib client talks to.

It speaks EWS over HTTP/1.1 (plain, or TLS with a self-signed certificate): SOAP envelopes in,
Exchange 2016 response XML out (:mod:`.ews_soap`), against an in-memory mailbox
(:mod:`.ews_store`), behind NTLM, Basic or bearer-token sign-in (:mod:`.ews_auth`). It records
every HTTP request and every EWS operation, so tests can assert what a client did and did not
send (no autodiscover probe, no write during a sync). Hooks let tests change the mailbox between
runs, expire sync states and drop a connection in the middle of an answer.

Usage::

    with EwsServer(tmp_path) as server:
        server.add_message("inbox", mime_bytes)
        box = EwsMailbox(server.url("CORP\\\\zhang"), address=server.address)
"""

from __future__ import annotations

import contextlib
import http.server
import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .ews_auth import Authenticator, ConnectionAuth, self_signed_certificate
from .ews_soap import READ_OPERATIONS, handle, operation_name
from .ews_store import Store, StoredItem, Transmission
from .ews_xml import Operation, fault

__all__ = ["READ_OPERATIONS", "EwsServer", "Operation", "StoredItem", "Transmission"]

ADDRESS = "zhang.san@corp.example"
LOGINS = {"CORP\\zhang": "Secret-Pa55", ADDRESS: "Secret-Pa55"}
ENDPOINT = "/EWS/Exchange.asmx"
# Folder names of a mailbox set up in Chinese, as Exchange creates them for a zh-CN user.
FOLDERS = {
    "inbox": "收件箱",
    "sentitems": "已发送邮件",
    "drafts": "草稿",
    "deleteditems": "已删除邮件",
}


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    authorized: bool


class EwsServer:
    """A running EWS endpoint with one mailbox, ``ADDRESS``; a context manager."""

    address = ADDRESS
    password = LOGINS[ADDRESS]

    def __init__(
        self,
        directory: Path,
        *,
        methods: tuple[str, ...] = ("ntlm", "basic"),
        token: str | None = None,
        tls: bool = False,
    ) -> None:
        self.store = Store(ADDRESS)
        root = self.store.add_folder("根", None, "msgfolderroot")
        folders = {key: self.store.add_folder(name, root.id, key) for key, name in FOLDERS.items()}
        self.store.add_folder("日历", root.id, "calendar", folder_class="IPF.Appointment",
                              element="CalendarFolder")  # fmt: skip
        customers = self.store.add_folder("客户", folders["inbox"].id)
        self.store.add_folder("VIP", customers.id)
        self.auth = Authenticator(dict(LOGINS), methods, token)
        self.directory = directory
        self.tls = tls
        self.requests: list[HttpRequest] = []
        self.operations: list[Operation] = []
        self._drop: dict[str, int] = {}  # operation → how many more to answer before dropping
        self._busy: dict[str, int] = {}  # operation → back-off asked for, in ms
        self._http_errors: dict[str, int] = {}  # operation → HTTP status to answer instead
        self._log_lock = threading.Lock()
        self._httpd: http.server.ThreadingHTTPServer | None = None

    # -- lifecycle

    def __enter__(self) -> EwsServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.auth.activate(self.directory)
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.daemon_threads = True
        httpd.ews = self  # type: ignore[attr-defined]
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self_signed_certificate(self.directory))
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        self._httpd = httpd
        # A short poll: shutdown() waits for it, and every test stops its own server (the
        # default 0.5 s was 8 s of the EWS tests' run).
        threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="ews-server",
            daemon=True,
        ).start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        self.auth.deactivate()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "the server is not running"
        return self._httpd.server_address[1]

    def url(self, user: str = ADDRESS, path: str = ENDPOINT) -> str:
        """The mailbox URL a user writes for this server (``ews+http://`` unless TLS)."""
        scheme = "ews" if self.tls else "ews+http"
        return f"{scheme}://{quote(user, safe='')}@127.0.0.1:{self.port}{path}"

    # -- the mailbox, for tests

    def folder_id(self, key: str) -> str:
        """The id of a distinguished folder (``inbox``) or of a folder by display name."""
        folder = self.store.distinguished(key) or next(
            (f for f in self.store.folders.values() if f.name == key), None
        )
        assert folder is not None, f"no folder {key!r}"
        return folder.id

    def add_message(self, folder: str, mime: bytes, **flags: bool) -> StoredItem:
        """Deliver ``mime`` into a folder (``inbox``, ``客户``…), as a new item."""
        return self.store.add_item(self.folder_id(folder), mime, **flags)

    def messages(self, folder: str) -> list[StoredItem]:
        return self.store.in_folder(self.folder_id(folder))

    @property
    def outbox(self) -> list[Transmission]:
        """The messages that left the server, oldest first."""
        return list(self.store.outbox)

    def expire_sync_states(self) -> None:
        """Forget every sync state handed out, as Exchange does after a mailbox move."""
        self.store.expire_sync_states()

    def drop_connection(self, operation: str, *, after: int = 0) -> None:
        """Answer ``after`` more ``operation`` requests, then cut the next answer off halfway."""
        with self._log_lock:
            self._drop[operation] = after

    def throttle(self, operation: str, *, back_off_ms: int = 300_000) -> None:
        """Answer the next ``operation`` with ErrorServerBusy, asking the client to wait."""
        with self._log_lock:
            self._busy[operation] = back_off_ms

    def http_error(self, operation: str, status: int) -> None:
        """Answer the next ``operation`` with a bare HTTP ``status`` and an HTML page, as a
        load balancer or IIS does when the Exchange behind it is down (502, 503)."""
        with self._log_lock:
            self._http_errors[operation] = status

    def operation_names(self) -> list[str]:
        with self._log_lock:
            return [op.name for op in self.operations]

    def clear_log(self) -> None:
        with self._log_lock:
            self.requests.clear()
            self.operations.clear()

    # -- called by the handler

    def _record(self, request: HttpRequest, operation: Operation | None = None) -> None:
        with self._log_lock:
            self.requests.append(request)
            if operation is not None:
                self.operations.append(operation)

    def _back_off(self, operation: str) -> int | None:
        with self._log_lock:
            return self._busy.pop(operation, None)

    def _http_error(self, operation: str) -> int | None:
        with self._log_lock:
            return self._http_errors.pop(operation, None)

    def _should_drop(self, operation: str) -> bool:
        with self._log_lock:
            left = self._drop.get(operation)
            if left is None:
                return False
            if left > 0:
                self._drop[operation] = left - 1
                return False
            del self._drop[operation]
            return True


class _Handler(http.server.BaseHTTPRequestHandler):
    """One client connection: several requests (keep-alive), NTLM state kept per connection."""

    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""
    # TCP_NODELAY: an answer goes out as two writes (headers, then body), and Nagle held the
    # body back until the client's delayed ACK, about 40 ms per request (a campaign of 150
    # took 9 s instead of 2). The Graph server does the same.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.auth_state = ConnectionAuth()

    @property
    def ews(self) -> EwsServer:
        return self.server.ews  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:  # quiet: tests read self.ews
        pass

    def do_GET(self) -> None:
        self.ews._record(HttpRequest("GET", self.path, False))
        self._answer(405 if self.path.lower() == ENDPOINT.lower() else 404, b"", "text/plain")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        if self.path.lower() != ENDPOINT.lower():  # autodiscover and anything else
            self.ews._record(HttpRequest("POST", self.path, False))
            self._answer(404, b"", "text/plain")
            return
        verdict = self.ews.auth.check(self.auth_state, self.headers.get("Authorization"))
        if verdict.user is None:
            self.ews._record(HttpRequest("POST", self.path, False))
            challenge = [("WWW-Authenticate", value) for value in verdict.challenge]
            self._answer(401, b"", "text/plain", challenge)
            return
        failing = self.ews._http_error(operation_name(data))
        if failing is not None:  # Exchange is not even reached
            self.ews._record(HttpRequest("POST", self.path, True), Operation(operation_name(data)))
            page = f"<html><body><h1>{failing} Service Unavailable</h1></body></html>".encode()
            self._answer(failing, page, "text/html")
            return
        back_off = self.ews._back_off(operation_name(data))
        if back_off is not None:  # throttled: refused before anything is done
            operation = Operation(operation_name(data), verdict.user)
            text = "The server cannot service this request right now. Try again later."
            status, body = 500, fault("ErrorServerBusy", text, back_off)
        else:
            operation, status, body = handle(self.ews.store, data, verdict.user)
        self.ews._record(HttpRequest("POST", self.path, True), operation)
        if self.ews._should_drop(operation.name):
            self._cut_off(body)
            return
        self._answer(status, body, "text/xml; charset=utf-8")

    def _answer(
        self, status: int, body: bytes, content_type: str, headers: list | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers or []:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _cut_off(self, body: bytes) -> None:
        """Promise the whole answer, send half of it, and close the connection."""
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
