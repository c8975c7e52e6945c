"""The **file** backend: a closed .xlsx/.xlsm on disk.

Reading: cell values come from python-calamine (Rust, one bulk read per sheet, only the sheets
asked for); the table definitions, relationships and styles come from their small XML parts.

Writing: see ``xlsx/`` — changed table sheets are patched in place, every other part of the
package is copied as stored, and the result replaces the file atomically (``safety.py``).
"""

from __future__ import annotations

import io
import os
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import Any, BinaryIO

import python_calamine as calamine

from ..errors import UsageError, WorkbookError, XlcrmError
from ..schema import STATE_SHEET, TableSpec
from . import bounds, crypto, safety
from .book import Book
from .cells import parse_range
from .locate import column_keys, header_run, locate_table, plain_range
from .newsheets import (
    CONTENT_TYPES,
    PackageEdit,
    add_styles,
    check_column_free,
    create_table,
    widened_table,
    write_report,
)
from .protection import Protection, package_protection
from .report import ReportSheet
from .table import TableChanges, TableLayout, paused_gc
from .xlsx.package import Buffer, Package, PackageError
from .xlsx.parts import SheetInfo, TableInfo, read_workbook_info, rels_path
from .xlsx.patch import add_sheet, request_full_calc, state_sheet_xml
from .xlsx.sheet import CellWriter, CellWrites, SheetPatcher, SheetPatchError
from .xlsx.styles import Styles

DEFAULT_BACKUPS = 3


