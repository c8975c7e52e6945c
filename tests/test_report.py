"""``xlcrm report``: the Dashboard sheet a person opens, and the customers' tier and segment.

The workbook is small enough to compute every figure by hand (the comments show the sums),
bilingual, and dirty the way real ones are: a duplicate customer merged into another (its deal
counts for the survivor), a duplicate nobody merged yet, ``人民币`` and an empty currency for
CNY, a USD deal without an exchange rate, a won deal without a closed date, a ticket type
typed in Chinese into an English workbook. After the command, the saved file is opened with
openpyxl — as Excel would — and the charts are read back: their type, title, and the cells
their series point at.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from books import blank_workbook, built_once
from click.testing import CliRunner
from openpyxl.chart import BarChart, LineChart, PieChart

from addin.cli import cli
from addin.currency import currency_of as normalize_currency
from addin.report.metrics import Currency, Window, parse_rates
from addin.report.value import (
    abc_tiers,
    quintile_edges,
    rfm_segments,
    score_down,
    score_up,
    segment_for,
)
from addin.schema import Lang
from addin.settings import write_settings
from addin.workbook import open_book

TODAY = "2026-06-15"  # the window: July 2025 … June 2026
D = dt.date
T = dt.datetime


@built_once
def build(path: Path, lang: Lang = "en", settings: dict[str, str] | None = None) -> Path:
    blank_workbook(path, lang)
    with open_book(path) as book:
        book.table("products").insert_all(
            [
                {"sku": "ERP-STD", "name": "ERP 标准版", "unit_price": 68000, "currency": "CNY"},
                {"sku": "CRM-10", "name": "CRM 10 users", "unit_price": 24000, "currency": "CNY"},
            ]
        )
        book.table("customers").insert_all(
            [
                _c("C0001", "王伟", "上海星河软件有限公司", "wang.wei@xinghe.cn", "华东", "张伟"),
                _c("C0002", "Alice Smith", "Acme Trading Ltd.", "alice@acme.hk", "Hong Kong"),
                _c("C0003", "李娜", "广州联创电子有限公司", "li.na@lianchuang.cn", "华南", "张伟"),
                _c("C0004", "Bob Lee", "Contoso Inc.", "bob@contoso.com", "华东"),
                # The same 王伟 from a trade-show list, merged by dedupe into C0001.
                {
                    **_c("C0005", "王 伟", "上海星河软件", " WANG.WEI@XINGHE.CN", "华东", "张伟"),
                    "merged_into": "C0001",
                    "tier": "B",
                },
                _c("C0006", "陈静", "杭州海川物流", "chen.jing@163.com", "华东", "张伟"),
                _c("C0007", "Kevin Zhou", "Globex GmbH", "kevin@globex.de", "海外"),
                # Alice again, e-mail in capitals, not merged (yet): just another customer.
                _c("C0008", "ALICE SMITH", "ACME TRADING", "ALICE@ACME.HK", "Hong Kong"),
            ]
        )
        book.table("deals").insert_all(
            [
                # won in the window: D1 70 days, D2 30, D3 30, D4 30, D5 40 → cycle 40 days
                _d(
                    "D0001",
                    "C0001",
                    "Won",
                    100_000,
                    "CNY",
                    "ERP-STD",
                    "张伟",
                    D(2026, 3, 1),
                    D(2026, 5, 10),
                ),
                _d(
                    "D0002",
                    "C0005",
                    "Won",
                    50_000,
                    "CNY",
                    "CRM-10",
                    "张伟",
                    D(2026, 5, 3),
                    D(2026, 6, 2),
                ),
                _d(
                    "D0003",
                    "C0002",
                    "赢单",
                    30_000,
                    "人民币",
                    "ERP-STD",
                    "Alice Chen",
                    D(2025, 8, 16),
                    D(2025, 9, 15),
                ),
                _d(
                    "D0004",
                    "C0003",
                    "Won",
                    15_000,
                    None,
                    "Custom work",
                    "张伟",
                    D(2025, 6, 1),
                    D(2025, 7, 1),
                ),
                _d(
                    "D0005",
                    "C0004",
                    "Won",
                    5_000,
                    "USD",
                    "CRM-10",
                    "Alice Chen",
                    D(2025, 12, 1),
                    D(2026, 1, 10),
                ),
                _d(
                    "D0006",
                    "C0002",
                    "Lost",
                    20_000,
                    "CNY",
                    "ERP-STD",
                    "Alice Chen",
                    D(2025, 12, 20),
                    D(2026, 2, 1),
                ),
                _d(
                    "D0007",
                    "C0003",
                    "输单",
                    8_000,
                    "CNY",
                    "CRM-10",
                    "张伟",
                    D(2026, 1, 15),
                    D(2026, 4, 1),
                ),
                # open: 10,000 Lead + 200,000 Proposal + 100,000 Negotiation = 310,000
                # weighted: 10,000 × 10 % + 200,000 × 40 % + 100,000 × 50 % (its own) = 131,000
                _d(
                    "D0008",
                    "C0001",
                    "Proposal",
                    200_000,
                    "CNY",
                    "ERP-STD",
                    "张伟",
                    D(2026, 5, 20),
                    None,
                ),
                {
                    **_d(
                        "D0009",
                        "C0004",
                        "Negotiation",
                        100_000,
                        "CNY",
                        "ERP-STD",
                        "Alice Chen",
                        D(2026, 6, 1),
                        None,
                    ),
                    "probability": 0.5,
                },
                _d("D0010", "C0003", "Lead", 10_000, "CNY", None, "张伟", D(2026, 6, 10), None),
                # won before the window: RFM only
                _d(
                    "D0011",
                    "C0002",
                    "Won",
                    40_000,
                    "CNY",
                    "ERP-STD",
                    "Alice Chen",
                    D(2025, 4, 1),
                    D(2025, 5, 20),
                ),
                # won, but nobody filled in the closed date
                _d(
                    "D0012",
                    "C0004",
                    "Won",
                    9_999,
                    "CNY",
                    "CRM-10",
                    "Alice Chen",
                    D(2026, 2, 1),
                    None,
                ),
            ]
        )
        book.table("interactions").insert_all(
            [
                _i("C0004", "in", T(2026, 3, 5, 10, 0)),  # a reply to the spring campaign
                _i("C0001", "in", T(2026, 5, 1, 9, 0)),  # 61 days later: not a reply
                _i("C0006", "out", T(2026, 6, 10, 15, 0), kind="call"),
                _i("C0005", "in", T(2026, 6, 14, 11, 0)),  # the merged id: counts for C0001
            ]
        )
        book.table("tickets").insert_all(
            [
                _t("T0001", "failure", "resolved", T(2026, 6, 1, 9), T(2026, 6, 1, 21), 4),
                _t("T0002", "question", "closed", T(2026, 5, 10, 10), T(2026, 5, 11, 10), 2),
                {
                    **_t("T0003", "投诉", "open", T(2026, 6, 12, 8), None, None),
                    "due": T(2026, 6, 13, 8),
                },
                {
                    **_t("T0004", "咨询", "处理中", T(2026, 6, 14, 8), None, None),
                    "due": T(2026, 6, 20, 8),
                },
                _t("T0005", "feedback", "closed", T(2025, 3, 1, 8), T(2025, 3, 2, 8), 5),
            ]
        )
        book.table("sends").insert_all(
            [
                _s("spring", "C0001", "sent", T(2026, 3, 1, 9, 0)),
                _s("spring", "C0002", "bounced", T(2026, 3, 1, 9, 1)),
                _s("spring", "C0003", "replied", T(2026, 3, 1, 9, 2)),
                _s("spring", "C0004", "sent", T(2026, 3, 1, 9, 3)),
                _s("spring", "C0006", "failed", None),
                _s("双十一", "C0004", "sent", T(2025, 11, 11, 10, 0)),
            ]
        )
        if settings:
            write_settings(book, settings)
    return path


def _c(cid: str, name: str, company: str, email: str, region: str, owner: str = "Alice Chen"):
    return {
        "id": cid,
        "name": name,
        "company": company,
        "email": email,
        "region": region,
        "owner": owner,
        "status": "Active",
    }


def _d(did, customer, stage, amount, currency, product, owner, created, closed):
    return {
        "id": did,
        "customer_id": customer,
        "title": f"{product} for {customer}",
        "stage": stage,
        "amount": amount,
        "currency": currency,
        "product": product,
        "owner": owner,
        "created": created,
        "closed": closed,
    }


def _i(customer: str, direction: str, at: dt.datetime, kind: str = "email") -> dict[str, Any]:
    return {
        "customer_id": customer,
        "kind": kind,
        "direction": direction,
        "at": at,
        "subject": "Re: 报价 / quotation",
    }


def _t(tid, kind, status, opened, resolved, stars):
    return {
        "id": tid,
        "customer_id": "C0001",
        "type": kind,
        "priority": "normal",
        "status": status,
        "opened": opened,
        "due": opened + dt.timedelta(hours=48),
        "resolved": resolved,
        "satisfaction": stars,
        "subject": "系统登录失败",
    }


def _s(campaign: str, customer: str, status: str, at: dt.datetime | None) -> dict[str, Any]:
    return {"campaign": campaign, "customer_id": customer, "status": status, "sent_at": at}


def report(path: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["report", str(path), "--today", TODAY, *args])
    assert result.exit_code == 0, result.output
    return result.output


# ---------------------------------------------------------------------------------------------
# Reading the saved workbook as a person (and Excel) sees it


def chart_title(chart: Any) -> str:
    return "".join(run.t for p in chart.title.tx.rich.p for run in (p.r or []))


def cells(wb: openpyxl.Workbook, ref: str) -> list[Any]:
    """The values of a chart reference like ``'Dashboard'!$B$14:$B$17``."""
    sheet, _, area = ref.rpartition("!")
    found = wb[sheet.strip("'")][area.replace("$", "")]
    if not isinstance(found, tuple):  # a single cell
        return [found.value]
    return [row[0].value for row in found]


def series(wb: openpyxl.Workbook, chart: Any) -> list[tuple[str, list[Any], list[Any]]]:
    """(name, categories, values) of every series, read from the cells they point at."""
    out = []
    for s in chart.series:
        name = cells(wb, s.tx.strRef.f)[0]
        cat = s.cat.strRef.f if s.cat.strRef is not None else s.cat.numRef.f
        out.append((name, cells(wb, cat), cells(wb, s.val.numRef.f)))
    return out


def charts_by_title(wb: openpyxl.Workbook, sheet: str) -> dict[str, Any]:
    return {chart_title(c): c for c in wb[sheet]._charts}


def strip(ws: Any, name: str) -> Any:
    """The key figure headed ``name`` (the value is in the cell below its name)."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == name:
                return ws.cell(cell.row + 1, cell.column).value
    raise AssertionError(f"no key figure {name!r} on the dashboard")


