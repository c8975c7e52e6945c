#!/usr/bin/env python
"""Benchmark: ``addin.query.compile_filter`` predicates against hand-written Python lambdas.

Makes 100,000 customer rows in memory with ``fake_crm.customer`` (deterministic, bilingual,
the rows the workbook benchmark writes: typed values, choice values canonical), then for each
case times, in the same process over the same list of dicts:

* the anchor — a hand-written lambda doing the same selection the way a programmer would
  write it in Python: ``lambda r: r["status"] == "Active"`` and so on (None checks included,
  text lower-cased; it skips NFKC, so it is the faster side on text);
* ours — the compiled filter (compiled once; the compile time is printed apart).

Targets: every case filters 100,000 rows in well under a second (0.25 s), and ours is at most
3 × the anchor. Each loop runs ``--repeat`` times, alternating; the best run of each counts.
Both sides must select the same rows, or the script fails.

    python bench/bench_query.py                    # 100,000 rows, 5 runs each, ~10 s
    python bench/bench_query.py --rows 20000 --repeat 3 --strict
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_crm import customer

from addin.query import compile_filter
from addin.schema import CUSTOMERS

TARGET_RATIO = 3.0  # ours / anchor, at most
TARGET_SECONDS_PER_100K = 0.25
TODAY = dt.date(2024, 6, 1)
CUTOFF = TODAY - dt.timedelta(days=90)

Row = dict[str, Any]


def _region(r: Row) -> bool:
    return r["region"] in ("华东", "华南")


CASES: list[tuple[str, str, Callable[[Row], bool]]] = [
    ("choice ==", 'status == "活跃"', lambda r: r["status"] == "Active"),
    (
        "date < today - 90d",
        "last_contact < today - 90d",
        lambda r: r["last_contact"] is not None and r["last_contact"] < CUTOFF,
    ),
    (
        "and of three",
        'status == "Active" and tier in ["A", "B"] and last_contact < today - 90d',
        lambda r: (
            r["status"] == "Active"
            and r["tier"] in ("A", "B")
            and r["last_contact"] is not None
            and r["last_contact"] < CUTOFF
        ),
    ),
    ("text in list", 'region in ["华东", "华南"]', _region),
    (
        "text contains",
        'company contains "科技"',
        lambda r: r["company"] is not None and "科技" in r["company"].lower(),
    ),
    (
        "list contains",
        'tags contains "vip"',
        lambda r: (
            r["tags"] is not None and "vip" in [t.strip().lower() for t in r["tags"].split(";")]
        ),
    ),
    (
        "or, not, bool",
        'not unsubscribed and (tier == "A" or region == "海外")',
        lambda r: not r["unsubscribed"] and (r["tier"] == "A" or r["region"] == "海外"),
    ),
]


def time_loop(predicate: Callable[[Row], bool], rows: list[Row]) -> tuple[float, int]:
    start = time.perf_counter()
    selected = [r for r in rows if predicate(r)]
    return time.perf_counter() - start, len(selected)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows (default 100,000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each loop; best counts")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--strict", action="store_true", help="exit 1 when over a target")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    rows = [customer(n, args.seed) for n in range(1, args.rows + 1)]
    print(
        f"{len(rows):,} customer rows made in {time.perf_counter() - start:.1f} s "
        f"(Python {platform.python_version()}, {platform.machine()})"
    )
    limit = TARGET_SECONDS_PER_100K * len(rows) / 100_000
    print(
        f"{'case':<20} {'selected':>9} {'compile':>9} {'anchor':>9} {'ours':>9} "
        f"{'ours rows/s':>13} {'ratio':>6}"
    )
    failed = False
    for name, text, anchor in CASES:
        start = time.perf_counter()
        ours = compile_filter(text, spec=CUSTOMERS, today=TODAY)
        compile_ms = (time.perf_counter() - start) * 1000
        anchor_times: list[float] = []
        our_times: list[float] = []
        counts = set()
        for _ in range(args.repeat):
            gc.collect()
            seconds, count = time_loop(anchor, rows)
            anchor_times.append(seconds)
            counts.add(("anchor", count))
            gc.collect()
            seconds, count = time_loop(ours, rows)
            our_times.append(seconds)
            counts.add(("ours", count))
        if len({c for _, c in counts}) != 1:
            print(f"{name}: the two sides selected different rows: {sorted(counts)}")
            return 1
        best_anchor, best_ours = min(anchor_times), min(our_times)
        ratio = best_ours / best_anchor
        over = ratio > TARGET_RATIO or best_ours > limit
        failed |= over
        print(
            f"{name:<20} {count:>9,} {compile_ms:>7.2f}ms {best_anchor * 1000:>7.1f}ms "
            f"{best_ours * 1000:>7.1f}ms {len(rows) / best_ours:>13,.0f} {ratio:>5.2f}x"
            + ("  OVER TARGET" if over else "")
        )
    print(
        f"targets: ours ≤ {TARGET_RATIO:g} × the anchor and ≤ {limit:.2f} s per "
        f"{len(rows):,} rows: {'missed' if failed else 'met'}"
    )
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
