"""Bytes in a claimed charset → text, never raising: labels, aliases, evidence, repairs.

The label is trusted while the bytes decode cleanly under it (GB2312/GBK labels read as
GB18030, their superset; Big5 as Big5-HKSCS; ISO-8859-1 and US-ASCII as Windows-1252, as
WHATWG says, so "smart quotes" are not control characters). When they do not, a few stray
bytes are replaced and the label kept; otherwise the charset is chosen by evidence
(:mod:`.detect`). Every step past the label is a defect.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

from .detect import decode_strict, detect
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
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "csbig5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "cp950": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "ms950": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "hz-gb-2312": "hz",
    "iso-8859-8-i": "iso-8859-8",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "x-sjis": "cp932",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "windows-31j": "cp932",
    "ms_kanji": "cp932",
    # WHATWG: these labels mean windows-1252 / windows-1254 in every browser and mail reader.
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "iso-8859-9": "cp1254",
    "iso8859-9": "cp1254",
    "latin5": "cp1254",
}
# Labels that mean "no idea": treated like a missing label, without a defect for the label.
_NO_LABEL = frozenset({"unknown-8bit", "x-unknown", "unknown", "x-user-defined", "default", ""})
# Western labels, on which CJK text (GBK, Big5…) often arrives; checked with looks_double_byte.
LATIN_CODECS = frozenset({"cp1252", "iso8859-15", "cp1254", "iso8859-9"})
# How codecs are named in defects.
_SHOWN = {
    "cp1252": "Windows-1252",
    "big5hkscs": "Big5-HKSCS",
    "cp932": "Shift_JIS",
    "euc_jp": "EUC-JP",
    "cp949": "EUC-KR",
    "iso2022_jp": "ISO-2022-JP",
    "koi8-r": "KOI8-R",
}
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
    if info.name in ("latin-1", "iso8859-1", "ascii"):
        return "cp1252", True
    if info.name in ("big5", "cp950"):
        return "big5hkscs", True
    return info.name, True


def shown(codec: str) -> str:
    """A codec as people name it: ``cp1252`` → ``Windows-1252``."""
    if codec in _SHOWN:
        return _SHOWN[codec]
    if codec.startswith("cp125"):
        return "Windows-" + codec[2:]
    return codec.upper()


def looks_double_byte(data: bytes) -> bool:
    """True when 8-bit text labelled with a Western code page is really double-byte CJK.

    Chinese, Japanese and Korean text is almost all pairs of high bytes; Western text has
    single accented letters between ASCII ones. Needs a few pairs to say so.
    """
    high = len(data) - len(data.translate(None, _HIGH_BYTES))
    if high < 4:
        return False
    return 2 * len(_GB_PAIR.findall(data)) >= 0.9 * high


def _labelled(data: bytes, codec: str, label: str, where: str, st: State) -> str | None:
    """Non-ASCII ``data`` under the codec its label names, repaired where the evidence is
    plain; None when the label does not fit and the charset must be found by evidence.

    Repairs first: Western labels on text that is valid UTF-8 or clearly double-byte CJK
    (senders label by habit, not by content), and GB labels on text that is clearly UTF-8
    (at least four multibyte characters: short GBK strings are valid UTF-8 by chance too
    often to judge on less). Then the label while the bytes decode under it; then the label
    with a few stray bytes replaced, when what does decode is mostly good characters.
    """
    if codec in LATIN_CODECS:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            st.defect(f"{where}: labelled {label} but is UTF-8")
            st.repaired(where)
            return text
        if looks_double_byte(data):
            text, actual = detect(data)
            if actual not in LATIN_CODECS and not actual.startswith("cp125"):
                st.defect(f"{where}: labelled {label} but is {shown(actual)}")
                st.repaired(where)
                return text
    elif codec == "gb18030":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if len(data) - len(text) >= 8:  # ≥ 4 multibyte characters
                st.defect(f"{where}: labelled {label} but is UTF-8")
                st.repaired(where)
                return text
    clean = decode_strict(data, codec)
    if clean is None and codec == "big5hkscs":
        clean = decode_strict(data, "cp950")  # Microsoft's Big5: the euro sign and a few more
    if clean is not None:
        return clean
    if codec != "utf-8":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:  # fails under its label, valid UTF-8: what nearly every program writes today
            st.defect(f"{where}: labelled {label} but is UTF-8")
            st.repaired(where)
            return text
    text = data.decode(codec, "replace")
    bad = text.count("\ufffd")
    good = len(text) - len(text.encode("ascii", "ignore")) - bad
    if good >= 2 * bad:  # a truncated character, a few stray bytes: the label holds
        st.defect(f"{where}: {bad} undecodable byte(s) replaced")
        st.repaired(where)
        return text
    return None


def decode(data: bytes, label: str | None, where: str, st: State) -> str:
    """Bytes in some claimed charset → text, never raising.

    The label (see :func:`_labelled`), else the charset the bytes themselves point to
    (:func:`.detect.detect`: UTF-8, ISO-2022-JP, else the best-scoring of the CJK and
    single-byte candidates), recorded as a defect unless it is unlabelled UTF-8.
    """
    codec, known = codec_for(label) if label else (None, True)
    if data.isascii():
        if codec and codec.startswith(_SEVEN_BIT_PREFIXES):
            text = decode_strict(data, codec)
            if text is not None:
                return text
        elif codec is None and b"\x1b$" in data:  # unlabelled ISO-2022-JP
            text = decode_strict(data, "iso2022_jp")
            if text is not None:
                st.defect(f"{where}: no charset; read as ISO-2022-JP")
                st.repaired(where)
                return text
        return data.decode("ascii")
    if codec:
        text = _labelled(data, codec, label or "", where, st)
        if text is not None:
            return text
    elif not known:
        st.defect(f"{where}: unknown charset {label!r}")
    text, actual = detect(data, codec)
    if label or actual != "utf-8":
        said = f"labelled {label}" if label else "no charset"
        st.defect(f"{where}: {said}; read as {shown(actual)}")
    st.repaired(where)
    return text
