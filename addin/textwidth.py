"""How wide text is on a terminal or in a plain-text mail, where a Chinese character takes two
columns: Python's ``f"{name:<10}"`` counts characters, so a table with 王芳 beside Alice is
misaligned by one column per Chinese character. Used by every column layout in the CLI and by
the text part of campaign mail."""

from __future__ import annotations

import functools
import unicodedata


@functools.lru_cache(maxsize=8192)
def is_wide(char: str) -> bool:
    """Chinese, Japanese and Korean characters (and full-width forms): two columns wide.

    Cached: text asks about the same few hundred characters thousands of times, and the
    Unicode database lookup was a tenth of a campaign message's text rendering."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def display_width(text: str) -> int:
    """Columns ``text`` takes in a monospaced font."""
    if text.isascii():  # most text: no lookup per character
        return len(text)
    return len(text) + sum(map(is_wide, text))


def ljust(text: str, width: int) -> str:
    """``text`` padded with spaces on the right to ``width`` columns."""
    return text + " " * max(0, width - display_width(text))


def rjust(text: str, width: int) -> str:
    """``text`` padded with spaces on the left to ``width`` columns."""
    return " " * max(0, width - display_width(text)) + text
