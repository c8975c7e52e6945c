"""Sign-in for the EWS test server: NTLM, Basic and OAuth bearer tokens, and a TLS certificate.

NTLM is what on-premises Exchange (IIS) asks for by default. It authenticates a *connection*:
the client sends a Negotiate message, the server answers 401 with a Challenge, the client's
Authenticate message proves the password, and later requests on the same connection carry no
credentials at all. The server side here is pyspnego's NTLM acceptor (the library requests_ntlm
uses on the client side), which reads the accounts from the file named by ``NTLM_USER_FILE``:
:meth:`Authenticator.activate` writes that file and sets the variable for the server's lifetime.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hmac
import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import spnego
import spnego.exceptions
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NTLM_NEGOTIATE = 1


@dataclass
class ConnectionAuth:
    """What one TCP connection has proven so far (NTLM signs in connections, not requests)."""

    ntlm: Any = None  # the pyspnego acceptor between Negotiate and Authenticate
    user: str | None = None


@dataclass(frozen=True)
class Verdict:
    user: str | None  # the login that was proven, or None: answer 401
    challenge: tuple[str, ...] = ()  # WWW-Authenticate values for the 401


@dataclass
class Authenticator:
    """Checks each request's Authorization header against the accounts the server knows."""

    users: dict[str, str]  # login (DOMAIN\\user or UPN) → password
    methods: tuple[str, ...] = ("ntlm", "basic")
    token: str | None = None  # the one OAuth access token accepted, if any
    realm: str = "127.0.0.1"
    _saved_env: str | None = field(default=None, repr=False)

    def activate(self, directory: Path) -> None:
        """Write the NTLM account file and point ``NTLM_USER_FILE`` at it."""
        lines = []
        for login, password in self.users.items():
            domain, _, user = login.rpartition("\\")
            lines.append(f"{domain}:{user}:{password}")
        path = directory / "ntlm_users"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self._saved_env = os.environ.get("NTLM_USER_FILE")
        os.environ["NTLM_USER_FILE"] = str(path)

    def deactivate(self) -> None:
        if self._saved_env is None:
            os.environ.pop("NTLM_USER_FILE", None)
        else:
            os.environ["NTLM_USER_FILE"] = self._saved_env

    def offer(self) -> tuple[str, ...]:
        offered = []
        if "ntlm" in self.methods:
            offered.append("NTLM")
        if "basic" in self.methods:
            offered.append(f'Basic realm="{self.realm}"')
        if self.token:
            offered.append("Bearer")
        return tuple(offered)

    def check(self, connection: ConnectionAuth, header: str | None) -> Verdict:
        if not header:
            if connection.user:  # an NTLM-authenticated connection
                return Verdict(connection.user)
            return Verdict(None, self.offer())
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "ntlm" and "ntlm" in self.methods:
            return self._ntlm(connection, value.strip())
        if scheme == "basic" and "basic" in self.methods:
            return Verdict(self._basic(value.strip()), self.offer())
        if scheme == "bearer" and self.token:
            ok = hmac.compare_digest(value.strip().encode(), self.token.encode())
            return Verdict("oauth" if ok else None, self.offer())
        return Verdict(None, self.offer())

    def _basic(self, value: str) -> str | None:
        try:
            login, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        for known, secret in self.users.items():
            if known.lower() == login.lower() and hmac.compare_digest(secret, password):
                return known
        return None

    def _ntlm(self, connection: ConnectionAuth, value: str) -> Verdict:
        try:
            token = base64.b64decode(value, validate=True)
        except binascii.Error:
            return Verdict(None, self.offer())
        message_type = int.from_bytes(token[8:12], "little") if len(token) >= 12 else 0
        if message_type == NTLM_NEGOTIATE:
            connection.user = None
            connection.ntlm = spnego.server(protocol="ntlm")
            challenge = connection.ntlm.step(token)
            return Verdict(None, (f"NTLM {base64.b64encode(challenge).decode()}",))
        acceptor, connection.ntlm = connection.ntlm, None
        if acceptor is None:
            return Verdict(None, self.offer())
        try:
            acceptor.step(token)
        except spnego.exceptions.SpnegoError:  # a wrong password, or an unknown account
            return Verdict(None, self.offer())
        connection.user = acceptor.client_principal
        return Verdict(connection.user)


def self_signed_certificate(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A fresh certificate and key for ``host``, as PEM files (what ``--insecure`` is for)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "ews.crt", directory / "ews.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file