def column_after(ws: Any, title: str) -> list[list[Any]]:
    """The rows of the block titled ``title`` (header first), up to the first empty row."""
    for row in ws.iter_rows():
        if row[0].value == title:
            out, r = [], row[0].row + 1
            while ws.cell(r, 1).value is not None:
                out.append([ws.cell(r, c).value for c in range(1, 8)])
                r += 1
            return out
    raise AssertionError(f"no block {title!r}")


def customers(path: Path) -> dict[str, dict[str, Any]]:
    with open_book(path) as book:
        return {row["id"]: row for row in book.table("customers").rows()}


# ---------------------------------------------------------------------------------------------


def test_dashboard_in_an_english_workbook(tmp_path: Path) -> None:
    book = build(tmp_path / "crm.xlsx")
    output = report(book)
    assert "open pipeline 310,000 CNY, weighted forecast 131,000 CNY" in output
    assert "1 deals in USD (USD 5,000) are left out" in output

    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames[0] == "Dashboard"  # the first tab, where people look
    ws = wb["Dashboard"]
    assert ws["A1"].value == "CRM dashboard"
    assert ws["A2"].value.startswith("Refreshed ")
    assert "2025-07 – 2026-06 · amounts in CNY" in ws["A2"].value
    # Key figures, computed by hand in build()
    assert strip(ws, "Open pipeline") == 310_000
    assert strip(ws, "Weighted forecast") == 131_000
    assert strip(ws, "Revenue this month") == 50_000  # D2, the merged customer's deal
    assert strip(ws, "Revenue 12 months") == 195_000  # 100k + 50k + 30k + 15k (USD left out)
    assert strip(ws, "Deals won 12 months") == 5
    assert strip(ws, "Win rate") == pytest.approx(5 / 7)  # won D1-D5, lost D6, D7
    assert strip(ws, "Avg sales cycle (days)") == pytest.approx(40)
    assert strip(ws, "Open tickets") == 2
    assert strip(ws, "Overdue tickets") == 1  # T3, due 13 June
    assert strip(ws, "Tickets 12 months") == 4
    assert strip(ws, "Avg resolution (hours)") == pytest.approx(18)  # 12 h and 24 h
    assert strip(ws, "Avg satisfaction (1-5)") == pytest.approx(3)  # 4 and 2; T5 is too old

    charts = charts_by_title(wb, "Dashboard")
    assert list(charts) == [
        "Open pipeline by stage",
        "Revenue by month",
        "Revenue by owner",
        "Revenue by region",
        "Revenue by product (top 10)",
        "Win rate and conversion by owner",
        "Tickets by month and type",
        "Campaign results",
        "Customers by segment",
    ]
    pipeline = charts["Open pipeline by stage"]
    assert isinstance(pipeline, BarChart) and pipeline.type == "col"
    stages = ["Lead", "Qualified", "Proposal", "Negotiation"]
    assert series(wb, pipeline) == [
        ("Amount", stages, [10_000, 0, 200_000, 100_000]),
        ("Weighted", stages, [1_000, 0, 80_000, 50_000]),
    ]

    months = charts["Revenue by month"]
    assert isinstance(months, LineChart)
    [(name, labels, values)] = series(wb, months)
    assert name == "Revenue"
    assert labels == [f"2025-{m:02d}" for m in range(7, 13)] + [
        f"2026-{m:02d}" for m in range(1, 7)
    ]
    assert dict(zip(labels, values)) == {
        **dict.fromkeys(labels, 0),
        "2025-07": 15_000,
        "2025-09": 30_000,
        "2026-05": 100_000,
        "2026-06": 50_000,
    }

    owners = charts["Revenue by owner"]
    assert isinstance(owners, BarChart) and owners.type == "bar"
    assert series(wb, owners) == [("Revenue", ["张伟", "Alice Chen"], [165_000, 30_000])]

    regions = charts["Revenue by region"]
    assert isinstance(regions, PieChart)
    assert series(wb, regions) == [
        ("Revenue", ["华东", "Hong Kong", "华南"], [150_000, 30_000, 15_000])
    ]

    products = charts["Revenue by product (top 10)"]
    assert isinstance(products, BarChart) and products.type == "bar"
    assert series(wb, products) == [
        ("Revenue", ["ERP 标准版", "CRM 10 users", "Custom work"], [130_000, 50_000, 15_000])
    ]

    rates = charts["Win rate and conversion by owner"]
    assert isinstance(rates, BarChart) and rates.type == "col"
    [(n1, who, win), (n2, who2, conversion)] = series(wb, rates)
    assert (n1, n2, who, who2) == ("Win rate", "Conversion", ["张伟", "Alice Chen"], who)
    assert win == pytest.approx([3 / 4, 2 / 3])  # 张伟: D1 D2 D4 won, D7 lost
    assert conversion == pytest.approx([2 / 5, 3 / 5])  # created in the window, won by now

    tickets = charts["Tickets by month and type"]
    assert isinstance(tickets, BarChart) and tickets.type == "col"
    assert tickets.grouping == "stacked" and tickets.overlap == 100
    by_type = {name: dict(zip(cats, values)) for name, cats, values in series(wb, tickets)}
    assert list(by_type) == ["question", "complaint", "failure"]
    assert by_type["question"]["2026-05"] == 1 and by_type["question"]["2026-06"] == 1
    assert by_type["complaint"]["2026-06"] == 1 and by_type["failure"]["2026-06"] == 1
    assert sum(sum(v.values()) for v in by_type.values()) == 4

    campaigns = charts["Campaign results"]
    assert isinstance(campaigns, BarChart) and campaigns.type == "bar"
    assert campaigns.grouping == "clustered"
    assert series(wb, campaigns) == [
        ("Sent", ["双十一", "spring"], [1, 4]),  # the failed send did not leave
        ("Bounced", ["双十一", "spring"], [0, 1]),
        ("Replied", ["双十一", "spring"], [0, 2]),  # C0003's status, C0004's mail 4 days later
    ]
    results = column_after(ws, "Campaign results")
    assert results[0][:6] == [
        "Campaign",
        "Sent",
        "Bounced",
        "Replied",
        "Deals won ≤90 d",
        "Revenue won ≤90 d",
    ]
    assert results[1][:6] == ["双十一", 1, 0, 0, 1, 0]  # D5 won 60 days later (USD: no amount)
    assert results[2][:6] == ["spring", 4, 1, 2, 1, 100_000]  # D1; D2 came 93 days later

    # Charts sit to the right of the data, in one column, one below the other, over cells
    # that hold nothing (a chart never hides a figure).
    anchors = [c.anchor._from for c in wb["Dashboard"]._charts]
    assert len({a.col for a in anchors}) == 1
    chart_col = anchors[0].col + 1  # 1-based
    assert not [
        c.coordinate
        for row in ws.iter_rows()
        for c in row
        if c.column >= chart_col and c.value is not None
    ]
    rows = [a.row for a in anchors]
    assert rows == sorted(rows) and min(b - a for a, b in itertools.pairwise(rows)) >= 15

    notes = column_after(ws, "Notes")
    assert any("1 deals in USD (USD 5,000) are left out" in n[0] for n in notes)
    assert any("1 won deals have no closed date" in n[0] for n in notes)
    assert any("1 merged customers" in n[0] for n in notes)