class FileBook(Book):
    """A workbook file. Open with :func:`addin.workbook.open_book`."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        password: str | None = None,
        backups: int | None = None,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.where = str(self.path)
        self.backups = _backup_count() if backups is None else backups
        if not self.path.is_file():
            raise WorkbookError(
                str(self.path),
                "no such workbook",
                "check the path, or create one with 'xlcrm init'",
            )
        # A workbook opened through a symlink is saved to the file the link points at;
        # replacing the link itself would leave the real workbook behind, unchanged.
        self._target = self.path.resolve()
        self._snapshot = safety.Snapshot.of(self._target)
        self._password: str | None = None
        self._plain: bytes | None = None
        if crypto.is_encrypted(self._target):
            self._password = password or crypto.book_password(self._target)
            self._plain = crypto.decrypt(self._target, self._password)
        try:
            with self._package() as pkg:
                bounds.check_zip(pkg.entries, self.where)
                self._info = read_workbook_info(pkg)
        except PackageError as exc:
            raise WorkbookError(self.where, exc.message, exc.hint) from None
        self._calamine: Any = None
        self._checked: set[str] = set()  # parts read within bounds since the last save
        self.warnings: list[str] = []

    @property
    def encrypted(self) -> bool:
        return self._password is not None

    def protection(self) -> Protection:
        with self._package() as pkg:
            return package_protection(pkg, self._info.part)

    def _package(self) -> Package:
        return Package(self._plain if self._plain is not None else str(self._target))

    def _check_bounds(self, sheet: str) -> None:
        """Before calamine reads ``sheet``: the parts it reads unpack within their declared
        sizes with matching checksums, and the sheet's real extent is not absurd."""
        info = self._info
        found = info.sheet(sheet)
        parts = [info.part, info.rels_part, *info.shared_parts]
        if found is not None:
            parts.append(found.part)
        todo = [p for p in parts if p not in self._checked]
        if not todo:
            return
        with self._package() as pkg:
            for part in todo:
                if part not in pkg:
                    continue
                chunks = bounds.inflate(pkg.fp, pkg.info(part), self.where)
                if found is not None and part == found.part:
                    rows, cols = bounds.sheet_extent(chunks)
                    bounds.check_extent(rows, cols, self.where, found.name)
                else:
                    for _ in chunks:
                        pass
                self._checked.add(part)

    def _values(self, sheet: str) -> list[list[Any]]:
        self._check_bounds(sheet)
        if self._calamine is None:
            source: Any = io.BytesIO(self._plain) if self._plain is not None else None
            if self._info.old_sheets:
                source = io.BytesIO(self._without_old_sheets())
            try:
                self._calamine = (
                    calamine.CalamineWorkbook.from_filelike(source)
                    if source is not None
                    else calamine.CalamineWorkbook.from_path(str(self._target))
                )
            except Exception as exc:  # calamine raises its own, unexported error types
                raise WorkbookError(
                    self.where,
                    f"cannot read the workbook ({exc})",
                    "open it in Excel or LibreOffice and save it again as an Excel Workbook "
                    "(.xlsx); if that does not help, the file is damaged: use a backup",
                ) from None
        with paused_gc():
            try:
                values: list[list[Any]] = self._calamine.get_sheet_by_name(sheet).to_python(
                    skip_empty_area=False
                )
                return values
            except Exception as exc:  # calamine's own error types again
                raise WorkbookError(
                    self.where,
                    f"cannot read sheet {sheet!r} ({exc})",
                    "open the workbook in Excel, check that sheet and save it again",
                ) from None

    def _without_old_sheets(self) -> bytes:
        """The package as calamine may see it: without the Excel 4.0 macro sheets and
        Excel 5.0 dialog sheets it cannot read ("Unrecognized sheet type"). They are never
        CRM tables, and the saved file keeps them as they are."""
        info = self._info
        with self._package() as pkg:
            workbook = pkg.read(info.part)
            for _, _, rid in info.old_sheets:
                workbook = re.sub(
                    rb'<(?:\w+:)?sheet\b[^>]*?:id="' + re.escape(rid.encode()) + rb'"[^>]*/>',
                    b"",
                    workbook,
                )
            out = io.BytesIO()
            pkg.write(out, {info.part: workbook})
        return out.getvalue()

    def sheet_names(self) -> list[str]:
        """The worksheets, in tab order (chart, macro and dialog sheets left out)."""
        return self._sheet_names()

    def sheet_values(self, sheet: str) -> list[list[Any]]:
        """A worksheet's values as a grid from A1, read within the bounds (``bounds.py``)."""
        return self._values(sheet)

    def close(self) -> None:
        if self._calamine is not None:
            self._calamine.close()
            self._calamine = None

    # -- locating tables -----------------------------------------------------------------------

    def _sheet_names(self) -> list[str]:
        return [s.name for s in self._info.sheets]

    def _locate(self, spec: TableSpec) -> tuple[TableLayout, list[list[Any]]] | None:
        info = self._info
        found = locate_table(spec, info.tables, [s.name for s in info.sheets], self._headers_of)
        if found is None:
            return None
        if isinstance(found, str):
            sheet = info.sheet(found)
            assert sheet is not None
            return self._from_range(spec, sheet)
        return self._from_table(spec, found)

    def _headers_of(self, sheet: str) -> list[str]:
        row = next((r for r in self._values(sheet) if any(v not in ("", None) for v in r)), [])
        run = header_run(row)
        return run[1] if run else []

    def _from_table(self, spec: TableSpec, table: TableInfo) -> tuple[TableLayout, list[list[Any]]]:
        r1, c1, r2, c2 = parse_range(table.ref)
        if table.header_rows != 1:
            raise WorkbookError(
                f"{table.sheet}!{table.ref}",
                f"the {table.display_name} table has no header row",
                "turn on 'Header Row' in Excel's Table Design tab",
            )
        last = r2 - table.totals_rows
        headers = table.columns or [f"Column{j + 1}" for j in range(c2 - c1 + 1)]
        values = self._values(table.sheet)
        layout = TableLayout(
            spec, table.sheet, table.display_name, r1, c1, headers, column_keys(spec, headers), last
        )
        return layout, values[r1:last]

    def _from_range(self, spec: TableSpec, sheet: SheetInfo) -> tuple[TableLayout, list[list[Any]]]:
        return plain_range(spec, sheet.name, self._values(sheet.name))

    # -- state ---------------------------------------------------------------------------------

    def _read_state(self) -> dict[str, str]:
        if self._info.sheet(STATE_SHEET) is None:
            return {}
        out = {}
        for row in self._values(STATE_SHEET)[1:]:
            if row and isinstance(row[0], str) and row[0]:
                out[row[0]] = "".join(str(v) for v in row[1:] if v not in ("", None))
        return out

    # -- writing -------------------------------------------------------------------------------

    def _commit(
        self,
        changes: list[TableChanges],
        state: dict[str, str] | None,
        sheets: Sequence[ReportSheet] = (),
    ) -> dict[str, TableLayout]:
        safety.check_not_locked(self._target)
        safety.check_unchanged(self._target, self._snapshot)
        try:
            return self._commit_package(changes, state, sheets)
        except PackageError as exc:
            raise WorkbookError(self.where, exc.message, exc.hint) from None

    def _commit_package(
        self,
        changes: list[TableChanges],
        state: dict[str, str] | None,
        sheets: Sequence[ReportSheet],
    ) -> dict[str, TableLayout]:
        info = self._info
        with self._package() as pkg:
            edit = PackageEdit(pkg, info)
            styles_part = info.styles_part
            if styles_part is not None and styles_part in pkg:
                styles = Styles(pkg.read(styles_part))
            else:
                # No styles part (or a relationship to a missing one): dates and the CRM's
                # formats need one, so a minimal one is added, as Excel would on saving.
                styles_part = add_styles(edit)
                styles = Styles(edit.read(styles_part))
            replace = edit.replace
            layouts: dict[str, TableLayout] = {}
            wrote_formula = False
            by_sheet: dict[str, list[TableChanges]] = defaultdict(list)
            for change in changes:
                if not change.created:
                    by_sheet[change.layout.sheet].append(change)
            for sheet_name, sheet_changes in by_sheet.items():
                sheet = info.sheet(sheet_name)
                assert sheet is not None
                content: bytes | list[Buffer] = pkg.read(sheet.part)
                for change in sheet_changes:
                    writer = CellWriter(styles, info.date1904)
                    table = self._table_info(change.layout)
                    xml = content if isinstance(content, bytes) else b"".join(content)
                    try:
                        content = SheetPatcher(xml, writer, sheet_name).apply(
                            self._cell_writes(change, table)
                        )
                    except SheetPatchError as exc:
                        raise XlcrmError(None, str(exc)) from None
                    wrote_formula |= writer.wrote_formula
                    self.warnings += [
                        f"{sheet_name}!{ref}: text longer than Excel's 32,767 characters was cut"
                        for ref in writer.cut
                    ]
                    if (change.grows or change.new_columns) and table is not None:
                        replace[table.part] = self._table_part(change, table, edit.read(table.part))
                    layouts[change.layout.spec.key] = dc_replace(
                        change.layout, last_row=change.last_row
                    )
                replace[sheet.part] = content
            for change in changes:
                if change.created:
                    writer = CellWriter(styles, info.date1904)
                    layouts[change.layout.spec.key] = create_table(
                        edit, styles, writer, change, self.lang
                    )
            for report in sheets:
                writer = CellWriter(styles, info.date1904)
                write_report(edit, styles, writer, report, info.sheet(report.name))
            if styles.changed or styles_part != info.styles_part or styles_part not in pkg:
                edit.put(styles_part, styles.xml)  # type: ignore[arg-type]
            if wrote_formula:
                replace[info.part] = request_full_calc(edit.read(info.part))
            if state is not None:
                self._write_state(edit, state)
            edit.finish()

            def write(out: BinaryIO) -> None:
                if self._password is None:
                    pkg.write(out, replace, edit.add, remove=edit.remove)
                    return
                buffer = io.BytesIO()
                pkg.write(buffer, replace, edit.add, remove=edit.remove)
                out.write(crypto.encrypt(buffer.getvalue(), self._password))

            def last_check() -> None:
                safety.check_not_locked(self._target)
                safety.check_unchanged(self._target, self._snapshot)

            safety.atomic_write(
                self._target, write, before_replace=last_check, backups=self.backups
            )
        self._after_save()
        return layouts

    def _cell_writes(self, change: TableChanges, table: TableInfo | None) -> CellWrites:
        writes = _cell_writes(change, table)
        if change.new_columns:
            layout = change.layout
            c1 = layout.first_col
            values = self._values(layout.sheet)
            header = writes.rows.setdefault(layout.header_row, {})
            for j in change.new_columns:
                check_column_free(
                    layout.sheet, values, c1 + j, range(layout.header_row, layout.last_row + 1)
                )
                header[c1 + j] = layout.headers[j]
        return writes

    @staticmethod
    def _table_part(change: TableChanges, table: TableInfo, xml: bytes) -> bytes:
        if table.totals_rows and change.grows:
            raise XlcrmError(
                f"{table.sheet}!{table.ref}",
                f"the {table.display_name} table has a total row, which xlcrm cannot move down",
                "turn off 'Total Row' in Table Design",
            )
        headers = [change.layout.headers[j] for j in change.new_columns]
        return widened_table(xml, table, change.last_row, headers)

    def check_unchanged(self) -> None:
        safety.check_unchanged(self._target, self._snapshot)

    def _after_save(self) -> None:
        self._snapshot = safety.Snapshot.of(self._target)
        if self._password is not None:
            self._plain = crypto.decrypt(self._target, self._password)
        self.close()  # calamine must see the new file next time
        self._checked.clear()
        with self._package() as pkg:
            self._info = read_workbook_info(pkg)

    def _table_info(self, layout: TableLayout) -> TableInfo | None:
        if layout.table_name is None:
            return None
        return next(
            t
            for t in self._info.tables
            if t.display_name == layout.table_name and t.sheet == layout.sheet
        )

    def _write_state(self, edit: PackageEdit, state: dict[str, str]) -> None:
        xml = state_sheet_xml(state)
        sheet = self._info.sheet(STATE_SHEET)
        if sheet is not None:
            edit.replace[sheet.part] = xml
            return
        part = edit.free_name(edit.sheet_pattern())
        info = self._info
        workbook, rels, types = add_sheet(
            edit.read(info.part),
            edit.read(rels_path(info.part)),
            edit.read(CONTENT_TYPES),
            name=STATE_SHEET,
            part=part,
            state="veryHidden",
            workbook_part=info.part,
        )
        edit.replace[info.part] = workbook
        edit.replace[rels_path(info.part)] = rels
        edit.replace[CONTENT_TYPES] = types
        edit.add[part] = xml


