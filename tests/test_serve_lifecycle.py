"""``xlcrm serve`` starts, refuses and stops as a person expects (issue 18).

A real ``xlcrm serve`` subprocess on a free loopback port, with the certificate
``xlcrm addin setup`` makes. A client holds a keep-alive TLS connection, as Excel does between
calls, and never answers the server's TLS ``close_notify``: SIGTERM must still stop the
service within 10 s (it used to wait forever). A busy port and a missing or broken
certificate give one line on stderr — no banner first, no uvicorn traceback.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from addin_client import TOKEN as CLIENT_TOKEN
from addin_client import AddinClient, ServiceFailed, free_port
from officehost import OfficeHost
from test_service import customers_book

XLCRM = str(Path(sys.executable).with_name("xlcrm"))
TOKEN = "lifecycle-test-token"
HEALTH = (
    b"GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n"
    b"Authorization: Bearer " + TOKEN.encode() + b"\r\n\r\n"
)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An xlcrm home folder with the certificate and key ``xlcrm addin setup`` makes."""
    folder = tmp_path_factory.mktemp("xlcrm-home")
    done = subprocess.run(
        [XLCRM, "addin", "setup", "--home", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return folder


def environment(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "XLCRM_HOME": str(home),
        "HOME": str(home),
        "XLCRM_SERVICE_TOKEN": TOKEN,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }


def start(home: Path, *args: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    command = [XLCRM, "serve", "--port", str(port), "--state-dir", str(home / "state"), *args]
    process = subprocess.Popen(
        command, env=environment(home), stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    return process, port


def tls_connection(port: int) -> ssl.SSLSocket:
    """A TLS connection to the service, opened once it listens (the test trusts any
    certificate: what is tested is the connection's lifetime, not the certificate)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + 60
    while True:
        try:
            raw = socket.create_connection(("127.0.0.1", port), timeout=5)
            return context.wrap_socket(raw, server_hostname="localhost")
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def stopper() -> Iterator[list[subprocess.Popen[str]]]:
    """Kill (by its id) any service a failed test left running."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_stops_the_service_within_10_s_while_a_client_holds_a_connection(
    home: Path, stopper: list[subprocess.Popen[str]], workers: str
) -> None:
    process, port = start(home, "--workers", workers)
    stopper.append(process)
    held = tls_connection(port)  # a call answered, then the connection kept, as Excel does
    held.sendall(HEALTH)
    answer = held.recv(4096)
    assert answer.startswith(b"HTTP/1.1 200 OK"), answer
    idle = tls_connection(port)  # and one opened but not used yet
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("xlcrm serve still ran 10 s after SIGTERM")
    took = time.monotonic() - started
    held.close()
    idle.close()
    stderr = process.stderr.read() if process.stderr else ""
    # uvicorn re-raises the signal it stopped for (one worker); the supervisor exits 0.
    assert process.returncode == (-signal.SIGTERM if workers == "1" else 0), stderr
    assert took < 10
    assert stderr.splitlines() == [f"xlcrm service on https://127.0.0.1:{port}/ (Ctrl+C stops it)"]


@pytest.mark.slow  # waits out the 5 s grace
def test_a_call_still_running_after_the_grace_gets_a_try_again_answer(
    tmp_path: Path, stopper: list[subprocess.Popen[str]]
) -> None:
    """Sync mail against an IMAP server that accepts and then says nothing (the mail client
    would wait 20 s for its greeting): SIGTERM stops the service within 10 s all the same, and
    the task pane gets an answer it can show — try again — not a dropped connection."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        mailbox = f"imap://sales@127.0.0.1:{silent.getsockname()[1]}"
        book = customers_book(tmp_path / "crm.xlsx", mailbox=mailbox)
        port = free_port()
        env = {**environment(tmp_path), "XLCRM_SERVICE_TOKEN": CLIENT_TOKEN}
        env["XLCRM_PASSWORD"] = "not-a-real-password"
        process = subprocess.Popen(
            [XLCRM, "serve", "--no-tls", "--port", str(port), "--mailbox", mailbox],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        stopper.append(process)
        client = AddinClient(f"http://127.0.0.1:{port}", OfficeHost.from_xlsx(book))
        answers: list[BaseException | object] = []
        worker = threading.Thread(target=lambda: answers.append(_attempt(client)))
        _wait_until_listening(port)
        worker.start()
        waiting, _ = silent.accept()  # the service now waits for the server's greeting
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail("xlcrm serve still ran 10 s after SIGTERM")
        assert time.monotonic() - started < 10
        worker.join(timeout=10)
        waiting.close()
    [failed] = answers
    assert isinstance(failed, ServiceFailed), failed
    assert failed.status == 503
    assert failed.error == {
        "kind": "retry",
        "message": "the xlcrm service stopped while working on this",
        "hint": "try again",
    }


def _attempt(client: AddinClient) -> BaseException | object:
    try:
        return client.run("sync")
    except Exception as exc:  # what the task pane would show
        return exc


def _wait_until_listening(port: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_busy_port_is_one_line_and_exit_code_1(home: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [XLCRM, "serve", "--port", str(port), "--state-dir", str(home / "state")],
            env=environment(home),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"xlcrm: 127.0.0.1:{port}: the port is already in use (another 'xlcrm serve'?); "
        "stop that program or choose another --port\n"
    )


def test_a_missing_certificate_says_to_run_addin_setup(tmp_path: Path) -> None:
    done = subprocess.run(
        [XLCRM, "serve", "--port", str(free_port()), "--state-dir", str(tmp_path / "state")],
        env=environment(tmp_path / "new-home"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    cert = tmp_path / "new-home" / "certs" / "server.crt"
    assert done.stderr == (
        f"xlcrm: {cert}: the service's certificate is missing; run 'xlcrm addin setup' first\n"
    )


def serve_with(cert: Path, key: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """``xlcrm serve --cert CERT --key KEY`` to its end (it should refuse to start)."""
    return subprocess.run(
        [XLCRM, "serve", "--port", str(free_port()), "--cert", str(cert), "--key", str(key)],
        env=environment(home),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_certificate_that_is_not_one_is_one_line(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "server.crt"
    bad.write_text("not a certificate\n", encoding="utf-8")
    key = home / "certs" / "server.key"
    done = serve_with(bad, key, home)
    assert done.returncode == 1
    assert done.stderr == (
        f"xlcrm: {bad}: this is not a PEM certificate with its private key in {key}; "
        "give the files 'xlcrm addin setup' made, or leave out --cert and --key\n"
    )


def test_an_unreadable_key_is_one_line(home: Path, tmp_path: Path) -> None:
    key = tmp_path / "missing.key"
    cert = home / "certs" / "server.crt"
    done = serve_with(cert, key, home)
    assert done.returncode == 1
    assert done.stderr == (
        f"xlcrm: {key}: the service's private key is missing; "
        "give the files 'xlcrm addin setup' made, or leave out --cert and --key\n"
    )