def test_tiers_and_segments_are_written_to_customers(tmp_path: Path) -> None:
    book = build(tmp_path / "crm.xlsx")
    report(book)
    rows = customers(book)
    # ABC on the last 12 months: C0001 150,000 (with the merged C0005's deal), C0002 30,000,
    # C0003 15,000; of 195,000 the first two start below 80 % → A, C0003 starts at 92 % → B.
    assert {cid: r["tier"] for cid, r in rows.items()} == {
        "C0001": "A",
        "C0002": "A",
        "C0003": "B",
        "C0004": "C",  # its only revenue is in USD, without a rate
        "C0005": "B",  # merged into C0001: left as it was
        "C0006": "C",
        "C0007": "C",
        "C0008": "C",
    }
    # RFM by hand. Recency (days to 15 June): C0001 1 (the merged C0005's mail), C0006 5,
    # C0004 102 (mail in March), C0002 273 (D3 closed), C0003 349 (D4 closed); quintile
    # edges 5, 102, 273, 349 → R 5, 4, 3, 2, 1. Buyers' won deals C0001 2, C0002 2 (D11 is
    # before the window but counts), C0003 1, C0004 2 (D5 in USD, D12 without a date) → F
    # edges 1, 2, 2, 2 → F 2, 2, 1, 2; revenue 150,000, 70,000, 15,000, 9,999 → M 4, 3, 2, 1.
    segments = {cid: r["segment"] for cid, r in rows.items()}
    assert segments == {
        "C0001": "Loyal",  # R 5, FM 3
        "C0002": "At risk",  # R 2, FM 3
        "C0003": "Hibernating",  # R 1, FM 2
        "C0004": "Needs attention",  # R 3, FM 2
        "C0005": None,  # merged: skipped
        "C0006": "Prospect",  # no deal, called 5 days ago
        "C0007": "Cold lead",  # no deal, never contacted
        "C0008": "Cold lead",
    }
    ws = openpyxl.load_workbook(book)["Dashboard"]
    abc = column_after(ws, "Customer value: ABC (won revenue, last 12 months)")
    assert abc[0][:5] == ["Tier", "Customers", "Revenue", "Share of revenue", "Revenue from"]
    assert abc[1][:5] == ["A", 2, 180_000, pytest.approx(180 / 195), 30_000]
    assert abc[2][:5] == ["B", 1, 15_000, pytest.approx(15 / 195), 15_000]
    assert abc[3][:3] == ["C", 4, 0]
    rfm = column_after(ws, "RFM quintile edges")
    assert rfm[0][:4] == [
        "Score",
        "Recency (days)",
        "Frequency (deals)",
        "Monetary (revenue)",
    ]
    assert [r[0] for r in rfm[1:]] == [5, 4, 3, 2, 1]
    segs = column_after(ws, "Customer segments (RFM)")
    counts = {r[0]: r[1] for r in segs[1:]}
    assert sum(counts.values()) == 7  # every customer but the merged one
    assert counts["Prospect"] == 1 and counts["Cold lead"] >= 1
    chart = charts_by_title(openpyxl.load_workbook(book), "Dashboard")["Customers by segment"]
    [(_, names, values)] = series(openpyxl.load_workbook(book), chart)
    assert dict(zip(names, values)) == counts


