"""The review sheet: the Duplicates table, where a person decides and xlcrm keeps the decisions.

Each run of ``xlcrm dedupe`` brings the sheet up to date without losing anything a person did:

- a pair already on the sheet (either way round) keeps its row, its decision and its Keep /
  Merge orientation; its score and evidence are refreshed, and a pair that had gone comes back
  ``open``;
- a new pair is appended, ``open``, best first;
- an ``open`` pair that is no longer a candidate (someone fixed an address, merged one of the
  two) becomes ``gone``. Rows are never deleted: the sheet is also the history of decisions.

Invalid e-mail addresses and phone numbers are reported the same way, as rows with only a Keep
customer and the evidence (``invalid phone '1380013'``): they show up where people already look
for data to clean, gain the same open → gone life cycle when the value is fixed, and a filter
on the Merge column (empty) lists them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..schema import Lang
from ..workbook import Table
from .evidence import invalid_evidence, pair_evidence
from .match import Found, pair_key

OPEN, MERGED, SEPARATE, GONE = "open", "merged", "separate", "gone"
_LIVE = (None, OPEN, GONE)  # rows a run may refresh; merged/separate rows are decided history


@dataclass
class ReviewCounts:
    new: int = 0
    updated: int = 0
    reopened: int = 0
    gone: int = 0


def _row_key(row: dict[str, Any]) -> Any:
    keep = str(row.get("keep_id") or "").strip()
    merge = str(row.get("merge_id") or "").strip()
    if keep and merge:
        return pair_key(keep, merge)
    return ("invalid", keep.casefold(), str(row.get("evidence") or "").strip())


def update_review(table: Table, found: Found, lang: Lang, now: dt.datetime) -> ReviewCounts:
    """Bring the Duplicates ``table`` up to date with ``found`` (unsaved)."""
    counts = ReviewCounts()
    labels = {r.id.casefold(): r.label for r in found.records}
    wanted: dict[Any, dict[str, Any]] = {}
    for pair in found.pairs:
        wanted[pair.key] = {
            "keep_id": pair.keep.id,
            "merge_id": pair.merge.id,
            "score": pair.score,
            "evidence": pair_evidence(pair, lang),
        }
    for record, bad in found.invalid:
        evidence = invalid_evidence(bad, lang)
        wanted[("invalid", record.id.casefold(), evidence)] = {
            "keep_id": record.id,
            "merge_id": None,
            "score": None,
            "evidence": evidence,
        }
    seen: set[Any] = set()
    for row in table.rows():
        pid = row.get("id")
        if not pid:
            continue
        key = _row_key(row)
        status = row.get("status")
        fresh = wanted.get(key) if key not in seen else None
        seen.add(key)
        if status not in _LIVE:
            continue
        if fresh is None:
            if status != GONE:
                table.update(pid, {"status": GONE})
                counts.gone += 1
            continue
        changes: dict[str, Any] = {"score": fresh["score"], "evidence": fresh["evidence"]}
        for side in ("keep", "merge"):
            ident = str(row.get(f"{side}_id") or "").strip().casefold()
            if ident in labels:
                changes[f"{side}_name"] = labels[ident]
        if status != OPEN:
            changes["status"] = OPEN
            counts.reopened += status == GONE
        if table.update(pid, changes):
            counts.updated += 1
    new = [(key, value) for key, value in wanted.items() if key not in seen]
    rows = []
    for _, value in new:
        keep, merge = value["keep_id"], value["merge_id"]
        rows.append(
            {
                **value,
                "keep_name": labels.get(keep.casefold()),
                "merge_name": labels.get(merge.casefold()) if merge else None,
                "status": OPEN,
                "found": now,
            }
        )
    table.insert_all(rows)
    counts.new = len(rows)
    return counts
