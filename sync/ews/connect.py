"""Connecting to Exchange: the EWS endpoint a URL names, how to sign in, and an exchangelib
``Account`` that sends nothing we did not ask for.

- ``ews://user@host[:port][/path]`` is ``https://host[:port]/path`` (``/EWS/Exchange.asmx``
  when no path is given); ``ews+http://`` is plain http, which :func:`sync.mailbox.parse_url`
  allows only to this machine (test servers).
- The user is a Windows account (``CORP%5Czhang`` for ``CORP\\zhang``) or a UPN / address
  (``zhang%40corp.cn``). The mailbox's SMTP address is ``address`` when the caller gives one
  (a UPN can differ from it), else the user when it is an address, else an error.
- Sign-in (``XLCRM_EWS_AUTH``): ``ntlm`` (the default: what on-premises Exchange asks for),
  ``basic``, or ``oauth`` with an access token in ``XLCRM_TOKEN`` (environment, keyring or
  prompt, like the password in ``XLCRM_PASSWORD``).

exchangelib is told everything it would otherwise find out by asking: the endpoint (no
autodiscover, which would query DNS and other hosts), the sign-in method (no unauthenticated
probe) and the server version (Exchange 2016, so no version-guessing ConvertId round trip; a
server that is older answers "invalid version" and exchangelib steps down by itself). So
creating the account sends nothing; :class:`sync.ews.EwsMailbox` then signs in with its first
real request. Errors fail fast (exchangelib's ``FailFast`` policy, no back-off sleeps), and a
request that hears nothing for a minute gives up.

exchangelib keeps one ``Protocol`` (sessions, connections, certificate checks) per endpoint and
credentials for the whole process. Each mailbox here gets its own instead, so that closing one
mailbox, or turning certificate checks off for one (``--insecure``), never reaches another: the
``NoVerifyHTTPAdapter`` is set on a subclass used only by insecure mailboxes, not on
exchangelib's global ``BaseProtocol.HTTP_ADAPTER_CLS``.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass

from exchangelib import DELEGATE, Account, Build, Configuration, Credentials, Version
from exchangelib.credentials import BaseCredentials, OAuth2AuthorizationCodeCredentials
from exchangelib.ewsdatetime import UTC
from exchangelib.protocol import CachingProtocol, FailFast, NoVerifyHTTPAdapter, Protocol
from exchangelib.transport import BASIC, NTLM, OAUTH2

from ..mailbox import MailboxError, MailboxURL
from ..secrets import PASSWORD_VARIABLE, password, secret, store_hint

log = logging.getLogger("sync.ews")

AUTH_VARIABLE = "XLCRM_EWS_AUTH"
TOKEN_VARIABLE = "XLCRM_TOKEN"
DEFAULT_PATH = "/EWS/Exchange.asmx"
AUTH_METHODS = {"ntlm": NTLM, "basic": BASIC, "oauth": OAUTH2}
SERVER_VERSION = Build(15, 1)  # Exchange 2016; 2019 speaks the same "Exchange2016" API


@dataclass(frozen=True)
class Endpoint:
    """Where and as whom to connect."""

    url: str  # the mailbox URL as shown in messages (no secrets)
    service: str  # the EWS endpoint, https://host/EWS/Exchange.asmx
    user: str  # DOMAIN\\user or a UPN
    address: str  # the mailbox's SMTP address
    method: str  # "ntlm", "basic" or "oauth"


def endpoint(parsed: MailboxURL, address: str | None) -> Endpoint:
    """The endpoint a parsed ``ews://`` or ``ews+http://`` URL names."""
    url = parsed.text
    if not parsed.user:
        raise MailboxError(
            url,
            "the URL names no user to sign in as",
            "write it as ews://DOMAIN%5Cuser@host/EWS/Exchange.asmx or "
            "ews://you%40corp.cn@host/EWS/Exchange.asmx",
        )
    mailbox = (address or (parsed.user if "@" in parsed.user else "")).strip()
    if not mailbox:
        raise MailboxError(
            url,
            f"the mailbox's email address is not known: {parsed.user} is a Windows account",
            "give the mailbox's address (xlcrm sync … --me you@corp.cn), or sign in with it: "
            "ews://you%40corp.cn@host/EWS/Exchange.asmx",
        )
    if "@" not in mailbox:
        raise MailboxError(url, f"{mailbox!r} is not an email address")
    host = f"[{parsed.host}]" if parsed.host and ":" in parsed.host else parsed.host
    port = f":{parsed.port}" if parsed.port else ""
    path = parsed.path if parsed.path not in ("", "/") else DEFAULT_PATH
    scheme = "http" if parsed.scheme == "ews+http" else "https"
    return Endpoint(url, f"{scheme}://{host}{port}{path}", parsed.user, mailbox, auth_method(url))


