#!/usr/bin/env python
"""A big, realistic, bilingual CRM workbook for the workflow benchmarks (issue #6).

``build_book(path)`` writes 100,000 customers, 50,000 deals, 300,000 interactions, ~10,000
tickets, ~15,000 campaign sends and a product list through xlcrm's own API
(``create_workbook``, one ``insert_all`` per table, one ``save``), the way an import fills a
workbook. ``cached_book(...)`` keeps one built workbook per set of parameters in
``bench/.cache/`` (git-ignored), like the other benches.

About 3 % of the customers are **planted dirty duplicates** of another customer, as a CRM
gathers them from several channels: the same e-mail address in another case or with spaces,
the same phone number written another way (``+86 138 1234 5678`` / ``138-1234-5678`` /
``0086 13812345678``), the company with or without ``有限公司`` / ``Co., Ltd.``, full-width
letters and digits. They are listed in a sidecar ``<path>.planted.json`` (``pairs``: original
id, duplicate id), so ``bench_dedupe.py`` can measure recall.

The data is deterministic (a seed); dates run over the 24 months up to :data:`TODAY`, which
is the ``today`` the benches pass to the report. Customers and interactions come from
``fake_crm`` (shared with ``bench_workbook.py``); deals are skewed (a few customers buy much
more than the rest) so that an ABC analysis has something to find.

    python bench/bigcrm.py                       # build (or find) the full-size workbook
    python bench/bigcrm.py --customers 10000 --deals 5000 --interactions 30000 --out x.xlsx
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import fake_crm  # noqa: E402  (the bench folder is not a package)

VERSION = 1  # bump when the rows change, so cached workbooks are rebuilt
TODAY = dt.date(2025, 12, 31)  # the end of fake_crm's interaction dates; "today" of the report
DEFAULT_CACHE = HERE / ".cache"
DUPLICATE_SHARE = 0.03

PRODUCTS = (
    ("XH-ERP-STD", "ERP 标准版 / ERP Standard", 68_000, "套"),
    ("XH-ERP-PRO", "ERP 专业版 / ERP Professional", 158_000, "套"),
    ("XH-CRM-10", "CRM 10 用户 / CRM 10 users", 24_000, "年"),
    ("XH-CRM-50", "CRM 50 用户 / CRM 50 users", 96_000, "年"),
    ("XH-WMS", "仓储管理系统 WMS", 120_000, "套"),
    ("XH-MES", "制造执行系统 MES", 260_000, "套"),
    ("XH-BI", "数据看板 BI Dashboards", 38_000, "套"),
    ("XH-API", "接口集成 API integration", 15_000, "项"),
    ("XH-TRAIN", "现场培训 On-site training", 6_000, "天"),
    ("XH-SUP-1Y", "年度维保 Annual support", 18_000, "年"),
    ("XH-CLOUD-S", "云主机 小型 Cloud S", 9_600, "年"),
    ("XH-CLOUD-L", "云主机 大型 Cloud L", 36_000, "年"),
    ("XH-SCAN", "扫码枪 Barcode scanner", 1_200, "台"),
    ("XH-PRINT", "标签打印机 Label printer", 2_800, "台"),
    ("XH-PAD", "工业平板 Rugged tablet", 5_600, "台"),
    ("XH-SENSOR", "温湿度传感器 Sensor kit", 860, "套"),
    ("XH-CONSULT", "实施咨询 Consulting", 12_000, "人天"),
    ("XH-MIGRATE", "数据迁移 Data migration", 20_000, "项"),
    ("XH-SEC", "安全加固 Security hardening", 45_000, "项"),
    ("XH-AI", "智能质检 AI inspection", 188_000, "套"),
)
_TICKET_TYPES = ("question",) * 4 + ("failure",) * 3 + ("request",) * 2 + ("complaint", "feedback")
_PRIORITIES = ("low", "normal", "normal", "normal", "high", "urgent")
_DUE_HOURS = {"low": 120, "normal": 48, "high": 24, "urgent": 8}
_TICKET_SUBJECTS = (
    "系统登录失败 / cannot log in",
    "报表导出乱码",
    "Invoice does not match the order",
    "申请增加用户数",
    "Printer driver for Windows 11?",
    "扫码枪无法识别条码",
    "数据同步延迟",
    "Request: training for new staff",
    "投诉：实施顾问多次迟到",
    "建议：增加移动端审批",
)
_CAMPAIGNS = (
    ("spring-2025", dt.datetime(2025, 3, 12, 9, 30)),
    ("618-promo", dt.datetime(2025, 6, 3, 10, 0)),
    ("webinar-mes", dt.datetime(2025, 8, 20, 14, 0)),
    ("双十一预热", dt.datetime(2025, 10, 28, 9, 0)),
    ("renewal-q4", dt.datetime(2025, 11, 18, 9, 0)),
)
_SEND_STATUS = (
    ("sent",) * 85 + ("bounced",) * 4 + ("replied",) * 6 + ("failed",) * 2 + ("skipped",) * 3
)


def cache_name(
    *, customers: int, deals: int, interactions: int, seed: int, lang: str = "zh"
) -> str:
    """The cached workbook's file name: every parameter and the generator versions."""
    return (
        f"bigcrm-{lang}-{customers}-{deals}-{interactions}-{seed}"
        f"-v{VERSION}.{fake_crm.GENERATOR_VERSION}.xlsx"
    )


