"""A CRM workbook: its tables, its language and its machine state, whatever the backend.

Backends (a file on disk, Excel through xlwings, the Office.js client) implement three hooks:
locate and read a table, read the state, and commit a set of changes in one write. Everything
users of the library touch — ``book.table()``, ``book.state``, ``save()``, ``with`` — is here.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

from ..errors import TableNotFoundError
from ..schema import LANGS, SCHEMA_VERSION, TABLES, Lang, TableSpec, table_spec
from .table import Table, TableChanges, TableLayout


class BookState(MutableMapping[str, str]):
    """Machine state kept in the very-hidden ``_xlcrm`` sheet (string keys and values).

    Sync state per mailbox, schema version, language. Saved in the same write as the rows it
    describes. Never a password or token: secrets live in the keyring or the environment.
    """

    def __init__(self, items: dict[str, str]) -> None:
        self._items = dict(items)
        self.dirty = False

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __setitem__(self, key: str, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("state values are strings (serialise with json first)")
        if self._items.get(key) != value:
            self._items[key] = value
            self.dirty = True

    def __delitem__(self, key: str) -> None:
        del self._items[key]
        self.dirty = True

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def as_dict(self) -> dict[str, str]:
        return dict(self._items)


class Book:
    """Base class of the workbook backends. Use :func:`addin.workbook.open_book`."""

    where: str = "workbook"

    def __init__(self) -> None:
        self._tables: dict[str, Table] = {}
        self._state: BookState | None = None
        self._lang: Lang | None = None

    # -- backend hooks -------------------------------------------------------------------------

    def _locate(self, spec: TableSpec) -> tuple[TableLayout, list[list[Any]]] | None:
        """Find the table and return its layout and raw data rows, or None."""
        raise NotImplementedError

    def _read_state(self) -> dict[str, str]:
        raise NotImplementedError

    def _sheet_names(self) -> list[str]:
        raise NotImplementedError

    def _commit(
        self, changes: list[TableChanges], state: dict[str, str] | None
    ) -> dict[str, TableLayout]:
        """Write all changes in one go; return the new layout of each changed table by key."""
        raise NotImplementedError

    # -- API -----------------------------------------------------------------------------------

    @property
    def state(self) -> BookState:
        if self._state is None:
            self._state = BookState(self._read_state())
        return self._state

    @property
    def lang(self) -> Lang:
        """The workbook's language: from its state, else guessed from its sheet names."""
        if self._lang is None:
            stored = self.state.get("lang")
            if stored in LANGS:
                self._lang = stored  # type: ignore[assignment]
            else:
                zh = {spec.zh for spec in TABLES.values()}
                self._lang = "zh" if zh & set(self._sheet_names()) else "en"
        return self._lang

    def table(self, name: str) -> Table:
        """The CRM table called ``name`` (``"customers"``, ``"Deals"``, ``"客户"``…)."""
        try:
            spec = table_spec(name)
        except KeyError:
            known = ", ".join(TABLES)
            raise TableNotFoundError(
                self.where, f"there is no CRM table called {name!r}", f"use one of: {known}"
            ) from None
        if spec.key not in self._tables:
            found = self._locate(spec)
            if found is None:
                raise TableNotFoundError(
                    self.where,
                    f"no {spec.name} table (looked for an Excel Table named {spec.name!r}, "
                    f"a sheet named {spec.name!r} or {spec.zh!r}, and a sheet with its headers)",
                    "create it with 'xlcrm init', or name your table/sheet " + repr(spec.name),
                )
            layout, raw = found
            self._tables[spec.key] = Table(layout, raw, self.lang)
        return self._tables[spec.key]

    def has_table(self, name: str) -> bool:
        try:
            self.table(name)
        except TableNotFoundError:
            return False
        return True

    @property
    def dirty(self) -> bool:
        return any(t.dirty for t in self._tables.values()) or (
            self._state is not None and self._state.dirty
        )

    def save(self) -> bool:
        """Write every change in one atomic step. Returns False when there was nothing to do."""
        if not self.dirty:
            return False
        changes = [t.changes() for t in self._tables.values() if t.dirty]
        state = None
        if self._state is not None and self._state.dirty:
            items = self._state.as_dict()
            items.setdefault("schema_version", str(SCHEMA_VERSION))
            state = items
        layouts = self._commit(changes, state)
        for key, layout in layouts.items():
            self._tables[key].saved(layout)
        if self._state is not None:
            self._state.dirty = False
        return True

    def discard(self) -> None:
        """Forget unsaved changes (tables are read again on next use)."""
        self._tables.clear()
        self._state = None

    def close(self) -> None:
        """Release resources; unsaved changes are dropped."""

    def __enter__(self) -> Book:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        try:
            if exc_type is None:
                self.save()
        finally:
            self.close()
