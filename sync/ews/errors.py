"""exchangelib's exceptions, as :class:`sync.mailbox.MailboxError` a person can act on.

Each message says what was being done and what went wrong in words, the hint what to do next.
exchangelib's own text is kept only where it adds something (a redirect's target, a server's
error code); it never contains the password. Connection problems arrive from exchangelib as
``ErrorTimeoutExpired("Reraised from ConnectionError(...)")``: with one connection and the
fail-fast policy it gives up at once instead of retrying for up to an hour.

Errors that trying again later can cure are ``temporary``: a connection that failed or broke,
a busy or throttling server (``ErrorServerBusy`` and its kin, HTTP 503 and other 5xx answers
that are not EWS answers), a sending quota used up for now. A throttling Exchange names how
long to wait (``BackOffMilliseconds``), which becomes ``retry_after``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import requests
import spnego.exceptions
from exchangelib import errors as ews
from oauthlib.oauth2 import InsecureTransportError, OAuth2Error

from ..mailbox import MailboxError

AGAIN = "run the sync again later; it continues where this run stopped"
SEND_AGAIN = "try again later"
MAYBE_SENT = (  # the request may have reached Exchange before the answer was lost
    "the message may or may not have been sent: look in Sent Items before sending it again"
)
BUSY = (
    ews.ErrorServerBusy,
    ews.ErrorTooManyObjectsOpened,
    ews.ErrorInternalServerTransientError,
    ews.ErrorExceededConnectionCount,
    ews.ErrorMailboxStoreUnavailable,
    ews.ErrorMailboxMoveInProgress,
    ews.ErrorConnectionFailed,
    ews.ErrorConnectionFailedTransientError,
    ews.ErrorInternalServerError,
    ews.RateLimitError,
)
_HTTP_5XX = re.compile(r"Unknown failure in response\. Code: (5\d\d)")  # exchangelib's words
FAILURES = (
    ews.EWSError,
    requests.RequestException,
    OSError,
    spnego.exceptions.SpnegoError,
    OAuth2Error,
)


def explain(
    url: str, error: BaseException, doing: str, login_hint: str, address: str
) -> MailboxError:
    """The MailboxError for ``error``, raised by exchangelib while ``doing`` something."""
    name = type(error).__name__
    text = str(error.args[0]) if getattr(error, "args", None) else str(error)
    again = SEND_AGAIN if doing.startswith(("sending", "saving")) else AGAIN
    if isinstance(error, InsecureTransportError):
        return MailboxError(
            url, "an OAuth token is sent only over https", "use ews:// (https), not ews+http://"
        )
    if isinstance(
        error,
        ews.UnauthorizedError | spnego.exceptions.SpnegoError | PermissionError | OAuth2Error,
    ):
        return MailboxError(url, "login failed: the server did not accept the sign-in", login_hint)
    if isinstance(error, ews.ErrorNonExistentMailbox):
        return MailboxError(
            url,
            f"the server has no mailbox {address}",
            "check the mailbox's address (the user in the URL, or --me); a Windows account "
            "signs in as DOMAIN%5Cuser with the address given separately",
        )
    if isinstance(error, ews.ErrorAccessDenied | ews.ErrorSendAsDenied):
        return MailboxError(
            url,
            f"{doing}: the server denied access ({name})",
            f"the account needs full access to {address} (and Send As to send from it); "
            "ask the Exchange administrator",
        )
    if isinstance(error, ews.CASError):
        return MailboxError(
            url, f"{doing}: the server refused the request ({text})", again, temporary=True
        )
    if isinstance(error, ews.RedirectError):
        return MailboxError(
            url,
            f"the server redirects to {error.url} instead of answering",
            "give the EWS address itself, usually https://mail.example.cn/EWS/Exchange.asmx",
        )
    if isinstance(error, ews.ErrorTimeoutExpired | requests.ConnectionError):
        cause = "the connection to the server failed, was cut off or timed out"
        hint = (
            MAYBE_SENT
            if doing.startswith("sending")
            else f"check the network and the server; {again}"
        )
        return MailboxError(
            url, f"{doing}: {cause}", hint, temporary=True, maybe_sent=hint == MAYBE_SENT
        )
    if isinstance(error, BUSY):
        return MailboxError(
            url,
            f"{doing}: the server is busy or unavailable ({name})",
            again,
            temporary=True,
            retry_after=_back_off(error),
        )
    if isinstance(error, ews.ErrorSubmissionQuotaExceeded):
        return MailboxError(
            url,
            f"{doing}: the mailbox has sent as many messages as the server allows for now ({name})",
            "send the rest later (Exchange limits messages per minute and per day)",
            temporary=True,
        )
    http_5xx = _HTTP_5XX.search(text) if isinstance(error, ews.MalformedResponseError) else None
    if http_5xx:
        maybe_sent = http_5xx.group(1) == "504" and doing.startswith("sending")
        return MailboxError(
            url,
            f"{doing}: the server answered HTTP {http_5xx.group(1)} instead of an EWS answer "
            "(a proxy or load balancer whose Exchange is down or restarting)",
            MAYBE_SENT if maybe_sent else again,
            temporary=True,
            maybe_sent=maybe_sent,
        )
    if isinstance(error, ews.ErrorMessageSizeExceeded):
        return MailboxError(url, f"{doing}: the message is larger than the server accepts")
    if isinstance(error, ews.ErrorInvalidRecipients | ews.ErrorMailRecipientNotFound):
        return MailboxError(url, f"{doing}: the server refused the recipients ({text})")
    if isinstance(error, ews.ErrorQuotaExceeded):
        return MailboxError(url, f"{doing}: the mailbox is full", "make room in the mailbox")
    if isinstance(error, ews.TransportError) and _is_tls(text):
        return MailboxError(
            url,
            f"the server's certificate could not be checked ({_first_line(text)})",
            "install the company's certificate authority; for a test server use --insecure",
        )
    if isinstance(error, ews.ResponseMessageError):
        return MailboxError(url, f"{doing}: the server answered {name}: {_first_line(text)}")
    if isinstance(error, ews.EWSError):
        return MailboxError(
            url,
            f"{doing}: the server's answer was not understood ({name}: {_first_line(text)})",
            "check that the URL is the EWS address, usually …/EWS/Exchange.asmx",
        )
    network = isinstance(error, OSError | requests.RequestException)
    return MailboxError(url, f"{doing}: {name}: {_first_line(text)}", again, temporary=network)


@contextmanager
def translated(url: str, doing: str, login_hint: Callable[[], str], address: str) -> Iterator[None]:
    """Raise exchangelib's (and requests') exceptions as MailboxError."""
    try:
        yield
    except MailboxError:
        raise
    except FAILURES as error:
        raise explain(url, error, doing, login_hint(), address) from error


def _back_off(error: BaseException) -> float | None:
    """The seconds a throttling Exchange asked to wait (``BackOffMilliseconds``), which
    exchangelib keeps on ErrorServerBusy. (When the server named none, exchangelib puts its own
    first wait there, 10 s, which is as good a guess as any.) The errors it re-raises as busy
    ("Reraised from …", "Caused by HTTP 503 response") carry no word from the server."""
    back_off = getattr(error, "back_off", None)
    text = str(error.args[0]) if error.args else ""
    if not isinstance(back_off, int | float) or text.startswith(("Reraised from", "Caused by")):
        return None
    return float(back_off)


def _is_tls(text: str) -> bool:
    lowered = text.lower()
    return "certificate" in lowered or "ssl" in lowered or "tls" in lowered


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