def cached_book(
    customers: int = 100_000,
    deals: int = 50_000,
    interactions: int = 300_000,
    seed: int = 7,
    *,
    lang: str = "zh",
    cache_dir: Path = DEFAULT_CACHE,
    rebuild: bool = False,
) -> Path:
    """The built workbook for these parameters, from the cache or built now (then cached)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / cache_name(
        customers=customers, deals=deals, interactions=interactions, seed=seed, lang=lang
    )
    if rebuild or not path.exists() or not planted_path(path).exists():
        partial = path.with_name(path.stem + ".partial.xlsx")
        partial.unlink(missing_ok=True)
        build_book(partial, customers, deals, interactions, seed, lang=lang)
        planted_path(partial).replace(planted_path(path))
        partial.replace(path)
    return path


def planted_path(path: Path) -> Path:
    """The sidecar listing the planted duplicates: ``<path>.planted.json``."""
    return path.with_name(path.name + ".planted.json")


def build_book(
    path: Path,
    customers: int = 100_000,
    deals: int = 50_000,
    interactions: int = 300_000,
    seed: int = 7,
    *,
    lang: str = "zh",
) -> Path:
    """Write the workbook at ``path`` (which must not exist) and its planted-duplicates sidecar.

    Returns ``path``. Takes about a minute at full size, mostly the one save.
    """
    from addin.init import create_workbook
    from addin.workbook import open_book

    path = Path(path)
    rows_c, pairs, how = make_customers(customers, seed)
    rows_d = make_deals(deals, rows_c, seed)
    rows_i = [fake_crm.interaction(n, customers, seed) for n in range(1, interactions + 1)]
    rows_t = make_tickets(max(1, customers // 10), rows_c, seed)
    rows_s = make_sends(rows_c, seed)
    create_workbook(path, lang)  # type: ignore[arg-type]
    book = open_book(path, backups=0)
    try:
        book.table("products").insert_all(
            {"sku": sku, "name": name, "unit_price": price, "currency": "CNY", "unit": unit}
            for sku, name, price, unit in PRODUCTS
        )
        book.table("customers").insert_all(rows_c)
        book.table("deals").insert_all(rows_d)
        book.table("interactions").insert_all(rows_i)
        book.table("tickets").insert_all(rows_t)
        book.table("sends").insert_all(rows_s)
        book.save()
    finally:
        book.close()
    planted = {
        "params": {
            "customers": customers,
            "deals": deals,
            "interactions": interactions,
            "seed": seed,
            "lang": lang,
            "version": VERSION,
        },
        "pairs": pairs,  # [original id, planted duplicate id]
        "how": how,  # what was made dirty, per pair
    }
    planted_path(path).write_text(json.dumps(planted, ensure_ascii=False, indent=1), "utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# Customers and their planted duplicates


def _fullwidth(text: str) -> str:
    """ASCII letters and digits as their full-width forms (Ｃｏ．，Ｌｔｄ． / １３８…)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _phone_variant(phone: str, rng: random.Random) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        local = digits[2:]
        return rng.choice(
            (
                f"{local[:3]}-{local[3:7]}-{local[7:]}",
                f"0086 {local}",
                f"(+86){local}",
                local,
                _fullwidth(local),
            )
        )
    return rng.choice((f"+{digits}", f"00{digits}", "-".join(phone.split())))


