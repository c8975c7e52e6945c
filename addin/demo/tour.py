"""What ``xlcrm demo`` does with the demo workbook: every feature once, as a user would.

:func:`run_tour` takes the workbook :func:`~addin.demo.build_demo` made and, in the order a
sales team's morning goes, calls the same library functions as the commands named in
brackets, printing what each did through ``echo``:

1. sync the sales mailbox (``xlcrm sync``) and list the latest e-mails recorded;
2. export the customers (``xlcrm export``), generate the contract of a won deal
   (``xlcrm contract``), preview a campaign to the A-tier customers (``xlcrm campaign``);
3. sync the support mailbox into tickets (``xlcrm sync --tickets``) and check the tickets
   (``xlcrm tickets``: escalations and surveys due);
4. find duplicate customers for review (``xlcrm dedupe``; nothing is merged);
5. refresh the dashboard, tiers and segments (``xlcrm report``);
6. write the day's reminders (``xlcrm reminders``);
7. apply the automation rules (``xlcrm run``), then win a deal in Negotiation, as a salesperson
   would in the Deals sheet, and run them again: the stage change is recorded, the contract
   generated, the order hand-off prepared.

Nothing is sent: every e-mail is a dry run, and the demo workbook refuses to send anyway. The
time of the tour is fixed by the demo's day (:func:`demo_now`), so the same demo gives the
same workbook and the same output.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..dedupe import DedupeReport
from ..pipeline import RunOptions, RunReport
from ..pipeline.run import Fired
from ..report import ReportSummary
from ..report.value import SEGMENT_BY_KEY
from ..schema import TABLES, Lang
from ..workbook import open_book
from . import DEMO_MAILBOX, DemoResult, demo_won_deal, sync_demo_mailbox
from .support import SHANGHAI, sync_demo_support

Echo = Callable[[str], None]
_EVIDENCE_SPLIT = re.compile(r"\s*[;；]\s*")


def demo_now(today: dt.date) -> dt.datetime:
    """The moment the tour runs: half past five in the afternoon of ``today`` in Shanghai,
    where the demo company is, as this computer's wall-clock time (as synced mail is)."""
    moment = dt.datetime.combine(today, dt.time(17, 30), SHANGHAI)
    return moment.astimezone().replace(tzinfo=None)


@dataclass(frozen=True)
class Tour:
    """What the tour did: the reports of its steps, for callers that look further."""

    now: dt.datetime
    duplicates: DedupeReport
    dashboard: ReportSummary
    won_deal: str


def run_tour(result: DemoResult, echo: Echo = print) -> Tour:
    """Run every step on the demo of ``result`` (see the module docstring)."""
    assert result.mailbox is not None and result.support is not None and result.today
    folder = result.path.parent
    today = result.today
    now = demo_now(today)
    _sales(result, folder, now, echo)
    _tickets(result, now, echo)
    duplicates = _duplicates(result.path, now, echo)
    dashboard = _dashboard(result.path, today, now, echo)
    _reminders(result.path, now, echo)
    won = _rules(result.path, result.lang, now, echo)
    return Tour(now, duplicates, dashboard, won)


def hints(result: DemoResult) -> list[str]:
    """Commands to try next on the demo workbook."""
    book = result.path
    today = result.today.isoformat() if result.today else ""
    lang = result.lang
    at_risk = SEGMENT_BY_KEY["at_risk"].label(lang)
    duplicates, deals = (TABLES[key].sheet_name(lang) for key in ("duplicates", "deals"))
    return [
        f"xlcrm info {book}",
        f"xlcrm sync {book} --mailbox maildir:{result.mailbox} --me {DEMO_MAILBOX} "
        "--create-leads --rescan",
        f"xlcrm contract {book} --stage Won --pdf",
        f"xlcrm campaign {book} --template emails/renewal --name renewals "
        "--where 'status == \"Active\"'",
        f'xlcrm export {book} customers --where \'segment == "{at_risk}" and tier in ["A", "B"]\'',
        f"xlcrm dedupe {book} --apply    # after marking pairs merge on the {duplicates} sheet",
        f"xlcrm run {book}               # after changing a deal's stage on the {deals} sheet",
        f"xlcrm reminders {book}",
        f"xlcrm tickets {book}",
        f"xlcrm forecast {book} --by owner",
        f"xlcrm report {book} --today {today}",
    ]


