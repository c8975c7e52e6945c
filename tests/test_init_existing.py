"""``xlcrm init`` on a workbook the person already has, and the evidence header matching needs.

Every workbook here is a real .xlsx written by openpyxl (the user's own sheets, a chart, a
locked structure) and changed by the real ``xlcrm`` entry point in a child process; the tests
read the saved file back. The one thing that cannot be made here is a real digital signature
(only Excel or Windows' signing tools write one), so the signed workbook is a real package with
the signature parts and relationship a signed file has, and an unsigned body: xlcrm recognises a
signature by those parts, not by checking it.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.chart import BarChart, Reference
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.table import Table as ExcelTable

from addin.errors import WorkbookError
from addin.init import InitOptions, add_crm
from addin.settings import KNOWN
from addin.workbook import open_book
from tests.test_cli import run

ADDED = [
    "added the Customers table on a new sheet 'Customers'",
    "added the Deals table on a new sheet 'Deals'",
    "added the Interactions table on a new sheet 'Interactions'",
    "added the Tickets table on a new sheet 'Tickets'",
    "added the Products table on a new sheet 'Products'",
    "added the Sends table on a new sheet 'Sends'",
    f"added the Settings table on a new sheet 'Settings' ({len(KNOWN)} starting rows)",
    "added the Stages table on a new sheet 'Stages' (6 starting rows)",
    "added the Rules table on a new sheet 'Rules' (4 starting rows)",
    "added the SLA table on a new sheet 'SLA' (4 starting rows)",
    "added the TicketRules table on a new sheet 'TicketRules' (5 starting rows)",
]
CRM_SHEETS = [line.split("'")[1] for line in ADDED]


def budget_book(path: Path) -> Path:
    """A user's workbook: a budget headed Id/Name/Value (three Deals headers) with a chart."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Budget"
    ws.append(["Id", "Name", "Value"])
    for n, (name, value) in enumerate([("Rent", 1200), ("Travel", 300), ("Tools", 80)], 1):
        ws.append([n, name, value])
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=3, min_row=1, max_row=4), titles_from_data=True)
    ws.add_chart(chart, "E2")
    wb.create_sheet("Notes")["A1"] = "keep me"
    wb.save(path)
    return path


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_init_adds_every_crm_table_to_a_users_workbook_and_nothing_else(tmp_path):
    book = budget_book(tmp_path / "mine.xlsx")
    before = parts(book)

    result = run("init", str(book))

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{book}: {line}" for line in ADDED]
    after = parts(book)
    # The user's parts are byte-identical; the shared parts only gained entries.
    shared = {
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "[Content_Types].xml",
        "xl/styles.xml",  # the new headers' bold font and the columns' number formats
    }
    for name, data in before.items():
        if name not in shared:
            assert after[name] == data, name
    for name in shared:
        assert len(after[name]) > len(before[name])
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames[:2] == ["Budget", "Notes"]
    assert wb.sheetnames[2:] == [*CRM_SHEETS, "_xlcrm"] or wb.sheetnames[2:] == CRM_SHEETS
    assert [[c.value for c in r] for r in wb["Budget"].iter_rows()] == [
        ["Id", "Name", "Value"],
        [1, "Rent", 1200],
        [2, "Travel", 300],
        [3, "Tools", 80],
    ]
    assert wb["Customers"]["A1"].value == "ID"
    assert list(wb["Deals"].tables) == ["Deals"]
    # The budget was not taken for the Deals table (no customer, no stage): it stays alone.
    with open_book(book) as crm:
        assert crm.table("deals").layout.sheet == "Deals"
    again = run("init", str(book))
    assert again.stdout == f"{book}: nothing to add: the workbook has every CRM table and setting\n"


def test_init_in_chinese_names_the_new_sheets_in_chinese(tmp_path):
    book = budget_book(tmp_path / "我的.xlsx")
    result = run("init", str(book), "--lang", "zh", "--json")
    assert result.returncode == 0, result.stderr
    assert '"sheet": "客户"' in result.stdout and '"sheet": "商机"' in result.stdout
    with open_book(book) as crm:
        assert crm.lang == "zh"
        assert crm.table("customers").layout.headers[:2] == ["客户编号", "姓名"]


