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
from ..workbook.report import Block, Chart, PageSetup, ReportSheet
from .facts import Report
from .metrics import ATTRIBUTION_DAYS, REPLY_DAYS, GroupLine
from .value import SEGMENT_BY_KEY, SEGMENTS

SHEET_NAME = {"en": "Dashboard", "zh": "仪表盘"}
DATA_COL = 1  # blocks start in column A
# Charts sit right of the widest block, after a narrow gap column, CHART_COLS columns wide.
CHART_COLS = 7
CHART_COL_WIDTH = 9.0
GAP_WIDTH = 2.0
CHART_ROWS = 16  # a 7.5 cm chart covers ~14.5 default rows; a section is at least this tall
# Printing: the smaller of A4 and Letter in landscape, less the margins (PageSetup's, cm).
PAGE_WIDTH_CM = 27.94 - 2 * 0.4 * 2.54
PAGE_HEIGHT_CM = 21.0 - 2 * 0.5 * 2.54
ROW_POINTS = 15.0  # a default row
ROW_CM = ROW_POINTS / 72 * 2.54
MIN_WIDTH, MAX_FIRST_WIDTH, MAX_WIDTH = 9, 30, 24
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
    "recency": ("Recency (days)", "最近联系（天）"),
    "frequency": ("Frequency (deals)", "频次（赢单数）"),
    "monetary": ("Monetary (revenue)", "金额（赢单收入）"),
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
        self.sheet = ReportSheet(SHEET_NAME[lang], heading=text("heading", lang), first=True)
        self.row = 2  # the next free row
        self.sections: list[tuple[int, int]] = []  # first and last row of each section

    def t(self, key: str, **values: Any) -> str:
        return text(key, self.lang, **values)

    def name(self, value: str | None) -> str:
        return self.t("none") if value is None else value

    # -- placing -------------------------------------------------------------------------------

    def block(
        self,
        title: str,
        rows: list[list[Any]],
        formats: dict[int, str] | None = None,
        *,
        header: bool = True,
    ) -> Block:
        """A titled block at the next free row (title in that row, data below); its first row
        names the columns unless ``header`` is false."""
        block = Block(
            self.row + 1, DATA_COL, rows, title=title, formats=formats or {}, header=header
        )
        self.sheet.blocks.append(block)
        return block

    def chart(self, block: Block, kind: str, title: str, values: Sequence[int], **kw: Any) -> None:
        self.sheet.charts.append(
            Chart(
                kind,  # type: ignore[arg-type]
                title,
                block,
                tuple(values),
                anchor=f"A{block.row - 1}",  # placed by place_charts, once widths are known
                **kw,
            )
        )

    def end_section(self, *blocks: Block, chart: bool = True) -> None:
        bottom = max(b.row + b.height for b in blocks)
        tall = blocks[0].row - 1 + (CHART_ROWS if chart else 0)
        self.sections.append((blocks[0].row - 1, max(bottom, tall)))
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
        self.sheet.widths = fit_widths(self.sheet.blocks)
        for block in self.sheet.blocks:  # header rows that wrap get room for two lines
            if block.header and any(
                isinstance(h, str)
                and round(display_width(h) * 1.1) + 2 > self.sheet.widths.get(block.col + j, 0)
                for j, h in enumerate(block.rows[0])
            ):
                self.sheet.heights[block.row] = 2 * ROW_POINTS
        first_chart_col = self.place_charts()
        self.sheet.page = self.page_setup(first_chart_col)
        return self.sheet

    def place_charts(self) -> int:
        """Put every chart beside its block, right of the widest block; its first column.

        A chart covers whole cells (CHART_COLS columns, its section's rows less one), each
        column with a width of its own: Excel's default column (64 pixels) is a third
        narrower than LibreOffice's, and the chart must end where the print area does."""
        data_cols = max(b.col + b.width - 1 for b in self.sheet.blocks if b.width > 1)
        gap, first = data_cols + 1, data_cols + 2
        self.sheet.widths[gap] = GAP_WIDTH
        for c in range(first, first + CHART_COLS):
            self.sheet.widths[c] = CHART_COL_WIDTH
        # A narrow column after the charts, inside the print area: a chart's right edge on
        # the print area's edge loses its border line on paper.
        self.sheet.widths[first + CHART_COLS] = 1.0
        for chart in self.sheet.charts:
            # From the block's header row: a page break goes just above the title row, and
            # LibreOffice prints the frame of a chart that starts on it on the page before.
            top = chart.block.row
            chart.anchor = f"{_letter(first)}{top}"
            chart.to = f"{_letter(first + CHART_COLS - 1)}{top + CHART_ROWS - 3}"
            chart.width_cm = CHART_COLS * column_cm(CHART_COL_WIDTH)
            chart.height_cm = (CHART_ROWS - 2) * ROW_CM
        return first

    def page_setup(self, chart_col: int) -> PageSetup:
        """Landscape, one page wide, and a page break before any section that would not fit
        on the page it starts on, so that a chart never prints apart from its figures."""
        widths = self.sheet.widths
        last_col = chart_col + CHART_COLS  # the charts and the narrow column after them
        scale = min(
            1.0, PAGE_WIDTH_CM / sum(column_cm(widths.get(c)) for c in range(1, last_col + 1))
        )
        rows_per_page = int(PAGE_HEIGHT_CM / (ROW_CM * scale) * 0.95)
        breaks: list[int] = []
        page_top = 1
        extra = {r: h / ROW_POINTS - 1 for r, h in self.sheet.heights.items()}

        def rows(first: int, last: int) -> float:
            return last - first + 1 + sum(x for r, x in extra.items() if first <= r <= last)

        for first, last in self.sections:
            if rows(page_top, last) > rows_per_page and first > page_top:
                breaks.append(first)
                page_top = first
        last_row = max(b.row + b.height - 1 for b in self.sheet.blocks)
        last_row = max(last_row, *(last for _, last in self.sections))
        return PageSetup(print_area=f"A1:{_letter(last_col)}{last_row}", breaks=breaks)

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
        self.sections.append((1, 3))

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
        self.sections.append((first.row - 1, first.row + first.height - 1))
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
            self.sections.append((second.row - 1, second.row + second.height - 1))

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
        self.sections.append((abc_block.row - 1, self.row - 1))

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
        self.sections.append((rfm_block.row - 1, self.row - 1))

        rows = [[self.t("segment"), self.t("customers"), self.t("rule")]]
        for segment in SEGMENTS:
            rows.append(
                [
                    segment.label(self.lang),
                    rfm.counts.get(segment.key, 0),
                    segment.rule_text(self.lang),
                ]
            )
        seg_block = self.block(self.t("segments"), rows)
        self.chart(seg_block, "bar", self.t("segment_chart"), (1,))
        # The segment chart sits beside the segment block; ABC and RFM need no chart.
        self.end_section(seg_block)

    def notes(self) -> None:
        lines = notes(self.r, self.lang)
        if lines:
            block = self.block(self.t("notes"), [[line] for line in lines], header=False)
            self.sections.append((block.row - 1, block.row + block.height - 1))


