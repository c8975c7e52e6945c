"""A new CRM workbook as a person meets it: headers that show whole, drop-downs where the
workbook knows the values, and sheets that print landscape.

``xlcrm init``'s workbook (``build_workbook``) is printed by LibreOffice to PDF and read back
with poppler, like the Dashboard in ``test_dashboard_print.py``; the drop-downs are read back
with openpyxl (what Excel shows in Data > Data Validation).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import openpyxl
import pytest
from conftest import Convert
from test_dashboard_print import read_pdf

from addin.schema import CUSTOMERS, DEALS, INTERACTIONS, TICKETS, Lang
from addin.workbook.create import build_workbook


def validations(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, str]:
    """The drop-down list on each header, by header text: its formula."""
    headers = {c.column_letter: c.value for c in ws[1]}
    out = {}
    for dv in ws.data_validations.dataValidation:
        assert dv.type == "list" and dv.errorStyle == "warning"
        for rng in dv.sqref.ranges:
            letter = rng.coord.split(":")[0].rstrip("0123456789")
            out[headers[letter]] = dv.formula1
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_drop_downs_where_the_workbook_knows_the_values(tmp_path: Path, lang: Lang) -> None:
    wb = openpyxl.load_workbook(build_workbook(tmp_path / "crm.xlsx", lang))
    zh = lang == "zh"
    deals = validations(wb[DEALS.sheet_name(lang)])
    header = {c.key: c.header(lang) for c in DEALS.columns}
    assert deals[header["currency"]].startswith('"CNY,USD,EUR')
    products = "'产品'" if zh else "'Products'"
    assert deals[header["product"]] == f"{products}!$A$2:$A$10001"  # the SKUs, as deals hold
    assert header["owner"] not in deals  # no table of the company's people to list
    customers = validations(wb[CUSTOMERS.sheet_name(lang)])
    unsubscribed = CUSTOMERS.by_key["unsubscribed"].header(lang)
    assert customers[unsubscribed] == ('"是,否"' if zh else '"yes,no"')
    tickets = validations(wb[TICKETS.sheet_name(lang)])
    assert TICKETS.by_key["assignee"].header(lang) not in tickets
    assert TICKETS.by_key["status"].header(lang) in tickets  # the schema's choices, as before


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_printed_headers_show_whole(
    tmp_path: Path, lang: Lang, libreoffice_convert: Convert
) -> None:
    book = build_workbook(tmp_path / "crm.xlsx", lang)
    out = tmp_path / "pdf"
    out.mkdir()
    libreoffice_convert(book, "pdf", out)
    pages = read_pdf(out / "crm.pdf")
    assert all(p.width > p.height for p in pages)  # every sheet prints landscape
    words = {w.text for p in pages for w in p.words}
    for spec in (CUSTOMERS, INTERACTIONS):
        for column in spec.columns:
            if " " not in column.header(lang):
                assert column.header(lang) in words, column.header(lang)
    # No header runs into the next one ("Unsubscr", "DirectionAt"): on every line, words
    # keep apart.
    for n, page in enumerate(pages, start=1):
        lines: dict[int, list] = {}
        for w in page.words:
            lines.setdefault(round(w.y2), []).append(w)
        for line in lines.values():
            line.sort(key=lambda w: w.x1)
            for a, b in itertools.pairwise(line):
                assert b.x1 - a.x2 > 0.8, f"page {n}: {a.text!r} runs into {b.text!r}"
