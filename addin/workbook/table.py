"""The Table API: one CRM table in a workbook, read once, changed in memory, written in bulk.

Reads like sqlite-utils::

    with open_book("crm.xlsx") as book:
        customers = book.table("customers")
        customers.upsert_all(rows, pk="email")      # -> UpsertCounts(inserted=3, updated=1, ...)
        customers.update("C0042", {"tier": "A"})

Rows are dicts keyed by canonical column keys (``schema.py``); columns a user added to the sheet
appear under their header text and are written back untouched unless a caller changes them.
Every backend (file, live Excel, Office.js) supplies a :class:`TableLayout` plus raw cell values
and receives a :class:`TableChanges` at save time; nothing here knows about files or Excel.
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import DuplicateKeyError, NotFoundError, ValueProblem, XlcrmError
from ..schema import Column, Lang, TableSpec
from .cells import MAX_COLUMNS, MAX_ROWS, cell_ref
from .values import cell_value, coerce, reader_for

Row = dict[str, Any]
Key = Any  # a single value, or a tuple for composite keys (Sends: campaign + customer_id)


@dataclass
class TableLayout:
    """Where a table sits in its sheet and how its columns map to canonical keys."""

    spec: TableSpec
    sheet: str
    table_name: str | None  # the Excel Table (ListObject) name; None for a plain header range
    header_row: int  # 1-based row number of the header row
    first_col: int  # 0-based index of the table's first column
    headers: list[str]  # header text as in the sheet
    keys: list[str]  # canonical key per column, or the header text for a user column
    last_row: int  # 1-based row number of the last row inside the table's range

    def column_index(self, key: str) -> int | None:
        try:
            return self.keys.index(key)
        except ValueError:
            return None

    def where(self, slot: int, key: str | None = None) -> str:
        """``Customers!D14`` for a data slot (0-based) and key; ``Customers!14`` without key."""
        row = self.header_row + 1 + slot
        if key is None or (j := self.column_index(key)) is None:
            return f"{self.sheet}!{row}"
        return f"{self.sheet}!{cell_ref(row, self.first_col + j)}"


@dataclass
class TableChanges:
    """What a save must write for one table: changed cells by sheet row, and the new extent."""

    layout: TableLayout
    cells: dict[int, dict[int, Any]] = field(default_factory=dict)  # row -> {col index: value}
    new_rows: set[int] = field(default_factory=set)  # rows that were blank: styled like above
    last_row: int = 0  # new last row of the table range (>= layout.last_row)
    new_columns: list[int] = field(default_factory=list)  # column indexes added by add_column
    created: bool = False  # the whole table is new: the backend creates its sheet

    @property
    def grows(self) -> bool:
        return self.last_row > self.layout.last_row


@dataclass(frozen=True)
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of rows.

    Reading a large table allocates millions of lists, tuples and dicts and no reference
    cycles; with the collector on, its repeated full passes over that heap cost as much as the
    read itself (bench/README.md). Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def fold_key(value: Any) -> Any:
    """How key values compare: text case-insensitively, without surrounding spaces."""
    return value.strip().casefold() if isinstance(value, str) else value


class Columns:
    """Data rows given column by column, each column starting at the sheet's column A, like
    ``raw_rows`` transposed. The remote backend receives columns of cells; handing them over
    as they are spares a table of 300,000 rows two transposes, each a tuple per row."""

    def __init__(self, columns: Sequence[Sequence[Any]], length: int) -> None:
        self.columns = columns
        self.length = length

    def __len__(self) -> int:
        return self.length


class Table:
    """One CRM table. Obtain it from ``book.table(name)``; do not construct it directly."""

    def __init__(
        self,
        layout: TableLayout,
        raw_rows: Sequence[Sequence[Any]] | Columns,
        lang: Lang,
        present: Collection[str] | None = None,
    ):
        """``raw_rows`` are the data rows as the sheet has them, starting at column A (the
        table's columns are taken from ``layout.first_col`` on); cells may be ``""``.

        ``present`` names the columns a backend actually read (the Office.js client reads only
        those a command needs); the others are left out of each row's dict, where ``get``
        finds them empty. 300,000 rows of a 16-column table whose command reads 5 columns
        then cost a third of the memory (bench/README.md, "The service's memory")."""
        self.layout = layout
        self.spec = layout.spec
        self.lang = lang
        self._columns: list[Column | None] = [self.spec.by_key.get(k) for k in layout.keys]
        self._positions = {key: j for j, key in reversed(list(enumerate(layout.keys)))}
        width = len(layout.keys)
        # Column-wise typing: one transpose, one comprehension per column, one zip back —
        # per-cell Python work stays minimal on sheets with millions of cells (bench/).
        first = layout.first_col
        self._kept = [j for j, key in enumerate(layout.keys) if present is None or key in present]
        with paused_gc():
            self._rows = self._typed_rows(raw_rows, first, width)
        # The range may extend past the last cell with data (blank rows kept by Excel).
        self._rows.extend([None] * (layout.last_row - layout.header_row - len(self._rows)))
        self._changed: dict[int, set[str]] = {}
        self._new_slots: set[int] = set()
        self._indexes: dict[tuple[str, ...], dict[Key, int]] = {}
        self._max_id: int | None = None
        self._new_columns: list[int] = []
        self.created = False  # set by Book.add_table until the first save
        # Rows a backend knows are filled although the columns it read are blank there (the
        # Office.js client reads only the columns a command needs): never taken for new rows.
        self.reserved_rows = 0

    def _typed_rows(
        self, raw_rows: Sequence[Sequence[Any]] | Columns, first: int, width: int
    ) -> list[Row | None]:
        columns: list[Sequence[Any]]
        if isinstance(raw_rows, Columns):
            columns = list(raw_rows.columns[first : first + width])
        else:
            transposed: list[Sequence[Any]] = list(zip(*raw_rows))
            columns = transposed[first : first + width]
        if len(columns) < width:  # the table reaches past the sheet's last used column
            columns += [("",) * len(raw_rows)] * (width - len(columns))
        kept = self._kept
        typed = [reader_for(self._columns[j])(columns[j]) for j in kept]
        keys = [self.layout.keys[j] for j in kept]
        return [
            dict(zip(keys, values)) if values.count(None) != len(kept) else None
            for values in zip(*typed)
        ]

    # -- reading -------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def columns(self) -> list[str]:
        """Keys of the table's columns in sheet order (user columns under their header)."""
        return list(self.layout.keys)

    def __len__(self) -> int:
        return sum(1 for r in self._rows if r is not None)

    def __iter__(self) -> Iterator[Row]:
        return self.rows()

    def rows(self, where: Callable[[Row], bool] | None = None) -> Iterator[Row]:
        """Every row as a new dict (changing it does not change the table)."""
        if where is None:
            with paused_gc():  # copying a whole large table: see paused_gc
                copies = [dict(row) for row in self._rows if row is not None]
            return iter(copies)
        return (dict(row) for row in self._rows if row is not None and where(row))

    def get(self, pk: Key) -> Row:
        slot = self._index(self.spec.pk).get(self._key_of(pk))
        if slot is None:
            raise NotFoundError(f"{self.layout.sheet}", f"no row with {self._pk_text(pk)}")
        return dict(self._rows[slot])  # type: ignore[arg-type]

    def find(self, **match: Any) -> Row | None:
        """The first row whose columns equal the given values (text compared case-insensitively)."""
        keys = tuple(match)
        slot = self._index(keys).get(tuple(fold_key(match[k]) for k in keys))
        return None if slot is None else dict(self._rows[slot])  # type: ignore[arg-type]

    def where_of(self, pk: Key, key: str | None = None) -> str:
        """The cell (``Deals!D14``) that holds ``key`` of the row ``pk``, for messages."""
        slot = self._index(self.spec.pk).get(self._key_of(pk))
        return self.layout.sheet if slot is None else self.layout.where(slot, key)

    # -- ids -----------------------------------------------------------------------------------

    def next_id(self) -> str:
        """The next free id (``C0001``…): one more than the highest id with this prefix."""
        prefix = self.spec.id_prefix
        if prefix is None:
            raise XlcrmError(self.name, "this table has no generated ids")
        if self._max_id is None:
            pattern = re.compile(re.escape(prefix) + r"(\d+)$", re.IGNORECASE)
            self._max_id = 0
            for row in self._rows:
                value = row.get("id") if row is not None else None
                if isinstance(value, str) and (m := pattern.match(value.strip())):
                    self._max_id = max(self._max_id, int(m[1]))
        return f"{prefix}{self._max_id + 1:0{self.spec.id_digits}d}"

    def holds_id(self, value: str) -> None:
        """The table holds ``value`` in a row this backend did not read (the Office.js client
        sends only the rows a row filter keeps, and the highest id): new ids go above it."""
        self.next_id()  # the highest id of the rows that were read
        self._claim_id(value)

    def _claim_id(self, value: Any) -> None:
        prefix = self.spec.id_prefix
        if prefix and isinstance(value, str) and self._max_id is not None:
            m = re.fullmatch(re.escape(prefix) + r"(\d+)", value.strip(), re.IGNORECASE)
            if m:
                self._max_id = max(self._max_id, int(m[1]))

    # -- writing -------------------------------------------------------------------------------

    def insert(self, row: Mapping[str, Any]) -> Key:
        return self.insert_all([row])[0]

    def insert_all(self, rows: Iterable[Mapping[str, Any]]) -> list[Key]:
        """Append rows; a missing ``id`` is generated. Returns the new rows' keys.

        All rows are checked before any is added, so a bad row leaves the table unchanged.
        """
        first = self._next_free_slot()
        try:
            prepared = [self._prepare(row, first + n) for n, row in enumerate(rows)]
            index = self._indexes.get(self.spec.pk) or self._existing(
                {self._key_of_row(row) for row in prepared}
            )
            seen: set[Key] = set()
            for n, row in enumerate(prepared):
                key = self._key_of_row(row)
                if key in index or key in seen:
                    raise DuplicateKeyError(
                        self.layout.where(first + n),
                        f"{self._pk_text(key)} already exists in {self.name}",
                        "use upsert_all to update existing rows",
                    )
                seen.add(key)
        except XlcrmError:
            self._max_id = None  # ids handed to rejected rows are free again
            raise
        return [self._append(row) for row in prepared]

    def upsert_all(
        self, rows: Iterable[Mapping[str, Any]], pk: str | Sequence[str] | None = None
    ) -> UpsertCounts:
        """Update rows that match on ``pk`` (default: the table's key), insert the others.

        Only the keys present in an incoming row are changed; other cells keep their values.
        Matching on text is case-insensitive, so ``pk="email"`` finds ``Li@Example.cn``.
        """
        keys = (pk,) if isinstance(pk, str) else tuple(pk or self.spec.pk)
        index = self._index(keys)
        inserted = updated = unchanged = 0
        plan: list[tuple[int | None, Row]] = []
        next_slot = self._next_free_slot()
        pending: dict[Key, tuple[int, Row]] = {}  # new rows of this batch: slot and row
        try:
            for row in rows:
                match = tuple(fold_key(row.get(k)) for k in keys)
                has_key = all(m not in (None, "") for m in match)
                slot = index.get(match) if has_key else None
                if slot is not None:
                    changes = self._coerce_changes(slot, row)
                    for k in keys:  # matched case-insensitively: keep the stored spelling
                        changes.pop(k, None)
                    plan.append((slot, changes))
                elif has_key and match in pending:
                    # The same new key twice in one batch: the later row updates the first.
                    slot, first = pending[match]
                    first.update(self._coerce_changes(slot, row))
                else:
                    prepared = self._prepare(row, next_slot)
                    next_slot += 1
                    plan.append((None, prepared))
                    if has_key:
                        pending[match] = (next_slot - 1, prepared)
        except XlcrmError:
            self._max_id = None
            raise
        # Everything checked: now apply.
        for slot, row in plan:
            if slot is None:
                self._append(row)
                inserted += 1
            elif self._apply(slot, row):
                updated += 1
            else:
                unchanged += 1
        return UpsertCounts(inserted, updated, unchanged)

    def update(self, pk: Key, changes: Mapping[str, Any]) -> bool:
        """Change some columns of one row; returns whether anything actually changed."""
        slot = self._index(self.spec.pk).get(self._key_of(pk))
        if slot is None:
            raise NotFoundError(self.layout.sheet, f"no row with {self._pk_text(pk)}")
        return self._apply(slot, self._coerce_changes(slot, changes))

    # -- internals -----------------------------------------------------------------------------

    def add_column(self, key: str) -> None:
        """Give the table a column of its spec that it lacks, at its right end.

        For workbooks made before a column existed (Customers' ``merged_into``): the header is
        written in the workbook's language at the next save, and the Excel Table grows one
        column to the right. Nothing happens when the column is already there.
        """
        if key in self._positions:
            return
        column = self.spec.by_key.get(key)
        if column is None:
            raise XlcrmError(
                self.layout.sheet, f"the {self.name} table has no standard column {key!r}"
            )
        if self.layout.first_col + len(self.layout.keys) + 1 > MAX_COLUMNS:
            raise XlcrmError(self.layout.sheet, "the table is as wide as Excel allows")
        self.layout.keys.append(key)
        self.layout.headers.append(column.header(self.lang))
        self._columns.append(column)
        self._positions[key] = len(self.layout.keys) - 1
        self._rows = [None if row is None else {**row, key: None} for row in self._rows]
        self._new_columns.append(len(self.layout.keys) - 1)

    def _pk_text(self, key: Key) -> str:
        names = self.spec.pk
        values = key if isinstance(key, tuple) else (key,)
        return ", ".join(f"{n} {v!r}" for n, v in zip(names, values))

    def _key_of(self, pk: Key) -> tuple[Any, ...]:
        values = pk if isinstance(pk, tuple) else (pk,)
        return tuple(fold_key(v) for v in values)

    def _existing(self, keys: set[Key]) -> set[Key]:
        """Which of ``keys`` rows already have, found without building the key index: a
        Sync mail appending 200 interactions to 300,000 would otherwise keep an index of
        all of them (45 MB) that nothing else uses."""
        pk = self.spec.pk
        for key in pk:
            self._require_column(key, None)
        return {
            key
            for key in (
                tuple(fold_key(row.get(k)) for k in pk) for row in self._rows if row is not None
            )
            if key in keys
        }

    def _key_of_row(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(fold_key(row.get(k)) for k in self.spec.pk)

    def _index(self, keys: tuple[str, ...]) -> dict[Key, int]:
        index = self._indexes.get(keys)
        if index is None:
            for key in keys:
                self._require_column(key, None)
            index = {}
            for slot, row in enumerate(self._rows):
                if row is not None:
                    index.setdefault(tuple(fold_key(row.get(k)) for k in keys), slot)
            self._indexes[keys] = index
        return index

    def _require_column(self, key: str, slot: int | None) -> int:
        j = self.layout.column_index(key)
        if j is None:
            where = self.layout.sheet if slot is None else self.layout.where(slot)
            col = self.spec.by_key.get(key)
            header = col.header(self.lang) if col else key
            raise ValueProblem(
                where,
                f"the {self.name} table has no column {header!r}",
                f"add a column headed {header!r} to the table, then run again",
            )
        return j

    def _next_free_slot(self) -> int:
        slot = len(self._rows)
        while slot > self.reserved_rows and self._rows[slot - 1] is None:
            slot -= 1
        return slot

    def _prepare(self, row: Mapping[str, Any], slot: int) -> Row:
        """A complete new row: every key coerced, id generated when the table has one."""
        if self.layout.header_row + 1 + slot > MAX_ROWS:
            raise XlcrmError(
                f"{self.layout.sheet}!{self.layout.header_row + 1 + slot}",
                f"the {self.name} table would pass Excel's limit of {MAX_ROWS:,} rows",
                "archive old rows into another workbook first",
            )
        out = self._coerce_changes(slot, row)
        if self.spec.id_prefix and "id" in self.layout.keys and not out.get("id"):
            out["id"] = self.next_id()
            self._claim_id(out["id"])
        else:
            for key in self.spec.pk:
                if out.get(key) in (None, ""):
                    raise ValueProblem(
                        self.layout.where(slot, key),
                        f"{key} is empty",
                        f"every {self.name} row needs a {key}",
                    )
        return out

    def _coerce_changes(self, slot: int, changes: Mapping[str, Any]) -> Row:
        out: Row = {}
        positions = self._positions
        for key, value in changes.items():
            j = positions.get(key)
            if j is None:
                j = self._require_column(key, slot)
            try:
                out[key] = coerce(self._columns[j], value, where="")
            except ValueProblem as exc:
                # The cell's address is worked out only when it is needed for a message.
                exc.where = self.layout.where(slot, key)
                raise
        return out

    def _append(self, row: Row) -> Key:
        slot = self._next_free_slot()
        full = dict.fromkeys(self.layout.keys)
        full.update(row)
        if slot < len(self._rows):
            self._rows[slot] = full
        else:
            self._rows.append(full)
        self._new_slots.add(slot)
        self._changed.setdefault(slot, set()).update(k for k, v in row.items())
        self._claim_id(full.get("id"))
        for keys, index in self._indexes.items():
            index.setdefault(tuple(fold_key(full.get(k)) for k in keys), slot)
        key = tuple(full.get(k) for k in self.spec.pk)
        return key[0] if len(key) == 1 else key

    def _apply(self, slot: int, changes: Row) -> bool:
        current = self._rows[slot]
        assert current is not None
        changed = {k for k, v in changes.items() if current.get(k) != v}
        if not changed:
            return False
        for keys, index in self._indexes.items():
            if changed & set(keys):
                old = tuple(fold_key(current.get(k)) for k in keys)
                new = tuple(fold_key(changes.get(k, current.get(k))) for k in keys)
                if keys == self.spec.pk and new in index and index[new] != slot:
                    raise DuplicateKeyError(
                        self.layout.where(slot, keys[0]), f"{self._pk_text(new)} already exists"
                    )
                if index.get(old) == slot:
                    del index[old]
                index.setdefault(new, slot)
        # A new dict, never the stored one changed in place: a savepoint's snapshot shares
        # the row dicts (see :meth:`snapshot`).
        self._rows[slot] = {**current, **{key: changes[key] for key in changed}}
        self._changed.setdefault(slot, set()).update(changed)
        return True

    # -- for backends --------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        return bool(self._changed or self._new_columns or self.created)

    def changes(self) -> TableChanges:
        """The cells to write, by sheet row and column index, in the workbook's language."""
        layout = self.layout
        out = TableChanges(
            layout, last_row=max(layout.last_row, layout.header_row + len(self._rows))
        )
        if layout.first_col + len(layout.keys) > MAX_COLUMNS:
            raise XlcrmError(layout.sheet, "the table is wider than Excel allows")
        for slot, keys in sorted(self._changed.items()):
            row = self._rows[slot]
            assert row is not None
            cells = {}
            for key in keys:
                j = self._positions[key]
                cells[j] = cell_value(self._columns[j], row.get(key), self.lang)
            out.cells[layout.header_row + 1 + slot] = cells
        out.new_rows = {layout.header_row + 1 + slot for slot in self._new_slots}
        out.new_columns = list(self._new_columns)
        out.created = self.created
        return out

    def snapshot(self) -> dict[str, Any]:
        """The table's unsaved state by value, for :meth:`Book.savepoint` to go back to.

        The row dicts are shared, not copied: a table never changes a stored row in place
        (an update or a new column stores new dicts), so the snapshot of 300,000 rows costs a
        list, not 300,000 copies (84 MB at the start of a big Sync mail). Indexes are not
        kept: they are rebuilt on first use after :meth:`restore`.
        """
        layout = self.layout
        return {
            "layout": replace(layout, headers=list(layout.headers), keys=list(layout.keys)),
            "_columns": list(self._columns),
            "_positions": dict(self._positions),
            "_rows": list(self._rows),
            "_changed": {slot: set(keys) for slot, keys in self._changed.items()},
            "_new_slots": set(self._new_slots),
            "_max_id": self._max_id,
            "_new_columns": list(self._new_columns),
            "created": self.created,
            "reserved_rows": self.reserved_rows,
        }

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Go back to a :meth:`snapshot` of this table (in place: references stay valid)."""
        self.__dict__.update(snapshot)
        self._rows = list(snapshot["_rows"])  # the snapshot stays as it was taken
        self._indexes = {}

    def saved(self, layout: TableLayout) -> None:
        """Called by the backend after a successful save: the new layout is the baseline."""
        self.layout = layout
        self._changed.clear()
        self._new_slots.clear()
        self._new_columns.clear()
        self.created = False
