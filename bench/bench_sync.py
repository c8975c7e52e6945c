#!/usr/bin/env python
"""Benchmark: a sync run's parse-and-link of 10,000 local messages against 100,000 customers.

Issue #3's target: the work a sync run does per message — read it from a local mailbox, parse
it, decide what it is (ours or theirs, auto-reply, bounce, newsletter) and link it to a
customer and a deal — within 1.5 × of the floor, a bare ``email.message_from_bytes`` loop over
the same files.

* **The floor** — list the Maildir with ``os.scandir``, read every file, and
  ``email.message_from_bytes(raw, policy=compat32)`` it: the least any Python sync built on
  the standard library does with the same messages.
* **Ours** — what ``sync_mailbox`` does between opening the workbook and writing it:
  ``MaildirMailbox.changes`` + ``fetch``, ``parse_message``, and the run's linking (address,
  thread and domain indexes built from the 100,000 customers' rows, then one decision per
  message, rows and effects collected). The workbook is read before the clock starts (that is
  ``bench_workbook.py``'s (a)) and nothing is saved (its (b)).

The messages are ``bench_parse.py``'s mix (Chinese and English, GBK, HTML-only, replies,
attachments, auto-replies, bounces), in a Maildir in a temporary folder. The customers:
100,000 rows whose addresses cover about half of the messages' senders, the rest unknown
(reported, or linked by company domain). The workbook is built once and cached in
``bench/.cache/`` (git-ignored).

    python bench/bench_sync.py                  # 10,000 messages, 100,000 customers
    python bench/bench_sync.py --messages 2000 --customers 20000 --repeat 2 --strict
"""

from __future__ import annotations

import argparse
import email
import gc
import os
import platform
import sys
import tempfile
import time
from email.policy import compat32
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_parse import COMPANIES, make_messages  # noqa: E402

from addin.init import create_workbook  # noqa: E402
from addin.mailsync.report import SyncReport  # noqa: E402
from addin.mailsync.run import SyncOptions, _fetch, _Run  # noqa: E402
from addin.workbook import open_book  # noqa: E402
from sync.local import MaildirMailbox  # noqa: E402

TARGET = 1.5  # ours / floor, at most
ME = "user0@example.cn"


def build_book(path: Path, customers: int, seed: int) -> None:
    """``customers`` rows: every other one a sender of the message mix, the rest elsewhere."""
    rows = []
    for n in range(customers):
        if n % 2 == 0 and n // 2 < 10_000 * len(COMPANIES):
            user, domain = divmod(n // 2, len(COMPANIES))
            address = f"user{user}@{COMPANIES[domain]}"
        else:
            address = f"buyer{n}@company{n % 9_000}.com.cn"
        second = f"; u{n}@qq.com" if n % 7 == 0 else ""
        rows.append({"name": f"客户{n}", "company": f"公司{n % 9_000}", "email": address + second})
    create_workbook(path)
    with open_book(path, backups=0) as book:
        book.table("customers").insert_all(rows)
        book.table("deals").insert_all(
            {"customer_id": f"C{n + 1:04d}", "title": f"Deal {n}", "stage": "Proposal"}
            for n in range(0, customers, 3)
        )


def write_maildir(root: Path, messages: list[bytes]) -> None:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    for n, data in enumerate(messages):
        (root / "cur" / f"{1_700_000_000 + n}.M{n}P1.bench:2,S").write_bytes(data)


def floor(root: Path) -> int:
    count = 0
    with os.scandir(root / "cur") as entries:
        for entry in entries:
            with open(entry.path, "rb") as f:
                email.message_from_bytes(f.read(), policy=compat32)
            count += 1
    return count


def ours(book_path: Path, root: Path) -> tuple[SyncReport, float, float]:
    """Parse and link everything; returns the report, the seconds it took (the workbook read
    before the clock starts) and the seconds of that spent building the indexes."""
    book = open_book(book_path, backups=0)
    try:
        for name in ("customers", "deals", "interactions", "sends"):
            book.table(name)  # read before the clock: bench_workbook.py measures reading
        start = time.perf_counter()
        mailbox = MaildirMailbox(f"maildir:{root}", address=ME)
        report = SyncReport(ME, dry_run=True)
        run = _Run(book, mailbox, SyncOptions(dry_run=True), report)
        indexes = time.perf_counter() - start
        refs = mailbox.changes("INBOX", None).refs
        fetched = _fetch(mailbox, refs, {"INBOX": "inbox"}, None)
        run.take_all(fetched)
        report.fetched = len(fetched)
        return report, time.perf_counter() - start, indexes
    finally:
        book.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--strict", action="store_true", help="exit 1 when over the target")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "bench" / ".cache")
    args = parser.parse_args(argv)

    args.cache_dir.mkdir(parents=True, exist_ok=True)
    book_path = args.cache_dir / f"sync-{args.customers}-{args.seed}-v1.xlsx"
    if not book_path.exists():
        started = time.perf_counter()
        partial = book_path.with_suffix(".partial.xlsx")
        partial.unlink(missing_ok=True)
        build_book(partial, args.customers, args.seed)
        partial.replace(book_path)
        print(f"built {book_path.name} in {time.perf_counter() - started:.0f} s")
    messages = [data for _, data in make_messages(args.messages, args.seed)]
    print(
        f"{len(messages):,} messages ({sum(map(len, messages)) / 1e6:.1f} MB) against "
        f"{args.customers:,} customers (Python {platform.python_version()}, {platform.machine()})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "Maildir"
        write_maildir(root, messages)
        floor(root)  # warm the page cache for both
        floor_times, our_times, index_times = [], [], []
        report = None
        for _ in range(args.repeat):
            gc.collect()
            start = time.perf_counter()
            floor(root)
            floor_times.append(time.perf_counter() - start)
            gc.collect()
            report, seconds, indexes = ours(book_path, root)
            our_times.append(seconds)
            index_times.append(indexes)
    assert report is not None
    best_floor, best_ours = min(floor_times), min(our_times)
    ratio = best_ours / best_floor
    print(f"  floor  scandir + read + email.message_from_bytes: {best_floor:6.2f} s")
    print(
        f"  ours   list + fetch + parse + link:             {best_ours:6.2f} s "
        f"(of which indexes of {args.customers:,} customers: {min(index_times):.2f} s)"
    )
    verdict = "ok" if ratio <= TARGET else "OVER TARGET"
    print(f"  ratio  {ratio:.2f} × (target ≤ {TARGET} ×): {verdict}")
    print(
        f"  linked {report.new:,} messages ({dict(report.linked_by)}), "
        f"skipped {dict(report.skipped)}"
    )
    return 1 if args.strict and ratio > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
