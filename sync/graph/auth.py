"""Access tokens for Microsoft Graph: a ready token, app-only sign-in, or a person's sign-in.

Which one is chosen, in this order:

1. ``XLCRM_GRAPH_TOKEN``: a ready access token (scripts that already have one, tests). It is
   used as it is; when it expires the run fails with a sign-in error.
2. ``XLCRM_GRAPH_CLIENT_ID`` and a client secret (``XLCRM_GRAPH_CLIENT_SECRET`` or the system
   keyring): app-only access through msal's client-credentials grant, for scheduled runs.
   Tokens are kept in memory only; getting a new one per run is cheap.
3. ``XLCRM_GRAPH_CLIENT_ID`` alone: a person signs in with a device code (msal's device flow:
   a code to type at a Microsoft web page, so it works over SSH and without a browser on
   this machine). The tokens, including the refresh token that lets later runs, scheduled
   ones too, go on without a person, are kept in an msal cache file in the user's config
   directory, readable by its owner only (0600), and never in a workbook.

msal talks to the sign-in service through the mailbox's own httpx client, so ``--insecure``,
proxies and certificate settings apply to sign-in and Graph alike. Instance discovery (a
request to login.microsoftonline.com that asks whether an authority is a Microsoft one) is
only left on for Microsoft's own sign-in hosts, where msal skips it anyway; any other
authority is one the person configured on purpose.

No token or secret is ever logged or put in an error message; msal's error descriptions
(``AADSTS7000215: Invalid client secret provided…``) carry neither.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import sys
from pathlib import Path
from typing import Any, Protocol

import httpx
import msal
from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS

from .. import secrets
from ..mailbox import MailboxError
from .settings import AUTHORITY, CLIENT_ID, CLIENT_SECRET, TOKEN, GraphSettings, token_cache_path

log = logging.getLogger("sync.graph")


class TokenSource(Protocol):
    """Where the bearer token of each request comes from."""

    def token(self) -> str:
        """A token valid now (sources that can renew do so before it expires)."""
        ...

    def renew(self) -> bool:
        """Drop the current token after Graph refused it; True when a retry may help."""
        ...

    def unauthorised_hint(self) -> str: ...

    def forbidden_hint(self) -> str: ...


class ReadyToken:
    """``XLCRM_GRAPH_TOKEN``: used as given, nothing to renew."""

    def __init__(self, value: str) -> None:
        self._value = value

    def token(self) -> str:
        return self._value

    def renew(self) -> bool:
        return False

    def unauthorised_hint(self) -> str:
        return (
            f"the token in {TOKEN} has expired or was issued for another tenant or resource: "
            f"get a new one, or unset {TOKEN} to sign in with {CLIENT_ID}"
        )

    def forbidden_hint(self) -> str:
        return (
            f"the token in {TOKEN} lacks the Mail.ReadWrite / Mail.Send permissions for this "
            "mailbox"
        )


class MsalHttp:
    """msal's "requests-like" HTTP client interface, over the mailbox's httpx client."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def post(
        self,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        **_: Any,
    ) -> httpx.Response:
        if isinstance(data, (str, bytes)):
            return self._client.post(url, params=params, content=data, headers=headers)
        return self._client.post(url, params=params, data=data, headers=headers)

    def get(self, url: str, params: Any = None, headers: Any = None, **_: Any) -> httpx.Response:
        return self._client.get(url, params=params, headers=headers)

    def close(self) -> None:  # the mailbox closes its client itself
        pass


def _msal_app(settings: GraphSettings, http: httpx.Client, factory: Any, **kwargs: Any) -> Any:
    """Build an msal application; it fetches the authority's OpenID configuration here."""
    host = httpx.URL(settings.authority).host.lower()
    try:
        return factory(
            settings.client_id,
            authority=settings.tenant_authority,
            http_client=MsalHttp(http),
            instance_discovery=host in WELL_KNOWN_AUTHORITY_HOSTS,
            **kwargs,
        )
    except httpx.HTTPError as error:
        raise MailboxError(
            settings.url,
            f"the sign-in service {settings.authority} could not be reached: {error}",
            "for a test server with a self-signed certificate use --insecure"
            if "CERTIFICATE_VERIFY_FAILED" in str(error)
            else f"check the network (and {AUTHORITY} for a national cloud)",
            temporary=_unreachable(error),
        ) from None
    except ValueError:  # msal: the tenant's OpenID configuration could not be fetched
        raise MailboxError(
            settings.url,
            f"the sign-in service {settings.authority} does not know the tenant "
            f"{settings.tenant!r}",
            "write the tenant as its domain or id (graph://li@contoso.onmicrosoft.com); for a "
            f"national cloud set {AUTHORITY}",
        ) from None


def _unreachable(error: httpx.HTTPError) -> bool:
    """A network failure (temporary), not a certificate this computer refuses (permanent)."""
    return "CERTIFICATE_VERIFY_FAILED" not in str(error)


def _failure(settings: GraphSettings, result: dict[str, Any], hint: str) -> MailboxError:
    code = result.get("error", "unknown_error")
    description = str(result.get("error_description", "")).strip().splitlines()
    detail = f" ({description[0]})" if description else ""
    return MailboxError(settings.url, f"sign-in failed: {code}{detail}", hint)


