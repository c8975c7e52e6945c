"""The sales pipeline: stages and their probabilities, the weighted forecast, stage history,
automation rules (``xlcrm run``) and reminders (``xlcrm reminders``).

- :func:`read_stages` (:mod:`.stages`) — stage → probability, order, idle days;
- :func:`forecast` (:mod:`.forecast`) — open deals × probability by month, owner or stage;
- :func:`run_rules` (:mod:`.run`) — record stage changes, apply each rule once per deal;
- :func:`make_reminders` / :func:`run_reminders` (:mod:`.reminders`) — what each owner should
  look at today, as a sheet and a digest e-mail.
"""

from .forecast import Forecast, ForecastRow, forecast
from .reminders import Reminder, RemindersOptions, RemindersReport, make_reminders, run_reminders
from .rules import Rule, RuleProblems, read_rules
from .run import RunOptions, RunReport, run_rules
from .stages import StageInfo, Stages, read_stages

__all__ = [
    "Forecast",
    "ForecastRow",
    "Reminder",
    "RemindersOptions",
    "RemindersReport",
    "Rule",
    "RuleProblems",
    "RunOptions",
    "RunReport",
    "StageInfo",
    "Stages",
    "forecast",
    "make_reminders",
    "read_rules",
    "read_stages",
    "run_reminders",
    "run_rules",
]