# -- 1, 2: the sales mailbox, an export, a contract, a campaign ---------------------------------


def _sales(result: DemoResult, folder: Path, now: dt.datetime, echo: Echo) -> None:
    from ..campaigns import CampaignOptions, run_campaign
    from ..contracts.generate import ContractOptions, generate_contracts
    from ..exporting import export_table
    from ..mailsync import latest_emails

    assert result.mailbox is not None
    echo(f"\nSyncing the demo mailbox (maildir:{result.mailbox}):")
    echo(sync_demo_mailbox(result.path, result.mailbox).summary())
    with open_book(result.path) as wb:
        echo("Latest emails recorded:")
        for line in latest_emails(wb, limit=6):
            echo(f"  {line}")
        csv_path = folder / "customers.csv"
        count = export_table(wb, "customers", csv_path, format="csv")
    echo(f"\nExported {count} customers to {csv_path}")
    won = demo_won_deal(result.path)
    echo(f"\nA contract for the won deal {won}:")
    options = ContractOptions(deal_ids=[won], today=now.date(), now=lambda: now)
    folder = result.path.parent
    with open_book(result.path) as book:
        made = generate_contracts(
            book, options, base_dir=folder, templates_near=(folder, folder / "templates")
        )
    echo("\n".join(made.lines()))
    echo("\nPreviewing a campaign to the A-tier customers (nothing is sent):")
    with open_book(result.path) as book:
        campaign = run_campaign(
            book,
            CampaignOptions(
                template="emails/promotion",
                name="demo-promotion",
                where='tier == "A"',
                now=lambda: now,
            ),
        )
    echo("\n".join(campaign.lines()))


# -- 3: the support mailbox and the tickets -----------------------------------------------------


def _tickets(result: DemoResult, now: dt.datetime, echo: Echo) -> None:
    from ..tickets import check_tickets

    assert result.support is not None
    echo(f"\nSyncing the support mailbox into tickets (maildir:{result.support}, --tickets):")
    report = sync_demo_support(result.path, result.support)
    echo(report.summary())
    with open_book(result.path) as wb:
        tickets = {t["id"]: t for t in wb.table("tickets").rows()}
        for ticket in report.tickets_opened:
            t = tickets[ticket]
            echo(
                f"    {ticket}  {t['type'] or '-':<9} {t['priority']:<6} {t['status']:<7} "
                f"{t['assignee'] or '-'}: {t['subject']}"
            )
        echo("Checking every ticket's due time and survey (xlcrm tickets; nothing is sent):")
        checked = check_tickets(wb, now)
        for line in checked.lines():
            echo(f"  {line}")
        wb.save()


# -- 4, 5, 6: duplicates, dashboard, reminders --------------------------------------------------


def _duplicates(path: Path, now: dt.datetime, echo: Echo) -> DedupeReport:
    from ..dedupe import DedupeOptions, dedupe_customers

    echo("\nLooking for duplicate customers (xlcrm dedupe; nothing is merged):")
    with open_book(path) as book:
        report = dedupe_customers(book, DedupeOptions(now=lambda: now))
    lines = report.lines()
    echo("\n".join(line for line in lines if not line.startswith("next:")))
    with open_book(path) as wb:
        if wb.has_table("duplicates"):
            for pair in wb.table("duplicates").rows():
                if not pair.get("merge_id"):
                    continue
                evidence = "; ".join(_EVIDENCE_SPLIT.split(str(pair.get("evidence") or ""))[:2])
                echo(f"  {pair['id']}  {pair['keep_id']} {pair['keep_name']}")
                echo(f"         {pair['merge_id']} {pair['merge_name']}: {evidence}")
    echo("\n".join(line for line in lines if line.startswith("next:")))
    return report


def _dashboard(path: Path, today: dt.date, now: dt.datetime, echo: Echo) -> ReportSummary:
    from ..report import refresh_report

    echo(f"\nRefreshing the dashboard, tiers and segments (xlcrm report --today {today}):")
    with open_book(path) as wb:
        summary = refresh_report(wb, today=today, now=now)
    echo("\n".join(summary.lines()))
    return summary


