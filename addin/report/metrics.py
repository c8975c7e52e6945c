"""The numbers of the dashboard: pure functions over table rows, one pass each, no pandas.

Everything here takes rows as the Table API yields them (dicts of typed values: choices as
their canonical value, dates as ``date``, times as ``datetime``) and returns plain dataclasses;
nothing reads or writes a workbook. A workbook is dirty — a Won deal without a closed date,
an amount typed as text, a currency written ``人民币`` — so every function skips what it cannot
use and counts it, and the dashboard says so, rather than guessing or failing.

**Time.** Revenue, win rates, cycles, tickets and ABC look at a :class:`Window`: the current
month and the eleven before it (``today`` decides which month is current).

**Money.** Amounts are reported in one *main currency*: the ``report_currency`` setting, else
the currency most deals use (an empty currency cell means the main one). Deals in another
currency are converted with the ``exchange_rates`` setting (``USD=7.1; EUR=7.8``: one unit in
main-currency units) when it has a rate, and otherwise left out of every total and listed in
:attr:`Currency.left_out`, so a dashboard never adds dollars to yuan.

**Merged customers.** A customer whose ``merged_into`` is set is the same customer as the
survivor: deals, interactions and sends that still point at the merged id count for the
survivor (:func:`survivors`).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..contact import CONTACT_KINDS, is_contact
from ..currency import currency_of
from ..schema import STAGES, TICKET_TYPES

OPEN_STAGES = ("Lead", "Qualified", "Proposal", "Negotiation")
ALL_STAGES = tuple(c.value for c in STAGES)
DEFAULT_PROBABILITIES = {
    "Lead": 0.10,
    "Qualified": 0.20,
    "Proposal": 0.40,
    "Negotiation": 0.60,
    "Won": 1.0,
    "Lost": 0.0,
}
TICKET_TYPE_KEYS = tuple(c.value for c in TICKET_TYPES)
OPEN_TICKET = frozenset({"open", "pending"})
SENT = frozenset({"sent", "bounced", "replied"})
REPLY_DAYS = 30  # an inbound message this soon after a campaign message counts as a reply
ATTRIBUTION_DAYS = 90  # a deal won this soon after a campaign message counts for the campaign


# ---------------------------------------------------------------------------------------------
# Time window


def month_start(day: dt.date) -> dt.date:
    return dt.date(day.year, day.month, 1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Window:
    """The reporting period: ``months`` whole calendar months ending with today's month."""

    today: dt.date
    months: int = 12

    def __post_init__(self) -> None:
        last = self.today.year * 12 + self.today.month - 1  # months since year 0, 0-based
        object.__setattr__(self, "_first", last - self.months + 1)

    @property
    def first(self) -> dt.date:
        return add_months(self.today, -(self.months - 1))

    @property
    def month_starts(self) -> list[dt.date]:
        return [add_months(self.first, k) for k in range(self.months)]

    def month_index(self, day: Any) -> int | None:
        """Which month of the window ``day`` (a date or datetime) falls in, or None."""
        if not isinstance(day, dt.date):
            return None
        k = day.year * 12 + day.month - 1 - self._first  # type: ignore[attr-defined]
        return k if 0 <= k < self.months else None

    def contains(self, day: Any) -> bool:
        return self.month_index(day) is not None


def as_date(value: Any) -> dt.date | None:
    """A date from a date or datetime cell; None for empty or unreadable text."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


# ---------------------------------------------------------------------------------------------
# Currency


@dataclass
class Currency:
    """The report's main currency, the rates it converts with, and what it had to leave out."""

    main: str | None
    rates: dict[str, float] = field(default_factory=dict)
    converted: Counter[str] = field(default_factory=Counter)  # deals converted, by currency
    left_out: dict[str, list[float]] = field(default_factory=dict)  # currency → [deals, amount]
    _codes: dict[Any, str | None] = field(default_factory=dict, repr=False)

    def value(self, amount: Any, currency: Any) -> float | None:
        """``amount`` in the main currency, or None (no number, or no rate for its currency)."""
        if amount.__class__ is not float and amount.__class__ is not int:
            return None
        try:
            code = self._codes[currency]
        except KeyError:  # a handful of distinct spellings: normalise each once
            code = self._codes[currency] = currency_of(currency)
        if code is None or code == self.main:
            return float(amount)
        rate = self.rates.get(code)
        if rate is None:
            entry = self.left_out.setdefault(code, [0, 0.0])
            entry[0] += 1
            entry[1] += amount
            return None
        self.converted[code] += 1
        return amount * rate


def pick_currency(deals: Iterable[Mapping[str, Any]], setting: str = "") -> str | None:
    """The main currency: the setting when given, else the one most deals name."""
    if setting.strip():
        return currency_of(setting)
    counts = Counter(currency_of(d.get("currency")) for d in deals)
    counts.pop(None, None)
    return counts.most_common(1)[0][0] if counts else None


