"""exchangelib's exceptions, as :class:`sync.mailbox.MailboxError` a person can act on.

Each message says what was being done and what went wrong in words, the hint what to do next.
exchangelib's own text is kept only where it adds something (a redirect's target, a server's
error code); it never contains the password. Connection problems arrive from exchangelib as
``ErrorTimeoutExpired("Reraised from ConnectionError(...)")``: with one connection and the
fail-fast policy it gives up at once instead of retrying for up to an hour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import requests
import spnego.exceptions
from exchangelib import errors as ews
from oauthlib.oauth2 import InsecureTransportError, OAuth2Error

from ..mailbox import MailboxError

AGAIN = "run the sync again later; it continues where this run stopped"
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
        return MailboxError(url, f"{doing}: the server refused the request ({text})", AGAIN)
    if isinstance(error, ews.RedirectError):
        return MailboxError(
            url,
            f"the server redirects to {error.url} instead of answering",
            "give the EWS address itself, usually https://mail.example.cn/EWS/Exchange.asmx",
        )
    if isinstance(error, ews.ErrorTimeoutExpired | requests.ConnectionError):
        cause = "the connection to the server failed, was cut off or timed out"
        return MailboxError(url, f"{doing}: {cause}", f"check the network and the server; {AGAIN}")
    if isinstance(error, BUSY):
        return MailboxError(url, f"{doing}: the server is busy or unavailable ({name})", AGAIN)
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
    return MailboxError(url, f"{doing}: {name}: {_first_line(text)}", AGAIN)


@contextmanager
def translated(url: str, doing: str, login_hint: Callable[[], str], address: str) -> Iterator[None]:
    """Raise exchangelib's (and requests') exceptions as MailboxError."""
    try:
        yield
    except MailboxError:
        raise
    except FAILURES as error:
        raise explain(url, error, doing, login_hint(), address) from error


def _is_tls(text: str) -> bool:
    lowered = text.lower()
    return "certificate" in lowered or "ssl" in lowered or "tls" in lowered


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
