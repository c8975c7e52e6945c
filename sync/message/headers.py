"""Header values → text: unfolding, raw 8-bit bytes, RFC 2047 encoded-words, MIME parameters
(RFC 2231) and dates. Addresses and Message-IDs, built on these, are in :mod:`.addresses`.
"""

from __future__ import annotations

import binascii
import codecs
import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_tz
from urllib.parse import unquote_to_bytes

from .charsets import codec_for, decode, shown
from .detect import decode_strict, detect
from .state import State

_ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?]*)\?=")
_NOT_BASE64 = bytes(
    set(range(256)) - set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
)
_BASE64_QUAD = re.compile(rb"[^=]+=*")


def unfold(value: str) -> str:
    """RFC 5322 unfolding: a line break followed by white space is just that white space."""
    if "\n" in value or "\r" in value:
        return value.replace("\r", "").replace("\n", "")
    return value


def b64decode(data: bytes) -> tuple[bytes, bool]:
    """Lenient base64: (bytes, repaired). Fixes missing or extra padding, a dangling
    character, and blocks encoded separately and concatenated (``YWI=Y2Q=``)."""
    body = data.rstrip(b"=\r\n\t ")
    if b"=" not in body:
        try:
            return binascii.a2b_base64(data), False
        except binascii.Error:
            pass
        chunks = [body]
    else:
        chunks = _BASE64_QUAD.findall(body.translate(None, b"\r\n\t "))
    out = []
    for chunk in chunks:
        clean = chunk.translate(None, _NOT_BASE64)
        extra = len(clean) % 4
        if extra == 1:
            clean = clean[:-1]
        elif extra:
            clean += b"=" * (4 - extra)
        try:
            out.append(binascii.a2b_base64(clean))
        except binascii.Error:  # pragma: no cover - clean input cannot fail
            continue
    return b"".join(out), True


def _word_bytes(encoding: str, text: str) -> bytes:
    """The bytes of one encoded-word's encoded text (B or Q)."""
    if encoding in "bB":
        return b64decode(text.encode("ascii", "ignore"))[0]
    return binascii.a2b_qp(text.encode("utf-8", "surrogateescape"), header=True)


def _raw_text(value: str, where: str, st: State) -> str:
    """A header value with raw 8-bit bytes in it (surrogate-escaped by the parser) → text.

    UTF-8 (RFC 6532) is not a repair; anything else is, read by evidence (:func:`detect`)
    with the charset of the message's text as a tie-breaker: a raw Big5 name, a Latin-1
    subject and a UTF-8 one with a stray byte each come out as written.
    """
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")  # raw UTF-8, or text that was never bytes: no repair
    except UnicodeDecodeError:
        pass
    st.repaired(where)
    hint = st.body_charset()
    text, codec = detect(data, codec_for(hint)[0] if hint else None)
    st.defect(f"{where}: raw 8-bit bytes; read as {shown(codec)}")
    return text


def _decode_run(chunks: list[bytes], label: str, where: str, st: State) -> str:
    """Adjacent encoded-words in one charset → text.

    Joined as bytes first (encoders split characters across words). When the joined bytes
    do not decode under the label, the fallback is per word, not for the whole run: words
    that decode keep the label, only a bad word is repaired or read by evidence.
    """
    data = b"".join(chunks)
    codec = codec_for(label)[0]
    if len(chunks) == 1 or codec is None or data.isascii() or decode_strict(data, codec):
        return decode(data, label, where, st)
    try:
        decoder = codecs.getincrementaldecoder(codec)("strict")
    except LookupError:  # pragma: no cover - codec_for only names known codecs
        return decode(data, label, where, st)
    out: list[str] = []
    for chunk in chunks:
        pending = decoder.getstate()[0]  # the start of a character split across words
        try:
            out.append(decoder.decode(chunk))
        except UnicodeDecodeError:
            if pending:  # it was not: a stray byte at the end of the word before
                st.defect(f"{where}: 1 undecodable byte(s) replaced")
                out.append("\ufffd")
            decoder.reset()
            out.append(decode(chunk, label, where, st))
    try:
        out.append(decoder.decode(b"", final=True))
    except UnicodeDecodeError:
        st.defect(f"{where}: 1 undecodable byte(s) replaced")
        out.append("\ufffd")
    return "".join(out)


def decode_header(value: str, where: str, st: State) -> str:
    """An unfolded header value → text: raw 8-bit bytes, then RFC 2047 encoded-words.

    Adjacent encoded-words in the same charset (by codec, so ``gb2312`` and ``GBK`` count as
    one) are joined as bytes before decoding: encoders split multibyte characters across
    words. White space between encoded-words is dropped, as RFC 2047 says.
    """
    if not value.isascii():
        value = _raw_text(value, where, st)
    if "=?" not in value:
        return value
    pieces: list[str] = []
    run: list[bytes] = []
    run_label = ""
    run_key: str | None = None
    last_encoded = False
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        pos = match.end()
        if between and not (last_encoded and between.isspace()):
            if run_key is not None:
                pieces.append(_decode_run(run, run_label, where, st))
                run = []
                run_key = None
            pieces.append(between)
        label, encoding, text = match.groups()
        codec = codec_for(label)[0]
        key = codec or label.lower()
        if run_key is not None and key != run_key:
            pieces.append(_decode_run(run, run_label, where, st))
            run = []
        run.append(_word_bytes(encoding, text))
        run_label, run_key = label, key
        last_encoded = True
    if run_key is not None:
        pieces.append(_decode_run(run, run_label, where, st))
    pieces.append(value[pos:])
    return "".join(pieces)


