"""Exactly once with the narrowest window, on the ribbon's path (issue 16): a real
``xlcrm serve --workers 2`` sending a campaign in claimed batches is SIGKILLed mid-batch again
and again — every worker process, while the SMTP sink is receiving the batch — and the task
pane's client goes on as it does after a lost answer: it claims again.

The sink (aiosmtpd on loopback) records each message before its 250 reply, so "delivered" is
what a recipient would get. The killed worker's answer never reaches the workbook, so its rows
stay ``sending``; the next claim settles them from the claims ledger the workers share: what
the dead worker recorded as sent is sent, what it never handed over goes again, and only a
message handed over (just before the final dot) and unconfirmed is "may have been delivered".
Nothing is mocked: the workbook is an :class:`OfficeHost` that applies the answers as Excel would.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import urllib.request
from collections import Counter
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import httpx
import pytest
from addin_client import AddinClient, serve_workers
from officehost import OfficeHost
from pipeline_books import received, ribbon_campaign_book, smtp_url
from servers.smtp import SmtpServer

# Run alone by .ci/run, after the rest of the suite (see there).
pytestmark = pytest.mark.kills

TOKEN = "ribbon-kills-token"
CUSTOMERS = [f"customer{n}@example.cn" for n in range(120)]
KILLS = 8


def campaign_book(path: Path, transport: str) -> OfficeHost:
    return ribbon_campaign_book(path, transport, CUSTOMERS)


def sends_rows(host: OfficeHost) -> dict[str, dict[str, Any]]:
    """The Sends table as the client's workbook holds it, by e-mail address (header → value)."""
    table = next(t for t in host.tables if t.name.casefold() == "sends")
    sheet = host.sheets[table.sheet]
    headers = [str(sheet.get(table.r1, c)).casefold() for c in range(table.c1, table.c2 + 1)]
    rows = {}
    for r in range(table.r1 + 1, table.r2 + 1):
        row = dict(zip(headers, (sheet.get(r, c) for c in range(table.c1, table.c2 + 1))))
        if row.get("email"):
            rows[str(row["email"])] = row
    return rows


def workers_of(pid: int) -> list[int]:
    """The worker processes of the ``xlcrm serve`` process ``pid`` (its children)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text()
        found += [int(p) for p in text.split()]
    return found


def wait_healthy(base: str, pid: int, workers: int) -> None:
    """Until uvicorn has started new workers in place of the killed ones and they answer."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if len(workers_of(pid)) >= workers:
                with urllib.request.urlopen(f"{base}/api/v1/health", timeout=1) as answer:
                    if answer.status == 200:
                        return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail("xlcrm serve did not start new workers after the kill")


@pytest.mark.slow  # a real service, killed eight times
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to find workers")
def test_the_serve_workers_killed_mid_batch_mail_no_one_twice(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "XLCRM_SERVICE_TOKEN": TOKEN,
    }
    host = campaign_book(tmp_path / "crm.xlsx", smtp_url(smtp))
    first = {"step": "send", "template": "emails/welcome", "name": "killed"}
    chance = random.Random(16)
    killed = 0
    with serve_workers(2, smtp_url(smtp), tmp_path / "state", env) as (base, serve):
        client = AddinClient(base, host, token=TOKEN)
        options: dict[str, Any] = dict(first)
        for _ in range(200):
            request = host.request("campaign", options)
            plan = client.post("/api/v1/plan", request)
            body = {**request, "tables": host.read(plan.get("reads", {}))}
            killer = None
            if "claim" in options and killed < KILLS:
                before = len(smtp.messages)
                wanted = before + chance.randint(1, 20)

                def kill(wanted: int = wanted) -> None:
                    deadline = time.monotonic() + 30
                    while len(smtp.messages) < wanted and time.monotonic() < deadline:
                        time.sleep(0.0005)
                    time.sleep(chance.uniform(0, 0.005))
                    for pid in workers_of(serve.pid):
                        os.kill(pid, signal.SIGKILL)

                killer = threading.Thread(target=kill)
                killer.start()
            try:
                answer = client.post("/api/v1/run", body)
            except httpx.HTTPError:  # the worker died: the answer is lost
                answer = None
            if killer is not None:
                killer.join()
                killed += 1
                wait_healthy(base, serve.pid, 2)
                if answer is not None:  # the batch ended before the kill: its answer counts
                    killed -= 1
            if answer is None:
                options = dict(first)  # what the task pane does: claim again
                continue
            host.apply(answer.get("actions", []), answer.get("operation"))
            if answer["status"] != "more":
                break
            options = answer["next"]
        else:
            pytest.fail("the campaign did not end")

    assert killed >= KILLS - 2, f"only {killed} batches were killed mid-way"
    print(f"killed {killed} times mid-batch; {len(smtp.messages)} messages delivered")
    got = Counter(parseaddr(message["To"])[1] for message in received(smtp))
    assert max(got.values()) == 1, f"a customer got the campaign twice: {got}"
    rows = sends_rows(host)
    uncertain = {
        a for a, r in rows.items() if "may have been delivered" in str(r.get("error") or "")
    }
    assert set(got) | uncertain == set(CUSTOMERS)  # nobody lost without a word
    assert {a for a, r in rows.items() if r["status"] == "sent"} == set(got) - uncertain
    assert len(uncertain) <= killed  # at most the one message on the wire at each kill
    # The "handed over" record is one copy into the batch's mapped slot and the final dot's
    # write the next statement: only a kill in the microseconds between them leaves an
    # undelivered message uncertain (bench/bench_kills.py: about 1 kill in 250 at loopback
    # speed); two in one run would mean a wider window again.
    undelivered = sorted(a for a in uncertain if got[a] == 0)
    print(f"{len(uncertain)} left 'may have been delivered', {len(undelivered)} of them not")
    assert len(undelivered) <= 1, f"left uncertain but never delivered: {undelivered}"
