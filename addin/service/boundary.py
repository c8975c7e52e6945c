"""The service's HTTP trust boundary: only the add-in's own pages may drive the API.

A browser sends requests on behalf of *any* page the user opens, with the user's network
position (loopback included). So every request is checked before any command sees it:

- **Host** must be a name this service serves (loopback names for a local service, the names
  it was set up for otherwise). A DNS-rebinding page reaches 127.0.0.1 under its own host name,
  so its requests carry a foreign Host and are refused — static files included.
- **Origin** and **Sec-Fetch-Site**, when a browser sends them, must say "this service's own
  origin". Other origins are refused before anything runs.
- API calls need ``X-Xlcrm-Client`` and, with a body, ``Content-Type: application/json``.
  Neither is allowed in a "simple" cross-origin request (a form post, ``fetch`` with
  ``mode: "no-cors"``), so a browser must ask first (a preflight), and preflights are answered
  with no CORS grant: the real request is never sent.
- Every API call but ``health`` and ``session`` needs the per-install (or shared) token as
  ``Authorization: Bearer …``; ``session`` hands a local service's token to its own pane only.
- Every answer carries ``nosniff``, a Content-Security-Policy that lets only Office's own hosts
  frame the pages, and API answers are ``no-store``.

Why all of them and not just the token: the token stops a page that cannot read it; the Host,
Origin and preflight checks stop the request before the token is even looked at, so a bug or a
leak in one layer is not the end (``docs/security.md``).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.mailbox import is_loopback

from ..errors import ActionableError

CLIENT_HEADER = "x-xlcrm-client"
PROXY_HEADERS = (b"forwarded", b"x-forwarded-for", b"x-real-ip")
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
# API paths that need no token: a liveness probe that runs nothing, and the way the pane gets
# the token in the first place.
OPEN_PATHS = frozenset({"/api/v1/health", "/api/v1/session"})

OFFICE_JS_CDN = "https://appsforoffice.microsoft.com"
# Office on the web frames the task pane from these sites (Microsoft 365, consumer Office, the
# 21Vianet cloud in China). Desktop Office shows the pane as a top-level document in its own
# web view, which frame-ancestors does not restrict.
OFFICE_FRAME_ANCESTORS = (
    "https://*.officeapps.live.com",
    "https://*.office.com",
    "https://*.office365.com",
    "https://*.microsoft365.com",
    "https://*.cloud.microsoft",
    "https://*.sharepoint.com",
    "https://*.officewebapps.cn",
    "https://*.partner.officewebapps.cn",
    "https://*.sharepoint.cn",
)
CSP = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' {OFFICE_JS_CDN}",
        "connect-src 'self'",
        # Inline styles: e-mail previews (srcdoc frames inherit this policy) are styled inline.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self' " + " ".join(OFFICE_FRAME_ANCESTORS),
    ]
)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", CSP.encode()),
    (b"referrer-policy", b"no-referrer"),
]
API_HEADERS = [
    (b"cache-control", b"no-store"),
    # A no-cors request from another site may not even read an answer's bytes into its process.
    (b"cross-origin-resource-policy", b"same-origin"),
]


@dataclass(frozen=True)
class Boundary:
    """Who may talk to this service: ``names`` are the host names it answers for (empty: the
    loopback names), ``origins`` extra origins its pages are served from (a TLS proxy's
    ``https://crm.example.com``), ``token`` the bearer token every API call carries, and
    ``bootstrap`` whether ``/api/v1/session`` hands that token to the service's own pages (a
    local, per-install token only — never a shared service's)."""

    token: str
    names: frozenset[str] = frozenset()
    origins: frozenset[str] = frozenset()
    bootstrap: bool = False

    def serves(self, host: str) -> bool:
        return host_name(host) in (self.names or LOOPBACK_NAMES)


def host_name(host: str) -> str:
    """The name part of a Host header, lower case: ``[::1]:8443`` → ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def normal_origin(scheme: str, host: str) -> str:
    """``scheme://host[:port]`` with the scheme's default port left out, as browsers send it."""
    host = host.strip().lower()
    default = {"http": ":80", "https": ":443"}.get(scheme, "")
    if default and host.endswith(default):
        host = host[: -len(default)]
    return f"{scheme}://{host}"


def served_names(names: Iterable[str]) -> frozenset[str]:
    """The Host names for a set of configured names: all loopback names stand for each other."""
    result = {host_name(n) for n in names if n}
    if any(is_loopback(n) or n == "localhost" for n in result):
        result |= LOOPBACK_NAMES
    return frozenset(result)


class Refused(ActionableError):
    """A request stopped at the boundary, answered with ``status`` and the protocol's error
    body (``kind``, ``message``, ``hint``) like every other error."""

    def __init__(self, status: int, kind: str, message: str, hint: str) -> None:
        super().__init__(None, message, hint)
        self.status, self.kind = status, kind

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"error": {"kind": self.kind, "message": self.message, "hint": self.hint}},
            status_code=self.status,
        )


