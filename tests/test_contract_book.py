"""Contracts generated on an open workbook, the way the ribbon service runs them: the files go
to a folder the caller chooses (a temporary one on the service), the deal and an interaction
record them relative to that folder, and the caller saves. A failure leaves neither files
nor records — not even a used-up contract number.

The workbook is a real .xlsx opened with the file backend; the Book API is the one the remote
backend has. The PDF failure uses a stand-in soffice (a LibreOffice that fails cannot be made
on purpose), as tests/test_pdf.py does.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from test_contract_templates import IN_WORDS, Shown, make_book
from test_pdf import fake_soffice

from addin.contracts.generate import ContractOptions, generate_contracts
from addin.errors import XlcrmError
from addin.templating import TemplateProblems, builtin_root
from addin.workbook import open_book

TODAY = dt.date(2026, 3, 1)
NOW = dt.datetime(2026, 3, 1, 10, 30)


def options(*deals: str, **changes: object) -> ContractOptions:
    return ContractOptions(deal_ids=deals, today=TODAY, now=lambda: NOW, **changes)  # type: ignore[arg-type]


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_contracts_are_written_under_the_base_folder_and_recorded_on_the_deal(
    tmp_path: Path,
) -> None:
    (tmp_path / "book").mkdir()
    path = make_book(tmp_path / "book" / "客户管理.xlsx")
    base = tmp_path / "service-job"
    with open_book(path) as book:
        report = generate_contracts(book, options("D0001", "D0002"), base_dir=base)
        assert book.dirty  # recorded in the open book, saved by the caller (here: the with)
    assert [(g.deal_id, g.contract_no) for g in report.generated] == [
        ("D0001", "CT-2026-0001"),
        ("D0002", "CT-2026-0002"),
    ]
    first = report.generated[0].files[0]
    assert first == base / "contracts" / "CT-2026-0001 A&B 上海贸易有限公司 CRM 项目.docx"
    assert files_under(base) == sorted(g.files[0] for g in report.generated)
    assert IN_WORDS in Shown(first.read_bytes()).text
    assert not (path.parent / "contracts").exists()  # nothing beside the workbook
    with open_book(path) as book:
        deal = book.table("deals").get("D0001")
        logged = [r for r in book.table("interactions").rows() if r["kind"] == "document"]
    assert deal["contract_no"] == "CT-2026-0001"
    assert deal["contract_file"] == "contracts/" + first.name  # relative to base_dir
    assert [(r["deal_id"], r["subject"], r["at"]) for r in logged] == [
        ("D0001", "合同 CT-2026-0001", NOW),
        ("D0002", "合同 CT-2026-0002", NOW),
    ]
    assert logged[0]["attachments"] == first.name


def test_out_dir_and_a_template_found_near(tmp_path: Path) -> None:
    path = make_book(tmp_path / "crm.xlsx")
    own = tmp_path / "company-templates" / "contracts"
    own.mkdir(parents=True)
    template = builtin_root() / "contracts" / "quotation.zh.docx"
    shutil.copy(template, own / "我们的报价单.docx")
    out = tmp_path / "elsewhere"
    with open_book(path) as book:
        report = generate_contracts(
            book,
            options("D0001", template="contracts/我们的报价单", out_dir=out),
            base_dir=tmp_path / "base",
            templates_near=(tmp_path / "company-templates",),
        )
    assert report.template == own / "我们的报价单.docx"
    [item] = report.generated
    assert item.files[0].parent == out
    with open_book(path) as book:
        recorded = book.table("deals").get("D0001")["contract_file"]
    # Outside base_dir: the absolute path, so the workbook still finds the file.
    assert recorded == str(item.files[0].resolve())


def test_a_template_problem_records_nothing_and_writes_nothing(tmp_path: Path) -> None:
    path = make_book(tmp_path / "crm.xlsx", bank=False)
    base = tmp_path / "job"
    with open_book(path) as book:
        state = book.state.as_dict()
        with pytest.raises(TemplateProblems) as error:
            generate_contracts(book, options("D0001"), base_dir=base)
        assert "商机!D0001: company.bank is empty" in str(error.value)
        assert book.state.as_dict() == state
        assert book.table("deals").get("D0001")["contract_no"] is None
        book.discard()
    assert files_under(base) == []


def test_a_failing_pdf_removes_the_documents_and_the_number_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Word files were already written when LibreOffice failed: they are removed, the deal
    and the interactions are untouched, and the number is issued again by the next run."""
    path = make_book(tmp_path / "crm.xlsx")
    base = tmp_path / "job"
    failing = fake_soffice(tmp_path, 'echo "Error: source file could not be loaded" >&2')
    monkeypatch.setenv("XLCRM_SOFFICE", failing)
    with open_book(path) as book:
        with pytest.raises(XlcrmError, match="LibreOffice did not convert it to PDF"):
            generate_contracts(book, options("D0001", pdf=True), base_dir=base)
        assert files_under(base) == []
        assert not any(k.startswith("contract_seq") for k in book.state)
        assert book.table("deals").get("D0001")["contract_no"] is None
        interactions = book.table("interactions").rows()
        assert [r for r in interactions if r["kind"] == "document"] == []
        # The same open book, without the PDF: the number that failed is the one issued.
        report = generate_contracts(book, options("D0001"), base_dir=base)
    assert report.generated[0].contract_no == "CT-2026-0001"
    assert files_under(base) == report.generated[0].files


def test_nothing_to_generate_says_which_deals(tmp_path: Path) -> None:
    path = make_book(tmp_path / "crm.xlsx")
    with open_book(path) as book, pytest.raises(XlcrmError, match="say which deals"):
        generate_contracts(book, ContractOptions(), base_dir=tmp_path)
