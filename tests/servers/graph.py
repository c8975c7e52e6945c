"""A Microsoft Graph test server on loopback: the mail API a sync uses, and the sign-in msal uses.

Real HTTP/1.1 (with TLS when given a certificate), real Graph shapes: ``mailFolders`` and
``childFolders`` (paged), well-known folder names, ``messages/delta`` rounds with
``@odata.nextLink`` (``$skiptoken``) and a final ``@odata.deltaLink`` (``$deltatoken``) and
``Prefer: odata.maxpagesize``, the ``receivedDateTime`` filter listing (``$filter``,
``$orderby``, ``$top``, ``$skip`` next links), a folder's messages by ``$filter=
internetMessageId eq '<…>'``, ``$value`` MIME, ``sendMail`` and ``POST messages`` with
base64 MIME, bearer tokens (401/403 with Graph's error bodies), and the
sign-in endpoints of :mod:`servers.graph_login`.

Test hooks: ``throttle`` (429/503/504, with or without ``Retry-After``, N times),
``store.expire_delta_tokens`` (410 ``SyncStateNotFound``), ``delta_status`` (answer delta
with 400/501 "not supported", as Graph operated by 21Vianet has none), ``drop_fetches``
(close the connection halfway through a ``$value`` body), ``max_page`` (pages smaller than
asked, as Graph may return). Every request is recorded in ``requests``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import socket
import threading
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from .graph_login import Login
from .graph_store import GraphStore, graph_time
from .graph_tls import TlsFiles

_FOLDER = r"(?:mail[Ff]olders/(?P<fid>[^/']+)|mail[Ff]olders\('(?P<qid>[^']+)'\))"


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # decoded, without the query
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    client: str  # the peer's address


@dataclass
class Hook:
    status: int
    times: int
    retry_after: str | None
    match: str  # a substring of the path


class GraphServer:
    """``with GraphServer(tls) as server:``; ``server.graph_url`` is the base URL."""

    def __init__(self, tls: TlsFiles | None = None, tenant: str = "contoso.onmicrosoft.com"):
        self.store = GraphStore(user=f"li@{tenant}")
        self.requests: list[Request] = []
        self.hooks: list[Hook] = []
        self.delta_status: int | None = None
        self.drops = 0
        self.max_page = 1000
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._http.daemon_threads = True
        self._http.graph = self  # type: ignore[attr-defined]
        if tls is not None:
            self._http.socket = tls.server_context().wrap_socket(
                self._http.socket, server_side=True, do_handshake_on_connect=False
            )
        scheme = "https" if tls else "http"
        self.root = f"{scheme}://127.0.0.1:{self._http.server_address[1]}"
        self.graph_url = f"{self.root}/v1.0"
        self.login = Login(self.root, tenant)
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> GraphServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(5)

    # -- hooks

    def throttle(
        self, times: int, status: int = 429, retry_after: str | None = "1", match: str = ""
    ) -> None:
        """Answer the next ``times`` API requests (whose path contains ``match``) with
        ``status`` instead of serving them."""
        self.hooks.append(Hook(status, times, retry_after, match))

    def drop_fetches(self, times: int) -> None:
        self.drops = times

    def api_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path.startswith("/v1.0/")]

    def make_mailbox(self) -> dict[str, str]:
        """Inbox, Sent Items, Drafts, Deleted Items, a Chinese-named folder with a child."""
        store = self.store
        ids = {
            "inbox": store.add_folder("Inbox", well_known="inbox"),
            "drafts": store.add_folder("Drafts", well_known="drafts"),
            "sentitems": store.add_folder("Sent Items", well_known="sentitems"),
            "deleteditems": store.add_folder("Deleted Items", well_known="deleteditems"),
        }
        ids["客户"] = store.add_folder("客户")
        ids["客户/华东"] = store.add_folder("华东", parent=ids["客户"])
        return ids


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/10.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet tests
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm and the
        # client's delayed ACK add 40 ms to every request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def graph(self) -> GraphServer:
        return self.server.graph  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    # -- plumbing

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        request = Request(
            self.command,
            unquote(parts.path),
            query,
            {k.lower(): v for k, v in self.headers.items()},
            body,
            self.client_address[0],
        )
        self.graph.requests.append(request)
        if request.path.startswith("/v1.0/"):
            self._api(request)
        else:
            self._login(request)

    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("request-id", "5f0d7a8e-0000-4000-8000-000000000000")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: dict[str, Any], **headers: str) -> None:
        body = json.dumps(data, ensure_ascii=False).encode()
        self._send(status, body, "application/json; odata.metadata=minimal", **headers)

    def _error(self, status: int, code: str, message: str, **headers: str) -> None:
        self._json(status, {"error": {"code": code, "message": message}}, **headers)

    # -- sign-in

    def _login(self, request: Request) -> None:
        login = self.graph.login
        match = re.fullmatch(
            r"/([^/]+)/(v2\.0/\.well-known/openid-configuration|oauth2/v2\.0/"
            r"(token|devicecode))",
            request.path,
        )
        if not match or not login.knows(match.group(1)):
            self._json(400, {"error": "invalid_tenant", "error_description": "AADSTS90002"})
            return
        if request.method == "GET" and match.group(3) is None:
            self._json(200, login.openid_configuration(match.group(1)))
            return
        form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        if match.group(3) == "devicecode":
            status, answer = login.device_code(form)
        else:
            status, answer = login.token(form, request.headers.get("authorization", ""))
        self._json(status, answer)

    # -- the mail API

    def _api(self, request: Request) -> None:
        graph = self.graph
        login = graph.login
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in login.tokens:
            self._error(
                401,
                "InvalidAuthenticationToken",
                "Access token has expired or is not yet valid.",
                WWW_Authenticate='Bearer realm="", error="invalid_token"',
            )
            return
        for hook in graph.hooks:
            if hook.times > 0 and hook.match in request.path:
                hook.times -= 1
                extra = {"Retry_After": hook.retry_after} if hook.retry_after else {}
                code = "ApplicationThrottled" if hook.status == 429 else "ServiceUnavailable"
                self._error(hook.status, code, "Application is over its limit.", **extra)
                return
        if token in login.denied:
            self._error(
                403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )
            return
        segment, _, rest = request.path.removeprefix("/v1.0/").partition("/")
        if segment != "users":
            self._error(400, "BadRequest", f"Resource not found for the segment '{segment}'.")
            return
        user, _, rest = rest.partition("/")
        if user.lower() != graph.store.user.lower():
            self._error(404, "ErrorInvalidUser", f"The requested user '{user}' is invalid.")
            return
        self._route(request, rest)

    def _route(self, request: Request, rest: str) -> None:
        get, post = request.method == "GET", request.method == "POST"
        if get and rest in ("mailFolders", "mailfolders"):
            return self._folders(request, None)
        if get and (m := re.fullmatch(_FOLDER + r"/childFolders", rest)):
            return self._folders(request, self._folder_id(m))
        if get and (
            m := re.fullmatch(_FOLDER + r"/messages/(?:microsoft\.graph\.)?delta(?:\(\))?", rest)
        ):
            return self._delta(request, self._folder_id(m))
        if get and (m := re.fullmatch(_FOLDER + r"/messages", rest)):
            return self._received(request, self._folder_id(m))
        if get and (m := re.fullmatch(_FOLDER, rest)):
            folder = self._folder(self._folder_id(m))
            if folder is None:
                return None
            return self._json(200, {"id": folder.id, "displayName": folder.name})
        if get and (m := re.fullmatch(r"messages/([^/]+)/\$value", rest)):
            return self._value(m.group(1))
        if post and rest == "sendMail":
            return self._mime(request, send=True)
        if post and rest == "messages":
            return self._mime(request, send=False)
        return self._error(400, "BadRequest", f"Unsupported request: {request.method} {rest}")

    @staticmethod
    def _folder_id(match: re.Match[str]) -> str:
        return match.group("fid") or match.group("qid")

    def _folder(self, ident: str):  # type: ignore[no-untyped-def]
        try:
            return self.graph.store.folder(ident)
        except KeyError:
            self._error(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
            return None

    def _page_size(self, request: Request, default: int) -> int:
        prefer = re.search(r"odata\.maxpagesize=(\d+)", request.headers.get("prefer", ""))
        top = request.query.get("$top")
        asked = int(prefer.group(1)) if prefer else int(top) if top else default
        return max(1, min(asked, self.graph.max_page))

    def _link(self, path: str, query: dict[str, str]) -> str:
        encoded = urlencode(query, safe="$")
        return f"{self.graph.graph_url}/users/{self.graph.store.user}/{path}?{encoded}"

    def _folders(self, request: Request, parent: str | None) -> None:
        store = self.graph.store
        if parent is not None and self._folder(parent) is None:
            return
        parent = parent and store.folder(parent).id
        children = [f for f in store.folders.values() if f.parent == parent]
        skip, top = int(request.query.get("$skip", 0)), self._page_size(request, 10)
        page = children[skip : skip + top]
        value = [
            {
                "id": f.id,
                "displayName": f.name,
                "parentFolderId": f.parent or "AAMkAGI2TG93AAAroot",
                "childFolderCount": sum(1 for c in store.folders.values() if c.parent == f.id),
                "unreadItemCount": 0,
                "totalItemCount": sum(1 for m in store.messages.values() if m.folder == f.id),
            }
            for f in page
        ]
        answer: dict[str, Any] = {"value": value}
        if skip + top < len(children):
            path = "mailFolders" if parent is None else f"mailFolders/{parent}/childFolders"
            answer["@odata.nextLink"] = self._link(
                path, {**request.query, "$skip": str(skip + top)}
            )
        self._json(200, answer)

    def _delta(self, request: Request, folder_id: str) -> None:
        graph, store = self.graph, self.graph.store
        if graph.delta_status == 501:
            return self._error(501, "NotImplemented", "The delta function is not implemented.")
        if graph.delta_status == 400:
            return self._error(400, "BadRequest", "Delta query is not supported for this resource.")
        folder = self._folder(folder_id)
        if folder is None:
            return None
        q = request.query
        skip = q.get("$skiptoken")
        if skip is None:
            select = q["$select"].split(",") if "$select" in q else None
            skip = store.start_round(folder.id, q.get("$deltatoken"), q.get("changeType"), select)
            if skip is None:
                return self._error(
                    410,
                    "SyncStateNotFound",
                    "The sync state generation is not found; generation=149;[highest=157].",
                )
        page = store.page(skip, self._page_size(request, 10))
        if page is None:
            return self._error(410, "SyncStateNotFound", "The sync state generation is not found.")
        items, token, last = page
        path = f"mailFolders('{folder.id}')/messages/delta"
        answer: dict[str, Any] = {
            "@odata.context": f"{graph.graph_url}/$metadata#Collection(message)",
            "value": items,
        }
        key = "@odata.deltaLink" if last else "@odata.nextLink"
        answer[key] = self._link(path, {"$deltatoken" if last else "$skiptoken": token})
        return self._json(200, answer, Preference_Applied=f"odata.maxpagesize={len(items) or 1}")

    def _received(self, request: Request, folder_id: str) -> None:
        store = self.graph.store
        folder = self._folder(folder_id)
        if folder is None:
            return
        q = request.query
        messages = store.in_folder(folder.id)
        if "$filter" in q:
            received = re.fullmatch(r"receivedDateTime ge (\S+)", q["$filter"])
            ident = re.fullmatch(r"internetMessageId eq '((?:[^']|'')*)'", q["$filter"])
            if received:
                since = datetime.fromisoformat(received.group(1).replace("Z", "+00:00"))
                messages = [x for x in messages if x.received >= since]
            elif ident:  # compared as Exchange compares strings: case aside
                wanted = ident.group(1).replace("''", "'").lower()
                messages = [x for x in messages if (x.internet_message_id or "").lower() == wanted]
            else:
                return self._error(400, "ErrorInvalidUrlQueryFilter", "Invalid filter clause.")
        if q.get("$orderby") not in (None, "receivedDateTime", "receivedDateTime asc"):
            return self._error(
                400, "InefficientFilter", "The restriction or sort order is too complex."
            )
        messages.sort(key=lambda x: x.received)
        skip, top = int(q.get("$skip", 0)), self._page_size(request, 10)
        select = q["$select"].split(",") if "$select" in q else None
        answer: dict[str, Any] = {
            "value": [store.view(x, select) for x in messages[skip : skip + top]]
        }
        if skip + top < len(messages):
            path = f"mailFolders/{folder.id}/messages"
            answer["@odata.nextLink"] = self._link(path, {**q, "$skip": str(skip + top)})
        return self._json(200, answer)

    def _value(self, ident: str) -> None:
        graph = self.graph
        message = graph.store.messages.get(ident)
        if message is None:
            return self._error(404, "ErrorItemNotFound", "The specified object was not found.")
        if graph.drops > 0:
            graph.drops -= 1
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(message.mime)))
            self.end_headers()
            self.wfile.write(message.mime[: len(message.mime) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        return self._send(200, message.mime, "text/plain")

    def _mime(self, request: Request, *, send: bool) -> None:
        store = self.graph.store
        if not request.headers.get("content-type", "").startswith("text/plain"):
            return self._error(400, "RequestBodyRead", "Expected a JSON or MIME body.")
        try:
            mime = base64.b64decode(request.body, validate=True)
        except binascii.Error:
            return self._error(400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string.")
        if b"\r\n\r\n" not in mime and b"\n\n" not in mime:
            return self._error(400, "ErrorMimeContentInvalid", "The MIME content is invalid.")
        if send:
            store.outbox.append(mime)
            store.deliver("sentitems", mime)
            return self._send(202, b"", "text/plain")
        ident = store.deliver("drafts", mime)
        store.messages[ident].is_draft = True
        view = store.view(store.messages[ident], None)
        return self._json(201, {**view, "receivedDateTime": graph_time(store.clock)})
