"""The task pane in a real browser against a real ``xlcrm serve``.

Debian's Chromium, driven by Playwright, opens ``taskpane.html`` from the service on loopback,
and the pane runs its commands through ``client.js`` and the service's API exactly as in Excel.
Only Excel itself is replaced: Excel cannot run here, so Microsoft's office.js is routed to
``tests/browser/office-standin.js``, a stand-in Office host whose ``Excel.run`` works on an
in-memory workbook seeded from a real CRM workbook (made by ``create_workbook``, filled through
the Table API, read back with openpyxl). Every test also checks that the page logged no error
and asked no host but 127.0.0.1 for anything.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import openpyxl
import pytest
from books import blank_workbook
from conftest import missing

from addin.settings import KNOWN
from addin.workbook import open_book

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]  # headless Chromium

HERE = Path(__file__).parent
ROOT = HERE.parent
STANDIN = HERE / "browser" / "office-standin.js"
ARTIFACTS = HERE / "artifacts"
CHROMIUM = "/usr/bin/chromium"
OFFICE_JS = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
EXCEL_EPOCH = dt.datetime(1899, 12, 30)

COMPANY = {"en": "Xinghe Software", "zh": "星河软件"}
SENDER = {
    "en": "Xinghe Software <sales@xinghe.example>",
    "zh": "星河软件 <sales@xinghe.example.cn>",
}
# Customers in both languages; the campaign segment is region East / 华东, where one customer
# has unsubscribed and one has no address, so the pane must show what the service skipped.
CUSTOMERS: dict[str, list[dict[str, Any]]] = {
    "en": [
        {
            "id": "C0001",
            "name": "Alice Chen",
            "company": "Acme Trading Ltd",
            "region": "East",
            "email": "alice.chen@acme.example",
            "owner": "Li Na",
        },
        {
            "id": "C0002",
            "name": "王伟",
            "company": "上海启明科技有限公司",
            "region": "East",
            "email": "wang.wei@qiming.example.cn",
            "owner": "Li Na",
        },
        {
            "id": "C0003",
            "name": "Bob Smith",
            "company": "Smith & Sons",
            "region": "East",
            "email": "bob@smith.example",
            "unsubscribed": True,
        },
        {"id": "C0004", "name": "Carol Wu", "company": "Wu Logistics", "region": "East"},
        {
            "id": "C0005",
            "name": "Dan Park",
            "company": "Park Foods",
            "region": "West",
            "email": "dan@park.example",
        },
    ],
    "zh": [
        {
            "id": "C0001",
            "name": "王伟",
            "company": "上海启明科技有限公司",
            "region": "华东",
            "email": "wang.wei@qiming.example.cn",
            "owner": "李娜",
        },
        {
            "id": "C0002",
            "name": "刘芳",
            "company": "杭州云帆网络有限公司",
            "region": "华东",
            "email": "liu.fang@yunfan.example.cn",
            "owner": "李娜",
        },
        {
            "id": "C0003",
            "name": "Emma Li",
            "company": "Lotus Design",
            "region": "华南",
            "email": "emma@lotus.example",
        },
    ],
}
SEGMENT = {"en": 'region == "East"', "zh": '地区 == "华东"'}


def _mailable(customer: dict[str, Any], region: str) -> bool:
    return (
        customer.get("region") == region
        and bool(customer.get("email"))
        and not customer.get("unsubscribed")
    )


# ---- the workbook the stand-in holds --------------------------------------------------------


def _excel_value(value: Any) -> Any:
    """A cell as Range.values gives it: dates as serial numbers, empty cells as ""."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return round((value - EXCEL_EPOCH).total_seconds() / 86400, 9)
    if isinstance(value, dt.date):
        return (value - EXCEL_EPOCH.date()).days
    return value


def workbook_json(path: Path) -> dict[str, Any]:
    """Sheets (values row by row, visibility) and Excel Tables of a real .xlsx, as the
    stand-in takes them."""
    wb = openpyxl.load_workbook(path)
    visibility = {"visible": "Visible", "hidden": "Hidden", "veryHidden": "VeryHidden"}
    sheets, tables = [], []
    for ws in wb.worksheets:
        rows = [[_excel_value(v) for v in row] for row in ws.iter_rows(values_only=True)]
        sheets.append({"name": ws.title, "visibility": visibility[ws.sheet_state], "rows": rows})
        tables += [
            {"name": t.displayName, "sheet": ws.title, "address": t.ref} for t in ws.tables.values()
        ]
    return {"sheets": sheets, "tables": tables}


