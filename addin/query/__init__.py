"""One safe filter language for selecting rows of a CRM table (docs/filters.md).

Campaigns (``--where``), export, reports and reminders all select rows the same way::

    from addin.query import compile_filter, FilterError

    keep = compile_filter('status == "活跃" and last_contact < today - 90d',
                          table=book.table("customers"), where="--where")
    rows = [r for r in book.table("customers").rows() if keep(r)]

The language, in one breath:

* **columns** by canonical key (``last_contact``), header in either language (``最近联系``,
  ``Last contact``) or a user column's header; names with spaces or punctuation in backticks:
  ```Last contact```, ```Next follow-up```.
* **values**: ``"text"`` or ``'text'`` (also “…” and 「…」), numbers ``1000``, ``0.5``,
  ``true``/``false`` (``是``/``否``), dates ``2026-11-01`` (a time may follow:
  ``2026-11-01 09:30``), ``today``, ``now``, durations ``90d``, ``2w``, ``6m`` (calendar
  months), ``1y``, ``48h``; ``today - 90d``, ``expected_close + 2w``.
* **tests**: ``== != < <= > >=`` (also ``=``, ``<>``), ``in [..]`` / ``not in (..)``,
  ``contains``, ``startswith``, ``endswith`` (each also with ``not``), ``is empty`` /
  ``is not empty``, a bare yes/no column (``unsubscribed``); joined by ``and``, ``or``,
  ``not`` (``且``, ``或``, ``非``; ``包含`` is contains) and parentheses.

Meaning: choice columns compare by meaning (``status == "活跃"``, ``"Active"`` and
``"active customer"`` are one value; ``<`` follows the schema's order, so
``stage >= "Proposal"``); text compares case-insensitively after NFKC (full-width = half-width);
a date-and-time cell compared with a date compares its date; list cells (e-mail, tags:
``a; b``) match when one item does. A comparison with an empty cell is false, except ``!=``,
``not in``, ``not contains`` (true) and ``is empty``; ``== ""`` means ``is empty``.

Safety: our own scanner and recursive-descent parser build a small tree that is checked
against the columns and turned into closures — no ``eval``, no Jinja, no attribute access or
calls; at most :data:`MAX_LENGTH` characters and :data:`MAX_DEPTH` levels of nesting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..schema import Lang, TableSpec, table_spec
from .columns import Columns, Field
from .compiler import Compiler, Predicate
from .errors import FilterError
from .lexer import MAX_LENGTH
from .parser import MAX_DEPTH, parse

if TYPE_CHECKING:
    from ..workbook.table import Table

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Columns",
    "Field",
    "FilterError",
    "Predicate",
    "compile_filter",
    "filter_rows",
]


def compile_filter(
    text: str | None,
    *,
    table: Table | None = None,
    spec: TableSpec | str | None = None,
    columns: Sequence[str] | None = None,
    lang: Lang | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    where: str | None = "filter",
) -> Predicate:
    """Compile ``text`` once into a fast ``predicate(row) -> bool`` over rows of one table.

    Say which table the rows come from with ``table`` (a workbook table: its own columns,
    including those users added, are the ones allowed) or ``spec`` (a :class:`TableSpec` or
    table name: every canonical column allowed), optionally narrowed to the keys a sheet has
    with ``columns`` (``Table.columns``). ``today``/``now`` default to the clock, read once
    here. ``where`` starts every error message (``--where``, ``Settings!B7``).

    An empty or missing ``text`` selects every row. Raises :class:`FilterError` (a usage
    error, exit code 2) naming the position of the problem.
    """
    if table is not None:
        resolved = table.spec
        columns = table.columns if columns is None else columns
        lang = lang or table.lang
    elif spec is not None:
        resolved = table_spec(spec) if isinstance(spec, str) else spec
    else:
        raise TypeError("compile_filter needs table= or spec=")
    if text is None or not text.strip():
        return _everything
    tree = parse(text, where)
    now = now or dt.datetime.now()
    today = today or now.date()
    compiler = Compiler(Columns(resolved, columns, lang or "en"), today, now, where)
    result = compiler.condition(tree)
    if isinstance(result, bool):
        return _everything if result else _nothing
    return result


def filter_rows(
    table: Table, text: str | None, *, where: str | None = "filter", **options: Any
) -> list[dict[str, Any]]:
    """The rows of ``table`` that ``text`` selects (copies, in sheet order)."""
    keep = compile_filter(text, table=table, where=where, **options)
    return list(table.rows(keep))


def _everything(_row: Mapping[str, Any]) -> bool:
    return True


def _nothing(_row: Mapping[str, Any]) -> bool:
    return False
