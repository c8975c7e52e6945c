"""A private certificate authority and the service's certificate, made with ``cryptography``.

Office loads add-in pages over HTTPS only, and a self-signed server certificate would have to
be trusted again each time it is renewed. So setup makes a small certificate authority once;
the person trusts its certificate once, and setup can then issue and renew the server's
certificate as often as needed without asking them again.

Lifetimes: browsers cap *publicly* trusted server certificates at 398 days, but not those that
chain to a root the user installed. Apple's platforms, though, refuse any TLS server
certificate valid for more than 825 days, user-installed root or not, and Excel on the Mac
loads add-ins in Safari's engine. The server certificate therefore lasts 730 days (two years)
and is renewed by running setup again once fewer than 30 days remain; the authority lasts ten
years.

The authority is name-constrained to the hosts it was made for: if its key (kept only in the
xlcrm home folder, readable by its owner only) ever leaked, it could not be used to forge
certificates for anybody else's web sites.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .home import HomeFiles, write_file

CA_DAYS = 3650
SERVER_DAYS = 730  # Apple: at most 825 days for any TLS server certificate
RENEW_DAYS = 30
LOOPBACK = ("localhost", "127.0.0.1", "::1")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class CertReport:
    """What setup did about the certificates, for its summary."""

    ca_made: bool
    server_made: bool
    why: str  # why something was (re)made, empty when everything was reused
    names: tuple[str, ...]  # the names the server certificate is valid for
    expires: dt.datetime


def host_names(host: str) -> list[str | IPAddress]:
    """The names a certificate for ``host`` must carry: all three loopback names for any of
    them (Excel on Windows and the browser may use either), else the host itself."""
    host = host.strip("[]").lower()
    if host in LOOPBACK:
        return ["localhost", ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        return [host.encode("idna").decode("ascii")]


def _general_names(names: list[str | IPAddress]) -> list[x509.GeneralName]:
    return [
        x509.DNSName(n) if isinstance(n, str) else x509.IPAddress(n)  # type: ignore[misc]
        for n in names
    ]


def _subtrees(names: list[str | IPAddress]) -> list[x509.GeneralName]:
    return [
        x509.DNSName(n) if isinstance(n, str) else x509.IPAddress(ipaddress.ip_network(n))
        for n in names
    ]


def ensure_certificates(
    files: HomeFiles, host: str, *, force: bool = False, now: dt.datetime | None = None
) -> CertReport:
    """Make the authority and the server certificate for ``host`` unless usable ones exist.

    Usable means: present, readable, issued by this authority, valid for every name of
    ``host`` and for at least another 30 days. ``force`` makes both anew (people then trust
    the new authority again).
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    names = host_names(host)
    ca, why = (None, "--force was given") if force else _load_ca(files, names, now)
    ca_made = ca is None
    if ca is None:
        ca = _make_ca(files, names, now)
    server, server_why = (None, "") if ca_made else _load_server(files, ca[0], names, now)
    server_made = server is None
    if server is None:
        why = why or server_why
        server = _make_server(files, ca, names, now)
    return CertReport(
        ca_made=ca_made,
        server_made=server_made,
        why=why,
        names=tuple(str(n) for n in names),
        expires=server.not_valid_after_utc,
    )


# -- the authority ------------------------------------------------------------------------


def _load_ca(
    files: HomeFiles, names: list[str | IPAddress], now: dt.datetime
) -> tuple[tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None, str]:
    """The authority if it can still be used for ``names``, else ``None`` and why not."""
    if not files.ca_cert.exists():
        return None, "there was no certificate authority yet"
    try:
        cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
        key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    except (OSError, ValueError):
        return None, "the certificate authority or its key could not be read"
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
        return None, "the certificate authority's key does not match it"
    if cert.not_valid_after_utc - now < dt.timedelta(days=RENEW_DAYS):
        return None, "the certificate authority expires within 30 days"
    try:
        constraints = cert.extensions.get_extension_for_class(x509.NameConstraints)
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is not None and not constraints.critical:
        return None, "the certificate authority's name constraints were not critical (older xlcrm)"
    permitted = constraints.value if constraints is not None else None
    if permitted is None or not set(_subtrees(names)) <= set(permitted.permitted_subtrees or ()):
        return None, "the certificate authority was made for other host names"
    return (cert, key), ""


def _make_ca(
    files: HomeFiles, names: list[str | IPAddress], now: dt.datetime
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "xlcrm"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"xlcrm local CA {now:%Y-%m-%d %H:%M}"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        # Critical (RFC 5280 4.2.1.10 requires it): a client that does not understand name
        # constraints must refuse the authority rather than trust it for every name.
        .add_extension(
            x509.NameConstraints(permitted_subtrees=_subtrees(names), excluded_subtrees=None),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(files.ca_key, key)
    write_file(files.ca_cert, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert, key


# -- the server ---------------------------------------------------------------------------


def _load_server(
    files: HomeFiles, ca: x509.Certificate, names: list[str | IPAddress], now: dt.datetime
) -> tuple[x509.Certificate | None, str]:
    """The server certificate if it can still be used for ``names``, else ``None`` and why."""
    if not files.server_cert.exists():
        return None, "there was no server certificate yet"
    try:
        cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
        key = serialization.load_pem_private_key(files.server_key.read_bytes(), password=None)
        cert.verify_directly_issued_by(ca)
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return None, "the server certificate was unreadable or not this authority's"
    if key.public_key() != cert.public_key():
        return None, "the server certificate's key does not match it"
    if cert.not_valid_after_utc - now < dt.timedelta(days=RENEW_DAYS):
        return None, "the server certificate expires within 30 days"
    if not set(_general_names(names)) <= set(sans):
        return None, "the server certificate was not valid for " + ", ".join(map(str, names))
    return cert, ""


def _make_server(
    files: HomeFiles,
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
    names: list[str | IPAddress],
    now: dt.datetime,
) -> x509.Certificate:
    ca_cert, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(names[0]))]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(_general_names(names)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(files.server_key, key)
    write_file(files.server_cert, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


# -- files --------------------------------------------------------------------------------


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_file(path, pem, 0o600)