def _backup_count() -> int:
    raw = os.environ.get("XLCRM_BACKUPS", str(DEFAULT_BACKUPS))
    try:
        count = int(raw)
    except ValueError:
        count = -1
    if count < 0:
        raise UsageError(
            "XLCRM_BACKUPS",
            f"{raw!r} is not a number of backups",
            "set it to 0 (no backups) or a positive whole number",
        )
    return count


def _cell_writes(change: TableChanges, table: TableInfo | None) -> CellWrites:
    layout = change.layout
    c1 = layout.first_col
    rows = {r: {c1 + j: v for j, v in cells.items()} for r, cells in change.cells.items()}
    # New rows copy the styles of the table's last row ("the row above" when appending).
    template = layout.last_row if layout.last_row > layout.header_row else None
    formulas = {c1 + j: f for j, f in table.formulas.items()} if table else {}
    return CellWrites(
        rows=rows,
        fill_rows=set(change.new_rows),
        fill_cols=range(c1, c1 + len(layout.keys)),
        template_row=template,
        formulas=formulas,
    )


def open_book(
    path: str | os.PathLike[str], *, password: str | None = None, backups: int | None = None
) -> FileBook:
    """Open a CRM workbook file. Use as a context manager to save on success::

    with open_book("crm.xlsx") as book:
        book.table("customers").update("C0001", {"tier": "A"})
    """
    return FileBook(path, password=password, backups=backups)