def make_book(folder: Path, lang: str) -> Path:
    """A CRM workbook in ``lang`` with the seller's name and the customers above."""
    path = blank_workbook(folder / f"crm-{lang}.xlsx", lang)
    with open_book(path) as book:
        settings = book.table("settings")
        for key, value in (("company_name", COMPANY[lang]), ("sender", SENDER[lang])):
            label = next(s.label(lang) for s in KNOWN if s.key == key)  # type: ignore[arg-type]
            settings.update(label, {"value": value})
        book.table("customers").insert_all(CUSTOMERS[lang])
    return path


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("books")
    return {lang: workbook_json(make_book(folder, lang)) for lang in ("en", "zh")}


# ---- the service ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``xlcrm serve`` on a loopback port over plain HTTP; its base URL."""
    port = _free_port()
    home = tmp_path_factory.mktemp("service-home")
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    command = [
        str(Path(sys.executable).with_name("xlcrm")),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-tls",
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(f"xlcrm serve exited with {process.returncode}:\n{output}")
            try:
                with urllib.request.urlopen(f"{base}/api/v1/health", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("xlcrm serve did not answer /api/v1/health within 20 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---- the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        missing(f"{CHROMIUM} is not installed: apt-get install chromium (or run .ci/run)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Pane:
    """A task pane page and what it did: console errors and the URLs it asked for."""

    page: Any
    errors: list[str] = field(default_factory=list)
    # Console errors a test provokes on purpose: Chromium logs every HTTP error answer.
    expected_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def workbook(self) -> dict[str, Any]:
        return self.page.evaluate("() => globalThis.__xlcrmHost.dump()")


OpenPane = Callable[..., Pane]


@pytest.fixture
def open_pane(browser: Any, service: str, books: dict[str, dict[str, Any]]) -> Iterator[OpenPane]:
    """``open_pane(view, lang)``: a fresh page (its own storage) on taskpane.html?view=…, Office
    in ``lang`` holding the workbook in that language. On teardown, every page must have logged
    no error and asked no host but the service for anything."""
    opened: list[tuple[Any, Pane]] = []
    standin = STANDIN.read_text(encoding="utf-8")

    def open_(view: str, lang: str = "en", display: str | None = None) -> Pane:
        context = browser.new_context(
            viewport={"width": 360, "height": 1250}, device_scale_factor=2, locale="en-US"
        )
        page = context.new_page()
        pane = Pane(page)
        opened.append((context, pane))
        seed = {
            "displayLanguage": display or ("zh-CN" if lang == "zh" else "en-US"),
            "documentUrl": f"https://contoso.example/crm-{lang}.xlsx",
            "workbook": books[lang],
        }
        page.add_init_script(f"globalThis.__XLCRM_STANDIN__ = {json.dumps(seed)};")
        page.route(
            OFFICE_JS,
            lambda route: route.fulfill(
                status=200, content_type="text/javascript; charset=utf-8", body=standin
            ),
        )
        page.on(
            "console",
            lambda message: pane.errors.append(message.text) if message.type == "error" else None,
        )
        page.on("pageerror", lambda exc: pane.errors.append(f"page error: {exc}"))
        page.on("request", lambda request: pane.requests.append(request.url))
        page.goto(f"{service}/taskpane.html?view={view}")
        return pane

    yield open_
    try:
        for _, pane in opened:
            unexpected = [e for e in pane.errors if e not in pane.expected_errors]
            assert unexpected == [], f"the page logged errors: {unexpected}"
            elsewhere = [
                url
                for url in pane.requests
                if url != OFFICE_JS
                and urlsplit(url).scheme not in ("data", "blob", "about")
                and urlsplit(url).hostname != "127.0.0.1"
            ]
            assert elsewhere == [], f"the page asked other hosts: {elsewhere}"
    finally:
        for context, _ in opened:
            context.close()


def screenshot(page: Any, name: str) -> None:
    """The pane as a user sees it, into tests/artifacts/. Not full_page: Chromium leaves the
    sandboxed sample frame blank in full-page captures, so the viewport is tall instead (from
    the form to the top of the sample)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / name))


# ---- the tests ------------------------------------------------------------------------------


def test_campaign_preview(open_pane: OpenPane) -> None:
    """Template, name and segment in; the pane shows how many customers would get the
    message, what was skipped, and a rendered sample in a sandboxed frame."""
    pane = open_pane("campaign")
    page = pane.page
    expected = [c for c in CUSTOMERS["en"] if _mailable(c, "East")]

    page.locator("#campaign-template option[value='emails/welcome']").wait_for(state="attached")
    page.select_option("#campaign-template", "emails/welcome")
    page.fill("#campaign-name", "welcome-east")
    page.fill("#campaign-where", SEGMENT["en"])
    page.get_by_role("button", name="Preview", exact=True).click()

    samples = page.locator(".sample-card")
    samples.wait_for(timeout=15000)
    assert page.locator(".stat-send .stat-n").inner_text() == str(len(expected))
    skipped = sum(1 for c in CUSTOMERS["en"] if c["region"] == "East" and not _mailable(c, "East"))
    assert page.locator(".stat-skip .stat-n").inner_text() == str(skipped)

    to = page.locator(".sample-to").inner_text()
    shown = next(c for c in expected if c["email"] in to)
    subject = page.locator(".sample-subject").inner_text()
    assert subject == f"Welcome to {COMPANY['en']}, {shown['company']}"
    frame = page.frame_locator("iframe.sample-frame")
    assert shown["name"] in frame.locator("body").inner_text()
    # The e-mail is a separate, script-less document: never part of the pane's own DOM.
    assert page.locator("iframe.sample-frame").get_attribute("sandbox") == ""
    assert page.locator("table").count() == 0  # the e-mail's layout tables stay in the frame
    screenshot(page, "taskpane-campaign.png")

    # Send asks first, naming the number of recipients; nothing is sent here.
    page.get_by_role("button", name="Send…").click()
    dialog = page.get_by_role("alertdialog")
    assert f"to {len(expected)} customers" in dialog.inner_text()
    dialog.get_by_role("button", name="Cancel").click()
    assert page.get_by_role("alertdialog").count() == 0


def test_chinese_pane(open_pane: OpenPane) -> None:
    """Chinese Office: every label is Chinese, and a Chinese workbook's preview shows the
    Chinese customer's name in the sample."""
    pane = open_pane("campaign", "zh")
    page = pane.page
    expected = [c for c in CUSTOMERS["zh"] if _mailable(c, "华东")]
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_role("heading", name="营销活动").is_visible()
    assert page.get_by_role("link", name="营销活动").get_attribute("aria-current") == "page"
    for label in ("邮件模板", "活动名称", "客户范围"):
        assert page.get_by_label(label, exact=True).is_visible(), label

    page.locator("#campaign-template option[value='emails/welcome']").wait_for(state="attached")
    page.select_option("#campaign-template", "emails/welcome")
    page.fill("#campaign-name", "欢迎-华东")
    page.fill("#campaign-where", SEGMENT["zh"])
    page.get_by_role("button", name="预览", exact=True).click()
    page.locator(".sample-card").wait_for(timeout=15000)
    assert page.locator(".stat-send .stat-n").inner_text() == str(len(expected))
    assert page.locator(".stat-send .stat-label").inner_text() == "将发送"
    to = page.locator(".sample-to").inner_text()
    shown = next(c for c in expected if c["email"] in to)
    assert shown["name"] in page.frame_locator("iframe.sample-frame").locator("body").inner_text()
    screenshot(page, "taskpane-campaign-zh.png")


def test_input_error_is_shown(open_pane: OpenPane) -> None:
    """A where-expression the service cannot read comes back as an input error, shown with
    where it is and what is wrong; nothing to retry."""
    pane = open_pane("campaign")
    pane.expected_errors.append(
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    )
    page = pane.page
    page.locator("#campaign-template option[value='emails/welcome']").wait_for(state="attached")
    page.fill("#campaign-name", "broken")
    page.fill("#campaign-where", 'stauts == "Active"')
    page.get_by_role("button", name="Preview", exact=True).click()
    alert = page.get_by_role("alert")
    alert.wait_for(timeout=15000)
    text = alert.inner_text()
    assert "stauts" in alert.locator(".what").inner_text()
    assert alert.locator(".where").count() == 1
    assert "Please check this" in text
    assert alert.get_by_role("button", name="Try again").count() == 0
    assert page.locator(".sample-card").count() == 0
    assert page.get_by_role("button", name="Send…").is_disabled()
