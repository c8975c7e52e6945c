"""Requests to Microsoft Graph: bearer tokens, throttling, retries and errors people can act on.

Graph throttles per app and mailbox and says so with 429 (and 503/504 when it is busy),
usually with ``Retry-After`` in seconds. Requests are retried after that many seconds, but
within bounds (:class:`RetryPolicy`): a scheduled sync must end, with an error that says to
try later, rather than hang because a mailbox is throttled for an hour.

What is retried depends on whether a retry could do something twice. Reads (GET) are retried
on 429/503/504 and on a broken connection. A POST (sending, saving a draft) is retried only
on 429, which means Graph did not take the request; after a 503, a timeout or a broken
connection the message may or may not have gone, so the error says to look in Sent Items
rather than risk a second copy.

The errors raised then are ``temporary`` (:class:`sync.mailbox.MailboxError`): throttling
and busy answers (429, 503, 504, and Exchange's "transient" error codes) and connections that
failed or broke; with Graph's ``Retry-After`` as ``retry_after`` when it sent one. A refused
sign-in or permission, an unknown mailbox or a message Graph will not take are not.

Every link followed (``@odata.nextLink``, ``@odata.deltaLink``, including one read back from
a workbook's sync state) must point at the configured Graph server: the bearer token goes
with it, and a state cell is not a place to take a server address from.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ..mailbox import MailboxError
from .auth import TokenSource
from .settings import GraphSettings

log = logging.getLogger("sync.graph")

Sleep = Callable[[float], None]


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying one request."""

    attempts: int = 6  # tries in all, the first included
    max_wait: float = 300.0  # seconds of waiting in all, for one request
    backoff: float = 1.0  # first wait when Graph gives no Retry-After; doubles each time


_THROTTLED = {429: "Too Many Requests", 503: "Service Unavailable", 504: "Gateway Timeout"}
_TRANSIENT_CODES = ("ErrorServerBusy", "ErrorTooManyObjectsOpened", "ErrorMailboxStoreUnavailable")


class GraphError(MailboxError):
    """Graph answered with an error; ``status`` and ``code`` let callers react to some."""

    def __init__(
        self,
        where: str,
        message: str,
        hint: str | None,
        status: int,
        code: str,
        *,
        temporary: bool = False,
        retry_after: float | None = None,
        maybe_sent: bool = False,
    ):
        super().__init__(
            where,
            message,
            hint,
            temporary=temporary,
            retry_after=retry_after,
            maybe_sent=maybe_sent,
        )
        self.status = status
        self.code = code


def is_temporary(status: int, code: str) -> bool:
    """Whether Graph's answer means "not now" rather than "no"."""
    return status in _THROTTLED or code in _TRANSIENT_CODES or code.endswith("TransientError")


