#!/usr/bin/env python
"""Render the demo workbook's Dashboard sheet to ``docs/dashboard.png`` (for the README).

What it does, so the picture can be made again:

1. builds the demo workbook (``addin.demo.build_demo``, a fixed seed and day) in a temporary
   folder — its Settings hold the exchange rates of its USD and EUR deals;
2. runs what ``xlcrm demo`` runs on it (``addin.demo.tour.run_tour``: mail and support mail
   synced, tickets, duplicates, then ``refresh_report`` as ``xlcrm report`` does, reminders and
   rules), so the dashboard is the one ``xlcrm demo`` makes on that day;
3. makes a copy in which the Dashboard is the only sheet, printed on one A3 page (openpyxl
   reads the charts back and writes them again; the workbook itself is not touched);
4. converts that copy to PDF with LibreOffice headless and the PDF to PNG with pdftoppm;
5. with ``--page1``, also prints the workbook itself as it is (the Dashboard is its first
   tab, with its own page setup: landscape, one page wide, a page break between sections)
   and keeps the first printed page, ``…-page1.png``: what File > Print gives.

    python docs/render_dashboard.py [--lang en|zh] [--out docs/dashboard.png] [--dpi 110]
        [--page1]

Needs LibreOffice (``soffice``) and poppler's ``pdftoppm``; a Chinese font for ``--lang zh``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from addin.demo import build_demo  # noqa: E402
from addin.demo.tour import run_tour  # noqa: E402
from addin.report.dashboard import SHEET_NAME  # noqa: E402

DAY = dt.date(2026, 11, 20)
SEED = 2026


def render(lang: str, out: Path, dpi: int, page1: bool = False) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    pdftoppm = shutil.which("pdftoppm")
    if not soffice or not pdftoppm:
        raise SystemExit("needs LibreOffice (soffice) and pdftoppm (apt-get install poppler-utils)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        demo = build_demo(folder / "demo", lang=lang, seed=SEED, today=DAY)  # type: ignore[arg-type]
        tour = run_tour(demo, echo=lambda line: None)
        print("\n".join(tour.dashboard.lines()))

        import openpyxl

        if page1:
            subprocess.run(
                [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(folder), demo.path],
                check=True,
                capture_output=True,
                timeout=300,
            )
            first = folder / "first"
            pdf = str(folder / (demo.path.stem + ".pdf"))
            subprocess.run(
                [pdftoppm, "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", pdf, first],
                check=True,
                timeout=120,
            )
            shutil.copyfile(first.with_suffix(".png"), out.with_name(out.stem + "-page1.png"))

        wb = openpyxl.load_workbook(demo.path)
        name = SHEET_NAME[lang]  # type: ignore[index]
        for ws in list(wb.worksheets):
            if ws.title != name:
                wb.remove(ws)
        ws = wb[name]
        ws.sheet_state = "visible"
        ws.page_setup.paperSize = ws.PAPERSIZE_A3
        ws.page_setup.orientation = "portrait"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 1
        ws.row_breaks.brk = []  # one picture of the whole sheet
        # (the print area stays: it ends where the charts do, which the cells alone do not)
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_margins.left = ws.page_margins.right = 0.3
        ws.page_margins.top = ws.page_margins.bottom = 0.3
        single = folder / "dashboard.xlsx"
        wb.save(single)

        subprocess.run(
            [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(single)],
            check=True,
            capture_output=True,
            timeout=180,
        )
        pdf = folder / "dashboard.pdf"
        stem = folder / "page"
        subprocess.run(
            [pdftoppm, "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", pdf, stem],
            check=True,
            timeout=120,
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(stem.with_suffix(".png"), out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", choices=("en", "zh"), default="en")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboard.png")
    parser.add_argument("--dpi", type=int, default=110)
    parser.add_argument("--page1", action="store_true", help="also the first printed page")
    args = parser.parse_args(argv)
    path = render(args.lang, args.out, args.dpi, args.page1)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} kB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
