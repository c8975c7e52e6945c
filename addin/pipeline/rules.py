"""Automation rules: rows of the Rules sheet (``Rules`` / ``自动规则``), not code.

Each row says: when a deal enters *stage*, do *action* with *argument*:

============  ==========================================================================
action        argument
============  ==========================================================================
contract      the contract template (default ``contracts/sales_contract``; a .docx beside
              the workbook works too)
follow_up     days until the next follow-up (default: the *Follow-up days* setting, else 3)
notify_owner  optional: a line added to the e-mail to the deal's owner
handoff       the addresses (or team names) that get the order; default: the *Hand-off to*
              setting — warehouse, finance
============  ==========================================================================

A rule is on unless its *Enabled* cell says no; a rule switched off is not checked, so a
half-written one can wait. Every enabled rule is checked before a run does anything, and one
error lists every problem with its cell (``Rules!E3: 'abc' is not a number of days``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import UsageError, XlcrmError
from ..schema import RULE_ACTIONS, STAGES, Lang
from ..settings import Settings
from ..team import Team
from ..templating import find_template
from ..workbook import Book

DEFAULT_CONTRACT = "contracts/sales_contract"
DEFAULT_FOLLOW_UP_DAYS = 3
_SPLIT = re.compile(r"[;,；，、\r\n]+")


@dataclass(frozen=True)
class Rule:
    """One enabled, checked rule."""

    id: str
    stage: str  # canonical: Won, Proposal…
    action: str  # contract, follow_up, notify_owner, handoff
    argument: str | None
    where: str  # the rule's row, ``Rules!5``
    argument_where: str  # its argument cell, ``Rules!E5``
    days: int | None = None  # follow_up
    template: Path | None = None  # contract
    to: tuple[str, ...] = ()  # handoff: addresses
    note: str | None = None  # notify_owner

    def label(self, lang: Lang) -> str:
        """``R001 (Won → contract)`` / ``R001（赢单 → 生成合同）`` for reports."""
        stage = next(c.label(lang) for c in STAGES if c.value == self.stage)
        action = next(c.label(lang) for c in RULE_ACTIONS if c.value == self.action)
        return (
            f"{self.id}（{stage} → {action}）"
            if lang == "zh"
            else f"{self.id} ({stage} → {action})"
        )


class RuleProblems(XlcrmError):
    """Rules that cannot run: every problem, each with its cell."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        where, what = problems[0]
        super().__init__(
            where if len(problems) == 1 else None,
            what
            if len(problems) == 1
            else "the Rules sheet has problems:\n" + "\n".join(f"  {w}: {m}" for w, m in problems),
            "correct the Rules sheet (or switch the rule off in its Enabled column), then run "
            "again; nothing was done",
        )


@dataclass
class _Reader:
    book: Book
    settings: Settings
    team: Team
    near: Sequence[Path]
    problems: list[tuple[str, str]] = field(default_factory=list)


def default_rows(lang: Lang) -> list[dict[str, Any]]:
    """The example rules a new workbook starts with (labels in ``lang``).

    The hand-off rule starts switched off: it needs the *Hand-off to* setting first.
    """
    zh = lang == "zh"
    stage = {c.value: c.label(lang) for c in STAGES}
    action = {c.value: c.label(lang) for c in RULE_ACTIONS}
    rows = [
        (
            "R001",
            True,
            "Won",
            "contract",
            DEFAULT_CONTRACT,
            "赢单时生成销售合同。" if zh else "Generate the sales contract when a deal is won.",
        ),
        (
            "R002",
            False,
            "Won",
            "handoff",
            "",
            "赢单时把订单明细发给仓库/财务（先填写设置中的“订单交接邮箱”再启用）。"
            if zh
            else "E-mail the order lines to warehouse/finance (fill Hand-off to in Settings, "
            "then enable).",
        ),
        (
            "R003",
            True,
            "Proposal",
            "follow_up",
            "3",
            "发出方案后 3 天跟进。" if zh else "Follow up 3 days after the proposal goes out.",
        ),
        (
            "R004",
            True,
            "Negotiation",
            "notify_owner",
            "",
            "进入谈判时邮件通知负责人。"
            if zh
            else "E-mail the owner when a deal reaches negotiation.",
        ),
    ]
    return [
        {
            "id": rid,
            "enabled": enabled,
            "stage": stage[s],
            "action": action[a],
            "argument": arg or None,
            "notes": notes,
        }
        for rid, enabled, s, a, arg, notes in rows
    ]


