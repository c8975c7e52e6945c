"""``book.savepoint()``: dry runs roll back their own changes and keep the caller's."""

from __future__ import annotations

from pathlib import Path

import pytest

from addin.init import create_workbook
from addin.workbook import open_book


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = create_workbook(tmp_path / "crm.xlsx")
    with open_book(path) as wb:
        wb.table("customers").insert_all([{"name": "Li Wei"}, {"name": "Alice Smith"}])
    return path


def test_rollback_undoes_what_came_after_and_keeps_what_came_before(book: Path) -> None:
    with open_book(book) as wb:
        customers = wb.table("customers")
        customers.update("C0001", {"tier": "A"})
        savepoint = wb.savepoint()
        customers.update("C0001", {"tier": "C", "notes": "x"})
        customers.insert({"name": "Zhang Zhe"})
        wb.table("deals").insert({"customer_id": "C0002", "title": "Pilot"})
        wb.state["later"] = "1"
        savepoint.rollback()
        assert [(r["id"], r["tier"], r["notes"]) for r in customers.rows()] == [
            ("C0001", "A", None),
            ("C0002", None, None),
        ]
        assert customers.next_id() == "C0003"
        assert list(wb.table("deals").rows()) == []
        assert "later" not in wb.state
    with open_book(book) as wb:
        assert [r["tier"] for r in wb.table("customers").rows()] == ["A", None]
        assert list(wb.table("deals").rows()) == []


def test_a_savepoint_rolls_back_when_its_block_raises_and_not_otherwise(book: Path) -> None:
    with open_book(book) as wb:
        customers = wb.table("customers")
        with pytest.raises(ValueError), wb.savepoint():
            customers.update("C0001", {"tier": "B"})
            raise ValueError("halfway")
        assert customers.get("C0001")["tier"] is None
        assert not wb.dirty
        with wb.savepoint():
            customers.update("C0001", {"tier": "B"})
        assert customers.get("C0001")["tier"] == "B"


def test_a_save_inside_a_savepoint_cannot_be_rolled_back(book: Path) -> None:
    with open_book(book) as wb:
        savepoint = wb.savepoint()
        wb.table("customers").update("C0001", {"tier": "B"})
        wb.save()
        with pytest.raises(RuntimeError, match="saved after the savepoint"):
            savepoint.rollback()
