#!/usr/bin/env python
"""Benchmark: 500 contracts from one Word template, WordTemplate against a docxtpl loop.

Issue #4 generates a contract per deal; a batch at the end of a quarter is hundreds. The anchor
is what a docxtpl user writes, in the same run with the same contexts and the same sandboxed
environment:

* **docxtpl** — per document ``DocxTemplate(path)``, ``render(context, env, autoescape=True)``,
  ``save(file)``: python-docx loads the package, docxtpl cleans and compiles the XML of the
  body, headers and footers, renders, and python-docx writes the package again.
* **ours** — ``WordTemplate(path, env)`` once (read, clean and compile every part), then per
  document ``render(context)`` and write the bytes to a file.

Both write every file to a temporary folder; the clock covers loading, rendering and writing,
not building the contexts (``CrmData.contract_context`` for each deal, done once before). One
document from each side is read back with python-docx to check that both show the same text.

    python bench/bench_contracts.py                 # 500 contracts, best of 3
    python bench/bench_contracts.py --count 100 --repeat 1 --template quotation.en
"""

from __future__ import annotations

import argparse
import gc
import io
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import docxtpl  # noqa: E402
from docx import Document  # noqa: E402
from docx.oxml.ns import qn  # noqa: E402
from docx.text.paragraph import Paragraph  # noqa: E402
from docxtpl import DocxTemplate  # noqa: E402
from fake_crm import customer  # noqa: E402

from addin.contracts.docx import WordTemplate  # noqa: E402
from addin.init import create_workbook  # noqa: E402
from addin.schema import Lang  # noqa: E402
from addin.templating import CrmData, TemplateEnvironment, builtin_root  # noqa: E402
from addin.workbook import open_book  # noqa: E402

TARGET = 5.0  # ours at least this many times faster than the docxtpl loop
SELLER = {
    "company_name": "星河软件（上海）有限公司",
    "company_address": "上海市浦东新区张江路88号\n星河大厦12楼",
    "company_phone": "021-5080 8888",
    "company_email": "sales@xinghe.cn",
    "company_tax_id": "91310115MA1K4XXXXX",
    "company_bank": "招商银行上海张江支行",
    "company_bank_account": "1219 0888 8888 0001",
    "company_representative": "陈星河",
}
PRODUCTS = [
    ("SAAS-STD", "星河CRM 标准版（年费）", 1200, "用户·年"),
    ("SAAS-PRO", "星河CRM 专业版（年费）", 2400, "用户·年"),
    ("IMPL-STD", "标准实施服务", 30000, "项"),
    ("TRAIN-1", "现场培训", 5000, "人天"),
    ("API-PACK", "接口扩展包", 18000, "套"),
]


def build_book(path: Path, count: int) -> None:
    """``count`` customers (bench/fake_crm.py) with one won deal each, of one to three lines."""
    from addin.settings import KNOWN

    create_workbook(path, "zh")
    with open_book(path, backups=0) as book:
        settings = book.table("settings")
        labels = {s.key: s.zh for s in KNOWN}
        for key, value in SELLER.items():
            settings.update(labels[key], {"value": value})
        book.table("products").insert_all(
            {"sku": sku, "name": name, "unit_price": price, "currency": "CNY", "unit": unit}
            for sku, name, price, unit in PRODUCTS
        )
        book.table("customers").insert_all(customer(n) for n in range(1, count + 1))
        deals = []
        for n in range(1, count + 1):
            items = [PRODUCTS[(n + k) % len(PRODUCTS)] for k in range(1 + n % 3)]
            quantities = [1 + (n * 7 + k) % 40 for k in range(len(items))]
            amount = sum(q * item[2] for q, item in zip(quantities, items))
            deals.append(
                {
                    "customer_id": f"C{n:04d}",
                    "title": f"CRM 项目 {n}",
                    "stage": "Won",
                    "amount": amount,
                    "currency": "CNY",
                    "product": "; ".join(f"{i[0]} x {q}" for i, q in zip(items, quantities)),
                }
            )
        book.table("deals").insert_all(deals)


def contexts(path: Path, count: int) -> list[dict[str, Any]]:
    with open_book(path) as book:
        crm = CrmData(book)
        built = [crm.contract_context(f"D{n:04d}", f"HT-2026-{n:04d}") for n in range(1, count + 1)]
    problems = [p for b in built for p in b.problems]
    assert not problems, problems[:5]
    return [b.context for b in built]


def ours(template: Path, lang: Lang, batch: Sequence[dict[str, Any]], out: Path) -> float:
    start = time.perf_counter()
    word = WordTemplate(template, TemplateEnvironment(lang))
    for n, context in enumerate(batch):
        (out / f"{n:04d}.docx").write_bytes(word.render(context))
    return time.perf_counter() - start


def anchor(template: Path, lang: Lang, batch: Sequence[dict[str, Any]], out: Path) -> float:
    start = time.perf_counter()
    env = TemplateEnvironment(lang)
    for n, context in enumerate(batch):
        doc = DocxTemplate(template)
        doc.render(context, env, autoescape=True)
        doc.save(out / f"{n:04d}.docx")
    return time.perf_counter() - start


def shown(path: Path) -> list[str]:
    """What Word shows: every paragraph of the body (table cells included) and the footer."""
    doc = Document(io.BytesIO(path.read_bytes()))
    body = [Paragraph(p, doc).text for p in doc.element.body.iter(qn("w:p"))]
    return body + [p.text for s in doc.sections for p in s.footer.paragraphs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=500, help="contracts per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    parser.add_argument("--template", default="sales_contract.zh", help="a shipped template")
    parser.add_argument("--strict", action="store_true", help="exit 1 when under the target")
    args = parser.parse_args(argv)

    lang: Lang = "zh" if args.template.endswith(".zh") else "en"
    template = builtin_root() / "contracts" / f"{args.template}.docx"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build_book(root / "crm.xlsx", args.count)
        batch = contexts(root / "crm.xlsx", args.count)
        print(
            f"{args.count:,} contracts from {template.name} (docxtpl {docxtpl.__version__}, "
            f"Python {platform.python_version()}, {platform.machine()})"
        )
        times: dict[str, list[float]] = {"docxtpl": [], "ours": []}
        for run in range(args.repeat):
            for name, make in (("docxtpl", anchor), ("ours", ours)):
                out = root / f"{name}-{run}"
                out.mkdir()
                gc.collect()
                times[name].append(make(template, lang, batch, out))
        same = shown(root / "ours-0" / "0000.docx") == shown(root / "docxtpl-0" / "0000.docx")
        size = sum(p.stat().st_size for p in (root / "ours-0").iterdir()) / args.count

    best_anchor, best_ours = min(times["docxtpl"]), min(times["ours"])
    ratio = best_anchor / best_ours
    per = 1000 / args.count
    print(f"  {'':8} {'total':>8} {'per document':>13}")
    print(f"  {'docxtpl':8} {best_anchor:7.2f}s {best_anchor * per:10.1f} ms")
    print(
        f"  {'ours':8} {best_ours:7.2f}s {best_ours * per:10.1f} ms   ({size / 1024:.0f} KB each)"
    )
    verdict = "ok" if ratio >= TARGET else "UNDER TARGET"
    print(f"  ratio    {ratio:.1f} × faster (target ≥ {TARGET:g} ×): {verdict}")
    print(f"  same visible text in both outputs: {'yes' if same else 'NO'}")
    if not same:
        return 1
    return 1 if args.strict and ratio < TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
