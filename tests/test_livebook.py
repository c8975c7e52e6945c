"""The live backend (``LiveBook``) and the RunPython entry points (``addin.desktop``).

Desktop Excel cannot run here, so xlwings' object model is replaced by the stand-in in
``tests/xlwings_standin.py``, seeded from real workbooks made by ``create_workbook`` and
counting every call that would cross to Excel. These tests check our logic against that model —
what lands in which cells, that text stays text, that writes are a handful of rectangles — not
Excel itself (see the livebook module docstring). ``xlwings.Book.caller`` is patched to return
the stand-in book, because outside a RunPython call it can only raise.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import xlwings
from books import blank_workbook
from maildirs import Mail, mail
from xlwings_standin import XL_VERY_HIDDEN, LiveBackend, seed_book

from addin import desktop
from addin.errors import WorkbookLockedError, XlcrmError
from addin.mailsync import SyncOptions, sync_mailbox
from addin.workbook import FileBook, open_book
from addin.workbook.livebook import LiveBook, open_book_or_live, open_live
from addin.workbook.report import Block, Chart, PageSetup, ReportSheet

ME = "sales@ourco.cn"


@pytest.fixture
def backend() -> LiveBackend:
    return LiveBackend()


@pytest.fixture(params=["en", "zh"])
def path(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return blank_workbook(tmp_path / "crm.xlsx", request.param)


@pytest.fixture
def crm(tmp_path: Path, backend: LiveBackend) -> Path:
    """A workbook with customers and deals, open in the (stand-in) Excel."""
    path = blank_workbook(tmp_path / "crm.xlsx")
    with backend.open(path) as book:
        book.table("customers").insert_all(
            [
                {"name": "Li Wei", "company": "ACME 上海", "email": "li.wei@acme.cn"},
                {"name": "Alice Smith", "company": "Brightline", "email": "alice@brightline.com"},
            ]
        )
        book.table("deals").insert_all(
            [{"customer_id": "C0001", "title": "500 pumps", "stage": "Proposal"}]
        )
    return path


def interactions(backend: LiveBackend, path: Path) -> list[dict[str, Any]]:
    return list(backend.open(path).table("interactions").rows())


# -- the Table API over the live workbook ---------------------------------------------------------


def test_rows_land_in_the_sheet_as_typed_values_and_text_stays_text(
    path: Path, backend: LiveBackend
) -> None:
    with backend.open(path) as book:
        book.table("customers").insert_all(
            [
                {
                    "name": "张伟",
                    "phone": "+86 138 0013 8000",
                    "tags": "00123",
                    "notes": '=HYPERLINK("http://evil.example","x")',
                    "created": "2026-01-05",
                    "unsubscribed": False,
                }
            ]
        )
    sheet = backend.book(path).sheet(backend.open(path).table("customers").layout.sheet)
    row = sheet.rows()[1]
    assert row[0] == "C0001"
    assert "+86 138 0013 8000" in row
    assert "00123" in row  # not the number 123
    assert '=HYPERLINK("http://evil.example","x")' in row
    assert dt.datetime(2026, 1, 5) in row  # a date cell, as xlwings reads it back
    assert sheet.formulas == {}
    (again,) = backend.open(path).table("customers").rows()
    assert again["created"] == dt.date(2026, 1, 5)
    assert again["unsubscribed"] is False
    assert again["tags"] == "00123"


def _names(backend: LiveBackend, path: Path) -> list[str]:
    return [s.name for s in backend.book(path).sheets]


def test_appended_rows_extend_the_excel_table_with_its_formats(
    tmp_path: Path, backend: LiveBackend
) -> None:
    path = blank_workbook(tmp_path / "crm.xlsx")
    with backend.open(path) as book:
        book.table("deals").insert_all(
            [{"customer_id": f"C{n:04}", "title": f"Deal {n}", "amount": n} for n in range(1, 6)]
        )
    sheet = backend.book(path).sheet("Deals")
    (table,) = list(sheet.tables)
    assert table.address == "A1:P6"
    amount = 1 + sheet.rows()[0].index("Amount")
    assert {sheet.formats.get((r, amount)) for r in range(3, 7)} == {sheet.formats[(2, amount)]}
    assert [r["title"] for r in backend.open(path).table("deals").rows()] == [
        f"Deal {n}" for n in range(1, 6)
    ]


def test_ten_thousand_new_rows_are_a_handful_of_writes_and_one_read_per_table(
    tmp_path: Path, backend: LiveBackend
) -> None:
    path = blank_workbook(tmp_path / "crm.xlsx")
    rows = [{"name": f"Customer {n}", "email": f"c{n}@example.cn"} for n in range(10_000)]
    with backend.open(path) as book:
        book.table("customers").insert_all(rows)
    calls = backend.book(path).app.calls
    assert calls["resize"] == 1
    assert calls["write"] <= 3  # id+name and email are two rectangles
    calls.clear()
    book = backend.open(path)
    assert len(book.table("customers")) == 10_000
    # One read per Excel Table header (the inventory), one of the state sheet (the
    # workbook's language) and one of the customers' data body.
    tables = sum(1 for _ in backend.book(path).tables())
    assert calls["read"] == tables + 2


def test_scattered_updates_are_one_span_per_column_unless_it_holds_formulas(
    tmp_path: Path, backend: LiveBackend
) -> None:
    path = blank_workbook(tmp_path / "crm.xlsx")
    with backend.open(path) as book:
        book.table("customers").insert_all([{"name": f"N{n}"} for n in range(1000)])
    xl = backend.book(path)
    xl.sheet("Customers").cells[(501, 17)] = "=1+1"  # a formula someone put in Notes
    xl.app.calls.clear()
    with backend.open(path) as book:
        table = book.table("customers")
        for n in range(0, 1000, 2):  # every other customer: 500 runs in Tier and in Notes
            table.update(f"C{n + 1:04}", {"tier": "A", "notes": f"note {n}"})
    calls = xl.app.calls
    assert calls["read_formula"] == 2  # one look at each column's span
    assert calls["write"] == 1 + 500  # Tier: one span; Notes: its formula is kept, runs only
    sheet = xl.sheet("Customers")
    assert sheet.cells[(501, 17)] == "=1+1"
    rows = list(backend.open(path).table("customers").rows())
    assert [r["tier"] for r in rows[:4]] == ["A", None, "A", None]
    assert [r["name"] for r in rows[:3]] == ["N0", "N1", "N2"]


def test_state_goes_to_a_very_hidden_sheet_written_last(
    tmp_path: Path, backend: LiveBackend
) -> None:
    path = blank_workbook(tmp_path / "crm.xlsx")
    xl = backend.open(path).xl
    xl.sheets["_xlcrm"].delete()  # an older workbook without the state sheet
    with backend.open(path) as book:
        book.table("products").insert({"sku": "P-1", "name": "Pump"})
        book.state["sync:maildir:/x:INBOX"] = "0" * 70_000  # longer than one cell takes
    state = backend.book(path).sheet("_xlcrm")
    assert state.api.Visible == XL_VERY_HIDDEN
    assert _names(backend, path)[-1] == "_xlcrm"
    assert backend.open(path).state["sync:maildir:/x:INBOX"] == "0" * 70_000


def test_a_new_table_and_a_new_column_are_made_in_excel(
    tmp_path: Path, backend: LiveBackend
) -> None:
    path = blank_workbook(tmp_path / "crm.xlsx")
    book = backend.open(path)
    sheet = book.xl.sheets["Customers"]
    (table,) = list(sheet.tables)
    last = table.ref[3]
    sheet.cells.pop((1, last))  # a workbook from before "Merged into" existed
    table.ref = (*table.ref[:3], last - 1)
    with backend.open(path) as book:
        book.table("customers").add_column("merged_into")
        book.table("customers").insert({"name": "Ann", "merged_into": "C0009"})
        book.add_table("duplicates")
    xl = backend.book(path)
    assert table.headers()[-1] == "Merged into"
    assert backend.open(path).table("customers").get("C0001")["merged_into"] == "C0009"
    dup = xl.sheet("Duplicates")
    (made,) = list(dup.tables)
    assert made.name == "Duplicates" and made.style == "TableStyleMedium2"
    assert list(backend.open(path).table("duplicates").rows()) == []


def test_a_cell_in_the_way_of_a_new_column_stops_the_save_before_any_write(
    tmp_path: Path, backend: LiveBackend
) -> None:
    path = blank_workbook(tmp_path / "crm.xlsx")
    book = backend.open(path)
    sheet = book.xl.sheets["Customers"]
    (table,) = list(sheet.tables)
    last = table.ref[3]
    sheet.cells.pop((1, last))
    table.ref = (*table.ref[:3], last - 1)
    sheet.cells[(2, last)] = "my note"
    book = backend.open(path)
    book.table("customers").add_column("language")  # the column just taken off the table
    book.table("products").insert({"sku": "P-1"})
    book.xl.app.calls.clear()
    with pytest.raises(XlcrmError, match=r"Customers!U2: this cell is in the way"):
        book.save()
    assert book.xl.app.calls["write"] == 0


def test_report_sheets_are_replaced_in_place_with_tables_and_charts(
    tmp_path: Path, backend: LiveBackend
) -> None:
    path = blank_workbook(tmp_path / "crm.xlsx")

    def report(value: float) -> ReportSheet:
        block = Block(3, 1, [["Stage", "Amount"], ["Won", value], ["Lost", 2.0]], table="ByStage")
        return ReportSheet(
            "Dashboard",
            blocks=[block],
            charts=[Chart("column", "By stage", block, (1,), anchor="E2", y_title="CNY")],
            heading="=Sales",
        )

    for value in (1.0, 5.0):
        with backend.open(path) as book:
            book.put_sheet(report(value))
    sheet = backend.book(path).sheet("Dashboard")
    assert _names(backend, path).count("Dashboard") == 1
    assert sheet.value("A1") == "=Sales" and sheet.formulas == {}
    assert [sheet.value(c) for c in ("A3", "B3", "B4")] == ["Stage", "Amount", 5.0]
    (table,) = list(sheet.tables)
    assert (table.name, table.address) == ("ByStage", "A3:B5")
    (chart,) = list(sheet.charts)
    assert (chart.chart_type, chart.source, chart.x_values) == (
        "column_clustered",
        "$B$3:$B$5",
        "$A$4:$A$5",
    )
    assert (chart.title, chart.value_axis.title, chart.anchor) == ("By stage", "CNY", "$E$2")


def test_a_new_report_sheet_is_laid_out_and_set_up_for_printing(
    tmp_path: Path, backend: LiveBackend
) -> None:
    """Alignment and print setup go through COM's names (``api``), which the stand-in records:
    what Excel for Windows is told. macOS (appscript) is not modelled."""
    path = blank_workbook(tmp_path / "crm.xlsx")
    kpis = Block(3, 1, [["Open pipeline", "Deals won 12 months", "Rule"], [1200.0, 5, "top"]])
    kpis.header = True
    report = ReportSheet(
        "Dashboard",
        blocks=[kpis],
        heights={3: 30},
        page=PageSetup(print_area="A1:H40", breaks=[20]),
        first=True,
    )
    with backend.open(path) as book:
        book.put_sheet(report)
    assert _names(backend, path)[0] == "Dashboard"
    sheet = backend.book(path).sheet("Dashboard")
    right = {"HorizontalAlignment": -4152}
    assert sheet.looks[(3, 1)] == {"wrap": True, **right}
    assert sheet.looks[(4, 1)] == right and sheet.looks[(4, 2)] == right
    assert sheet.looks[(4, 3)] == {"HorizontalAlignment": -4131, "IndentLevel": 1}
    assert sheet.heights == {3: 30}
    assert sheet.page_setup.print_area == "A1:H40"
    setup = sheet.api.PageSetup
    assert (setup.Orientation, setup.Zoom, setup.FitToPagesWide, setup.FitToPagesTall) == (
        2,
        False,
        1,
        False,
    )
    assert (setup.LeftMargin, setup.TopMargin) == (28.8, 36.0)
    assert sheet.api.HPageBreaks.rows == [20]


# -- sync through the live workbook ---------------------------------------------------------------


def test_sync_records_mail_in_the_open_workbook(
    crm: Path, backend: LiveBackend, tmp_path: Path
) -> None:
    box = Mail(tmp_path / "Maildir", ME)
    box.receive(mail("li.wei@acme.cn", ME, "Pumps: price?", ident="m1@acme.cn"))
    box.send(mail(ME, "alice@brightline.com", "Re: pilot", ident="m2@ourco.cn"))
    with backend.open(crm) as book:  # the caller saves
        report = sync_mailbox(book, box.open(), SyncOptions())
    assert report.new == 2
    rows = interactions(backend, crm)
    assert {(r["customer_id"], r["direction"], r["subject"]) for r in rows} == {
        ("C0001", "in", "Pumps: price?"),
        ("C0002", "out", "Re: pilot"),
    }
    with backend.open(crm) as book:
        assert sync_mailbox(book, box.open(), SyncOptions()).new == 0
    assert len(interactions(backend, crm)) == 2


def test_a_formula_looking_subject_from_mail_stays_text(
    crm: Path, backend: LiveBackend, tmp_path: Path
) -> None:
    box = Mail(tmp_path / "Maildir", ME)
    subject = '=HYPERLINK("http://evil.example","x")'
    box.receive(mail("alice@brightline.com", ME, subject, "=1+1 @SUM(A1)", ident="f@b.com"))
    with backend.open(crm) as book:
        sync_mailbox(book, box.open(), SyncOptions())
    (row,) = interactions(backend, crm)
    assert row["subject"] == subject
    assert all(sheet.formulas == {} for sheet in backend.book(crm).sheets)


# -- attaching ------------------------------------------------------------------------------------


def test_open_book_or_live_attaches_to_excel_only_when_it_holds_the_file(
    tmp_path: Path,
) -> None:
    path = blank_workbook(tmp_path / "crm.xlsx")
    standin = seed_book(path)
    assert isinstance(open_book_or_live(path, apps=[standin.app]), FileBook)
    (tmp_path / "~$crm.xlsx").write_bytes(b"")  # Excel's owner file: the workbook is open
    live = open_book_or_live(path, apps=[standin.app])
    assert isinstance(live, LiveBook) and live.xl is standin
    with pytest.raises(WorkbookLockedError, match="open"):
        open_book_or_live(path, apps=[])
    assert open_live(tmp_path / "other.xlsx", apps=[standin.app]) is None


# -- RunPython entry points -----------------------------------------------------------------------


@pytest.fixture
def caller(monkeypatch: pytest.MonkeyPatch, backend: LiveBackend, crm: Path) -> Any:
    """``xlwings.Book.caller()`` returning the stand-in book of ``crm``."""
    xl = backend.book(crm)
    monkeypatch.setattr(xlwings.Book, "caller", classmethod(lambda cls: xl))
    return xl


def _set(backend: LiveBackend, path: Path, key: str, value: str) -> None:
    with backend.open(path) as book:
        book.table("settings").upsert_all([{"key": key, "value": value}], pk="key")


def test_sync_mail_button_shows_the_summary(
    caller: Any, backend: LiveBackend, crm: Path, tmp_path: Path
) -> None:
    box = Mail(tmp_path / "Maildir", ME)
    box.receive(mail("li.wei@acme.cn", ME, "报价单", ident="m1@acme.cn"))
    _set(backend, crm, "mailbox", box.url)
    desktop.sync_mail()
    (alert,) = caller.app.alerts
    assert alert["title"] == "xlcrm: Sync mail" and alert["mode"] == "info"
    assert "1 new message" in alert["prompt"]
    assert [r["subject"] for r in interactions(backend, crm)] == ["报价单"]
    assert caller.app.status_history == ["xlcrm: Sync mail…", False]


def test_a_button_shows_problems_as_messages_never_a_traceback(
    caller: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    desktop.sync_mail()  # no mailbox in Settings
    alert = caller.app.alerts[-1]
    assert alert["mode"] == "critical"
    assert "Mailbox (邮箱) is empty" in alert["prompt"] and "hint:" in alert["prompt"]

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(desktop.sys, "platform", "linux")

    def broken(book: LiveBook) -> str:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(desktop, "_refresh_dashboard", broken)
    desktop.refresh_dashboard()
    alert = caller.app.alerts[-1]
    assert alert["mode"] == "critical"
    assert alert["prompt"].startswith("Refresh dashboard stopped: unexpected ZeroDivisionError")
    assert "Traceback" not in alert["prompt"]
    logged = (tmp_path / "cache" / "xlcrm" / "desktop.log").read_text("utf-8")
    assert "Traceback" in logged and "ZeroDivisionError: boom" in logged


def test_refresh_dashboard_button_writes_the_dashboard(
    caller: Any, backend: LiveBackend, crm: Path
) -> None:
    desktop.refresh_dashboard()
    alert = caller.app.alerts[-1]
    assert alert["mode"] == "info", alert["prompt"]
    sheet = caller.sheet("Dashboard")
    assert sheet.value("A1") and list(sheet.charts)
    assert all(s.formulas == {} for s in caller.sheets)


def test_generate_contract_takes_the_selected_deal_rows(
    caller: Any, backend: LiveBackend, crm: Path
) -> None:
    deals = caller.sheet("Deals")
    caller.selection = deals.range("C1:D1")  # the header only
    desktop.generate_contract()
    assert "holds no Deals row" in caller.app.alerts[-1]["prompt"]
    caller.selection = caller.sheet("Customers").range("B2")
    desktop.generate_contract()
    assert "select the rows of the Deals sheet" in caller.app.alerts[-1]["prompt"]
    caller.selection = deals.range("B2:C2")
    assert desktop.selected_ids(LiveBook(caller), "deals") == ["D0001"]


def test_find_duplicates_button_lists_pairs(caller: Any, backend: LiveBackend, crm: Path) -> None:
    with backend.open(crm) as book:
        book.table("customers").insert({"name": "Li  Wei", "email": "LI.WEI@acme.cn"})
    desktop.find_duplicates()
    alert = caller.app.alerts[-1]
    assert alert["mode"] == "info", alert["prompt"]
    pairs = list(backend.open(crm).table("duplicates").rows())
    assert len(pairs) == 1


def test_the_file_backend_still_reads_what_the_standin_was_seeded_from(path: Path) -> None:
    """The stand-in is seeded from the same file the file backend reads: same tables."""
    standin = LiveBook(seed_book(path))
    with open_book(path) as book:
        for name in ("customers", "deals", "settings", "stages"):
            assert standin.table(name).columns == book.table(name).columns
            assert list(standin.table(name).rows()) == list(book.table(name).rows())
