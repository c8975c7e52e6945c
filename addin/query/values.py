"""How filter values compare: folded text, list cells, dates with calendar arithmetic.

Everything here runs once per row, so it is written for speed: text folding is cached (a
column holds far fewer distinct values than rows), and conversions return ``None`` for a
value of the wrong kind instead of raising — a comparison with such a cell is simply false.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from ..workbook.values import _FALSE, _TRUE, number_text, parse_date, parse_datetime


@dataclass(frozen=True)
class Duration:
    """``90d``, ``2w``, ``6m``, ``1y``, ``48h``: calendar months kept apart from days."""

    months: int = 0
    days: int = 0
    seconds: int = 0
    text: str = ""

    def __neg__(self) -> Duration:
        return Duration(-self.months, -self.days, -self.seconds, "-" + self.text)


def shift(value: dt.date, by: Duration) -> dt.date:
    """``value`` moved by ``by``; months move the calendar (Jan 31 + 1m = Feb 28 or 29)."""
    if by.months:
        month0 = value.month - 1 + by.months
        year, month = value.year + month0 // 12, month0 % 12 + 1
        day = min(value.day, calendar.monthrange(year, month)[1])
        value = value.replace(year=year, month=month, day=day)
    if by.days or by.seconds:
        value = value + dt.timedelta(days=by.days, seconds=by.seconds)
    return value


@functools.lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Text as filters compare it: NFKC (full-width → half-width), case-folded, trimmed."""
    if text.isascii():
        return text.strip().lower()
    return unicodedata.normalize("NFKC", text).casefold().strip()


_ITEM_SPLIT = re.compile(r"\s*[;,、\n]\s*")


@functools.lru_cache(maxsize=65536)
def fold_items(text: str) -> tuple[str, ...]:
    """The folded items of a list cell (``a@x.cn; b@x.cn``, ``vip、重点``), empties dropped."""
    return tuple(item for item in _ITEM_SPLIT.split(fold(text)) if item)


def as_text(value: Any) -> str | None:
    """Any cell as folded text (numbers as typed: ``13800138000``, dates ISO)."""
    if value.__class__ is str:
        return fold(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return number_text(value) if math.isfinite(value) else None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes" if not value.second else "seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return fold(str(value))


def as_items(value: Any) -> tuple[str, ...]:
    if value.__class__ is str:
        return fold_items(value)
    text = as_text(value)
    return (text,) if text else ()


def as_number(value: Any) -> float | int | None:
    cls = value.__class__
    if cls is float or cls is int:
        return value
    if cls is str:
        try:
            return float(value.replace(",", "").strip())
        except ValueError:
            return None
    return None


def as_date(value: Any) -> dt.date | None:
    cls = value.__class__
    if cls is dt.date:
        return value
    if cls is dt.datetime:
        return value.date()
    if cls is str:
        return parse_date(value)
    return None


def as_datetime(value: Any) -> dt.datetime | None:
    cls = value.__class__
    if cls is dt.datetime:
        return value
    if cls is dt.date:
        return dt.datetime(value.year, value.month, value.day)
    if cls is str:
        return parse_datetime(value)
    return None


def as_bool(value: Any) -> bool | None:
    if value is True or value is False:
        return value
    if value.__class__ is str:
        folded = value.strip().casefold()
        if folded in _TRUE and folded:
            return True
        if folded in _FALSE and folded:
            return False
    if value.__class__ in (int, float):
        return bool(value)
    return None


def is_empty(value: Any) -> bool:
    return value is None or (value.__class__ is str and not value.strip())