def test_rerun_replaces_the_dashboard_and_touches_nothing_else(tmp_path: Path) -> None:
    book = build(tmp_path / "crm.xlsx")
    report(book)
    before = zipfile.ZipFile(book)
    first = {name: before.read(name) for name in before.namelist()}
    output = report(book)
    assert "Written: 0 tiers and 0 segments changed" in output
    after = zipfile.ZipFile(book)
    second = {name: after.read(name) for name in after.namelist()}

    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames.count("Dashboard") == 1
    assert len(wb["Dashboard"]._charts) == 9

    def drawing(name: str) -> bool:
        return name.startswith(("xl/charts/", "xl/drawings/"))

    # The dashboard's drawing and charts are replaced (new part names), none left behind.
    assert {n for n in first if not drawing(n)} == {n for n in second if not drawing(n)}
    assert sum(n.startswith("xl/charts/chart") for n in second) == 9
    assert sum(n.startswith("xl/drawings/drawing") for n in second) == 1
    dashboard = _sheet_part(second, "Dashboard")
    sheet_rels = dashboard.replace("worksheets/", "worksheets/_rels/") + ".rels"
    changed = {n for n in first if not drawing(n) and first[n] != second[n]}
    # Only the dashboard itself (its "refreshed at" line, its drawing's name) and the content
    # types of the renamed chart parts differ; every other sheet, the Customers sheet included
    # (no tier or segment changed), is byte for byte the same.
    assert changed <= {dashboard, sheet_rels, "[Content_Types].xml", "xl/styles.xml"}
    other_sheets = [n for n in second if n.startswith("xl/worksheets/sheet") and n != dashboard]
    assert len(other_sheets) >= 7
    assert all(first[n] == second[n] for n in other_sheets)
    assert first[_sheet_part(first, "Customers")] == second[_sheet_part(second, "Customers")]