def _company_variant(company: str, rng: random.Random) -> str:
    for suffix in ("有限公司", "Co., Ltd.", "Ltd.", "Inc.", "GmbH", "LLC", "Pte. Ltd."):
        if company.endswith(suffix):
            base = company[: -len(suffix)].rstrip()
            options = [base, f"{base}（有限公司）" if suffix == "有限公司" else f"{base} Co.,Ltd"]
            options.append(_fullwidth(company) if rng.random() < 0.5 else company.upper())
            return rng.choice(options)
    return _fullwidth(company)


def _email_variant(email: str, rng: random.Random) -> str:
    first = email.split(";")[0].strip()
    local, _, domain = first.partition("@")
    return rng.choice(
        (
            first.upper(),
            f"  {local.capitalize()}@{domain.upper()} ",
            f"{first} ",
            f"{local.title()}@{domain}",
        )
    )


def make_customers(n: int, seed: int) -> tuple[list[dict[str, Any]], list[list[str]], list[str]]:
    """``n`` customers, ~3 % of them dirty duplicates of an earlier one; the pairs and how."""
    rng = random.Random(seed * 7_919)
    rows: list[dict[str, Any]] = []
    pairs: list[list[str]] = []
    how: list[str] = []
    originals: list[int] = []  # indexes of rows that are not planted duplicates
    for k in range(1, n + 1):
        row = fake_crm.customer(k, seed)
        for key in ("updated", "last_contact"):
            if row[key] > TODAY:
                row[key] = TODAY - dt.timedelta(days=(row[key] - TODAY).days % 300)
        if originals and rng.random() < DUPLICATE_SHARE:
            base = rows[originals[rng.randrange(len(originals))]]
            row, made = _dirty_copy(base, row, rng)
            pairs.append([base["id"], row["id"]])
            how.append(made)
        else:
            originals.append(len(rows))
        rows.append(row)
    return rows, pairs, how


def _dirty_copy(
    base: dict[str, Any], fresh: dict[str, Any], rng: random.Random
) -> tuple[dict[str, Any], str]:
    """A duplicate of ``base`` as another channel would enter it (own id, dates, owner…)."""
    row = dict(fresh)  # its own id, created date, source, notes…
    row["name"] = base["name"]
    row["region"] = base["region"]
    row["industry"] = base["industry"]
    made: list[str] = []
    kind = rng.random()
    if kind < 0.4:  # the same address typed differently; the rest as entered elsewhere
        row["email"] = _email_variant(base["email"], rng)
        row["company"] = (
            base["company"] if rng.random() < 0.5 else _company_variant(base["company"], rng)
        )
        row["phone"] = base["phone"] if rng.random() < 0.5 else _phone_variant(base["phone"], rng)
        made.append("email")
    elif kind < 0.75:  # another address (a private one), the same phone written another way
        row["phone"] = _phone_variant(base["phone"], rng)
        row["company"] = _company_variant(base["company"], rng)
        local = base["email"].split("@")[0].strip().lower()
        row["email"] = f"{local}{rng.randrange(10, 99)}@{rng.choice(('qq.com', '163.com'))}"
        made.append("phone")
    else:  # only the person and the company: the name spaced or full-width, company variant
        name = base["name"]
        if not name.isascii():
            name = " ".join(name)  # 王 伟
        else:
            name = name.upper() if rng.random() < 0.5 else _fullwidth(name)
        row["name"] = name
        row["company"] = _company_variant(base["company"], rng)
        row["email"] = fresh["email"]
        made.append("name+company")
    return row, "+".join(made)


# ---------------------------------------------------------------------------------------------
# Deals, interactions, tickets, sends


def _skewed(rng: random.Random, n: int) -> int:
    """A customer index (0-based) where a few customers are picked far more often (Pareto)."""
    return min(n - 1, int(n * rng.random() ** 2.5))


