"""``xlcrm init``: a new CRM workbook, its configuration tables filled in.

The workbook layer builds the file (:func:`addin.workbook.create.build_workbook`); what the
configuration tables start with — every known setting (empty), the stages with their
probabilities, example rules, the ticket keyword rules and service levels — belongs to the
modules that read those tables, so it is gathered here, above them, and passed down.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .pipeline import rules, stages
from .schema import Lang
from .settings import default_rows as settings_rows
from .tickets.defaults import default_rows as ticket_rows
from .workbook.create import INITIAL_TABLES, build_workbook

__all__ = ["INITIAL_TABLES", "create_workbook", "starting_rows"]


def create_workbook(path: str | os.PathLike[str], lang: Lang = "en") -> Path:
    """Create a new CRM workbook at ``path``, ready to use; refuse to replace an existing file."""
    return build_workbook(path, lang, starting_rows(lang))


def starting_rows(lang: Lang) -> dict[str, list[dict[str, Any]]]:
    """What a new workbook's configuration tables start with, by table key — all data that
    people then edit in Excel."""
    return {
        "settings": settings_rows(lang),
        "stages": stages.default_rows(lang),
        "rules": rules.default_rows(lang),
        **ticket_rows(lang),
    }
