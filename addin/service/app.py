"""The xlcrm service: the add-in's static files and its API (``docs/protocol.md``).

Stateless by design: a request carries the workbook's inventory, state and the columns a
command reads; the answer carries the actions that change it. Nothing about a workbook is kept
between requests, so a team can run several workers behind its own proxy and any of them can
answer any call. Commands are the library functions the CLI calls, on a
:class:`~addin.remote.RemoteBook`; they run in a worker thread, because mail and file I/O block.

Errors are split the way the task pane shows them: **your input** (HTTP 400: ``where``,
``message``, ``hint`` — the fields of every xlcrm error; nothing was changed) and **try again**
(HTTP 503: a mail server or the service had trouble). Secrets never appear in an answer or a
log line.
"""

from __future__ import annotations

import hmac
import json
import logging
import zlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from sync.mailbox import MailboxError

from .. import __version__
from ..errors import ActionableError
from ..remote import RemoteBook, plan_reads
from ..remote import protocol as p
from .commands import COMMANDS, Context, Outcome

log = logging.getLogger(__name__)

# Decompressed. The first Sync mail of a 100,000-customer, 300,000-interaction workbook posts
# about 60 MB of JSON (bench/README.md); gzip makes that a few megabytes on the wire.
MAX_BODY = 256 * 1024 * 1024


@dataclass(frozen=True)
class ServiceConfig:
    """How this service runs. ``token``: required on every API call when set (any
    deployment beyond localhost). ``local``: bound to loopback only, so local mail folders
    (``maildir:``…) on this machine may be read. ``insecure``: do not check mail servers'
    certificates (test servers only)."""

    token: str | None = None
    local: bool = True
    insecure: bool = False
    web_dir: Path | None = None


class InputError(ActionableError):
    """A request the service cannot use, with the HTTP status it answers with."""

    def __init__(
        self, message: str, where: str | None = None, hint: str | None = None, status: int = 400
    ) -> None:
        super().__init__(where, message, hint)
        self.status = status


def web_dir() -> Path:
    """The add-in's static files, shipped inside the package."""
    return Path(str(resources.files("addin") / "web"))


def error(kind: str, message: str, where: str | None = None, hint: str | None = None, status=400):
    detail = p.ErrorDetail(kind=kind, where=where, message=message, hint=hint)  # type: ignore[arg-type]
    body = p.ErrorResponse(error=detail)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status)


def _validation_error(exc: ValidationError) -> JSONResponse:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    more = len(exc.errors()) - 1
    message = first["msg"] + (f" (and {more} more problem(s))" if more else "")
    return error(
        "input",
        message,
        where,
        "the add-in sent a request the service cannot use: "
        "reload the task pane; if it persists, update the add-in and the service",
    )


async def _body(request: Request) -> Any:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise InputError("the request is too large", hint="select fewer rows", status=413)
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise InputError("the request is too large", hint="select fewer rows", status=413)
    data = bytes(raw)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        inflater = zlib.decompressobj(wbits=31)
        try:
            data = inflater.decompress(data, MAX_BODY + 1)
        except zlib.error:
            raise InputError("the request's gzip data is damaged", hint="try again") from None
        if len(data) > MAX_BODY or inflater.unconsumed_tail:
            raise InputError("the request is too large", hint="select fewer rows", status=413)
    try:
        return json.loads(data)
    except ValueError:
        raise InputError("the request is not JSON", hint="reload the task pane") from None


def _command(name: str):  # type: ignore[no-untyped-def]
    command = COMMANDS.get(name)
    if command is None:
        raise InputError(
            f"there is no command {name!r}",
            hint="the commands are: " + ", ".join(COMMANDS) + " — update the add-in",
        )
    return command


def _check_protocol(data: Any) -> None:
    version = data.get("protocol") if isinstance(data, dict) else None
    if version != p.PROTOCOL:
        raise InputError(
            f"the add-in speaks protocol {version!r}, this service {p.PROTOCOL}",
            hint="update the add-in or the xlcrm service so that both are the same version",
            status=409,
        )


def _answer(model: type[p.RunResponse], book: RemoteBook, outcome: Outcome) -> JSONResponse:
    book.save()
    answer = model(
        status=outcome.status,
        actions=book.actions,
        result=outcome.result,
        progress=outcome.progress,
        next=outcome.next,
    )
    return JSONResponse(answer.model_dump(mode="json", exclude_none=True))


