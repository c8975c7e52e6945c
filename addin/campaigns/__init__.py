"""Mail-merge campaigns: preview, test, send exactly once per recipient, resume.

:func:`run_campaign` is the library entry point; ``xlcrm campaign`` and the ribbon call it.
The names are imported on first use, so that sync (which only needs :mod:`.unsubscribe`) does
not load the template and MIME machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .report import CampaignReport, Failure
    from .run import CampaignOptions, message_id, run_campaign

__all__ = ["CampaignOptions", "CampaignReport", "Failure", "message_id", "run_campaign"]


def __getattr__(name: str) -> Any:
    if name in ("CampaignReport", "Failure"):
        from . import report

        return getattr(report, name)
    if name in ("CampaignOptions", "message_id", "run_campaign"):
        from . import run

        return getattr(run, name)
    raise AttributeError(name)
