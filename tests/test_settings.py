"""The Settings table: shared, non-secret settings in the workbook, read by label in either
language, and used by mailbox sync."""

from __future__ import annotations

from pathlib import Path

import pytest
from books import blank_workbook

from addin.errors import ValueProblem
from addin.init import create_workbook
from addin.mailsync import SyncOptions
from addin.mailsync.run import with_settings
from addin.settings import KNOWN, read_settings
from addin.workbook import open_book


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_new_workbook_lists_every_known_setting_with_what_it_is_for(
    tmp_path: Path, lang: str
) -> None:
    path = create_workbook(tmp_path / "crm.xlsx", lang)  # type: ignore[arg-type]
    with open_book(path) as book:
        rows = list(book.table("settings").rows())
        assert [r["key"] for r in rows] == [s.label(lang) for s in KNOWN]  # type: ignore[arg-type]
        assert all(r["value"] is None and r["notes"] for r in rows)
        assert dict(read_settings(book)) == {s.key: "" for s in KNOWN}


def test_values_are_read_by_label_in_either_language_and_lists_split(tmp_path: Path) -> None:
    path = blank_workbook(tmp_path / "crm.xlsx", "zh")
    with open_book(path) as book:
        settings = book.table("settings")
        settings.update("内部域名", {"value": "ourco.cn；ourco.com\nhq.ourco.cn"})
        settings.update("跟进天数", {"value": "5"})
        settings.insert({"key": "Never log", "value": "lawfirm.cn, hr@ourco.cn"})
        settings.insert({"key": "seller_name", "value": "星河软件"})
    with open_book(path) as book:
        found = read_settings(book)
    assert found.list("internal_domains") == ("ourco.cn", "ourco.com", "hq.ourco.cn")
    assert found.list("never_log") == ("lawfirm.cn", "hr@ourco.cn")
    assert found.int("follow_up_days") == 5
    assert found["seller_name"] == "星河软件"  # settings xlcrm does not know yet are kept


def test_a_bad_number_names_its_cell(tmp_path: Path) -> None:
    path = blank_workbook(tmp_path / "crm.xlsx")
    with open_book(path) as book:
        book.table("settings").update("Follow-up days", {"value": "soon"})
    with open_book(path) as book, pytest.raises(ValueProblem) as caught:
        read_settings(book).int("follow_up_days")
    assert str(caught.value).startswith("Settings!B7: 'soon' is not a whole number")


def test_sync_options_add_to_settings_lists_and_win_over_values(tmp_path: Path) -> None:
    path = blank_workbook(tmp_path / "crm.xlsx")
    with open_book(path) as book:
        book.table("settings").update("Internal domains", {"value": "ourco.cn"})
        book.table("settings").update("Follow-up days", {"value": "7"})
        settings = read_settings(book)
    merged = with_settings(SyncOptions(internal_domains=("ourco.com",)), settings)
    assert merged.internal_domains == ("ourco.com", "ourco.cn")
    assert merged.follow_up_days == 7
    assert with_settings(SyncOptions(follow_up_days=1), settings).follow_up_days == 1


def test_a_workbook_without_settings_has_none(tmp_path: Path) -> None:
    from openpyxl import Workbook

    path = tmp_path / "mine.xlsx"
    wb = Workbook()
    wb.active.title = "Customers"
    wb.active.append(["ID", "Name", "Email"])
    wb.save(path)
    with open_book(path) as book:
        assert dict(read_settings(book)) == {}
        assert with_settings(SyncOptions(), read_settings(book)).follow_up_days == 3