def auth_method(url: str) -> str:
    """The sign-in method ``XLCRM_EWS_AUTH`` asks for (NTLM when unset)."""
    method = os.environ.get(AUTH_VARIABLE, "").strip().lower() or "ntlm"
    if method not in AUTH_METHODS:
        raise MailboxError(
            url,
            f"{AUTH_VARIABLE}={method} is not a sign-in method for Exchange",
            f"set {AUTH_VARIABLE} to one of: {', '.join(AUTH_METHODS)} (ntlm when unset)",
        )
    return method


def credentials(where: Endpoint) -> BaseCredentials:
    """The password (or OAuth access token) from the environment, the keyring or a prompt."""
    if where.method == "oauth":
        token = secret(where.url, variable=TOKEN_VARIABLE, what="OAuth access token")
        return OAuth2AuthorizationCodeCredentials(
            access_token={"access_token": token, "token_type": "Bearer"}
        )
    return Credentials(where.user, password(where.url))


def login_hint(where: Endpoint) -> str:
    """What to check when the server refuses the sign-in."""
    if where.method == "oauth":
        return (
            f"get a fresh access token into {TOKEN_VARIABLE} (they expire after about an hour); "
            f"or sign in with a password: {AUTH_VARIABLE}=ntlm or basic"
        )
    return (
        f"check the password in {PASSWORD_VARIABLE} or the keyring ({store_hint(where.url)}); "
        "a Windows account is written DOMAIN%5Cuser in the URL; if the server "
        f"uses another sign-in method, set {AUTH_VARIABLE}=ntlm, basic or oauth"
    )


# ---- exchangelib set-up ------------------------------------------------------------------------


class _OwnProtocol(CachingProtocol):
    """A protocol metaclass without exchangelib's process-wide cache (see the module notes)."""

    def __call__(cls, *args: object, **kwargs: object) -> object:
        return type.__call__(cls, *args, **kwargs)


class EwsProtocol(Protocol, metaclass=_OwnProtocol):
    """One mailbox's connection to its server."""

    TIMEOUT = (10, 60)  # seconds to connect, and of silence while waiting for an answer
    USERAGENT = "xlcrm (exchangelib)"


class InsecureEwsProtocol(EwsProtocol):
    """The same, with certificate checks off (``--insecure``)."""

    HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter


def connect(where: Endpoint, creds: BaseCredentials, *, insecure: bool) -> Account:
    """An exchangelib account for ``where``, on its own protocol; nothing is sent yet."""
    _hide_secrets_in_exchangelib_logs()
    config = Configuration(
        service_endpoint=where.service,
        credentials=creds,
        auth_type=AUTH_METHODS[where.method],
        version=Version(build=SERVER_VERSION),
        retry_policy=FailFast(),
        max_connections=1,
    )
    account = Account(
        primary_smtp_address=where.address,
        config=config,
        autodiscover=False,
        access_type=DELEGATE,
        default_timezone=UTC,  # no local time zone lookup: we read no dates through EWS
    )
    made = account.protocol  # exchangelib's cached one, which holds the password: forget it
    if insecure:
        log.warning(
            "%s: certificate checks are off (--insecure): anyone between here and the server "
            "could read the password and the mail; use this only for test servers",
            where.url,
        )
    account.protocol = (InsecureEwsProtocol if insecure else EwsProtocol)(config=config)
    try:
        if Protocol[config][0] is made:
            del Protocol[config]
    except KeyError:
        pass
    made.close()
    return account


_AUTHORIZATION = re.compile(r"""(['"]?(?:Proxy-)?Authorization['"]?\s*[:=]\s*['"]?)[^'",}\n]+""")


class _RedactAuthorization(logging.Filter):
    """exchangelib logs request headers at debug level, and a Basic ``Authorization`` header is
    the password in base64 (a bearer header is the token): show ``***`` instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "uthorization" in text:
            record.msg, record.args = _AUTHORIZATION.sub(r"\1***", text), None
        return True


def _hide_secrets_in_exchangelib_logs() -> None:
    logger = logging.getLogger("exchangelib.util")
    if not any(isinstance(f, _RedactAuthorization) for f in logger.filters):
        logger.addFilter(_RedactAuthorization())
