"""The e-mails rules send: a note to the deal's owner, and the order hand-off.

Both are written in the workbook's language, as text with a small HTML alternative. The
hand-off lists the deal's lines and total exactly as contracts compute them
(:class:`~addin.templating.CrmData`: SKUs from the Products sheet, quantities, amounts), so
the warehouse and finance see what the customer signed.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..notify import Notice
from ..schema import STAGES, Lang
from ..templating import CrmData
from ..templating.filters import TemplateValueError, money
from .rules import Rule


def _stage_label(stage: str, lang: Lang) -> str:
    return next((c.label(lang) for c in STAGES if c.value == stage), stage)


def _party(customer: Mapping[str, Any]) -> str:
    return str(customer.get("company") or customer.get("name") or customer.get("id") or "")


def _money(value: Any, currency: Any, lang: Lang) -> str:
    if value is None or value == "":
        return "—"
    try:
        return str(money(value, currency, lang=lang))
    except TemplateValueError:
        return str(value)


def _day(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat() if isinstance(value, dt.date) else "—"


def _facts(deal: Mapping[str, Any], customer: Mapping[str, Any], lang: Lang) -> list[tuple]:
    zh = lang == "zh"
    facts = [
        ("客户" if zh else "Customer", f"{_party(customer)} ({deal.get('customer_id') or '—'})"),
        ("金额" if zh else "Amount", _money(deal.get("amount"), deal.get("currency"), lang)),
        ("阶段" if zh else "Stage", _stage_label(deal.get("stage") or "", lang)),
        ("负责人" if zh else "Owner", deal.get("owner") or customer.get("owner") or "—"),
        ("预计成交" if zh else "Expected close", _day(deal.get("expected_close"))),
        ("下次跟进" if zh else "Next follow-up", _day(deal.get("next_follow_up"))),
    ]
    if deal.get("contract_no"):
        facts.append(("合同编号" if zh else "Contract no.", deal["contract_no"]))
    return facts


def _html_table(header: list[str] | None, rows: list[list[str]], right: set[int]) -> str:
    cell = 'style="border:1px solid #ccc;padding:4px 8px;text-align:{}"'
    out = ['<table style="border-collapse:collapse;font-size:14px">']
    if header:
        out.append(
            "<tr>"
            + "".join(
                f"<th {cell.format('right' if j in right else 'left')}>{html.escape(h)}</th>"
                for j, h in enumerate(header)
            )
            + "</tr>"
        )
    for row in rows:
        out.append(
            "<tr>"
            + "".join(
                f"<td {cell.format('right' if j in right else 'left')}>{html.escape(str(v))}</td>"
                for j, v in enumerate(row)
            )
            + "</tr>"
        )
    out.append("</table>")
    return "\n".join(out)


def _page(before: list[str], tables: list[str], after: list[str], footer: str) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in before)
    body += '<p style="margin:0"></p>'.join(tables)
    body += "".join(f"<p>{html.escape(p)}</p>" for p in after)
    body += f'<p style="color:#888;font-size:12px">{html.escape(footer)}</p>'
    return f'<html><body style="font-family:sans-serif">{body}</body></html>\n'


def owner_notice(
    key: str, data: CrmData, deal_id: str, rule: Rule, to: str, owner: str | None
) -> Notice:
    """The owner's e-mail: the deal has entered the rule's stage (plus the rule's note)."""
    lang = data.lang
    zh = lang == "zh"
    deal = data.deal_rows[deal_id]
    customer = data.customer_rows.get(deal.get("customer_id") or "", {})
    stage = _stage_label(rule.stage, lang)
    title = deal.get("title") or ""
    if zh:
        subject = f"商机 {deal_id} 进入{stage}阶段：{title} — {_party(customer)}"
        opening = f"{owner or '您好'}：" if owner else "您好："
        what = f"商机 {deal_id}「{title}」（{_party(customer)}）已进入{stage}阶段。"
        footer = f"— xlcrm 自动规则 {rule.id}"
    else:
        subject = f"Deal {deal_id} is now in {stage}: {title} — {_party(customer)}"
        opening = f"Hello {owner}," if owner else "Hello,"
        what = f"Deal {deal_id} “{title}” ({_party(customer)}) has entered the {stage} stage."
        footer = f"— xlcrm rule {rule.id}"
    facts = _facts(deal, customer, lang)
    text = "\n\n".join(
        [opening, what, "\n".join(f"{k}: {v}" for k, v in facts)]
        + ([rule.note] if rule.note else [])
        + [footer]
    )
    page = _page(
        [opening, what],
        [_html_table(None, [[k, str(v)] for k, v in facts], set())],
        [rule.note] if rule.note else [],
        footer,
    )
    return Notice(
        key,
        to,
        subject,
        text + "\n",
        page,
        customer_id=deal.get("customer_id"),
        deal_id=deal_id,
    )


def handoff_notice(key: str, data: CrmData, deal_id: str, rule: Rule) -> Notice:
    """The order hand-off: customer, contract, every line and the total."""
    lang = data.lang
    zh = lang == "zh"
    deal = data.deal_rows[deal_id]
    customer = data.customer_rows.get(deal.get("customer_id") or "", {})
    built = data.contract_context(deal_id, deal.get("contract_no"))
    lines = built.context["lines"]
    total = built.context.get("total")
    currency = deal.get("currency")
    header = (
        ["产品编号", "名称", "数量", "单位", "单价", "金额"]
        if zh
        else ["SKU", "Item", "Qty", "Unit", "Unit price", "Amount"]
    )
    rows = []
    for line in lines:
        quantity = line.get("quantity")
        rows.append(
            [
                line.get("sku") or "—",
                line.get("name") or ("（产品表中没有该产品）" if zh else "(not in Products)"),
                _quantity(quantity),
                line.get("unit") or "",
                _money(line.get("unit_price"), line.get("currency") or currency, lang),
                _money(line.get("amount"), line.get("currency") or currency, lang),
            ]
        )
    total_text = _money(total, currency, lang)
    party = _party(customer)
    contract = deal.get("contract_no")
    if zh:
        subject = f"订单交接：{deal_id} {party}" + (f" 合同 {contract}" if contract else "")
        opening = "各位好："
        what = f"商机 {deal_id}「{deal.get('title') or ''}」（{party}）已赢单，请安排发货与开票。"
        total_line = f"合计：{total_text}"
        footer = f"— xlcrm 自动规则 {rule.id}"
    else:
        subject = f"Order hand-off: {deal_id} {party}" + (
            f", contract {contract}" if contract else ""
        )
        opening = "Hello,"
        what = (
            f"Deal {deal_id} “{deal.get('title') or ''}” ({party}) is won: please arrange "
            "delivery and invoicing."
        )
        total_line = f"Total: {total_text}"
        footer = f"— xlcrm rule {rule.id}"
    facts = _facts(deal, customer, lang)
    widths = [max(len(str(r[j])) for r in [header, *rows]) for j in range(len(header))]
    table_text = "\n".join(
        "  ".join(
            str(v).rjust(widths[j]) if j in (2, 4, 5) else str(v).ljust(widths[j])
            for j, v in enumerate(r)
        ).rstrip()
        for r in [header, *rows]
    )
    text = "\n\n".join(
        [opening, what, "\n".join(f"{k}: {v}" for k, v in facts), table_text, total_line, footer]
    )
    page = _page(
        [opening, what],
        [
            _html_table(None, [[k, str(v)] for k, v in facts], set()),
            _html_table(header, rows, {2, 4, 5}),
        ],
        [total_line],
        footer,
    )
    return Notice(
        key,
        ", ".join(rule.to),
        subject,
        text + "\n",
        page,
        customer_id=deal.get("customer_id"),
        deal_id=deal_id,
    )


def _quantity(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    return "" if value is None else str(value)