class AppToken:
    """App-only access (client credentials); needs admin-consented application permissions."""

    def __init__(self, settings: GraphSettings, http: httpx.Client, client_secret: str) -> None:
        self._settings = settings
        self._app = _msal_app(
            settings, http, msal.ConfidentialClientApplication, client_credential=client_secret
        )

    def token(self) -> str:
        try:
            result = self._app.acquire_token_for_client(scopes=self._settings.app_scopes)
        except httpx.HTTPError as error:
            raise MailboxError(
                self._settings.url,
                f"the sign-in service could not be reached: {error}",
                temporary=_unreachable(error),
            ) from None
        if "access_token" not in result:
            raise _failure(
                self._settings,
                result,
                f"check {CLIENT_ID}, the client secret ({CLIENT_SECRET} or the keyring) and "
                "the tenant in the URL",
            )
        return str(result["access_token"])

    def renew(self) -> bool:
        self._app.remove_tokens_for_client()
        return True

    def unauthorised_hint(self) -> str:
        return f"check that {CLIENT_ID} and the client secret belong to this tenant"

    def forbidden_hint(self) -> str:
        return (
            "give the app registration the Mail.ReadWrite and Mail.Send application permissions "
            "with an administrator's consent (Entra admin center > App registrations > API "
            "permissions), and check that no application access policy leaves this mailbox out"
        )


class TokenCacheFile:
    """msal's token cache, in a file only its owner can read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cache = msal.SerializableTokenCache()
        if path.exists():
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077 and os.name != "nt":
                log.warning("%s could be read by other users; made it private (0600)", path)
                path.chmod(0o600)
            try:
                self.cache.deserialize(path.read_text(encoding="utf-8"))
            except ValueError:
                log.warning("%s is not a token cache; signing in again", path)

    def save(self) -> None:
        """Write the cache when msal changed it: a new file, 0600 from the start, renamed."""
        if not self.cache.has_state_changed:
            return
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(self.cache.serialize())
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        self.cache.has_state_changed = False


class UserToken:
    """A person's delegated access: device-code sign-in once, then the cached refresh token."""

    def __init__(self, settings: GraphSettings, http: httpx.Client, cache_path: Path) -> None:
        self._settings = settings
        self._cache = TokenCacheFile(cache_path)
        self._app = _msal_app(
            settings, http, msal.PublicClientApplication, token_cache=self._cache.cache
        )
        self._force = False

    def token(self) -> str:
        try:
            return self._token()
        except httpx.HTTPError as error:
            raise MailboxError(
                self._settings.url,
                f"the sign-in service could not be reached: {error}",
                temporary=_unreachable(error),
            ) from None

    def _token(self) -> str:
        result = None
        accounts = self._app.get_accounts()
        if accounts:
            user = self._settings.user.lower()
            mine = [a for a in accounts if str(a.get("username", "")).lower() == user]
            chosen = (mine or accounts)[0]  # a delegate who signed in for a shared mailbox
            result = self._app.acquire_token_silent(
                self._settings.user_scopes, account=chosen, force_refresh=self._force
            )
        self._force = False
        if not result or "access_token" not in result:
            result = self._device_code()
        try:
            self._cache.save()
        except OSError as error:  # this run goes on; the next one asks again
            log.warning(
                "%s: the sign-in could not be kept in %s: %s",
                self._settings.url,
                self._cache.path,
                error,
            )
        return str(result["access_token"])

    def _device_code(self) -> dict[str, Any]:
        where = self._settings.url
        if not secrets.can_prompt():
            raise MailboxError(
                where,
                "signing in to Microsoft Graph needs a person at a terminal (device code), "
                "and this run has none",
                "run the same command once by hand to sign in (later runs reuse the sign-in), "
                f"or set {CLIENT_SECRET} for app-only access",
            )
        flow = self._app.initiate_device_flow(scopes=self._settings.user_scopes)
        if "user_code" not in flow:
            raise _failure(self._settings, flow, f"check {CLIENT_ID} and the tenant in the URL")
        print(f"{where}: {flow['message']}", file=sys.stderr, flush=True)
        result: dict[str, Any] = self._app.acquire_token_by_device_flow(flow)
        if "access_token" not in result:
            raise _failure(self._settings, result, "run the command again to get a new code")
        return result

    def renew(self) -> bool:
        self._force = True
        return True

    def unauthorised_hint(self) -> str:
        return f"sign in again: delete {self._cache.path} and run the command by hand"

    def forbidden_hint(self) -> str:
        return (
            "the account that signed in may not open this mailbox: a shared mailbox needs Full "
            "Access for that account, and the app registration needs the delegated Mail.ReadWrite "
            "and Mail.Send permissions"
        )


def token_source(settings: GraphSettings, http: httpx.Client) -> TokenSource:
    """The sign-in the environment asks for (see the module docstring for the order)."""
    if settings.token:
        return ReadyToken(settings.token)
    if not settings.client_id:
        raise MailboxError(
            settings.url,
            "no way to sign in to Microsoft Graph was given",
            f"set {CLIENT_ID} to the app registration's client id (and {CLIENT_SECRET} for "
            f"app-only access), or {TOKEN} to an access token",
        )
    try:
        client_secret = secrets.secret(
            settings.url, variable=CLIENT_SECRET, what="client secret", prompt=False
        )
    except MailboxError:
        client_secret = None
    if client_secret:
        return AppToken(settings, http, client_secret)
    return UserToken(settings, http, token_cache_path(settings))
