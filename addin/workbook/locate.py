"""Which Excel Table or sheet holds a CRM table — one rule for every backend.

A workbook file, the live Excel workbook and the Office.js client's inventory all answer the
same question the same way, so a workbook that works from the command line works from the
ribbon. In order:

1. an Excel Table named like the CRM table (``Customers``, ``customers``);
2. a sheet named like it in either language (``Customers``, ``客户``): its best-matching Excel
   Table, else its first filled row as headers — but a non-core table's sheet only when the
   headers include its key (a sheet of notes called "Stages" is not the Stages table);
3. any Excel Table whose headers are the table's headers (at least three, with the key and the
   table's evidence, see :data:`EVIDENCE`), unless it is, by its name, another CRM table (Deals
   has a stage and a probability column);
4. a plain sheet whose first filled row is the table's headers, under the same conditions.

Headers alone are weak evidence: a budget sheet headed Id/Name/Value matches three Deals
headers (id, title, amount) but is no list of deals. So a user's sheet is taken by its headers
only when it also has the columns that make the table what it is — a deal belongs to a
customer and has a stage or an amount. A sheet that has the table's own references but not
the rest (``id, customer_id, title``), or two sheets that fit equally well, are ambiguous:
xlcrm says so, names them, and says how to mark the right one, rather than guess.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..schema import CORE_TABLES, STATE_SHEET, TABLES, TableSpec, match_header, normalize_label

if TYPE_CHECKING:
    from .table import TableLayout

MIN_HEADER_MATCHES = 3

EVIDENCE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # table key: (columns it must have, columns of which it must have one), beyond its key
    "customers": ((), ("email", "phone")),
    "deals": (("customer_id",), ("stage", "amount", "probability", "expected_close")),
    "interactions": (("customer_id",), ("kind", "at", "message_id", "summary")),
    "tickets": (("customer_id",), ("priority", "type", "opened", "due", "description")),
    "products": ((), ("unit_price", "unit")),
    "sends": ((), ("status", "sent_at", "message_id")),
    "settings": ((), ("value",)),
    "stages": ((), ("probability", "idle_days", "order")),
    "rules": ((), ("action",)),
    "sla": ((), ("respond_hours", "resolve_hours")),
    "ticket_rules": ((), ("keywords",)),
    "duplicates": ((), ("keep_id", "merge_id")),
}
"""What a user's sheet must have, besides the table's key, to be taken as a CRM table by its
headers. A sheet with every "must" column but none of the "one of" columns is ambiguous."""


class TableEntry(Protocol):
    """What the locator needs to know of an Excel Table (ListObject)."""

    @property
    def name(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def sheet(self) -> str: ...
    @property
    def columns(self) -> list[str]: ...


T = TypeVar("T", bound=TableEntry)


def header_run(row: Sequence[Any]) -> tuple[int, list[str]] | None:
    """The headers of a plain sheet: the first filled cell of its first filled row and the
    filled cells right of it, up to the first blank. None for a blank row."""
    c1 = next((c for c, v in enumerate(row) if v not in ("", None)), None)
    if c1 is None:
        return None
    c2 = c1
    while c2 + 1 < len(row) and row[c2 + 1] not in ("", None):
        c2 += 1
    return c1, [str(v) for v in row[c1 : c2 + 1]]


def locate_table(
    spec: TableSpec,
    tables: Sequence[T],
    sheets: Sequence[str],
    headers_of: Callable[[str], list[str]],
) -> T | str | None:
    """The Excel Table (an element of ``tables``) or the plain sheet (its name) holding
    ``spec``, or None. ``headers_of(sheet)`` gives a plain sheet's header run (see
    :func:`header_run`); it is called only for sheets without Excel Tables."""
    wanted = {normalize_label(n) for n in (spec.name, spec.key)}
    for table in tables:
        if normalize_label(table.display_name) in wanted or normalize_label(table.name) in wanted:
            return table
    names = {normalize_label(n) for n in (spec.name, spec.zh, spec.key, *spec.aliases)}
    for sheet in sheets:
        if normalize_label(sheet) not in names:
            continue
        on_sheet = [t for t in tables if t.sheet == sheet]
        if on_sheet:
            return max(on_sheet, key=lambda t: score(spec, t.columns))
        if spec.key in CORE_TABLES or has_pk(spec, headers_of(sheet)):
            return sheet
    candidates: list[tuple[int, str, T | str]] = []
    for t in tables:
        if not named_as_other(spec, t.display_name, t.sheet):
            points = _evidence(spec, t.columns, f"{t.sheet} (Excel table {t.display_name})")
            if points:
                candidates.append((points, f"the Excel table {t.display_name!r}", t))
    if not candidates:
        with_tables = {t.sheet for t in tables}
        for sheet in sheets:
            if sheet == STATE_SHEET or sheet in with_tables or named_as_other(spec, sheet):
                continue
            points = _evidence(spec, headers_of(sheet), sheet)
            if points:
                candidates.append((points, f"the sheet {sheet!r}", sheet))
    if not candidates:
        return None
    best = max(points for points, _, _ in candidates)
    top = [(what, found) for points, what, found in candidates if points == best]
    if len(top) > 1:
        from ..errors import AmbiguousTableError

        raise AmbiguousTableError(
            " and ".join(what for what, _ in top),
            f"each of these could be the {spec.name} table (same matching headers)",
            f"rename the sheet that holds it to {spec.name!r} (or name its Excel table "
            f"{spec.name!r}), then run again",
        )
    return top[0][1]


def _evident(spec: TableSpec, headers: Sequence[str]) -> bool:
    """Whether ``headers`` are, beyond doubt, those of ``spec``'s table."""
    keys = {match_header(spec, h) for h in headers}
    must, one_of = EVIDENCE.get(spec.key, ((), ()))
    return (
        score(spec, headers) >= MIN_HEADER_MATCHES
        and has_pk(spec, headers)
        and all(k in keys for k in must)
        and (not one_of or any(k in keys for k in one_of))
    )


