"""The sign-in half of the Graph test server: what msal talks to (Microsoft identity platform v2).

OpenID discovery, the token endpoint (client credentials, device code, refresh token) and the
device authorization endpoint, with Entra's error shapes (``invalid_client``,
``authorization_pending``…). A "person" approves a device code with
:meth:`Login.approve`, the way they would type it at the Microsoft page.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

RESERVED_SCOPES = {"openid", "profile", "offline_access"}


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass
class DeviceCode:
    client_id: str
    scope: str
    user_code: str
    user: str | None = None  # set when a person approved it


@dataclass
class Login:
    """Sign-in state: app registrations, device codes, refresh tokens, issued access tokens."""

    root: str  # https://127.0.0.1:PORT
    tenant: str  # the tenant's domain
    tenant_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    apps: dict[str, str | None] = field(default_factory=dict)  # client id → secret (None: public)
    devices: dict[str, DeviceCode] = field(default_factory=dict)
    refresh: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # → client, user, scope
    tokens: dict[str, str] = field(default_factory=dict)  # access token → who (app id or user)
    denied: set[str] = field(default_factory=set)  # tokens Graph answers 403 for
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, who: str = "script", *, allowed: bool = True) -> str:
        token = "eyJ0eXAiOiJKV1Qi." + secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = who
            if not allowed:
                self.denied.add(token)
        return token

    def revoke_all(self) -> None:
        """Every access token expires at once (what an hour's wait does)."""
        with self.lock:
            self.tokens.clear()

    def approve(self, user_code: str, user: str) -> None:
        with self.lock:
            for device in self.devices.values():
                if device.user_code == user_code:
                    device.user = user
                    return
        raise KeyError(user_code)

    # -- endpoints

    def knows(self, tenant: str) -> bool:
        return tenant.lower() in (self.tenant.lower(), self.tenant_id, "organizations")

    def openid_configuration(self, tenant: str) -> dict[str, Any]:
        base = f"{self.root}/{tenant}/oauth2/v2.0"
        return {
            "issuer": f"{self.root}/{self.tenant_id}/v2.0",
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "device_authorization_endpoint": f"{base}/devicecode",
            "response_types_supported": ["code", "id_token", "code id_token"],
            "tenant_region_scope": "AS",
        }

    def device_code(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        client = form.get("client_id", "")
        if client not in self.apps:
            return 400, _error("unauthorized_client", f"AADSTS700016: Application {client} ...")
        user_code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9))
        device = secrets.token_urlsafe(24)
        with self.lock:
            self.devices[device] = DeviceCode(client, form.get("scope", ""), user_code)
        return 200, {
            "user_code": user_code,
            "device_code": device,
            "verification_uri": f"{self.root}/devicelogin",
            "expires_in": 900,
            "interval": 1,
            "message": f"To sign in, use a web browser to open the page {self.root}/devicelogin "
            f"and enter the code {user_code} to authenticate.",
        }

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        client, secret = form.get("client_id", ""), form.get("client_secret")
        if authorization.startswith("Basic "):
            pair = base64.b64decode(authorization[6:]).decode()
            client, _, secret = (unquote(p.replace("+", " ")) for p in pair.partition(":"))
        if client not in self.apps:
            return 400, _error("unauthorized_client", f"AADSTS700016: Application {client} ...")
        grant = form.get("grant_type", "")
        if grant == "client_credentials":
            if self.apps[client] is None or secret != self.apps[client]:
                return 401, _error("invalid_client", "AADSTS7000215: Invalid client secret.")
            scopes = form.get("scope", "").split()
            if scopes != [f"{self.root}/.default"]:
                return 400, _error("invalid_scope", f"AADSTS1002012: bad scope {scopes}")
            return 200, {
                "token_type": "Bearer",
                "expires_in": 3599,
                "access_token": self.issue(client),
            }
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            with self.lock:
                device = self.devices.get(form.get("device_code", ""))
            if device is None:
                return 400, _error("expired_token", "AADSTS70019: the code expired")
            if device.user is None:
                return 400, _error("authorization_pending", "AADSTS70016: pending")
            with self.lock:
                self.devices.pop(form["device_code"])
            return 200, self._user_tokens(client, device.user, device.scope)
        if grant == "refresh_token":
            with self.lock:
                known = self.refresh.pop(form.get("refresh_token", ""), None)
            if known is None or known[0] != client:
                return 400, _error("invalid_grant", "AADSTS700082: the refresh token expired")
            return 200, self._user_tokens(client, known[1], form.get("scope", known[2]))
        return 400, _error("unsupported_grant_type", f"AADSTS70003: {grant}")

    def _user_tokens(self, client: str, user: str, scope: str) -> dict[str, Any]:
        now = int(time.time())
        oid = str(uuid.uuid5(uuid.NAMESPACE_URL, user))
        claims = {
            "aud": client,
            "iss": f"{self.root}/{self.tenant_id}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": user.split("@")[0],
            "oid": oid,
            "preferred_username": user,
            "sub": secrets.token_urlsafe(16),
            "tid": self.tenant_id,
            "ver": "2.0",
        }
        refresh = secrets.token_urlsafe(32)
        granted = " ".join(s for s in scope.split() if s not in RESERVED_SCOPES)
        with self.lock:
            self.refresh[refresh] = (client, user, scope)
        return {
            "token_type": "Bearer",
            "scope": granted,
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": self.issue(user),
            "refresh_token": refresh,
            "id_token": f"{_b64({'typ': 'JWT', 'alg': 'none'})}.{_b64(claims)}.",
            "client_info": _b64({"uid": oid, "utid": self.tenant_id}),
        }


def _error(code: str, description: str) -> dict[str, Any]:
    return {
        "error": code,
        "error_description": f"{description}\r\nTrace ID: {uuid.uuid4()}\r\n",
        "error_codes": [int(description[6:].split(":")[0])] if description[6:7].isdigit() else [],
    }
