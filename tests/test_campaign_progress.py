"""A long campaign shows what it is doing, with counts (issue 18: a preview of 30,000
customers showed "Sending 0%" for 140 s while it checked every message).

The bar is drawn on a terminal only, so the command runs in a real pseudo-terminal here and
the test reads what a person would see on it.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import test_campaign_send as campaign

from addin.campaigns import run_campaign
from addin.workbook import open_book

template = campaign.template  # the fixture those tests use


def test_the_preflight_reports_its_progress_with_counts(tmp_path: Path, template: Path) -> None:
    book = campaign.make_book(tmp_path / "crm.xlsx", customers=60)
    seen: list[tuple[int, int]] = []
    options = campaign.options(template, checking=lambda done, total: seen.append((done, total)))
    with open_book(book) as wb:
        report = run_campaign(wb, options)
    assert report.ready == 60
    assert seen[0] == (0, 60) and seen[-1] == (60, 60)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert len(seen) >= 3  # more than a start and an end: it moves while it checks


def test_a_preview_on_a_terminal_says_it_is_checking_and_how_far(
    tmp_path: Path, template: Path
) -> None:
    book = campaign.make_book(tmp_path / "crm.xlsx", customers=60)
    command = [sys.executable, "-m", "addin", "campaign", str(book), "--template", str(template)]
    primary, secondary = pty.openpty()
    try:
        process = subprocess.run(
            [*command, "--name", "spring-2027"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=secondary,
            timeout=120,
            env={**os.environ, "COLUMNS": "100"},
        )
        os.close(secondary)
        shown = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(primary)
    assert process.returncode == 0, shown.decode(errors="replace")
    screen = shown.decode(errors="replace")
    assert "Checking messages" in screen
    assert re.search(r"60/60", screen), screen
    assert "Sending" not in screen  # a preview sends nothing
