"""The add-in protocol, version 1: what the Excel client and the xlcrm service send each other.

``docs/protocol.md`` explains the exchange; these models are its definition. The service
validates every request against them before running anything (sizes, types), and
``python -m addin.remote.protocol`` prints the JSON Schema that ``docs/protocol.schema.json``
keeps for client authors (a test fails when that file is stale).
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
)

from sync.message.addresses import message_id_text

PROTOCOL = 1

# Excel's own limits: what no real workbook exceeds, so anything larger is refused unread.
MAX_SHEETS = 1_000
MAX_SHEET_NAME = 31
MAX_COLUMNS = 16_384
MAX_TEXT = 32_767

Cell = StrictBool | StrictInt | StrictFloat | StrictStr | None
Address = Annotated[str, Field(min_length=2, max_length=40, pattern=r"^\$?[A-Za-z]{1,3}\$?\d+")]
SheetName = Annotated[str, Field(min_length=1, max_length=MAX_SHEET_NAME)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


# -- requests ----------------------------------------------------------------------------------


class SheetEntry(_Model):
    """A worksheet: its name, visibility, used range and the first row of that range."""

    name: SheetName
    visibility: Literal["Visible", "Hidden", "VeryHidden"] = "Visible"
    used: Address | None = None
    first_row: list[Cell] = Field(default_factory=list, max_length=MAX_COLUMNS)


class TableEntry(_Model):
    """An Excel Table (ListObject): name, sheet, address (header row included), headers."""

    name: Annotated[str, Field(min_length=1, max_length=255)]
    sheet: SheetName
    address: Address
    headers: list[Cell] = Field(max_length=MAX_COLUMNS)

    # The locator's vocabulary (``addin.workbook.locate.TableEntry``).
    @property
    def display_name(self) -> str:
        return self.name

    @property
    def columns(self) -> list[str]:
        return [str(h) if h is not None else "" for h in self.headers]


class Inventory(_Model):
    sheets: list[SheetEntry] = Field(max_length=MAX_SHEETS)
    tables: list[TableEntry] = Field(default_factory=list, max_length=10_000)


class Selection(_Model):
    sheet: SheetName
    address: Annotated[str, Field(min_length=2, max_length=8_000)]  # "A2:C4,A7:C7" may be many


class PlanRequest(_Model):
    """First call of a command: what the workbook holds; the service says what to read."""

    protocol: int
    command: Annotated[str, Field(min_length=1, max_length=40)]
    options: dict[str, Any] = Field(default_factory=dict)
    inventory: Inventory
    state: dict[str, Annotated[str, Field(max_length=10_000_000)]] = Field(default_factory=dict)
    selection: Selection | None = None


_CELL_TYPES = frozenset({bool, int, float, str, type(None)})


def _rows_in_place(value: Any) -> list[list[Any]]:
    """The posted rows, checked as ``list[list[Cell]]`` but not copied.

    Pydantic's own check builds a new list for every row: on the 400,000 rows of a 100,000-
    customer workbook's Sync mail that is 50 MB more, held while the decoded request still
    exists. Decoded JSON holds exact types only, so checking each cell's type is the whole
    check (``Cell`` is strict: no coercion to undo)."""
    if type(value) is not list:
        raise ValueError("rows must be an array of rows")
    cells = _CELL_TYPES.issuperset
    for n, row in enumerate(value):
        if type(row) is not list or not cells(map(type, row)):
            raise ValueError(f"row {n + 1} must be an array of text, numbers, booleans or null")
    return value


Rows = Annotated[
    list[list[Cell]],
    PlainValidator(_rows_in_place, json_schema_input_type=list[list[Cell]]),
]


class PostedTable(_Model):
    """The columns of one range that the plan asked for, as ``Range.values`` gave them.

    Under a plan's row filter (:class:`RowFilter`) ``rows`` holds only the rows it kept and
    ``rows_at`` their places (0 for the first row below the header, ascending), and
    ``highest_id`` the id the filter's id column holds with the highest number."""

    sheet: SheetName
    table: str | None = None
    address: Address
    columns: list[Annotated[int, Field(ge=0, lt=MAX_COLUMNS)]] | None = None
    header: list[Cell] = Field(max_length=MAX_COLUMNS)
    rows: Rows = Field(default_factory=list)
    rows_at: list[Annotated[int, Field(ge=0)]] | None = None
    highest_id: Annotated[str, Field(max_length=MAX_TEXT)] | None = None
    last_used_row: int | None = Field(default=None, ge=1)


