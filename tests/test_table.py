"""The Table API contract on real workbook files (made by ``xlcrm init`` and by hand).

Tests taking ``backend`` run on every backend (``tests/backends.py``): the file on disk, the
workbook as the Office.js add-in holds it (changed through the actions a save produces), and the
workbook open in desktop Excel through xlwings (a stand-in for Excel: ``tests/xlwings_standin.py``).
The others check what only a file has (its bytes, openpyxl's view of it)."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest
from backends import FileBackend, RemoteBackend
from books import blank_workbook
from xlwings_standin import LiveBackend

from addin.errors import (
    DuplicateKeyError,
    NotFoundError,
    TableNotFoundError,
    ValueProblem,
)
from addin.workbook import UpsertCounts, open_book

Backend = FileBackend | RemoteBackend | LiveBackend


@pytest.fixture(params=["en", "zh"])
def book_path(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return blank_workbook(tmp_path / "crm.xlsx", request.param)


@pytest.fixture(params=[FileBackend, RemoteBackend, LiveBackend], ids=["file", "remote", "live"])
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param()


def sheet_row(backend: Backend, path: Path, sheet: str, row: int) -> list:
    """Row ``row`` of ``sheet`` as the backend's workbook holds it (after a save)."""
    if isinstance(backend, LiveBackend):
        ws = backend.book(path).sheet(sheet)
        width = max(c for _, c in ws.cells)
        return [ws.cells.get((row, c)) for c in range(1, width + 1)]
    if isinstance(backend, RemoteBackend):
        cells = backend.host(path).sheets[sheet]
        width = max(c for _, c in cells.cells) + 1
        return [cells.get(row, c) or None for c in range(width)]
    return [c.value for c in openpyxl.load_workbook(path)[sheet][row]]


def reopen(path: Path, table: str = "customers", backend: Backend | None = None) -> list[dict]:
    with (backend or FileBackend()).open(path) as book:
        return list(book.table(table).rows())


def test_new_workbook_has_every_table_empty(book_path: Path, backend: Backend) -> None:
    with backend.open(book_path) as book:
        for name in ("customers", "deals", "interactions", "tickets", "products", "sends"):
            assert list(book.table(name).rows()) == []
        assert book.state["schema_version"] == "1"


def test_insert_generates_ids_and_reads_back_typed_values(
    book_path: Path, backend: Backend
) -> None:
    with backend.open(book_path) as book:
        ids = book.table("customers").insert_all(
            [
                {
                    "name": "张伟",
                    "company": "上海华东贸易有限公司",
                    "email": "zw@hd.cn",
                    "created": "2026-01-05",
                    "tier": "A",
                    "unsubscribed": False,
                },
                {"name": "Ann Lee", "phone": "+86 138 0013 8000", "status": "潜在"},
            ]
        )
    assert ids == ["C0001", "C0002"]
    rows = reopen(book_path, backend=backend)
    assert rows[0]["name"] == "张伟"
    assert rows[0]["created"] == dt.date(2026, 1, 5)
    assert rows[0]["tier"] == "A"
    assert rows[0]["unsubscribed"] is False
    assert rows[0]["phone"] is None
    assert rows[1]["phone"] == "+86 138 0013 8000"
    assert rows[1]["status"] == "Lead"  # the Chinese label is read back as the canonical value


def test_choice_is_stored_in_the_workbook_language(tmp_path: Path) -> None:
    path = blank_workbook(tmp_path / "zh.xlsx", "zh")
    with open_book(path) as book:
        book.table("deals").insert({"title": "ERP 项目", "stage": "Won", "amount": 120000})
    ws = openpyxl.load_workbook(path)["商机"]
    assert ws["D1"].value == "阶段"
    assert ws["D2"].value == "赢单"
    assert ws["E2"].value == 120000


def test_get_update_and_not_found(book_path: Path, backend: Backend) -> None:
    with backend.open(book_path) as book:
        deals = book.table("deals")
        deals.insert_all([{"title": "A", "amount": 10}, {"title": "B", "amount": 20.5}])
        assert deals.update("D0002", {"stage": "Proposal", "amount": "1,200.50"}) is True
        assert deals.update("D0002", {"stage": "Proposal"}) is False
        with pytest.raises(NotFoundError, match="no row with id 'D0404'"):
            deals.get("D0404")
    with backend.open(book_path) as book:
        deal = book.table("deals").get("d0002")  # ids match case-insensitively
    assert deal["amount"] == 1200.5
    assert deal["stage"] == "Proposal"


def test_upsert_counts_and_only_given_columns_change(book_path: Path, backend: Backend) -> None:
    with backend.open(book_path) as book:
        customers = book.table("customers")
        customers.insert_all([{"name": "Li", "email": "li@x.cn", "notes": "keep me"}])
        counts = customers.upsert_all(
            [
                {"email": "LI@x.cn", "region": "华东"},  # matches case-insensitively
                {"email": "li@x.cn", "region": "华东"},  # the same change again: unchanged
                {"email": "new@y.com", "name": "New"},
            ],
            pk="email",
        )
    assert counts == UpsertCounts(inserted=1, updated=1, unchanged=1)
    rows = reopen(book_path, backend=backend)
    assert [(r["id"], r["email"], r["region"], r["notes"]) for r in rows] == [
        ("C0001", "li@x.cn", "华东", "keep me"),
        ("C0002", "new@y.com", None, None),
    ]


