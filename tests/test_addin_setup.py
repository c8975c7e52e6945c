"""``xlcrm addin setup`` as a person runs it, in a temporary xlcrm home.

The certificates are checked with cryptography and by a real TLS handshake on loopback with a
client that trusts nothing but the new authority, as Excel will once the person has trusted
it. Trusting it in a system store and loading the manifest into Excel cannot run here.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from lxml import etree

from addin.cli.addin_cmd import addin
from addin.errors import XlcrmError
from addin.officeaddin import server_ssl_paths, xlcrm_home
from addin.officeaddin.certs import ensure_certificates
from addin.officeaddin.home import HomeFiles
from addin.officeaddin.instructions import CENTRAL, SERVE_LOCAL, SERVE_SHARED, SIDELOAD, TRUST

ROOT = Path(__file__).resolve().parent.parent
OFFICE = "{http://schemas.microsoft.com/office/appforoffice/1.1}"


def run(*args: str) -> Result:
    return CliRunner().invoke(addin, ["setup", *args], catch_exceptions=False)


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "xlcrm-home"


def test_setup_makes_the_certificates_and_manifest_and_says_what_next(home: Path) -> None:
    result = run("--home", str(home))
    assert result.exit_code == 0, result.output
    files = HomeFiles(home)
    for path in (files.ca_cert, files.ca_key, files.server_cert, files.server_key):
        assert str(path) in result.output
    assert stat.S_IMODE(files.ca_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.server_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.certs.stat().st_mode) == 0o700
    assert f'certutil -user -addstore Root "{files.ca_cert}"' in result.output
    assert f'-k ~/Library/Keychains/login.keychain-db "{files.ca_cert}"' in result.output
    assert "update-ca-certificates" in result.output
    assert "Documents/wef/" in result.output and "Upload My Add-in" in result.output
    assert "Trusted Add-in Catalogs" in result.output
    assert "Microsoft 365 admin center: Settings > Integrated apps" in result.output
    assert "\n   xlcrm serve --port 8443\n" in result.output
    assert "valid for localhost, 127.0.0.1, ::1" in result.output
    assert "access token" not in result.output  # localhost needs none
    assert "PRIVATE KEY" not in result.output


def test_the_server_certificate_is_the_authoritys_for_every_loopback_name(home: Path) -> None:
    run("--home", str(home))
    files = HomeFiles(home)
    ca, server = load(files.ca_cert), load(files.server_cert)
    server.verify_directly_issued_by(ca)
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(map(str, sans.get_values_for_type(x509.DNSName))) == {"localhost"}
    assert set(map(str, sans.get_values_for_type(x509.IPAddress))) == {"127.0.0.1", "::1"}
    usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    lifetime = server.not_valid_after_utc - server.not_valid_before_utc
    assert dt.timedelta(days=700) < lifetime <= dt.timedelta(days=825)  # Apple's limit
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    permitted = ca.extensions.get_extension_for_class(x509.NameConstraints).value
    assert {str(n.value) for n in permitted.permitted_subtrees} == {
        "localhost",
        "127.0.0.1/32",
        "::1/128",
    }


def test_a_second_run_keeps_everything_and_force_makes_new_certificates(home: Path) -> None:
    run("--home", str(home))
    files = HomeFiles(home)
    paths = (files.ca_cert, files.ca_key, files.server_cert, files.server_key, files.addin_id)
    before = {p: p.read_bytes() for p in paths}
    result = run("--home", str(home))
    assert result.exit_code == 0
    assert {p: p.read_bytes() for p in paths} == before
    assert "certificate authority (kept)" in result.output
    assert "server certificate (kept)" in result.output
    assert "certificates made because" not in result.output

    result = run("--home", str(home), "--force")
    assert "certificate authority (new)" in result.output
    assert "made because --force was given" in result.output
    assert files.ca_cert.read_bytes() != before[files.ca_cert]
    assert files.server_cert.read_bytes() != before[files.server_cert]
    assert files.addin_id.read_bytes() == before[files.addin_id]  # Excel updates, not adds


def test_the_manifest_is_for_the_url_and_keeps_the_add_in_id(home: Path, tmp_path: Path) -> None:
    run("--home", str(home))
    files = HomeFiles(home)
    ident = files.addin_id.read_text().strip()
    url = "https://crm.example.cn:9443/xlcrm"
    result = run("--home", str(home), "--url", url + "/", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    for manifest in (files.manifest, tmp_path / "manifest.xml"):
        root = etree.fromstring(manifest.read_bytes())
        assert root.findtext(f"{OFFICE}Id") == ident
        assert root.find(f"{OFFICE}SupportUrl").get("DefaultValue") == f"{url}/help.html"
    assert str(tmp_path / "manifest.xml") in result.output
    # Another host: a server certificate for it, and the service needs a token there.
    sans = load(files.server_cert).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert [str(n.value) for n in sans.value] == ["crm.example.cn"]
    assert "made because the certificate authority was made for other host names" in (result.output)
    assert "crm.example.cn is not this computer, so the service requires an access token" in (
        result.output
    )
    assert "xlcrm serve --host 0.0.0.0 --port 9443 --token-file FILE" in result.output


def test_plain_http_is_refused_and_nothing_is_written(home: Path) -> None:
    result = run("--home", str(home), "--url", "http://localhost:8080")
    assert result.exit_code == 2
    assert result.output == (
        "xlcrm: --url http://localhost:8080: Office loads add-ins over HTTPS only, so the "
        "service's URL must start with https://\n"
        "  hint: use https://localhost:8443 for a service on this computer\n"
    )
    assert not home.exists()


def test_a_real_tls_handshake_trusting_only_the_new_authority(home: Path) -> None:
    run("--home", str(home))
    certfile, keyfile = server_ssl_paths(home)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(certfile, keyfile)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        for _ in range(2):
            conn, _ = listener.accept()
            try:
                with server_context.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"hello " + tls.recv(100))
            except (ssl.SSLError, OSError):
                pass  # the second client rejects the certificate

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    # Given a cafile, create_default_context loads no system certificates: only this CA.
    client = ssl.create_default_context(cafile=str(HomeFiles(home).ca_cert))
    assert len(client.get_ca_certs()) == 1
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        client.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(b"xlcrm")
        assert tls.recv(100) == b"hello xlcrm"
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        pytest.raises(ssl.SSLCertVerificationError, match=r"Hostname mismatch|doesn.t match"),
    ):
        client.wrap_socket(raw, server_hostname="www.example.com")
    thread.join(5)
    listener.close()


def test_the_server_certificate_is_renewed_before_it_expires(home: Path) -> None:
    run("--home", str(home))
    files = HomeFiles(home)
    ca, server = files.ca_cert.read_bytes(), files.server_cert.read_bytes()
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=710)
    report = ensure_certificates(files, "localhost", now=later)
    assert (report.ca_made, report.server_made) == (False, True)  # no need to trust again
    assert report.why == "the server certificate expires within 30 days"
    assert files.ca_cert.read_bytes() == ca and files.server_cert.read_bytes() != server
    assert load(files.server_cert).not_valid_after_utc > later + dt.timedelta(days=700)


def test_serve_finds_the_certificate_or_says_to_run_setup(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLCRM_HOME", str(home))
    assert xlcrm_home() == home
    with pytest.raises(XlcrmError, match=re.escape(f"run 'xlcrm addin setup --home {home}'")):
        server_ssl_paths()
    run()  # the home from XLCRM_HOME
    assert server_ssl_paths() == (home / "certs" / "server.crt", home / "certs" / "server.key")


def test_a_damaged_add_in_id_is_reported(home: Path) -> None:
    home.mkdir()
    (home / "addin-id.txt").write_text("not-a-guid\n")
    result = run("--home", str(home))
    assert result.exit_code == 1
    assert "addin-id.txt: not an add-in id (a GUID): 'not-a-guid'" in result.output
    assert "delete the file to make a new id" in result.output


def test_the_install_guide_says_what_setup_prints() -> None:
    """docs/addin.md walks through the same steps: every command and menu path that setup
    prints appears there too (paths aside)."""
    guide = " ".join((ROOT / "docs" / "addin.md").read_text(encoding="utf-8").split())
    templates = [text for _, text in TRUST + SIDELOAD] + [CENTRAL, SERVE_LOCAL, SERVE_SHARED]
    for template in templates:
        for piece in re.split(r"\{\w+\}|; |, |\(|\)", template):
            piece = piece.strip(' "')
            if len(piece) > 8:
                assert piece in guide, f"docs/addin.md lacks: {piece}"


def _issue(ca_files: HomeFiles, name: str) -> x509.Certificate:
    """A server certificate for ``name`` signed with the authority's own key: what a thief
    of the key would make."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    ca = load(ca_files.ca_cert)
    ca_key = serialization.load_pem_private_key(ca_files.ca_key.read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )


