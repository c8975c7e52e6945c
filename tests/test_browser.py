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
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import openpyxl
import pytest
from addin_client import serve_process
from books import blank_workbook
from chromium import ARGS, launched

from addin.settings import KNOWN
from addin.workbook import open_book

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]  # headless Chromium

HERE = Path(__file__).parent
ROOT = HERE.parent
STANDIN = HERE / "browser" / "office-standin.js"
ARTIFACTS = HERE / "artifacts"
OFFICE_JS = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js"
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


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``xlcrm serve`` on a loopback port over plain HTTP; its base URL."""
    home = tmp_path_factory.mktemp("service-home")
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    with serve_process(env=env) as (base, _):
        yield base


# ---- the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched(*ARGS) as chromium:
        yield chromium


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

    def open_(
        view: str | None,
        lang: str = "en",
        display: str | None = None,
        *,
        path: str = "taskpane.html",
        locale: str = "en-US",
        office_js: bool = True,
        **seeded: Any,
    ) -> Pane:
        """``view`` None: ``path`` as it is (commands.html); ``office_js`` False: office.js
        does not load (404, as without Microsoft's CDN); ``seeded``: more of the stand-in's
        seed (``excelApi="1.8"``, ``host=None``, ``selection=…``)."""
        context = browser.new_context(
            viewport={"width": 360, "height": 1250}, device_scale_factor=2, locale=locale
        )
        page = context.new_page()
        pane = Pane(page)
        opened.append((context, pane))
        seed = {
            "displayLanguage": display or ("zh-CN" if lang == "zh" else "en-US"),
            "documentUrl": f"https://contoso.example/crm-{lang}.xlsx",
            "workbook": {**books[lang], **seeded.pop("workbook", {})},
            **seeded,
        }
        page.add_init_script(f"globalThis.__XLCRM_STANDIN__ = {json.dumps(seed)};")
        if office_js:
            page.route(
                OFFICE_JS,
                lambda route: route.fulfill(
                    status=200, content_type="text/javascript; charset=utf-8", body=standin
                ),
            )
        else:
            pane.expected_errors.append(
                "Failed to load resource: the server responded with a status of 404 (Not Found)"
            )
            page.route(OFFICE_JS, lambda route: route.fulfill(status=404, body="not found"))
        page.on(
            "console",
            lambda message: pane.errors.append(message.text) if message.type == "error" else None,
        )
        page.on("pageerror", lambda exc: pane.errors.append(f"page error: {exc}"))
        page.on("request", lambda request: pane.requests.append(request.url))
        page.goto(f"{service}/{path}" + (f"?view={view}" if view else ""))
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


# ---- every view, in both languages (issue 18) -----------------------------------------------

VIEW_NAMES = {
    "sync": ("Sync mail", "同步邮件"),
    "campaign": ("Campaign", "营销活动"),
    "contract": ("Generate contract", "生成合同"),
    "reminders": ("Reminders", "跟进提醒"),
    "rules": ("Run rules", "运行规则"),
    "import": ("Import", "导入"),
    "dedupe": ("Clean duplicates", "客户去重"),
    "report": ("Dashboard", "仪表盘"),
    "settings": ("Settings", "设置"),
}
RUN = {"en": "Run", "zh": "运行"}
HAN = re.compile(r"[\u4e00-\u9fff]")


def _name(view: str, lang: str) -> str:
    return VIEW_NAMES[view][lang == "zh"]


def _no_english_in(text: str, allowed: tuple[str, ...] = ()) -> None:
    """A Chinese pane's text: no run of English words, except names (and URLs) it quotes."""
    for allow in allowed:
        text = text.replace(allow, "")
    words = re.findall(r"[A-Za-z]{3,}(?:\s+[A-Za-z]{2,}){2,}", text)
    assert words == [], f"English in the Chinese pane: {words}"


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("view", list(VIEW_NAMES))
def test_every_view_in_both_languages(open_pane: OpenPane, view: str, lang: str) -> None:
    """Each view opens from its ribbon address with its heading and nav in the Office
    language, and switching to every other view and back works in an Office whose office.js
    has set history.replaceState to null (the stand-in does, like the real one)."""
    pane = open_pane(view, lang)
    page = pane.page
    if view == "sync":  # it starts at once; the seeded workbook has no mailbox: a 400
        pane.expected_errors.append(
            "Failed to load resource: the server responded with a status of 400 (Bad Request)"
        )
    heading = page.get_by_role("heading", name=_name(view, lang), exact=True)
    heading.wait_for(timeout=10000)
    assert page.evaluate("history.replaceState") is None  # as office.js leaves it
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh" else "en")
    nav = page.get_by_role("navigation")
    assert (
        nav.get_by_role("link", name=_name(view, lang), exact=True).get_attribute("aria-current")
        == "page"
    )
    for other in [v for v in VIEW_NAMES if v != view] + [view]:
        nav.get_by_role("link", name=_name(other, lang), exact=True).click()
        page.get_by_role("heading", name=_name(other, lang), exact=True).wait_for(timeout=5000)
        shown = page.locator(f"section.view[data-view='{other}']")
        assert shown.is_visible()
    assert page.locator("section.view:visible").count() == 1
    if lang == "zh":
        _no_english_in(
            page.locator("main").inner_text(),
            ("xlcrm", "Excel", "CSV", "Word", "PDF", "imaps://", "URL"),
        )
    assert pane.errors == [] or all(e in pane.expected_errors for e in pane.errors)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sync_without_a_mailbox_says_so_in_the_pane_language(
    open_pane: OpenPane, lang: str
) -> None:
    """The service names the problem by a code; the pane words it (no English in Chinese)."""
    pane = open_pane("sync", lang)
    pane.expected_errors.append(
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    )
    alert = pane.page.get_by_role("alert")
    alert.wait_for(timeout=15000)
    label = next(s for s in KNOWN if s.key == "mailbox").label(lang)  # type: ignore[arg-type]
    if lang == "zh":
        assert alert.locator(".what").inner_text() == "工作簿中没有指定要使用的邮箱。"
        assert f"请在“设置”表的“{label}”一行填写邮箱地址" in alert.locator(".fix").inner_text()
        _no_english_in(alert.inner_text(), ("imaps://sales@corp.cn@imap.exmail.qq.com",))
    else:
        assert (
            alert.locator(".what").inner_text() == "The workbook does not say which mailbox to use."
        )
        assert f"Settings sheet's “{label}” row" in alert.locator(".fix").inner_text()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_one_button_views_show_their_result(open_pane: OpenPane, lang: str) -> None:
    """Dashboard, Reminders and Clean duplicates run through the service into the stand-in's
    workbook, and each result line is in the pane's language (no CLI hint such as --apply)."""
    pane = open_pane("report", lang)
    page = pane.page
    expected = {
        "report": "“仪表盘”表已更新。" if lang == "zh" else "The Dashboard sheet is up to date.",
        "reminders": "“提醒”表中有 0 条提醒。"
        if lang == "zh"
        else "0 reminder(s) on the Reminders sheet.",
    }
    for view in ("report", "reminders", "dedupe"):
        page.get_by_role("navigation").get_by_role("link", name=_name(view, lang)).click()
        section = page.locator(f"section.view[data-view='{view}']")
        section.get_by_role("button", name=RUN[lang], exact=True).click()
        summary = section.locator(".summary")
        summary.wait_for(timeout=30000)
        text = summary.inner_text()
        if view in expected:
            assert text == expected[view]
        else:
            n = len(CUSTOMERS[lang])
            assert text.startswith(
                f"已比较 {n} 位客户" if lang == "zh" else f"{n} customers compared"
            )
            assert "--apply" not in text
        if lang == "zh":
            _no_english_in(text)
    names = [s["name"] for s in pane.workbook()["sheets"]]
    assert ("仪表盘" if lang == "zh" else "Dashboard") in names
    assert ("提醒" if lang == "zh" else "Reminders") in names


@pytest.mark.parametrize(
    ("locale", "title"), [("en-US", "Open xlcrm from Excel"), ("zh-CN", "请在 Excel 中打开 xlcrm")]
)
def test_outside_excel_without_office_js(open_pane: OpenPane, locale: str, title: str) -> None:
    """office.js unreachable (no host page around it): the pane says where to open it, in the
    browser's language, instead of a blank page."""
    pane = open_pane("sync", locale=locale, office_js=False)
    alert = pane.page.get_by_role("alert")
    alert.wait_for(timeout=10000)
    assert alert.locator(".notice-title").inner_text() == title
    text = alert.inner_text()
    assert ("客户管理" in text) if locale == "zh-CN" else ("CRM tab" in text)
    assert alert.get_by_role("link").get_attribute("href") == "help.html"
    assert pane.page.get_by_role("navigation").locator("a").count() == 0


@pytest.mark.parametrize(
    ("locale", "word"), [("en-US", "inside Excel"), ("zh-CN", "只能在 Excel 中使用")]
)
def test_outside_excel_in_a_browser_tab(open_pane: OpenPane, locale: str, word: str) -> None:
    """office.js loads but there is no host (a plain browser tab): the same page, not
    "Cannot read properties of undefined (reading 'run')"."""
    pane = open_pane("campaign", locale=locale, host=None)
    alert = pane.page.get_by_role("alert")
    alert.wait_for(timeout=10000)
    assert word in alert.locator(".what").inner_text()


SELECT_DEALS = """async () => {
  const { readInventory } = await import("./js/excel-read.js");
  const seen = await Excel.run((context) => readInventory(context));
  return seen.selection;
}"""


@pytest.mark.parametrize(("api", "address"), [("1.9", "A2:C2,A4:C4"), ("1.8", "A2:C2")])
def test_the_selection_in_new_and_older_excel(open_pane: OpenPane, api: str, address: str) -> None:
    """getSelectedRanges (ExcelApi 1.9) gives every block of a selection; an older Excel gets
    the single block from getSelectedRange instead of no selection at all."""
    selection = {"sheet": "Customers", "address": address}
    pane = open_pane("contract", excelApi=api, workbook={"selection": selection})
    pane.page.get_by_role("heading", name="Generate contract").wait_for()
    assert pane.page.evaluate(
        "() => Office.context.requirements.isSetSupported('ExcelApi', '1.9')"
    ) == (api == "1.9")
    assert pane.page.evaluate(SELECT_DEALS) == selection


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_one_click_refresh_dashboard(open_pane: OpenPane, service: str, lang: str) -> None:
    """The ribbon's Refresh dashboard (an ExecuteFunction of commands.html): one click runs
    the command through the service, shows the Dashboard sheet, completes the event, and the
    task pane's status line says what happened."""
    pane = open_pane(None, lang, path="commands.html")
    page = pane.page
    page.wait_for_function("() => typeof globalThis.refreshDashboard === 'function'")
    assert page.evaluate("() => __xlcrmHost.click('refreshDashboard')") is True
    sheet = "仪表盘" if lang == "zh" else "Dashboard"
    assert page.evaluate("() => __xlcrmHost.active()") == sheet
    assert sheet in [s["name"] for s in pane.workbook()["sheets"]]
    assert page.evaluate("() => __xlcrmHost.dialogs.length") == 0  # success: no dialog
    page.goto(f"{service}/taskpane.html?view=campaign")
    status = page.locator(".ribbon-status")
    status.wait_for(timeout=10000)
    expected = (
        "仪表盘：“仪表盘”表已更新。"
        if lang == "zh"
        else "Dashboard: The Dashboard sheet is up to date."
    )
    assert status.inner_text() == expected


def dialog_of_click(page: Any, command: str, *, timeout: float) -> str:
    """Click the one-click ribbon ``command`` and wait for the dialog it opens; while the
    dialog is open the command's event must not complete (Office would end the command). The
    dialog is then closed, the event completes, and its URL is returned."""
    page.wait_for_function(f"() => typeof globalThis.{command} === 'function'")
    page.evaluate(
        "(command) => { globalThis.__done = false;"
        " __xlcrmHost.click(command).then(() => (globalThis.__done = true)); }",
        command,
    )
    page.wait_for_function("() => __xlcrmHost.dialogs.length === 1", timeout=timeout)
    assert page.evaluate("() => __done") is False  # still open: the event waits for it
    url = str(page.evaluate("() => __xlcrmHost.dialogs[0].url"))
    page.evaluate("() => __xlcrmHost.closeDialog()")
    page.wait_for_function("() => __done === true")
    return url


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_one_click_sync_failure_opens_a_dialog(open_pane: OpenPane, lang: str) -> None:
    """A one-click command that fails must not go unseen: a dialog (status.html) says what
    and what to do, in the Office language; the event completes when the user closes it."""
    pane = open_pane(None, lang, path="commands.html")
    pane.expected_errors.append(
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    )
    page = pane.page
    url = dialog_of_click(page, "syncMail", timeout=15000)
    page.goto(url)
    alert = page.get_by_role("alert")
    alert.wait_for(timeout=10000)
    text = alert.inner_text()
    if lang == "zh":
        assert "同步邮件未完成：工作簿中没有指定要使用的邮箱。" in text
        _no_english_in(text, ("imaps://sales@corp.cn@imap.exmail.qq.com",))
    else:
        assert "Sync mail did not finish: The workbook does not say which mailbox to use." in text


@pytest.fixture(scope="module")
def rule_books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """pipeline_books' CRM (seller, team, products, the default rules with the hand-off on),
    with D0001 won today (its contract and hand-off rules apply) and D0002 at Proposal."""
    from pipeline_books import make_crm

    folder = tmp_path_factory.mktemp("rule-books")
    out = {}
    for lang in ("en", "zh"):
        path = make_crm(folder / f"crm-{lang}.xlsx", lang)
        with open_book(path) as book:
            book.table("deals").update("D0001", {"stage": "Won", "closed": dt.date.today()})
            book.table("deals").update("D0002", {"stage": "Proposal"})
        out[lang] = workbook_json(path)
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_one_click_run_rules_offers_the_contracts(
    open_pane: OpenPane, rule_books: dict[str, dict[str, Any]], lang: str
) -> None:
    """The ribbon's Run rules (ExecuteFunction): one click applies the rules to the workbook
    through the service, then — since it writes no sheet to show — opens a dialog with the
    result in the Office language: the counts, the notices that were not sent and how to send
    them, and the generated contract to download. The event completes when it is closed."""
    pane = open_pane(None, lang, path="commands.html", workbook=rule_books[lang])
    page = pane.page
    url = dialog_of_click(page, "runRules", timeout=30000)

    # The workbook: the deal has its contract number and file, the follow-up is set.
    deals = next(s for s in pane.workbook()["sheets"] if s["name"] in ("Deals", "商机"))
    header = deals["rows"][0]
    d1 = next(r for r in deals["rows"] if r[0] == "D0001")
    number = f"CT-{dt.date.today().year}-0001"
    assert number in d1
    file_cell = next(v for v in d1 if isinstance(v, str) and v.startswith("contracts/"))
    name = file_cell.removeprefix("contracts/")
    assert name.startswith(number) and name.endswith(".docx")
    d2 = next(r for r in deals["rows"] if r[0] == "D0002")
    follow = header.index("下次跟进" if lang == "zh" else "Next follow-up")
    due = dt.date.today() + dt.timedelta(days=3)
    assert d2[follow] == (due - EXCEL_EPOCH.date()).days

    # The dialog, as Office shows it (same origin, same storage as the function file).
    page.goto(url)
    notice = page.get_by_role("status")
    notice.wait_for(timeout=10000)
    text = notice.inner_text()
    if lang == "zh":
        assert "运行规则：已记录 5 次阶段变化，设置 1 个跟进日期，生成 1 份合同。" in text
        assert "有 1 封邮件通知待发送；在 Excel 中不会发送邮件。" in text
        _no_english_in(page.locator("main").inner_text(), (name,))
    else:
        assert (
            "Run rules: 5 stage change(s) recorded, 1 follow-up date(s) set, "
            "1 contract(s) generated." in text
        )
        assert "1 e-mail notice(s) would go; e-mail is not sent from Excel." in text
    heading = "合同" if lang == "zh" else "Contracts"
    assert page.get_by_role("heading", name=heading).is_visible()
    screenshot(page, f"ribbon-run-rules-{lang}.png")
    with page.expect_download() as download:
        page.get_by_role("link", name=name).click()
    saved = download.value
    assert saved.suggested_filename == name
    assert Path(saved.path()).read_bytes()[:2] == b"PK"  # a Word document


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_result_dialog_says_how_to_get_a_file_it_could_not_keep(
    open_pane: OpenPane, lang: str
) -> None:
    """A contract the function file could not hand over (storage full or unavailable) is
    named, with the way to get it: Generate contract on the deal keeps its number."""
    from urllib.parse import quote

    name = "CT-2026-0007 Acme CRM.docx"
    status = {"command": "rules", "lang": lang, "ok": True, "text": "…", "files": [name]}
    pane = open_pane(None, lang, path="status.html?s=" + quote(json.dumps(status)))
    page = pane.page
    page.get_by_role("status").wait_for(timeout=10000)
    missing = page.locator(".file.missing")
    assert missing.inner_text() == name
    assert page.get_by_role("link").count() == 0
    hint = page.locator(".file-list .hint").inner_text()
    if lang == "zh":
        assert hint == "此窗口无法保留该文件。请选中该商机并使用“生成合同”：合同编号保持不变。"
    else:
        assert "Select the deal and use Generate contract: it keeps the contract number." in hint


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_run_rules_view_lists_the_contracts(
    open_pane: OpenPane, rule_books: dict[str, dict[str, Any]], lang: str
) -> None:
    """The pane's Run rules view (the ribbon button's twin): Run applies the rules, the result
    line is in the pane's language and the generated contract is a download link."""
    pane = open_pane("rules", lang, workbook=rule_books[lang])
    page = pane.page
    section = page.locator("section.view[data-view='rules']")
    section.get_by_role("button", name=RUN[lang], exact=True).click()
    summary = section.locator(".summary")
    summary.wait_for(timeout=30000)
    text = summary.inner_text()
    if lang == "zh":
        assert text.startswith("已记录 5 次阶段变化，设置 1 个跟进日期，生成 1 份合同。")
        assert "在 Excel 中不会发送邮件" in text
        _no_english_in(text)
    else:
        assert text.startswith(
            "5 stage change(s) recorded, 1 follow-up date(s) set, 1 contract(s) generated."
        )
        assert "e-mail is not sent from Excel" in text
    number = f"CT-{dt.date.today().year}-0001"
    link = section.get_by_role("link", name=re.compile(re.escape(number)))
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.startswith(number)
    assert Path(download.value.path()).read_bytes()[:2] == b"PK"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_contract_without_a_selection_in_the_pane_language(open_pane: OpenPane, lang: str) -> None:
    """Generate contract with no deal selected: what to select, worded by the pane."""
    pane = open_pane("contract", lang)
    pane.expected_errors.append(
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    )
    page = pane.page
    page.get_by_role("button", name="生成合同" if lang == "zh" else "Generate contracts").click()
    alert = page.get_by_role("alert")
    alert.wait_for(timeout=15000)
    sheet = "商机" if lang == "zh" else "Deals"
    if lang == "zh":
        assert alert.locator(".what").inner_text() == "请先选中一个或多个商机。"
        assert f"在“{sheet}”表中点击一行" in alert.locator(".fix").inner_text()
        _no_english_in(alert.inner_text())
    else:
        assert alert.locator(".what").inner_text() == "Select one or more deals first."
        assert f"“{sheet}” sheet" in alert.locator(".fix").inner_text()
