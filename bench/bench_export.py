#!/usr/bin/env python
"""Benchmark: ``xlcrm export --format json`` of 300,000 interactions (issue #16).

The target: JSON export streams at CSV speed, within 1.5 × the anchor, which is the least any
JSON export of the sheet must do — a bare ``python-calamine`` read of the Interactions sheet
plus one ``json.dumps`` of its rows as objects, written to the same place.

Each run is a fresh Python process whose standard output goes to ``/dev/null``, like
``xlcrm export crm.xlsx interactions --format json > /dev/null``: the CLI (``python -m addin``),
its imports, the workbook's opening, typing, filtering and formula escaping included. CSV is
printed beside it for reference. The workbook comes from ``bigcrm.py`` (built once, cached in
``bench/.cache/``); the runs interleave and the best of ``--repeat`` counts.

    python bench/bench_export.py                      # 300,000 interactions, best of 3
    python bench/bench_export.py --interactions 30000 --customers 10000 --deals 5000
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import bigcrm  # noqa: E402

TARGET = 1.5  # ours (JSON) / anchor, at most


def child_anchor(path: str, sheet: str) -> None:
    """A bare read of the sheet and one json.dumps of its rows as objects, to stdout."""
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(path).get_sheet_by_name(sheet).to_python()
    header, body = rows[0], rows[1:]
    data = [dict(zip(header, row)) for row in body]
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def interactions_sheet(path: Path) -> str:
    from addin.workbook import open_book

    book = open_book(path, backups=0)
    try:
        sheet = book.table("interactions").layout.sheet
    finally:
        book.close()
    return str(sheet)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--deals", type=int, default=50_000)
    parser.add_argument("--interactions", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--strict", action="store_true", help="exit 1 when over the target")
    parser.add_argument("--child", nargs=2, metavar=("PATH", "SHEET"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_anchor(*args.child)
        return 0

    source = bigcrm.cached_book(args.customers, args.deals, args.interactions, args.seed)
    sheet = interactions_sheet(source)
    print(
        f"workbook {source.name} ({source.stat().st_size / 1e6:.1f} MB), "
        f"{args.interactions:,} interactions; Python {platform.python_version()}"
    )
    source.read_bytes()  # into the page cache, like every run after it
    runs: dict[str, list[float]] = {"anchor": [], "json": [], "csv": []}
    cli = [sys.executable, "-m", "addin", "export", str(source), "interactions", "--format"]
    for _ in range(args.repeat):
        runs["anchor"].append(timed([sys.executable, __file__, "--child", str(source), sheet]))
        runs["json"].append(timed([*cli, "json"]))
        runs["csv"].append(timed([*cli, "csv"]))
    best = {name: min(times) for name, times in runs.items()}
    ratio = best["json"] / best["anchor"]
    print(f"anchor (calamine read + json.dumps): {best['anchor']:6.2f} s")
    print(f"xlcrm export --format json:          {best['json']:6.2f} s")
    print(f"xlcrm export --format csv:           {best['csv']:6.2f} s")
    verdict = "OK" if ratio <= TARGET else "OVER"
    print(f"json / anchor = {ratio:.2f}× (target ≤ {TARGET}×) {verdict}")
    print(f"json / csv    = {best['json'] / best['csv']:.2f}×")
    return 1 if args.strict and ratio > TARGET else 0


if __name__ == "__main__":
    raise SystemExit(main())