def read_rules(
    book: Book,
    settings: Settings,
    team: Team,
    base_dir: Path | None = None,
    lang: Lang | None = None,
    *,
    near: Sequence[Path] | None = None,
) -> list[Rule]:
    """The enabled rules, checked; :class:`RuleProblems` lists every problem at once.

    A contract rule's template is looked up in ``near`` (default: ``base_dir``, the
    workbook's folder, and its ``templates/``), then among the shipped templates."""
    if not book.has_table("rules"):
        return []
    table = book.table("rules")
    if near is None:
        near = () if base_dir is None else (base_dir, base_dir / "templates")
    reader = _Reader(book, settings, team, near)
    rules: list[Rule] = []
    seen: set[str] = set()
    for row in table.rows():
        if all(row.get(k) in (None, "") for k in ("id", "stage", "action", "argument")):
            continue
        if row.get("enabled") is False:
            continue
        rule_id = row.get("id")
        if not isinstance(rule_id, str) or not rule_id.strip():
            reader.problems.append(
                (table.layout.sheet, "a rule has no ID; give every rule one, e.g. R005")
            )
            continue
        rule_id = rule_id.strip()
        if rule_id.casefold() in seen:
            reader.problems.append((table.layout.sheet, f"two rules are called {rule_id}"))
            continue
        seen.add(rule_id.casefold())
        where = table.where_of(rule_id)

        def cell(key: str, pk: str = rule_id) -> str:
            return table.where_of(pk, key)

        enabled = row.get("enabled")
        if enabled not in (None, True):
            reader.problems.append(
                (cell("enabled"), f"{enabled!r} is not yes or no (TRUE / FALSE, 是 / 否)")
            )
            continue
        stage = row.get("stage")
        if stage not in {c.value for c in STAGES}:
            names = ", ".join(f"{c.value} / {c.zh}" for c in STAGES)
            what = "no stage" if not stage else f"{stage!r} is not a stage"
            reader.problems.append((cell("stage"), f"{what}; use one of: {names}"))
            continue
        action = row.get("action")
        if action not in {c.value for c in RULE_ACTIONS}:
            names = ", ".join(f"{c.value} / {c.zh}" for c in RULE_ACTIONS)
            what = "no action" if not action else f"{action!r} is not an action"
            reader.problems.append((cell("action"), f"{what}; use one of: {names}"))
            continue
        argument = row.get("argument")
        argument = str(argument).strip() if argument not in (None, "") else None
        rule = Rule(rule_id, stage, action, argument, where, cell("argument"))
        checked = _check(reader, rule, lang or book.lang)
        if checked is not None:
            rules.append(checked)
    if reader.problems:
        raise RuleProblems(reader.problems)
    return rules


def _check(reader: _Reader, rule: Rule, lang: Lang) -> Rule | None:
    where = rule.argument_where
    if rule.action == "follow_up":
        if rule.argument is None:
            days = reader.settings.int("follow_up_days")
            return replace(rule, days=DEFAULT_FOLLOW_UP_DAYS if days is None else days)
        text = rule.argument.removesuffix("天").removesuffix("days").strip()
        try:
            number = float(text)
        except ValueError:
            number = -1.0
        if number < 0 or number != int(number):
            reader.problems.append(
                (where, f"{rule.argument!r} is not a number of days; write e.g. 3")
            )
            return None
        return replace(rule, days=int(number))
    if rule.action == "contract":
        try:
            template = find_template(
                rule.argument or DEFAULT_CONTRACT,
                "contracts",
                lang,
                near=reader.near,
            )
        except UsageError as error:
            reader.problems.append((where, f"{error.message}; {error.hint}"))
            return None
        return replace(rule, template=template)
    if rule.action == "handoff":
        source, names = where, _SPLIT.split(rule.argument or "")
        if rule.argument is None:
            source, names = (
                reader.settings.where("handoff_to"),
                list(reader.settings.list("handoff_to")),
            )
        names = [n for n in names if n]
        if not names:
            reader.problems.append(
                (
                    where,
                    "the hand-off has no address: write it here, or fill "
                    f"{reader.settings.where('handoff_to')} (Hand-off to / 订单交接邮箱)",
                )
            )
            return None
        to = []
        for name in names:
            address = reader.team.address_of(name)
            if address is None:
                reader.problems.append(
                    (source, f"{name!r} is neither an e-mail address nor a name in the team list")
                )
                return None
            to.append(address)
        return replace(rule, to=tuple(dict.fromkeys(to)))
    return replace(rule, note=rule.argument)  # notify_owner