def make_deals(n: int, customers: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """``n`` deals over the 24 months before TODAY: ~35 % won, ~25 % lost, the rest open."""
    rng = random.Random(seed * 104_729)
    start = TODAY - dt.timedelta(days=730)
    rows = []
    for k in range(1, n + 1):
        customer = customers[_skewed(rng, len(customers))]
        sku, name, price, _unit = PRODUCTS[min(len(PRODUCTS) - 1, int(rng.expovariate(0.18)))]
        quantity = rng.choice((1, 1, 1, 2, 3, 5, 10))
        amount = round(price * quantity * rng.uniform(0.8, 1.1), -2)
        currency = "CNY"
        roll = rng.random()
        if roll < 0.07:
            currency, amount = "USD", round(amount / 7.1, -1)
        elif roll < 0.09:
            currency = None  # people leave it empty: the main currency
        created = start + dt.timedelta(days=rng.randrange(730))
        outcome = rng.random()
        closed = created + dt.timedelta(days=int(rng.triangular(7, 200, 45)))
        if closed > TODAY or outcome >= 0.6:
            stage = rng.choice(("Lead", "Qualified", "Qualified", "Proposal", "Negotiation"))
            closed = None
        else:
            stage = "Won" if outcome < 0.35 else "Lost"
        owner = customer["owner"] if rng.random() < 0.85 else rng.choice(fake_crm._OWNERS)
        rows.append(
            {
                "id": f"D{k:05d}",
                "customer_id": customer["id"],
                "title": f"{name.split(' / ')[0]} - {customer['company']}",
                "stage": stage,
                "amount": amount,
                "currency": currency,
                "product": sku,
                "owner": owner,
                "expected_close": (closed or created + dt.timedelta(days=90)),
                "created": created,
                "closed": closed,
            }
        )
    return rows


def make_tickets(n: int, customers: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """``n`` tickets over 24 months: three quarters resolved, some rated 1-5, some overdue."""
    rng = random.Random(seed * 15_485_863)
    first = dt.datetime.combine(TODAY - dt.timedelta(days=730), dt.time(8))
    rows = []
    for k in range(1, n + 1):
        customer = customers[rng.randrange(len(customers))]
        priority = rng.choice(_PRIORITIES)
        opened = first + dt.timedelta(days=rng.randrange(730), minutes=rng.randrange(600))
        due = opened + dt.timedelta(hours=_DUE_HOURS[priority])
        resolved = opened + dt.timedelta(hours=round(rng.expovariate(1 / 30), 1))
        if resolved.date() > TODAY or rng.random() < 0.08:
            status, resolved = rng.choice(("open", "pending")), None
        else:
            status = rng.choice(("resolved", "closed"))
        rows.append(
            {
                "id": f"T{k:05d}",
                "customer_id": customer["id"],
                "type": rng.choice(_TICKET_TYPES),
                "priority": priority,
                "status": status,
                "assignee": rng.choice(("售后一组", "售后二组", "Support EN", "技术支持")),
                "opened": opened,
                "due": due,
                "resolved": resolved,
                "satisfaction": rng.choice((3, 4, 4, 5, 5, 2, 1))
                if resolved and rng.random() < 0.6
                else None,
                "subject": rng.choice(_TICKET_SUBJECTS),
            }
        )
    return rows


def make_sends(customers: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """A few campaigns, each to ~3 % of the customers, with realistic outcomes."""
    rng = random.Random(seed * 32_452_843)
    rows = []
    per = max(1, len(customers) * 3 // 100)
    for name, at in _CAMPAIGNS:
        for k, customer in enumerate(rng.sample(customers, min(per, len(customers)))):
            status = rng.choice(_SEND_STATUS)
            sent = status in ("sent", "bounced", "replied")
            rows.append(
                {
                    "campaign": name,
                    "customer_id": customer["id"],
                    "email": customer["email"].split(";")[0].strip(),
                    "status": status,
                    "message_id": f"<{name}.{k}@mail.ourco.cn>" if sent else None,
                    "sent_at": at + dt.timedelta(seconds=2 * k) if sent else None,
                    "error": "550 5.1.1 user unknown" if status in ("bounced", "failed") else None,
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--deals", type=int, default=50_000)
    parser.add_argument("--interactions", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--lang", choices=("en", "zh"), default="zh")
    parser.add_argument("--out", type=Path, help="write here instead of the cache")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    sizes = (args.customers, args.deals, args.interactions, args.seed)
    if args.out:
        path = build_book(args.out, *sizes, lang=args.lang)
    else:
        path = cached_book(*sizes, lang=args.lang, rebuild=args.rebuild)
    planted = json.loads(planted_path(path).read_text("utf-8"))
    print(
        f"{path} ({path.stat().st_size / 1e6:.1f} MB, {len(planted['pairs'])} planted duplicate "
        f"pairs) in {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
