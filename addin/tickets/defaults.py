"""The rules and service levels a support desk starts with, in English and Chinese.

``xlcrm init`` writes them into the TicketRules and SLA tables so people see and edit what
xlcrm uses; a workbook made before those tables existed gets them the first time tickets are
worked on (``xlcrm tickets``, ``xlcrm sync --tickets``), and until then these same rows apply.

Keywords are in both languages in every workbook, whatever its language: customers of a
Chinese company write in English too, and the other way round. Rows hold canonical values
(``"complaint"``, ``"urgent"``); the Table API writes the workbook language's labels.
"""

from __future__ import annotations

from typing import Any

from ..schema import Lang

Row = dict[str, Any]

# (keywords, type, priority, note en, note zh) in table order: the first matching rule with a
# type gives the type, so complaints come before failures ("投诉：系统故障" is a complaint).
_RULES: tuple[tuple[str, str | None, str | None, str, str], ...] = (
    (
        "紧急; urgent; asap; 尽快; 马上; 立即; critical; emergency",
        None,
        "urgent",
        "Urgent wording makes a ticket urgent, whatever its type.",
        "含“紧急”等字样的工单为紧急优先级，不论类型。",
    ),
    (
        "投诉; complaint; 不满意; 不满; refund; 退款; 退货",
        "complaint",
        "high",
        "Complaints: high priority.",
        "投诉：高优先级。",
    ),
    (
        "故障; failure; error; 宕机; 无法; cannot; can't; down; 报错; 出错; 崩溃; crash; "
        "not working; broken",
        "failure",
        "high",
        "Something does not work: high priority.",
        "系统或产品不能正常使用：高优先级。",
    ),
    (
        "咨询; question; how to; how do; 请问; 如何; 怎么",
        "question",
        None,
        "Questions.",
        "咨询类问题。",
    ),
    (
        "建议; suggest; suggestion; feedback; 反馈; 意见",
        "feedback",
        "low",
        "Suggestions and feedback: low priority.",
        "建议和反馈：低优先级。",
    ),
)

# priority → (respond within hours, resolve within hours); calendar hours.
DEFAULT_HOURS: dict[str, tuple[float, float]] = {
    "urgent": (1, 4),
    "high": (4, 24),
    "normal": (8, 72),
    "low": (24, 168),
}
_SLA_NOTES = {
    "urgent": ("Calendar hours, nights and weekends included.", "按自然小时计，含夜间和周末。"),
    "high": ("", ""),
    "normal": ("Tickets no rule matched get this priority.", "未匹配任何规则的工单为此优先级。"),
    "low": ("", ""),
}


def rule_rows(lang: Lang) -> list[Row]:
    """The TicketRules table's starting rows (K001…), notes in ``lang``."""
    rows = []
    for n, (keywords, type_, priority, en, zh) in enumerate(_RULES, 1):
        rows.append(
            {
                "id": f"K{n:03d}",
                "keywords": keywords,
                "type": type_,
                "priority": priority,
                "assignee": None,
                "notes": zh if lang == "zh" else en,
            }
        )
    return rows


def sla_rows(lang: Lang) -> list[Row]:
    """The SLA table's starting rows, most urgent first; nobody to escalate to yet (the
    ``escalate_to`` setting applies until a row names someone)."""
    return [
        {
            "priority": priority,
            "respond_hours": respond,
            "resolve_hours": resolve,
            "escalate_to": None,
            "notes": (_SLA_NOTES[priority][1] if lang == "zh" else _SLA_NOTES[priority][0]) or None,
        }
        for priority, (respond, resolve) in DEFAULT_HOURS.items()
    ]


def default_rows(lang: Lang) -> dict[str, list[Row]]:
    """Starting rows by table key: ``{"ticket_rules": [...], "sla": [...]}``."""
    return {"ticket_rules": rule_rows(lang), "sla": sla_rows(lang)}