def error_code(response: httpx.Response) -> tuple[str, str]:
    """Graph's ``{"error": {"code": …, "message": …}}``, or empty strings."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    return str(error.get("code") or ""), str(error.get("message") or "")


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from ``Retry-After`` (a number, or an HTTP date), None when absent or bad."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _certificate(error: httpx.HTTPError) -> bool:
    """A certificate that failed verification: trying again cannot help."""
    return "CERTIFICATE_VERIFY_FAILED" in str(error)


class GraphClient:
    """One mailbox's requests, made through one httpx client (one kept-alive connection)."""

    def __init__(
        self,
        settings: GraphSettings,
        http: httpx.Client,
        auth: TokenSource,
        *,
        sleep: Sleep = time.sleep,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.where = settings.url
        self._http = http
        self._auth = auth
        self._sleep = sleep
        self._retry = retry or RetryPolicy()
        self._origin = httpx.URL(settings.base).copy_with(path="/", query=None)

    # -- links

    def url(self, path: str) -> str:
        """``users/li@…/mailFolders`` → the full URL under the base."""
        return f"{self.settings.base}/{path.lstrip('/')}"

    def is_ours(self, link: str) -> bool:
        """Whether ``link`` points at the configured Graph server (scheme, host and port)."""
        try:
            parsed = httpx.URL(link)
        except httpx.InvalidURL:
            return False
        origin = self._origin
        return (parsed.scheme, parsed.host, parsed.port) == (
            origin.scheme,
            origin.host,
            origin.port,
        ) and parsed.path.startswith(httpx.URL(self.settings.base).path)

    def link(self, link: Any) -> str:
        """A link from a Graph answer, checked before the token is sent to it."""
        if not isinstance(link, str) or not self.is_ours(link):
            raise MailboxError(
                self.where,
                f"Microsoft Graph answered with a link to another server: {str(link)[:80]!r}",
                "check XLCRM_GRAPH_URL",
            )
        return link

    # -- requests

    def get_json(
        self,
        target: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        accept: Collection[int] = (),
    ) -> tuple[int, dict[str, Any]]:
        """GET a JSON answer: (status, body); statuses in ``accept`` come back, not raised."""
        response = self.request("GET", target, params=params, headers=headers, accept=accept)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if response.status_code in accept:
                return response.status_code, {}
            raise MailboxError(
                self.where,
                f"Microsoft Graph answered {self._show(target)} with something that is not JSON",
                "check XLCRM_GRAPH_URL: it should end in /v1.0",
            )
        return response.status_code, body

    def pages(self, path: str, params: Mapping[str, str]) -> Iterator[dict[str, Any]]:
        """The items of a collection, page after page (``@odata.nextLink``)."""
        target, query = self.url(path), dict(params)
        while True:
            _, body = self.get_json(target, query or None)
            yield from body.get("value", [])
            next_link = body.get("@odata.nextLink")
            if not next_link:
                return
            target, query = self.link(next_link), {}

    def request(
        self,
        method: str,
        target: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        accept: Collection[int] = (),
    ) -> httpx.Response:
        """One request, retried as the module docstring says; 2xx and ``accept`` returned."""
        url = target if target.startswith(("https://", "http://")) else self.url(target)
        reading = method == "GET"
        waited, renewed, attempt = 0.0, False, 0
        while True:
            attempt += 1
            sent = {**(headers or {}), "Authorization": f"Bearer {self._auth.token()}"}
            try:
                response = self._http.request(
                    method, url, params=params, content=content, headers=sent
                )
            except httpx.HTTPError as error:
                # Nothing left this machine when the connection could not be made.
                unsent = isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout))
                broken = self._transport_error(method, url, error, unsent)
                delay = self._retry.backoff * 2 ** (attempt - 1)
                if (
                    not (reading or unsent)
                    or _certificate(error)
                    or attempt >= self._retry.attempts
                    or waited + delay > self._retry.max_wait
                ):
                    raise broken from None
                log.info("%s: %s; trying again in %.0f s", self.where, error, delay)
                self._sleep(delay)
                waited += delay
                continue
            status = response.status_code
            if status == 401 and not renewed and self._auth.renew():
                renewed, attempt = True, attempt - 1  # expired between getting and using it
                continue
            if status in _THROTTLED and (reading or status == 429):
                delay = retry_after(response)
                if delay is None:
                    delay = self._retry.backoff * 2 ** (attempt - 1)
                if attempt >= self._retry.attempts or waited + delay > self._retry.max_wait:
                    raise self._throttled(response, attempt, delay)
                log.info(
                    "%s: Microsoft Graph answered %d %s; waiting %.0f s as asked",
                    self.where,
                    status,
                    _THROTTLED[status],
                    delay,
                )
                self._sleep(delay)
                waited += delay
                continue
            if response.is_success or status in accept:
                return response
            raise self.error(method, url, response)

    # -- errors

    def _show(self, target: str) -> str:
        """A request target as shown in errors: the path under the base, without the query
        (delta and skip tokens are long and say nothing to a person)."""
        path = httpx.URL(target).path if "://" in target else target.split("?")[0]
        base = httpx.URL(self.settings.base).path
        return path.removeprefix(base).lstrip("/") or "/"

    def _transport_error(
        self, method: str, url: str, error: httpx.HTTPError, unsent: bool
    ) -> MailboxError:
        text = str(error) or type(error).__name__
        if _certificate(error):
            return MailboxError(
                self.where,
                f"the certificate of {httpx.URL(url).host} could not be verified ({text})",
                "for a test server with a self-signed certificate use --insecure (never for a "
                "real server)",
            )
        if unsent:
            return MailboxError(
                self.where,
                f"Microsoft Graph could not be reached at {httpx.URL(url).host}: {text}",
                "check the network (and XLCRM_GRAPH_URL); nothing was changed or sent",
                temporary=True,
            )
        what = f"{method} {self._show(url)}"
        if method == "GET":
            return MailboxError(
                self.where,
                f"the connection to Microsoft Graph broke during {what}: {text}",
                "check the network and run the command again; what was read so far is not lost",
                temporary=True,
            )
        return MailboxError(
            self.where,
            f"the connection to Microsoft Graph broke during {what}: {text}",
            "the message may or may not have been sent: look in Sent Items before sending it again",
            temporary=True,
            maybe_sent=True,
        )

    def _throttled(self, response: httpx.Response, attempts: int, delay: float) -> GraphError:
        status = response.status_code
        return GraphError(
            self.where,
            f"Microsoft Graph is busy or throttling this mailbox ({status} "
            f"{_THROTTLED[status]}) and asks to wait {delay:.0f} s; gave up after "
            f"{attempts} tries",
            "run the command again later; other programs using the same mailbox or app "
            "registration share Graph's limits"
            + ("" if response.request.method == "GET" else "; the message was not sent"),
            status,
            error_code(response)[0],
            temporary=True,
            retry_after=retry_after(response),
        )

    def error(self, method: str, target: str, response: httpx.Response) -> GraphError:
        """What a person sees when Graph refuses a request."""
        status = response.status_code
        code, message = error_code(response)
        detail = f" ({code}: {message})" if code or message else ""
        if status == 401:
            text = "sign-in failed: Microsoft Graph did not accept the access token"
            hint = self._auth.unauthorised_hint()
        elif status == 403:
            text = f"not allowed: Microsoft Graph refused {method} {self._show(target)}"
            hint = self._auth.forbidden_hint()
        elif status == 404 and code in ("ErrorInvalidUser", "MailboxNotEnabledForRESTAPI"):
            text = f"there is no Exchange Online mailbox {self.settings.user}"
            hint = "check the user in graph://user@tenant (the user principal name)"
        elif status == 413:
            text = "the message is too large for Microsoft Graph"
            hint = "send large messages through SMTP (smtps://user@smtp.office365.com)"
        else:
            text = (
                f"Microsoft Graph answered {status} {response.reason_phrase} to {method} "
                f"{self._show(target)}"
            )
            hint = None
            if method != "GET" and status >= 500:
                hint = (
                    "the message may or may not have been sent: look in Sent Items before "
                    "sending it again"
                )
        temporary = is_temporary(status, code)
        return GraphError(
            self.where,
            text + detail,
            hint,
            status,
            code,
            temporary=temporary,
            retry_after=retry_after(response) if temporary else None,
            maybe_sent=method != "GET" and status >= 500,
        )
