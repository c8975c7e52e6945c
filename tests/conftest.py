"""Shared test helpers: the real LibreOffice that re-opens what xlcrm wrote, the loopback
mail servers more than one test module uses (Dovecot with its test certificate, our EWS
server, our Graph server with its environment, aiosmtpd for outgoing mail), and the
``crm_book`` builder (workbooks made once per session and copied, see tests/books.py).

Tests that take long (LibreOffice, Chromium, killing processes, big benchmarks) carry the
``slow`` marker: ``pytest -m "not slow"`` is the fast lane (README, "Run the tests").

``.ci/run`` runs the suite on two pytest-xdist workers (``-n auto --dist worksteal``), so a
session fixture is made once per worker process, not once per run: nothing may count on being
alone (servers take free loopback ports, files go to ``tmp_path`` or ``tmp_path_factory``,
LibreOffice gets a private profile)."""

from __future__ import annotations

import csv
import importlib.util
import itertools
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from books import crm_workbook
from servers.dovecot import DOVECOT, Dovecot
from servers.ews import EwsServer
from servers.graph import GraphServer
from servers.graph_tls import TlsFiles, make_tls
from servers.smtp import SmtpServer
from servers.tcp_cut import Certificate, make_certificate

INSTALL_HINT = (
    "install LibreOffice Calc (Debian/Ubuntu: 'apt-get install libreoffice-calc-nogui', "
    "macOS: 'brew install --cask libreoffice'), or run .ci/run, which installs it"
)
_SOFFICE_PLACES = (
    "/usr/bin/soffice",
    "/usr/lib/libreoffice/program/soffice",
    "/opt/libreoffice/program/soffice",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
)
# Comma, double quotes, UTF-8 (76), from line 1; every sheet to its own file (last token, -1).
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def _find_soffice() -> str | None:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    places = [*_SOFFICE_PLACES, *map(str, Path("/opt").glob("libreoffice*/program/soffice"))]
    return next((p for p in places if Path(p).is_file()), None)