def test_the_authoritys_name_constraints_are_critical_and_hold_against_its_own_key(
    home: Path,
) -> None:
    """cryptography's own path validation: the service's certificate chains to the
    authority; one for somebody else's site, signed with the same key, does not."""
    from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

    run("--home", str(home))
    files = HomeFiles(home)
    ca = load(files.ca_cert)
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical is True
    store = Store([ca])
    verifier = PolicyBuilder().store(store).build_server_verifier(x509.DNSName("localhost"))
    assert verifier.verify(load(files.server_cert), [])[-1] == ca
    forged = _issue(files, "www.icbc.com.cn")
    other = PolicyBuilder().store(store).build_server_verifier(x509.DNSName("www.icbc.com.cn"))
    with pytest.raises(VerificationError, match="name constraint"):
        other.verify(forged, [])


def test_an_authority_with_non_critical_name_constraints_is_made_anew(home: Path) -> None:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    run("--home", str(home))
    files = HomeFiles(home)
    old = load(files.ca_cert)
    key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    builder = x509.CertificateBuilder(
        issuer_name=old.subject,
        subject_name=old.subject,
        public_key=old.public_key(),
        serial_number=x509.random_serial_number(),
        not_valid_before=old.not_valid_before_utc,
        not_valid_after=old.not_valid_after_utc,
    )
    for ext in old.extensions:
        critical = False if isinstance(ext.value, x509.NameConstraints) else ext.critical
        builder = builder.add_extension(ext.value, critical=critical)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    weak = builder.sign(key, hashes.SHA256())
    files.ca_cert.write_bytes(weak.public_bytes(serialization.Encoding.PEM))

    result = run("--home", str(home))
    assert "certificate authority (new)" in result.output
    assert "name constraints were not critical" in result.output
    assert load(files.ca_cert).extensions.get_extension_for_class(x509.NameConstraints).critical


def test_setup_makes_the_local_services_token_once_readable_by_its_owner_only(
    home: Path,
) -> None:
    from addin.officeaddin.token import install_token

    run("--home", str(home))
    token_file = HomeFiles(home).service_token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = token_file.read_text().strip()
    assert len(token) >= 40
    run("--home", str(home))
    assert install_token(home) == token  # kept: the pane and scripts go on working
    token_file.chmod(0o644)
    with pytest.raises(XlcrmError) as refused:
        install_token(home)
    assert (
        refused.value.message == "the service's token can be read by other users of this computer"
    )
    assert f"chmod 600 {token_file}" in (refused.value.hint or "")
