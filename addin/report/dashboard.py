"""The Dashboard sheet: key figures, data blocks and a native Excel chart beside each.

Layout (rows grow downwards, nothing overlaps): the heading and a "refreshed at" line; two
strips of key figures (sales, service); then one section per topic — a titled block of
numbers in columns A–H and its chart anchored in column J, each section tall enough for its
chart — then customer value (ABC cut-offs, RFM quintile edges, segments) and notes on what
was left out. Every label is in the workbook's language; the numbers are cells, so people can
check them and draw their own charts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ..schema import STAGES, TICKET_TYPES, Lang
from ..workbook.report import Block, Chart, ReportSheet
from .facts import Report
from .metrics import ATTRIBUTION_DAYS, REPLY_DAYS, GroupLine
from .value import SEGMENT_BY_KEY, SEGMENTS

SHEET_NAME = {"en": "Dashboard", "zh": "仪表盘"}
DATA_COL = 1  # blocks start in column A
CHART_COL = "J"  # charts start in column J (I is a gap)
CHART_ROWS = 16  # a 7.5 cm chart covers ~14.5 default rows; a section is at least this tall
MONEY = "#,##0"
PCT = "0.0%"
ONE = "0.0"
TOP_OWNERS = 15
TOP_REGIONS = 8
TOP_PRODUCTS = 10

# Every text the sheet shows, in both languages.
LABELS: dict[str, tuple[str, str]] = {
    "heading": ("CRM dashboard", "客户管理仪表盘"),
    "refreshed": (
        "Refreshed {now} by xlcrm report · last 12 months: {first} – {last}{money} · "
        "this sheet is rewritten on every refresh",
        "由 xlcrm report 于 {now} 刷新 · 近 12 个月：{first} – {last}{money} · "
        "每次刷新都会重写本表",
    ),
    "money_in": (" · amounts in {currency}", " · 金额单位 {currency}"),
    "sales_kpis": ("Sales", "销售"),
    "service_kpis": ("Service", "服务"),
    "open_pipeline": ("Open pipeline", "在途商机金额"),
    "weighted": ("Weighted forecast", "加权预测"),
    "revenue_month": ("Revenue this month", "本月收入"),
    "revenue_12": ("Revenue 12 months", "近12月收入"),
    "won_12": ("Deals won 12 months", "近12月赢单数"),
    "win_rate": ("Win rate", "赢单率"),
    "cycle": ("Avg sales cycle (days)", "平均成交周期(天)"),
    "open_tickets": ("Open tickets", "未结工单"),
    "overdue": ("Overdue tickets", "逾期工单"),
    "tickets_12": ("Tickets 12 months", "近12月工单"),
    "resolution": ("Avg resolution (hours)", "平均解决时长(小时)"),
    "satisfaction": ("Avg satisfaction (1-5)", "平均满意度(1-5)"),
    "pipeline": ("Open pipeline by stage", "各阶段在途商机"),
    "stage": ("Stage", "阶段"),
    "deals": ("Deals", "商机数"),
    "amount": ("Amount", "金额"),
    "weighted_amount": ("Weighted", "加权金额"),
    "probability": ("Probability", "赢单概率"),
    "by_month": ("Revenue by month", "月度收入"),
    "month": ("Month", "月份"),
    "revenue": ("Revenue", "收入"),
    "won_deals": ("Won deals", "赢单数"),
    "by_owner": ("Revenue by owner", "各负责人收入"),
    "owner": ("Owner", "负责人"),
    "by_region": ("Revenue by region", "各地区收入"),
    "region": ("Region", "地区"),
    "by_product": ("Revenue by product (top 10)", "各产品收入（前 10）"),
    "product": ("Product", "产品"),
    "performance": ("Win rate and conversion by owner", "各负责人赢单率与转化率"),
    "won": ("Won", "赢单"),
    "lost": ("Lost", "输单"),
    "conversion": ("Conversion", "转化率"),
    "owner_cycle": ("Avg cycle (days)", "平均周期(天)"),
    "tickets": ("Tickets by month and type", "月度工单（按类型）"),
    "campaigns": ("Campaign results", "营销活动效果"),
    "campaign": ("Campaign", "活动"),
    "first_sent": ("Sent on", "发送日期"),
    "sent": ("Sent", "已发送"),
    "bounced": ("Bounced", "退信"),
    "replied": ("Replied", "已回复"),
    "won_after": ("Deals won ≤{days} d", "{days}天内赢单"),
    "won_revenue_after": ("Revenue won ≤{days} d", "{days}天内赢单金额"),
    "abc": (
        "Customer value: ABC (won revenue, last 12 months)",
        "客户价值：ABC 分类（近 12 个月赢单收入）",
    ),
    "tier": ("Tier", "等级"),
    "customers": ("Customers", "客户数"),
    "share": ("Share of revenue", "收入占比"),
    "cutoff": ("Revenue from", "收入下限"),
    "rule": ("Rule", "规则"),
    "abc_rule_a": ("top customers making the first {a:.0%}", "累计收入前 {a:.0%} 的头部客户"),
    "abc_rule_b": ("the next ones up to {b:.0%}", "累计收入 {a:.0%} 至 {b:.0%} 之间"),
    "abc_rule_c": ("the rest, and customers without revenue", "其余客户及无收入客户"),
    "rfm": ("RFM quintile edges", "RFM 五分位界限"),
    "score": ("Score", "得分"),
    "recency": ("Recency (days since contact)", "最近联系（天）"),
    "frequency": ("Frequency (won deals)", "频次（赢单数）"),
    "monetary": ("Monetary (won revenue)", "金额（赢单收入）"),
    "segments": ("Customer segments (RFM)", "客户分群（RFM）"),
    "segment": ("Segment", "分群"),
    "segment_chart": ("Customers by segment", "各分群客户数"),
    "notes": ("Notes", "说明"),
    "none": ("(none)", "（未填）"),
    "other": ("Other", "其他"),
    "no_data": ("(no data yet)", "（暂无数据）"),
    "other_type": ("other", "其他"),
}


def text(key: str, lang: Lang, **values: Any) -> str:
    en, zh = LABELS[key]
    return (zh if lang == "zh" else en).format(**values)


def month_label(month: dt.date, lang: Lang) -> str:
    return f"{month.year}年{month.month}月" if lang == "zh" else f"{month:%Y-%m}"


def build_dashboard(report: Report, lang: Lang) -> ReportSheet:
    """The Dashboard sheet for ``report``, labelled in ``lang``."""
    return _Layout(report, lang).build()


class _Layout:
    def __init__(self, report: Report, lang: Lang) -> None:
        self.r = report
        self.lang = lang
        self.sheet = ReportSheet(
            SHEET_NAME[lang],
            heading=text("heading", lang),
            widths={1: 24, **{c: 17 for c in range(2, 9)}, 9: 3},
        )
        self.row = 2  # the next free row

    def t(self, key: str, **values: Any) -> str:
        return text(key, self.lang, **values)

    def name(self, value: str | None) -> str:
        return self.t("none") if value is None else value

    # -- placing -------------------------------------------------------------------------------

    def block(
        self, title: str, rows: list[list[Any]], formats: dict[int, str] | None = None
    ) -> Block:
        """A titled block at the next free row (title in that row, data below)."""
        block = Block(self.row + 1, DATA_COL, rows, title=title, formats=formats or {})
        self.sheet.blocks.append(block)
        return block

    def chart(self, block: Block, kind: str, title: str, values: Sequence[int], **kw: Any) -> None:
        self.sheet.charts.append(
            Chart(kind, title, block, tuple(values), anchor=f"{CHART_COL}{block.row - 1}", **kw)  # type: ignore[arg-type]
        )

    def end_section(self, *blocks: Block, chart: bool = True) -> None:
        bottom = max(b.row + b.height for b in blocks)
        tall = blocks[0].row - 1 + (CHART_ROWS if chart else 0)
        self.row = max(bottom, tall) + 1

    # -- sections ------------------------------------------------------------------------------

    def build(self) -> ReportSheet:
        self.refreshed()
        self.kpis()
        self.pipeline()
        self.revenue_by_month()
        self.revenue_groups()
        self.performance()
        if self.r.tickets is not None:
            self.tickets()
        if self.r.campaigns:
            self.campaigns()
        self.value()
        self.notes()
        return self.sheet

    def refreshed(self) -> None:
        r = self.r
        money = self.t("money_in", currency=r.currency.main) if r.currency.main else ""
        line = self.t(
            "refreshed",
            now=f"{r.now:%Y-%m-%d %H:%M}",
            first=month_label(r.window.first, self.lang),
            last=month_label(r.window.month_starts[-1], self.lang),
            money=money,
        )
        self.sheet.blocks.append(Block(2, 1, [[line]]))
        self.row = 4

    def kpis(self) -> None:
        r = self.r
        sales = [
            ("open_pipeline", r.open_pipeline, MONEY),
            ("weighted", r.weighted_forecast, MONEY),
            ("revenue_month", r.revenue_this_month, MONEY),
            ("revenue_12", r.won_revenue_total, MONEY),
            ("won_12", r.won_deals, "0"),
            ("win_rate", r.win_rate, PCT),
            ("cycle", r.cycle_days, ONE),
        ]
        first = self.strip(self.t("sales_kpis"), sales)
        self.row = first.row + first.height + 1
        tickets = r.tickets
        if tickets is not None:
            total = sum(sum(month.values()) for month in tickets.by_month)
            service = [
                ("open_tickets", tickets.open, "0"),
                ("overdue", tickets.overdue, "0"),
                ("tickets_12", total, "0"),
                ("resolution", tickets.resolution_hours, ONE),
                ("satisfaction", tickets.satisfaction, "0.00"),
            ]
            second = self.strip(self.t("service_kpis"), service)
            self.row = second.row + second.height + 1

    def strip(self, title: str, items: list[tuple[str, Any, str]]) -> Block:
        """Key figures side by side: names in one row, values below (one format each)."""
        rows = [[self.t(key) for key, _, _ in items], [value for _, value, _ in items]]
        formats = {k: fmt for k, (_, _, fmt) in enumerate(items)}
        return self.block(title, rows, formats)

    def pipeline(self) -> None:
        r = self.r
        labels = {c.value: c.label(self.lang) for c in STAGES}
        rows: list[list[Any]] = [
            [self.t("stage"), self.t("deals"), self.t("amount"), self.t("weighted_amount")]
        ]
        rows += [[labels[x.stage], x.count, x.amount, x.weighted] for x in r.pipeline]
        rows[0].append(self.t("probability"))
        for row, line in zip(rows[1:], r.pipeline):
            row.append(r.probabilities.get(line.stage))
        block = self.block(self.t("pipeline"), rows, {2: MONEY, 3: MONEY, 4: "0%"})
        self.chart(block, "column", self.t("pipeline"), (2, 3), y_title=r.currency.main)
        self.end_section(block)

    def revenue_by_month(self) -> None:
        rows: list[list[Any]] = [[self.t("month"), self.t("revenue"), self.t("won_deals")]]
        rows += [[month_label(m.month, self.lang), m.revenue, m.deals] for m in self.r.months]
        block = self.block(self.t("by_month"), rows, {1: MONEY})
        self.chart(block, "line", self.t("by_month"), (1,), y_title=self.r.currency.main)
        self.end_section(block)

    def grouped(self, lines: list[GroupLine], top: int, *, other: bool = True) -> list[list[Any]]:
        """Rows for the largest ``top`` groups, the rest summed into "Other" when asked."""
        shown, rest = lines[:top], lines[top:]
        rows = [[self.name(g.name), g.revenue, g.deals] for g in shown]
        if other and rest:
            rows.append([self.t("other"), sum(g.revenue for g in rest), sum(g.deals for g in rest)])
        return rows or [[self.t("no_data"), 0, 0]]

    def revenue_groups(self) -> None:
        r = self.r
        specs = (
            ("by_owner", "owner", r.by_owner, TOP_OWNERS, "bar", True),
            ("by_region", "region", r.by_region, TOP_REGIONS, "pie", True),
            ("by_product", "product", r.by_product, TOP_PRODUCTS, "bar", False),
        )
        for title, column, lines, top, kind, other in specs:
            rows = [[self.t(column), self.t("revenue"), self.t("won_deals")]]
            rows += self.grouped(lines, top, other=other)
            block = self.block(self.t(title), rows, {1: MONEY})
            self.chart(block, kind, self.t(title), (1,))
            self.end_section(block)

    def performance(self) -> None:
        rows: list[list[Any]] = [
            [
                self.t("owner"),
                self.t("win_rate"),
                self.t("conversion"),
                self.t("won"),
                self.t("lost"),
                self.t("owner_cycle"),
            ]
        ]
        for line in self.r.owners[:TOP_OWNERS]:
            rows.append(
                [
                    self.name(line.owner),
                    line.win_rate,
                    line.conversion,
                    line.won,
                    line.lost,
                    line.cycle_days,
                ]
            )
        if len(rows) == 1:
            rows.append([self.t("no_data"), 0, 0, 0, 0, None])
        block = self.block(self.t("performance"), rows, {1: PCT, 2: PCT, 5: ONE})
        self.chart(block, "column", self.t("performance"), (1, 2))
        self.end_section(block)

    def tickets(self) -> None:
        stats = self.r.tickets
        assert stats is not None
        labels = {c.value: c.label(self.lang) for c in TICKET_TYPES}
        labels["other"] = self.t("other_type")
        types = stats.types or [TICKET_TYPES[0].value]
        rows: list[list[Any]] = [[self.t("month"), *(labels[t] for t in types)]]
        for month, counts in zip(self.r.window.month_starts, stats.by_month):
            rows.append([month_label(month, self.lang), *(counts.get(t, 0) for t in types)])
        block = self.block(self.t("tickets"), rows)
        values = tuple(range(1, len(types) + 1))
        self.chart(block, "column", self.t("tickets"), values, stacked=True)
        self.end_section(block)

    def campaigns(self) -> None:
        days = ATTRIBUTION_DAYS
        rows: list[list[Any]] = [
            [
                self.t("campaign"),
                self.t("sent"),
                self.t("bounced"),
                self.t("replied"),
                self.t("won_after", days=days),
                self.t("won_revenue_after", days=days),
                self.t("first_sent"),
            ]
        ]
        for c in self.r.campaigns:
            first = c.first_sent.date() if c.first_sent else None
            rows.append(
                [c.campaign, c.sent, c.bounced, c.replied, c.won_deals, c.won_revenue, first]
            )
        block = self.block(self.t("campaigns"), rows, {5: MONEY, 6: "yyyy-mm-dd"})
        self.chart(block, "bar", self.t("campaigns"), (1, 2, 3))
        self.end_section(block)

    def value(self) -> None:
        r = self.r
        abc = r.abc
        total = abc.total or 0.0
        share = {t: (abc.revenue.get(t, 0.0) / total if total else None) for t in "ABC"}
        rules = {
            "A": self.t("abc_rule_a", a=abc.a_share),
            "B": self.t("abc_rule_b", a=abc.a_share, b=abc.b_share),
            "C": self.t("abc_rule_c"),
        }
        cutoff = {"A": abc.a_cutoff, "B": abc.b_cutoff, "C": None}
        rows: list[list[Any]] = [
            [
                self.t("tier"),
                self.t("customers"),
                self.t("revenue"),
                self.t("share"),
                self.t("cutoff"),
                self.t("rule"),
            ]
        ]
        for tier in "ABC":
            rows.append(
                [
                    tier,
                    abc.counts.get(tier, 0),
                    abc.revenue.get(tier, 0.0),
                    share[tier],
                    cutoff[tier],
                    rules[tier],
                ]
            )
        abc_block = self.block(self.t("abc"), rows, {2: MONEY, 3: PCT, 4: MONEY})
        self.row = abc_block.row + abc_block.height + 1

        rfm = r.rfm
        rows = [[self.t("score"), self.t("recency"), self.t("frequency"), self.t("monetary")]]
        for score in range(5, 0, -1):
            rows.append(
                [
                    score,
                    band(rfm.recency_edges, score, down=True),
                    band(rfm.frequency_edges, score),
                    band(rfm.monetary_edges, score, money=True),
                ]
            )
        rfm_block = self.block(self.t("rfm"), rows)
        self.row = rfm_block.row + rfm_block.height + 1

        rows = [[self.t("segment"), self.t("customers"), self.t("rule")]]
        for segment in SEGMENTS:
            rows.append([segment.label(self.lang), rfm.counts.get(segment.key, 0), segment.rule])
        seg_block = self.block(self.t("segments"), rows)
        self.chart(seg_block, "bar", self.t("segment_chart"), (1,))
        # The segment chart sits beside the segment block; ABC and RFM need no chart.
        self.end_section(seg_block)

    def notes(self) -> None:
        lines = notes(self.r, self.lang)
        if lines:
            self.block(self.t("notes"), [[line] for line in lines])


def band(edges: list[float], score: int, *, down: bool = False, money: bool = False) -> str:
    """The values that get ``score`` (1-5), as text: ``≤ 3``, ``4 – 10``, ``> 25``."""
    if len(edges) < 4:
        return "–"

    def fmt(x: float) -> str:
        return f"{x:,.0f}" if money else f"{x:g}"

    if down:  # fewer is better: 5 below the first edge … 1 at or above the last
        k = 5 - score  # edges below this band
        if k == 0:
            return f"< {fmt(edges[0])}"
        if k == 4:
            return f"≥ {fmt(edges[3])}"
        return f"{fmt(edges[k - 1])} – <{fmt(edges[k])}"
    k = score - 1  # more is better: 1 at or below the first edge … 5 above the last
    if k == 0:
        return f"≤ {fmt(edges[0])}"
    if k == 4:
        return f"> {fmt(edges[3])}"
    return f">{fmt(edges[k - 1])} – {fmt(edges[k])}"


def notes(report: Report, lang: Lang, *, definitions: bool = True) -> list[str]:
    """What a reader must know about the figures: currencies, dirty rows (and, with
    ``definitions``, how the weighted forecast, win rate, conversion and replies are counted)."""
    zh = lang == "zh"
    out = []
    cur = report.currency
    for code, (count, amount) in sorted(cur.left_out.items()):
        out.append(
            f"{count} 个 {code} 商机（合计 {code} {amount:,.0f}）没有汇率，未计入金额；"
            "可在设置表的“汇率”中填写，如 USD=7.1"
            if zh
            else f"{count} deals in {code} ({code} {amount:,.0f}) are left out of the amounts: "
            "no exchange rate (Settings: Exchange rates, e.g. USD=7.1)"
        )
    for code, count in sorted(cur.converted.items()):
        rate = cur.rates[code]
        out.append(
            f"{count} 个 {code} 商机按 1 {code} = {rate:g} {cur.main} 折算"
            if zh
            else f"{count} deals in {code} converted at 1 {code} = {rate:g} {cur.main}"
        )
    dn = report.deal_notes
    if dn.won_without_closed:
        out.append(
            f"{dn.won_without_closed} 个赢单商机没有成交日期，未计入月度收入和 ABC"
            if zh
            else f"{dn.won_without_closed} won deals have no closed date: not in revenue by "
            "month, owner, region, product or ABC"
        )
    if dn.without_amount:
        out.append(
            f"{dn.without_amount} 个商机没有金额（或金额不是数字）"
            if zh
            else f"{dn.without_amount} deals have no amount (or one that is not a number)"
        )
    if report.merged:
        out.append(
            f"{report.merged} 个已合并的客户不单独计算，其商机计入保留的客户"
            if zh
            else f"{report.merged} merged customers are counted as the customer they were "
            "merged into"
        )
    if not definitions:
        return out
    source = report.probabilities_from
    where_zh = "销售阶段表" if source != "defaults" else "默认"
    out.append(
        f"加权预测 = 金额 × 商机自身赢率（未填则用{where_zh}的阶段概率）"
        if zh
        else f"Weighted forecast = amount × the deal's probability, else its stage's "
        f"({'Stages table' if source != 'defaults' else 'default probabilities'})"
    )
    out.append(
        f"赢单率 = 近 12 个月赢单 /（赢单 + 输单）；转化率 = 近 12 个月新建商机中已赢单的比例；"
        f"回复 = 状态为已回复，或发送后 {REPLY_DAYS} 天内收到该客户来信"
        if zh
        else "Win rate = won / (won + lost), closed in the last 12 months; conversion = share of "
        f"deals created in the last 12 months that are won; replied = status replied, or mail "
        f"from the recipient within {REPLY_DAYS} days"
    )
    return out


def segment_label(key: str, lang: Lang) -> str:
    return SEGMENT_BY_KEY[key].label(lang)
