"""What happens with the demo's customers: deals, calls, meetings, notes and support tickets.

Each ``make_*`` function fills one list of the :class:`~.generator.Generator`; rows refer to
customers and deals by list position until :func:`~addin.demo.build_demo` inserts them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING

from .customers import short_company
from .vocabulary import (
    CONCERNS,
    DEAL_NOTES,
    KIND_WEIGHTS,
    NEXT_STEPS,
    NOTES,
    OPEN_STAGES,
    PROBABILITY,
    PRODUCTS,
    SLA_HOURS,
    SUBJECTS,
    SUPPORT,
    TICKETS,
    TO_USD,
)

if TYPE_CHECKING:
    from ..workbook import Row
    from .generator import Generator

RATING_DAYS = 5  # tickets resolved more recently have no satisfaction rating yet


# -- deals ---------------------------------------------------------------------------------


def make_deals(g: Generator) -> None:
    """About 340 deals in order of creation, then contract numbers for the won ones."""
    rng = g.rng
    originals = [i for i, c in enumerate(g.customers) if not c.duplicate]
    owners = [i for i in originals if rng.random() < 0.88]  # some leads have no deal yet
    extra = rng.choices(originals, [g.customers[i].size for i in originals], k=336)
    picks = sorted(owners + extra[: 336 - len(owners)], key=lambda i: g.customers[i].created)
    plans = [(g.day_between(g.customers[i].created, g.end), i) for i in picks]
    plans.sort()
    for created, i in plans:
        deal = _deal(g, i, created)
        g.customers[i].deals.append(len(g.deals))
        g.deals.append(deal)
    # Contract numbers in signing order (合同 HT-2025-001, sales contract SC-2025-001); the
    # three most recent wins have none yet: generating those is the next step.
    won = sorted((d for d in g.deals if d["stage"] == "Won"), key=lambda d: d["closed"])
    seq: dict[tuple[bool, int], int] = defaultdict(int)
    for deal in won[:-3]:
        cn, year = g.customers[deal["customer_id"]].cn, deal["closed"].year
        seq[cn, year] += 1
        deal["contract_no"] = f"{'HT' if cn else 'SC'}-{year}-{seq[cn, year]:03d}"


def _deal(g: Generator, i: int, created: dt.date) -> Row:
    rng = g.rng
    c = g.customers[i]
    products = [p for p in PRODUCTS if (p.currency == "CNY") == c.cn]
    weights = [KIND_WEIGHTS[p.kind] for p in products]
    if c.industry in ("retail", "logistics", "food"):  # shops and warehouses buy hardware
        weights = [w * (3 if p.kind == "hardware" else 1) for w, p in zip(weights, products)]
    product = rng.choices(products, weights)[0]
    # Big customers buy more of everything (several sites, more seats): the 80/20 rule.
    scale = min(1.0, (c.size - 1) / 6) * rng.uniform(0.3, 1.0)
    qty = round((product.low + (product.high - product.low) * scale) * min(5, 1 + c.size / 6))
    amount = qty * product.price * rng.choice((1.0, 1.0, 0.95, 0.9, 0.85))
    amount = amount * TO_USD[product.currency] / TO_USD[c.currency]
    amount = round(amount, -2 if c.currency == "CNY" else -1) or 100.0

    age = (g.today - created).days
    if rng.random() < min(0.95, age / 160):
        win_rate = {"A": 0.65, "B": 0.55, "C": 0.45}[c.tier]
        stage = "Won" if rng.random() < win_rate else "Lost"
        closed = created + dt.timedelta(days=rng.randint(7, 120))
        if closed > g.end:
            closed = g.day_between(created, g.end)
        expected = max(created, closed + dt.timedelta(days=rng.randint(-20, 25)))
        follow_up = None
    else:
        step = min(3, int(age / 45 + rng.random() * 1.6))
        stage = OPEN_STAGES[step]
        closed = None
        expected = created + dt.timedelta(days=rng.randint(30, 150))
        if rng.random() < 0.25:  # overdue follow-ups: what the reminders are for
            follow_up = g.day_between(max(created, g.today - dt.timedelta(days=21)), g.end)
        else:
            follow_up = g.today + dt.timedelta(days=rng.randint(0, 21))
    short = short_company(c)
    what = product.short
    if any(g.deals[d]["product"] == product.sku for d in c.deals):  # bought before
        renewal = product.kind == "subscription"
        what += (("续费", " renewal") if renewal else ("增购", " add-on"))[0 if c.cn else 1]
    if qty > 1 and product.kind != "subscription":
        what += f" ×{qty}"
    title = f"{short} {what}" if c.cn else f"{short} – {what}"
    note = g.pick(DEAL_NOTES[stage])[0 if c.cn else 1]
    concern = g.pick(CONCERNS)[0 if c.cn else 1]
    owner = c.owner if rng.random() < 0.9 else g.rep(cn=c.cn)
    return {
        "customer_id": i,
        "title": title,
        "stage": stage,
        "amount": amount,
        "currency": c.currency,
        "probability": PROBABILITY[stage],
        "product": product.sku,
        "owner": owner,
        "expected_close": expected,
        "next_follow_up": follow_up,
        "created": created,
        "closed": closed,
        "contract_no": None,  # numbered in signing order once every deal exists
        "notes": note.format(product=product.short, title=c.title, concern=concern),
    }


# -- interactions --------------------------------------------------------------------------


def make_interactions(g: Generator, total: int = 600) -> None:
    """Calls, meetings and notes: one per deal, more for busy deals, some about no deal."""
    rng = g.rng
    plans: list[tuple[int, int | None]] = [(d["customer_id"], n) for n, d in enumerate(g.deals)]
    weights = [
        1 + OPEN_STAGES.index(d["stage"]) if d["stage"] in OPEN_STAGES else 3 for d in g.deals
    ]
    while len(plans) < total:
        if rng.random() < 0.7:
            n = rng.choices(range(len(g.deals)), weights)[0]
            plans.append((g.deals[n]["customer_id"], n))
        else:
            plans.append((rng.randrange(len(g.customers)), None))
    made = [_interaction(g, i, n) for i, n in plans]
    made.sort(key=lambda r: r["at"])
    for row in made:
        c = g.customers[row["customer_id"]]
        day = row["at"].date()
        c.last_contact = max(c.last_contact or day, day)
    g.interactions = made


def _interaction(g: Generator, i: int, n: int | None) -> Row:
    rng = g.rng
    c = g.customers[i]
    lang = 0 if c.cn else 1
    if n is None:
        phase = "general"
        when = g.workday_between(c.created, g.end)
        product = g.pick([p for p in PRODUCTS if (p.currency == "CNY") == c.cn]).name
    else:
        deal = g.deals[n]
        product = next(p.name for p in PRODUCTS if p.sku == deal["product"])
        end = deal["closed"] or g.end
        if deal["stage"] == "Won" and deal["closed"] < g.end and rng.random() < 0.3:
            phase = "after"
            when = g.workday_between(deal["closed"], g.end)
        else:
            when = g.workday_between(deal["created"], end)
            span = max(1, (end - deal["created"]).days)
            progress = (when - deal["created"]).days / span
            phase = "early" if progress < 0.35 else "mid" if progress < 0.75 else "late"
    kind = rng.choices(("call", "meeting", "note"), (45, 25, 30))[0]
    concern = g.pick(CONCERNS)[lang]
    step = g.pick(NEXT_STEPS)[lang]
    direction = None
    if kind == "note":
        subject = ("内部备注", "Internal note")[lang]
        summary = g.pick(NOTES)[lang].format(name=c.name)
    else:
        subject = g.pick(SUBJECTS[kind][phase])[lang]
        if kind == "call":
            direction = "in" if rng.random() < 0.3 else "out"
            minutes = rng.choice((5, 10, 15, 20, 30))
            summary = (
                f"与{c.name}通话约{minutes}分钟，对方关注{concern}。下一步：{step}。",
                f"{minutes}-minute call with {c.name}. Main concern: {concern}. Next step: {step}.",
            )[lang]
        else:
            others = rng.randint(1, 4)
            summary = (
                f"与{c.name}等{others + 1}人会谈，介绍了{product}。"
                f"客户关注{concern}。下一步：{step}。",
                f"Met {c.name} and {others} colleagues; presented {product}. "
                f"They asked about {concern}. Next step: {step}.",
            )[lang]
    return {
        "customer_id": i,
        "deal_id": n,
        "kind": kind,
        "direction": direction,
        "at": g.office_time(when),
        "subject": subject,
        "summary": summary,
    }


# -- tickets -------------------------------------------------------------------------------


def make_tickets(g: Generator, total: int = 40) -> None:
    """Support tickets from paying customers, bigger ones more often, with SLA and rating."""
    rng = g.rng
    first_win: dict[int, dt.date] = {}
    for d in g.deals:
        if d["stage"] == "Won":
            i = d["customer_id"]
            first_win[i] = min(first_win.get(i, d["closed"]), d["closed"])
    clients = sorted(first_win)
    picks = rng.choices(clients, [g.customers[i].size ** 0.5 for i in clients], k=total)
    now = dt.datetime(g.today.year, g.today.month, g.today.day)
    made = []
    for i in picks:
        c = g.customers[i]
        kind, subject_zh, subject_en, text_zh, text_en = g.pick(TICKETS)
        day = g.day_between(first_win[i], g.end)
        opened = dt.datetime(day.year, day.month, day.day, rng.randint(8, 21), rng.randrange(60))
        priority = rng.choices(("urgent", "high", "normal", "low"), (1, 3, 5, 2))[0]
        if kind in ("question", "feedback") and priority == "urgent":
            priority = "normal"
        due = opened + dt.timedelta(hours=SLA_HOURS[priority])
        took = dt.timedelta(minutes=round(SLA_HOURS[priority] * 60 * rng.uniform(0.1, 1.6)))
        finished = opened + took
        resolved: dt.datetime | None = finished
        age = (g.today - day).days
        if age <= 3 or finished >= now:
            status, resolved = rng.choice(("open", "pending")), None
        elif rng.random() < 0.08:  # stuck, waiting on the customer
            status, resolved = "pending", None
        else:
            status = "closed" if age > 14 and rng.random() < 0.65 else "resolved"
        satisfaction = None
        if resolved is not None and rng.random() < 0.85:
            low = kind == "complaint" or resolved > due
            scores = (3, 3, 2, 1, 1) if low else (1, 1, 2, 4, 6)
            satisfaction = rng.choices((1, 2, 3, 4, 5), scores)[0]
            if now - resolved < dt.timedelta(days=RATING_DAYS):
                satisfaction = None  # the survey answer has not come back yet
        made.append(
            {
                "customer_id": i,
                "type": kind,
                "priority": priority,
                "status": status,
                "assignee": g.rep(cn=c.cn, staff=SUPPORT),
                "opened": opened,
                "due": due,
                "resolved": resolved,
                "satisfaction": satisfaction,
                "subject": subject_zh if c.cn else subject_en,
                "description": text_zh if c.cn else text_en,
            }
        )
    made.sort(key=lambda r: r["opened"])
    g.tickets = made
