"""Raw bytes → ``email.message.Message`` (compat32), with a fast path for everyday mail.

``email.message_from_bytes`` feeds the message line by line through a generator-based parser:
about a microsecond per line, plus a regular expression compiled for every MIME boundary
(no two messages share one, so the cache never helps). For the everyday shapes — headers and
a body, or multiparts of such parts — :func:`message_from_bytes` finds the blank lines and
boundary lines with ``str.find`` and a few regular expressions and builds the *same*
``Message`` tree: the same ``(name, value)`` pairs exactly as compat32 stores them, the same
payloads, preambles and epilogues, and an mbox ``From `` envelope line kept apart. Everything
else goes to the standard parser: enclosed ``message/*`` parts and digests, a header line or
boundary the standard parser would report as a defect, a bare CR, a part without a blank line
after its headers.

``tests/test_message_charsets.py`` checks that both agree on the shapes it builds, and
``bench/bench_parse.py --realmail`` on every message of the shared real-mail corpus.
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
    """``email.message_from_bytes(raw, policy=compat32)``, faster for everyday mail."""
    text = raw.decode("ascii", "surrogateescape")
    message = fast_split(text)
    if message is None:
        return email.message_from_string(text, policy=compat32)
    return message


def fast_split(text: str) -> Message | None:
    """The fast path: ``text`` (the raw bytes decoded as ASCII with surrogateescape, as
    compat32 does) split into a ``Message`` tree; None when the standard parser must do it."""
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return None  # a bare CR is a line break to the standard parser
    start, unixfrom = 0, None
    if text.startswith("From "):  # an mbox envelope line, kept apart as compat32 does
        eol = text.find("\n")
        if eol < 0:
            return None
        start = eol + 1
        unixfrom = text[: eol - 1 if text[eol - 1] == "\r" else eol]
    if text.startswith(("From ", " ", "\t", "\r", "\n"), start):
        return None
    message = _part(text, start, len(text), 0)
    if message is not None and unixfrom is not None:
        message.set_unixfrom(unixfrom)
    return message


_MAX_DEPTH = 16  # deeper nesting is left to the standard parser (and its recursion limit)


def _part(text: str, start: int, end: int, depth: int) -> Message | None:
    """The part in ``text[start:end]`` (which starts at a line start): headers, then a
    payload or sub-parts; None for anything but the well-formed everyday shapes."""
    headers: list[tuple[str, str]] | None
    if text.startswith("\n", start):
        headers, body = [], start + 1
    elif text.startswith("\r\n", start):
        headers, body = [], start + 2
    else:
        blank = _BLANK.search(text, start, end)
        if blank is None:
            return None
        headers = _headers(text[start : blank.start() + 1])
        body = blank.end()
    if headers is None:
        return None
    message = Message()
    message._headers = headers  # type: ignore[attr-defined]  # as compat32 stores them
    ctype = _content_type(headers)
    if ctype.startswith("message/") or ctype == "multipart/digest":
        return None  # enclosed messages and digests: the standard parser's business
    if ctype.startswith("multipart/"):
        if depth >= _MAX_DEPTH:
            return None
        return message if _multipart(message, text, body, end, depth) else None
    message._payload = text[body:end]  # type: ignore[attr-defined]
    return message


def _content_type(headers: list[tuple[str, str]]) -> str:
    """compat32's ``get_content_type`` from the first Content-Type (text/plain by default)."""
    for name, value in headers:
        if name.lower() == "content-type":
            ctype = value.partition(";")[0].lower().strip()
            return ctype if ctype.count("/") == 1 else "text/plain"
    return "text/plain"


def _boundary_line(text: str, at: int, length: int) -> tuple[bool, int, bool] | None:
    """(closing?, end of the line, ends in a line break?) when ``text[at:]`` is a boundary
    line for a separator of ``length`` characters as compat32's boundary regex reads it:
    the separator, an optional ``--``, spaces or tabs, then the line's end; else None."""
    pos = at + length
    close = text.startswith("--", pos)
    if close:
        pos += 2
    while text.startswith((" ", "\t"), pos):
        pos += 1
    if text.startswith("\r\n", pos):
        return close, pos + 2, True
    if text.startswith("\n", pos):
        return close, pos + 1, True
    if pos == len(text):
        return close, pos, False
    return None


def _next_boundary(
    text: str, separator: str, start: int, end: int
) -> tuple[int, bool, int, bool] | None:
    """The first boundary line in ``text[start:end]``: (its start, closing?, its end, ends
    in a line break?); None when there is none."""
    pos = start
    while True:
        at = text.find(separator, pos, end)
        if at < 0:
            return None
        if at == start or text[at - 1] == "\n":
            found = _boundary_line(text, at, len(separator))
            if found is not None:
                return (at, *found)
        pos = at + 1


def _strip_eol(value: str) -> str:
    """One trailing line break off: RFC 2046 gives it to the boundary that follows."""
    if value.endswith("\r\n"):
        return value[:-2]
    if value.endswith("\n"):
        return value[:-1]
    return value


def _multipart(message: Message, text: str, start: int, end: int, depth: int) -> bool:
    """Fill ``message`` (a multipart) from ``text[start:end]`` as compat32's parser does:
    preamble, parts, epilogue. False for what that parser reports as a defect (no boundary,
    no first or closing boundary line, a transfer encoding on a multipart) and for boundary
    lines back to back."""
    boundary = message.get_boundary()
    if boundary is None:
        return False
    encoding = str(message.get("content-transfer-encoding", "8bit")).lower()
    if encoding not in ("7bit", "8bit", "binary"):
        return False
    separator = "--" + boundary
    found = _next_boundary(text, separator, start, end)
    if found is None or found[1]:
        return False
    at, _, pos, _ = found
    if at > start:
        message.preamble = _strip_eol(text[start:at])
    parts: list[Message] = []
    while True:
        found = _next_boundary(text, separator, pos, end)
        if found is None or found[0] == pos:
            return False  # no closing boundary, or boundary lines back to back
        at, close, after, linesep = found
        part = _part(text, pos, at, depth + 1)
        if part is None:
            return False
        payload = part._payload  # type: ignore[attr-defined]
        if isinstance(payload, str):
            part._payload = _strip_eol(payload)  # type: ignore[attr-defined]
        elif part.epilogue == "":  # a multipart: the boundary owns its last line break
            part.epilogue = None
        elif part.epilogue is not None:
            part.epilogue = _strip_eol(part.epilogue)
        parts.append(part)
        if close:
            message._payload = parts  # type: ignore[attr-defined]
            message.epilogue = text[after:end] if linesep else ""
            return True
        pos = after


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
