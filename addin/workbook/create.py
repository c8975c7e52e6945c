"""A new CRM workbook file that a person enjoys opening (``xlcrm init`` is :mod:`addin.init`).

One sheet per table, each an Excel Table with a style, a frozen header, sensible widths, number
formats and drop-down lists, in English or Chinese. A new workbook has no user data to lose, so
openpyxl builds it; every later write goes through the lossless file backend.

Each table starts with the rows it is given, or one blank, formatted row: Excel Tables need a
data row, and new rows copy their formats from the row above. What the configuration tables
start with (settings, stages, rules, ticket rules) belongs to the features that read them, so
the caller passes it in: this layer imports nothing above it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo

from ..errors import UsageError, WorkbookError
from ..schema import (
    CORE_TABLES,
    SCHEMA_VERSION,
    STATE_SHEET,
    TABLES,
    Column,
    Lang,
    TableSpec,
    column_width,
    drop_down,
    print_one_page_wide,
)
from .cells import MAX_ROWS

TABLE_STYLE = "TableStyleMedium2"
# The tables a new workbook has: the CRM's data and the configuration people edit. The
# Duplicates review table appears with the first 'xlcrm dedupe'.
INITIAL_TABLES = (*CORE_TABLES, "stages", "rules", "sla", "ticket_rules")
_FONTS = {"en": "Calibri", "zh": "Microsoft YaHei"}


def build_workbook(
    path: str | os.PathLike[str],
    lang: Lang = "en",
    rows: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> Path:
    """Create a new CRM workbook at ``path`` whose tables hold ``rows`` (by table key; none
    by default); refuse to replace an existing file."""
    target = Path(path)
    if lang not in ("en", "zh"):
        raise UsageError(None, f"unknown language {lang!r}", "use --lang en or --lang zh")
    if target.suffix.lower() not in (".xlsx", ".xlsm"):
        raise UsageError(str(target), "the workbook must be an .xlsx file")
    if target.exists():
        raise WorkbookError(
            str(target),
            "a file with this name already exists",
            "choose another name, or move the file away first",
        )
    if not target.parent.is_dir():
        raise WorkbookError(str(target), f"the folder {target.parent} does not exist")

    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = "xlcrm CRM" if lang == "en" else "xlcrm 客户管理"
    wb.properties.creator = "xlcrm"
    starting = rows or {}
    for spec in TABLES.values():
        if spec.key not in INITIAL_TABLES:
            continue
        first = starting.get(spec.key, [])
        _add_table_sheet(
            wb, spec, lang, [[_cell(c, r.get(c.key), lang) for c in spec.columns] for r in first]
        )
    state = wb.create_sheet(STATE_SHEET)
    state.sheet_state = "veryHidden"
    state.append(["key", "value"])
    state.append(["schema_version", str(SCHEMA_VERSION)])
    state.append(["lang", lang])

    fd, tmp = tempfile.mkstemp(prefix=".~xlcrm-init-", suffix=".xlsx", dir=target.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        umask = os.umask(0)
        os.umask(umask)
        Path(tmp).chmod(0o666 & ~umask)  # mkstemp's 0600 is for temp files, not workbooks
        try:
            os.link(tmp, target)  # fails if the name was taken meanwhile: never overwrites
        except FileExistsError:
            raise WorkbookError(str(target), "a file with this name already exists") from None
        except OSError:
            if target.exists():
                raise WorkbookError(str(target), "a file with this name already exists") from None
            os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp).unlink()
    return target


def _cell(column: Column, value: Any, lang: Lang) -> Any:
    """A starting value as the sheet shows it: choices by their label in ``lang``."""
    if column.choices and isinstance(value, str):
        choice = column.choice_for(value)
        return choice.label(lang) if choice else value
    return value


def _add_table_sheet(wb: Workbook, spec: TableSpec, lang: Lang, rows: list[list[Any]]) -> None:
    """One sheet with the table; ``rows`` fill it from row 2 (else one blank, styled row)."""
    ws = wb.create_sheet(spec.sheet_name(lang))
    font = Font(name=_FONTS[lang], size=11)
    ws.append([c.header(lang) for c in spec.columns])
    for j, column in enumerate(spec.columns, start=1):
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = column_width(column, lang)
        header = ws.cell(row=1, column=j)
        header.font = Font(name=_FONTS[lang], size=11, bold=True)
        header.alignment = Alignment(vertical="center")
        blank = ws.cell(row=2, column=j)
        blank.font = font
        if column.number_format:
            blank.number_format = column.number_format
        elif column.type == "text":
            blank.number_format = "@"  # phone numbers, ids: text, never reformatted
        if column.key in ("summary", "description", "notes"):
            blank.alignment = Alignment(wrap_text=False, vertical="top")
        offered = drop_down(column, lang)
        if offered is not None:
            # A warning, not a stop: aliases such as "成交" for Won are accepted by xlcrm.
            dv = DataValidation(
                type="list",
                formula1=offered if isinstance(offered, str) else '"' + ",".join(offered) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="warning",
                errorTitle=column.header(lang),
                error=("请从列表中选择" if lang == "zh" else "Pick a value from the list"),
            )
            dv.add(f"{letter}2:{letter}{MAX_ROWS}")
            ws.add_data_validation(dv)
    for i, values in enumerate(rows, start=2):
        for j, (value, column) in enumerate(zip(values, spec.columns, strict=True), start=1):
            cell = ws.cell(row=i, column=j, value=None if value in ("", None) else value)
            cell.font = font
            if column.number_format:
                cell.number_format = column.number_format
            elif column.type == "text":
                cell.number_format = "@"
    last = get_column_letter(len(spec.columns))
    table = Table(displayName=spec.name, ref=f"A1:{last}{max(2, len(rows) + 1)}")
    table.tableStyleInfo = TableStyleInfo(name=TABLE_STYLE, showRowStripes=True)
    ws.add_table(table)
    ws.freeze_panes = "B2"
    ws.row_dimensions[1].height = 20
    # Printed: landscape, one page wide when still legible, the header row on every page.
    ws.page_setup.orientation = "landscape"
    if print_one_page_wide(spec.columns, lang):
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