async def _guarded(request: Request, handler) -> Response:  # type: ignore[no-untyped-def]
    try:
        data = await _body(request)
        _check_protocol(data)
        return await handler(data)
    except InputError as exc:
        kind = "version" if exc.status == 409 else "input"
        return error(kind, exc.message, exc.where, exc.hint, exc.status)
    except ValidationError as exc:
        return _validation_error(exc)
    except MailboxError as exc:
        if exc.temporary:
            return error("retry", exc.message, exc.where, exc.hint, 503)
        return error("input", exc.message, exc.where, exc.hint)
    except ActionableError as exc:  # the workbook's errors (XlcrmError) and any other
        return error("input", exc.message, exc.where, exc.hint)
    except Exception:
        log.exception("a command failed")
        return error("retry", "the xlcrm service had a problem", None, "try again", 503)


def create_app(config: ServiceConfig | None = None) -> Starlette:
    """The ASGI application ``xlcrm serve`` runs under uvicorn."""
    config = config or ServiceConfig()

    async def health(_: Request) -> Response:
        return JSONResponse({"ok": True, "protocol": p.PROTOCOL, "version": __version__})

    async def commands(_: Request) -> Response:
        return JSONResponse(
            {
                "protocol": p.PROTOCOL,
                "version": __version__,
                "commands": [c.describe() for c in COMMANDS.values()],
            }
        )

    async def plan(request: Request) -> Response:
        async def handle(data: Any) -> Response:
            req = p.PlanRequest.model_validate(data)
            command = _command(req.command)
            options = command.parse(req.options)
            book = RemoteBook(req)
            reads = plan_reads(book, command.needs(options))
            return JSONResponse(p.PlanResponse(reads=reads).model_dump(exclude_none=True))

        return await _guarded(request, handle)

    async def run(request: Request) -> Response:
        async def handle(data: Any) -> Response:
            req = p.RunRequest.model_validate(data)
            command = _command(req.command)
            options = command.parse(req.options)
            book = RemoteBook(req)
            outcome = await anyio.to_thread.run_sync(
                command.run, Context(book, options, config, req)
            )
            return _answer(p.RunResponse, book, outcome)

        return await _guarded(request, handle)

    routes = [
        Route("/api/v1/health", health),
        Route("/api/v1/commands", commands),
        Route("/api/v1/plan", plan, methods=["POST"]),
        Route("/api/v1/run", run, methods=["POST"]),
        Mount("/", StaticFiles(directory=config.web_dir or web_dir(), html=True)),
    ]
    middleware = [Middleware(TokenGate, token=config.token)]
    return Starlette(routes=routes, middleware=middleware)


PROXY_HEADERS = (b"forwarded", b"x-forwarded-for", b"x-real-ip")


class TokenGate:
    """Every API call needs ``Authorization: Bearer <token>``; static files do not (Office
    loads them before the user can type a token, and they hold nothing secret).

    A service started without a token (on localhost) refuses API calls that came through a
    proxy: behind nginx a loopback service is reachable from the whole network, and that
    must not happen without a token by accident."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            headers = dict(scope["headers"])
            if self.expected is None and any(h in headers for h in PROXY_HEADERS):
                response = error(
                    "auth",
                    "this xlcrm service has no access token but is reached through a proxy",
                    None,
                    "start it with --token-file (see docs/addin.md, 'A shared service')",
                    401,
                )
                await response(scope, receive, send)
                return
            given = headers.get(b"authorization", b"")
            if self.expected is not None and not hmac.compare_digest(given, self.expected):
                response = error(
                    "auth",
                    "this xlcrm service needs its access token",
                    None,
                    "enter the token from your administrator in the task pane's Settings",
                    401,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def app_from_environment() -> Starlette:
    """The app as ``xlcrm serve`` configures it for its workers (see ``addin/cli/serve.py``)."""
    import os

    return create_app(
        ServiceConfig(
            token=os.environ.get("XLCRM_SERVICE_TOKEN", "").strip() or None,
            local=os.environ.get("XLCRM_SERVICE_LOCAL", "1") == "1",
            insecure=os.environ.get("XLCRM_SERVICE_INSECURE", "0") == "1",
        )
    )
