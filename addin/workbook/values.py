"""Typed values: what a cell read from a sheet becomes in Python, and what may be written back.

Reading is forgiving because people type into sheets: a phone number typed as a number comes
back as text without ``.0``, a date typed as ``2026-01-05`` text comes back as a date, an empty
cell is ``None``. Reading is column-wise (one comprehension per column) because it runs over
millions of cells; see ``bench/``.

Writing is strict: a value that does not fit its column raises :class:`ValueProblem` naming the
table and column, before anything is written.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ValueProblem
from ..schema import Column, Lang

Reader = Callable[[Sequence[Any]], list[Any]]

_TRUE = {"true", "yes", "y", "1", "x", "✓", "是", "对", "已退订", "true()"}
_FALSE = {"false", "no", "n", "0", "否", "不", "", "false()"}
_DATE_RE = re.compile(r"^\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_TIME_RE = re.compile(r"[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?")


def number_text(value: float) -> str:
    """A number as a person would type it: ``13800138000`` not ``13800138000.0``."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def _text(v: Any) -> Any:
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return number_text(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ", timespec="minutes" if not v.second else "seconds")
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    return str(v)


def parse_date(text: str) -> dt.date | None:
    m = _DATE_RE.match(text)
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def parse_datetime(text: str) -> dt.datetime | None:
    day = parse_date(text)
    if day is None:
        return None
    m = _TIME_RE.search(text)
    if not m:
        return dt.datetime(day.year, day.month, day.day)
    micro = int((m[4] or "0").ljust(6, "0"))
    try:
        return dt.datetime(
            day.year, day.month, day.day, int(m[1]), int(m[2]), int(m[3] or 0), micro
        )
    except ValueError:
        return None


def _date(v: Any) -> Any:
    if v is None or v == "":
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, str):
        return parse_date(v) or v
    return v


def _datetime(v: Any) -> Any:
    if v is None or v == "":
        return None
    if isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day)
    if isinstance(v, str):
        return parse_datetime(v) or v
    return v


def _number(v: Any) -> Any:
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.replace(",", "").strip())
        except ValueError:
            return v
    return v


def _integer(v: Any) -> Any:
    if v is None or v == "":
        return None
    if isinstance(v, float) and v == int(v):
        return int(v)
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        return int(v.strip())
    return v


def _bool(v: Any) -> Any:
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return bool(v)
    if isinstance(v, str):
        folded = v.strip().casefold()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
    return v


def reader_for(column: Column | None) -> Reader:
    """A function turning one column of raw cell values into typed values."""
    if column is None:
        return _read_extra
    if column.type == "text":
        return _read_text
    if column.type == "choice":
        return lambda values: _read_choice(column, values)
    one = {
        "integer": _integer,
        "number": _number,
        "date": _date,
        "datetime": _datetime,
        "bool": _bool,
    }[column.type]
    return lambda values: [one(v) for v in values]


def _read_text(values: Sequence[Any]) -> list[Any]:
    # The common cases (text, an empty cell) cost a type check and no function call.
    return [
        (v or None) if v.__class__ is str else (None if v is None else _text(v)) for v in values
    ]


def _read_extra(values: Sequence[Any]) -> list[Any]:
    return [None if v == "" else v for v in values]


def _read_choice(column: Column, values: Sequence[Any]) -> list[Any]:
    # A choice column holds a handful of distinct labels: resolve each once, then map.
    seen: dict[Any, Any] = {}
    for v in set(values):
        if v is None or v == "":
            seen[v] = None
        else:
            choice = column.choice_for(v) if isinstance(v, str) else None
            seen[v] = choice.value if choice else _text(v)
    return list(map(seen.__getitem__, values))


# ---------------------------------------------------------------------------------------------
# Writing


def coerce(column: Column | None, value: Any, *, where: str) -> Any:
    """Check and convert a value for storing in ``column`` (None: a user-added column).

    Returns None, str, bool, int, float, date or datetime. Raises ValueProblem otherwise.
    """
    if value is None or (isinstance(value, str) and value == ""):
        return None
    kind = column.type if column else "any"
    if kind in ("text", "any"):
        if isinstance(value, str | bool | int | float | dt.date):
            return value if kind == "any" or isinstance(value, str) else _text(value)
        raise ValueProblem(where, f"cannot store {type(value).__name__} {value!r} as text")
    if kind == "choice":
        assert column is not None
        choice = column.choice_for(str(value))
        if choice is None:
            allowed = ", ".join(c.value for c in column.choices)
            raise ValueProblem(
                where,
                f"{value!r} is not one of: {allowed}",
                "use one of the listed values (English or Chinese label)",
            )
        return choice.value
    if kind in ("number", "integer"):
        if isinstance(value, bool):
            raise ValueProblem(where, f"{value!r} is not a number")
        converted = _number(value) if kind == "number" else _integer(_number(value))
        if kind == "integer" and isinstance(converted, float) and converted == int(converted):
            converted = int(converted)
        ok = (float, int) if kind == "number" else (int,)
        if not isinstance(converted, ok) or (
            isinstance(converted, float) and not math.isfinite(converted)
        ):
            what = "a whole number" if kind == "integer" else "a number"
            raise ValueProblem(where, f"{value!r} is not {what}")
        return converted
    if kind == "date":
        converted = _date(value)
        if not isinstance(converted, dt.date):
            raise ValueProblem(where, f"{value!r} is not a date", "write dates as YYYY-MM-DD")
        _check_excel_year(converted, where)
        return converted
    if kind == "datetime":
        converted = _datetime(value)
        if not isinstance(converted, dt.datetime):
            raise ValueProblem(
                where, f"{value!r} is not a date and time", "write it as YYYY-MM-DD HH:MM"
            )
        _check_excel_year(converted, where)
        # A workbook keeps milliseconds: store what reads back, so re-upserting is a no-op.
        return converted.replace(microsecond=converted.microsecond // 1000 * 1000)
    if kind == "bool":
        converted = _bool(value)
        if not isinstance(converted, bool):
            raise ValueProblem(where, f"{value!r} is not yes/no")
        return converted
    raise AssertionError(kind)


def _check_excel_year(value: dt.date, where: str) -> None:
    if value.year < 1900:
        raise ValueProblem(
            where,
            f"{value.isoformat()} is before 1900, which Excel cannot store as a date",
            "check the year",
        )


def cell_value(column: Column | None, value: Any, lang: Lang) -> Any:
    """The value as it goes into the cell: choice values become the workbook's label."""
    if column is not None and column.type == "choice" and isinstance(value, str):
        choice = column.choice_for(value)
        if choice is not None:
            return choice.label(lang)
    return value