def test_refreshing_every_day_does_not_grow_the_styles(tmp_path: Path) -> None:
    """A dashboard refreshed daily must not add cell formats each time (Excel allows ~64,000)."""
    book = build(tmp_path / "crm.xlsx")
    report(book)
    styles = zipfile.ZipFile(book).read("xl/styles.xml")
    report(book)
    report(book)
    assert zipfile.ZipFile(book).read("xl/styles.xml") == styles


def _sheet_part(parts: dict[str, bytes], sheet: str) -> str:
    """The worksheet part of ``sheet`` (through workbook.xml and its relationships)."""
    import re

    workbook = parts["xl/workbook.xml"].decode()
    rid = re.search(rf'<sheet [^>]*name="{sheet}"[^>]*r:id="([^"]+)"', workbook)
    assert rid, workbook
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(rf'Id="{rid[1]}"[^>]*Target="([^"]+)"', rels) or re.search(
        rf'Target="([^"]+)"[^>]*Id="{rid[1]}"', rels
    )
    assert target
    return "xl/" + target[1].lstrip("/").removeprefix("xl/")


def test_chinese_workbook_gets_chinese_labels(tmp_path: Path) -> None:
    book = build(tmp_path / "客户管理.xlsx", "zh")
    report(book)
    wb = openpyxl.load_workbook(book)
    assert "仪表盘" in wb.sheetnames and "Dashboard" not in wb.sheetnames
    ws = wb["仪表盘"]
    assert ws["A1"].value == "客户管理仪表盘"
    assert "2025年7月 – 2026年6月 · 金额单位 CNY" in ws["A2"].value
    assert strip(ws, "在途商机金额") == 310_000
    assert strip(ws, "赢单率") == pytest.approx(5 / 7)
    charts = charts_by_title(wb, "仪表盘")
    assert "各阶段在途商机" in charts and "月度收入" in charts and "各分群客户数" in charts
    [(amount, stages, _), (weighted, _, _)] = series(wb, charts["各阶段在途商机"])
    assert (amount, weighted, stages) == ("金额", "加权金额", ["线索", "已确认", "方案", "谈判"])
    [(_, months, _)] = series(wb, charts["月度收入"])
    assert months[0] == "2025年7月" and months[-1] == "2026年6月"
    by_type = [name for name, _, _ in series(wb, charts["月度工单（按类型）"])]
    assert by_type == ["咨询", "投诉", "故障"]
    notes = column_after(ws, "说明")
    assert any("USD" in n[0] and "没有汇率" in n[0] for n in notes)
    rows = customers(book)
    assert rows["C0007"]["segment"] == "冷线索"
    assert rows["C0006"]["segment"] == "潜在客户"
    assert rows["C0001"]["segment"] == "忠诚客户"
    # The cells hold the workbook's labels too.
    ws_c = wb["客户"]
    headers = [c.value for c in ws_c[1]]
    assert "客户分群" in headers and "等级" in headers


