"""A CRM workbook: its tables, its language and its machine state, whatever the backend.

Backends (a file on disk, Excel through xlwings, the Office.js client) implement three hooks:
locate and read a table, read the state, and commit a set of changes in one write. Everything
users of the library touch — ``book.table()``, ``book.state``, ``save()``, ``with`` — is here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import TableNotFoundError, UsageError, WorkbookError, XlcrmError
from ..schema import LANGS, SCHEMA_VERSION, TABLES, Lang, TableSpec, table_spec
from .protection import Protection
from .report import ReportSheet
from .table import Columns, Table, TableChanges, TableLayout

# ``_xlcrm`` state key prefix marking a sheet as xlcrm's own (replaced whole by put_sheet).
OWNED_SHEET = "sheet:"


DEMO_STATE_KEY = "demo_seed"  # written by ``xlcrm demo``: the seed the workbook was built from


def init_command(where: str) -> str:
    """The command that adds the missing CRM tables to this workbook, for hints."""
    import shlex

    return f"'xlcrm init {shlex.quote(where)}'" if where != Book.where else "'xlcrm init BOOK'"


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

    @property
    def is_demo(self) -> bool:
        """Whether ``xlcrm demo`` made the workbook: its addresses are made up, so product code
        (campaigns, notices) must never mail them. A property of the state, so that sending
        code asks the workbook and never imports the demo."""
        return DEMO_STATE_KEY in self._items


class Book:
    """Base class of the workbook backends. Use :func:`addin.workbook.open_book`."""

    where: str = "workbook"
    path: Path | None = None  # the workbook's file, when it is one (the file backend)

    def __init__(self) -> None:
        self._tables: dict[str, Table] = {}
        self._state: BookState | None = None
        self._lang: Lang | None = None
        self._sheets: dict[str, ReportSheet] = {}
        self._saves = 0  # how many times this book was saved: a savepoint spans none
        # What a person should know about this workbook that is no error (a backend adds
        # them as it reads; the CLI prints them after the command's own output).
        self.warnings: list[str] = []

    @property
    def encrypted(self) -> bool:
        """Whether the file is password-protected (only a file on disk can be)."""
        return False

    # -- backend hooks -------------------------------------------------------------------------

    def _locate(
        self, spec: TableSpec
    ) -> tuple[TableLayout, Sequence[Sequence[Any]] | Columns] | None:
        """Find the table and return its layout and raw data rows, or None."""
        raise NotImplementedError

    def _read_state(self) -> dict[str, str]:
        raise NotImplementedError

    def _present_columns(self, spec: TableSpec) -> set[str] | None:
        """The keys of the columns :meth:`_locate` actually read, when not all of them."""
        return None

    def _sheet_names(self) -> list[str]:
        raise NotImplementedError

    def _commit(
        self,
        changes: list[TableChanges],
        state: dict[str, str] | None,
        sheets: Sequence[ReportSheet] = (),
    ) -> dict[str, TableLayout]:
        """Write all changes in one go — table cells, new tables and columns, the state and
        the report sheets; return the new layout of each changed table by key."""
        raise NotImplementedError

    def protection(self) -> Protection:
        """The owner's lock and signature (see :mod:`.protection`). Backends that cannot
        tell say neither: Excel itself enforces them there (live, remote)."""
        return Protection()

    def _new_layout(self, spec: TableSpec) -> TableLayout:
        """Where a table created by :meth:`add_table` will go (no data rows yet)."""
        sheet = spec.sheet_name(self.lang)
        if sheet.casefold() in {s.casefold() for s in self._sheet_names()}:
            raise XlcrmError(
                f"{self.where}: {sheet}",
                f"a sheet called {sheet!r} exists but holds no {spec.name} table",
                f"rename that sheet, or give it the {spec.name} headers, then run again",
            )
        columns = spec.columns
        return TableLayout(
            spec=spec,
            sheet=sheet,
            table_name=spec.name,
            header_row=1,
            first_col=0,
            headers=[c.header(self.lang) for c in columns],
            keys=[c.key for c in columns],
            last_row=1,
        )

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

    def discard_lang(self) -> None:
        """Forget the cached language, after ``state["lang"]`` was set (``xlcrm init``)."""
        self._lang = None

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
                    f"add the CRM tables with {init_command(self.where)}, or name your "
                    f"table or sheet {spec.name!r}",
                )
            layout, raw = found
            present = self._present_columns(spec)
            self._tables[spec.key] = Table(layout, raw, self.lang, present)
        return self._tables[spec.key]

    def add_table(self, name: str, rows: Iterable[Mapping[str, Any]] = ()) -> Table:
        """Create CRM table ``name``, which the workbook lacks, with ``rows`` as its first rows.

        It goes on a new sheet named in the workbook's language (``Stages`` / ``销售阶段``) as
        an Excel Table with headers, formats and drop-down lists, like ``xlcrm init`` makes
        them; the next :meth:`save` writes it in the same step as everything else.
        """
        spec = table_spec(name)
        if self.has_table(spec.key):
            raise XlcrmError(self.where, f"the workbook already has a {spec.name} table")
        if self.protection().structure_locked:
            raise WorkbookError(
                self.where,
                f"the workbook's structure is locked, so no sheet can be added for {spec.name}",
                "in Excel, Review › Protect Workbook (enter its password) to unlock the "
                "structure, then run again",
            )
        table = Table(self._new_layout(spec), [], self.lang)
        table.created = True
        self._tables[spec.key] = table
        table.insert_all(rows)
        return table

    def ensure_table(self, name: str, default_rows: Iterable[Mapping[str, Any]] = ()) -> Table:
        """The table ``name``; when the workbook lacks it, a new one holding ``default_rows``."""
        if self.has_table(name):
            return self.table(name)
        return self.add_table(name, default_rows)

    def put_sheet(self, sheet: ReportSheet) -> None:
        """Replace (or create) the xlcrm-owned sheet ``sheet.name`` at the next :meth:`save`.

        A sheet of that name that xlcrm did not make is never overwritten: saving fails and
        says so. Which sheets are xlcrm's is recorded in the workbook's state.
        """
        sheet.check()
        owned = self.state.get(OWNED_SHEET + sheet.name.casefold())
        existing = {s.casefold() for s in self._sheet_names()}
        if sheet.name.casefold() in existing and owned is None:
            raise XlcrmError(
                f"{self.where}: {sheet.name}",
                f"the workbook has a sheet called {sheet.name!r} that xlcrm did not make",
                "rename that sheet so that xlcrm can write its own, then run again",
            )
        self.state[OWNED_SHEET + sheet.name.casefold()] = sheet.name
        self._sheets[sheet.name.casefold()] = sheet

    def has_table(self, name: str) -> bool:
        try:
            self.table(name)
        except TableNotFoundError:
            return False
        return True

    @property
    def dirty(self) -> bool:
        return (
            any(t.dirty for t in self._tables.values())
            or bool(self._sheets)
            or (self._state is not None and self._state.dirty)
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
        layouts = self._commit(changes, state, list(self._sheets.values()))
        for key, layout in layouts.items():
            self._tables[key].saved(layout)
        if self._state is not None:
            self._state.dirty = False
        self._sheets.clear()
        self._saves += 1
        return True

    def savepoint(self) -> Savepoint:
        """Remember the book's unsaved state, to go back to it with ``rollback()``.

        Dry runs work through the same code as real ones and roll back at the end; unlike
        :meth:`discard`, that keeps the edits the caller made before the savepoint. Used as
        a context manager, it also rolls back when the block raises, so a workflow that fails
        halfway leaves the caller's book as it found it. Tables read for the first time
        after the savepoint are simply forgotten (read again on next use).
        """
        return Savepoint(self)

    def discard(self) -> None:
        """Forget unsaved changes (tables are read again on next use)."""
        self._forget(set(self._tables))
        self._tables.clear()
        self._state = None
        self._sheets.clear()

    def _forget(self, keys: set[str]) -> None:
        """Backend hook: drop what is cached of these tables, so they are read again."""

    def check_unchanged(self) -> None:
        """Raise when the workbook changed elsewhere since it was read (another run saved).

        Callers about to do something that cannot be undone — send mail — check first, so
        that two runs never both act on the same state. Backends without a way to tell
        (the live Excel workbook is the state itself) do nothing.
        """

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


def book_file(book: Book, what: str) -> Path:
    """The workbook's file, for what a workflow keeps beside it (a send journal, contracts):
    a clear error for a book that is no file (the live Excel workbook, the task pane's)."""
    if book.path is None:
        raise UsageError(
            book.where,
            f"{what} needs the workbook as a file (its journal is kept beside it)",
            "run it with the xlcrm command on the .xlsx file",
        )
    return book.path


class Savepoint:
    """A book's unsaved state at one moment (see :meth:`Book.savepoint`)."""

    def __init__(self, book: Book) -> None:
        self.book = book
        self._saves = book._saves
        self._tables = {key: table.snapshot() for key, table in book._tables.items()}
        state = book._state
        self._state = None if state is None else (state.as_dict(), state.dirty)
        self._sheets = dict(book._sheets)
        self._lang = book._lang

    def rollback(self) -> None:
        """Undo every change made to the book since the savepoint, and only those."""
        book = self.book
        if book._saves != self._saves:
            raise RuntimeError("the book was saved after the savepoint: nothing to roll back to")
        gone = {key for key in book._tables if key not in self._tables}
        book._forget(gone)
        for key in gone:
            del book._tables[key]
        for key, snapshot in self._tables.items():
            if key in book._tables:
                book._tables[key].restore(snapshot)
        if self._state is None:
            book._state = None
        else:
            items, dirty = self._state
            state = book.state
            state._items = dict(items)
            state.dirty = dirty
        book._sheets.clear()
        book._sheets.update(self._sheets)
        book._lang = self._lang

    def __enter__(self) -> Savepoint:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is not None:
            self.rollback()
