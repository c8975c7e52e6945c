"""Stage history: each stage a deal is seen in, recorded as an interaction of kind ``stage``.

People move deals by editing the Stage cell in Excel; nothing tells xlcrm. So ``xlcrm run``
compares each deal's stage with the last ``stage`` interaction of that deal and, when they
differ, records the change — ``Stage: Proposal → Negotiation`` / ``阶段：方案 → 谈判`` —
with the deal and customer ids and the time of the run. A deal with no stage interaction yet
gets its current stage recorded as *first seen* (``Stage: Proposal`` / ``阶段：方案``).

The subject is the record: the stage after ``→`` (or after the colon) is read back in either
language, so the history is plain text a person can read, filter and even correct. Several
edits between two runs show as one change (Qualified → Won); the stages skipped are not
entered. A deal that moves into Won or Lost gets its Closed date set to the day of the run
when the cell is empty.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..contact import parse_stage_subject
from ..schema import STAGES, Lang
from ..workbook import Book

CLOSED = ("Won", "Lost")


@dataclass(frozen=True)
class StageMark:
    """The last recorded stage of a deal: which, when, and whether it was a first sighting."""

    stage: str
    at: dt.datetime | None
    first_seen: bool


@dataclass(frozen=True)
class Change:
    """A deal whose stage differs from its last record (``before`` None: first seen)."""

    deal_id: str
    customer_id: str | None
    before: str | None
    after: str

    @property
    def first_seen(self) -> bool:
        return self.before is None


def stage_subject(before: str | None, after: str, lang: Lang) -> str:
    """``Stage: Proposal → Negotiation`` / ``阶段：方案 → 谈判``; ``Stage: Won`` when first seen."""
    labels = {c.value: c.label(lang) for c in STAGES}
    prefix = "阶段：" if lang == "zh" else "Stage: "
    if before is None:
        return prefix + labels.get(after, after)
    return f"{prefix}{labels.get(before, before)} → {labels.get(after, after)}"


def last_stages(book: Book) -> dict[str, StageMark]:
    """Each deal's latest recorded stage, by deal id (folded to upper case)."""
    if not book.has_table("interactions"):
        return {}
    marks: list[tuple[dt.datetime, int, str, StageMark]] = []
    for n, row in enumerate(book.table("interactions").rows()):
        deal = row.get("deal_id")
        if row.get("kind") != "stage" or not isinstance(deal, str) or not deal.strip():
            continue
        stage, first = parse_stage_subject(row.get("subject"))
        if stage is None:
            continue
        at = row.get("at") if isinstance(row.get("at"), dt.datetime) else None
        marks.append((at or dt.datetime.min, n, deal.strip().upper(), StageMark(stage, at, first)))
    marks.sort(key=lambda m: (m[0], m[1]))  # by time, then sheet order
    return {deal: mark for _, _, deal, mark in marks}


def detect_changes(deals: list[dict[str, Any]], marks: dict[str, StageMark]) -> list[Change]:
    """The deals whose current stage is not their last recorded one."""
    changes = []
    for deal in deals:
        deal_id, stage = deal.get("id"), deal.get("stage")
        if not isinstance(deal_id, str) or stage not in {c.value for c in STAGES}:
            continue
        mark = marks.get(deal_id.strip().upper())
        if mark is None or mark.stage != stage:
            changes.append(
                Change(deal_id, deal.get("customer_id"), mark.stage if mark else None, stage)
            )
    return changes


def record_changes(book: Book, changes: list[Change], now: dt.datetime) -> None:
    """The changes as stage interactions, and Closed dates for deals that just closed
    (unsaved: the caller saves them with the rules they set off)."""
    if not changes:
        return
    zh = book.lang == "zh"
    interactions = book.table("interactions")
    columns = set(interactions.columns)
    deals = book.table("deals")
    rows = []
    for change in changes:
        if change.first_seen:
            summary = "xlcrm 首次记录该商机的阶段" if zh else "First seen in this stage by xlcrm"
        else:
            summary = "在商机表中修改，由 xlcrm 记录" if zh else "Changed in the Deals sheet"
        row = {
            "customer_id": change.customer_id,
            "deal_id": change.deal_id,
            "kind": "stage",
            "at": now,
            "subject": stage_subject(change.before, change.after, book.lang),
            "summary": summary,
        }
        rows.append({k: v for k, v in row.items() if k in columns})
        if (
            not change.first_seen
            and change.after in CLOSED
            and "closed" in deals.columns
            and not deals.get(change.deal_id).get("closed")
        ):
            deals.update(change.deal_id, {"closed": now.date()})
    interactions.insert_all(rows)
