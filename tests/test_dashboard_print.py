"""The Dashboard as a person sees it on paper.

The demo workbook, after the tour ``xlcrm demo`` runs (mail, tickets, dedupe, then the
report), is printed by LibreOffice to PDF — the whole workbook, as File > Print would — and
the PDF is read back with poppler (``pdfinfo`` for the pages, ``pdftotext -bbox`` for where
every word landed). Nothing here looks at the XML xlcrm wrote: only at the printed pages.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import Convert, missing

from addin.demo import build_demo
from addin.demo.tour import run_tour
from addin.report.dashboard import LABELS, SHEET_NAME
from addin.report.value import SEGMENTS

DAY = dt.date(2026, 11, 20)
MAX_DASHBOARD_PAGES = 6


@dataclass
class Word:
    text: str
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass
class Page:
    width: float
    height: float
    words: list[Word]

    def count(self, word: str) -> int:
        return sum(1 for w in self.words if w.text == word)


@dataclass
class Printed:
    lang: str
    book: Path
    pages: list[Page]  # the whole workbook
    dashboard: list[Page]  # its first pages: the Dashboard is the first tab


def _poppler(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        missing(f"{tool} was not found: apt-get install poppler-utils")
    return found  # type: ignore[return-value]


def read_pdf(pdf: Path) -> list[Page]:
    xml = subprocess.run(
        [_poppler("pdftotext"), "-bbox", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    pages = []
    for m in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', xml, re.S):
        words = [
            Word(unescape(w[4]), float(w[0]), float(w[1]), float(w[2]), float(w[3]))
            for w in re.findall(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                r"(.*?)</word>",
                m.group(3),
            )
        ]
        pages.append(Page(float(m.group(1)), float(m.group(2)), words))
    return pages


@pytest.fixture(scope="module", params=["en", "zh"])
def printed(
    request: pytest.FixtureRequest,
    libreoffice_convert: Convert,
    tmp_path_factory: pytest.TempPathFactory,
) -> Printed:
    lang = request.param
    folder = tmp_path_factory.mktemp(f"print-{lang}")
    demo = build_demo(folder / "demo", lang=lang, seed=2026, today=DAY)
    run_tour(demo, echo=lambda line: None)
    out = folder / "pdf"
    out.mkdir()
    libreoffice_convert(demo.path, "pdf", out)
    pages = read_pdf(out / (demo.path.stem + ".pdf"))
    notes = LABELS["notes"][1 if lang == "zh" else 0]
    last = next(i for i, p in enumerate(pages) if p.count(notes))  # the Dashboard ends there
    return Printed(lang, demo.path, pages, pages[: last + 1])


def dashboard_sheet(printed: Printed) -> Any:
    return openpyxl.load_workbook(printed.book)[SHEET_NAME[printed.lang]]  # type: ignore[index]


def test_the_dashboard_prints_on_a_few_landscape_pages(printed: Printed) -> None:
    pages = printed.dashboard
    assert 2 <= len(pages) <= MAX_DASHBOARD_PAGES, len(pages)
    assert all(p.width > p.height for p in pages), [(p.width, p.height) for p in pages]
    # It is the first tab, so it is what prints first; the first page starts with its heading.
    heading = LABELS["heading"][1 if printed.lang == "zh" else 0].split()[0]
    assert pages[0].words[0].text == heading


def test_every_chart_prints_on_the_page_of_its_table(printed: Printed) -> None:
    wb = openpyxl.load_workbook(printed.book)
    ws = wb[SHEET_NAME[printed.lang]]  # type: ignore[index]
    charts = ws._charts
    assert len(charts) >= 8
    for chart in charts:
        title = "".join(
            run.t for p in chart.title.tx.rich.p for run in (p.r or [])
        )  # the chart's own title
        # The chart starts at its block's header row (0-based here): the title is the row above.
        block_title = ws.cell(chart.anchor._from.row, 1).value
        assert isinstance(block_title, str), title
        if printed.lang == "zh":  # CJK words are runs of characters: count whole titles
            need = 2 if title == block_title else 1
            on = [
                i
                for i, page in enumerate(printed.dashboard)
                if "".join(w.text for w in page.words).count(title.replace(" ", "")) >= need
                and block_title.replace(" ", "") in "".join(w.text for w in page.words)
            ]
        else:
            words = Counter(title.split()) + Counter(block_title.split())
            on = [
                i
                for i, page in enumerate(printed.dashboard)
                if all(page.count(w) >= n for w, n in words.items())
            ]
        assert on, f"chart {title!r} is not on the page of its table {block_title!r}"


def test_headers_sit_over_their_figures_and_nothing_runs_together(printed: Printed) -> None:
    ws = dashboard_sheet(printed)
    first = printed.dashboard[0]
    # The key figures: each figure's right edge is its header's right edge (both are right-
    # aligned in one column), so nobody reads a count under the next header.
    kpis = 0
    for row in ws.iter_rows(min_row=1, max_row=12):
        for cell in row:
            below = ws.cell(cell.row + 1, cell.column)
            if not isinstance(cell.value, str) or not isinstance(below.value, (int, float)):
                continue
            shown = excel_text(below.value, below.number_format)
            figure = [w for w in first.words if w.text == shown]
            assert figure, f"{cell.value}: {shown} is not on the first page"
            value = figure[0]
            header = [
                w
                for w in first.words
                if value.y1 - 30 < w.y2 <= value.y1 + 1 and abs(w.x2 - value.x2) < 2.0
            ]
            assert header, f"no header right-aligned over {shown} ({cell.value})"
            kpis += 1
    assert kpis >= 10
    # No two words on a line touch or overlap: a header cut off by the next cell, or
    # "Deals won 12 monthsWin rate", would.
    for n, page in enumerate(printed.dashboard, start=1):
        lines: dict[int, list[Word]] = {}
        for w in page.words:
            lines.setdefault(round(w.y2), []).append(w)
        for words in lines.values():
            words.sort(key=lambda w: w.x1)
            for a, b in itertools.pairwise(words):
                assert b.x1 - a.x2 > 0.8, f"page {n}: {a.text!r} runs into {b.text!r}"


def test_every_header_prints_whole(printed: Printed) -> None:
    """Every header's words are on the pages (wrapped onto two lines at most, not cut)."""
    ws = dashboard_sheet(printed)
    text = Counter(w.text for p in printed.dashboard for w in p.words)
    joined = "".join(w.text for p in printed.dashboard for w in p.words)
    for row in ws.iter_rows():
        for cell in row:
            if cell.font.bold and isinstance(cell.value, str):
                if printed.lang == "zh":
                    # CJK wraps between any two characters: look for the characters in order.
                    pattern = ".{0,60}?".join(map(re.escape, cell.value.replace(" ", "")))
                    assert re.search(pattern, joined), cell.value
                else:
                    for word, n in Counter(cell.value.split()).items():
                        assert text[word] >= n, f"{cell.value!r}: {word!r} is not printed"


