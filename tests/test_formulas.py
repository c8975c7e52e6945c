"""Calculated columns of an Excel Table extend to the rows xlcrm adds, as when typing in Excel."""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.table import Table, TableColumn, TableFormula, TableStyleInfo

from addin.workbook import open_book

WEIGHTED = "Deals[[#This Row],[Amount]]*Deals[[#This Row],[Probability]]"


def _deals_with_formula(path: Path) -> Path:
    """A Deals table with a user-added calculated column, shaped as Excel saves it."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Deals"
    ws.append(["ID", "Title", "Amount", "Probability", "Weighted"])
    ws.append(["D0001", "ERP", 1000, 0.5, f"={WEIGHTED}"])
    ws["C2"].number_format = "#,##0.00"
    table = Table(displayName="Deals", ref="A1:E2")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    headers = [c.value for c in ws[1]]
    table.tableColumns = [TableColumn(id=j, name=h) for j, h in enumerate(headers[:4], 1)]
    table.tableColumns.append(
        TableColumn(id=5, name="Weighted", calculatedColumnFormula=TableFormula(attr_text=WEIGHTED))
    )
    ws.add_table(table)
    wb.save(path)
    return path


def test_new_rows_get_the_calculated_column_formula(tmp_path: Path) -> None:
    path = _deals_with_formula(tmp_path / "deals.xlsx")
    with open_book(path) as book:
        book.table("deals").insert_all(
            [
                {"title": "CRM", "amount": 200, "probability": 0.25},
                {"title": "培训", "amount": 80, "probability": 1},
            ]
        )
    with zipfile.ZipFile(path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        workbook = z.read("xl/workbook.xml").decode()
    assert f'<c r="E3"><f>{WEIGHTED}</f></c>' in sheet
    assert f'<c r="E4"><f>{WEIGHTED}</f></c>' in sheet
    assert 'fullCalcOnLoad="1"' in workbook  # Excel computes the new cells on open
    ws = openpyxl.load_workbook(path)["Deals"]
    assert ws["C3"].number_format == "#,##0.00"  # the row above's format


@pytest.mark.libreoffice
def test_libreoffice_computes_the_extended_formula(
    tmp_path: Path, libreoffice_csv: Callable[[Path], dict[str, list[list[str]]]]
) -> None:
    path = _deals_with_formula(tmp_path / "deals.xlsx")
    with open_book(path) as book:
        book.table("deals").insert({"title": "CRM", "amount": 200, "probability": 0.25})
    rows = libreoffice_csv(path)["Deals"]
    assert rows[2][:2] == ["D0002", "CRM"]
    assert float(rows[2][4]) == 50


def test_soffice_fixture_is_real() -> None:
    """Guards the guard: CI must have LibreOffice, never skip its tests silently."""
    if os.environ.get("CI"):
        assert shutil.which("soffice"), ".ci/run must install libreoffice-calc-nogui"
