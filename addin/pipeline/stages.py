"""The sales stages: their win probabilities, their order, how long a deal may sit in each.

The defaults below are what a new workbook's Stages sheet (``Stages`` / ``销售阶段``) starts
with; people change the probabilities and idle days there. A workbook without the sheet, or
with an empty one, uses the defaults; a sheet that lists only some stages keeps the defaults
for the others. Probabilities may be written as percentages (``40%``, stored as 0.4) or as
whole numbers (``40``). Idle days: the Stages sheet's cell when filled, else the *Idle days*
setting, else the default below (:mod:`.reminders` decides: it reads the setting).

API: ``read_stages(book)`` → :class:`Stages`, a mapping of canonical stage (``"Won"``) to
:class:`StageInfo` (``probability`` 0…1, ``order``, ``idle_days`` or None, ``closed``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ValueProblem
from ..schema import STAGES, Lang
from ..workbook import Book

OPEN_STAGES = ("Lead", "Qualified", "Proposal", "Negotiation")
CLOSED_STAGES = ("Won", "Lost")


@dataclass(frozen=True)
class StageInfo:
    stage: str  # canonical: Lead, Qualified, Proposal, Negotiation, Won, Lost
    probability: float  # 0…1
    order: int
    idle_days: int | None  # a deal this long without activity is idle; None: never
    where: str = ""  # the Stages row it came from ("" for a default)
    idle_set: bool = False  # idle_days was written in the Stages sheet (it beats the setting)

    @property
    def closed(self) -> bool:
        return self.stage in CLOSED_STAGES


DEFAULTS: dict[str, StageInfo] = {
    info.stage: info
    for info in (
        StageInfo("Lead", 0.10, 1, 14),
        StageInfo("Qualified", 0.20, 2, 14),
        StageInfo("Proposal", 0.40, 3, 7),
        StageInfo("Negotiation", 0.60, 4, 7),
        StageInfo("Won", 1.00, 5, None),
        StageInfo("Lost", 0.00, 6, None),
    )
}
_NOTES = {
    "Lead": ("A first contact or inquiry.", "初次接触或询盘。"),
    "Qualified": ("Need, budget and decision maker confirmed.", "已确认需求、预算和决策人。"),
    "Proposal": ("Proposal or quotation sent.", "已发送方案或报价。"),
    "Negotiation": ("Terms and price under negotiation.", "正在商谈条款和价格。"),
    "Won": ("Contract signed.", "已签约。"),
    "Lost": ("The customer chose otherwise.", "客户未选择我们。"),
}


class Stages(Mapping[str, StageInfo]):
    """Stage → :class:`StageInfo`, in pipeline order."""

    def __init__(self, infos: Mapping[str, StageInfo]) -> None:
        self._infos = dict(sorted(infos.items(), key=lambda kv: kv[1].order))

    def __getitem__(self, stage: str) -> StageInfo:
        return self._infos[stage]

    def __iter__(self) -> Iterator[str]:
        return iter(self._infos)

    def __len__(self) -> int:
        return len(self._infos)

    def probability(self, stage: str | None) -> float | None:
        info = self._infos.get(stage or "")
        return None if info is None else info.probability

    def idle_days(self, stage: str | None) -> int | None:
        info = self._infos.get(stage or "")
        return None if info is None else info.idle_days

    @property
    def open(self) -> list[str]:
        return [s for s, info in self._infos.items() if not info.closed]


def default_rows(lang: Lang) -> list[dict[str, Any]]:
    """The rows a new workbook's Stages table starts with (labels in ``lang``)."""
    labels = {c.value: c.label(lang) for c in STAGES}
    return [
        {
            "stage": labels[info.stage],
            "probability": info.probability,
            "order": info.order,
            "idle_days": info.idle_days,
            "notes": _NOTES[info.stage][1 if lang == "zh" else 0],
        }
        for info in DEFAULTS.values()
    ]


def read_stages(book: Book) -> Stages:
    """The workbook's stages; the defaults for a workbook without (or with an empty) sheet."""
    infos = dict(DEFAULTS)
    if not book.has_table("stages"):
        return Stages(infos)
    table = book.table("stages")
    for row in table.rows():
        stage = row.get("stage")
        if not stage:
            continue
        if stage not in DEFAULTS:
            names = " / ".join(f"{c.value} ({c.zh})" for c in STAGES)
            raise ValueProblem(
                table.where_of(stage, "stage"), f"{stage!r} is not a stage", f"one of: {names}"
            )
        default = DEFAULTS[stage]
        probability = as_probability(row.get("probability"), table.where_of(stage, "probability"))
        idle = _whole(row.get("idle_days"), None, table.where_of(stage, "idle_days"))
        infos[stage] = StageInfo(
            stage,
            default.probability if probability is None else probability,
            _whole(row.get("order"), default.order, table.where_of(stage, "order")) or 0,
            default.idle_days if idle is None else idle,
            table.where_of(stage),
            idle is not None,
        )
    return Stages(infos)


def as_probability(value: Any, where: str) -> float | None:
    """A probability cell as 0…1: ``0.4`` and ``40`` (a percentage typed as a number) alike."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().endswith("%"):
        with contextlib.suppress(ValueError):
            value = float(value.strip().rstrip("%").strip()) / 100
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueProblem(where, f"{value!r} is not a probability", "write a percentage, e.g. 40%")
    number = float(value)
    if 1 < number <= 100:
        number /= 100
    if not 0 <= number <= 1:
        raise ValueProblem(where, f"{value!r} is not a probability", "write 0% to 100%")
    return number


def _whole(value: Any, default: int | None, where: str) -> int | None:
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueProblem(where, f"{value!r} is not a number of days", "write a whole number")
    return int(value)
