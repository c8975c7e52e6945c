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
from .match import DEFAULT_THRESHOLD, Found, find_pairs, prepare
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


def linked_counts(book: Book) -> Counter[str]:
    """How many deals, interactions and tickets name each customer (folded id)."""
    counts: Counter[str] = Counter()
    for name in LINKED_TABLES:
        if book.has_table(name):
            table = book.table(name)
            if "customer_id" in table.columns:
                counts.update(
                    str(c).strip().casefold()
                    for row in table.rows()
                    if (c := row.get("customer_id"))
                )
    return counts


def find_duplicates(
    book: Book, region: str = DEFAULT_REGION, threshold: int = DEFAULT_THRESHOLD
) -> Found:
    """The likely duplicate pairs and invalid values among the book's customers (no writes)."""
    records = prepare(book.table("customers").rows(), region, linked_counts(book))
    return find_pairs(records, threshold)


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
    found = find_duplicates(book, region, options.threshold)
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