def test_exchange_rates_and_abc_shares_from_settings(tmp_path: Path) -> None:
    book = build(
        tmp_path / "crm.xlsx",
        settings={"exchange_rates": "USD=7", "abc_a_share": "70", "abc_b_share": "90"},
    )
    output = report(book, "--json")
    data = json.loads(output)
    # D5's USD 5,000 is now CNY 35,000: C0004 has 35,000 for the ABC.
    assert data["kpis"]["revenue_12_months"] == 230_000
    assert data["notes"] == [
        "1 deals in USD converted at 1 USD = 7 CNY",
        "1 won deals have no closed date: not in revenue by month, owner, region, product or ABC",
        "1 merged customers are counted as the customer they were merged into",
    ]
    # 150k (starts at 0 %) and 35k (65 %) → A; 30k starts at 80.4 % ≥ 70 → B? below 90 → B;
    # 15k starts at 93.5 % → C.
    assert data["thresholds"]["a_share"] == 0.7 and data["thresholds"]["a_cutoff"] == 35_000
    rows = customers(book)
    assert [rows[c]["tier"] for c in ("C0001", "C0004", "C0002", "C0003")] == ["A", "A", "B", "C"]
    assert data["tiers"] == {"A": 2, "B": 1, "C": 4}


def test_bad_settings_say_where(tmp_path: Path) -> None:
    book = build(tmp_path / "crm.xlsx", settings={"exchange_rates": "USD=seven"})
    result = CliRunner().invoke(cli, ["report", str(book), "--today", TODAY])
    assert result.exit_code == 1
    assert "Settings!B" in result.output and "'USD=seven' is not an exchange rate" in result.output
    book2 = build(tmp_path / "crm2.xlsx", settings={"abc_a_share": "96"})
    result = CliRunner().invoke(cli, ["report", str(book2), "--today", TODAY])
    assert result.exit_code == 1
    assert "95 must be above the A share (96)" in result.output
    assert "Dashboard" not in openpyxl.load_workbook(book2).sheetnames  # nothing was written