class RunRequest(PlanRequest):
    """Second call: the same, plus the tables read."""

    tables: dict[str, PostedTable] = Field(default_factory=dict)


# -- responses ---------------------------------------------------------------------------------


class RowFilter(_Model):
    """Read only the rows whose cell in one of ``columns`` (offsets in the range) is one of
    ``keys``, compared as Message-IDs are: the text inside the first ``<…>`` (or the whole
    cell), without white space, lower-cased (``sync.message.normalise_message_id``). The
    client counts the rows it leaves out, never sends them, and says where the kept ones
    are; with ``id_column`` it also sends the highest ``id_prefix`` + number id there, so
    that new rows get new ids although most ids were not read.

    Sync mail's record call needs of 300,000 interactions only those its new messages name:
    a request of megabytes instead of tens (docs/protocol.md, "Row filters")."""

    columns: list[Annotated[int, Field(ge=0, lt=MAX_COLUMNS)]] = Field(min_length=1)
    keys: list[Annotated[str, Field(max_length=998)]]
    id_column: int | None = Field(default=None, ge=0, lt=MAX_COLUMNS)
    id_prefix: str = ""


def filter_key(cell: Cell) -> str | None:
    r"""What a :class:`RowFilter` compares of a cell, as ``excel-read.js`` computes it: sync's
    own comparison (:func:`sync.message.addresses.message_id_text`) without its checks that
    throw ids away, so the filter may keep a row too many, never one too few. (JavaScript's
    ``\s`` lacks U+001C–U+001F and U+0085, which Python's ``str.split`` removes: the client
    adds them.)"""
    return message_id_text(cell) if isinstance(cell, str) else None


class Read(_Model):
    sheet: str
    table: str | None = None
    address: str
    columns: list[int] | None = None
    filter: RowFilter | None = None


class Write(_Model):
    type: Literal["write"] = "write"
    sheet: str
    address: str
    values: list[list[Cell]]
    number_formats: list[list[str | None]] | None = None


class AppendRows(_Model):
    type: Literal["append_rows"] = "append_rows"
    sheet: str
    table: str | None = None
    address: str
    values: list[list[Cell]]
    number_formats: list[list[str | None]] | None = None


class AddColumn(_Model):
    type: Literal["add_column"] = "add_column"
    sheet: str
    table: str | None = None
    address: str
    values: list[list[Cell]]


class AddSheet(_Model):
    type: Literal["add_sheet"] = "add_sheet"
    sheet: str
    visibility: Literal["Visible", "Hidden", "VeryHidden"] = "Visible"
    replace: bool = False
    first: bool = False  # a new sheet goes first among the tabs (a replaced one keeps its place)


class Choices(_Model):
    """A drop-down list on a table column: ``values``, or ``source``, a formula over a range
    (``='Products'!$A$2:$A$10001``) when it lists another table's column."""

    column: int
    values: list[str] = Field(default_factory=list)
    source: str | None = None


class AddTable(_Model):
    type: Literal["add_table"] = "add_table"
    sheet: str
    table: str
    address: str
    values: list[list[Cell]]
    number_formats: list[list[str | None]] | None = None
    choices: list[Choices] = Field(default_factory=list)


class Format(_Model):
    type: Literal["format"] = "format"
    sheet: str
    address: str
    bold: bool | None = None
    font_size: float | None = None
    column_width: float | None = None  # points, as Excel's JavaScript API measures widths
    row_height: float | None = None  # points
    horizontal: Literal["Left", "Right"] | None = None
    indent: int | None = None  # steps in from the left (with horizontal "Left")
    wrap: bool | None = None