def parse_rates(items: Iterable[str]) -> dict[str, float]:
    """``["USD=7.1", "EUR 7.8"]`` → ``{"USD": 7.1, "EUR": 7.8}``; raises ValueError on junk."""
    rates = {}
    for item in items:
        text = item.replace("＝", "=").replace(":", "=").replace("：", "=")
        code, sep, number = text.partition("=")
        if not sep:
            code, _, number = text.strip().partition(" ")
        code_n = currency_of(code)
        try:
            rate = float(number.strip())
        except ValueError:
            raise ValueError(item) from None
        if code_n is None or rate <= 0:
            raise ValueError(item)
        rates[code_n] = rate
    return rates


# ---------------------------------------------------------------------------------------------
# Deals


def survivors(customers: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """merged id → surviving id, following chains (C3 → C2 → C1) and stopping at loops."""
    merged = {}
    for row in customers:
        target = row.get("merged_into")
        if isinstance(target, str) and target.strip() and isinstance(row.get("id"), str):
            merged[row["id"]] = target.strip()
    out = {}
    for start in merged:
        seen = {start}
        current = merged[start]
        while current in merged and current not in seen:
            seen.add(current)
            current = merged[current]
        out[start] = current
    return out


@dataclass(slots=True)
class Deal:
    """A deal as the metrics need it: its value in the main currency, canonical stage."""

    id: str
    customer: str | None  # the surviving customer id
    stage: str | None
    value: float | None  # in the main currency; None when unknown or not convertible
    probability: float | None  # the deal's own probability (0-1), else None
    product: str | None
    owner: str | None
    created: dt.date | None
    closed: dt.date | None


@dataclass
class DealNotes:
    """Deals the metrics could not fully use, for the dashboard's notes."""

    won_without_closed: int = 0
    without_amount: int = 0


def prepare_deals(
    rows: Iterable[Mapping[str, Any]], currency: Currency, merged: Mapping[str, str]
) -> tuple[list[Deal], DealNotes]:
    """One pass: each deal's value in the main currency, its survivor customer, clean text."""
    notes = DealNotes()
    deals = []
    value = currency.value
    for row in rows:
        stage = row.get("stage")
        amount = row.get("amount")
        worth = value(amount, row.get("currency"))
        if amount.__class__ is not float and amount.__class__ is not int:
            notes.without_amount += 1  # empty, or text that is not a number
        customer = row.get("customer_id")
        if isinstance(customer, str):
            customer = customer.strip() or None
            customer = merged.get(customer, customer) if customer else None
        else:
            customer = None
        probability = row.get("probability")
        if isinstance(probability, int | float) and not isinstance(probability, bool):
            probability = probability / 100 if probability > 1 else float(probability)
        else:
            probability = None
        closed = as_date(row.get("closed"))
        if stage == "Won" and closed is None:
            notes.won_without_closed += 1
        deals.append(
            Deal(
                id=str(row.get("id") or ""),
                customer=customer,
                stage=stage if stage in ALL_STAGES else None,
                value=worth,
                probability=probability,
                product=_text(row.get("product")),
                owner=_text(row.get("owner")),
                created=as_date(row.get("created")),
                closed=closed,
            )
        )
    return deals, notes


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class StageLine:
    stage: str
    count: int
    amount: float
    weighted: float


def pipeline_by_stage(deals: Iterable[Deal], probabilities: Mapping[str, float]) -> list[StageLine]:
    """Open deals per stage: how many, their amount, and the amount weighted by probability.

    The weight is the deal's own probability when it has one, else its stage's.
    """
    count: Counter[str] = Counter()
    amount: dict[str, float] = defaultdict(float)
    weighted: dict[str, float] = defaultdict(float)
    for deal in deals:
        stage = deal.stage
        if stage not in OPEN_STAGES:
            continue
        count[stage] += 1
        if deal.value is not None:
            amount[stage] += deal.value
            p = deal.probability if deal.probability is not None else probabilities.get(stage, 0)
            weighted[stage] += deal.value * p
    return [StageLine(s, count[s], amount[s], weighted[s]) for s in OPEN_STAGES]


def won_in(deals: Iterable[Deal], window: Window) -> list[Deal]:
    """Won deals closed within the window."""
    return [d for d in deals if d.stage == "Won" and window.contains(d.closed)]


@dataclass(frozen=True)
class MonthLine:
    month: dt.date  # first day of the month
    revenue: float
    deals: int


def revenue_by_month(won: Iterable[Deal], window: Window) -> list[MonthLine]:
    """Won revenue per month of the window (every month listed, empty ones with 0)."""
    revenue = [0.0] * window.months
    count = [0] * window.months
    for deal in won:
        k = window.month_index(deal.closed)
        if k is not None:
            count[k] += 1
            revenue[k] += deal.value or 0.0
    return [MonthLine(m, revenue[k], count[k]) for k, m in enumerate(window.month_starts)]


@dataclass(frozen=True)
class GroupLine:
    name: str | None  # None: deals without a value for this grouping
    revenue: float
    deals: int


def revenue_by(won: Iterable[Deal], key: Callable[[Deal], str | None]) -> list[GroupLine]:
    """Won revenue grouped by ``key`` (owner, region, product), largest first."""
    revenue: dict[str | None, float] = defaultdict(float)
    count: Counter[str | None] = Counter()
    for deal in won:
        name = key(deal)
        count[name] += 1
        revenue[name] += deal.value or 0.0
    lines = [GroupLine(name, revenue[name], count[name]) for name in count]
    lines.sort(key=lambda g: (-g.revenue, g.name is None, g.name or ""))
    return lines


@dataclass(frozen=True)
class OwnerLine:
    """One owner's results: win rate over deals closed in the window (won / (won + lost)) and
    conversion over deals created in the window (share of them won by now)."""

    owner: str | None
    won: int
    lost: int
    created: int
    created_won: int
    revenue: float
    cycle_days: float | None = None  # average created → closed of the won deals

    @property
    def win_rate(self) -> float | None:
        return self.won / (self.won + self.lost) if self.won + self.lost else None

    @property
    def conversion(self) -> float | None:
        return self.created_won / self.created if self.created else None


def owner_performance(deals: Iterable[Deal], window: Window) -> list[OwnerLine]:
    """Per owner: won and lost in the window, deals created in it and how many were won."""
    won: Counter[str | None] = Counter()
    lost: Counter[str | None] = Counter()
    created: Counter[str | None] = Counter()
    created_won: Counter[str | None] = Counter()
    revenue: dict[str | None, float] = defaultdict(float)
    cycle: dict[str | None, list[Deal]] = defaultdict(list)
    owners: set[str | None] = set()
    for deal in deals:
        owner = deal.owner
        if deal.stage == "Won" and window.contains(deal.closed):
            won[owner] += 1
            revenue[owner] += deal.value or 0.0
            cycle[owner].append(deal)
            owners.add(owner)
        elif deal.stage == "Lost" and window.contains(deal.closed):
            lost[owner] += 1
            owners.add(owner)
        if window.contains(deal.created):
            created[owner] += 1
            created_won[owner] += deal.stage == "Won"
            owners.add(owner)
    lines = [
        OwnerLine(
            o, won[o], lost[o], created[o], created_won[o], revenue[o], sales_cycle(cycle[o])[0]
        )
        for o in owners
    ]
    lines.sort(key=lambda x: (-x.revenue, -x.won, x.owner is None, x.owner or ""))
    return lines


def win_rate(lines: Iterable[OwnerLine]) -> float | None:
    """Everybody's win rate together (won / (won + lost) in the window)."""
    won = lost = 0
    for line in lines:
        won += line.won
        lost += line.lost
    return won / (won + lost) if won + lost else None


def sales_cycle(won: Iterable[Deal]) -> tuple[float | None, int]:
    """Average days from created to closed over won deals that have both dates (and how many)."""
    total = count = 0
    for deal in won:
        if deal.created is not None and deal.closed is not None and deal.closed >= deal.created:
            total += (deal.closed - deal.created).days
            count += 1
    return (total / count if count else None), count


# ---------------------------------------------------------------------------------------------
# Tickets


@dataclass
class TicketStats:
    """Ticket volume per month and type (opened in the window), resolution and satisfaction
    over tickets opened in the window, open and overdue tickets as of now."""

    by_month: list[Counter[str]]  # per window month: type → tickets ("other" for unknown)
    resolved: int = 0
    resolution_hours: float | None = None
    open: int = 0
    overdue: int = 0
    rated: int = 0
    satisfaction: float | None = None

    @property
    def types(self) -> list[str]:
        """Ticket types present, in the schema's order ("other" last)."""
        seen: set[str] = set()
        for month in self.by_month:
            seen.update(k for k, v in month.items() if v)
        return [t for t in (*TICKET_TYPE_KEYS, "other") if t in seen]


def ticket_stats(
    rows: Iterable[Mapping[str, Any]], window: Window, now: dt.datetime
) -> TicketStats:
    stats = TicketStats(by_month=[Counter() for _ in range(window.months)])
    hours = 0.0
    stars = 0
    for row in rows:
        opened = row.get("opened")
        resolved = row.get("resolved")
        status = row.get("status")
        k = window.month_index(opened)
        if k is not None:
            kind = row.get("type")
            stats.by_month[k][kind if kind in TICKET_TYPE_KEYS else "other"] += 1
            if (
                isinstance(resolved, dt.datetime)
                and isinstance(opened, dt.datetime)
                and resolved >= opened
            ):
                hours += (resolved - opened).total_seconds() / 3600
                stats.resolved += 1
            score = row.get("satisfaction")
            if score.__class__ is int and 1 <= score <= 5:
                stars += score
                stats.rated += 1
        if status in OPEN_TICKET or (status is None and resolved is None and opened is not None):
            stats.open += 1
            due = row.get("due")
            if isinstance(due, dt.date) and _as_datetime(due) < now:
                stats.overdue += 1
    stats.resolution_hours = hours / stats.resolved if stats.resolved else None
    stats.satisfaction = stars / stats.rated if stats.rated else None
    return stats


def _as_datetime(value: dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime(value.year, value.month, value.day, 23, 59, 59)


# ---------------------------------------------------------------------------------------------
# Interactions and campaigns


def scan_interactions(
    rows: Iterable[Mapping[str, Any]], merged: Mapping[str, str], recipients: set[str]
) -> tuple[dict[str, dt.date], dict[str, list[dt.datetime]]]:
    """One pass over the interactions: each customer's last contact date, and the times of
    inbound messages from campaign ``recipients`` (sorted), for reply detection."""
    last: dict[str, dt.datetime] = {}
    inbound: dict[str, list[dt.datetime]] = defaultdict(list)
    get_last = last.get
    datetime = dt.datetime
    survivor = merged.get if merged else None
    contact_kinds = CONTACT_KINDS
    for row in rows:
        customer = row.get("customer_id")
        at = row.get("at")
        if customer is None or at.__class__ is not datetime:
            continue
        if survivor is not None:
            customer = survivor(customer, customer)
        # Only contact counts, not xlcrm's own records (stage history, notes, notices).
        if row.get("kind") in contact_kinds and is_contact(row):
            previous = get_last(customer)
            if previous is None or at > previous:
                last[customer] = at
        if customer in recipients and row.get("direction") == "in":
            inbound[customer].append(at)
    for times in inbound.values():
        times.sort()
    return {c: at.date() for c, at in last.items()}, dict(inbound)


@dataclass
class CampaignLine:
    campaign: str
    first_sent: dt.datetime | None = None
    recipients: int = 0
    sent: int = 0
    bounced: int = 0
    replied: int = 0
    won_deals: int = 0
    won_revenue: float = 0.0

    def rate(self, count: int) -> float | None:
        return count / self.sent if self.sent else None


def campaign_results(
    sends: Iterable[Mapping[str, Any]],
    merged: Mapping[str, str],
    inbound: Mapping[str, list[dt.datetime]],
    won_by_customer: Mapping[str, list[Deal]],
) -> list[CampaignLine]:
    """Per campaign: recipients, sent, bounced, replied, and deals its recipients won.

    *Sent* counts messages that left (status sent, bounced or replied). *Replied*: status
    replied, or an inbound interaction from the recipient within :data:`REPLY_DAYS` after
    the message. *Won*: deals of a recipient won (closed) within :data:`ATTRIBUTION_DAYS`
    after their message, each deal counted once per campaign.
    """
    lines: dict[str, CampaignLine] = {}
    credited: dict[str, set[str]] = defaultdict(set)
    reply_window = dt.timedelta(days=REPLY_DAYS)
    for row in sends:
        name = _text(row.get("campaign"))
        if name is None:
            continue
        line = lines.get(name)
        if line is None:
            line = lines[name] = CampaignLine(name)
        line.recipients += 1
        status = row.get("status")
        if status not in SENT:
            continue
        line.sent += 1
        line.bounced += status == "bounced"
        at = row.get("sent_at")
        at = at if at.__class__ is dt.datetime else None
        if at is not None and (line.first_sent is None or at < line.first_sent):
            line.first_sent = at
        customer = row.get("customer_id")
        customer = merged.get(customer, customer) if isinstance(customer, str) else None
        replied = status == "replied"
        if not replied and at is not None and status == "sent" and customer and customer in inbound:
            times = inbound[customer]
            k = bisect.bisect_right(times, at)
            replied = k < len(times) and times[k] <= at + reply_window
        line.replied += replied
        if at is None or customer is None:
            continue
        start = at.date()
        end = start + dt.timedelta(days=ATTRIBUTION_DAYS)
        for deal in won_by_customer.get(customer, ()):
            closed = deal.closed
            if closed is not None and start <= closed <= end and deal.id not in credited[name]:
                credited[name].add(deal.id)
                line.won_deals += 1
                line.won_revenue += deal.value or 0.0
    out = list(lines.values())
    far = dt.datetime.max
    out.sort(key=lambda c: (c.first_sent or far, c.campaign))
    return out
