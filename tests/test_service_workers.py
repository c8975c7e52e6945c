"""Exactly once across the workers of ``xlcrm serve --workers 4`` (issue 13).

A real ``xlcrm serve`` with four worker processes, aiosmtpd on loopback as the outgoing mail
server. One campaign batch is claimed as the task pane claims it, then the same send call is
replayed concurrently, each replay on its own connection (so the kernel hands them to different
workers). Every customer must get exactly one message, and every other replay answers
``stale`` — whichever worker it reached, because the claims ledger is on disk.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import httpx
import pytest
from addin_client import AddinClient, serve_workers
from officehost import OfficeHost
from pipeline_books import received, ribbon_campaign_book, smtp_url
from servers.smtp import SmtpServer

from addin.campaigns.batches import FileClaimLedger

REPLAYS = 8
TOKEN = "workers-test-token"  # every API call carries it, as the task pane's do
CUSTOMERS = [f"customer{n}@example.cn" for n in range(6)]


@pytest.fixture
def workers(tmp_path: Path, smtp: SmtpServer) -> Iterator[str]:
    """``xlcrm serve --workers 4 --transport <the SMTP sink>`` over plain HTTP on loopback
    (XLCRM_PASSWORD and the test CA come from the smtp fixture's environment)."""
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "XLCRM_SERVICE_TOKEN": TOKEN,
    }
    with serve_workers(4, smtp_url(smtp), tmp_path / "state", env) as (base, _):
        yield base


def campaign_book(path: Path, transport: str) -> OfficeHost:
    return ribbon_campaign_book(path, transport, CUSTOMERS)


def test_a_send_call_replayed_on_four_workers_mails_each_customer_once(
    tmp_path: Path, smtp: SmtpServer, workers: str
) -> None:
    host = campaign_book(tmp_path / "crm.xlsx", smtp_url(smtp))
    client = AddinClient(workers, host, token=TOKEN)
    options = {"step": "send", "template": "emails/welcome", "name": "replayed"}
    claim = client.run("campaign", options, calls=1)  # the batch is claimed and applied
    assert claim.answers[-1]["status"] == "more"
    request = host.request("campaign", claim.answers[-1]["next"])
    reads = client.post("/api/v1/plan", request)["reads"]
    body = {**request, "tables": host.read(reads)}

    start = threading.Barrier(REPLAYS)
    answers: list[dict] = []

    def replay() -> None:
        # A connection of its own, with the task pane's headers (the token among them).
        with httpx.Client(base_url=workers, headers=client.http.headers, timeout=120) as http:
            start.wait()
            answers.append(http.post("/api/v1/run", json=body).json())

    threads = [threading.Thread(target=replay) for _ in range(REPLAYS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)

    statuses = Counter(answer["result"]["status"] for answer in answers)
    assert statuses["stale"] == REPLAYS - 1, statuses  # the one that sent says "done"
    got = Counter(parseaddr(message["To"])[1] for message in received(smtp))
    assert got == dict.fromkeys(CUSTOMERS, 1)
    assert list((tmp_path / "state" / "claims").glob("claims-*.log"))


def _spend(folder: str, token: str, start: Any, results: Any) -> None:
    from addin.campaigns.batches import FileClaimLedger

    start.wait()
    results.put(FileClaimLedger(Path(folder)).spend(token, "Spring 2027"))


def test_of_processes_spending_one_token_at_once_exactly_one_may_send(tmp_path: Path) -> None:
    """Eight real processes, one token, released together: the file lock lets one through."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    start, results = context.Barrier(8), context.Queue()
    processes = [
        context.Process(target=_spend, args=(str(tmp_path), "tok", start, results))
        for _ in range(8)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert sorted(results.get(timeout=5) for _ in processes) == [False] * 7 + [True]
    ledger = FileClaimLedger(tmp_path)
    assert ledger.spend("tok", "spring 2027 ") is False  # the same campaign, however written
    assert ledger.spend("tok", "Autumn") is True  # another campaign's file
    assert ledger.spend("another", "Spring 2027") is True
    assert len(ledger.path("Spring 2027").read_bytes().splitlines()) == 2


def test_serve_refuses_a_mailbox_url_with_a_password_before_listening(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path)}
    command = [str(Path(sys.executable).with_name("xlcrm")), "serve", "--no-tls", "--port", "1"]
    done = subprocess.run(
        [*command, "--mailbox", "imaps://me:hunter2@imap.corp.cn"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "passwords do not belong in mailbox URLs" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout
