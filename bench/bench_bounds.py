"""What the bounds cost (issue 13): scanning a sheet before python-calamine reads it.

``FileBook`` unpacks each sheet it is about to read once more, in chunks, to find its real
extent (``addin.workbook.bounds``), so a cell at ``XFD1048576`` is refused instead of killing
the process. The anchor is the read the scan protects: bare python-calamine opening the file
and reading the same sheet (``to_python(skip_empty_area=False)``). Target: the scan costs at
most half of that read (it runs once per sheet and save, before the read).

    .venv/bin/python bench/bench_bounds.py [--rows 100000] [--cols 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
TARGET = 0.5


def column(j: int) -> str:
    out = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def write_book(path: Path, rows: int, cols: int) -> None:
    letters = [column(j) for j in range(cols)]
    parts = [f'<worksheet xmlns="{NS}"><sheetData>']
    for r in range(1, rows + 1):
        cells = "".join(
            f'<c r="{c}{r}" t="inlineStr"><is><t>v{r}-{j}</t></is></c>'
            if j % 2
            else f'<c r="{c}{r}"><v>{r * 7 + j}</v></c>'
            for j, c in enumerate(letters)
        )
        parts.append(f'<row r="{r}">{cells}</row>')
    parts.append("</sheetData></worksheet>")
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Default Extension="rels" ContentType='
            '"application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
            "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{NS_R}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{NS}" xmlns:r="{NS_R}"><sheets>'
            '<sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{NS_R}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>",
        )
        z.writestr("xl/worksheets/sheet1.xml", "".join(parts))


def calamine_read(path: Path) -> int:
    import python_calamine as calamine

    book = calamine.CalamineWorkbook.from_path(str(path))
    try:
        return len(book.get_sheet_by_name("Data").to_python(skip_empty_area=False))
    finally:
        book.close()


def bounds_scan(path: Path) -> tuple[int, int]:
    from addin.workbook import bounds
    from addin.workbook.xlsx.package import Package

    with Package(str(path)) as pkg:
        bounds.check_zip(pkg.entries, str(path))
        info = pkg.info("xl/worksheets/sheet1.xml")
        return bounds.sheet_extent(bounds.inflate(pkg.fp, info, str(path)))


def best(fn, path: Path, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn(path)
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cols", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.xlsx"
        write_book(path, args.rows, args.cols)
        with zipfile.ZipFile(path) as z:
            size = z.getinfo("xl/worksheets/sheet1.xml").file_size
        anchor, rows = best(calamine_read, path, args.repeat)
        scan, extent = best(bounds_scan, path, args.repeat)
    assert extent == (args.rows, args.cols), extent
    ratio = scan / anchor
    print(
        f"sheet of {args.rows:,} rows x {args.cols} columns ({size / 1024**2:.0f} MB of XML)\n"
        f"  python-calamine read (anchor): {anchor:.2f} s ({rows:,} rows)\n"
        f"  bounds scan:                   {scan:.2f} s  -> {ratio:.2f} x the anchor "
        f"(target <= {TARGET:.2f})"
    )
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
