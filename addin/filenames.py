"""File names made from customers' names, safe on Windows, macOS and Linux.

A contract is saved as something like ``HT-2026-0001 A&B 上海贸易.docx``, and the customer's
name comes from a cell anyone can type into. Whatever it holds — slashes, ``..``, a colon, a
control character, a right-to-left override, ``CON``, 300 characters of Chinese — the result is
one plain file name in the folder we chose, which every system can create and sync.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

FALLBACK = "contract"
# Windows refuses these as names, with any extension and in any case (and with a superscript
# digit: COM¹ is a device too).
_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{p}{n}" for p in ("COM", "LPT") for n in [*"123456789", "¹", "²", "³"]]
)
_FORBIDDEN = re.compile(r'[<>:"|?*]')
_SEPARATORS = re.compile(r"[/\\]")
_SPACES = re.compile(r"\s+")
_TRIM = " ."


def safe_file_name(text: str, suffix: str, max_bytes: int = 180) -> str:
    """``text`` made into a file name ending in ``suffix`` (``".docx"``), at most ``max_bytes``
    of UTF-8 in all (file systems count bytes: 255 on Linux, and sync tools prefer fewer)."""
    if suffix and not re.fullmatch(r"\.[A-Za-z0-9]{1,10}", suffix):
        raise ValueError(f"suffix must look like '.docx', not {suffix!r}")
    stem = _clean(text)
    if stem.split(".")[0].rstrip(_TRIM).upper() in _DEVICES:
        stem = "_" + stem
    stem = _truncate(stem, max_bytes - len(suffix.encode("utf-8"))).rstrip(_TRIM)
    return (stem or FALLBACK) + suffix


def unique_path(folder: Path, name: str, taken: Iterable[str] = ()) -> Path:
    """``folder / name``, or ``name (2)``, ``name (3)``… when that file exists already (or its
    name, compared without case, is in ``taken``: files a batch is about to write)."""
    path = Path(name)
    stem, suffix = path.stem, path.suffix
    used = {t.casefold() for t in taken}
    candidate, n = name, 1
    while (folder / candidate).exists() or candidate.casefold() in used:
        n += 1
        candidate = f"{stem} ({n}){suffix}"
    return folder / candidate


def _clean(text: str) -> str:
    """One line of visible characters: no separators, no path steps, no control characters."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if _invisible(c) else c for c in text)
    text = _FORBIDDEN.sub(" ", text)
    steps = (s.strip() for s in _SEPARATORS.split(text))
    text = " ".join(s for s in steps if s.strip(_TRIM))  # "..", "." and "" are not names
    return _SPACES.sub(" ", text).strip(_TRIM)


def _invisible(char: str) -> bool:
    """Control and format characters (NUL, new lines, right-to-left overrides, zero-width
    joiners…) and other separators."""
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def _truncate(text: str, max_bytes: int) -> str:
    """The longest start of ``text`` that fits in ``max_bytes`` of UTF-8, whole characters
    only, and no accent or vowel sign cut from its letter."""
    data = text.encode("utf-8")
    if len(data) <= max(max_bytes, 0):
        return text
    n = len(data[: max(max_bytes, 0)].decode("utf-8", "ignore"))
    if n < len(text) and _is_mark(text[n]):  # the cut falls among a letter's marks
        while n > 0 and _is_mark(text[n - 1]):
            n -= 1
        n = max(n - 1, 0)
    return text[:n]


def _is_mark(char: str) -> bool:
    """An accent or vowel sign that belongs to the letter before it (Unicode category M)."""
    return unicodedata.category(char).startswith("M")