def test_no_segments_leaves_customers_alone(tmp_path: Path) -> None:
    book = build(tmp_path / "crm.xlsx")
    parts = zipfile.ZipFile(book)
    customers_part = _sheet_part({n: parts.read(n) for n in parts.namelist()}, "Customers")
    original = parts.read(customers_part)
    output = report(book, "--no-segments")
    assert "Tiers and segments not written (--no-segments)" in output
    assert zipfile.ZipFile(book).read(customers_part) == original
    assert "Dashboard" in openpyxl.load_workbook(book).sheetnames


def test_a_workbook_of_ones_own_gets_a_segment_column(tmp_path: Path) -> None:
    """A workbook someone made by hand: plain header rows, Chinese headers, no Tickets,
    Interactions or Sends sheet, no tier or segment column."""
    path = tmp_path / "我的客户.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户"
    ws.append(["客户编号", "公司", "地区", "负责人"])
    ws.append(["C1", "深圳华信科技有限公司", "华南", "王芳"])
    ws.append(["C2", "Northwind Ltd.", "海外", "王芳"])
    deals = wb.create_sheet("商机")
    deals.append(["商机编号", "客户编号", "阶段", "金额", "成交日期", "创建日期"])
    deals.append(["D1", "C1", "赢单", 80000, dt.date(2026, 4, 1), dt.date(2026, 2, 1)])
    deals.append(["D2", "C2", "谈判", 50000, None, dt.date(2026, 5, 1)])
    wb.save(path)

    output = report(path)
    assert "Customers by tier: A 1, B 0, C 1" in output
    wb = openpyxl.load_workbook(path)
    headers = [c.value for c in wb["客户"][1]]
    assert headers == ["客户编号", "公司", "地区", "负责人", "等级", "客户分群"]
    assert [c.value for c in wb["客户"]["E"][1:]] == ["A", "C"]
    ws = wb["仪表盘"]
    assert strip(ws, "近12月收入") == 80_000
    assert strip(ws, "在途商机金额") == 50_000
    assert strip(ws, "加权预测") == 30_000  # Negotiation 60 %
    titles = set(charts_by_title(wb, "仪表盘"))
    assert "月度工单（按类型）" not in titles and "营销活动效果" not in titles
    assert "各阶段在途商机" in titles


# ---------------------------------------------------------------------------------------------
# The value rules on their own


def test_abc_includes_the_customer_that_crosses_the_line() -> None:
    revenue = {"a": 50.0, "b": 30.0, "c": 10.0, "d": 6.0, "e": 4.0}
    result = abc_tiers([*revenue, "f"], revenue)
    # cumulative share before each: a 0 %, b 50 %, c 80 % → B, d 90 % → B, e 96 % → C
    assert result.tiers == {"a": "A", "b": "A", "c": "B", "d": "B", "e": "C", "f": "C"}
    assert (result.a_cutoff, result.b_cutoff) == (30.0, 6.0)
    assert result.revenue == {"A": 80.0, "B": 16.0, "C": 4.0}
    assert abc_tiers(["x", "y"], {}).tiers == {"x": "C", "y": "C"}  # nobody bought anything


