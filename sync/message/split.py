"""Raw bytes → ``email.message.Message`` (compat32), with a fast path for single-part mail.

``email.message_from_bytes`` feeds the message line by line through a generator-based parser:
about a microsecond per line before anything else happens. Half of real mail is one
non-MIME-structured part (list posts, plain replies, most spam), for which all that parser
does is split the headers from the body. :func:`message_from_bytes` does that split with
a few regular expressions and builds the *same* ``Message`` — the same ``(name, value)``
pairs, exactly as compat32 stores them, and the rest of the bytes as the payload — and hands
everything else to the standard parser: multipart and ``message/*`` types, a ``From `` line,
a header line the standard parser would call a defect, a bare CR, no blank line after the
headers. ``tests/test_message_charsets.py`` checks the two agree on every sample it builds,
and ``bench/bench_parse.py --check-split`` on every message of the real-mail corpus.
"""

from __future__ import annotations

import email
import re
from email.message import Message
from email.policy import compat32

# A header field: a name of printable characters without ":" (RFC 5322), its first line,
# then any continuation lines; each line ends in LF or CRLF.
_FIELD = re.compile(r"([!-9;-~]+):[ \t]*([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)\r?\n")
_BLANK = re.compile(r"\n\r?\n")


def message_from_bytes(raw: bytes) -> Message:
    """``email.message_from_bytes(raw, policy=compat32)``, faster for single-part mail."""
    text = raw.decode("ascii", "surrogateescape")
    message = single_part(text)
    if message is None:
        return email.message_from_string(text, policy=compat32)
    return message


def single_part(text: str) -> Message | None:
    """The fast path: ``text`` (the raw bytes decoded as ASCII with surrogateescape, as
    compat32 does) split into a ``Message``; None when the standard parser must do it."""
    blank = _BLANK.search(text)
    if blank is None or text.startswith(("From ", " ", "\t")):
        return None
    head = text[: blank.start() + 1]
    if "\r" in head.replace("\r\n", ""):
        return None
    headers = _headers(head)
    if headers is None or _structured(headers):
        return None
    message = Message()
    message._headers = headers  # type: ignore[attr-defined]  # as compat32 stores them
    message._payload = text[blank.end() :]  # type: ignore[attr-defined]
    return message


def _structured(headers: list[tuple[str, str]]) -> bool:
    """True when the first Content-Type (the one compat32 reads) is multipart/* or message/*:
    the standard parser builds sub-parts for those."""
    for name, value in headers:
        if name.lower() == "content-type":
            return value.partition(";")[0].strip().lower().startswith(("multipart/", "message/"))
    return False


def _headers(head: str) -> list[tuple[str, str]] | None:
    """The header block → compat32's ``(name, value)`` list; None unless every line is a
    well-formed field (the standard parser then decides what the odd lines mean)."""
    headers: list[tuple[str, str]] = []
    pos = 0
    end = len(head)
    match = _FIELD.match
    while pos < end:
        found = match(head, pos)
        if found is None:
            return None
        name, value = found.groups()
        if "\n" in value:
            # compat32 keeps the line breaks of a folded value and strips only the last one
            value = head[found.start(2) : found.end()].rstrip("\r\n")
        headers.append((name, value))
        pos = found.end()
    return headers
