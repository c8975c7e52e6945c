"""What a template can use, built from the workbook: customer, deal, lines, owner, company, today.

:class:`CrmData` reads the tables a run needs once (a campaign over 5,000 customers must not
re-read the workbook 5,000 times) and builds one context per deal or customer:

- ``customer`` — every Customers field that is filled; ``customer.email`` is the first address,
  ``customer.emails`` all of them.
- ``deal`` — the deal (contracts), or in a campaign the customer's latest open deal, else their
  latest won one; a template that uses ``deal`` for a customer without one gets a problem.
- ``lines`` — what is sold, from the deal's ``product`` cell and the Products table. The cell
  names one or more SKUs (``SAAS-STD; TRAIN-1 x 2``); a single SKU without a quantity takes
  ``amount / unit_price`` when that is whole (36,000 of a 1,200 seat = 30 seats), else one unit
  at the deal amount. A deal without a product is one line: its title at its amount.
- ``total`` — the deal amount, else the sum of the lines.
- ``owner`` — ``owner.name``, the deal's owner, else the customer's.
- ``company`` — the seller, from the Settings table (``company.name``, ``.address``, ``.bank``…).
- ``today`` and ``lang``: the customer's Language cell (``English``/``英文``/``中文``…) when it is
  filled, else the workbook's (or the run's ``--lang``). It picks the template version a
  recipient gets; notices to the team are not built here and keep the workbook's language.
  Contracts add ``contract_no`` and ``valid_until`` (30 days on, for
  quotations), campaigns ``campaign`` and ``unsubscribe_url``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..customers import split_emails
from ..schema import CUSTOMERS, DEALS, Lang, language_code, normalize_label
from ..settings import Settings, read_settings
from ..workbook import Book
from .filters import CENT
from .records import Record, template_value

OPEN_STAGES = ("Lead", "Qualified", "Proposal", "Negotiation")
QUOTE_VALID_DAYS = 30  # a quotation's valid_until: today + 30 days
COMPANY_FIELDS = (
    "name",
    "address",
    "phone",
    "email",
    "website",
    "tax_id",
    "bank",
    "bank_account",
    "representative",
)
LINE_FIELDS = ("sku", "name", "quantity", "unit", "unit_price", "currency", "amount")
_ITEM_SPLIT = re.compile(r"[;；\n]+")
# "SKU x 2", "SKU×2", "SKU*2" (an x needs a space before it: "POS-X2" is a SKU).
_QUANTITY = re.compile(r"^(.*?)(?:(?:\s*[×*]\s*|\s+[xX]\s*)(\d+(?:\.\d+)?))?$")


@dataclass
class Built:
    """A context, and what was wrong with the row while building it (unknown SKUs…)."""

    where: str
    context: dict[str, Any]
    problems: list[str] = field(default_factory=list)


class CrmData:
    """The workbook's customers, deals, products and settings, read once for many contexts."""

    def __init__(self, book: Book, *, today: dt.date | None = None) -> None:
        self.book = book
        self.lang: Lang = book.lang
        self.today = today or dt.date.today()
        self.settings: Settings = read_settings(book)
        self.customers = book.table("customers")
        self.deals = book.table("deals")
        self.customer_rows = {r["id"]: r for r in self.customers.rows() if r.get("id")}
        self.deal_rows = {r["id"]: r for r in self.deals.rows() if r.get("id")}
        self.products: dict[str, dict[str, Any]] = {}
        if book.has_table("products"):
            for row in book.table("products").rows():
                if isinstance(row.get("sku"), str) and row["sku"].strip():
                    self.products[normalize_label(row["sku"])] = row
        self._deals_by_customer: dict[str, list[dict[str, Any]]] = {}
        for row in self.deal_rows.values():
            self._deals_by_customer.setdefault(row.get("customer_id") or "", []).append(row)

    # -- where rows are, for problem reports

    def customer_where(self, customer_id: str) -> str:
        return f"{self.customers.layout.sheet}!{customer_id}"

    def deal_where(self, deal_id: str) -> str:
        return f"{self.deals.layout.sheet}!{deal_id}"

    # -- records

    def customer(self, row: Mapping[str, Any]) -> Record:
        values = {k: v for k, v in row.items() if k != "emails"}
        emails = split_emails(row.get("email") or "")
        values["email"] = emails[0] if emails else None
        values["emails"] = emails or None
        return Record("customer", values, (*CUSTOMERS.keys, "emails"))

    def deal(self, row: Mapping[str, Any]) -> Record:
        return Record("deal", row, DEALS.keys)

    def company(self) -> Record:
        values = {name: self.settings.text(f"company_{name}") for name in COMPANY_FIELDS}
        return _SettingsRecord("company", values, COMPANY_FIELDS)

    def owner(self, *names: Any) -> Record:
        name = next((n for n in names if isinstance(n, str) and n.strip()), None)
        return Record("owner", {"name": name}, ("name",))

    def lines(self, deal: Mapping[str, Any]) -> list[Record]:
        """The deal's lines. A SKU missing from Products is a line whose every field but the
        SKU is a problem — reported when a template uses it, not by templates that do not."""
        amount = _decimal(deal.get("amount"))
        currency = deal.get("currency")
        cell = deal.get("product")
        if not isinstance(cell, str) or not cell.strip():
            line = {"name": deal.get("title"), "quantity": Decimal(1), "unit_price": amount}
            return [_line(line, currency, amount)]
        items = [item.strip() for item in _ITEM_SPLIT.split(cell) if item.strip()]
        lines: list[Record] = []
        for item in items:
            match = _QUANTITY.match(item)
            sku, quantity = (match[1].strip(), match[2]) if match else (item, None)
            product = self.products.get(normalize_label(sku))
            if product is None:
                lines.append(_UnknownProduct("line", {"sku": sku}, LINE_FIELDS))
                continue
            price = _decimal(product.get("unit_price"))
            qty = Decimal(quantity) if quantity else None
            if qty is None and len(items) == 1:
                qty, price = _single_quantity(amount, price)
            values = {
                "sku": product.get("sku"),
                "name": product.get("name"),
                "unit": product.get("unit"),
                "quantity": qty or Decimal(1),
                "unit_price": price,
            }
            lines.append(_line(values, product.get("currency") or currency, None))
        return lines

    # -- contexts

    def base(self, lang: Lang | None = None) -> dict[str, Any]:
        return {"company": self.company(), "today": self.today, "lang": lang or self.lang}

    def customer_lang(
        self, customer: Mapping[str, Any], default: Lang | None = None
    ) -> tuple[Lang, str | None]:
        """The language to write to ``customer`` in, and a problem when their Language cell
        names none xlcrm writes in (then the default, so the rest of the row is checked)."""
        fallback = default or self.lang
        value = customer.get("language")
        if value is None or (isinstance(value, str) and not value.strip()):
            return fallback, None
        code = language_code(value)
        if code is None:
            return fallback, (
                f"customer.language {value!r} is not a language xlcrm writes in "
                "(write English or 中文, or leave it empty for the workbook's language)"
            )
        return code, None

    def contract_context(
        self, deal_id: str, contract_no: str | None, *, default_lang: Lang | None = None
    ) -> Built:
        """A deal's contract context, in its customer's language (``lang``)."""
        deal = self.deal_rows[deal_id]
        built = Built(self.deal_where(deal_id), {})
        customer = self.customer_rows.get(deal.get("customer_id") or "")
        if customer is None:
            built.problems.append(
                f"customer {deal.get('customer_id') or '(empty)'} is not in the Customers table"
            )
            customer = {}
        lang, problem = self.customer_lang(customer, default_lang)
        built.context.update(self.base(lang))
        built.problems += [problem] if problem else []
        lines = self.lines(deal)
        built.context.update(
            customer=self.customer(customer),
            deal=self.deal(deal),
            lines=lines,
            owner=self.owner(deal.get("owner"), customer.get("owner")),
        )
        total = _decimal(deal.get("amount"))
        if total is None and lines and all(isinstance(x.get("amount"), Decimal) for x in lines):
            total = sum((line["amount"] for line in lines), Decimal(0))
        if total is not None:
            built.context["total"] = total
        if contract_no:
            built.context["contract_no"] = contract_no
        built.context["valid_until"] = self.today + dt.timedelta(days=QUOTE_VALID_DAYS)
        return built

    def campaign_deal(self, customer_id: str) -> dict[str, Any] | None:
        """The deal a campaign message is about: the latest open one, else the latest won."""
        deals = self._deals_by_customer.get(customer_id, [])
        for stages in (OPEN_STAGES, ("Won",)):
            chosen = [d for d in deals if d.get("stage") in stages]
            if chosen:
                return max(chosen, key=lambda d: (d.get("created") or dt.date.min, d["id"]))
        return None

    def campaign_context(
        self, customer_id: str, *, default_lang: Lang | None = None, **extra: Any
    ) -> Built:
        """A customer's campaign context, in their language (``lang``): their Language cell,
        else ``default_lang`` (the run's ``--lang``), else the workbook's."""
        customer = self.customer_rows[customer_id]
        lang, problem = self.customer_lang(customer, default_lang)
        built = Built(self.customer_where(customer_id), self.base(lang))
        built.problems += [problem] if problem else []
        built.context["customer"] = self.customer(customer)
        deal = self.campaign_deal(customer_id)
        if deal is not None:
            built.context.update(deal=self.deal(deal), lines=self.lines(deal))
        built.context["owner"] = self.owner(
            deal.get("owner") if deal else None, customer.get("owner")
        )
        built.context.update(extra)
        return built