def test_bad_value_names_the_cell_and_changes_nothing(book_path: Path, backend: Backend) -> None:
    with backend.open(book_path) as book:
        deals = book.table("deals")
        deals.insert({"title": "ok"})
        with pytest.raises(ValueProblem) as err:
            deals.insert_all([{"title": "fine"}, {"title": "bad", "amount": "lots"}])
        sheet = deals.layout.sheet
        assert str(err.value).startswith(f"{sheet}!E4: 'lots' is not a number")
        with pytest.raises(ValueProblem, match="is not one of: Lead, Qualified"):
            deals.update("D0001", {"stage": "Maybe"})
        assert len(deals) == 1
        assert deals.next_id() == "D0002"  # the rejected rows did not use up ids


def test_duplicate_key_is_refused(book_path: Path, backend: Backend) -> None:
    with backend.open(book_path) as book:
        products = book.table("products")
        products.insert({"sku": "ERP-01", "name": "ERP", "unit_price": 100})
        with pytest.raises(DuplicateKeyError, match="sku 'erp-01' already exists"):
            products.insert({"sku": "erp-01", "name": "again"})


def test_composite_key_for_sends(book_path: Path, backend: Backend) -> None:
    with backend.open(book_path) as book:
        sends = book.table("sends")
        sends.insert_all([{"campaign": "spring", "customer_id": "C0001", "status": "queued"}])
        counts = sends.upsert_all(
            [
                {"campaign": "spring", "customer_id": "C0001", "status": "sent"},
                {"campaign": "spring", "customer_id": "C0002", "status": "queued"},
            ]
        )
    assert counts == UpsertCounts(inserted=1, updated=1, unchanged=0)
    with backend.open(book_path) as book:
        assert book.table("sends").get(("spring", "C0001"))["status"] == "sent"


def test_exception_inside_with_block_writes_nothing(book_path: Path) -> None:
    before = book_path.read_bytes()
    with pytest.raises(RuntimeError), open_book(book_path) as book:
        book.table("customers").insert({"name": "never saved"})
        raise RuntimeError("boom")
    assert book_path.read_bytes() == before


def test_save_without_changes_does_not_touch_the_file(book_path: Path) -> None:
    before = book_path.stat().st_mtime_ns
    with open_book(book_path) as book:
        list(book.table("customers").rows())
        assert book.save() is False
    assert book_path.stat().st_mtime_ns == before


def test_state_survives_and_is_very_hidden(book_path: Path) -> None:
    with open_book(book_path) as book:
        book.state["sync:imaps://me@example.cn"] = '{"uidvalidity": 7, "uid": 42}'
    with open_book(book_path) as book:
        assert book.state["sync:imaps://me@example.cn"] == '{"uidvalidity": 7, "uid": 42}'
    wb = openpyxl.load_workbook(book_path)
    assert wb["_xlcrm"].sheet_state == "veryHidden"