def test_init_adds_only_the_settings_rows_a_workbook_lacks(tmp_path):
    """An older workbook's Settings table, two rows (one under its Chinese label)."""
    book = plain_book(
        tmp_path / "old.xlsx",
        {
            "Settings": [
                ["Key", "Value", "Notes"],
                ["Mailbox", "maildir:/m", None],
                ["客服邮箱", "", None],
            ]
        },
    )
    with open_book(book) as crm:
        report = add_crm(crm, InitOptions(tables=("settings",)))
    labels = ", ".join(s.en for s in KNOWN[2:])
    assert report.lines() == [f"added {len(KNOWN) - 2} rows to Settings: {labels}"]
    with open_book(book) as crm:
        rows = list(crm.table("settings").rows())
    assert [r["key"] for r in rows] == ["Mailbox", "客服邮箱", *(s.en for s in KNOWN[2:])]
    assert rows[0]["value"] == "maildir:/m"


def test_a_locked_structure_is_refused_and_the_file_left_alone(tmp_path):
    book = budget_book(tmp_path / "locked.xlsx")
    wb = openpyxl.load_workbook(book)
    wb.security = WorkbookProtection(lockStructure=True)
    wb.save(book)
    before = book.read_bytes()
    result = run("init", str(book))
    assert result.returncode == 1
    assert result.stderr == (
        f"xlcrm: {book}: the workbook's structure is locked (Protect Workbook), so the "
        "Customers, Deals, Interactions, Tickets, Products, Sends, Settings, Stages, Rules, SLA, "
        "TicketRules sheets cannot be added\n"
        "  hint: in Excel, Review › Protect Workbook (enter its password) to unlock the "
        "structure, then run again\n"
    )
    assert book.read_bytes() == before


def sign(book: Path) -> None:
    """Give the package the parts of a digital signature (see the module docstring)."""
    src = parts(book)
    src["_rels/.rels"] = src["_rels/.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rSig" Type="http://schemas.openxmlformats.org/package/2006/'
        b'relationships/digital-signature/origin" Target="_xmlsignatures/origin.sigs"/>'
        b"</Relationships>",
    )
    src["[Content_Types].xml"] = src["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Default Extension="sigs" ContentType="application/vnd.openxmlformats-package.'
        b'digital-signature-origin"/></Types>',
    )
    src["_xmlsignatures/origin.sigs"] = b""
    src["_xmlsignatures/_rels/origin.sigs.rels"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b"</Relationships>"
    )
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in src.items():
            z.writestr(name, data)


def test_a_signed_workbook_needs_force(tmp_path):
    book = budget_book(tmp_path / "signed.xlsx")
    sign(book)
    before = book.read_bytes()
    refused = run("init", str(book))
    assert refused.returncode == 1
    assert refused.stderr == (
        f"xlcrm: {book}: the workbook is digitally signed: adding the CRM tables changes it, "
        "and Excel will then show the signature as invalid\n"
        "  hint: run again with --force to add them anyway (sign it again afterwards if you "
        "need to), or work on a copy\n"
    )
    assert book.read_bytes() == before
    forced = run("init", str(book), "--force")
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.splitlines()[-1] == (
        f"{book}: the workbook's digital signature is no longer valid (--force)"
    )
    with open_book(book) as crm:
        assert crm.has_table("customers")


def test_import_into_a_workbook_without_the_table_points_to_init(tmp_path):
    book = budget_book(tmp_path / "mine.xlsx")
    source = tmp_path / "c.csv"
    source.write_text("Name,Email\nA,a@example.cn\n", encoding="utf-8")
    result = run("import", str(book), "customers", str(source))
    assert result.returncode == 1
    assert f"hint: add the CRM tables with 'xlcrm init {book}'" in result.stderr


def test_the_library_call_is_what_the_ribbon_and_the_command_line_share(tmp_path):
    """``add_crm`` with only the Settings table: what the ribbon's settings path runs."""
    book = budget_book(tmp_path / "mine.xlsx")
    with open_book(book) as crm:
        report = add_crm(crm, InitOptions(tables=("settings",)))
    assert report.tables == [("Settings", "Settings", len(KNOWN))]
    assert openpyxl.load_workbook(book).sheetnames[:3] == ["Budget", "Notes", "Settings"]