def test_rfm_scores_and_segments() -> None:
    assert quintile_edges(range(1, 101)) == [21, 41, 61, 81]
    assert [score_up(v, [21, 41, 61, 81]) for v in (1, 21, 22, 81, 82)] == [1, 1, 2, 4, 5]
    assert [score_down(d, [10, 30, 90, 180]) for d in (0, 9, 10, 100, 400)] == [5, 5, 4, 2, 1]
    # most buyers have one deal: the edges repeat, and one deal stays at the bottom
    assert [score_up(v, [1, 1, 1, 2]) for v in (1, 2, 3)] == [1, 4, 5]
    assert segment_for(5, 5, 5, deals=4) == "champions"
    assert segment_for(5, 1, 3, deals=1) == "new"
    assert segment_for(3, 4, 4, deals=3) == "loyal"
    assert segment_for(1, 4, 5, deals=3) == "at_risk"
    assert segment_for(2, 1, 2, deals=1) == "hibernating"
    assert segment_for(3, 1, 1, deals=1) == "attention"
    assert segment_for(4, 1, 1, deals=0) == "prospect"
    assert segment_for(1, 1, 1, deals=0) == "cold"
    result = rfm_segments(
        ["recent", "old", "never"], {"recent": 3, "old": 400}, {"recent": 1, "old": 5}, {}
    )
    assert result.scores["never"][0] == 1 and result.segments["never"] == "cold"


def test_currencies() -> None:
    assert [normalize_currency(x) for x in ("人民币", " rmb", "¥", "US$", "美元", "", None)] == [
        "CNY",
        "CNY",
        "CNY",
        "USD",
        "USD",
        None,
        None,
    ]
    assert parse_rates(["USD=7.1", "EUR：7.8", "hkd 0.92"]) == {
        "USD": 7.1,
        "EUR": 7.8,
        "HKD": 0.92,
    }
    with pytest.raises(ValueError):
        parse_rates(["USD=-1"])
    money = Currency("CNY", {"USD": 7.0})
    assert money.value(100.0, "美元") == 700.0
    assert money.value(100.0, None) == 100.0
    assert money.value("lots", "CNY") is None
    assert money.value(5.0, "EUR") is None and money.left_out == {"EUR": [1, 5.0]}


def test_window_months() -> None:
    window = Window(dt.date(2026, 1, 31))
    assert window.first == dt.date(2025, 2, 1)
    assert window.month_index(dt.date(2025, 1, 31)) is None
    assert window.month_index(dt.datetime(2025, 2, 1, 0, 0)) == 0
    assert window.month_index(dt.date(2026, 1, 1)) == 11
    assert window.month_index(dt.date(2026, 2, 1)) is None
    assert window.month_index("2026-01-05") is None  # unreadable text in a date cell


def test_only_contact_counts_for_recency_not_xlcrms_own_records() -> None:
    """Stage history, rule notes and notices to colleagues are xlcrm's bookkeeping: counting
    them would make every customer look contacted on the day ``xlcrm run`` first ran."""
    from addin.report.metrics import scan_interactions

    day = dt.datetime
    rows = [
        {"customer_id": "C1", "kind": "email", "direction": "in", "at": day(2026, 3, 1, 9)},
        {
            "customer_id": "C1",
            "kind": "stage",
            "at": day(2026, 11, 20, 9),
            "subject": "Stage: Lead",
        },
        {"customer_id": "C1", "kind": "note", "at": day(2026, 11, 20, 9)},
        {"customer_id": "C1", "kind": "document", "direction": "out", "at": day(2026, 11, 20, 9)},
        {
            "customer_id": "C1",
            "kind": "email",
            "direction": "out",
            "at": day(2026, 11, 20, 9),
            "message_id": "xlcrm.n.0123456789abcdef01234567@example.cn",
        },
        {"customer_id": "C2", "kind": "call", "direction": "out", "at": day(2026, 5, 2, 10)},
    ]
    last, _ = scan_interactions(rows, {}, set())
    assert last == {"C1": dt.date(2026, 3, 1), "C2": dt.date(2026, 5, 2)}


def test_rfm_bands_read_as_ranges_even_when_quintile_edges_tie() -> None:
    from addin.report.dashboard import band

    # Most buyers have one won deal: the edges tie, and no value can score 2 or 3.
    assert [band([1, 1, 1, 2], s) for s in range(1, 6)] == ["≤ 1", "–", "–", "2", "≥ 3"]
    # Recency in days, fewer is better.
    assert [band([3, 10, 22, 71], s, down=True) for s in range(5, 0, -1)] == [
        "≤ 2",
        "3 – 9",
        "10 – 21",
        "22 – 70",
        "≥ 71",
    ]
    assert band([100.0, 2000.0, 30000.0, 400000.0], 3, money=True) == "2,001 – 30,000"
    assert band([1.5, 2.5, 3.5, 4.5], 2, money=True) == "> 1.50 – ≤ 2.50"
    assert band([1, 2], 3) == "–"  # too few buyers for quintiles
