"""Deterministic, realistic CRM rows for the benchmarks: bilingual names, companies, e-mail.

Every row is a pure function of its index (a ``Random`` seeded per row), so any row can be
made again without making the ones before it: the benchmark rebuilds the 500 interactions it
upserts, and a cached workbook still matches the generator. Values are canonical (choice
values in English, dates as ``date``/``datetime``), the way callers hand them to ``insert_all``.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from typing import Any

GENERATOR_VERSION = 1  # bump when the rows change, so cached workbooks are rebuilt


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯"
    "邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
_GIVEN = _words(
    "伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 "
    "建华 晓东 海燕 文博 子涵 一鸣 思远 雨桐 浩然 欣怡 志强 丽华 晨曦 俊杰 佳怡"
)
_PINYIN = _words(
    "wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng "
    "liang xie song tang xu han feng deng cao peng zeng xiao tian dong yuan pan yu jiang cai "
    "yu du ye cheng su wei lv ding ren shen"
)
_FIRST = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anna "
    "Lukas Sofia Hiroshi Yuki Minh Priya Ahmed Olga"
)
_LAST = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Schmidt Müller Tanaka Nguyen Patel "
    "Kowalski Rossi Dubois"
)
_CITIES = _words(
    "深圳 上海 北京 广州 杭州 苏州 成都 武汉 南京 天津 重庆 西安 宁波 东莞 佛山 厦门 青岛"
)
_BRANDS = _words("华信 联创 中科 恒达 金桥 宏图 新源 博远 瑞丰 天成 海川 星辰 银河 正泰 鼎盛 嘉禾")
_LINES = _words("科技 电子 贸易 机械 物流 软件 医疗器械 新材料 智能制造 食品 包装 光电 化工 网络")
_EN_CO = _words(
    "Acme Northwind Contoso Globex Initech Umbrella Stark Wayne Hooli Vandelay Soylent "
    "Tyrell Cyberdyne Wonka Oceanic Massive Dynamic"
)
_EN_KIND = _words("Trading Logistics Software Medical Foods Components Robotics Packaging Optics")
_EN_SUFFIX = ("Ltd.", "Inc.", "GmbH", "Co., Ltd.", "LLC", "Pte. Ltd.")
_DOMAINS_EN = ("com", "co.uk", "de", "com.sg", "io")
_OWNERS = ("张伟", "李娜", "王芳", "刘洋", "Alice Chen", "Bob Wang", "陈静", "Kevin Zhou")
_REGIONS = ("华东", "华南", "华北", "西南", "华中", "东北", "海外", "Hong Kong", "Singapore")
_INDUSTRIES = ("制造业", "电子", "零售", "医疗", "物流", "Software", "Retail", "教育", "金融")
_SOURCES = ("展会", "官网", "转介绍", "广告", "Referral", "Website", "Trade show", "微信", "邮件")
_STATUSES = ("Lead", "Active", "Active", "Active", "Inactive", "Churned")
_TIERS = ("A", "B", "B", "C", "C", "C")
_TAGS = ("vip", "distributor", "经销商", "重点客户", "OEM", "export", "老客户", "newsletter")
_NOTE_BITS = (
    "客户对价格比较敏感，希望年底前拿到阶梯报价。",
    "Prefers e-mail over phone calls; decision maker is the purchasing manager.",
    "去年参加过深圳展会，对新款控制器感兴趣。",
    "Asked for a sample shipment and the CE certificate.",
    "付款周期 60 天，需财务审批。",
    "Reorders every quarter; watch the stock of spare parts.",
    "联系人已换岗，新对接人待确认。",
    "Requested a Chinese and an English version of the contract.",
)
_SUBJECTS = (
    "报价单 / Quotation #{n}",
    "Re: 订单 {n} 交期确认",
    "Order {n}: delivery schedule",
    "关于合同 HT-{n} 的修改意见",
    "Re: Re: sample request ({n})",
    "发票与付款 Invoice {n}",
    "Meeting notes {n} / 会议纪要",
    "售后问题反馈 #{n}",
    "New price list for Q{q} {y}",
    "Fwd: 技术参数确认 spec sheet {n}",
)
_SUMMARY_BITS = (
    "客户确认了第三季度的采购计划，数量比去年增加约百分之二十，希望我们在月底前给出正式报价。",
    "The customer asked whether the lead time can be shortened to four weeks for the next batch.",
    "对方技术部提出了两个接口兼容性问题，需要研发同事下周一之前回复。",
    "We agreed to ship 200 samples by air; freight is on our side as discussed at the fair.",
    "付款条件仍有分歧：客户要求月结九十天，我方建议三十天并给予百分之二的折扣。",
    "Purchasing forwarded the signed contract; the original copy follows by courier.",
    "客户反馈上一批货物外包装破损三箱，已拍照留存，要求补发并改进包装。",
    "Follow-up call planned for next Tuesday to review the pilot results with their QA team.",
    "对方希望增加中文版使用说明书，并询问能否提供现场培训服务。",
    "They compared our offer with two competitors and asked for a better volume discount.",
)
_KINDS = ("email",) * 7 + ("call", "call", "meeting", "note")
_FOLDERS_IN = ("INBOX", "收件箱", "INBOX/客户")
_FOLDERS_OUT = ("Sent", "已发送", "Sent Items")
_ATTACHMENTS = ("报价单.pdf", "spec-sheet.xlsx", "合同草案.docx", "photo.jpg", "invoice.pdf")
_MAILBOX = "sales@ourco.cn"
_EPOCH = dt.datetime(2021, 1, 1, 8, 0)
_DAYS = 5 * 365


def customer_id(n: int) -> str:
    """The id of the n-th customer (1-based): C0001 … C100000."""
    return f"C{n:04d}"


def interaction_id(n: int) -> str:
    """The id of the n-th interaction (1-based): I000001 …"""
    return f"I{n:06d}"


def _company(rng: random.Random) -> tuple[str, str, bool]:
    """(company name, e-mail domain, chinese?)"""
    if rng.random() < 0.65:
        city, brand, line = rng.choice(_CITIES), rng.choice(_BRANDS), rng.choice(_LINES)
        name = f"{city}{brand}{line}有限公司"
        domain = f"{_PINYIN[_BRANDS.index(brand) % len(_PINYIN)]}-{rng.randrange(1000)}.cn"
        return name, domain, True
    brand, kind = rng.choice(_EN_CO), rng.choice(_EN_KIND)
    domain = f"{brand.lower()}{rng.randrange(1000)}.{rng.choice(_DOMAINS_EN)}"
    return f"{brand} {kind} {rng.choice(_EN_SUFFIX)}", domain, False


def _person(rng: random.Random, chinese: bool) -> tuple[str, str]:
    """(display name, mailbox local part)"""
    if chinese:
        k = rng.randrange(len(_SURNAMES))
        name = _SURNAMES[k] + rng.choice(_GIVEN)
        return name, f"{_PINYIN[k % len(_PINYIN)]}.{rng.randrange(100, 999)}"
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    return f"{first} {last}", f"{first}.{last}".lower().replace("ü", "ue")


def _date(rng: random.Random) -> dt.date:
    return (_EPOCH + dt.timedelta(days=rng.randrange(_DAYS))).date()


def customer(n: int, seed: int = 1) -> dict[str, Any]:
    """The n-th customer (1-based)."""
    rng = random.Random(seed * 1_000_003 + n)
    company, domain, chinese = _company(rng)
    name, local = _person(rng, chinese)
    emails = [f"{local}@{domain}"]
    if rng.random() < 0.2:
        emails.append(f"{rng.choice(('sales', 'purchase', 'info', 'caigou'))}@{domain}")
    if rng.random() < 0.1:
        emails[0] = emails[0].capitalize()  # people type addresses in any case
    created = _date(rng)
    updated = created + dt.timedelta(days=rng.randrange(400))
    notes = "".join(rng.sample(_NOTE_BITS, rng.randrange(0, 3)))
    return {
        "id": customer_id(n),
        "name": name,
        "company": company,
        "email": "; ".join(emails),
        "phone": (
            f"+86 1{rng.randrange(30, 90)} {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}"
            if chinese
            else f"+{rng.choice((1, 44, 49, 65))} {rng.randrange(100, 999)} "
            f"{rng.randrange(100, 999)} {rng.randrange(1000, 9999)}"
        ),
        "owner": rng.choice(_OWNERS),
        "region": rng.choice(_REGIONS),
        "industry": rng.choice(_INDUSTRIES),
        "source": rng.choice(_SOURCES),
        "status": rng.choice(_STATUSES),
        "tier": rng.choice(_TIERS),
        "tags": "; ".join(rng.sample(_TAGS, rng.randrange(0, 3))) or None,
        "unsubscribed": rng.random() < 0.03,
        "created": created,
        "updated": updated,
        "last_contact": updated + dt.timedelta(days=rng.randrange(200)),
        "notes": notes or None,
    }


def interaction(n: int, customers: int, seed: int = 1) -> dict[str, Any]:
    """The n-th interaction (1-based), with one of ``customers`` customers."""
    rng = random.Random(seed * 2_000_003 + n)
    c = rng.randrange(1, customers + 1)
    who = customer_address(c, seed)
    kind = rng.choice(_KINDS)
    inbound = rng.random() < 0.55
    at = _EPOCH + dt.timedelta(days=rng.randrange(_DAYS), minutes=rng.randrange(10 * 60))
    number = rng.randrange(10_000, 99_999)
    subject = rng.choice(_SUBJECTS).format(n=number, q=rng.randrange(1, 5), y=at.year)
    summary = ""
    while len(summary) < 170:
        summary += rng.choice(_SUMMARY_BITS) + " "
    email = kind == "email"
    stamp = at.strftime("%Y%m%d%H%M%S")
    host = who.split("@", 1)[1] if inbound else "mail.ourco.cn"
    return {
        "id": interaction_id(n),
        "customer_id": customer_id(c),
        "deal_id": f"D{rng.randrange(1, 5000):04d}" if rng.random() < 0.15 else None,
        "kind": kind,
        "direction": "in" if inbound else "out",
        "at": at,
        "from": (who if inbound else _MAILBOX) if email else None,
        "to": (_MAILBOX if inbound else who) if email else None,
        "subject": subject,
        "summary": summary[:220].rstrip(),
        "message_id": f"<{stamp}.{n}.{rng.randrange(16**6):06x}@{host}>" if email else None,
        "thread_id": f"T{number}" if email else None,
        "mailbox": _MAILBOX if email else None,
        "folder": rng.choice(_FOLDERS_IN if inbound else _FOLDERS_OUT) if email else None,
        "attachments": "; ".join(rng.sample(_ATTACHMENTS, rng.randrange(0, 3))) or None,
    }


@functools.cache
def customer_address(n: int, seed: int = 1) -> str:
    """The first e-mail address of the n-th customer (lower-cased), without building the row."""
    return customer(n, seed)["email"].split(";")[0].strip().lower()


def new_summary(n: int) -> str:
    """A replacement summary for the upsert of an existing interaction."""
    rng = random.Random(3_000_017 + n)
    text = f"[更新 {n}] "
    while len(text) < 190:
        text += rng.choice(_SUMMARY_BITS)
    return text[:210]


def new_note(n: int) -> str:
    """A replacement note for the update of an existing customer."""
    rng = random.Random(4_000_037 + n)
    return f"{dt.date(2026, 3, 1 + n % 28).isoformat()} 电话回访 / follow-up call: " + rng.choice(
        _NOTE_BITS
    )
