"""Bytes in a claimed charset → text, never raising: labels, aliases, fallbacks, GBK repair.

Everything labelled GB2312, GBK, GB18030 or an alias is decoded as GB18030, the superset;
a label that fails or is unknown falls back to UTF-8, then GB18030, then Latin-1, and each
fallback is recorded as a defect.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

from .state import State

_GB_LABELS = frozenset(
    [
        "gb2312",
        "gbk",
        "gb18030",
        "x-gbk",
        "cp936",
        "ms936",
        "windows-936",
        "936",
        "gb_2312-80",
        "gb_2312",
        "gb2312-80",
        "gb-2312",
        "euc-cn",
        "x-euc-cn",
        "euccn",
        "csgb2312",
        "csgbk",
        "chinese",
        "iso-ir-58",
        "csiso58gb231280",
        "x-gb2312",
        "gb-18030",
        "gb_18030",
        "cn-gb",
    ]
)
# Labels Python does not know, or knows as something narrower than what senders mean.
_ALIASES: dict[str, str] = {
    "big5": "cp950",
    "x-big5": "cp950",
    "csbig5": "cp950",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "hz-gb-2312": "hz",
    "iso-8859-8-i": "iso-8859-8",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "x-sjis": "cp932",
    "shift_jis": "cp932",
    "windows-31j": "cp932",
}
# Labels that mean "no idea": treated like a missing label, without a defect for the label.
_NO_LABEL = frozenset({"unknown-8bit", "x-unknown", "unknown", "x-user-defined", "default", ""})
# Labels on which a Chinese client's GBK text often arrives; checked with looks_gbk.
LATIN_CODECS = frozenset({"ascii", "latin-1", "iso8859-1", "cp1252", "iso8859-15"})
# Codecs whose text is 7-bit: an ASCII-only payload still needs decoding.
_SEVEN_BIT_PREFIXES = ("utf-7", "hz", "iso2022")
_CHARSET_TOKEN = re.compile(r"[A-Za-z0-9._:+-]+")
_GB_PAIR = re.compile(rb"[\xa1-\xfe][\xa1-\xfe]")
_HIGH_BYTES = bytes(range(128, 256))


@lru_cache(maxsize=512)
def codec_for(label: str) -> tuple[str | None, bool]:
    """The Python codec for a MIME charset label, and whether the label meant anything.

    ``(None, True)`` for "no label" (missing, ``unknown-8bit``); ``(None, False)`` for a label
    nobody knows, or one that names a non-text codec (``base64``, ``rot13``).
    """
    match = _CHARSET_TOKEN.search(label.lower())
    name = match.group(0) if match else ""
    if name in _NO_LABEL:
        return None, True
    if name in _GB_LABELS:
        return "gb18030", True
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
        b"a".decode(info.name)  # LookupError for base64, rot13 and other non-text codecs
    except (LookupError, ValueError):
        return None, False
    if info.name in ("gb2312", "gbk", "gb18030"):
        return "gb18030", True
    return info.name, True


def looks_gbk(data: bytes) -> bool:
    """True when 8-bit text labelled Latin-1/ASCII is really GBK.

    Chinese text in GBK is almost all pairs of high bytes; Latin-1 text has single accented
    letters between ASCII ones. Needs a few pairs to say so.
    """
    high = len(data) - len(data.translate(None, _HIGH_BYTES))
    if high < 4:
        return False
    return 2 * len(_GB_PAIR.findall(data)) >= 0.9 * high


def decode(data: bytes, label: str | None, where: str, st: State) -> str:
    """Bytes in some claimed charset → text, never raising.

    Order: the label (GB family → GB18030), then UTF-8, then GB18030, then the least bad of
    UTF-8/GB18030 with replacement characters, then Latin-1. Every step past the label is a
    defect. Two repairs come first: Latin-1/ASCII labels on text that is valid UTF-8 or looks
    like GBK (senders label by habit, not by content), and GB labels on text that is clearly
    UTF-8 (at least four multibyte characters: short GBK strings are valid UTF-8 by chance
    too often to judge on less).
    """
    codec, known = codec_for(label) if label else (None, True)
    if data.isascii() and not (codec and codec.startswith(_SEVEN_BIT_PREFIXES)):
        return data.decode("ascii")
    if codec:
        if codec in LATIN_CODECS:
            for actual, looks in (("utf-8", True), ("gb18030", looks_gbk(data))):
                if not looks:
                    continue
                try:
                    text = data.decode(actual)
                except UnicodeDecodeError:
                    continue
                st.defect(f"{where}: labelled {label} but is {actual.upper()}")
                st.repaired(where)
                return text
        if codec == "gb18030":
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                if len(data) - len(text) >= 8:  # ≥ 4 multibyte characters
                    st.defect(f"{where}: labelled {label} but is UTF-8")
                    st.repaired(where)
                    return text
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            pass
    elif not known:
        st.defect(f"{where}: unknown charset {label!r}")
    for fallback in ("utf-8", "gb18030"):
        if fallback == codec:
            continue
        try:
            text = data.decode(fallback)
        except UnicodeDecodeError:
            continue
        if label or fallback != "utf-8":
            said = f"labelled {label}" if label else "no charset"
            st.defect(f"{where}: {said}; read as {fallback.upper()}")
        st.repaired(where)
        return text
    best = min(
        (data.decode(c, "replace") for c in ("utf-8", "gb18030")), key=lambda t: t.count("\ufffd")
    )
    bad = best.count("\ufffd")
    st.repaired(where)
    if bad <= 1 or bad * 50 <= len(best):  # a truncated character, a few stray bytes
        st.defect(f"{where}: {bad} undecodable byte(s) replaced")
        return best
    st.defect(f"{where}: charset not recognised; read as Latin-1")
    return data.decode("latin-1")