ChartKind = Literal[
    "ColumnClustered",
    "ColumnStacked",
    "BarClustered",
    "BarStacked",
    "Line",
    "Pie",
    "Doughnut",
    "XYScatter",
]


class Chart(_Model):
    type: Literal["chart"] = "chart"
    sheet: str
    kind: ChartKind
    title: str
    source: str
    series: Literal["Columns", "Rows"] = "Columns"
    anchor: str
    width: float  # points
    height: float
    end: str | None = None  # the last cell the chart covers (then width and height follow it)


class PageLayout(_Model):
    """How a sheet prints (ExcelApi 1.9; a client without it leaves printing as it is)."""

    type: Literal["page_layout"] = "page_layout"
    sheet: str
    landscape: bool = True
    fit_width: bool = True  # one page wide, as many tall as needed
    print_area: str | None = None
    breaks: list[int] = Field(default_factory=list)  # 1-based rows that start a page
    margins: tuple[float, float, float, float] | None = None  # points: left, right, top, bottom


class State(_Model):
    type: Literal["state"] = "state"
    items: dict[str, str]


class Download(_Model):
    type: Literal["download"] = "download"
    name: str
    media_type: str
    data: str  # base64


class Message(_Model):
    type: Literal["message"] = "message"
    level: Literal["info", "warning", "error"] = "info"
    text: str


Action = Annotated[
    Write
    | AppendRows
    | AddColumn
    | AddSheet
    | AddTable
    | Format
    | Chart
    | PageLayout
    | State
    | Download
    | Message,
    Field(discriminator="type"),
]


class Progress(_Model):
    done: int
    total: int
    label: str = ""


class RunResponse(_Model):
    protocol: int = PROTOCOL
    status: Literal["done", "more"] = "done"
    actions: list[Action] = Field(default_factory=list)
    result: dict[str, Any] = Field(default_factory=dict)
    progress: Progress | None = None
    next: dict[str, Any] | None = None  # the options of the next call when status is "more"
    # The answer's own id when it has actions: the client applies an operation once, keeping
    # the ids it applied in the ``_xlcrm`` row ``applied`` (docs/protocol.md, "Actions").
    operation: str | None = Field(default=None, max_length=64)


class PlanResponse(RunResponse):
    """``status`` "read": read ``reads`` and run; "done"/"more": as a run's answer."""

    status: Literal["read", "done", "more"] = "read"  # type: ignore[assignment]
    reads: dict[str, Read] = Field(default_factory=dict)


class ErrorDetail(_Model):
    """An error as every xlcrm error carries it (:class:`sync.errors.ActionableError`):
    ``where``, ``message`` and ``hint``, plus the ``kind`` that says what the user can do."""

    kind: Literal["input", "auth", "version", "retry"]
    where: str | None = None
    message: str
    hint: str | None = None
    # A language-neutral name of the problem (``settings.no_mailbox``) and the values its text
    # needs, for the errors the task pane words itself in the user's language; ``message`` and
    # ``hint`` stay the English text for every other client.
    code: str | None = None
    params: dict[str, str] | None = None


class ErrorResponse(_Model):
    protocol: int = PROTOCOL
    error: ErrorDetail


def json_schema() -> dict[str, Any]:
    """One JSON Schema document with every request and response model under ``$defs``."""
    models: dict[str, type[BaseModel]] = {
        "PlanRequest": PlanRequest,
        "RunRequest": RunRequest,
        "PlanResponse": PlanResponse,
        "RunResponse": RunResponse,
        "ErrorResponse": ErrorResponse,
    }
    defs: dict[str, Any] = {}
    for name, model in models.items():
        schema = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        defs[name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"xlcrm add-in protocol {PROTOCOL}",
        "description": "See docs/protocol.md.",
        "$defs": dict(sorted(defs.items())),
    }


if __name__ == "__main__":  # python -m addin.remote.protocol > docs/protocol.schema.json
    json.dump(json_schema(), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