def _user_sheet(path: Path) -> Path:
    """A customer list as a person makes it: plain sheet, own name, odd order, own column."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "我的客户"
    ws.append(["电子邮件", "客户名称", "  Phone ", "生日", "客户编号", "创建时间"])
    ws.append(["a@b.cn", "王芳", 13800138000, "5月1日", "C0007", dt.datetime(2026, 3, 1)])
    wb.create_sheet("Notes")["A1"] = "unrelated"
    wb.save(path)
    return path


def test_plain_sheet_found_by_headers_with_user_column(tmp_path: Path, backend: Backend) -> None:
    path = _user_sheet(tmp_path / "mine.xlsx")
    with backend.open(path) as book:
        with pytest.raises(TableNotFoundError):
            book.table("deals")  # "客户编号" alone is not enough to call it a deals table
        customers = book.table("customers")
        assert customers.columns == ["email", "name", "phone", "生日", "id", "created"]
        row = customers.get("C0007")
        assert row["phone"] == "13800138000"  # typed as a number by the person: text again
        assert row["created"] == dt.date(2026, 3, 1)
        assert row["生日"] == "5月1日"
        customers.insert({"name": "新客户", "email": "n@c.cn", "生日": "6月2日"})
    assert sheet_row(backend, path, "我的客户", 3) == [
        "n@c.cn",
        "新客户",
        None,
        "6月2日",
        "C0008",
        None,
    ]
    assert openpyxl.load_workbook(path)["Notes"]["A1"].value == "unrelated"


def test_writing_a_column_the_sheet_lacks_says_what_to_add(
    tmp_path: Path, backend: Backend
) -> None:
    path = _user_sheet(tmp_path / "mine.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["我的客户"].title = "Customers"
    wb.save(path)
    with backend.open(path) as book, pytest.raises(ValueProblem) as err:
        book.table("customers").update("C0007", {"tier": "A"})
    assert "has no column 'Tier'" in str(err.value)
    assert "add a column headed 'Tier'" in str(err.value)


def test_unknown_table_name(book_path: Path, backend: Backend) -> None:
    with backend.open(book_path) as book, pytest.raises(TableNotFoundError, match="use one of"):
        book.table("orders2")


def test_1904_date_system(tmp_path: Path) -> None:
    """Workbooks from old Mac Excel count days from 1904; dates must still be dates."""
    path = blank_workbook(tmp_path / "mac.xlsx")
    wb = openpyxl.load_workbook(path)
    wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    wb.save(path)
    with open_book(path) as book:
        book.table("customers").insert({"name": "Mac", "created": dt.date(2026, 11, 22)})
    assert reopen(path)[0]["created"] == dt.date(2026, 11, 22)
    ws = openpyxl.load_workbook(path)["Customers"]
    assert ws["N2"].value == dt.datetime(2026, 11, 22)


def test_datetimes_keep_their_time(book_path: Path, backend: Backend) -> None:
    at = dt.datetime(2026, 11, 22, 9, 30, 15)
    with backend.open(book_path) as book:
        book.table("interactions").insert({"kind": "call", "at": at, "summary": "回访"})
    row = reopen(book_path, "interactions", backend=backend)[0]
    assert row["at"] == at
    assert row["kind"] == "call"


def test_untouched_sheets_keep_their_bytes(book_path: Path) -> None:
    with zipfile.ZipFile(book_path) as z:
        before = {n: z.read(n) for n in z.namelist()}
    with open_book(book_path) as book:
        book.table("deals").insert({"title": "only deals change"})
    with zipfile.ZipFile(book_path) as z:
        after = {n: z.read(n) for n in z.namelist()}
    changed = {n for n in before if before[n] != after.get(n)}
    assert set(after) == set(before)
    assert changed == {"xl/worksheets/sheet2.xml"}  # the blank first row was reused


def test_upserting_a_datetime_again_is_a_no_op(book_path: Path, backend: Backend) -> None:
    """A workbook keeps milliseconds; a re-synced timestamp must not count as a change."""
    at = dt.datetime(2026, 1, 5, 10, 0, 0, 123456)
    with backend.open(book_path) as book:
        book.table("interactions").insert({"kind": "email", "at": at})
    with backend.open(book_path) as book:
        interactions = book.table("interactions")
        assert interactions.get("I000001")["at"] == dt.datetime(2026, 1, 5, 10, 0, 0, 123000)
        assert interactions.upsert_all([{"id": "I000001", "at": at}]) == UpsertCounts(unchanged=1)


@pytest.mark.parametrize(
    "day", [dt.date(1900, 1, 1), dt.date(1900, 2, 28), dt.date(1900, 3, 1), dt.date(2026, 11, 22)]
)
def test_dates_around_excels_1900_leap_day(tmp_path: Path, day: dt.date) -> None:
    """Excel counts a 29 Feb 1900 that never was; days before March 1900 shift by one."""
    path = blank_workbook(tmp_path / "crm.xlsx")
    with open_book(path) as book:
        book.table("customers").insert({"name": "old", "created": day})
    assert reopen(path)[0]["created"] == day
    assert openpyxl.load_workbook(path)["Customers"]["N2"].value.date() == day


def test_dates_before_1900_are_refused(book_path: Path, backend: Backend) -> None:
    with backend.open(book_path) as book, pytest.raises(ValueProblem, match="before 1900"):
        book.table("customers").insert({"name": "x", "created": dt.date(1899, 12, 31)})


def test_rows_missing_from_the_sheet_inside_the_table_are_filled_in_order(tmp_path: Path) -> None:
    """A table range with blank rows Excel never wrote, and a note below the table: new rows
    go into the blanks, in row order, and the note stays where it was."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Products"
    ws.append(["SKU", "Name", "Unit price"])
    ws.append(["P-1", "Licence", 100])
    ws["A9"] = "note below the table"
    ws.add_table(openpyxl.worksheet.table.Table(displayName="Products", ref="A1:C5"))
    path = tmp_path / "products.xlsx"
    wb.save(path)
    with open_book(path) as book:
        products = book.table("products")
        products.update("P-1", {"unit_price": 120})
        products.insert_all([{"sku": "P-2", "name": "服务"}, {"sku": "P-3", "name": "培训"}])
    ws = openpyxl.load_workbook(path)["Products"]
    assert [[c.value for c in row] for row in ws["A2:C4"]] == [
        ["P-1", "Licence", 120],
        ["P-2", "服务", None],
        ["P-3", "培训", None],
    ]
    assert ws["A9"].value == "note below the table"
    assert ws.tables["Products"].ref == "A1:C5"
