"""Customers of the demo: Chinese and English-speaking companies, and the dirt a real CRM has.

:func:`make_customers` makes them up first; :func:`finish_customers` sets status and tags once
their deals and interactions exist, and :func:`customer_row` turns one into a table row.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..customers import InvalidPhone, display_phone
from .vocabulary import (
    BRANDS,
    CITIES,
    CN_TITLES,
    COUNTRIES,
    CUSTOMER_NOTES,
    EN_BRANDS,
    EN_FIRST,
    EN_LAST,
    EN_TITLES,
    EN_TRADES,
    GIVEN,
    INDUSTRIES,
    MOBILE_PREFIXES,
    NICKNAMES,
    OPEN_STAGES,
    SOURCES,
    SURNAME_WEIGHTS,
    SURNAMES,
    TAGS,
    TRADE_SHOW,
    TRADES,
    Pair,
)

if TYPE_CHECKING:
    from ..workbook import Row
    from .generator import Generator


@dataclass
class Customer:
    """A customer while it is being made up (rows are produced at the end)."""

    cn: bool
    name: str
    company: str
    email: str | None
    phone: str
    owner: str
    region: str
    industry: str
    source: Pair
    size: float
    created: dt.date
    city: str
    currency: str
    title: str
    ident: tuple[str, str] = ("", "")  # (pinyin or first name, domain) for duplicates
    variant: str = ""  # the company as an English speaker writes it (Chinese customers)
    duplicate: bool = False  # a second record of another customer
    tier: str = "C"
    tags: list[str] = field(default_factory=list)
    unsubscribed: bool = False
    notes: str | None = None
    deals: list[int] = field(default_factory=list)
    last_contact: dt.date | None = None
    status: str = "Lead"


def make_customers(g: Generator) -> None:
    """Made-up customers, 60% Chinese, tiered by size, plus duplicates and sloppy entries."""
    rng = g.rng
    chinese = [True] * 146 + [False] * 98  # 60% Chinese companies
    rng.shuffle(chinese)
    made = [_chinese_customer(g) if cn else _english_customer(g) for cn in chinese]
    g.customers = made
    # Tiers by size: a few big customers, a long tail (Pareto).
    ranked = sorted(range(len(made)), key=lambda i: -made[i].size)
    for rank, i in enumerate(ranked):
        made[i].tier = "A" if rank < len(made) * 0.12 else "B" if rank < len(made) * 0.4 else "C"
    _add_dirt(g)


def _chinese_customer(g: Generator) -> Customer:
    rng = g.rng
    city, city_py, region, area, _ = rng.choices(CITIES, [c[4] for c in CITIES])[0]
    while True:
        brand, syllables = g.pick(BRANDS)
        trade, trade_py, trade_en, industry = g.pick(TRADES)
        suffix = rng.choices(("有限公司", "股份有限公司", "集团有限公司"), (85, 10, 5))[0]
        company = f"{city}{brand}{trade}{suffix}"
        if company not in g.used_companies:
            break
    g.used_companies.add(company)
    brand_py = syllables.replace("-", "")
    initials = "".join(s[0] for s in syllables.split("-"))
    stem = rng.choice((initials + trade_py, brand_py + trade_py, brand_py))
    domain = stem + rng.choices((".com.cn", ".com", ".cn"), (4, 4, 2))[0]
    while domain in g.used_domains:
        domain = stem + str(rng.randint(2, 99)) + ".com"
    g.used_domains.add(domain)

    surname, surname_py = rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
    given, given_py = g.pick(GIVEN)
    name = surname + given
    public = rng.random() < 0.2
    if public:
        box = rng.choices(("qq.com", "163.com", "126.com", "foxmail.com"), (5, 3, 1, 1))[0]
        if box == "qq.com" and rng.random() < 0.5:
            local = str(rng.randint(10_000_000, 2_999_999_999))
        else:
            local = surname_py + given_py + rng.choice(("", str(rng.randint(1975, 2001))))
        email = g.unique_email(local, box)
    else:
        local = rng.choices(
            (surname_py + given_py, f"{given_py}.{surname_py}", surname_py + given_py[0]),
            (6, 2, 2),
        )[0]
        email = g.unique_email(local, domain)
    if rng.random() < 0.8:
        phone = _shown(f"+86 {g.pick(MOBILE_PREFIXES)} {g.digits('#### ####')}")
    else:
        phone = _shown(f"+86 {area} {g.digits('N### ####')}")
    english = f"{city_py} {brand_py.capitalize()} {trade_en} Co., Ltd."
    return Customer(
        cn=True,
        name=name,
        company=company,
        email=email,
        phone=phone,
        owner=g.rep(cn=True),
        region=region,
        industry=industry,
        source=_source(g, cn=True),
        size=min(rng.paretovariate(1.2), 40.0),
        created=_created_day(g),
        city=city,
        currency="CNY",
        title=g.pick(CN_TITLES),
        ident=(surname_py + given_py, domain),
        variant=english,
    )


def _english_customer(g: Generator) -> Customer:
    rng = g.rng
    country = rng.choices(COUNTRIES, [c.weight for c in COUNTRIES])[0]
    while True:
        brand = g.pick(EN_BRANDS)
        trade, industry = g.pick(EN_TRADES)
        company = f"{brand} {trade} {g.pick(country.suffixes)}"
        if f"{brand} {trade}" not in g.used_companies:
            break
    g.used_companies.add(f"{brand} {trade}")
    domain = (brand + trade).lower() + country.tld
    if domain in g.used_domains:
        domain = (brand + trade).lower() + "-" + country.code.lower() + country.tld
    g.used_domains.add(domain)
    first = g.pick(EN_FIRST)
    last = g.pick(country.surnames) if country.surnames and rng.random() < 0.6 else None
    last = last or g.pick(EN_LAST)
    f, s = _ascii(first), _ascii(last)
    if rng.random() < 0.1:
        email = g.unique_email(f"{f}.{s}", rng.choice(("gmail.com", "outlook.com")))
    else:
        local = rng.choices((f"{f}.{s}", f[0] + s, f), (6, 3, 1))[0]
        email = g.unique_email(local, domain)
    return Customer(
        cn=False,
        name=f"{first} {last}",
        company=company,
        email=email,
        phone=_shown(g.digits(country.phone)),
        owner=g.rep(cn=False),
        region=country.region,
        industry=industry,
        source=_source(g, cn=False),
        size=min(rng.paretovariate(1.2), 40.0),
        created=_created_day(g),
        city=country.city,
        currency=country.currency,
        title=g.pick(EN_TITLES),
        ident=(f"{f}.{s}", domain),
    )


def _source(g: Generator, *, cn: bool) -> Pair:
    src = g.rng.choices(SOURCES, [s[2] if cn else s[3] for s in SOURCES])[0]
    return (src[0], src[1])


def _created_day(g: Generator) -> dt.date:
    # More customers were added recently than at the start: the business is growing.
    span = (g.end - g.start).days
    return g.end - dt.timedelta(days=int(span * g.rng.random() ** 1.3))


def _add_dirt(g: Generator) -> None:
    """What real CRMs contain: duplicates, two addresses in a cell, no address at all.

    The four duplicates are what ``xlcrm dedupe`` is for: the same address in another case,
    the same number written another way (``13812345678``, or full-width ``０５７４－…`` from a
    Chinese input method), the company in English or without its legal form (上海华信科技 for
    上海华信科技有限公司), a nickname (Mike for Michael).
    """
    rng = g.rng
    old = [
        i
        for i, c in enumerate(g.customers)
        if c.created < g.end - dt.timedelta(days=60) and c.email and c.ident[1] in c.email
    ]
    cn = [i for i in old if g.customers[i].cn]
    en = [i for i in old if not g.customers[i].cn]
    picked = rng.sample(cn, 2) + rng.sample(en, 2)
    for n, i in enumerate(picked):
        g.customers.append(_duplicate(g, i, n))
    # Two addresses in one cell; no address at all.
    plain = [i for i in range(len(g.customers)) if i not in picked and not g.customers[i].duplicate]
    chosen = rng.sample(plain, 6)
    for i in chosen[:3]:
        c = g.customers[i]
        assert c.email is not None
        if c.cn:
            extra = g.unique_email(c.ident[0] + str(rng.randint(1975, 2001)), "163.com")
        else:
            extra = g.unique_email(rng.choice(("purchasing", "accounts")), c.ident[1])
        c.email = f"{c.email}; {extra}"
    for i in chosen[3:]:
        c = g.customers[i]
        c.email = None
        c.notes = "只留了手机号，没有邮箱" if c.cn else "No email given; call only"
    # Phone numbers typed by hand.
    for c in rng.sample([c for c in g.customers if c.cn and not c.duplicate], 6):
        c.phone = _domestic_phone(c.phone)
    g.customers.sort(key=lambda c: c.created)  # ids follow the order of entry


def _duplicate(g: Generator, i: int, n: int) -> Customer:
    """A second record of customer ``i``, entered later by someone else."""
    c = g.customers[i]
    assert c.email is not None
    local, _, domain = c.email.partition("@")
    if c.cn:
        # Same person from a trade-show list: English company name, capitalised address; or
        # typed in with a Chinese input method: the short company name (上海华信科技 for
        # 上海华信科技有限公司), a space in the name, full-width digits in the phone number.
        company = c.variant if n == 0 else c.city + short_company(c)
        name = c.name if n == 0 else f"{c.name[0]} {c.name[1:]}"
        email = (local.capitalize() if n == 0 else local.upper()) + "@" + domain
        phone = _domestic_phone(c.phone)
        if n == 1:
            phone = phone.translate(_FULL_WIDTH)
    else:
        base = short_company(c)
        company = f"{base} Limited" if n == 2 else f"{base}, Inc"
        first, last = c.name.split(" ", 1)
        name = f"{NICKNAMES.get(first, first)} {last}"
        email = ".".join(p.capitalize() for p in local.split(".")) + "@" + domain.upper()
        phone = c.phone
    created = g.day_between(c.created + dt.timedelta(days=30), g.end)
    return Customer(
        cn=c.cn,
        name=name,
        company=company,
        email=email,
        phone=phone,
        owner=g.rep(cn=c.cn),
        region=c.region,
        industry=c.industry,
        source=TRADE_SHOW,  # typed in from a trade-show list
        size=1.0,
        created=created,
        city=c.city,
        currency=c.currency,
        title=c.title,
        ident=c.ident,
        duplicate=True,
    )


def finish_customers(g: Generator) -> None:
    """Status, tags, unsubscribes and notes, which depend on deals and last contact."""
    rng = g.rng
    for c in g.customers:
        won = [g.deals[d] for d in c.deals if g.deals[d]["stage"] == "Won"]
        open_ = [g.deals[d] for d in c.deals if g.deals[d]["stage"] in OPEN_STAGES]
        quiet = (g.today - (c.last_contact or c.created)).days
        if won:
            c.status = "Active" if quiet < 150 else "Churned" if quiet > 300 else "Inactive"
        elif open_ or not c.deals:
            c.status = "Lead"
        else:
            c.status = "Inactive" if rng.random() < 0.6 else "Lead"
        tags = []
        if c.tier == "A":
            tags.append("key")
            if won and rng.random() < 0.4:
                tags.append("vip")
        if any(d["product"].startswith(("CLOUD", "SUPPORT")) for d in won) and rng.random() < 0.5:
            tags.append("renewal")
        for tag in ("reseller", "price", "public", "trial", "newsletter"):
            if rng.random() < 0.06:
                tags.append(tag)
        c.tags = tags
        c.unsubscribed = rng.random() < (0.25 if c.status == "Churned" else 0.05)
        if c.notes is None and rng.random() < 0.45:
            template = g.pick(CUSTOMER_NOTES)[0 if c.cn else 1]
            c.notes = template.format(title=c.title, city=c.city)


def customer_row(g: Generator, c: Customer) -> Row:
    """The ``customers`` table row for ``c``, categories in the workbook's language."""
    closed = [g.deals[d]["closed"] for d in c.deals if g.deals[d]["closed"]]
    updated = max([c.created, *closed, *([c.last_contact] if c.last_contact else [])])
    return {
        "name": c.name,
        "company": c.company,
        "email": c.email,
        "phone": c.phone,
        "owner": c.owner,
        "region": c.region,
        "industry": g.label(INDUSTRIES[c.industry]),
        "source": g.label(c.source),
        "status": c.status,
        "tier": c.tier,
        "tags": ", ".join(g.label(TAGS[t]) for t in c.tags) or None,
        "unsubscribed": c.unsubscribed,
        "created": c.created,
        "updated": updated,
        "last_contact": c.last_contact,
        "notes": c.notes,
    }


_FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def _shown(phone: str) -> str:
    """A clean number as every xlcrm command writes it (``+86 138 0013 8000``). Some area
    codes have seven-digit numbers: an eight-digit draw there loses its last digit (drawing
    again would change every later random choice, and with them the demo's figures)."""
    for candidate in (phone, phone[:-1]):
        try:
            return display_phone(candidate)
        except InvalidPhone:
            continue
    return phone


def _domestic_phone(phone: str) -> str:
    """How people in China type a number: ``13800138000``, ``021-62345678``."""
    _, first, *rest = phone.split(" ")
    if first.startswith("1") and len(first) == 3:  # a mobile number
        return first + "".join(rest)
    return f"0{first}-{''.join(rest)}"


def _ascii(text: str) -> str:
    """An e-mail local part from a name: ``O'Brien`` -> ``obrien``, ``Müller`` -> ``muller``."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def short_company(c: Customer) -> str:
    """The company as people say it: ``恒达科技``, ``Northwind Logistics``."""
    if c.cn:
        name = c.company.removeprefix(c.city)
        for suffix in ("集团有限公司", "股份有限公司", "有限公司"):
            name = name.removesuffix(suffix)
        return name
    return c.company.split(" ")[0] + " " + c.company.split(" ")[1]
