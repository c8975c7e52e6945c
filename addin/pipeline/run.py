"""``xlcrm run``: record stage changes, then apply the Rules sheet — each rule once per deal.

One run reads the workbook once and, in order:

1. checks every enabled rule (:mod:`.rules`): a bad one stops the run before anything is done;
2. records each deal whose stage differs from its last record as a ``stage`` interaction
   (:mod:`.history`);
3. applies each enabled rule to each deal now in the rule's stage that the rule has not been
   applied to, and records that it was applied — in the same save as the effect:

   - ``follow_up`` sets Next follow-up to today + N days. A date a person already set for
     today or later is kept (their plan wins); an empty or past one is replaced;
   - ``contract`` generates the contract (the contracts library: numbered, the deal's
     Contract no. and Contract file filled, a ``document`` interaction) into the run's
     contract sink (:mod:`.sinks`: ``contracts/`` beside the workbook file for ``xlcrm run``,
     downloads for the ribbon service). A deal that already has a contract file gets no
     second one;
   - ``notify_owner`` and ``handoff`` e-mail through :func:`addin.notify.send_notices`.

Fired once, for good: each application is an Interactions row whose Message-ID is the rule's
key for that deal and stage (``rule-r001-d0042-won@xlcrm`` for sheet actions; the notice's
own Message-ID for e-mails). A deal that leaves the stage and comes back is not acted on again;
deleting that row makes the rule apply again at the next run. A rule added later applies to
the deals already in its stage (once). A deal that skips a stage (Qualified → Won) does not
set off the skipped stage's rules.

E-mail is a dry run unless ``send`` is set: the report says what would go, and a rule whose
e-mail was not sent has not fired — it is applied by the first run with ``--send``. A notice
whose address is unknown (an owner missing from the team list) waits, listed in the report.
Sending needs the workbook as a file (the notices' journal is kept beside it), so a book
without one — the ribbon's — always gets the dry run (docs/rules.md says why).

Deals first seen already closed: a workbook may hold years of Won deals when xlcrm first runs
on it, and nobody wants a contract and a hand-off for each. A deal whose first record shows it
Won or Lost sets off rules only when its Closed date is within ``recent_days`` (30) of that
first record; otherwise it is listed as not applied. Every deal seen open, and every deal
seen to *move* into Won or Lost, sets them off.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..contracts.generate import contract_file_name
from ..contracts.numbering import ContractNumbers
from ..contracts.versions import ContractTemplates, names_one_file
from ..errors import XlcrmError
from ..notify import Notice, NoticeReport, recorded_keys, send_notices
from ..schema import RULE_ACTIONS, Lang
from ..settings import read_settings
from ..team import Team, read_team
from ..templating import CrmData, render_problems
from ..workbook import Book
from ..workbook.book import book_file, init_command
from .history import CLOSED, Change, StageMark, detect_changes, last_stages, record_changes
from .mails import handoff_notice, owner_notice
from .rules import Rule, read_rules
from .sinks import ContractSink, FolderSink

MARKER_DOMAIN = "xlcrm"
RECENT_DAYS = 30
EMAIL_ACTIONS = ("notify_owner", "handoff")
_UNSAFE = re.compile(r"[^a-z0-9]+")


@dataclass
class RunOptions:
    send: bool = False  # without it e-mail is a dry run (sheet actions still happen)
    transport: str | None = None
    sender: str | None = None
    insecure: bool = False
    out_dir: Path | None = None  # contracts; default contracts/ beside the workbook
    # Where contracts go instead (the service's downloads); default a FolderSink on out_dir.
    contracts: ContractSink | None = None
    # Where a rule's template name is looked up; default the workbook's folder and its
    # templates/ (the service gives its own folders, names only: TemplateFolders).
    templates_near: Sequence[Path] | None = None
    recent_days: int = RECENT_DAYS
    now: Callable[[], dt.datetime] = dt.datetime.now


@dataclass
class Fired:
    """A rule applied to a deal (or, for e-mail, tried)."""

    rule: str  # R001
    deal_id: str
    action: str
    status: str  # done, sent, would send, uncertain, failed
    detail: str = ""


@dataclass
class RunReport:
    lang: Lang
    changes: list[Change] = field(default_factory=list)
    fired: list[Fired] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # not applied yet, and why
    not_applied: list[str] = field(default_factory=list)  # closed long before first seen
    already: int = 0  # rule × deal pairs applied by earlier runs
    notices: NoticeReport | None = None
    files: list[Path] = field(default_factory=list)  # the contract files this run wrote
    contracts: list[dict[str, str]] = field(default_factory=list)  # deal_id, contract_no, file
    sink: ContractSink | None = field(default=None, repr=False)

    def remove_files(self) -> None:
        """Forget the contracts this run wrote (files deleted, downloads dropped): for a
        caller whose save failed, since a contract the workbook does not record must not
        exist."""
        if self.sink is not None:
            self.sink.discard()
        for file in self.files:
            file.unlink(missing_ok=True)

    @property
    def would_send(self) -> list[Fired]:
        return self.having("would send")

    def having(self, *statuses: str) -> list[Fired]:
        return [f for f in self.fired if f.status in statuses]

    def lines(self) -> list[str]:
        out = []
        first = [c for c in self.changes if c.first_seen]
        moved = [c for c in self.changes if not c.first_seen]
        if first:
            out.append(f"first seen: {len(first)} deal(s), their stage recorded")
        for change in moved:
            out.append(f"stage: {change.deal_id} {change.before} → {change.after}")
        for item in self.fired:
            line = f"{item.status}: {item.rule} {item.deal_id} {item.action}"
            out.append(line + (f" — {item.detail}" if item.detail else ""))
        out += [f"waiting: {w}" for w in self.waiting]
        out += [f"not applied: {n}" for n in self.not_applied]
        if self.already:
            out.append(f"{self.already} rule(s) were applied to their deals by earlier runs")
        if self.having("would send"):
            out.append("dry run: no e-mail was sent; run with --send --transport URL to send")
        if self.notices is not None:
            out += [f"warning: {w}" for w in self.notices.warnings]
        return out or ["nothing to do: no stage changed and no rule applies"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "changes": [{**asdict(c), "first_seen": c.first_seen} for c in self.changes],
            "fired": [asdict(f) for f in self.fired],
            "waiting": list(self.waiting),
            "not_applied": list(self.not_applied),
            "already": self.already,
            "notices": self.notices.as_dict() if self.notices else None,
        }


def firing_key(rule: Rule, deal_id: str) -> str:
    """``rule-r001-d0042-won``: names one rule applied to one deal in one stage."""
    parts = (rule.id, deal_id, rule.stage)
    return "rule-" + "-".join(_UNSAFE.sub("_", p.strip().lower()).strip("_") for p in parts)


def marker(key: str) -> str:
    """The Message-ID cell of the row recording a sheet action (normalised, as sync keeps)."""
    return f"{key}@{MARKER_DOMAIN}"


def run_rules(book: Book, options: RunOptions | None = None) -> RunReport:
    """Record stage changes and apply the rules of ``book``.

    Changes the book in memory; the caller saves. With ``options.send`` it also mails the
    notices, and then **saves** the book itself (:func:`addin.notify.send_notices`): mail
    that left cannot be taken back, so its record is written at once. When the run fails,
    the contracts it wrote are removed again (the caller must then not save).

    A book without a file (the ribbon service's) needs ``options.contracts`` (a sink), looks
    templates up in ``options.templates_near`` (else only the shipped ones), and cannot
    send: its notices are a dry run.
    """
    options = options or RunOptions()
    if book.path is None and (options.contracts is None or options.send):
        book_file(book, "sending notices" if options.send else "xlcrm run")  # says why
    run = _Run(book, book.path, options)
    try:
        return run.run()
    except BaseException:
        run.report.remove_files()  # a contract the workbook does not record must not exist
        raise


class _Run:
    def __init__(self, book: Book, path: Path | None, options: RunOptions) -> None:
        self.book = book
        self.path = path
        self.options = options
        self.now = options.now().replace(microsecond=0)
        self.today = self.now.date()
        self.report = RunReport(book.lang)
        if options.contracts is not None:
            self.sink: ContractSink = options.contracts
        else:
            assert path is not None  # run_rules checked
            folder = FolderSink(options.out_dir or path.parent / "contracts", path.parent)
            folder.files = self.report.files  # the report lists the files (and removes them)
            self.sink = folder
        self.report.sink = self.sink

    def run(self) -> RunReport:
        book = self.book
        if not book.has_table("interactions"):
            where = str(self.path) if self.path else book.where
            raise XlcrmError(
                where,
                "the workbook has no Interactions table: stage history and rules are kept there",
                f"add it with {init_command(where)}, or name a sheet Interactions",
            )
        settings = read_settings(book)
        team = read_team(book, settings)
        near = self.options.templates_near
        if near is None:  # beside the workbook file; a book without one: the shipped ones
            near = () if self.path is None else (self.path.parent, self.path.parent / "templates")
        rules = read_rules(book, settings, team, near=near)
        deals = list(book.table("deals").rows())
        marks = last_stages(book)
        changes = detect_changes(deals, marks)
        record_changes(book, changes, self.now)
        self.report.changes = changes
        if rules:
            self._apply(rules, marks, {c.deal_id: c for c in changes}, team, settings)
        return self.report

    # -- which rules apply to which deals

    def _apply(
        self,
        rules: list[Rule],
        marks: dict[str, StageMark],
        changes: dict[str, Change],
        team: Team,
        settings: Any,
    ) -> None:
        book = self.book
        data = CrmData(book, today=self.today)
        interactions = book.table("interactions")
        markers = {
            v.strip().strip("<>").lower()
            for row in interactions.rows()
            if isinstance(v := row.get("message_id"), str) and v.strip()
        }
        candidates: list[tuple[Rule, str, str]] = []  # rule, deal id, key
        for deal_id, deal in data.deal_rows.items():
            for rule in rules:
                if rule.stage == deal.get("stage"):
                    candidates.append((rule, deal_id, firing_key(rule, deal_id)))
        emailed = recorded_keys(book, [k for r, _, k in candidates if r.action in EMAIL_ACTIONS])
        pending = [c for c in candidates if marker(c[2]) not in markers and c[2] not in emailed]
        self.report.already += len(candidates) - len(pending)
        due: list[tuple[Rule, str, str]] = []
        verdicts: dict[str, str | None] = {}
        for rule, deal_id, key in pending:
            if deal_id not in verdicts:
                deal = data.deal_rows[deal_id]
                verdicts[deal_id] = why = self._not_eligible(deal, changes.get(deal_id), marks)
                if why and deal_id in changes:  # said once, when the deal is first seen
                    self.report.not_applied.append(f"{data.deal_where(deal_id)}: {why}")
            if verdicts[deal_id] is None:
                due.append((rule, deal_id, key))
        order = {"follow_up": 0, "contract": 1, "notify_owner": 2, "handoff": 3}
        due.sort(key=lambda item: order[item[0].action])  # contracts first: hand-offs cite them
        self._follow_ups(data, [d for d in due if d[0].action == "follow_up"])
        self._contracts(data, [d for d in due if d[0].action == "contract"], settings)
        notices = self._notices(data, [d for d in due if d[0].action in EMAIL_ACTIONS], team)
        if notices or self.options.send:  # with --send, also settles an interrupted run
            self._send(notices)

    def _action(self, rule: Rule) -> str:
        """The rule's action as the Rules sheet shows it in the workbook's language (a waiting
        line is read in the task pane too: 通知负责人, not notify_owner)."""
        choice = next((c for c in RULE_ACTIONS if c.value == rule.action), None)
        return choice.label(self.book.lang) if choice else rule.action

    def _not_eligible(
        self, deal: dict[str, Any], change: Change | None, marks: dict[str, StageMark]
    ) -> str | None:
        """Why a deal's current stage sets off no rule (None: it does)."""
        if change is not None:
            first, seen = change.first_seen, self.today
        else:
            mark = marks[str(deal["id"]).strip().upper()]
            first, seen = mark.first_seen, (mark.at.date() if mark.at else self.today)
        if not first or deal.get("stage") not in CLOSED:
            return None
        closed = deal.get("closed")
        if isinstance(closed, dt.datetime):
            closed = closed.date()
        if isinstance(closed, dt.date) and (seen - closed).days <= self.options.recent_days:
            return None
        zh = self.book.lang == "zh"
        if not isinstance(closed, dt.date):
            return (
                "首次记录时已关闭且没有成交日期，规则不执行（填写成交日期后再运行即可执行）"
                if zh
                else "already closed when first seen and no Closed date: rules not applied "
                "(fill Closed with the date and run again to apply them)"
            )
        return (
            f"首次记录时已关闭（成交日期 {closed}），规则不执行"
            if zh
            else f"already closed on {closed} when first seen: rules not applied"
        )

    # -- sheet actions

    def _mark(
        self,
        rule: Rule,
        deal: dict[str, Any],
        key: str,
        kind: str,
        subject: str,
        summary: str,
        **extra: Any,
    ) -> None:
        table = self.book.table("interactions")
        row = {
            "customer_id": deal.get("customer_id"),
            "deal_id": deal["id"],
            "kind": kind,
            "at": self.now,
            "subject": subject,
            "summary": summary,
            "message_id": marker(key),
            **extra,
        }
        table.insert({k: v for k, v in row.items() if k in set(table.columns)})

    def _follow_ups(self, data: CrmData, due: list[tuple[Rule, str, str]]) -> None:
        zh = self.book.lang == "zh"
        deals = self.book.table("deals")
        for rule, deal_id, key in due:
            deal = data.deal_rows[deal_id]
            current = deal.get("next_follow_up")
            if isinstance(current, dt.datetime):
                current = current.date()
            if isinstance(current, dt.date) and current >= self.today:
                subject = (
                    f"规则 {rule.id}：保留已有的下次跟进日期 {current}"
                    if zh
                    else f"Rule {rule.id}: next follow-up {current} kept"
                )
                detail = f"kept {current}"
            else:
                day = self.today + dt.timedelta(days=rule.days or 0)
                deals.update(deal_id, {"next_follow_up": day})
                deal["next_follow_up"] = day
                subject = (
                    f"规则 {rule.id}：下次跟进 {day}"
                    if zh
                    else f"Rule {rule.id}: follow up by {day}"
                )
                detail = f"next follow-up {day}"
            summary = (
                f"进入阶段后 {rule.days} 天跟进"
                if zh
                else f"{rule.days} day(s) after entering the stage"
            )
            self._mark(rule, deal, key, "note", subject, summary)
            self.report.fired.append(Fired(rule.id, deal_id, rule.action, "done", detail))

    def _contracts(self, data: CrmData, due: list[tuple[Rule, str, str]], settings: Any) -> None:
        if not due:
            return
        zh = self.book.lang == "zh"
        numbers = ContractNumbers(
            settings.text("contract_no_format"),
            self.today,
            (d.get("contract_no") for d in data.deal_rows.values()),
            self.book.state,
            settings.where("contract_no_format"),
        )
        templates: dict[Path, ContractTemplates] = {}
        deals = self.book.table("deals")
        for rule, deal_id, key in due:
            deal = data.deal_rows[deal_id]
            if deal.get("contract_file"):
                existing = deal.get("contract_no") or deal["contract_file"]
                subject = (
                    f"规则 {rule.id}：已有合同 {existing}，未重复生成"
                    if zh
                    else f"Rule {rule.id}: the deal already has a contract ({existing}); "
                    "none generated"
                )
                self._mark(rule, deal, key, "note", subject, "")
                self.report.fired.append(
                    Fired(rule.id, deal_id, rule.action, "done", "already had a contract")
                )
                continue
            assert rule.template is not None
            template = templates.get(rule.template)
            if template is None:
                # each deal in its customer's language, as ``xlcrm contract`` writes it
                template = templates[rule.template] = ContractTemplates(
                    rule.template, self.book.lang, fixed=names_one_file(rule.argument or "")
                )
            built = data.contract_context(deal_id, deal.get("contract_no") or "CT-0000")
            problems = list(
                dict.fromkeys(
                    built.problems + render_problems(template.render, built.where, built.context)
                )
            )
            if problems:
                self.report.waiting.append(
                    f"{built.where}: {rule.id} {self._action(rule)}: " + "; ".join(problems)
                )
                continue
            number = deal.get("contract_no") or numbers.next()
            built = data.contract_context(deal_id, number)
            name = contract_file_name(data, deal_id, number)
            stored = self.sink.put(name, template.render(built.context))
            relative = stored.recorded
            self.report.contracts.append(
                {"deal_id": deal_id, "contract_no": number, "file": stored.name}
            )
            deals.update(deal_id, {"contract_no": number, "contract_file": relative})
            deal.update(contract_no=number, contract_file=relative)
            self._mark(
                rule,
                deal,
                key,
                "document",
                f"合同 {number}" if zh else f"Contract {number}",
                f"由自动规则 {rule.id} 根据模板 {rule.template.name} 生成"
                if zh
                else f"Generated by rule {rule.id} from {rule.template.name}",
                direction="out",
                attachments=stored.name,
            )
            self.report.fired.append(Fired(rule.id, deal_id, rule.action, "done", relative))

    # -- e-mail actions

    def _notices(
        self, data: CrmData, due: list[tuple[Rule, str, str]], team: Team
    ) -> list[tuple[Rule, str, Notice]]:
        zh = self.book.lang == "zh"
        out = []
        for rule, deal_id, key in due:
            if rule.action == "handoff":
                out.append((rule, deal_id, handoff_notice(key, data, deal_id, rule)))
                continue
            deal = data.deal_rows[deal_id]
            customer = data.customer_rows.get(deal.get("customer_id") or "", {})
            owner = deal.get("owner") or customer.get("owner")
            address = team.address_of(owner)
            if address is None:
                where = data.deals.where_of(deal_id, "owner")
                if not owner:
                    why = "商机没有负责人" if zh else "the deal has no owner"
                else:
                    why = (
                        f"负责人 {owner} 不在团队成员名单中（{team.where}）"
                        if zh
                        else f"owner {owner!r} has no address in the team list ({team.where})"
                    )
                self.report.waiting.append(f"{where}: {rule.id} {self._action(rule)}: {why}")
                continue
            name = team.name_of(owner) or (owner if owner and "@" not in owner else None)
            out.append((rule, deal_id, owner_notice(key, data, deal_id, rule, address, name)))
        return out

    def _send(self, notices: list[tuple[Rule, str, Notice]]) -> None:
        options = self.options
        report = send_notices(
            self.book,
            self.path,
            [n for _, _, n in notices],
            transport_url=options.transport,
            sender=options.sender,
            dry_run=not options.send,
            insecure=options.insecure,
            now=self.now,
        )
        self.report.notices = report
        for rule, deal_id, notice in notices:
            status = report.status_of(notice.key) or "failed"
            if status == "already":
                self.report.already += 1
                continue
            status = "sent" if status == "recovered" else status
            outcome = next(o for o in report.outcomes if o.key == notice.key)
            detail = f"to {notice.to}" + (f": {outcome.error}" if outcome.error else "")
            self.report.fired.append(Fired(rule.id, deal_id, rule.action, status, detail))
