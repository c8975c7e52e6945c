"""``xlcrm report``: refresh the Dashboard sheet and the customers' tier and segment.

:func:`refresh_report` reads the tables once, computes every figure (:mod:`.facts`), writes
the ABC tier and the RFM segment of each customer that changed (only those cells: the Table
API tracks them), and puts the Dashboard sheet in place for the next ``book.save()`` — so the
sheet, the tiers and the segments land in one atomic write, or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..errors import ValueProblem
from ..settings import Settings, read_settings
from ..workbook import Book
from .dashboard import SHEET_NAME, build_dashboard, notes
from .facts import Inputs, Report, gather
from .metrics import Currency, parse_rates, pick_currency
from .value import SEGMENT_BY_KEY


@dataclass
class ReportSummary:
    """What a refresh did, for the command line (text or ``--json``) and the ribbon."""

    sheet: str
    currency: str | None
    kpis: dict[str, float | int | None]
    tiers: dict[str, int]  # A/B/C → customers
    segments: dict[str, int]  # segment key → customers
    thresholds: dict[str, Any]
    written: bool  # whether tier/segment cells were (to be) written
    tiers_changed: int = 0
    segments_changed: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "currency": self.currency,
            "kpis": self.kpis,
            "tiers": self.tiers,
            "segments": self.segments,
            "thresholds": self.thresholds,
            "written": self.written,
            "tiers_changed": self.tiers_changed,
            "segments_changed": self.segments_changed,
            "notes": self.notes,
        }

    def lines(self) -> list[str]:
        money = f" {self.currency}" if self.currency else ""
        k = self.kpis

        def amount(key: str) -> str:
            value = k.get(key)
            return "–" if value is None else f"{value:,.0f}{money}"

        def share(key: str) -> str:
            value = k.get(key)
            return "–" if value is None else f"{value:.0%}"

        out = [
            f"Dashboard refreshed: sheet {self.sheet!r}",
            f"  open pipeline {amount('open_pipeline')}, weighted forecast "
            f"{amount('weighted_forecast')}",
            f"  revenue this month {amount('revenue_this_month')}, last 12 months "
            f"{amount('revenue_12_months')} ({k.get('won_deals_12_months')} deals won)",
            f"  win rate {share('win_rate')}, average sales cycle "
            + ("–" if k.get("sales_cycle_days") is None else f"{k['sales_cycle_days']:.0f} days"),
        ]
        if k.get("open_tickets") is not None:
            out.append(
                f"  open tickets {k['open_tickets']} ({k['overdue_tickets']} overdue), "
                "average satisfaction "
                + ("–" if k.get("satisfaction") is None else f"{k['satisfaction']:.2f}")
            )
        tiers = ", ".join(f"{t} {self.tiers.get(t, 0)}" for t in "ABC")
        segments = ", ".join(
            f"{SEGMENT_BY_KEY[key].en} {n}" for key, n in self.segments.items() if n
        )
        out.append(f"Customers by tier: {tiers}")
        out.append(f"Segments: {segments or 'none'}")
        if self.written:
            out.append(
                f"Written: {self.tiers_changed} tiers and {self.segments_changed} segments changed"
            )
        else:
            out.append("Tiers and segments not written (--no-segments)")
        out.extend(f"Note: {line}" for line in self.notes)
        return out


def refresh_report(
    book: Book, *, today: dt.date, segments: bool = True, now: dt.datetime | None = None
) -> ReportSummary:
    """Compute the report and stage its writes on ``book`` (the caller saves).

    ``today`` decides the reporting window (the last 12 months, this one included) and
    recency; ``now`` (default: the current time) is shown as the refresh time and decides which
    open tickets are overdue. With ``segments=False`` the customers' tier and segment cells are
    left alone; the dashboard still shows the tiers and segments they would get.
    """
    now = now or dt.datetime.now().replace(microsecond=0)
    settings = read_settings(book)
    a_share, b_share = _shares(settings)
    customers = book.table("customers")
    customer_rows = list(customers.rows())
    deal_rows = list(book.table("deals").rows())
    currency = Currency(pick_currency(deal_rows, settings.text("report_currency")))
    try:
        currency.rates = parse_rates(settings.list("exchange_rates"))
    except ValueError as exc:
        raise ValueProblem(
            settings.where("exchange_rates"),
            f"{exc.args[0]!r} is not an exchange rate",
            "write rates such as USD=7.1; EUR=7.8",
        ) from None

    def rows(name: str) -> list[dict[str, Any]] | None:
        return list(book.table(name).rows()) if book.has_table(name) else None

    from ..pipeline.stages import read_stages  # the pipeline package imports much: late

    stages = read_stages(book)
    data = Inputs(
        customers=customer_rows,
        deals=deal_rows,
        interactions=rows("interactions") or (),
        tickets=rows("tickets"),
        sends=rows("sends") or (),
        products=rows("products") or (),
        probabilities={s: info.probability for s, info in stages.items()},
        probabilities_from="Stages" if book.has_table("stages") else "defaults",
    )
    report = gather(data, today=today, now=now, currency=currency, a_share=a_share, b_share=b_share)
    summary = _summary(report, book, written=segments)
    if segments:
        changed = write_values(book, report, customer_rows)
        summary.tiers_changed, summary.segments_changed = changed
    book.put_sheet(build_dashboard(report, book.lang))
    return summary


def _shares(settings: Settings) -> tuple[float, float]:
    a = settings.int("abc_a_share")
    b = settings.int("abc_b_share")
    a = 80 if a is None else a
    b = 95 if b is None else b
    if not 0 < a < 100:
        raise ValueProblem(
            settings.where("abc_a_share"), f"{a} is not a share", "write a percentage such as 80"
        )
    if not a < b <= 100:
        raise ValueProblem(
            settings.where("abc_b_share"),
            f"{b} must be above the A share ({a}) and at most 100",
            "write a percentage such as 95",
        )
    return a / 100, b / 100


def write_values(book: Book, report: Report, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """Write each valued customer's tier and segment where they differ from ``rows`` (the
    Customers rows as read); returns how many tiers and segments changed."""
    table = book.table("customers")
    for key in ("tier", "segment"):
        table.add_column(key)
    lang = book.lang
    labels = {key: segment.label(lang) for key, segment in SEGMENT_BY_KEY.items()}
    tiers = report.abc.tiers
    segments = report.rfm.segments
    wanted = set(report.customer_ids)
    tier_changes = segment_changes = 0
    for row in rows:
        cid = row.get("id")
        if cid not in wanted:
            continue
        wanted.discard(cid)  # a repeated id: only its first row
        changes = {}
        if row.get("tier") != tiers[cid]:
            changes["tier"] = tiers[cid]
            tier_changes += 1
        label = labels[segments[cid]]
        if row.get("segment") != label:
            changes["segment"] = label
            segment_changes += 1
        if changes:
            table.update(cid, changes)
    return tier_changes, segment_changes


def _summary(report: Report, book: Book, *, written: bool) -> ReportSummary:
    tickets = report.tickets
    kpis: dict[str, float | int | None] = {
        "open_pipeline": report.open_pipeline,
        "weighted_forecast": report.weighted_forecast,
        "revenue_this_month": report.revenue_this_month,
        "revenue_12_months": report.won_revenue_total,
        "won_deals_12_months": report.won_deals,
        "win_rate": report.win_rate,
        "sales_cycle_days": report.cycle_days,
        "open_tickets": tickets.open if tickets else None,
        "overdue_tickets": tickets.overdue if tickets else None,
        "resolution_hours": tickets.resolution_hours if tickets else None,
        "satisfaction": tickets.satisfaction if tickets else None,
    }
    segments = Counter(report.rfm.counts)
    rfm = report.rfm
    return ReportSummary(
        sheet=SHEET_NAME[book.lang],
        currency=report.currency.main,
        kpis=kpis,
        tiers={t: report.abc.counts.get(t, 0) for t in "ABC"},
        segments={key: segments.get(key, 0) for key in SEGMENT_BY_KEY},
        thresholds={
            "a_share": report.abc.a_share,
            "b_share": report.abc.b_share,
            "a_cutoff": report.abc.a_cutoff,
            "b_cutoff": report.abc.b_cutoff,
            "recency_days": rfm.recency_edges,
            "frequency": rfm.frequency_edges,
            "monetary": rfm.monetary_edges,
        },
        written=written,
        notes=notes(report, "en", definitions=False),
    )