def check(boundary: Boundary, scope: Scope) -> None:
    """Raise :class:`Refused` unless this request may go on (see the module's docstring)."""
    headers = Headers(scope=scope)
    host = headers.get("host", "")
    if not boundary.serves(host):
        raise Refused(
            421,
            "auth",
            f"this xlcrm service does not answer for the host name {host_name(host)!r}",
            "open the add-in from the address it was set up for (see docs/security.md)",
        )
    path = scope["path"]
    if not path.startswith("/api/"):
        return
    origin = headers.get("origin")
    own = normal_origin(scope.get("scheme", "http"), host)
    if origin is not None and origin.lower() != own and origin.lower() not in boundary.origins:
        raise Refused(
            403,
            "auth",
            f"requests from {origin[:200]!r} are not allowed: only the add-in's own pages "
            "may call this service",
            "open the task pane from the CRM tab in Excel",
        )
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise Refused(
            403,
            "auth",
            f"a {site} request was refused: only the add-in's own pages may call this service",
            "open the task pane from the CRM tab in Excel",
        )
    if scope["method"] == "OPTIONS":
        raise Refused(
            403,
            "auth",
            "this service grants no cross-origin access",
            "open the task pane from the CRM tab in Excel",
        )
    if path == "/api/v1/health":
        return
    if not headers.get(CLIENT_HEADER):
        raise Refused(
            403,
            "auth",
            "API calls come from the add-in only (the X-Xlcrm-Client header is missing)",
            "open the task pane from the CRM tab in Excel, or send the header from your script",
        )
    if scope["method"] == "POST":
        media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != "application/json":
            raise Refused(
                415,
                "input",
                f"the request's Content-Type is {media or 'missing'!r}, not application/json",
                "send the request as JSON with Content-Type: application/json",
            )
    proxied = any(k in (h for h, _ in scope["headers"]) for k in PROXY_HEADERS)
    if path == "/api/v1/session":
        if not boundary.bootstrap or proxied:
            raise Refused(
                401,
                "auth",
                "this xlcrm service does not hand out its access token",
                "enter the token from your administrator in the task pane's Settings",
            )
        return
    given = headers.get("authorization", "").encode()
    if not hmac.compare_digest(given, f"Bearer {boundary.token}".encode()):
        raise Refused(
            401,
            "auth",
            "this xlcrm service needs its access token",
            "reload the task pane; for a shared service, enter the token from your "
            "administrator in the task pane's Settings",
        )


class BoundaryGate:
    """ASGI middleware: :func:`check` every request, and add the security headers to every
    answer (refusals included)."""

    def __init__(self, app: ASGIApp, boundary: Boundary) -> None:
        self.app = app
        self.boundary = boundary

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = SECURITY_HEADERS + (API_HEADERS if scope["path"].startswith("/api/") else [])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            check(self.boundary, scope)
        except Refused as refused:
            await refused.response()(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)
