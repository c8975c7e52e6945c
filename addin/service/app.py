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

import logging
import secrets
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

from sync.mailbox import MailboxError

from .. import __version__
from ..errors import ActionableError
from ..remote import RemoteBook, plan_reads
from ..remote import protocol as p
from .body import BodyError, BodyReader, decode_json
from .boundary import Boundary, BoundaryGate, served_names
from .commands import COMMANDS, Context, Outcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceConfig:
    """How this service runs. ``token``: required on every API call (none given: a random
    one for this process, which only its own pages can fetch). ``local``: bound to loopback
    only, so local mail folders (``maildir:``…) on this machine may be read. ``insecure``: do
    not check mail servers' certificates (test servers only). ``hosts``: the host names the
    service answers for (empty: the loopback names); ``origins``: extra origins its pages are
    served from (a TLS proxy in front). ``bootstrap``: hand the token to the service's own
    pages through ``/api/v1/session`` — for a local, per-install token, never a shared one
    (see ``docs/security.md``)."""

    token: str | None = None
    local: bool = True
    insecure: bool = False
    web_dir: Path | None = None
    # What the person who started the service configured (docs/secrets.md): the mailbox and
    # transport URLs its environment's secrets (XLCRM_PASSWORD…) serve, the folders of the
    # company's own templates (requests name templates, never paths), and where the claims
    # ledger that all workers share lives (None: this process only).
    mailboxes: tuple[str, ...] = ()
    transports: tuple[str, ...] = ()
    template_dirs: tuple[Path, ...] = ()
    state_dir: Path | None = None
    hosts: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()
    bootstrap: bool = True


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


def error(
    kind: str,
    message: str,
    where: str | None = None,
    hint: str | None = None,
    status=400,
    code: str | None = None,
    params: dict[str, str] | None = None,
):
    detail = p.ErrorDetail(
        kind=kind,  # type: ignore[arg-type]
        where=where,
        message=message,
        hint=hint,
        code=code,
        params=params,
    )
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
        # A fresh id per answer that changes the workbook: the client records the ids it has
        # applied in _xlcrm and skips an answer it meets again (a replayed response).
        operation=secrets.token_hex(16) if book.actions else None,
        result=outcome.result,
        progress=outcome.progress,
        next=outcome.next,
    )
    return JSONResponse(answer.model_dump(mode="json", exclude_none=True))


async def _guarded(request: Request, handler) -> Response:  # type: ignore[no-untyped-def]
    """Read the body (bounded), then decode, validate, run and serialise the answer in a
    worker thread: the event loop only moves bytes, so it stays responsive while a big
    request is being worked on."""
    try:
        async with BodyReader(request) as reader:
            # Handed over in a box, so that the bytes are freed as soon as they are decoded
            # (this frame would otherwise hold them to the end of the request).
            box: list[Any] = [await reader.read()]
            return await anyio.to_thread.run_sync(_decode_and_handle, box, handler)
    except BodyError as exc:
        return error("input", exc.message, None, exc.hint, exc.status, exc.code, exc.params)
    except anyio.get_cancelled_exc_class():
        # 'xlcrm serve' is stopping and this call outlived its grace (service.lifecycle): an
        # answer the add-in can act on, rather than a traceback in the log and a bare 500.
        # Nothing of it reaches the workbook, which the add-in writes only from an answer.
        return error(
            "retry", "the xlcrm service stopped while working on this", None, "try again", 503
        )


def _decode_and_handle(box: list[Any], handler) -> Response:  # type: ignore[no-untyped-def]
    """In a worker thread: JSON → protocol check → the handler; errors → their answers. The
    handler takes the decoded request out of ``box``, so it is freed once validated."""
    try:
        box.append(decode_json(box.pop()))
        _check_protocol(box[0])
        return handler(box)  # type: ignore[no-any-return]
    except BodyError as exc:
        return error("input", exc.message, None, exc.hint, exc.status, exc.code, exc.params)
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
        code, params = getattr(exc, "code", None), getattr(exc, "params", None)
        return error("input", exc.message, exc.where, exc.hint, code=code, params=params)
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

    token = config.token or secrets.token_urlsafe(32)
    boundary = Boundary(
        token=token,
        names=served_names(config.hosts),
        origins=frozenset(o.lower().rstrip("/") for o in config.origins),
        bootstrap=config.bootstrap and config.local,
    )

    async def session(_: Request) -> Response:
        # Reached only past the boundary's checks: a same-origin request on a served host name
        # from a service that hands out its token (``boundary.check``).
        return JSONResponse({"protocol": p.PROTOCOL, "token": token})

    async def plan(request: Request) -> Response:
        def handle(box: list[Any]) -> Response:
            req = p.PlanRequest.model_validate(box.pop())
            command = _command(req.command)
            options = command.parse(req.options)
            book = RemoteBook(req)
            reads = plan_reads(book, command.needs(options))
            return JSONResponse(p.PlanResponse(reads=reads).model_dump(exclude_none=True))

        return await _guarded(request, handle)

    async def run(request: Request) -> Response:
        def handle(box: list[Any]) -> Response:
            req = p.RunRequest.model_validate(box.pop())
            command = _command(req.command)
            options = command.parse(req.options)
            command.check_size(req)
            book = RemoteBook(req)
            outcome = command.run(Context(book, options, config, req))
            return _answer(p.RunResponse, book, outcome)

        return await _guarded(request, handle)

    routes = [
        Route("/api/v1/health", health),
        Route("/api/v1/session", session),
        Route("/api/v1/commands", commands),
        Route("/api/v1/plan", plan, methods=["POST"]),
        Route("/api/v1/run", run, methods=["POST"]),
        Mount("/", StaticFiles(directory=config.web_dir or web_dir(), html=True)),
    ]
    middleware = [Middleware(BoundaryGate, boundary=boundary)]
    return Starlette(routes=routes, middleware=middleware)


def app_from_environment() -> Starlette:
    """The app as ``xlcrm serve`` configures it for its workers (see ``addin/cli/serve.py``)."""
    import os

    def listed(name: str) -> list[str]:
        return [line for line in os.environ.get(name, "").splitlines() if line.strip()]

    state = os.environ.get("XLCRM_SERVICE_STATE", "").strip()
    return create_app(
        ServiceConfig(
            token=os.environ.get("XLCRM_SERVICE_TOKEN", "").strip() or None,
            local=os.environ.get("XLCRM_SERVICE_LOCAL", "1") == "1",
            insecure=os.environ.get("XLCRM_SERVICE_INSECURE", "0") == "1",
            mailboxes=tuple(listed("XLCRM_SERVICE_MAILBOXES")),
            transports=tuple(listed("XLCRM_SERVICE_TRANSPORTS")),
            template_dirs=tuple(Path(p) for p in listed("XLCRM_SERVICE_TEMPLATES")),
            state_dir=Path(state) if state else None,
            hosts=tuple(listed("XLCRM_SERVICE_HOSTS")),
            origins=tuple(listed("XLCRM_SERVICE_ORIGINS")),
            bootstrap=os.environ.get("XLCRM_SERVICE_BOOTSTRAP", "0") == "1",
        )
    )
