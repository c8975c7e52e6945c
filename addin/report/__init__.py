"""Dashboards and customer value (issue #6): ``xlcrm report``.

:func:`refresh_report` reads a CRM workbook's tables once and stages, for the next save, a
Dashboard sheet with native Excel charts (pipeline, revenue by month / owner / region /
product, win rate and conversion per owner, tickets, campaigns) and each customer's ABC tier
and RFM segment. The numbers are pure functions in :mod:`.metrics` and :mod:`.value`; the
sheet's layout is :mod:`.dashboard`.
"""

from .dashboard import build_dashboard
from .facts import Inputs, Report, gather
from .run import ReportSummary, refresh_report
from .value import SEGMENTS, abc_tiers, rfm_segments

__all__ = [
    "SEGMENTS",
    "Inputs",
    "Report",
    "ReportSummary",
    "abc_tiers",
    "build_dashboard",
    "gather",
    "refresh_report",
    "rfm_segments",
]
