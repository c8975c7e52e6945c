"""``xlcrm demo``: a CRM workbook full of realistic, bilingual sample data.

The demo is for trying xlcrm without touching real customers: :func:`build_demo` creates
``xlcrm-demo.xlsx`` in a folder and fills every table through the Table API (one
``insert_all`` per table, one save), so it exercises the same code paths as real use. What the
data looks like is described in :mod:`.generator`; the words it is made of are in
:mod:`.vocabulary`.

Beside the workbook it writes a Maildir of a month's mail with those customers
(:mod:`.mail`), which ``xlcrm demo`` then syncs as ``xlcrm sync`` would, and a support
mailbox (:mod:`.support`) that becomes tickets. Its Settings name the team and their
addresses, the hand-off address and exchange rates, so that the workflows ``xlcrm demo`` runs
next (:mod:`.workflows`: duplicates, dashboard, reminders, rules) have what real use gives them.

The same seed and day give the same cell values and the same messages. The people and
companies are made up, but the addresses look real and some are on public mail domains (qq.com,
163.com, gmail.com): the workbook's state records ``demo_seed`` so that sending features can
tell a demo book apart.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError, WorkbookError
from ..init import create_workbook
from ..schema import LANGS, STAGES, Lang
from ..settings import write_settings
from ..workbook import Row, open_book
from ..workbook.book import DEMO_STATE_KEY
from ..workbook.safety import check_not_locked
from .generator import HISTORY_MONTHS, Generator
from .mail import MAIL_FOLDER, OUR_DOMAIN, REP_ADDRESSES, sync_demo_mailbox, write_demo_mailbox
from .mail import MAILBOX as DEMO_MAILBOX
from .support import SUPPORT_FOLDER, SUPPORT_MAILBOX, sync_demo_support, write_demo_support

__all__ = [
    "DEFAULT_SEED",
    "DEMO_MAILBOX",
    "DEMO_NAME",
    "HISTORY_MONTHS",
    "MAIL_FOLDER",
    "SUPPORT_FOLDER",
    "SUPPORT_MAILBOX",
    "DemoResult",
    "build_demo",
    "demo_won_deal",
    "sync_demo_mailbox",
    "sync_demo_support",
]

DEMO_NAME = "xlcrm-demo.xlsx"
DEFAULT_SEED = 2026


@dataclass(frozen=True)
class DemoResult:
    """What :func:`build_demo` made: the workbook, rows per table, and the pipeline."""

    path: Path
    counts: dict[str, int]  # rows per table key ("customers", "deals", …)
    # stage -> (number of deals, {currency: total amount})
    pipeline: dict[str, tuple[int, dict[str, float]]] = field(default_factory=dict)
    seed: int = DEFAULT_SEED
    today: dt.date | None = None
    mailbox: Path | None = None  # the demo Maildir, to sync with sync_demo_mailbox
    support: Path | None = None  # the support Maildir, to sync with sync_demo_support
    lang: Lang = "en"  # of the sheet names, headers and choice labels

    def summary(self) -> str:
        """A few lines for the command line: where, how many rows, the pipeline by stage."""
        rows = ", ".join(f"{n} {table}" for table, n in self.counts.items())
        lines = [f"Demo CRM workbook: {self.path}", f"Rows: {rows}", "Deals by stage:"]
        for stage, (n, amounts) in self.pipeline.items():
            money = " + ".join(f"{cur} {amt:,.0f}" for cur, amt in sorted(amounts.items()))
            lines.append(f"  {stage:<12}{n:>4}  {money}")
        as_of = f", as of {self.today.isoformat()}" if self.today else ""
        lines.append(f"Made-up people and companies (seed {self.seed}{as_of}): never mail them.")
        return "\n".join(lines)


# Folders the demo's contract, rules and campaign make, and the journals that sending keeps
# beside a workbook: a replaced demo must not inherit them.
GENERATED = ("contracts", "campaign-preview")
JOURNALS = (".sends-journal", ".notices-journal")


def build_demo(
    folder: str | os.PathLike[str],
    *,
    lang: Lang = "en",
    seed: int = DEFAULT_SEED,
    today: dt.date | None = None,
    overwrite: bool = False,
) -> DemoResult:
    """Create ``folder/xlcrm-demo.xlsx`` full of sample data and return what it holds.

    ``lang`` is the workbook's language (sheet names, headers, choice labels, and the
    industry/source/tag words); the data itself is bilingual either way. ``seed`` and
    ``today`` fix every value; ``today`` defaults to the current date. The folder is created
    when missing. An existing demo workbook is an error unless ``overwrite`` is true, in which
    case it is deleted first (refused while Excel has it open).
    """
    if lang not in LANGS:
        raise UsageError(None, f"unknown language {lang!r}", "use --lang en or --lang zh")
    today = today or dt.date.today()
    if isinstance(today, dt.datetime):
        today = today.date()
    data = Generator(random.Random(seed), today, lang).generate()

    target = Path(folder)
    path = target / DEMO_NAME
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkbookError(str(target), f"cannot create the folder ({exc.strerror})") from None
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise WorkbookError(
                str(path),
                "a demo workbook already exists here",
                "choose another folder, or replace it with 'xlcrm demo --force'",
            )
        if path.is_dir():
            raise WorkbookError(str(path), "this is a folder, not a workbook", "remove it first")
        check_not_locked(path)
        path.unlink()

    mail, support = target / MAIL_FOLDER, target / SUPPORT_FOLDER
    for box in (mail, support):
        if box.exists():
            if not overwrite:
                raise WorkbookError(
                    str(box),
                    "a demo mailbox already exists here",
                    "choose another folder, or replace it with 'xlcrm demo --force'",
                )
            shutil.rmtree(box)
    if overwrite:  # what the previous demo generated from its workbook (xlcrm demo's CLI)
        for generated in GENERATED:
            shutil.rmtree(target / generated, ignore_errors=True)
        for suffix in JOURNALS:
            (target / (DEMO_NAME + suffix)).unlink(missing_ok=True)

    create_workbook(path, lang)
    try:
        counts, pipeline = _fill(path, data, seed)
        with open_book(path) as book:
            customers = list(book.table("customers").rows())
            deals = list(book.table("deals").rows())
            tickets = list(book.table("tickets").rows())
        mailbox = write_demo_mailbox(target, customers, deals, seed=seed, today=today)
        desk = write_demo_support(target, customers, deals, tickets, seed=seed, today=today)
    except BaseException:
        path.unlink(missing_ok=True)  # a half-built demo is worth nothing
        shutil.rmtree(mail, ignore_errors=True)
        shutil.rmtree(support, ignore_errors=True)
        raise
    return DemoResult(path, counts, pipeline, seed, today, mailbox, desk, lang)


def _fill(
    path: Path, data: dict[str, list[Row]], seed: int
) -> tuple[dict[str, int], dict[str, tuple[int, dict[str, float]]]]:
    """Write the generated rows: one insert_all per table, one save (no backup: new file)."""
    book = open_book(path, backups=0)
    try:
        book.table("products").insert_all(data["products"])
        customer_ids = book.table("customers").insert_all(data["customers"])
        # Deals, interactions and tickets refer to customers and deals by list position.
        for row in data["deals"]:
            row["customer_id"] = customer_ids[row["customer_id"]]
        deal_ids = book.table("deals").insert_all(data["deals"])
        for row in data["interactions"]:
            row["customer_id"] = customer_ids[row["customer_id"]]
            if row.get("deal_id") is not None:
                row["deal_id"] = deal_ids[row["deal_id"]]
        book.table("interactions").insert_all(data["interactions"])
        for row in data["tickets"]:
            row["customer_id"] = customer_ids[row["customer_id"]]
        book.table("tickets").insert_all(data["tickets"])
        write_settings(book, {**seller_settings(book.lang), **team_settings(book.lang)})
        # The order hand-off rule starts switched off until Hand-off to is filled: it is.
        book.table("rules").update("R002", {"enabled": True})
        book.state[DEMO_STATE_KEY] = str(seed)
        book.save()
        keys = ("customers", "deals", "interactions", "tickets", "products")
        counts = {key: len(book.table(key)) for key in keys}
        pipeline: dict[str, tuple[int, dict[str, float]]] = {}
        for stage in (choice.value for choice in STAGES):
            deals = [d for d in book.table("deals").rows() if d["stage"] == stage]
            totals: dict[str, float] = defaultdict(float)
            for deal in deals:
                totals[deal["currency"]] += deal["amount"] or 0
            pipeline[stage] = (len(deals), dict(totals))
        return counts, pipeline
    finally:
        book.close()


def seller_settings(lang: Lang) -> dict[str, str]:
    """The demo company's details, for its contracts and campaign mail (all made up)."""
    zh = lang == "zh"
    return {
        "company_name": "上海星河软件有限公司" if zh else "Shanghai Xinghe Software Co., Ltd.",
        "company_address": "上海市浦东新区张江路 88 号 5 楼"
        if zh
        else "5F, 88 Zhangjiang Road, Pudong, Shanghai",
        "company_phone": "021-5080 1234",
        "company_email": DEMO_MAILBOX,
        "company_website": "https://xinghe-soft.example",
        "company_tax_id": "91310115MA1K4DEMO0",
        "company_bank": "招商银行上海张江支行" if zh else "China Merchants Bank, Zhangjiang Branch",
        "company_bank_account": "1219 0888 8810 001",
        "company_representative": "陈星" if zh else "Chen Xing",
        "sender": f"{'星河软件' if zh else 'Xinghe Software'} <{DEMO_MAILBOX}>",
        "sending_hours": "08:00-20:00",
    }


