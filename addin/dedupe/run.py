"""A ``xlcrm dedupe`` run: read the workbook once, apply decisions, find pairs, save once.

With ``--apply`` the decisions already on the Duplicates sheet are carried out first, then the
search runs on the result, so the sheet a person opens afterwards describes the workbook as it
now is (merged pairs ``merged``, pairs that involved a merged customer ``gone``, new pairs among
the survivors ``open``). Merges, re-pointed rows, notes and the review sheet are written in one
save: a failure anywhere leaves the workbook as it was.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from ..customers import DEFAULT_REGION
from ..errors import UsageError
from ..settings import read_settings
from ..workbook import Book
from .match import DEFAULT_THRESHOLD, PROGRESS_EVERY, Found, find_pairs, prepare
from .merge import LINKED_TABLES, apply_decisions
from .normalize import supported_region
from .report import DedupeReport
from .review import update_review


def _now() -> dt.datetime:
    return dt.datetime.now().replace(second=0, microsecond=0)


@dataclass
class DedupeOptions:
    apply: bool = False
    threshold: int = DEFAULT_THRESHOLD
    region: str | None = None  # default: the Settings' phone region, else CN
    now: Callable[[], dt.datetime] = field(default=_now)
    # progress(done, total, step): step "linked" (deals, interactions and tickets read),
    # "customers" (read and normalised), then "pairs"
    # (candidate pairs scored): a big workbook takes a minute, and a person wants to see it move.
    progress: Callable[[int, int, str], None] | None = field(default=None, compare=False)


def phone_region(book: Book, region: str | None) -> str:
    """``--region``, else the Settings table's *Phone region*, else CN; checked."""
    where = "--region"
    if not region:
        settings = read_settings(book)
        region = settings.text("phone_region")
        where = settings.where("phone_region")
    region = (region or DEFAULT_REGION).strip().upper()
    if not supported_region(region):
        raise UsageError(
            where,
            f"{region!r} is not a region phone numbers know",
            "use a two-letter country code such as CN, HK, TW, SG or US",
        )
    return region


def linked_counts(book: Book, progress: Callable[[int, int], None] | None = None) -> Counter[str]:
    """How many deals, interactions and tickets name each customer (folded id).
    ``progress`` hears of the rows read (on a big workbook, the first seconds of a run)."""
    counts: Counter[str] = Counter()
    tables = [book.table(name) for name in LINKED_TABLES if book.has_table(name)]
    tables = [table for table in tables if "customer_id" in table.columns]
    total = sum(len(table) for table in tables)
    done = 0
    for table in tables:
        for row in table.rows():
            done += 1
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(done, total)
            if c := row.get("customer_id"):
                counts[str(c).strip().casefold()] += 1
    if progress is not None:
        progress(total, total)
    return counts


def find_duplicates(
    book: Book,
    region: str = DEFAULT_REGION,
    threshold: int = DEFAULT_THRESHOLD,
    progress: Callable[[int, int, str], None] | None = None,
) -> Found:
    """The likely duplicate pairs and invalid values among the book's customers (no writes)."""
    customers = book.table("customers")
    records = prepare(
        customers.rows(),
        region,
        linked_counts(book, _step(progress, "linked")),
        _step(progress, "customers"),
        total=len(customers),
    )
    return find_pairs(records, threshold, _step(progress, "pairs"))


def _step(
    progress: Callable[[int, int, str], None] | None, name: str
) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(done, total, name)


def dedupe_customers(book: Book, options: DedupeOptions | None = None) -> DedupeReport:
    """``xlcrm dedupe``: find (and with ``apply``, merge) duplicate customers, in memory —
    the caller saves (or discards) in one step."""
    options = options or DedupeOptions()
    if not 0 <= options.threshold <= 100:
        raise UsageError("--threshold", "the threshold is a score from 0 to 100")
    region = phone_region(book, options.region)
    now = options.now()
    book.table("customers")  # a workbook without customers: a clear error before anything
    report = DedupeReport(region=region, threshold=options.threshold)
    has_review = book.has_table("duplicates")
    if options.apply:
        if not has_review:
            raise UsageError(
                book.where,
                "there is no Duplicates sheet to apply yet",
                "run 'xlcrm dedupe' without --apply first, then mark pairs merge",
            )
        report.applied = apply_decisions(book, book.table("duplicates"), book.lang, now, region)
    found = find_duplicates(book, region, options.threshold, options.progress)
    report.customers = len(found.records)
    report.pairs = len(found.pairs)
    report.invalid = len(found.invalid)
    report.shared = found.shared
    if has_review or found.pairs or found.invalid:
        review = book.ensure_table("duplicates")
        report.sheet = review.layout.sheet
        report.review = update_review(review, found, book.lang, now)
    else:
        report.sheet = "Duplicates" if book.lang == "en" else "重复客户"
    return report