def test_rfm_ranges_read_as_ranges(printed: Printed) -> None:
    words = " ".join(w.text for p in printed.dashboard for w in p.words)
    assert not re.search(r">\s?(\d[\d,]*) – \1\b", words)  # the old ">1 – 1"
    assert "≥" in words and "≤" in words


@pytest.mark.parametrize("printed", ["zh"], indirect=True)
def test_the_chinese_dashboard_has_no_english_label(printed: Printed) -> None:
    text = " ".join(w.text for p in printed.dashboard for w in p.words)
    english = [en for en, _ in LABELS.values() if " " in en] + [s.rule for s in SEGMENTS]
    english = [e.split("{")[0].strip() for e in english]
    leaked = [e for e in english if len(e) > 6 and e in text]
    assert not leaked
    # Month labels keep to one line: "2026年11月" printed as one word, on the table and chart.
    months = [w.text for p in printed.dashboard for w in p.words if re.search(r"\d月", w.text)]
    assert months.count("2026年11月") >= 2, months[:20]


def excel_text(value: float, fmt: str) -> str:
    """What Excel shows for ``value`` in the formats the Dashboard uses (halves round up)."""
    from decimal import ROUND_HALF_UP, Decimal

    def rounded(x: float, places: int) -> Decimal:
        return Decimal(repr(x)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)

    if fmt in ("0.0%", "0%"):
        places = 1 if fmt == "0.0%" else 0
        return f"{rounded(value * 100, places)}%"
    if fmt == "#,##0":
        return f"{rounded(value, 0):,}"
    if fmt in ("0.0", "0.00"):
        return str(rounded(value, len(fmt) - 2))
    return f"{value:g}"