# -- header matching needs evidence --------------------------------------------------------------


def plain_book(path: Path, sheets: dict[str, list[list[object]]], tables: bool = False) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        if tables:
            last = chr(ord("A") + len(rows[0]) - 1)
            ws.add_table(ExcelTable(displayName=re.sub(r"\W", "", name), ref=f"A1:{last}2"))
    wb.save(path)
    return path


def test_a_sheet_with_the_deals_key_columns_is_found_by_its_headers(tmp_path):
    book = plain_book(
        tmp_path / "b.xlsx",
        {"Pipeline 2026": [["ID", "Customer ID", "Title", "Stage"], ["D1", "C1", "ERP", "Lead"]]},
    )
    with open_book(book) as crm:
        assert crm.table("deals").layout.sheet == "Pipeline 2026"


@pytest.mark.parametrize("tables", [False, True])
def test_an_ambiguous_sheet_is_named_with_how_to_mark_it(tmp_path, tables):
    book = plain_book(
        tmp_path / "b.xlsx",
        {"Sheet1": [["ID", "Customer ID", "Title"], ["D1", "C1", "ERP"]]},
        tables=tables,
    )
    where = "Sheet1 (Excel table Sheet1)" if tables else "Sheet1"
    with open_book(book) as crm, pytest.raises(WorkbookError) as caught:
        crm.table("deals")
    assert str(caught.value) == (
        f"{where}: this sheet has some of the Deals table's columns but no Stage or Amount or "
        "Probability or Expected close, so xlcrm cannot tell whether it is the Deals table\n"
        "  hint: if it is, rename the sheet to 'Deals' (or name its Excel table 'Deals'); if "
        "not, give it a sheet name and headers of its own"
    )


def test_info_names_the_ambiguous_sheet_and_lists_the_rest(tmp_path):
    book = plain_book(
        tmp_path / "b.xlsx", {"Sheet1": [["ID", "Customer ID", "Title"], ["D1", "C1", "ERP"]]}
    )
    result = run("info", str(book))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == "  Customers     missing"
    assert lines[2] == (
        "  Deals         unclear: Sheet1: this sheet has some of the Deals table's columns but "
        "no Stage or Amount or Probability or Expected close, so xlcrm cannot tell whether it "
        "is the Deals table"
    )


def test_two_equally_good_sheets_are_both_named(tmp_path):
    rows = [["ID", "Customer ID", "Stage"], ["D1", "C1", "Lead"]]
    book = plain_book(tmp_path / "b.xlsx", {"2025": rows, "2026": rows})
    with open_book(book) as crm, pytest.raises(WorkbookError) as caught:
        crm.table("deals")
    assert str(caught.value) == (
        "the sheet '2025' and the sheet '2026': each of these could be the Deals table "
        "(same matching headers)\n"
        "  hint: rename the sheet that holds it to 'Deals' (or name its Excel table 'Deals'), "
        "then run again"
    )


def test_the_ribbons_settings_path_adds_the_missing_rows_as_init_does(tmp_path):
    """The add-in's service on loopback, the workbook as the Office.js client would post it
    (``OfficeHost``: desktop Excel cannot run here); the Settings table lacks all but one row."""
    from addin_client import AddinClient, running_service
    from officehost import OfficeHost

    book = plain_book(
        tmp_path / "old.xlsx",
        {"Settings": [["Key", "Value", "Notes"], ["Mailbox", "", None]]},
        tables=True,
    )
    host = OfficeHost.from_xlsx(book)
    with running_service() as url:
        got = AddinClient(url, host).run(
            "settings", {"step": "put", "values": {"company_name": "星河软件"}}
        )
    assert got.result["summary"] == "settings saved"
    cells = host.sheets["Settings"].cells
    header, *keys = [v for (_, c), v in sorted(cells.items()) if c == 0]
    assert (header, keys) == ("Key", [s.en for s in KNOWN])  # every setting, once, in order
    company = next(s for s in got.result["settings"] if s["key"] == "company_name")
    assert company["value"] == "星河软件"