def _reminders(path: Path, now: dt.datetime, echo: Echo) -> None:
    from ..pipeline import RemindersOptions, run_reminders

    with open_book(path) as book:
        report = run_reminders(book, RemindersOptions(now=lambda: now))
    echo(f"\nReminders for {report.today} (xlcrm reminders; nothing is sent):")
    kinds = Counter(r.kind for r in report.reminders)
    words = {
        "follow_up": "follow-ups overdue",
        "idle": "deals idle",
        "no_contact": "A-tier customers not contacted",
    }
    found = ", ".join(f"{kinds[k]} {w}" for k, w in words.items() if kinds[k])
    echo(f"  {len(report.reminders)} on the {report.sheet} sheet: {found or 'none'}")
    owners = Counter(r.owner or "(no owner)" for r in report.reminders)
    echo("  by owner: " + ", ".join(f"{o} {n}" for o, n in owners.items()))
    if report.notices is not None and report.notices.would_send:
        echo(f"  would send each of the {len(report.notices.would_send)} owners a digest e-mail")
    for line in report.no_address:
        echo(f"  not sent: {line}")


# -- 7: the automation rules --------------------------------------------------------------------

_ACTIONS = {
    "contract": "generate the contract",
    "follow_up": "set the next follow-up",
    "notify_owner": "e-mail the owner",
    "handoff": "e-mail the order hand-off",
}


def _rules(path: Path, lang: Lang, now: dt.datetime, echo: Echo) -> str:
    from ..pipeline import run_rules

    echo("\nApplying the automation rules of the Rules sheet (xlcrm run; e-mail is a dry run):")
    with open_book(path) as book:
        first = run_rules(book, RunOptions(now=lambda: now))
    seen = [c for c in first.changes if c.first_seen]
    if seen:
        echo(f"  first run: the stage of {len(seen)} deals recorded as stage interactions")
    for line in rule_lines(first):
        echo(f"  {line}")
    later = now + dt.timedelta(minutes=10)
    deal, title = win_demo_deal(path)
    sheet = TABLES["deals"].sheet_name(lang)
    echo(f"\nA deal is won — {deal} {title} set to Won on the {sheet} sheet; xlcrm run again:")
    with open_book(path) as book:
        second = run_rules(book, RunOptions(now=lambda: later))
    for line in second.lines():
        if f" {deal} " in f"{line} " or line.startswith("dry run"):
            echo(f"  {line}")
    return deal


def rule_lines(report: RunReport) -> list[str]:
    """A run's rules, each in one line: what it did to how many deals."""
    out = []
    by_rule: dict[tuple[str, str], list[Fired]] = {}
    for item in report.fired:
        by_rule.setdefault((item.rule, item.action), []).append(item)
    for (rule, action), items in sorted(by_rule.items()):
        statuses = Counter(i.status for i in items)
        if action == "contract":
            had = sum(1 for i in items if i.detail == "already had a contract")
            made = len(items) - had
            what = f"{made} contract(s) generated in contracts/" + (
                f", {had} deal(s) already had one" if had else ""
            )
        elif action == "follow_up":
            kept = sum(1 for i in items if i.detail.startswith("kept"))
            what = f"next follow-up set on {len(items) - kept} deal(s), {kept} kept"
        else:
            to = sorted({i.detail.removeprefix("to ").split(":")[0] for i in items})
            shown = to[0] if len(to) == 1 else f"{len(to)} addresses"
            what = ", ".join(f"{status} {n}" for status, n in statuses.items())
            what += f" e-mail(s) to {shown}"
        out.append(f"{rule} ({_ACTIONS.get(action, action)}): {what}")
    waiting = len(report.waiting)
    if waiting:
        out.append(f"waiting: {waiting} (see xlcrm run)")
    if report.not_applied:
        days = RunOptions().recent_days
        out.append(
            f"not applied: {len(report.not_applied)} deal(s) closed over {days} days before "
            "this first run"
        )
    return out


def win_demo_deal(path: Path) -> tuple[str, str]:
    """Mark the Negotiation deal expected to close first Won, as its owner would in the Deals
    sheet (the Closed date is left for ``xlcrm run`` to fill); returns its id and title."""
    with open_book(path) as wb:
        deals = wb.table("deals")
        talks = [d for d in deals.rows() if d.get("stage") == "Negotiation"]
        deal = min(talks, key=lambda d: (d.get("expected_close") or dt.date.max, d["id"]))
        deals.update(deal["id"], {"stage": "Won", "probability": 1.0, "next_follow_up": None})
    return deal["id"], deal.get("title") or ""
