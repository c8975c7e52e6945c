"""Debian's Chromium, headless, driven by Playwright: the browser the task pane's tests run in.

No browser is ever downloaded (Playwright's own builds need the internet): ``.ci/run`` installs
the ``chromium`` package and the tests launch that binary. ``ARGS`` keep it quiet and offline;
a test adds its own (``launched(*ARGS, "--host-resolver-rules=…")``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conftest import missing

CHROMIUM = "/usr/bin/chromium"
ARGS = (
    "--no-sandbox",
    "--headless",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
)


@contextlib.contextmanager
def launched(*args: str) -> Iterator[Any]:
    """A running Chromium (a Playwright ``Browser``) started with ``args``; closed after."""
    if not Path(CHROMIUM).is_file():
        missing(f"{CHROMIUM} is not installed: apt-get install chromium (or run .ci/run)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=list(args))
        try:
            yield chromium
        finally:
            chromium.close()
