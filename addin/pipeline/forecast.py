"""The weighted forecast: what the open deals are worth, by month, owner or stage.

Each open deal (Lead … Negotiation) counts ``amount × probability``. The probability is the
deal's own *Probability* cell when it is filled — the person who knows the deal has judged
it — else its stage's probability from the Stages sheet (:mod:`.stages`). Won and Lost deals
are not forecast; a deal without a stage or an amount is left out and listed in ``skipped``.

Amounts in different currencies are never added up: each group has one row per currency.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from ..currency import currency_of
from ..errors import UsageError, ValueProblem
from ..schema import STAGES
from ..textwidth import display_width, ljust
from ..workbook import Book
from .stages import Stages, as_probability, read_stages

CENT = Decimal("0.01")
By = Literal["month", "owner", "stage"]
BY: tuple[By, ...] = ("month", "owner", "stage")
_NONE = {
    "month": ("(no close date)", "（无预计成交日期）"),
    "owner": ("(no owner)", "（无负责人）"),
}


@dataclass
class ForecastRow:
    group: str
    currency: str
    deals: int = 0
    amount: float = 0.0  # summed as Decimal, rounded half up to the cent
    weighted: float = 0.0


@dataclass
class Forecast:
    by: By
    rows: list[ForecastRow] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "Deals!E7: no amount"

    def totals(self) -> dict[str, tuple[int, float, float]]:
        """Per currency: deals, amount, weighted amount."""
        out: dict[str, tuple[int, float, float]] = {}
        for row in self.rows:
            deals, amount, weighted = out.get(row.currency, (0, 0.0, 0.0))
            out[row.currency] = (
                deals + row.deals,
                round(amount + row.amount, 2),  # rows are whole cents: only float noise
                round(weighted + row.weighted, 2),
            )
        return out

    def lines(self) -> list[str]:
        if not self.rows:
            return ["no open deal with an amount to forecast"]
        width = max(display_width(self.by), *(display_width(r.group) for r in self.rows))
        out = [f"{ljust(self.by, width)}  {'deals':>5}  {'amount':>16}  {'weighted':>16}  currency"]
        for row in self.rows:
            out.append(
                f"{ljust(row.group, width)}  {row.deals:>5}  {row.amount:>16,.2f}  "
                f"{row.weighted:>16,.2f}  {row.currency}"
            )
        for currency, (deals, amount, weighted) in self.totals().items():
            out.append(
                f"{ljust('total', width)}  {deals:>5}  {amount:>16,.2f}  {weighted:>16,.2f}  "
                f"{currency}"
            )
        out += [f"skipped {s}" for s in self.skipped]
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "rows": [asdict(r) for r in self.rows],
            "totals": [
                {"currency": c, "deals": d, "amount": a, "weighted": w}
                for c, (d, a, w) in self.totals().items()
            ],
            "skipped": list(self.skipped),
        }


def forecast(book: Book, by: str = "month", stages: Stages | None = None) -> Forecast:
    """The weighted forecast of ``book``'s open deals grouped ``by`` month, owner or stage."""
    if by not in BY:
        raise UsageError("--by", f"cannot forecast by {by!r}", "use month, owner or stage")
    stages = stages or read_stages(book)
    deals = book.table("deals")
    zh = book.lang == "zh"
    labels = {c.value: c.label(book.lang) for c in STAGES}
    result = Forecast(by)  # type: ignore[arg-type]
    groups: dict[tuple[Any, str], ForecastRow] = {}
    sums: dict[tuple[Any, str], tuple[Decimal, Decimal]] = {}
    for deal in deals.rows():
        stage, pk = deal.get("stage"), deal.get("id")
        if stage not in stages.open or pk is None:
            continue
        amount = deal.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, (int, float)):
            what = "no amount" if amount is None else f"{amount!r} is not an amount"
            result.skipped.append(f"{deals.where_of(pk, 'amount')}: {what}")
            continue
        try:
            own = as_probability(deal.get("probability"), deals.where_of(pk, "probability"))
        except ValueProblem as problem:
            result.skipped.append(str(problem).split("\n")[0])
            continue
        probability = own if own is not None else (stages.probability(stage) or 0.0)
        key = _group(by, deal, stages)
        currency = currency_of(deal.get("currency")) or ""
        row = groups.get((key, currency))
        if row is None:
            row = groups[(key, currency)] = ForecastRow(_label(by, key, labels, zh), currency)
        row.deals += 1
        money = Decimal(repr(float(amount)))
        total, weighted = sums.get((key, currency), (Decimal(0), Decimal(0)))
        sums[(key, currency)] = (total + money, weighted + money * Decimal(repr(probability)))
    order = sorted(groups, key=lambda k: (_sort_key(k[0]), k[1]))
    result.rows = [groups[k] for k in order]
    for k in order:
        total, weighted = sums[k]
        groups[k].amount = float(total.quantize(CENT, ROUND_HALF_UP))
        groups[k].weighted = float(weighted.quantize(CENT, ROUND_HALF_UP))
    return result


def _group(by: str, deal: dict[str, Any], stages: Stages) -> Any:
    if by == "stage":
        return (stages[deal["stage"]].order, deal["stage"])
    if by == "owner":
        owner = deal.get("owner")
        return owner.strip() if isinstance(owner, str) and owner.strip() else None
    close = deal.get("expected_close")
    if isinstance(close, dt.datetime):
        close = close.date()
    return f"{close.year:04d}-{close.month:02d}" if isinstance(close, dt.date) else None


def _label(by: str, key: Any, labels: dict[str, str], zh: bool) -> str:
    if key is None:
        return _NONE[by][1 if zh else 0]
    return labels[key[1]] if by == "stage" else str(key)


def _sort_key(key: Any) -> tuple[int, Any]:
    """Groups in order; the "no date / no owner" group last."""
    return (1, "") if key is None else (0, key)