def _evidence(spec: TableSpec, headers: Sequence[str], where: str) -> int:
    """The header score of a user's sheet when it is evidently ``spec``'s table, else 0.

    Raises AmbiguousTableError for a sheet that has the table's key and its "must" columns but
    none of the columns that would settle it (see :data:`EVIDENCE`)."""
    points = score(spec, headers)
    if points < MIN_HEADER_MATCHES or not has_pk(spec, headers):
        return 0
    must, one_of = EVIDENCE.get(spec.key, ((), ()))
    keys = {match_header(spec, h) for h in headers}
    if not all(k in keys for k in must):
        return 0
    if one_of and not any(k in keys for k in one_of):
        if not must or any(_evident(other, headers) for other in TABLES.values()):
            return 0  # e.g. a Deals sheet (customer_id, stage) is no doubtful Interactions
        from ..errors import AmbiguousTableError

        names = " or ".join(spec.by_key[k].header("en") for k in one_of)
        raise AmbiguousTableError(
            where,
            f"this sheet has some of the {spec.name} table's columns but no {names}, so "
            f"xlcrm cannot tell whether it is the {spec.name} table",
            f"if it is, rename the sheet to {spec.name!r} (or name its Excel table "
            f"{spec.name!r}); if not, give it a sheet name and headers of its own",
        )
    return points


def plain_range(
    spec: TableSpec, sheet: str, grid: list[list[Any]]
) -> tuple[TableLayout, list[list[Any]]]:
    """The table on a plain sheet (no Excel Table): headers from its first filled row, data
    down to the last row with a value under them. ``grid`` is the sheet's values from A1."""
    from ..errors import WorkbookError
    from .table import TableLayout

    for r, row in enumerate(grid):
        run = header_run(row)
        if run is None:
            continue
        c1, headers = run
        c2 = c1 + len(headers)
        data = grid[r + 1 :]
        while data and all(v in ("", None) for v in data[-1][c1:c2]):
            data.pop()
        keys = column_keys(spec, headers)
        layout = TableLayout(spec, sheet, None, r + 1, c1, headers, keys, r + 1 + len(data))
        return layout, data
    raise WorkbookError(
        f"{sheet}!A1", f"the {sheet} sheet is empty", "put the column headers in the first row"
    )


def column_keys(spec: TableSpec, headers: Sequence[str]) -> list[str]:
    """Canonical key per header; user columns keep their header; a second column mapping to
    the same key is treated as a user column so nothing is written to it by accident."""
    seen: set[str] = set()
    keys = []
    for header in headers:
        key = match_header(spec, header)
        if key is None or key in seen:
            keys.append(header)
        else:
            seen.add(key)
            keys.append(key)
    return keys


def score(spec: TableSpec, headers: Sequence[str]) -> int:
    return len({match_header(spec, h) for h in headers} - {None})


def has_pk(spec: TableSpec, headers: Sequence[str]) -> bool:
    keys = {match_header(spec, h) for h in headers}
    return all(k in keys for k in spec.pk)


def named_as_other(spec: TableSpec, *names: str) -> bool:
    """Whether a table or sheet name is the name of a CRM table other than ``spec``."""
    for other in TABLES.values():
        if other.key == spec.key:
            continue
        known = {normalize_label(n) for n in (other.name, other.zh, other.key)}
        if any(normalize_label(n) in known for n in names):
            return True
    return False