class _UnknownProduct(Record):
    """A line whose SKU is not in the Products table."""

    __slots__ = ()

    def missing_message(self, name: str) -> str:
        return f"product {self['sku']!r} is not in the Products table"


class _SettingsRecord(Record):
    """The seller's details: an empty one points at the Settings row to fill."""

    __slots__ = ()

    def missing_message(self, name: str) -> str:
        text = super().missing_message(name)
        if name in COMPANY_FIELDS:
            text += f" (fill {_setting_label(f'company_{name}')} in the Settings table)"
        return text


def _setting_label(key: str) -> str:
    from ..settings import KNOWN

    return next((f"{s.en} / {s.zh}" for s in KNOWN if s.key == key), key)


def _decimal(value: Any) -> Decimal | None:
    value = template_value(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return None


def _single_quantity(amount: Decimal | None, price: Decimal | None) -> tuple[Decimal, Any]:
    """One SKU without a quantity: as many units as the amount buys, when that is whole."""
    if amount is None or not price:
        return Decimal(1), price
    units = amount / price
    if units == units.to_integral_value() and units > 0:
        return units.to_integral_value(), price
    return Decimal(1), amount


def _line(values: dict[str, Any], currency: Any, amount: Decimal | None) -> Record:
    quantity, price = values.get("quantity"), values.get("unit_price")
    if amount is None and isinstance(quantity, Decimal) and isinstance(price, Decimal):
        amount = (quantity * price).quantize(CENT)
    values = {**values, "currency": currency, "amount": amount}
    return Record("line", values, LINE_FIELDS)
