"""Hostile and unusual workbook packages (issues 13 and 17).

Every file here is built by the test itself from hand-written XML and ``zipfile`` — a cell at
``XFD1048576``, a ZIP bomb, a part that lies about its size, a bad CRC, duplicate entries,
strict OOXML, a workbook outside ``xl/``, no ``rels`` default, no styles part, macro sheets.
Reads that could exhaust memory run in a subprocess under ``RLIMIT_AS``: without the bounds,
python-calamine would try to allocate hundreds of gigabytes there and the process would die
instead of printing the refusal the test expects.
"""

from __future__ import annotations

import posixpath
import re
import struct
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from addin.errors import WorkbookError, XlcrmError
from addin.init import create_workbook
from addin.workbook import open_book

ROOT = Path(__file__).resolve().parent.parent
MEMORY_CAP = 1536 * 1024**2  # far below the grid a hostile sheet asks for

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PR = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
CT_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"
CT_MACRO = "application/vnd.ms-excel.macrosheet+xml"
REL_DOC = NS_R + "/officeDocument"
REL_SHEET = NS_R + "/worksheet"
REL_STYLES = NS_R + "/styles"
REL_MACRO = "http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet"
STYLES = (
    f'<styleSheet xmlns="{NS}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font>'
    '</fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill '
    'patternType="gray125"/></fill></fills><borders count="1"><border/></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    "</styleSheet>"
)


def sheet_xml(rows: str, dimension: str | None = None) -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'<worksheet xmlns="{NS}">{dim}<sheetData>{rows}</sheetData></worksheet>'


def cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def build_xlsx(
    path: Path,
    sheets: dict[str, str],
    *,
    folder: str = "xl",
    rels_default: bool = True,
    styles: str | None = "rel-and-part",
    extra: Callable[[zipfile.ZipFile], None] | None = None,
    macro_sheet: bool = False,
) -> Path:
    """A workbook package written entry by entry, the way other producers lay them out."""
    overrides = [(f"/{folder}/workbook.xml", CT_MAIN)]
    rels = []
    sheet_elements = []
    parts: dict[str, str] = {}
    for n, (name, xml) in enumerate(sheets.items(), start=1):
        rels.append((f"rId{n}", REL_SHEET, f"worksheets/sheet{n}.xml"))
        sheet_elements.append(f'<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>')
        parts[f"{folder}/worksheets/sheet{n}.xml"] = xml
        overrides.append((f"/{folder}/worksheets/sheet{n}.xml", CT_SHEET))
    if macro_sheet:
        n = len(sheets) + 1
        rels.append((f"rId{n}", REL_MACRO, "macrosheets/sheet1.xml"))
        sheet_elements.append(f'<sheet name="Macro1" sheetId="{n}" r:id="rId{n}"/>')
        parts[f"{folder}/macrosheets/sheet1.xml"] = (
            '<xm:macrosheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
            '<sheetData><row r="1"><c r="A1" t="str"><f>RETURN()</f><v>0</v></c></row>'
            "</sheetData></xm:macrosheet>"
        )
        overrides.append((f"/{folder}/macrosheets/sheet1.xml", CT_MACRO))
    if styles is not None:
        rels.append(("rIdS", REL_STYLES, "styles.xml"))
        if styles == "rel-and-part":
            parts[f"{folder}/styles.xml"] = STYLES
            overrides.append((f"/{folder}/styles.xml", CT_STYLES))
    parts[f"{folder}/workbook.xml"] = (
        f'<workbook xmlns="{NS}" xmlns:r="{NS_R}"><sheets>{"".join(sheet_elements)}</sheets>'
        "</workbook>"
    )
    parts[f"{folder}/_rels/workbook.xml.rels"] = rels_part(rels)
    parts["_rels/.rels"] = rels_part([("rId1", REL_DOC, f"{folder}/workbook.xml")])
    defaults = '<Default Extension="xml" ContentType="application/xml"/>'
    if rels_default:
        defaults += f'<Default Extension="rels" ContentType="{CT_RELS}"/>'
    else:  # LibreOffice 5/6 and POI: every .rels part by an Override
        overrides += [(f"/{name}", CT_RELS) for name in parts if name.endswith(".rels")]
    types = (
        f'<Types xmlns="{CT_NS}">{defaults}'
        + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
        + "</Types>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types)
        for name, xml in parts.items():
            z.writestr(name, xml)
        if extra is not None:
            extra(z)
    return path


def rels_part(rels: list[tuple[str, str, str]]) -> str:
    body = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{g}"/>' for i, t, g in rels)
    return f'<Relationships xmlns="{NS_PR}">{body}</Relationships>'


def patch_entry(path: Path, name: str, *, crc: int | None = None, size: int | None = None) -> None:
    """Overwrite an entry's CRC or declared unpacked size in both of its ZIP headers."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
    local = info.header_offset
    central = data.find(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(name)] != name.encode():
        central = data.find(b"PK\x01\x02", central + 4)
    if crc is not None:
        struct.pack_into("<I", data, local + 14, crc)
        struct.pack_into("<I", data, central + 16, crc)
    if size is not None:
        struct.pack_into("<I", data, local + 22, size)
        struct.pack_into("<I", data, central + 24, size)
    path.write_bytes(bytes(data))


def run_capped(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python args…`` with at most MEMORY_CAP of address space."""
    limit = (
        "import resource,runpy,sys;"
        f"resource.setrlimit(resource.RLIMIT_AS,({MEMORY_CAP},{MEMORY_CAP}));"
    )
    return subprocess.run(
        [sys.executable, "-c", limit + args[0], *args[1:]],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def cli_capped(*args: str) -> subprocess.CompletedProcess[str]:
    code = "sys.argv=['xlcrm',*sys.argv[1:]];runpy.run_module('addin',run_name='__main__')"
    return run_capped(code, *args)


def far_cell_book(path: Path, dimension: str | None) -> Path:
    rows = (
        '<row r="1">' + cell("A1", "Name") + cell("B1", "Email") + "</row>"
        '<row r="2">' + cell("A2", "Wang Wei") + cell("B2", "wang@example.cn") + "</row>"
        '<row r="1048576">' + cell("XFD1048576", "x") + "</row>"
    )
    return build_xlsx(path, {"Sheet1": sheet_xml(rows, dimension)})


# -- bounds: a sheet reaching XFD1048576 -------------------------------------------------------


@pytest.mark.parametrize("dimension", [None, "A1:B2", "A1:XFD1048576"])
def test_info_refuses_a_sheet_reaching_the_last_cell(tmp_path: Path, dimension: str | None) -> None:
    """Missing, lying and honest ``<dimension>``: the real extent decides, before reading."""
    book = far_cell_book(tmp_path / "far.xlsx", dimension)
    proc = cli_capped("info", str(book))
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert (
        f"{book}: sheet 'Sheet1' reaches cell XFD1048576: read as a grid that is 1,048,576 rows "
        "by 16,384 columns, more than the 25,000,000 cells xlcrm reads"
    ) in proc.stderr
    assert "hint: in sheet 'Sheet1', delete the rows and columns past your data" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_import_refuses_a_file_reaching_the_last_cell(tmp_path: Path) -> None:
    crm = create_workbook(tmp_path / "crm.xlsx", "en")
    before = crm.read_bytes()
    source = far_cell_book(tmp_path / "contacts.xlsx", None)
    proc = cli_capped("import", str(crm), "customers", str(source))
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "contacts.xlsx!Sheet1: sheet 'Sheet1' reaches cell XFD1048576" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert crm.read_bytes() == before


def test_the_service_import_call_refuses_within_the_memory_cap(tmp_path: Path) -> None:
    """``import_file`` is what the service's Import command calls with the uploaded file."""
    crm = create_workbook(tmp_path / "crm.xlsx", "en")
    source = far_cell_book(tmp_path / "upload.xlsx", None)
    code = (
        "exec("
        + repr(
            textwrap.dedent(
                f"""
from addin.errors import XlcrmError
from addin.importing import import_file
from addin.workbook import open_book
book = open_book({str(crm)!r})
try:
    import_file(book, "customers", {str(source)!r})
except XlcrmError as exc:
    print("refused:", exc)
"""
            )
        )
        + ")"
    )
    proc = run_capped(code)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "refused: upload.xlsx!Sheet1: sheet 'Sheet1' reaches cell XFD1048576" in proc.stdout


def test_cells_without_a_reference_count_towards_the_extent(tmp_path: Path) -> None:
    """A row of 20,000 cells without ``r`` and one numbered cell in the last row: calamine
    places the unnumbered cells by counting, so they widen the grid all the same."""
    wide = '<row r="1">' + "<c><v>1</v></c>" * 20_000 + "</row>"
    last = '<row r="1048576"><c r="A1048576"><v>2</v></c></row>'
    book = build_xlsx(tmp_path / "wide.xlsx", {"Data": sheet_xml(wide + last)})
    proc = cli_capped("info", str(book))
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "sheet 'Data' reaches cell" in proc.stderr
    # An upper bound: unnumbered cells are counted on top of the last numbered column (A).
    assert "1,048,576 rows by 20,001 columns" in proc.stderr


def test_a_far_cell_hidden_early_in_the_sheet_is_found(tmp_path: Path) -> None:
    """The far cell sits in the first row element, before ordinary sorted rows."""
    rows = '<row r="1">' + cell("A1", "Name") + cell("XFD1048576", "far") + "</row>"
    rows += "".join(f'<row r="{r}">' + cell(f"A{r}", f"n{r}") + "</row>" for r in range(2, 500))
    book = build_xlsx(tmp_path / "early.xlsx", {"Sheet1": sheet_xml(rows, "A1:A499")})
    proc = cli_capped("info", str(book))
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "sheet 'Sheet1' reaches cell XFD1048576" in proc.stderr


def test_formatting_only_cells_far_away_are_fine(tmp_path: Path) -> None:
    """``<c r="XFD1048576" s="1"/>`` holds no value; calamine leaves it out of the grid."""
    rows = (
        '<row r="1">'
        + cell("A1", "Name")
        + '</row><row r="1048576"><c r="XFD1048576" s="0"/></row>'
    )
    book = build_xlsx(tmp_path / "styled.xlsx", {"Sheet1": sheet_xml(rows, "A1:XFD1048576")})
    proc = cli_capped("info", str(book))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Customers" in proc.stdout


# -- bounds: ZIP bombs, lying sizes, bad CRCs, duplicates ---------------------------------------


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(tmp_path: Path) -> None:
    padding = " " * (24 * 1024**2)  # deflates about 1,000 to 1
    rows = '<row r="1">' + cell("A1", "Name") + "</row>"
    book = build_xlsx(tmp_path / "bomb.xlsx", {"Sheet1": sheet_xml(rows + padding)})
    with pytest.raises(WorkbookError) as caught:
        open_book(book)
    text = str(caught.value)
    assert re.search(
        r"bomb\.xlsx: the part xl/worksheets/sheet1\.xml inflates [\d,]+ times \(\d+ KB to 24 MB\):"
        r" a ZIP bomb, not something Excel writes",
        text,
    ), text
    assert "hint: do not use this file" in text


def test_an_oversized_part_is_refused_from_the_zip_directory(tmp_path: Path) -> None:
    book = build_xlsx(tmp_path / "huge.xlsx", {"Sheet1": sheet_xml("")})
    patch_entry(book, "xl/worksheets/sheet1.xml", size=600 * 1024**2)
    with pytest.raises(WorkbookError) as caught:
        open_book(book)
    assert str(caught.value).startswith(
        f"{book}: the part xl/worksheets/sheet1.xml unpacks to 600 MB, more than xlcrm reads "
        "(512 MB)\n  hint: split the data over smaller files"
    )


def test_a_part_lying_about_its_size_is_refused_while_unpacking(tmp_path: Path) -> None:
    rows = "".join(f'<row r="{r}">' + cell(f"A{r}", f"row {r}") + "</row>" for r in range(1, 2000))
    book = build_xlsx(tmp_path / "liar.xlsx", {"Sheet1": sheet_xml(rows)})
    patch_entry(book, "xl/worksheets/sheet1.xml", size=1000)
    proc = cli_capped("info", str(book))
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert (
        f"{book}: the part xl/worksheets/sheet1.xml unpacks to more than the 1 KB its header "
        "declares (a ZIP bomb or a damaged file)"
    ) in proc.stderr


def test_a_bad_crc_in_a_sheet_is_a_clear_refusal(tmp_path: Path) -> None:
    rows = '<row r="1">' + cell("A1", "Name") + "</row>"
    book = build_xlsx(tmp_path / "crc.xlsx", {"Sheet1": sheet_xml(rows)})
    patch_entry(book, "xl/worksheets/sheet1.xml", crc=0x12345678)
    before = book.read_bytes()
    with open_book(book) as wb, pytest.raises(WorkbookError) as caught:
        wb.table("customers")
    assert str(caught.value) == (
        f"{book}: the file is damaged: part xl/worksheets/sheet1.xml cannot be read (its "
        "checksum (CRC) does not match its data)\n  hint: open it in Excel (which offers to "
        "repair it) and save it as a new Excel Workbook (.xlsx), or use a backup"
    )
    assert book.read_bytes() == before


def test_a_bad_crc_in_the_relationships_is_a_clear_refusal(tmp_path: Path) -> None:
    book = build_xlsx(tmp_path / "crc.xlsx", {"Sheet1": sheet_xml("")})
    patch_entry(book, "xl/_rels/workbook.xml.rels", crc=0)
    with pytest.raises(WorkbookError) as caught:
        open_book(book)
    assert str(caught.value).startswith(
        f"{book}: the file is damaged: part xl/_rels/workbook.xml.rels cannot be read "
        "(Bad CRC-32 for file 'xl/_rels/workbook.xml.rels')\n  hint: open it in Excel"
    )


def test_two_entries_with_one_name_are_refused(tmp_path: Path) -> None:
    def twice(z: zipfile.ZipFile) -> None:
        with pytest.warns(UserWarning, match="Duplicate name"):
            z.writestr(
                "xl/worksheets/sheet1.xml", sheet_xml('<row r="1">' + cell("A1", "B") + "</row>")
            )

    book = build_xlsx(tmp_path / "dup.xlsx", {"Sheet1": sheet_xml("")}, extra=twice)
    with pytest.raises(WorkbookError) as caught:
        open_book(book)
    assert str(caught.value) == (
        f"{book}: the file holds two entries named 'xl/worksheets/sheet1.xml', so it is "
        "ambiguous which one counts (a damaged or tampered package)\n  hint: open it in Excel "
        "or LibreOffice and save it again as a new Excel Workbook (.xlsx)"
    )


def test_not_a_zip_and_broken_xml_are_clear_refusals(tmp_path: Path) -> None:
    text = tmp_path / "notes.xlsx"
    text.write_text("just text", encoding="utf-8")
    proc = cli_capped("info", str(text))
    assert proc.returncode == 1
    assert f"{text}: not an Excel .xlsx/.xlsm file (File is not a zip file)" in proc.stderr

    book = build_xlsx(tmp_path / "broken.xlsx", {"Sheet1": sheet_xml("")})
    data = book.read_bytes()
    with zipfile.ZipFile(book) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"][:-12]  # cut off the closing tags
    with zipfile.ZipFile(book, "w") as z:
        for name, body in parts.items():
            z.writestr(name, body)
    assert book.read_bytes() != data
    proc = cli_capped("info", str(book))
    assert proc.returncode == 1
    assert (
        f"{book}: the file is damaged: part xl/workbook.xml is not well-formed XML" in proc.stderr
    )
    assert "Traceback" not in proc.stderr


def test_strict_ooxml_says_how_to_save_it(tmp_path: Path) -> None:
    book = tmp_path / "strict.xlsx"
    strict = "http://purl.oclc.org/ooxml"
    with zipfile.ZipFile(book, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            f'<Types xmlns="{CT_NS}"><Default Extension="xml" ContentType="application/xml"/>'
            f'<Default Extension="rels" ContentType="{CT_RELS}"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            rels_part(
                [
                    (
                        "rId1",
                        f"{strict}/officeDocument/relationships/officeDocument",
                        "xl/workbook.xml",
                    )
                ]
            ),
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{strict}/spreadsheetml/main"><sheets/></workbook>',
        )
    proc = cli_capped("info", str(book))
    assert proc.returncode == 1
    assert proc.stderr.strip().endswith(
        f"{book}: the file is saved as 'Strict Open XML', which xlcrm cannot read or write\n"
        "  hint: open it in Excel and use File > Save As > 'Excel Workbook (.xlsx)' "
        "(not 'Strict Open XML Spreadsheet'), then run again"
    )


# -- packaging: what xlcrm adds resolves and has a content type -------------------------------


def parts_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def package_problems(parts: dict[str, bytes]) -> list[str]:
    """The packaging rules: a content type for every part, every relationship resolving."""
    types = ET.fromstring(parts["[Content_Types].xml"])
    defaults = {e.get("Extension", "").lower() for e in types.iter(f"{{{CT_NS}}}Default")}
    overrides = {e.get("PartName", "").lower() for e in types.iter(f"{{{CT_NS}}}Override")}
    out = []
    for name in parts:
        if name == "[Content_Types].xml":
            continue
        if "/" + name.lower() not in overrides and name.rsplit(".", 1)[-1].lower() not in defaults:
            out.append(f"{name}: no content type")
        if name.endswith(".rels"):
            folder, base = posixpath.split(name)
            source = posixpath.join(posixpath.dirname(folder), base[:-5])
            for rel in ET.fromstring(parts[name]).iter(f"{{{NS_PR}}}Relationship"):
                if rel.get("TargetMode") == "External":
                    continue
                target = rel.get("Target", "")
                resolved = (
                    target.lstrip("/")
                    if target.startswith("/")
                    else posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
                )
                if resolved not in parts:
                    out.append(f"{name}: {target} resolves to no part")
    return out


def add_crm_tables(path: Path) -> None:
    with open_book(path) as book:
        for key in ("customers", "deals", "interactions"):
            book.add_table(key)


def user_book(path: Path, **options: object) -> Path:
    rows = '<row r="1">' + cell("A1", "Id") + cell("B1", "Note") + "</row>"
    rows += '<row r="2">' + cell("A2", "7") + cell("B2", "keep me") + "</row>"
    return build_xlsx(path, {"Data": sheet_xml(rows)}, **options)  # type: ignore[arg-type]


def test_added_rels_parts_get_a_content_type_without_a_rels_default(
    tmp_path: Path, libreoffice_csv: Callable[[Path], dict[str, list[list[str]]]]
) -> None:
    book = user_book(tmp_path / "lo5.xlsx", rels_default=False)
    before = parts_of(book)
    add_crm_tables(book)
    after = parts_of(book)
    assert package_problems(after) == []
    assert b'<Default Extension="rels"' in after["[Content_Types].xml"]
    assert after["xl/worksheets/sheet1.xml"] == before["xl/worksheets/sheet1.xml"]
    sheets = libreoffice_csv(book)
    assert sheets["Data"][:2] == [["Id", "Note"], ["7", "keep me"]]
    assert sheets["Customers"][0][:3] == ["ID", "Name", "Company"]


def test_a_workbook_outside_xl_gets_its_new_sheets_beside_it(
    tmp_path: Path, libreoffice_csv: Callable[[Path], dict[str, list[list[str]]]]
) -> None:
    book = user_book(tmp_path / "wtf.xlsx", folder="wtf")
    before = parts_of(book)
    add_crm_tables(book)
    with open_book(book) as wb:
        wb.table("customers").insert({"name": "王伟", "email": "wang@example.cn"})
    after = parts_of(book)
    assert package_problems(after) == []
    assert after["wtf/worksheets/sheet1.xml"] == before["wtf/worksheets/sheet1.xml"]
    new = [n for n in after if re.fullmatch(r"wtf/worksheets/sheet\d+\.xml", n) and n not in before]
    assert len(new) == 3  # Customers, Deals, Interactions, beside the user's sheet
    with open_book(book) as wb:
        customers = wb.table("customers")
        assert [r["name"] for r in customers.rows()] == ["王伟"]
        assert customers.layout.sheet == "Customers"
        assert wb.table("deals").layout.sheet == "Deals"
    sheets = libreoffice_csv(book)
    assert sheets["Data"][:2] == [["Id", "Note"], ["7", "keep me"]]
    assert sheets["Customers"][1][1] == "王伟"


@pytest.mark.parametrize("styles", [None, "rel-only"], ids=["no-styles", "dangling-styles-rel"])
def test_a_missing_styles_part_is_created(tmp_path: Path, styles: str | None) -> None:
    book = user_book(tmp_path / "nostyles.xlsx", styles=styles)
    add_crm_tables(book)
    with open_book(book) as wb:
        wb.table("customers").insert({"name": "Anna", "created": "2026-05-04"})
    after = parts_of(book)
    assert package_problems(after) == []
    assert "xl/styles.xml" in after
    with open_book(book) as wb:
        row = next(iter(wb.table("customers").rows()))
    assert str(row["created"])[:10] == "2026-05-04"


def test_macro_sheets_are_kept_and_read_around(tmp_path: Path) -> None:
    """calamine refuses a workbook with an Excel 4.0 macro sheet ("Unrecognized sheet type");
    xlcrm hides it from calamine, adds its tables and leaves the macro sheet as it was."""
    book = user_book(tmp_path / "macro.xlsm", macro_sheet=True)
    before = parts_of(book)
    add_crm_tables(book)
    with open_book(book) as wb:
        wb.table("customers").insert({"name": "Li Na"})
    after = parts_of(book)
    assert package_problems(after) == []
    assert after["xl/macrosheets/sheet1.xml"] == before["xl/macrosheets/sheet1.xml"]
    assert b'<sheet name="Macro1"' in after["xl/workbook.xml"]
    proc = cli_capped("info", str(book))
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"Customers\s+1 rows\s+sheet 'Customers'", proc.stdout)


