"""File names from customers' names: whatever a cell holds, one safe name in the chosen folder."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from addin.filenames import safe_file_name, unique_path

UNSAFE = '<>:"/\\|?*'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HT-2026-0001 A&B 上海贸易有限公司", "HT-2026-0001 A&B 上海贸易有限公司.docx"),
        ("../../etc/passwd", "etc passwd.docx"),
        ("..\\..\\Windows\\win.ini", "Windows win.ini.docx"),
        ("/absolute/path", "absolute path.docx"),
        ("C:\\Users\\x", "C Users x.docx"),
        ('a<b>c:d"e|f?g*h', "a b c d e f g h.docx"),
        ("line\nbreak\ttab\x00nul\x1bescape", "line break tab nul escape.docx"),
        ("invoice\u202efdp.exe", "invoice fdp.exe.docx"),  # right-to-left override
        ("zero\u200bwidth", "zero width.docx"),
        ("  .hidden.  ", "hidden.docx"),
        ("trailing dots...", "trailing dots.docx"),
        ("...", "contract.docx"),
        ("", "contract.docx"),
        ("/ \\ : * ? ..", "contract.docx"),
        ("CON", "_CON.docx"),
        ("con", "_con.docx"),
        ("Nul.txt", "_Nul.txt.docx"),
        ("aux .tar", "_aux .tar.docx"),
        ("COM1", "_COM1.docx"),
        ("lpt9", "_lpt9.docx"),
        ("COM¹", "_COM¹.docx"),
        ("CONTRACT", "CONTRACT.docx"),  # only the exact device names
        ("COM10", "COM10.docx"),
        ("e\u0301tude", "\u00e9tude.docx"),  # NFC
        ("王伟  /  张三", "王伟 张三.docx"),
    ],
)
def test_unsafe_names_become_safe(text: str, expected: str) -> None:
    assert safe_file_name(text, ".docx") == expected


@pytest.mark.parametrize(
    "text",
    [
        "合" * 300,
        "x" * 500,
        "A&B 上海贸易有限公司 " * 30,
        "😀" * 100,
        "e\u0301" * 200,  # composed by NFC: é is two bytes
        "ก\u0e31\u0e49" * 100,  # Thai: a letter and two marks that do not compose
    ],
)
def test_long_names_are_cut_to_whole_characters(text: str) -> None:
    name = safe_file_name(text, ".docx", max_bytes=100)
    data = name.encode("utf-8")
    assert len(data) <= 100
    assert data.decode("utf-8") == name
    stem = name.removesuffix(".docx")
    assert stem and stem == stem.strip(" .")
    after = unicodedata.normalize("NFC", text)[len(stem)]
    assert not unicodedata.category(after).startswith("M"), "a mark was cut from its letter"
    assert unicodedata.normalize("NFC", text).startswith(stem)


@pytest.mark.parametrize("text", ["", "../..", "CON", "a" * 1000, "\x00\x01", "合同/../x"])
def test_a_name_is_never_a_path_and_never_empty(text: str, tmp_path: Path) -> None:
    name = safe_file_name(text, ".pdf")
    assert name.endswith(".pdf") and len(name) > len(".pdf")
    assert not any(c in name for c in UNSAFE)
    assert (tmp_path / name).parent == tmp_path
    (tmp_path / name).write_bytes(b"ok")  # and the file system takes it


def test_a_bad_suffix_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="suffix"):
        safe_file_name("x", "/../docx")


def test_unique_path_numbers_names_already_taken(tmp_path: Path) -> None:
    assert unique_path(tmp_path, "王伟.docx") == tmp_path / "王伟.docx"
    (tmp_path / "王伟.docx").write_bytes(b"1")
    assert unique_path(tmp_path, "王伟.docx") == tmp_path / "王伟 (2).docx"
    (tmp_path / "王伟 (2).docx").write_bytes(b"2")
    assert unique_path(tmp_path, "王伟.docx") == tmp_path / "王伟 (3).docx"
    taken = {"王伟 (3).docx", "a.docx"}
    assert unique_path(tmp_path, "王伟.docx", taken) == tmp_path / "王伟 (4).docx"
    assert unique_path(tmp_path, "A.docx", taken) == tmp_path / "A (2).docx"
