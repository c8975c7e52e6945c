"""``xlcrm contract`` end to end on a real workbook: numbers, files, the deal's cells and the
document interaction in one save, every problem listed before anything is written, safe file
names, and nothing left behind when the workbook cannot be saved."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_contract_templates import IN_WORDS, Shown, make_book

from addin.cli import cli
from addin.cli.documents import generate_contracts_file
from addin.contracts.generate import ContractOptions
from addin.errors import NotFoundError, UsageError, WorkbookLockedError
from addin.templating import TemplateProblems
from addin.workbook import open_book

TODAY = dt.date(2026, 3, 1)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return make_book(tmp_path / "客户管理.xlsx")


def generate(book: Path, *deals: str, **options: object) -> object:
    now = dt.datetime(2026, 3, 1, 10, 30)
    return generate_contracts_file(
        book, ContractOptions(deal_ids=deals, today=TODAY, now=lambda: now, **options)
    )


def test_a_contract_is_written_numbered_and_recorded(book: Path) -> None:
    report = generate(book, "D0001", "d0002")
    assert [(g.deal_id, g.contract_no) for g in report.generated] == [
        ("D0001", "CT-2026-0001"),
        ("D0002", "CT-2026-0002"),
    ]
    first = report.generated[0].files[0]
    assert first.parent == book.parent / "contracts"
    assert first.name == "CT-2026-0001 A&B 上海贸易有限公司 CRM 项目.docx"
    shown = Shown(first.read_bytes())
    assert "CT-2026-0001" in shown.text and IN_WORDS in shown.text
    with open_book(book) as wb:
        deal = wb.table("deals").get("D0001")
        logged = [r for r in wb.table("interactions").rows() if r["kind"] == "document"]
    assert deal["contract_no"] == "CT-2026-0001"
    assert deal["contract_file"] == "contracts/" + first.name
    assert [(r["deal_id"], r["subject"], r["direction"]) for r in logged] == [
        ("D0001", "合同 CT-2026-0001", "out"),
        ("D0002", "合同 CT-2026-0002", "out"),
    ]
    assert logged[0]["at"] == dt.datetime(2026, 3, 1, 10, 30)
    # Again: the deal keeps its number; a new deal gets the next one.
    with open_book(book) as wb:
        wb.table("customers").update("C0002", {"company": "北京启明科技有限公司"})
    again = generate(book, "D0001", "D0003")
    assert [g.contract_no for g in again.generated] == ["CT-2026-0001", "CT-2026-0003"]
    assert again.generated[0].files[0].name.endswith("CRM 项目 (2).docx")


def test_the_number_format_comes_from_the_settings(book: Path) -> None:
    with open_book(book) as wb:
        wb.table("settings").update("合同编号格式", {"value": "HT{yy}{month}-{seq:03}"})
    assert generate(book, "D0002").generated[0].contract_no == "HT2603-001"


def test_stage_picks_the_deals_without_a_contract(book: Path) -> None:
    with open_book(book) as wb:
        wb.table("customers").update("C0002", {"company": "北京启明科技有限公司"})
    generate(book, "D0002")
    report = generate(book, stage="赢单")
    assert [g.deal_id for g in report.generated] == ["D0001", "D0003"]
    assert report.skipped == ["D0002"]
    with pytest.raises(UsageError, match="'Closed' is not a stage"):
        generate(book, stage="Closed")


def test_every_problem_is_listed_and_nothing_is_written(book: Path) -> None:
    with open_book(book) as wb:
        wb.table("settings").update("开户银行", {"value": None})
    before = book.read_bytes()
    with pytest.raises(TemplateProblems) as error:
        generate(book, "D0001", "D0003")
    text = str(error.value)
    assert "商机!D0001: company.bank is empty (fill Bank / 开户银行 in the Settings table)" in text
    assert "商机!D0003: customer.company is empty" in text
    assert "商机!D0003: company.bank is empty" in text
    assert "no contract was generated" in text
    assert book.read_bytes() == before
    assert not (book.parent / "contracts").exists() or not any(
        (book.parent / "contracts").iterdir()
    )


def test_an_unknown_deal_is_named(book: Path) -> None:
    with pytest.raises(NotFoundError, match="no deal D0999"):
        generate(book, "D0001", "D0999")


def test_file_names_are_safe_whatever_the_customer_is_called(book: Path) -> None:
    with open_book(book) as wb:
        wb.table("customers").update("C0001", {"company": "../../etc/passwd"})
        wb.table("deals").update("D0001", {"title": "CON"})
    [item] = generate(book, "D0001").generated
    [file] = item.files
    assert file.parent == book.parent / "contracts"  # never ../../etc
    assert file.name == "CT-2026-0001 .. etc passwd CON.docx"


def test_nothing_is_left_behind_when_the_workbook_cannot_be_saved(book: Path) -> None:
    lock = book.with_name("~$" + book.name)
    lock.write_text("someone")
    with pytest.raises(WorkbookLockedError):
        generate(book, "D0001")
    assert list((book.parent / "contracts").glob("*.docx")) == []
    lock.unlink()
    # The number was not used: the next run issues it.
    assert generate(book, "D0001").generated[0].contract_no == "CT-2026-0001"


def test_the_command_line(book: Path) -> None:
    result = CliRunner().invoke(
        cli, ["contract", str(book), "D0003", "--template", "contracts/quotation"]
    )
    assert result.exit_code == 1
    assert "商机!D0003: customer.company is empty" in result.output
    result = CliRunner().invoke(cli, ["contract", str(book), "D0001", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "generated 1 contract(s) from sales_contract.en.docx" in result.output
    result = CliRunner().invoke(cli, ["contract", str(book)])
    assert result.exit_code == 2 and "give deal ids (D0042) or --stage Won" in result.output
