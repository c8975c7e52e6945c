"""``xlcrm reminders``: what each owner should look at today.

Three kinds of reminder, each with the date it counts from and how many days it is over:

- **follow-up overdue** — an open deal whose Next follow-up is before today;
- **deal idle** — an open deal with no interaction (mail, call, stage change…) for N days,
  counted from its latest interaction, else its Created date. N is the stage's *Idle days*
  in the Stages sheet, else the *Idle days* setting, else the stage's default (7 to 14);
  ``--idle-days`` overrides them all;
- **A-tier not contacted** — an A-tier customer (not churned, not merged away) without an
  e-mail, call, meeting or ticket for N days (*No-contact days*, default 30), counted from
  the later of Last contact and the latest such interaction; never contacted at all counts
  from Created, and without that it is listed with no date.

The owner is the deal's, else the customer's. The list goes on a ``Reminders`` / ``提醒``
sheet (an Excel Table sorted by owner, most overdue first) that each run rewrites. With
``--send``, each owner gets one digest e-mail a day (key ``reminders-<owner>-<date>``: a
second run the same day sends nothing); an owner without an address in the team list is
reported, never guessed.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..contact import is_contact, is_deal_activity
from ..notify import Notice, NoticeReport, send_notices
from ..schema import DATE_FORMAT, Lang
from ..settings import Settings, read_settings
from ..team import Team, read_team
from ..workbook import Book
from ..workbook.book import book_file
from ..workbook.report import Block, ReportSheet
from .stages import Stages, read_stages

DEFAULT_IDLE_DAYS = 14
DEFAULT_NO_CONTACT_DAYS = 30
KINDS: dict[str, tuple[str, str]] = {
    "follow_up": ("Follow-up overdue", "跟进逾期"),
    "idle": ("Deal idle", "商机停滞"),
    "no_contact": ("A-tier not contacted", "A级客户未联系"),
}
HEADERS = {
    "en": ["Owner", "Kind", "Customer", "Deal", "Date", "Days over"],
    "zh": ["负责人", "类型", "客户", "商机", "日期", "超出天数"],
}
NO_OWNER = ("(no owner)", "（无负责人）")
TABLE_NAME = "Reminders"


@dataclass(frozen=True)
class Reminder:
    owner: str | None
    kind: str  # follow_up, idle, no_contact
    customer_id: str | None
    customer: str  # "深圳华强电子 (C0012)"
    deal_id: str | None
    deal: str  # "D0042 ERP upgrade"
    date: dt.date | None  # what it counts from
    days_over: int | None  # None: never contacted, no date to count from

    def kind_label(self, lang: Lang) -> str:
        return KINDS[self.kind][1 if lang == "zh" else 0]


@dataclass
class RemindersOptions:
    send: bool = False
    transport: str | None = None
    sender: str | None = None
    insecure: bool = False
    idle_days: int | None = None
    no_contact_days: int | None = None
    now: Callable[[], dt.datetime] = dt.datetime.now


@dataclass
class RemindersReport:
    lang: Lang
    today: dt.date
    reminders: list[Reminder] = field(default_factory=list)
    sheet: str = ""
    no_address: list[str] = field(default_factory=list)  # owners with reminders and no address
    notices: NoticeReport | None = None

    def lines(self) -> list[str]:
        out = [f"{len(self.reminders)} reminder(s) on the {self.sheet} sheet"]
        counts: dict[str, int] = {}
        for item in self.reminders:
            name = item.owner or NO_OWNER[0]
            counts[name] = counts.get(name, 0) + 1
        out += [f"  {owner}: {n}" for owner, n in counts.items()]
        out += [f"not sent: {who}" for who in self.no_address]
        if self.notices is not None:
            out += self.notices.lines()
            if self.notices.would_send:
                out.append("dry run: no e-mail was sent; run with --send --transport URL to send")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "sheet": self.sheet,
            "reminders": [
                {
                    "owner": r.owner,
                    "kind": r.kind,
                    "customer_id": r.customer_id,
                    "deal_id": r.deal_id,
                    "date": r.date.isoformat() if r.date else None,
                    "days_over": r.days_over,
                }
                for r in self.reminders
            ],
            "no_address": list(self.no_address),
            "notices": self.notices.as_dict() if self.notices else None,
        }


def make_reminders(
    book: Book,
    today: dt.date,
    *,
    idle_days: int | None = None,
    no_contact_days: int | None = None,
    settings: Settings | None = None,
    stages: Stages | None = None,
    team: Team | None = None,
) -> list[Reminder]:
    """Every reminder of ``book`` on ``today``, sorted by owner, then most overdue first.

    Owners are named as the team list names them (``li na`` and ``Li Na`` are one person).
    """
    settings = settings if settings is not None else read_settings(book)
    stages = stages or read_stages(book)
    team = team if team is not None else read_team(book, settings)

    def _name(value: Any) -> str | None:
        name = value.strip() if isinstance(value, str) and value.strip() else None
        return (team.name_of(name) or name) if name else None

    customers = {r["id"]: r for r in book.table("customers").rows() if isinstance(r.get("id"), str)}
    deal_activity: dict[str, dt.date] = {}
    contact: dict[str, dt.date] = {}
    if book.has_table("interactions"):
        for row in book.table("interactions").rows():
            at = _day(row.get("at"))
            if at is None:
                continue
            deal = row.get("deal_id")
            if isinstance(deal, str) and deal.strip() and is_deal_activity(row):
                key = deal.strip().upper()
                deal_activity[key] = max(at, deal_activity.get(key, at))
            customer = row.get("customer_id")
            if isinstance(customer, str) and is_contact(row):
                key = customer.strip().upper()
                contact[key] = max(at, contact.get(key, at))
    setting_idle = settings.int("idle_days")
    found: list[Reminder] = []
    for deal in book.table("deals").rows():
        deal_id, stage = deal.get("id"), deal.get("stage")
        if not isinstance(deal_id, str) or stage not in stages.open:
            continue
        customer = customers.get(deal.get("customer_id") or "", {})
        owner = _name(deal.get("owner")) or _name(customer.get("owner"))
        who = _customer_label(customer, deal.get("customer_id"))
        what = f"{deal_id} {deal.get('title') or ''}".strip()
        follow = _day(deal.get("next_follow_up"))
        if follow is not None and follow < today:
            found.append(
                Reminder(
                    owner,
                    "follow_up",
                    deal.get("customer_id"),
                    who,
                    deal_id,
                    what,
                    follow,
                    (today - follow).days,
                )
            )
        info = stages[stage]
        limit = idle_days
        if limit is None:
            limit = info.idle_days if info.idle_set else setting_idle
        if limit is None:
            limit = info.idle_days if info.idle_days is not None else DEFAULT_IDLE_DAYS
        candidates = [deal_activity.get(deal_id.strip().upper()), _day(deal.get("created"))]
        last = max((d for d in candidates if d is not None), default=None)
        if last is not None and (today - last).days > limit:
            found.append(
                Reminder(
                    owner,
                    "idle",
                    deal.get("customer_id"),
                    who,
                    deal_id,
                    what,
                    last,
                    (today - last).days - limit,
                )
            )
    limit = no_contact_days
    if limit is None:
        limit = settings.int("no_contact_days")
    if limit is None:
        limit = DEFAULT_NO_CONTACT_DAYS
    for customer_id, customer in customers.items():
        if customer.get("tier") != "A" or customer.get("status") == "Churned":
            continue
        if customer.get("merged_into"):
            continue
        candidates = [_day(customer.get("last_contact")), contact.get(customer_id.upper())]
        last = max((d for d in candidates if d is not None), default=None)
        since = last or _day(customer.get("created"))
        if since is not None and (today - since).days <= limit:
            continue
        found.append(
            Reminder(
                _name(customer.get("owner")),
                "no_contact",
                customer_id,
                _customer_label(customer, customer_id),
                None,
                "",
                last,
                None if since is None else (today - since).days - limit,
            )
        )
    found.sort(
        key=lambda r: (
            r.owner is None,
            (r.owner or "").casefold(),
            -(r.days_over if r.days_over is not None else 10**9),
            r.kind,
            r.customer,
        )
    )
    return found


def reminders_sheet(reminders: list[Reminder], lang: Lang, today: dt.date) -> ReportSheet:
    """The Reminders / 提醒 sheet: a heading, and one Excel Table named Reminders."""
    zh = lang == "zh"
    rows: list[list[Any]] = [list(HEADERS[lang])]
    for item in reminders:
        rows.append(
            [
                item.owner or NO_OWNER[1 if zh else 0],
                item.kind_label(lang),
                item.customer,
                item.deal or None,
                item.date,
                item.days_over,
            ]
        )
    heading = (
        f"提醒（{today.isoformat()}，由 xlcrm reminders 生成，每次运行都会重写本表）"
        if zh
        else f"Reminders for {today.isoformat()} — made by xlcrm reminders, rewritten every run"
    )
    return ReportSheet(
        name="提醒" if zh else "Reminders",
        blocks=[Block(3, 1, rows, table=TABLE_NAME, formats={4: DATE_FORMAT, 5: "0"})],
        widths={1: 14, 2: 20, 3: 32, 4: 34, 5: 12, 6: 11},
        heading=heading,
    )


def digest_notice(
    owner: str, address: str, items: list[Reminder], lang: Lang, today: dt.date
) -> Notice:
    """One owner's reminders of the day as an e-mail, grouped by kind."""
    zh = lang == "zh"
    if zh:
        subject = f"{owner} 的今日提醒（{today.isoformat()}）：{len(items)} 项"
        opening = f"{owner}：\n\n以下事项需要您处理："
        footer = "— xlcrm 提醒（工作簿中的“提醒”表有完整列表）"
    else:
        subject = f"Reminders for {owner}, {today.isoformat()}: {len(items)} item(s)"
        opening = f"Hello {owner},\n\nthese need your attention:"
        footer = "— xlcrm reminders (the Reminders sheet in the workbook has the full list)"
    headers = HEADERS[lang][1:]
    rows = [
        [
            i.kind_label(lang),
            i.customer,
            i.deal or "",
            i.date.isoformat() if i.date else "",
            "" if i.days_over is None else str(i.days_over),
        ]
        for i in items
    ]
    sections = []
    for kind in KINDS:
        chosen = [_item_text(i, zh) for i in items if i.kind == kind]
        if chosen:
            sections.append(f"{KINDS[kind][1 if zh else 0]}:\n" + "\n".join(chosen))
    text = "\n\n".join([opening, *sections, footer]) + "\n"
    cell = 'style="border:1px solid #ccc;padding:4px 8px"'
    table = "".join(
        [
            '<table style="border-collapse:collapse;font-size:14px"><tr>',
            "".join(f"<th {cell}>{html.escape(h)}</th>" for h in headers),
            "</tr>",
            *(
                "<tr>" + "".join(f"<td {cell}>{html.escape(v)}</td>" for v in r) + "</tr>"
                for r in rows
            ),
            "</table>",
        ]
    )
    page = (
        '<html><body style="font-family:sans-serif">'
        + "".join(f"<p>{html.escape(p)}</p>" for p in opening.split("\n\n"))
        + table
        + f'<p style="color:#888;font-size:12px">{html.escape(footer)}</p></body></html>\n'
    )
    return Notice(f"reminders-{owner}-{today.isoformat()}", address, subject, text, page)


