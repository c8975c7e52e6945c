"""What a ``xlcrm dedupe`` run found and did: printed lines and a dict for ``--json``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .merge import Applied
from .review import ReviewCounts


@dataclass
class DedupeReport:
    sheet: str = ""  # the review sheet's name
    region: str = ""
    threshold: int = 0
    customers: int = 0  # compared (not merged away)
    pairs: int = 0  # candidate pairs at or above the threshold
    invalid: int = 0  # invalid e-mail addresses and phone numbers
    review: ReviewCounts = field(default_factory=ReviewCounts)
    shared: list[tuple[str, str, int]] = field(default_factory=list)
    applied: Applied | None = None
    saved: bool = False

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "sheet": self.sheet,
            "region": self.region,
            "threshold": self.threshold,
            "customers": self.customers,
            "pairs": self.pairs,
            "invalid": self.invalid,
            "review": vars(self.review),
            "shared": [{"kind": k, "value": v, "customers": n} for k, v, n in self.shared],
            "saved": self.saved,
        }
        if self.applied is not None:
            a = self.applied
            out["applied"] = {
                "merged": [
                    {"pair": m.pair, "merged": m.merge, "keep": m.keep, "into": m.into}
                    for m in a.merged
                ],
                "separated": a.separated,
                "skipped": [{"pair": p, "why": w} for p, w in a.skipped],
                "moved": dict(a.moved),
                "sends_kept": [{"campaign": c, "customer": k} for c, k in a.sends_kept],
            }
        return out

    def lines(self) -> list[str]:
        out: list[str] = []
        a = self.applied
        if a is not None:
            for m in a.merged:
                out.append(f"merged {m.merge} into {m.into} ({m.pair})")
            if a.moved:
                moved = Counter(a.moved)
                out.append("re-pointed " + ", ".join(f"{n} {t}" for t, n in sorted(moved.items())))
            for campaign, customer in a.sends_kept:
                out.append(
                    f"kept the send of campaign {campaign!r} on {customer}: "
                    "the survivor has its own row for it"
                )
            if a.separated:
                out.append(f"marked {len(a.separated)} pair(s) not duplicates")
            for pid, why in a.skipped:
                out.append(f"skipped {pid}: {why}")
        r = self.review
        out.append(
            f"{self.customers:,} customers compared: {self.pairs} likely duplicate pair(s) "
            f"(score ≥ {self.threshold}), {self.invalid} invalid e-mail/phone value(s)"
        )
        out.append(
            f"{self.sheet}: {r.new} new, {r.updated} updated, {r.reopened} reopened, {r.gone} gone"
        )
        for kind, value, n in self.shared:
            out.append(f"not used as evidence: {kind} {value} is shared by {n} customers")
        if self.applied is None and self.pairs:
            out.append(
                f"next: mark pairs merge (合并/x) or separate in {self.sheet}, "
                "then run again with --apply"
            )
        if not self.saved:
            out.append("nothing to change in the workbook")
        return out
