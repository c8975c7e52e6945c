"""Which customer and which deal a message belongs to.

Built once per sync from the workbook's rows, then asked once per message, so every question
is a dictionary look-up: a sync of 10,000 messages against 100,000 customers spends its time
parsing mail, not linking it (``bench/bench_sync.py``).

The rules, in order (issue #3, "Linking rules"):

1. **address** — any of a customer's addresses (a cell may hold several) names the customer;
2. **thread** — a reply whose In-Reply-To / References name a message already linked to a
   customer belongs to that customer, even from an address the workbook does not know (a
   colleague answering for them, a private address);
3. **domain** — otherwise the company's domain: the first customer (in sheet order) with an
   address there, unless the domain is a public provider's.

A deal is found the same way: the thread first (a message replying to one linked to a deal),
then, when the customer has exactly one open deal, that deal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sync.message import normalise_message_id

from ..customers import email_key, split_emails
from ..domains import PUBLIC_DOMAINS, domain_of, is_public

# Anything split_emails treats as a separator or a "Name <address>" form.
_SEVERAL = re.compile(r"[;,；，、\s<]")

# How a message was linked to its customer (Interactions' "matched by" column shows it).
How = Literal["address", "thread", "domain", "ticket", "lead", "unsubscribe token"]
CLOSED_STAGES = frozenset({"Won", "Lost"})


def stored_message_id(value: object) -> str | None:
    """A Message-ID as kept in a workbook cell, in the form sync compares (``<A@B>`` → ``a@b``)."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    if value.startswith("sha256:"):  # a content hash sync made for a message without an id
        return value.lower()
    return normalise_message_id(value)


@dataclass(frozen=True)
class Match:
    customer_id: str
    how: How


class CustomerIndex:
    """Addresses and company domains of the Customers table."""

    def __init__(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self.by_address: dict[str, str] = {}
        self.by_domain: dict[str, str] = {}
        self.companies: dict[str, str] = {}  # customer id → company, for new leads' colleagues
        by_address, by_domain, companies = self.by_address, self.by_domain, self.companies
        several = _SEVERAL.search
        for row in rows:
            customer = row.get("id")
            if not customer or row.get("merged_into"):  # merged: its survivor has its addresses
                continue
            company = row.get("company")
            if company:
                companies[customer] = str(company)
            cell = row.get("email")
            if not isinstance(cell, str):
                continue
            # Most cells hold one bare address: skip the general splitter for those (100,000
            # customers are indexed on every run).
            addresses = split_emails(cell) if several(cell) else (cell,)
            for address in addresses:
                key = address.strip().casefold()
                if not key:
                    continue
                by_address.setdefault(key, customer)
                domain = key[key.rfind("@") + 1 :]
                if domain and domain not in PUBLIC_DOMAINS:
                    by_domain.setdefault(domain, customer)

    def add(self, customer: str, address: str, company: str | None) -> None:
        """A customer created during this sync (a new lead) is found by the next message."""
        key = email_key(address)
        self.by_address.setdefault(key, customer)
        domain = domain_of(key)
        if domain and not is_public(domain):
            self.by_domain.setdefault(domain, customer)
        if company:
            self.companies[customer] = company

    def by_exact_address(self, address: str) -> str | None:
        return self.by_address.get(email_key(address))

    def by_company_domain(self, address: str) -> str | None:
        return self.by_domain.get(domain_of(address))


class ThreadIndex:
    """Message-IDs and thread ids already in the Interactions table → customer and deal."""

    def __init__(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self.recorded: set[str] = set()  # every Message-ID with an interaction: exactly once
        self.customer_of: dict[str, str] = {}  # Message-ID or thread id → customer
        self.deal_of: dict[str, str] = {}  # Message-ID or thread id → deal
        for row in rows:
            ident = stored_message_id(row.get("message_id"))
            if ident is None:
                continue
            self.remember(ident, stored_message_id(row.get("thread_id")), row)

    def remember(self, ident: str, thread: str | None, row: Mapping[str, Any]) -> None:
        self.recorded.add(ident)
        keys = (ident, thread) if thread and thread != ident else (ident,)
        for key in keys:
            if row.get("customer_id"):
                self.customer_of.setdefault(key, row["customer_id"])
            if row.get("deal_id"):
                self.deal_of.setdefault(key, row["deal_id"])

    def _first(self, table: dict[str, str], ids: Iterable[str]) -> str | None:
        for ident in ids:
            found = table.get(ident)
            if found:
                return found
        return None

    def customer(self, ids: Iterable[str]) -> str | None:
        return self._first(self.customer_of, ids)

    def deal(self, ids: Iterable[str]) -> str | None:
        return self._first(self.deal_of, ids)


class DealIndex:
    """Open deals per customer (stage not Won or Lost), for mail outside any known thread."""

    def __init__(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self.open: dict[str, list[str]] = {}
        self.customer_of: dict[str, str] = {}
        self.closed: set[str] = set()
        for row in rows:
            deal, customer = row.get("id"), row.get("customer_id")
            if not deal:
                continue
            if customer:
                self.customer_of[deal] = customer
            if row.get("stage") in CLOSED_STAGES:
                self.closed.add(deal)
            elif customer:
                self.open.setdefault(customer, []).append(deal)

    def only_open_deal(self, customer: str) -> str | None:
        deals = self.open.get(customer, [])
        return deals[0] if len(deals) == 1 else None

    def is_open(self, deal: str) -> bool:
        return deal not in self.closed