def _letter(col: int) -> str:
    from ..workbook.cells import column_letter

    return column_letter(col - 1)


def display_width(value: str) -> int:
    """Characters as wide as a digit that ``value`` needs: CJK and full-width forms take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in value)


def two_lines(header: str) -> int:
    """The narrowest width at which ``header`` wraps onto at most two lines (at spaces; CJK
    text wraps between any two characters)."""
    words = header.split()
    if any(display_width(c) == 2 for c in header):
        return max(1, -(-display_width(header) // 2) + 3)  # a line may break before a wide one
    for width in range(max(display_width(w) for w in words), display_width(header) + 1):
        lines, line = 1, 0
        for w in words:
            size = display_width(w)
            if line and line + 1 + size > width:
                lines, line = lines + 1, size
            else:
                line = line + 1 + size if line else size
        if lines <= 2:
            return width
    return display_width(header)


def shown(value: Any, fmt: str | None) -> str:
    """About what a cell shows, to size its column."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, (int, float)):
        if fmt and "%" in fmt:
            return f"{value:.1%}"
        if fmt == MONEY:
            return f"{value:,.0f}"
        return f"{value:,.2f}" if isinstance(value, float) else str(value)
    if isinstance(value, dt.date):
        return "2026-12-31"
    return str(value)


def fit_widths(blocks: Sequence[Block]) -> dict[int, float]:
    """Column widths that show every header and figure whole (a header needs room for its
    filter arrow too). Titles and one-cell lines may run on into empty cells to their right,
    and so may text in a block's last column, which has nothing beside it."""
    widths: dict[int, float] = {}
    for block in blocks:
        if block.width < 2:
            continue
        for i, row in enumerate(block.rows):
            for j, value in enumerate(row):
                if j == block.width - 1 and j and isinstance(value, str) and i:
                    continue
                col = block.col + j
                if i == 0 and block.header and isinstance(value, str):
                    # Headers wrap onto at most two lines; bold text is about a tenth wider.
                    need = round(two_lines(value) * 1.1) + 2
                else:
                    need = display_width(shown(value, block.formats.get(j))) + 2
                widths[col] = max(widths.get(col, MIN_WIDTH), need)
    return {c: float(min(w, MAX_FIRST_WIDTH if c == 1 else MAX_WIDTH)) for c, w in widths.items()}


def column_cm(width: float | None) -> float:
    """How wide a column of ``width`` characters prints (Calibri 11: 7 pixels a character)."""
    if width is None:
        width = 8.43  # Excel's default
    return (width * 7 + 5) / 96 * 2.54


def band(edges: list[float], score: int, *, down: bool = False, money: bool = False) -> str:
    """The values that get ``score`` (1-5), as text: ``≤ 3``, ``4 – 10``, ``≥ 26``; ``–`` when
    no value can get it (quintile edges tie when many customers have the same figure)."""
    if len(edges) < 4:
        return "–"
    if all(float(e).is_integer() for e in edges):
        return _whole_band(edges, score, down=down, money=money)

    def fmt(x: float) -> str:
        return f"{x:,.2f}" if money else f"{x:g}"  # edges with cents: show them

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
    return f"> {fmt(edges[k - 1])} – ≤ {fmt(edges[k])}"


def _whole_band(edges: list[float], score: int, *, down: bool, money: bool) -> str:
    """``band`` for whole-number edges (days, deals, rounded revenue): inclusive ranges."""
    e = [int(x) for x in edges]

    def fmt(x: int) -> str:
        return f"{x:,}" if money else str(x)

    lo: int | None
    hi: int | None
    if down:  # score 5: below e0; 5 - k: e[k-1] <= v < e[k]; 1: at or above e3
        k = 5 - score
        lo = 0 if k == 0 else e[k - 1]
        hi = None if k == 4 else e[k] - 1
    else:  # score 1: at most e0; k + 1: e[k-1] < v <= e[k]; 5: above e3
        k = score - 1
        lo = None if k == 0 else e[k - 1] + 1
        hi = None if k == 4 else e[k]
    if lo is not None and hi is not None:
        if lo > hi:
            return "–"
        if lo == hi:
            return fmt(lo)
        if lo == 0 and down:
            return f"≤ {fmt(hi)}"
        return f"{fmt(lo)} – {fmt(hi)}"
    if hi is not None:
        return f"≤ {fmt(hi)}"
    assert lo is not None
    return f"≥ {fmt(lo)}"


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
