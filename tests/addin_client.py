"""The add-in's side of the protocol in Python: a real xlcrm service on loopback, and a client
that runs commands against it as ``addin/web/js/client.js`` does, on an :class:`OfficeHost`.

The requests are the client's (inventory → plan → the asked columns → run → actions, looping
while the answer says ``more``) over real HTTP to uvicorn, so the tests see what the add-in
sees: status codes, error bodies, the actions, and what they do to the workbook.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from officehost import OfficeHost

from addin.service import ServiceConfig, create_app

# The token the test services run with; a real service makes one per install.
TOKEN = "test-token-0123456789abcdef"
CLIENT_HEADERS = {"X-Xlcrm-Client": "tests"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_service(config: ServiceConfig | None = None) -> Iterator[str]:
    """uvicorn serving the app on a free loopback port, in a thread; yields the base URL.
    A config without a token runs with :data:`TOKEN`, which :class:`AddinClient` sends."""
    port = free_port()
    config = config or ServiceConfig()
    if config.token is None:
        config = dataclasses.replace(config, token=TOKEN)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the xlcrm service did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


class ServiceFailed(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.error = body.get("error", {})


@dataclass
class Exchange:
    """What one command did: the answers, the bytes sent, the tables read."""

    answers: list[dict[str, Any]] = field(default_factory=list)
    sent_bytes: int = 0
    tables_read: list[set[str]] = field(default_factory=list)

    @property
    def result(self) -> dict[str, Any]:
        return self.answers[-1].get("result", {})


class AddinClient:
    def __init__(self, base_url: str, host: OfficeHost, token: str | None = TOKEN) -> None:
        self.base_url = base_url
        self.host = host
        self.http = httpx.Client(base_url=base_url, timeout=120, headers=CLIENT_HEADERS)
        self.sent = 0
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def post(
        self, path: str, body: dict[str, Any], *, gzipped: bool | None = None
    ) -> dict[str, Any]:
        """POST as client.js does: JSON, gzip-compressed when over 64 KB."""
        data = json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if gzipped is None:
            gzipped = len(data) > 64 * 1024
        if gzipped:
            data = gzip.compress(data)
            headers["Content-Encoding"] = "gzip"
        self.sent += len(data)
        response = self.http.post(path, content=data, headers=headers)
        answer = response.json()
        if response.status_code != 200:
            raise ServiceFailed(response.status_code, answer)
        return answer  # type: ignore[no-any-return]

    def run(
        self,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        limit: int = 200,
        calls: int | None = None,
    ) -> Exchange:
        """The client's whole cycle for one command; returns the :class:`Exchange`.
        ``calls``: stop after that many answers, as a task pane closed mid-way would."""
        exchange = Exchange()
        self.sent = 0
        options = dict(options or {})
        for _ in range(limit):
            request = self.host.request(command, options)
            answer = self.post("/api/v1/plan", request)
            if answer["status"] == "read":
                tables = self.host.read(answer.get("reads", {}))
                exchange.tables_read.append(set(tables))
                answer = self.post("/api/v1/run", {**request, "tables": tables})
            else:
                exchange.tables_read.append(set())
            self.host.apply(answer.get("actions", []), answer.get("operation"))
            exchange.answers.append(answer)
            if answer["status"] != "more" or len(exchange.answers) == calls:
                break
            options = answer["next"]
        else:
            raise AssertionError(f"{command} still had more to do after {limit} calls")
        exchange.sent_bytes = self.sent
        return exchange


@contextmanager
def serve_process(
    *args: str,
    env: dict[str, str],
    wait: float = 20,
    preexec_fn: Any = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``xlcrm serve --host 127.0.0.1 --port P --no-tls ARGS`` as a real process, as a user
    starts it; yields ``(base URL, the process)`` once ``/api/v1/health`` answers, and stops it
    (SIGTERM, then SIGKILL after 20 s) afterwards. A service that exits or stays silent for
    ``wait`` seconds fails the test with what it printed."""
    port = free_port()
    xlcrm = str(Path(sys.executable).with_name("xlcrm"))
    command = [xlcrm, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-tls", *args]
    process = subprocess.Popen(
        command, env=env, preexec_fn=preexec_fn, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                pytest.fail(f"xlcrm serve exited with {process.returncode}:\n{output}")
            try:
                with urllib.request.urlopen(f"{base}/api/v1/health", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"xlcrm serve did not answer /api/v1/health within {wait:g} s")
            time.sleep(0.1)
        yield base, process
    finally:
        process.terminate()  # uvicorn stops its workers with it
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve_workers(
    workers: int, transport: str, state_dir: Path, env: dict[str, str]
) -> AbstractContextManager[tuple[str, subprocess.Popen[bytes]]]:
    """``xlcrm serve --workers N`` sending through ``transport``, with the claims ledger the
    workers share in ``state_dir``: the service the ribbon's campaigns meet (see
    :func:`serve_process`; several workers take longer to answer at first)."""
    return serve_process(
        "--workers",
        str(workers),
        "--transport",
        transport,
        "--state-dir",
        str(state_dir),
        env=env,
        wait=60,
    )