def fold(text: str) -> str:
    """All runs of white space (line breaks, tabs, ideographic spaces) → one space."""
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# MIME parameters: ``type/sub; a=b``, RFC 2231 continuations and charsets

_PARAM = re.compile(r';\s*([^\s=;"]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)')
QUOTED_PAIR = re.compile(r"\\([\\\"])")


_PARAMS_CACHE: dict[str, tuple[str, dict[str, str]]] = {}


def params_cached(value: str, where: str, st: State) -> tuple[str, dict[str, str]]:
    """:func:`_params`, remembered for the few hundred header values that most mail shares
    (``text/plain; charset="utf-8"``). RFC 2231 values are not kept: decoding them may add
    defects. The dicts handed out are shared: callers only read them."""
    found = _PARAMS_CACHE.get(value)
    if found is None:
        found = _params(value, where, st)
        if "*" not in value and len(value) < 200:
            if len(_PARAMS_CACHE) >= 512:
                _PARAMS_CACHE.clear()
            _PARAMS_CACHE[value] = found
    return found


def _params(value: str, where: str, st: State) -> tuple[str, dict[str, str]]:
    """``type/sub; a=b; c*=utf-8''%E4%B8%AD`` → (``"type/sub"``, params), never raising.

    RFC 2231 parameters (``name*``, ``name*0*``…) are joined and decoded here and win over a
    plain parameter of the same name; plain values come back raw (they may still hold raw
    8-bit bytes or RFC 2047 words, which :func:`decode_header` handles).
    """
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    if not rest:
        return main.strip().lower(), params
    extended: dict[str, list[tuple[int, bool, str]]] = {}
    for match in _PARAM.finditer(";" + rest):
        key, raw = match.group(1).lower(), match.group(2).strip()
        if raw.startswith('"'):
            raw = raw[1:-1] if len(raw) > 1 and raw.endswith('"') else raw[1:]
            if "\\" in raw:
                raw = QUOTED_PAIR.sub(r"\1", raw)
        if "*" in key:
            base, _, index = key.partition("*")
            encoded = index.endswith("*") or index == ""
            index = index.rstrip("*")
            extended.setdefault(base, []).append(
                (int(index) if index.isdigit() else 0, encoded, raw)
            )
        else:
            params.setdefault(key, raw)
    for base, chunks in extended.items():
        params[base] = _rfc2231(sorted(chunks), f"{where} {base}", st)
    return main.strip().lower(), params


def _rfc2231(chunks: list[tuple[int, bool, str]], where: str, st: State) -> str:
    """Join RFC 2231 continuations and decode ``charset'lang'%XX…`` into text."""
    charset = ""
    data = bytearray()
    for number, encoded, raw in chunks:
        if encoded and number == 0 and raw.count("'") >= 2:
            charset, _language, raw = raw.split("'", 2)
        piece = raw.encode("utf-8", "surrogateescape")
        data += unquote_to_bytes(piece) if encoded else piece
    return decode(bytes(data), charset or None, where, st)


# ---------------------------------------------------------------------------------------------
# Dates

_EPOCH_YEARS = range(1980, 2200)  # outside: a broken clock or a broken header


_RFC5322_DATE = re.compile(
    r"(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{1,2}):(\d\d)(?::(\d\d))?"
    r"\s+([+-])(\d\d)(\d\d)\b"
)
_MONTHS = {
    m: n
    for n, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_ZONES: dict[int, timezone] = {}


def _zone(minutes: int) -> timezone:
    zone = _ZONES.get(minutes)
    if zone is None:
        zone = _ZONES[minutes] = timezone(timedelta(minutes=minutes))
    return zone


def parse_date(value: str) -> datetime | None:
    """An RFC 5322 date (and the usual sloppy variants) → aware datetime, else None.

    The well-formed ``Tue, 3 Mar 2026 10:00:00 +0800`` is read by one regular expression;
    anything else (zone names, two-digit years, missing seconds or commas) by
    ``email.utils.parsedate_tz``, which is slower. A date that cannot exist (day 32, hour
    25) or a year outside 1980-2199 is None: the caller falls back to Received.
    """
    match = _RFC5322_DATE.match(value)
    if match:
        day, month, year, hour, minute, second, sign, zh, zm = match.groups()
        number = _MONTHS.get(month.lower())
        if number and int(year) in _EPOCH_YEARS:
            offset = int(zh) * 60 + int(zm)
            try:
                return datetime(
                    int(year),
                    number,
                    int(day),
                    int(hour),
                    int(minute),
                    int(second or 0),
                    tzinfo=_zone(-offset if sign == "-" else offset),
                )
            except ValueError:
                return None
    try:
        parts = parsedate_tz(value)
        if parts is None or parts[0] not in _EPOCH_YEARS:
            return None
        zone = _zone((parts[9] or 0) // 60)
        return datetime(*parts[:6], tzinfo=zone)  # type: ignore[misc]
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