# Sales reps (owners) and support staff, with their mailbox names on the demo's domain.
TEAM = (
    *REP_ADDRESSES.items(),
    ("赵敏", "zhao.min"),
    ("孙悦", "sun.yue"),
    ("Sarah Lee", "sarah.lee"),
)


def team_settings(lang: Lang) -> dict[str, str]:
    """Who the demo's people are (sales reps, support) and where the workflows' mail goes."""
    zh = lang == "zh"
    return {
        "team": "; ".join(f"{name} <{local}@{OUR_DOMAIN}>" for name, local in TEAM),
        "handoff_to": f"warehouse@{OUR_DOMAIN}",
        "support_team": "赵敏; 孙悦; Sarah Lee",
        "escalate_to": "赵敏",
        "support_sender": f"{'星河软件 客服中心' if zh else 'Xinghe Software Support'} "
        f"<{SUPPORT_MAILBOX}>",
        "report_currency": "CNY",
        # The rates the demo's prices were made with (vocabulary.TO_USD), rounded.
        "exchange_rates": "USD=7.2; EUR=7.85",
    }


def demo_won_deal(path: Path) -> str:
    """The demo's most recently closed won deal, for the contract the demo generates."""
    with open_book(path) as book:
        won = [d for d in book.table("deals").rows() if d.get("stage") == "Won"]
    if not won:
        raise WorkbookError(str(path), "the demo has no won deal")
    return max(won, key=lambda d: (d.get("closed") or dt.date.min, d["id"]))["id"]
