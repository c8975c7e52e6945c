"""Where a Graph mailbox is and how to sign in to it: the URL plus ``XLCRM_GRAPH_*`` settings.

Everything here is read once, when a mailbox is opened, and checked before any request is
made: a plain-http base URL that does not point at this machine, or a sign-in authority that
is not https, is a :class:`~sync.mailbox.MailboxError` naming the variable to fix.

National clouds differ in three ways that matter to us: the Graph host (which is also the
resource that tokens are issued for, so scopes are derived from the base URL), the sign-in
host, and which APIs exist. Microsoft Graph operated by 21Vianet (China) has no
``messages/delta``, so a base URL there starts in the received-time listing mode directly
instead of discovering it with a failed request per folder.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from ..mailbox import MailboxError, MailboxURL, is_loopback
from ..secrets import from_environment

CLIENT_ID = "XLCRM_GRAPH_CLIENT_ID"
CLIENT_SECRET = "XLCRM_GRAPH_CLIENT_SECRET"
TOKEN = "XLCRM_GRAPH_TOKEN"
BASE_URL = "XLCRM_GRAPH_URL"
AUTHORITY = "XLCRM_GRAPH_AUTHORITY"

DEFAULT_BASE_URL = "https://graph.microsoft.com/v1.0"
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"

# Graph host → the sign-in host of the same cloud, used when XLCRM_GRAPH_AUTHORITY is unset.
_CLOUD_AUTHORITIES = {
    "graph.microsoft.com": DEFAULT_AUTHORITY,
    "microsoftgraph.chinacloudapi.cn": "https://login.chinacloudapi.cn",
    "graph.microsoft.us": "https://login.microsoftonline.us",
    "dod-graph.microsoft.us": "https://login.microsoftonline.us",
}
# Clouds whose Graph has no message delta function (learn.microsoft.com, "message: delta").
_NO_DELTA_SUFFIXES = (".chinacloudapi.cn",)


@dataclass(frozen=True)
class GraphSettings:
    """One Graph mailbox: who, where, and which sign-in the environment asks for."""

    url: str  # graph://user@tenant, as shown in messages
    user: str  # the mailbox's user principal name, li@contoso.onmicrosoft.com
    tenant: str  # a domain or a tenant id, as written in the URL
    base: str  # https://graph.microsoft.com/v1.0, without a trailing slash
    authority: str  # https://login.microsoftonline.com, without a trailing slash
    client_id: str | None
    token: str | None  # a ready access token (XLCRM_GRAPH_TOKEN)

    @property
    def resource(self) -> str:
        """What tokens are issued for: the base URL's origin (``https://graph.microsoft.com``)."""
        parsed = httpx.URL(self.base)
        port = f":{parsed.port}" if parsed.port else ""
        return f"{parsed.scheme}://{parsed.host}{port}"

    @property
    def app_scopes(self) -> list[str]:
        """App-only (client credentials) tokens carry the app's granted permissions."""
        return [f"{self.resource}/.default"]

    @property
    def user_scopes(self) -> list[str]:
        """Delegated permissions a person consents to when signing in with a device code."""
        return [f"{self.resource}/Mail.ReadWrite", f"{self.resource}/Mail.Send"]

    @property
    def mailbox_path(self) -> str:
        """``users/{upn}``: the mailbox every request is made under (app-only tokens have no
        ``me``, and a delegated token may open a shared mailbox)."""
        return f"users/{quote(self.user, safe='@.')}"

    @property
    def delta_available(self) -> bool:
        host = httpx.URL(self.base).host.lower()
        return not host.endswith(_NO_DELTA_SUFFIXES)

    @property
    def tenant_authority(self) -> str:
        return f"{self.authority}/{self.tenant}"


def settings_from(parsed: MailboxURL, environ: Mapping[str, str] = os.environ) -> GraphSettings:
    """Read and check the settings for ``graph://user@tenant``."""
    where = parsed.text
    if not parsed.user:
        raise MailboxError(
            where,
            "the URL names no mailbox user",
            "write it as graph://user@tenant, e.g. graph://li@contoso.onmicrosoft.com",
        )
    tenant = parsed.host or ""
    user = parsed.user if "@" in parsed.user else f"{parsed.user}@{tenant}"
    base = _base_url(where, environ.get(BASE_URL, "").strip() or DEFAULT_BASE_URL)
    authority = environ.get(AUTHORITY, "").strip().rstrip("/")
    if not authority:
        authority = _CLOUD_AUTHORITIES.get(httpx.URL(base).host.lower(), DEFAULT_AUTHORITY)
    _check_authority(where, authority)
    return GraphSettings(
        url=where,
        user=user,
        tenant=tenant,
        base=base,
        authority=authority,
        client_id=environ.get(CLIENT_ID, "").strip() or None,
        # A ready token serves only the URL it may (sync.secrets.scoped): a service never
        # hands it to a Graph URL that came in a request.
        token=(from_environment(where, TOKEN, environ) or "").strip() or None,
    )


def _base_url(where: str, text: str) -> str:
    try:
        parsed = httpx.URL(text)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or not parsed.host or parsed.scheme not in ("https", "http"):
        raise MailboxError(
            where,
            f"{BASE_URL} is not an http(s) URL: {text!r}",
            f"unset it for {DEFAULT_BASE_URL}, or give a base URL such as "
            "https://microsoftgraph.chinacloudapi.cn/v1.0",
        )
    if parsed.scheme == "http" and not is_loopback(parsed.host):
        raise MailboxError(
            where,
            f"{BASE_URL} uses plain http, which would send the access token unencrypted",
            "use https; plain http is only for test servers on this machine",
        )
    if parsed.query or parsed.fragment:
        raise MailboxError(where, f"{BASE_URL} must not have a query or fragment: {text!r}")
    return str(parsed).rstrip("/")


def _check_authority(where: str, authority: str) -> None:
    parsed = None
    with contextlib.suppress(httpx.InvalidURL):
        parsed = httpx.URL(authority)
    if parsed is None or parsed.scheme != "https" or not parsed.host or parsed.query:
        raise MailboxError(
            where,
            f"{AUTHORITY} must be an https URL such as {DEFAULT_AUTHORITY}: {authority!r}",
            "sign-in services are only reached over https; for Microsoft Graph operated by "
            "21Vianet use https://login.chinacloudapi.cn",
        )


def config_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The user's xlcrm configuration directory (``~/.config/xlcrm``; ``%APPDATA%\\xlcrm``).

    Token caches live here, never in a workbook: a workbook is mailed around, a home
    directory is not.
    """
    if os.name == "nt" and environ.get("APPDATA"):
        return Path(environ["APPDATA"]) / "xlcrm"
    base = environ.get("XDG_CONFIG_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".config") / "xlcrm"


def token_cache_path(settings: GraphSettings, environ: Mapping[str, str] = os.environ) -> Path:
    """One cache file per mailbox URL, so a shared mailbox keeps whoever signed in for it."""
    name = re.sub(r"[^A-Za-z0-9@._-]", "_", settings.url.removeprefix("graph://"))
    return config_dir(environ) / "graph" / f"tokens-{name}.json"
