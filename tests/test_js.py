"""The task pane's JavaScript client (addin/web/js): its vitest tests and its type check
(tsc over the ``// @ts-check`` modules), run under Node.

The JS tests live in tests/js and use office-addin-mock in place of Excel, which cannot run
here; this test runs them so that ``pytest`` covers the whole add-in, and fails with vitest's
own report when one of them fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import missing

pytestmark = pytest.mark.slow  # Node: vitest and tsc (`npm test` in tests/js runs them alone)

JS = Path(__file__).parent / "js"
VITEST = JS / "node_modules" / "vitest" / "vitest.mjs"


def _failures(report: dict) -> list[str]:
    out = []
    for file in report.get("testResults", []):
        if file.get("status") == "failed" and not file.get("assertionResults"):
            out.append(f"{file.get('name')}: {file.get('message', '').strip()}")
        for test in file.get("assertionResults", []):
            if test.get("status") != "passed":
                messages = "\n".join(test.get("failureMessages") or [])
                out.append(f"{test.get('fullName')} [{test.get('status')}]\n{messages}")
    return out


def test_js_client(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        missing(
            "node is not installed (Node 20 or later): install it, then run `npm ci` in tests/js"
        )
    if not VITEST.is_file():
        missing("the JS test packages are not installed: run `npm ci` in tests/js (.ci/run does)")
    report_file = tmp_path / "vitest.json"
    done = subprocess.run(
        [node, str(VITEST), "run", "--reporter=json", f"--outputFile={report_file}"],
        cwd=JS,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_COLOR": "1", "CI": "1"},
    )
    output = f"{done.stdout}\n{done.stderr}"
    assert report_file.is_file(), f"vitest wrote no report (exit {done.returncode}):\n{output}"
    report = json.loads(report_file.read_text(encoding="utf-8"))
    failures = _failures(report)
    assert not failures and done.returncode == 0, (
        f"{len(failures)} JS test(s) failed (exit {done.returncode}):\n\n"
        + "\n\n".join(failures)
        + f"\n\nvitest output:\n{output}"
    )
    assert report["numTotalTests"] > 0, f"vitest ran no tests:\n{output}"
    assert report["numPassedTests"] == report["numTotalTests"], output


def test_js_types(tmp_path: Path) -> None:
    """The modules marked ``// @ts-check`` type-check (tsc --noEmit, from their JSDoc)."""
    node = shutil.which("node")
    tsc = JS / "node_modules" / "typescript" / "bin" / "tsc"
    if node is None or not tsc.is_file():
        missing("node or the JS test packages are missing: run `npm ci` in tests/js (.ci/run does)")
    config = JS / "tsconfig.json"
    done = subprocess.run(
        [node, str(tsc), "--noEmit", "--pretty", "false", "-p", str(config)],
        cwd=JS,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"tsc found type errors:\n{done.stdout}\n{done.stderr}"
