"""Contracts to PDF with the real LibreOffice: Chinese text that a reader of the PDF sees, and
clear errors instead of a PDF of empty boxes when no Chinese font is installed."""

from __future__ import annotations

import shutil
import stat
import sys
import time
from pathlib import Path

import pytest
from conftest import missing
from pypdf import PdfReader
from test_contract_templates import BUYER, IN_WORDS, NUMBER, TODAY, load, make_book

from addin.contracts import pdf
from addin.contracts.pdf import check_cjk_font, to_pdf
from addin.errors import XlcrmError
from addin.templating import CrmData
from addin.workbook import open_book


@pytest.fixture(scope="module")
def contracts(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The Chinese and English sales contracts of deal D0001, as .docx files."""
    root = tmp_path_factory.mktemp("contracts")
    with open_book(make_book(root / "crm.xlsx")) as book:
        built = CrmData(book, today=TODAY).contract_context("D0001", NUMBER)
    files = []
    for name in ("sales_contract.zh", "sales_contract.en"):
        path = root / f"{NUMBER} {name}.docx"
        path.write_bytes(load(name).render(built.context))
        files.append(path)
    return files


@pytest.fixture
def fc_list() -> str:
    found = shutil.which("fc-list")
    if found is None:
        missing("fontconfig's fc-list is not installed ('apt-get install fontconfig')")
    return found  # type: ignore[return-value]


def no_fonts(folder: Path, *dirs: str) -> dict[str, str]:
    """An environment whose fontconfig knows only the fonts in ``dirs`` (none by default)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "fonts.conf"
    listed = "".join(f"<dir>{d}</dir>" for d in dirs)
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
        f"<fontconfig>{listed}<cachedir>{folder / 'cache'}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    return {"FONTCONFIG_FILE": str(config)}


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


@pytest.mark.libreoffice
def test_a_chinese_contract_becomes_a_pdf_with_its_chinese_text(
    soffice: str, contracts: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "pdf"
    made = to_pdf(contracts, out, soffice=soffice)
    assert made == [
        out / f"{NUMBER} sales_contract.zh.pdf",
        out / f"{NUMBER} sales_contract.en.pdf",
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in made)  # nothing else
    chinese, english = (pdf_text(p) for p in made)
    for text in (chinese, english):
        assert BUYER in text
        assert IN_WORDS in text
        assert NUMBER in text
    assert "销 售 合 同" in chinese
    assert "提交甲方所在地人民法院诉讼解决" in chinese.replace("\n", "")
    assert "SALES CONTRACT" in english


def test_no_chinese_font_is_a_clear_error_before_anything_runs(
    fc_list: str, contracts: list[Path], tmp_path: Path
) -> None:
    env = no_fonts(tmp_path / "fontconfig")
    with pytest.raises(XlcrmError) as caught:
        check_cjk_font(env)
    assert str(caught.value) == (
        "no Chinese font is installed, the PDF would show empty boxes\n"
        "  hint: install a Chinese font: on Debian/Ubuntu 'apt-get install fonts-noto-cjk', "
        "elsewhere any Chinese font such as Noto Sans CJK SC; nothing was converted"
    )
    out = tmp_path / "pdf"
    with pytest.raises(XlcrmError, match="no Chinese font is installed") as caught:
        to_pdf(contracts, out, soffice="/no/soffice/needed", env=env)
    assert caught.value.where == str(contracts[0])
    assert not out.exists() or not any(out.iterdir())
    check_cjk_font()  # this machine's own configuration has one


@pytest.mark.libreoffice
def test_a_pdf_without_the_chinese_text_is_refused(
    soffice: str, contracts: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second line of defence. fontconfig here knows only DejaVu (no Chinese), and the
    font check before converting is switched off (monkeypatched) so LibreOffice really writes
    a PDF whose Chinese characters are boxes; that PDF must not reach the output folder."""
    dejavu = next((d for d in ("/usr/share/fonts/truetype/dejavu",) if Path(d).is_dir()), None)
    if dejavu is None:
        missing("the DejaVu fonts are not installed ('apt-get install fonts-dejavu-core')")
    monkeypatch.setattr(pdf, "check_cjk_font", lambda *args, **kwargs: None)
    out = tmp_path / "pdf"
    with pytest.raises(XlcrmError, match="the PDF does not show the document's Chinese text"):
        to_pdf(contracts[:1], out, soffice=soffice, env=no_fonts(tmp_path / "fc", dejavu))
    assert not any(out.iterdir())


def test_soffice_not_found_says_how_to_install_it(
    contracts: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLCRM_SOFFICE", str(tmp_path / "nowhere" / "soffice"))
    with pytest.raises(XlcrmError) as caught:
        to_pdf(contracts, tmp_path / "pdf")
    assert str(caught.value).startswith("LibreOffice (soffice) was not found")
    assert "apt-get install libreoffice-writer-nogui" in str(caught.value)
    assert "Windows and macOS" in str(caught.value)


def fake_soffice(tmp_path: Path, script: str) -> str:
    """A stand-in for soffice (a failing or hanging LibreOffice cannot be made on purpose)."""
    if sys.platform == "win32":
        pytest.skip("the stand-in soffice is a shell script")
    path = tmp_path / "soffice"
    path.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_a_failed_conversion_shows_what_soffice_said(contracts: list[Path], tmp_path: Path) -> None:
    program = fake_soffice(tmp_path, 'echo "Error: source file could not be loaded" >&2')
    with pytest.raises(XlcrmError) as caught:
        to_pdf(contracts[1:], tmp_path / "pdf", soffice=program)
    assert str(caught.value).startswith(f"{contracts[1]}: LibreOffice did not convert it to PDF")
    assert "Error: source file could not be loaded" in str(caught.value)
    assert "libreoffice-writer-nogui" in str(caught.value)


def test_a_hanging_soffice_is_stopped_at_the_timeout(contracts: list[Path], tmp_path: Path) -> None:
    program = fake_soffice(tmp_path, "sleep 60 & wait")  # a child, like soffice.bin
    started = time.monotonic()
    with pytest.raises(XlcrmError, match=r"did not finish converting 1 document\(s\) in 1 s"):
        to_pdf(contracts[1:], tmp_path / "pdf", soffice=program, timeout=1)
    assert time.monotonic() - started < 10


def test_two_documents_with_one_pdf_name_are_refused(contracts: list[Path], tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    twin = other / contracts[1].name
    shutil.copy(contracts[1], twin)
    with pytest.raises(XlcrmError, match="both would become"):
        to_pdf([contracts[1], twin], tmp_path / "pdf", soffice="/unused")


def test_find_soffice_honours_xlcrm_soffice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = fake_soffice(tmp_path, "exit 0")
    monkeypatch.setenv("XLCRM_SOFFICE", program)
    assert pdf.find_soffice() == program
    monkeypatch.delenv("XLCRM_SOFFICE")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert pdf.find_soffice() == program
