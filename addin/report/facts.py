"""All the numbers of one report, gathered from the tables' rows in a few single passes.

:func:`gather` is pure (rows in, a :class:`Report` out); :mod:`.run` reads the workbook and
writes the results, :mod:`.dashboard` lays them out. Kept apart so that each can be tested
and timed on its own.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .metrics import (
    CampaignLine,
    Currency,
    Deal,
    DealNotes,
    GroupLine,
    MonthLine,
    OwnerLine,
    StageLine,
    TicketStats,
    Window,
    as_date,
    campaign_results,
    owner_performance,
    pipeline_by_stage,
    prepare_deals,
    revenue_by,
    revenue_by_month,
    sales_cycle,
    scan_interactions,
    survivors,
    ticket_stats,
    win_rate,
    won_in,
)
from .value import AbcResult, RfmResult, abc_tiers, rfm_segments

Rows = Iterable[Mapping[str, Any]]


@dataclass
class Report:
    """Everything the dashboard shows and ``--json`` prints."""

    today: dt.date
    now: dt.datetime
    window: Window
    currency: Currency
    deal_notes: DealNotes
    probabilities: dict[str, float]
    probabilities_from: str  # "Stages" table or "defaults"
    pipeline: list[StageLine]
    months: list[MonthLine]
    by_owner: list[GroupLine]
    by_region: list[GroupLine]
    by_product: list[GroupLine]
    owners: list[OwnerLine]
    cycle_days: float | None
    cycle_deals: int
    tickets: TicketStats | None  # None: the workbook has no Tickets table
    campaigns: list[CampaignLine]
    abc: AbcResult
    rfm: RfmResult
    customer_ids: list[str]  # the customers valued (not merged, with an id), sheet order
    merged: int  # customers skipped because they were merged into another
    won_revenue_total: float = 0.0  # won in the window
    won_deals: int = 0

    @property
    def open_pipeline(self) -> float:
        return sum(line.amount for line in self.pipeline)

    @property
    def weighted_forecast(self) -> float:
        return sum(line.weighted for line in self.pipeline)

    @property
    def revenue_this_month(self) -> float:
        return self.months[-1].revenue if self.months else 0.0

    @property
    def win_rate(self) -> float | None:
        return win_rate(self.owners)


@dataclass
class Inputs:
    """The rows a report is made of (tables the workbook lacks are empty)."""

    customers: Sequence[Mapping[str, Any]]
    deals: Rows
    interactions: Rows = ()
    tickets: Rows | None = None
    sends: Rows = ()
    products: Rows = ()
    probabilities: Mapping[str, float] = field(default_factory=dict)
    probabilities_from: str = "defaults"


def gather(
    data: Inputs,
    *,
    today: dt.date,
    now: dt.datetime,
    currency: Currency,
    a_share: float = 0.80,
    b_share: float = 0.95,
) -> Report:
    """Compute every metric, the ABC tiers and the RFM segments."""
    window = Window(today)
    merged = survivors(data.customers)
    deals, notes = prepare_deals(data.deals, currency, merged)

    region: dict[str, str | None] = {}
    ids: list[str] = []
    seen: set[str] = set()
    contact: dict[str, dt.date] = {}
    skipped = 0
    for row in data.customers:
        cid = row.get("id")
        if not isinstance(cid, str) or not cid.strip():
            continue
        if cid in merged:
            skipped += 1
            continue
        if cid in seen:  # a repeated id: the Table API updates the first row only
            continue
        seen.add(cid)
        ids.append(cid)
        text = row.get("region")
        if text is not None:
            region[cid] = str(text).strip() or None
        last = row.get("last_contact")
        if last.__class__ is dt.date:
            contact[cid] = last
        elif isinstance(last, dt.date):
            contact[cid] = as_date(last)  # type: ignore[assignment]

    names = {}
    for row in data.products:
        sku, name = row.get("sku"), row.get("name")
        if sku is not None and name:
            names[str(sku).strip().casefold()] = str(name).strip()

    won = won_in(deals, window)
    owners = owner_performance(deals, window)
    cycle, cycle_n = sales_cycle(won)

    sends = list(data.sends)
    recipients = {merged.get(c, c) for row in sends if isinstance(c := row.get("customer_id"), str)}
    last_seen, inbound = scan_interactions(data.interactions, merged, recipients)

    won_by_customer: dict[str, list[Deal]] = defaultdict(list)
    frequency: dict[str, int] = defaultdict(int)
    monetary: dict[str, float] = defaultdict(float)
    revenue_12: dict[str, float] = defaultdict(float)
    for deal in deals:
        if deal.stage != "Won" or deal.customer is None:
            continue
        won_by_customer[deal.customer].append(deal)
        frequency[deal.customer] += 1
        monetary[deal.customer] += deal.value or 0.0
        if deal.closed is not None:
            previous = last_seen.get(deal.customer)
            if previous is None or deal.closed > previous:
                last_seen[deal.customer] = deal.closed
            if window.contains(deal.closed):
                revenue_12[deal.customer] += deal.value or 0.0

    recency: dict[str, int] = {}
    for cid in ids:
        a, b = contact.get(cid), last_seen.get(cid)
        last = a if b is None or (a is not None and a > b) else b
        if last is not None:
            recency[cid] = max(0, (today - last).days)

    def product(deal: Deal) -> str | None:
        if deal.product is None:
            return None
        return names.get(deal.product.casefold(), deal.product)

    return Report(
        today=today,
        now=now,
        window=window,
        currency=currency,
        deal_notes=notes,
        probabilities=dict(data.probabilities),
        probabilities_from=data.probabilities_from,
        pipeline=pipeline_by_stage(deals, data.probabilities),
        months=revenue_by_month(won, window),
        by_owner=revenue_by(won, lambda d: d.owner),
        by_region=revenue_by(won, lambda d: region.get(d.customer) if d.customer else None),
        by_product=revenue_by(won, product),
        owners=owners,
        cycle_days=cycle,
        cycle_deals=cycle_n,
        tickets=None if data.tickets is None else ticket_stats(data.tickets, window, now),
        campaigns=campaign_results(sends, merged, inbound, won_by_customer),
        abc=abc_tiers(ids, revenue_12, a_share, b_share),
        rfm=rfm_segments(ids, recency, frequency, monetary),
        customer_ids=ids,
        merged=skipped,
        won_revenue_total=sum(d.value or 0.0 for d in won),
        won_deals=len(won),
    )
