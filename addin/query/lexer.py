"""Tokens of the filter language: our own small scanner, no ``eval``, no Python tokenizer.

Full-width characters that a Chinese input method types (``＝``, ``（``, ``，``, the ideographic
space) read as their ASCII forms; the mapping is one character for one, so positions in
messages still point into the text as the person wrote it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from .errors import FilterError
from .values import Duration

MAX_LENGTH = 4000
"""Longest filter accepted, in characters: a segment is a line, not a program."""

# Full-width ASCII (U+FF01–U+FF5E) and the ideographic space, one for one.
_HALF = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

KEYWORDS = {
    "and": "and",
    "or": "or",
    "not": "not",
    "in": "in",
    "contains": "contains",
    "startswith": "startswith",
    "endswith": "endswith",
    "is": "is",
    "empty": "empty",
    "true": "true",
    "false": "false",
    "today": "today",
    "now": "now",
    # Chinese: single characters that split a run of Chinese text, and whole words.
    "且": "and",
    "或": "or",
    "非": "not",
    "包含": "contains",
    "今天": "today",
    "是": "true",
    "否": "false",
}
_SPLITTING = ("且", "或", "非", "包含")  # break an identifier: 状态=="活跃"且等级=="A"

UNITS = {
    "d": "d", "day": "d", "days": "d", "天": "d", "日": "d",
    "w": "w", "week": "w", "weeks": "w", "周": "w", "星期": "w",
    "m": "m", "mo": "m", "month": "m", "months": "m", "月": "m", "个月": "m",
    "y": "y", "year": "y", "years": "y", "年": "y",
    "h": "h", "hour": "h", "hours": "h", "小时": "h",
}  # fmt: skip

_OPERATORS = (
    ("==", "=="), ("!=", "!="), ("<>", "!="), ("<=", "<="), (">=", ">="), ("&&", "and"),
    ("||", "or"), ("=", "=="), ("<", "<"), (">", ">"), ("≠", "!="), ("≤", "<="), ("≥", ">="),
    ("!", "not"), ("(", "("), (")", ")"), ("[", "["), ("]", "]"), (",", ","), ("+", "+"),
    ("-", "-"), ("、", ","),
)  # fmt: skip
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』"}
_DATE = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d:]))?"
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Token:
    """``kind`` is str, num, date, datetime, dur, name, qname, kw, op or end."""

    kind: str
    value: Any
    pos: int  # 1-based character position in the filter
    text: str  # as written, for messages


def tokenize(text: str, where: str | None) -> list[Token]:
    """The tokens of ``text``; a FilterError at the first character that makes no sense."""
    if len(text) > MAX_LENGTH:
        raise FilterError(
            where,
            1,
            f"the filter is {len(text):,} characters long; at most {MAX_LENGTH:,} are allowed",
            "split the selection into a few simpler filters, or add a column that says it",
        )
    src = text.translate(_HALF)
    tokens: list[Token] = []
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if ch in _QUOTES:
            value, i = _string(src, i, where)
            tokens.append(Token("str", value, start + 1, text[start:i]))
        elif ch == "`":
            end = src.find("`", i + 1)
            if end < 0:
                raise FilterError(
                    where,
                    start + 1,
                    "the column name in ` ` has no closing `",
                    "close it: `Last contact`",
                )
            name = src[i + 1 : end].strip()
            if not name:
                raise FilterError(where, start + 1, "empty column name ``")
            i = end + 1
            tokens.append(Token("qname", name, start + 1, text[start:i]))
        elif ch.isdigit():
            token, i = _number(src, text, i, where)
            tokens.append(token)
        elif ch.isalpha() or ch == "_":
            i = _word_end(src, i)
            word = src[start:i]
            keyword = KEYWORDS.get(word.lower())
            kind = "kw" if keyword else "name"
            tokens.append(Token(kind, keyword or word, start + 1, text[start:i]))
        else:
            for op, meaning in _OPERATORS:
                if src.startswith(op, i):
                    i += len(op)
                    kind = "kw" if meaning in ("and", "or", "not") else "op"
                    tokens.append(Token(kind, meaning, start + 1, text[start:i]))
                    break
            else:
                hint = (
                    "a filter compares columns with values; it has no attribute access or calls"
                    if ch == "."
                    else 'put text in quotes: "…"'
                )
                raise FilterError(where, start + 1, f"unexpected character {ch!r}", hint)
    tokens.append(Token("end", None, len(text) + 1, ""))
    return tokens


def _word_end(src: str, i: int) -> int:
    """End of an identifier (letters, digits, ``_``); 且/或/非/包含 always stand alone."""
    if src.startswith(_SPLITTING, i):
        return i + (2 if src.startswith("包含", i) else 1)
    j = i
    while j < len(src) and (src[j].isalnum() or src[j] == "_"):
        if j > i and src.startswith(_SPLITTING, j):
            break
        j += 1
    return j


def _string(src: str, i: int, where: str | None) -> tuple[str, int]:
    close = _QUOTES[src[i]]
    out: list[str] = []
    j = i + 1
    while j < len(src):
        ch = src[j]
        if ch == "\\" and j + 1 < len(src):
            out.append(src[j + 1])
            j += 2
            continue
        if ch == close:
            return "".join(out), j + 1
        out.append(ch)
        j += 1
    raise FilterError(
        where,
        i + 1,
        f"the text starting with {src[i]} has no closing {close}",
        f"end it with {close}",
    )


def _number(src: str, text: str, i: int, where: str | None) -> tuple[Token, int]:
    start = i
    date = _DATE.match(src, i)
    if date:
        y, mo, d, hh, mm, ss = date.groups()
        try:
            if hh is None:
                value: Any = dt.date(int(y), int(mo), int(d))
                kind = "date"
            else:
                value = dt.datetime(int(y), int(mo), int(d), int(hh), int(mm), int(ss or 0))
                kind = "datetime"
        except ValueError:
            raise FilterError(
                where, start + 1, f"{date[0]} is not a real date", "write dates as 2026-11-01"
            ) from None
        return Token(kind, value, start + 1, text[start : date.end()]), date.end()
    number = _NUMBER.match(src, i)
    assert number is not None
    i = number.end()
    if i < len(src) and (src[i].isalpha() or src[i] == "_"):
        end = _word_end(src, i)
        unit = UNITS.get(src[i:end].lower())
        if unit is None or "." in number[0]:
            raise FilterError(
                where,
                start + 1,
                f"{text[start:end]!r} is not a number or a duration",
                "durations are whole numbers with a unit: 90d (days), 2w (weeks), 6m (months), "
                "1y (years), 48h (hours); a column whose name starts with a digit goes in "
                "backticks: `2026目标`",
            )
        count = int(number[0])
        months, days, seconds = {
            "d": (0, count, 0),
            "w": (0, 7 * count, 0),
            "m": (count, 0, 0),
            "y": (12 * count, 0, 0),
            "h": (0, 0, 3600 * count),
        }[unit]
        raw = text[start:end]
        return Token("dur", Duration(months, days, seconds, raw), start + 1, raw), end
    literal = number[0]
    value = float(literal) if "." in literal else int(literal)
    return Token("num", value, start + 1, literal), i