def run_reminders(book: Book, options: RemindersOptions | None = None) -> RemindersReport:
    """Put the Reminders sheet in the workbook file ``book`` (in memory: the caller saves)
    and, with ``send``, mail each owner their digest — which **saves** the book at once
    (:func:`addin.notify.send_notices`): mail that left cannot be taken back."""
    options = options or RemindersOptions()
    path = book_file(book, "xlcrm reminders")
    now = options.now().replace(microsecond=0)
    today = now.date()
    settings = read_settings(book)
    team = read_team(book, settings)
    report = RemindersReport(book.lang, today)
    report.reminders = make_reminders(
        book,
        today,
        idle_days=options.idle_days,
        no_contact_days=options.no_contact_days,
        settings=settings,
        team=team,
    )
    sheet = reminders_sheet(report.reminders, book.lang, today)
    report.sheet = sheet.name
    book.put_sheet(sheet)
    notices = _digests(report, team, book.lang, today)
    if notices or options.send:
        report.notices = send_notices(
            book,
            path,
            notices,
            transport_url=options.transport,
            sender=options.sender,
            dry_run=not options.send,
            insecure=options.insecure,
            now=now,
        )
    return report


def _item_text(item: Reminder, zh: bool) -> str:
    text = "  - " + " / ".join(p for p in (item.customer, item.deal) if p)
    if item.date is None:
        return text + (" — 从未联系" if zh else " — never contacted")
    if zh:
        return text + f" — 自 {item.date.isoformat()} 起，超出 {item.days_over} 天"
    return text + f" — since {item.date.isoformat()}, {item.days_over} day(s) over"


def _digests(report: RemindersReport, team: Team, lang: Lang, today: dt.date) -> list[Notice]:
    """One digest per person: owners written differently (``Li Na``, ``li na``, her address)
    are one person when the team list says so."""
    by_person: dict[str, tuple[str, str | None, list[Reminder]]] = {}
    for item in report.reminders:
        address = team.address_of(item.owner)
        key = address.casefold() if address else f"?{item.owner or ''}"
        name = (team.name_of(item.owner) or item.owner or "") if address else (item.owner or "")
        by_person.setdefault(key, (name, address, []))[2].append(item)
    notices = []
    for name, address, items in by_person.values():
        if address is None:
            shown = name or NO_OWNER[1 if lang == "zh" else 0]
            why = "no owner" if not name else f"not in the team list ({team.where})"
            report.no_address.append(f"{shown}: {len(items)} reminder(s), {why}")
            continue
        notices.append(digest_notice(name or address, address, items, lang, today))
    return notices


def _day(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _customer_label(customer: dict[str, Any], customer_id: Any) -> str:
    name = customer.get("company") or customer.get("name")
    if name and customer_id:
        return f"{name} ({customer_id})"
    return str(name or customer_id or "")
