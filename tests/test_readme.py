"""The README says what a new user will meet (issue 18): its quickstart is two commands, and
its demo transcript is what ``xlcrm demo`` prints — checked by running the demo on the day the
transcript was taken (``--today``: the demo is dated the day it runs, everything else about it
is fixed by its seed)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
XLCRM = str(Path(sys.executable).with_name("xlcrm"))


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def test_the_quickstart_is_two_commands_the_demo_and_the_tests() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", section("Quickstart"), flags=re.S)
    commands = [block.strip() for block in blocks]
    assert len(commands) == 2 and all("\n" not in c for c in commands), commands
    assert commands[0].startswith("python3 -m venv .venv && .venv/bin/pip install")
    assert commands[0].endswith("&& .venv/bin/xlcrm demo")
    assert commands[1] == "bash .ci/run"  # what CI runs: installs what tests need, runs them


@pytest.mark.slow  # the whole demo: seconds
def test_the_demo_transcript_is_what_the_demo_prints(tmp_path: Path) -> None:
    day = re.search(r"`xlcrm demo --today (\d{4}-\d\d-\d\d)` repeats", README)
    assert day, "the README says which day its demo transcript is from"
    start = README.index("```\n", README.index("What came out (abridged")) + 4
    transcript = README[start : README.index("```", start)].splitlines()
    done = subprocess.run(
        [XLCRM, "demo", "--today", day[1]],
        cwd=tmp_path,  # the default folder, ./xlcrm-demo, as in the quickstart
        env={**os.environ, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    printed = iter(done.stdout.splitlines())
    for line in transcript:  # abridged: every line printed, in this order
        if line and not any(line == out for out in printed):
            raise AssertionError(f"the demo no longer prints (in this order):\n{line}")