# Tests that open LibreOffice (a few seconds per file) or share test_demo's ``cli_demo`` (the
# whole ``xlcrm demo`` three times) are marked ``slow`` by this hook; the others by hand
# (Chromium, Node's vitest and tsc, killed processes, big inputs).
_SLOW_FIXTURES = frozenset({"soffice", "libreoffice_convert", "libreoffice_csv", "cli_demo"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        uses = set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("libreoffice") or uses & _SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto`` (what ``.ci/run`` passes): one worker per core, at most two. CI has two
    cores; more workers than that only wait for each other, and every worker starts its own
    servers, LibreOffice profile and browser (session fixtures are per worker process)."""
    cores = (
        os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    )
    return max(1, min(2, len(cores)))


def missing(message: str) -> None:
    """Something a test needs is not installed: a failure on CI (``.ci/run`` installs
    everything, so a skip there would hide a gap), a skip on a developer's machine."""
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{message} (CI is set: these tests must run, not skip)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def soffice() -> str:
    """Path of the soffice binary."""
    found = _find_soffice()
    if found is None:
        missing(
            f"LibreOffice's soffice was not found (PATH, usual install folders): {INSTALL_HINT}"
        )
    return found  # type: ignore[return-value]


@pytest.fixture(scope="session")
def extract_msg() -> None:
    """Outlook .msg reading needs extract-msg (GPL-3.0, so only an optional extra of xlcrm);
    the test extra installs it."""
    if importlib.util.find_spec("extract_msg") is None:
        missing("extract-msg is not installed: pip install -e '.[test]'")


Convert = Callable[[Path, str, Path], Path]


@pytest.fixture(scope="session")
def libreoffice_convert(soffice: str, tmp_path_factory: pytest.TempPathFactory) -> Convert:
    """``convert(book, target, outdir)``: open ``book`` in LibreOffice and save it as
    ``target`` (``"csv:…"``, ``"xls"``, ``"xlsm:Calc MS Excel 2007 VBA XML"``) into ``outdir``.

    One private profile for the session, so runs neither touch nor wait for a user's
    LibreOffice. Returns ``outdir``; fails with LibreOffice's output when nothing was written.
    """
    root = tmp_path_factory.mktemp("libreoffice")
    profile = (root / "profile").as_uri()

    def convert(book: Path, target: str, outdir: Path) -> Path:
        done = subprocess.run(
            [
                soffice,
                "--headless",
                "--norestore",
                f"-env:UserInstallation={profile}",
                "--convert-to",
                target,
                "--outdir",
                str(outdir),
                str(book),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            env={**os.environ, "HOME": str(root)},
        )
        assert outdir.is_dir() and any(outdir.iterdir()), (
            f"LibreOffice could not convert {book.name}:\n{done.stdout}\n{done.stderr}"
        )
        return outdir

    return convert


@pytest.fixture(scope="session")
def libreoffice_csv(
    libreoffice_convert: Convert, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[Path], dict[str, list[list[str]]]]:
    """Open a workbook in LibreOffice and return every sheet as CSV rows, by sheet name.

    What LibreOffice shows is what a user sees: values formatted as shown, UTF-8 text.
    """
    root = tmp_path_factory.mktemp("libreoffice-csv")
    runs = itertools.count()

    def convert(book: Path) -> dict[str, list[list[str]]]:
        out = libreoffice_convert(book, CSV_FILTER, root / f"out{next(runs)}")
        sheets = {}
        for file in sorted(out.glob("*.csv")):
            name = file.stem.removeprefix(f"{book.stem}-")
            with file.open(encoding="utf-8", newline="") as f:
                sheets[name] = list(csv.reader(f))
        return sheets

    return convert


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A test CA and a server certificate for 127.0.0.1 / localhost."""
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def dovecot(certificate: Certificate) -> Iterator[Dovecot]:
    """Debian's Dovecot on loopback ports, its own configuration in a temp folder."""
    if not Path(DOVECOT).is_file():
        missing(
            f"dovecot is not installed ({DOVECOT}): install dovecot-imapd "
            "('apt-get install dovecot-imapd') or run .ci/run, which installs it"
        )
    server = Dovecot(certificate)
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def ews(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EwsServer]:
    """Our EWS server on loopback, its password in XLCRM_PASSWORD, no other EWS settings."""
    for variable in ("XLCRM_EWS_AUTH", "XLCRM_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("XLCRM_PASSWORD", EwsServer.password)
    with EwsServer(tmp_path) as running:
        yield running


@pytest.fixture(scope="session")
def graph_tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A test CA and certificate for the Graph server."""
    return make_tls(tmp_path_factory.mktemp("graph-tls"))


@pytest.fixture
def graph_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, graph_tls: TlsFiles
) -> pytest.MonkeyPatch:
    """A clean environment: no Graph settings, no proxies, our CA trusted, a private config
    directory and no system keyring."""
    for name in list(os.environ):
        if name.startswith("XLCRM_") or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SSL_CERT_FILE", str(graph_tls.ca))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    return monkeypatch


@pytest.fixture
def graph(graph_env: pytest.MonkeyPatch, graph_tls: TlsFiles) -> Iterator[GraphServer]:
    """Our Graph server with a mailbox and a valid ``XLCRM_GRAPH_TOKEN``."""
    with GraphServer(graph_tls) as server:
        server.make_mailbox()
        graph_env.setenv("XLCRM_GRAPH_URL", server.graph_url)
        graph_env.setenv("XLCRM_GRAPH_AUTHORITY", server.root)
        graph_env.setenv("XLCRM_GRAPH_TOKEN", server.login.issue())
        yield server


# ---- workbooks -------------------------------------------------------------------------------

CrmBook = Callable[..., Path]


@pytest.fixture
def crm_book(tmp_path: Path) -> CrmBook:
    """``crm_book(name="crm.xlsx", lang="en", settings=None, **rows)``: a CRM workbook in the
    test's ``tmp_path`` (or at ``name`` when it is an absolute path), made by xlcrm's own code
    (``create_workbook``, ``write_settings``, ``insert_all`` per table) once per session for
    each content and copied per test (tests/books.py says why)."""

    def build(
        name: str | Path = "crm.xlsx",
        lang: str = "en",
        settings: dict[str, str] | None = None,
        **rows: list[dict[str, object]],
    ) -> Path:
        return crm_workbook(tmp_path / name, lang, settings, **rows)

    return build


# ---- outgoing mail ---------------------------------------------------------------------------


@pytest.fixture
def smtp_login() -> tuple[str, str]:
    """The user and password the ``smtp`` server accepts; a module overrides this fixture
    when its messages come from another mailbox."""
    return "crm@xinghe.example", "通知密码-2026"


@pytest.fixture
def smtp(
    certificate: Certificate, monkeypatch: pytest.MonkeyPatch, smtp_login: tuple[str, str]
) -> Iterator[SmtpServer]:
    """aiosmtpd on loopback: STARTTLS, then a login (``smtp_login``); our test CA trusted
    (``SSL_CERT_FILE``) and the password in ``XLCRM_PASSWORD``, as a user would set them."""
    user, password = smtp_login
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.ca))
    monkeypatch.setenv("XLCRM_PASSWORD", password)
    with SmtpServer(certificate, mode="starttls", users={user: password}) as server:
        yield server


# ---- what a mail-merge campaign sends -----------------------------------------

# A 1×1 PNG and a one-page PDF: real files, small enough to read in a failing test's output.
PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
Campaign = Callable[..., bytes]


@pytest.fixture(scope="session")
def campaign_message() -> Campaign:
    """``campaign_message(message_id, sender, to)``: the message a campaign sends, as the
    bytes a transport gets: multipart/mixed holding multipart/alternative (text, and HTML
    that shows an inline logo: multipart/related) and a PDF quote with a Chinese file name;
    a Chinese subject and body; one-click unsubscribe headers (RFC 8058); CRLF line ends."""
    import base64
    import email.policy
    from email.message import EmailMessage

    png = base64.b64decode(PNG_BASE64)

    def make(
        message_id: str,
        sender: str = "销售部 <sales@corp.example>",
        to: str = "张三 <zhang.san@customer.example>",
        subject: str = "【春季促销】张三，您的专属报价已备好",
    ) -> bytes:
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = "Mon, 02 Mar 2026 09:00:00 +0800"
        msg["Message-ID"] = message_id
        msg["List-Unsubscribe"] = (
            "<mailto:unsubscribe@corp.example?subject=unsubscribe%20C0001>, "
            "<https://crm.corp.example/unsubscribe/C0001/9f8e7d6c5b4a39281706>"
        )
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg.set_content("张三您好：\n\n春季促销已开始，附件是您的专属报价单。\n\n销售部\n")
        msg.add_alternative(
            "<html><body><p>张三您好：</p><p>春季促销已开始，附件是您的专属报价单。</p>"
            '<img src="cid:logo@corp.example" alt="公司标志"></body></html>\n',
            subtype="html",
        )
        msg.get_payload()[1].add_related(png, "image", "png", cid="<logo@corp.example>")
        msg.add_attachment(PDF, "application", "pdf", filename="报价单-C0001.pdf")
        return msg.as_bytes(policy=email.policy.SMTP)

    return make
