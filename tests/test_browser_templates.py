"""The task pane's campaign preview of a plain-text template, in a real browser (issue 16).

The same set-up as ``test_browser.py`` (Debian's Chromium driven by Playwright, a real
``xlcrm serve`` on loopback, office.js replaced by the stand-in Office host because Excel
cannot run here), but the service is started with a company template folder
(``--templates``) that holds a plain-text template, as a company would deploy it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import test_browser
from addin_client import serve_process
from test_browser import CUSTOMERS, SEGMENT, OpenPane, _mailable

# test_browser's fixtures, here by name (``service`` below replaces its own)
browser = test_browser.browser
books = test_browser.books
open_pane = test_browser.open_pane

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]  # headless Chromium

NOTE = """---
subject: "{{ customer.company }}: a short note"
---
{{ customer | salutation }},

A short note from {{ company.name | end_sentence }}
<b>Plain text</b> is shown as text, never as markup.
"""


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``xlcrm serve --templates DIR`` on a loopback port over plain HTTP; its base URL."""
    own = tmp_path_factory.mktemp("company-templates")
    (own / "emails" / "note").mkdir(parents=True)
    (own / "emails" / "note" / "en.txt").write_text(NOTE, encoding="utf-8")
    home = tmp_path_factory.mktemp("service-home")
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    with serve_process("--templates", str(own), env=env) as (base, _):
        yield base


def test_a_plain_text_sample_is_shown_as_its_text(open_pane: OpenPane) -> None:
    pane = open_pane("campaign")
    page = pane.page
    expected = [c for c in CUSTOMERS["en"] if _mailable(c, "East")]

    page.locator("#campaign-template option[value='emails/note']").wait_for(state="attached")
    page.select_option("#campaign-template", "emails/note")
    page.fill("#campaign-name", "note-east")
    page.fill("#campaign-where", SEGMENT["en"])
    page.get_by_role("button", name="Preview", exact=True).click()

    page.locator(".sample-card").wait_for(timeout=15000)
    assert page.locator(".stat-send .stat-n").inner_text() == str(len(expected))
    to = page.locator(".sample-to").inner_text()
    shown = next(c for c in expected if c["email"] in to)
    assert page.locator(".sample-subject").inner_text() == f"{shown['company']}: a short note"
    frame = page.frame_locator("iframe.sample-frame")
    text = frame.locator("pre").inner_text()
    assert text.startswith(f"Dear {shown['name']},\n\nA short note from ")
    assert "<b>Plain text</b> is shown as text" in text  # escaped: not markup
    assert frame.locator("b").count() == 0
    assert "Unsubscribe: " in text  # the unsubscribe line a plain-text message carries
    assert page.locator("iframe.sample-frame").get_attribute("sandbox") == ""
