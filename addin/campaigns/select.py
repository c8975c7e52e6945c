"""``--where``: which customers a campaign goes to, in the filter language (docs/filters.md).

``tier == "A" and region == "华东"``, ``tags contains "vip"`` (or the older ``"vip" in tags``),
``status != "Churned"``, ``last_contact < today - 90d``: the one filter language that export,
reports and reminders use too (:mod:`addin.query`). It is parsed by our own parser, never
evaluated as code, so a segment cannot run anything. A name that is not a column is an error
that lists the columns — a typo must not silently select nobody, or everybody — and so is a
choice value the column does not have.

Choice columns compare by meaning: ``status == "活跃"`` and ``status == "Active"`` select the same
customers in a workbook of either language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ..query import Predicate, compile_filter
from ..schema import CUSTOMERS, Lang


def compile_where(
    expression: str | None,
    columns: Sequence[str],
    *,
    lang: Lang = "en",
    today: dt.date | None = None,
) -> Predicate:
    """A predicate over customer rows; selects everybody when ``expression`` is empty.

    ``columns`` are the keys the Customers sheet has (``Table.columns``); columns users added
    are named by their header. Raises :class:`~addin.query.FilterError` (exit code 2).
    """
    return compile_filter(
        expression, spec=CUSTOMERS, columns=columns, lang=lang, today=today, where="--where"
    )
