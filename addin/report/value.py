"""Customer value: ABC tiers (the 80/20 rule on revenue) and RFM segments.

**ABC.** Customers are ranked by won revenue in the report's window (the last 12 months). The
top customers that together make the first ``a_share`` of that revenue (80 % by default;
the customer that crosses the line is included) are **A**, the next ones up to ``b_share``
(95 %) are **B**, the rest and every customer without revenue are **C**. The cut-offs — the
smallest revenue that still made A and B — are shown on the dashboard.

**RFM.** Three scores from 1 (worst) to 5 (best), by quintile among the customers that have a
value: *recency* — days since the last contact (an interaction, the ``last_contact`` cell or
a won deal), fewer is better; *frequency* — won deals; *monetary* — won revenue (both over the
whole workbook). Customers never contacted get R = 1; customers who never bought get F = M = 1
and are segmented by recency alone. A value equal to a quintile edge takes the lower score.
The scores map to a handful of named segments (:data:`SEGMENTS`, first rule that matches),
where FM is the rounded mean of F and M.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..schema import Lang


@dataclass(frozen=True)
class Segment:
    key: str
    en: str
    zh: str
    rule: str  # the rule in words, shown on the dashboard
    rule_zh: str = ""

    def label(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en

    def rule_text(self, lang: Lang) -> str:
        return self.rule_zh if lang == "zh" and self.rule_zh else self.rule


SEGMENTS: tuple[Segment, ...] = (
    Segment("champions", "Champions", "核心客户", "R ≥ 4, FM ≥ 4", "R ≥ 4，FM ≥ 4"),
    Segment("new", "New", "新客户", "R ≥ 4, one won deal", "R ≥ 4，仅一次赢单"),
    Segment("loyal", "Loyal", "忠诚客户", "R ≥ 3, FM ≥ 3", "R ≥ 3，FM ≥ 3"),
    Segment("at_risk", "At risk", "流失风险", "R ≤ 2, FM ≥ 3", "R ≤ 2，FM ≥ 3"),
    Segment("hibernating", "Hibernating", "沉睡客户", "R ≤ 2, FM ≤ 2", "R ≤ 2，FM ≤ 2"),
    Segment("attention", "Needs attention", "需要关注", "other buyers", "其他有成交的客户"),
    Segment("prospect", "Prospect", "潜在客户", "no won deal, R ≥ 3", "无赢单，R ≥ 3"),
    Segment("cold", "Cold lead", "冷线索", "no won deal, R ≤ 2", "无赢单，R ≤ 2"),
)
SEGMENT_BY_KEY = {s.key: s for s in SEGMENTS}


def segment_for(r: int, f: int, m: int, deals: int) -> str:
    """The segment key for RFM scores (``deals``: the customer's number of won deals)."""
    if deals == 0:
        return "prospect" if r >= 3 else "cold"
    fm = int((f + m) / 2 + 0.5)
    if r >= 4 and fm >= 4:
        return "champions"
    if r >= 4 and deals == 1:
        return "new"
    if r >= 3 and fm >= 3:
        return "loyal"
    if r <= 2:
        return "at_risk" if fm >= 3 else "hibernating"
    return "attention"


# ---------------------------------------------------------------------------------------------
# ABC


@dataclass
class AbcResult:
    tiers: dict[str, str]  # customer id → "A" / "B" / "C"
    a_share: float
    b_share: float
    total: float = 0.0  # revenue of all customers in the window
    a_cutoff: float | None = None  # smallest revenue among the A customers
    b_cutoff: float | None = None
    counts: Counter[str] = field(default_factory=Counter)
    revenue: dict[str, float] = field(default_factory=dict)  # tier → revenue


def abc_tiers(
    customers: Iterable[str],
    revenue: Mapping[str, float],
    a_share: float = 0.80,
    b_share: float = 0.95,
) -> AbcResult:
    """A/B/C for every customer id in ``customers`` from its revenue (missing: none)."""
    ids = list(customers)
    result = AbcResult({}, a_share, b_share, revenue={"A": 0.0, "B": 0.0, "C": 0.0})
    ranked = sorted(
        ((revenue.get(c, 0.0), c) for c in ids if revenue.get(c, 0.0) > 0),
        key=lambda pair: (-pair[0], pair[1]),
    )
    total = sum(value for value, _ in ranked)
    result.total = total
    before = 0.0
    for value, customer in ranked:
        share = before / total
        tier = "A" if share < a_share else "B" if share < b_share else "C"
        if tier == "A":
            result.a_cutoff = value
        elif tier == "B":
            result.b_cutoff = value
        result.tiers[customer] = tier
        result.revenue[tier] += value
        before += value
    for customer in ids:
        result.tiers.setdefault(customer, "C")
    result.counts = Counter(result.tiers.values())
    return result


# ---------------------------------------------------------------------------------------------
# RFM


def quintile_edges(values: Iterable[float]) -> list[float]:
    """The four values that split ``values`` into five groups of (about) equal size."""
    ordered = sorted(values)
    if not ordered:
        return []
    n = len(ordered)
    return [ordered[min(n - 1, (n * k) // 5)] for k in range(1, 5)]


def score_up(value: float, edges: list[float]) -> int:
    """1-5 where more is better: 1 + how many edges lie strictly below ``value``."""
    return 1 + bisect.bisect_left(edges, value) if edges else 3


def score_down(value: float, edges: list[float]) -> int:
    """1-5 where less is better (recency in days): 5 - how many edges are ≤ ``value``."""
    return 5 - bisect.bisect_right(edges, value) if edges else 3


@dataclass
class RfmResult:
    scores: dict[str, tuple[int, int, int]]  # customer id → (R, F, M)
    segments: dict[str, str]  # customer id → segment key
    recency_edges: list[float]
    frequency_edges: list[float]
    monetary_edges: list[float]
    counts: Counter[str] = field(default_factory=Counter)  # segment key → customers


def rfm_segments(
    customers: Iterable[str],
    recency_days: Mapping[str, int],
    frequency: Mapping[str, int],
    monetary: Mapping[str, float],
) -> RfmResult:
    """RFM scores and segments for every customer id in ``customers``."""
    ids = list(customers)
    days = [recency_days[c] for c in ids if c in recency_days]
    buyers = [c for c in ids if frequency.get(c, 0) > 0]
    r_edges = quintile_edges(days)
    f_edges = quintile_edges(frequency[c] for c in buyers)
    m_edges = quintile_edges(monetary.get(c, 0.0) for c in buyers)
    result = RfmResult({}, {}, r_edges, f_edges, m_edges)
    # Recency days and deal counts repeat a lot: score each distinct value once.
    r_memo: dict[int | None, int] = {None: 1}
    f_memo: dict[int, int] = {}
    s_memo: dict[tuple[int, int, int, int], str] = {}
    scores, segments = result.scores, result.segments
    for c in ids:
        d = recency_days.get(c)
        r = r_memo.get(d)
        if r is None:
            r = r_memo[d] = score_down(d, r_edges)  # type: ignore[arg-type]
        deals = frequency.get(c, 0)
        if deals > 0:
            f = f_memo.get(deals)
            if f is None:
                f = f_memo[deals] = score_up(deals, f_edges)
            m = score_up(monetary.get(c, 0.0), m_edges)
        else:
            f = m = 1
        key = (r, f, m, min(deals, 2))
        segment = s_memo.get(key)
        if segment is None:
            segment = s_memo[key] = segment_for(r, f, m, deals)
        scores[c] = (r, f, m)
        segments[c] = segment
    result.counts = Counter(result.segments.values())
    return result
