"""Making up the demo's data: a small Chinese company's CRM after 18 months of business.

The company sells software, services and hardware at home and abroad. About 60% of its
customers are Chinese (Chinese names, pinyin e-mail addresses on company domains, +86 numbers,
regions 华东/华北/…), 40% English-speaking (EMEA, North America, APAC; USD and EUR). It has deals
through every stage, calls, meetings, notes and support tickets, each in the customer's
language, and the dirt a real CRM has: near-duplicate customers, two addresses in one e-mail
cell, contacts without e-mail, phone numbers typed carelessly, and won deals still waiting for a
contract.

Everything comes from one ``random.Random`` and ``today``, drawn in a fixed order: customers
(:mod:`.customers`), then deals, interactions and tickets (:mod:`.activity`), then the
customers' status and tags. Free-text categories (industry, source, tags) follow the workbook
language; names, companies, subjects and notes follow the customer's language.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from ..schema import Lang
from ..workbook import Row
from .activity import make_deals, make_interactions, make_tickets
from .customers import Customer, customer_row, finish_customers, make_customers
from .vocabulary import PRODUCTS, REPS, Pair

HISTORY_MONTHS = 18


class Generator:
    """The demo's random state and what it has made so far; :meth:`generate` makes the rows."""

    def __init__(self, rng: random.Random, today: dt.date, lang: Lang) -> None:
        self.rng = rng
        self.today = today
        self.lang = lang
        self.start = _months_before(today, HISTORY_MONTHS)
        self.end = today - dt.timedelta(days=1)  # nothing is dated today or later, except plans
        self.used_emails: set[str] = set()
        self.used_companies: set[str] = set()
        self.used_domains: set[str] = set()
        self.customers: list[Customer] = []
        self.deals: list[Row] = []
        self.interactions: list[Row] = []
        self.tickets: list[Row] = []

    # -- helpers -------------------------------------------------------------------------------

    def label(self, pair: Pair) -> str:
        """A category word in the workbook's language."""
        return pair[0] if self.lang == "zh" else pair[1]

    def pick(self, seq: Any) -> Any:
        return seq[self.rng.randrange(len(seq))]

    def digits(self, pattern: str) -> str:
        rng = self.rng
        return "".join(
            str(rng.randrange(10)) if ch == "#" else str(rng.randint(2, 9)) if ch == "N" else ch
            for ch in pattern
        )

    def day_between(self, lo: dt.date, hi: dt.date) -> dt.date:
        if hi <= lo:
            return lo
        return lo + dt.timedelta(days=self.rng.randint(0, (hi - lo).days))

    def workday_between(self, lo: dt.date, hi: dt.date) -> dt.date:
        day = self.day_between(lo, hi)
        if day.weekday() >= 5:
            monday = day + dt.timedelta(days=7 - day.weekday())
            friday = day - dt.timedelta(days=day.weekday() - 4)
            if monday <= hi:
                day = monday
            elif friday >= lo:
                day = friday
        return day

    def office_time(self, day: dt.date) -> dt.datetime:
        minutes = self.rng.randrange(9 * 60, 18 * 60, 5)
        return dt.datetime(day.year, day.month, day.day, minutes // 60, minutes % 60)

    def unique_email(self, local: str, domain: str) -> str:
        address = f"{local}@{domain}"
        n = 1
        while address.casefold() in self.used_emails:
            n += 1
            address = f"{local}{n}@{domain}"
        self.used_emails.add(address.casefold())
        return address

    def rep(self, *, cn: bool, staff: tuple[tuple[str, int, int], ...] = REPS) -> str:
        """Someone from ``staff`` (sales reps by default) who serves this kind of customer."""
        weights = [r[1] if cn else r[2] for r in staff]
        return self.rng.choices(staff, weights)[0][0]

    # -- the whole book ------------------------------------------------------------------------

    def generate(self) -> dict[str, list[Row]]:
        make_customers(self)
        make_deals(self)
        make_interactions(self)
        make_tickets(self)
        finish_customers(self)
        return {
            "products": [
                {
                    "sku": p.sku,
                    "name": p.name,
                    "unit_price": p.price,
                    "currency": p.currency,
                    "unit": p.unit,
                }
                for p in PRODUCTS
            ],
            "customers": [customer_row(self, c) for c in self.customers],
            "deals": self.deals,
            "interactions": self.interactions,
            "tickets": self.tickets,
        }


def _months_before(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, min(day.day, 28))