# -- the filter language -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "created > today + 99999999999d",
            "--where: at 17: today + 99999999999d is not a date between the years 1 and 9999",
        ),
        (
            "created + 99999999999d > today",
            "--where: at 9: created + 99999999999d moves a date by more than 9,999 years",
        ),
        ("value > 1" + " + 1" * 1900, "--where: at 1: the filter is 7,609 characters long"),
        ("value > 1" + "+1" * 1300, "--where: at 72: a sum may have at most 32 terms"),
    ],
)
def test_filter_overflows_are_usage_errors(text: str, message: str) -> None:
    from addin.query import compile_filter

    with pytest.raises(XlcrmError) as caught:
        compile_filter(text, spec="deals", where="--where")
    assert str(caught.value).startswith(message)
    assert "hint:" in str(caught.value)


# -- .docx templates ---------------------------------------------------------------------------


def test_a_docx_with_two_document_parts_is_refused(tmp_path: Path) -> None:
    from addin.contracts.docx import WordTemplate, WordTemplateError
    from addin.templating import TemplateEnvironment

    path = tmp_path / "twice.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", f'<Types xmlns="{CT_NS}"/>')
        z.writestr("word/document.xml", "<w:document/>")
        with pytest.warns(UserWarning, match="Duplicate name"):
            z.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(WordTemplateError) as caught:
        WordTemplate(path, TemplateEnvironment())
    assert str(caught.value) == (
        f"{path}: the file holds two entries named 'word/document.xml', so it is ambiguous "
        "which one counts (a damaged or tampered package)\n  hint: open it in Word or "
        "LibreOffice and save it again as a new Word Document (.docx)"
    )


def test_a_docx_zip_bomb_is_refused(tmp_path: Path) -> None:
    from addin.contracts.docx import WordTemplate, WordTemplateError
    from addin.templating import TemplateEnvironment

    path = tmp_path / "contract.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", f'<Types xmlns="{CT_NS}"/>')
        z.writestr("word/document.xml", "<w:document/>" + " " * (24 * 1024**2))
    with pytest.raises(WordTemplateError) as caught:
        WordTemplate(path, TemplateEnvironment())
    assert "the part word/document.xml inflates" in str(caught.value)
    assert "save it again as a new Word Document (.docx)" in str(caught.value)
