"""Mail-merge campaigns: preview, test, send exactly once per recipient, resume.

:func:`run_campaign` is the command line's entry point (a workbook file, a journal beside it);
the ribbon service works on an open book with :func:`preview_campaign`, :func:`send_test`
and :func:`send_batch`. The names are imported on first use, so that importing one module
does not load the template and MIME machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .batches import BatchResult, send_batch
    from .report import CampaignReport, Failure
    from .run import CampaignOptions, message_id, run_campaign
    from .steps import CampaignPreview, list_templates, preview_campaign, send_test

__all__ = [
    "BatchResult",
    "CampaignOptions",
    "CampaignPreview",
    "CampaignReport",
    "Failure",
    "list_templates",
    "message_id",
    "preview_campaign",
    "run_campaign",
    "send_batch",
    "send_test",
]
_HOMES = {
    "CampaignReport": "report",
    "Failure": "report",
    "CampaignOptions": "run",
    "message_id": "run",
    "run_campaign": "run",
    "CampaignPreview": "steps",
    "list_templates": "steps",
    "preview_campaign": "steps",
    "send_test": "steps",
    "BatchResult": "batches",
    "send_batch": "batches",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
