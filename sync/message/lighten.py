"""Attachment bodies out before parsing: sync needs their names, never their bytes.

Most of a mailbox's bytes are base64 attachments — a 200 kB quotation PDF under a 2 kB
message. ``email``'s feed parser still walks every one of their lines (about 3,000 for 200 kB)
to find the next boundary, which makes such a message cost 30 times a plain one
(``bench/bench_parse.py``). :func:`without_attachment_bodies` cuts those bodies out of the raw
bytes first, keeping every part's headers (where the file names are) and the MIME structure,
so the parser builds the same tree with empty attachment payloads.

It is deliberately conservative: it follows multipart boundaries only (never into an enclosed
``message/*``), only base64 parts whose type is not ``text/*`` or ``message/*`` lose their body,
and anything it does not understand (no boundary, odd structure) is left as it was. The
synthetic id of a message without a Message-ID is computed from headers and text, never from
attachment bytes, so it is the same either way (tests/test_message.py checks the whole parse is).
"""

from __future__ import annotations

import re

LIGHTEN_FROM = 32 * 1024  # smaller messages are parsed as they are: nothing to gain

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_MULTIPART = re.compile(
    rb"^content-type:[ \t]*multipart/[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*", re.I | re.M
)
_BOUNDARY = re.compile(rb'boundary[ \t]*=[ \t]*(?:"([^"\r\n]+)"|([^\s;"]+))', re.I)
_BASE64 = re.compile(rb"^content-transfer-encoding:[ \t]*base64[ \t]*\r?$", re.I | re.M)
_TYPE = re.compile(rb"^content-type:[ \t]*([a-z0-9!#$&^_.+-]+)/", re.I | re.M)
_KEEP = frozenset({b"text", b"message"})
_MAX_DEPTH = 8


def without_attachment_bodies(raw: bytes) -> bytes:
    """``raw`` with the bodies of its base64 attachments removed (see above)."""
    if len(raw) < LIGHTEN_FROM:
        return raw
    head_end = _HEADER_END.search(raw)
    if head_end is None:
        return raw
    return _multipart(raw, raw[: head_end.start()], head_end.start(), 0)


def _multipart(raw: bytes, headers: bytes, body: int, depth: int) -> bytes:
    """``raw`` (a message or a part, whose ``headers`` end at ``body``) with the attachment
    bodies of its multipart tree cut out; unchanged when it is not a multipart."""
    content_type = _MULTIPART.search(headers)
    if content_type is None or depth > _MAX_DEPTH:
        return raw
    found = _BOUNDARY.search(content_type.group(0))
    if found is None:
        return raw
    delimiter = b"\n--" + (found.group(1) or found.group(2))
    start = raw.find(delimiter, body)
    if start < 0:
        return raw
    out = [raw[:start]]
    while True:
        following = raw.find(delimiter, start + len(delimiter))
        if following < 0:
            out.append(raw[start:])  # the closing delimiter and the epilogue
            return b"".join(out)
        out.append(_part(raw[start:following], len(delimiter), depth))
        start = following


def _part(segment: bytes, delimiter: int, depth: int) -> bytes:
    """One part, from its delimiter line to just before the next: its body dropped when it is
    a base64 attachment, its own parts looked at when it is a multipart. A trailing CR
    belongs to the next delimiter's CRLF and is kept."""
    line_end = segment.find(b"\n", delimiter)
    if line_end < 0:
        return segment
    body = _HEADER_END.search(segment, line_end)
    if body is None:
        return segment
    headers = segment[line_end : body.start()]
    kind = _TYPE.search(headers)
    if kind is None:
        return segment
    main = kind.group(1).lower()
    if main == b"multipart":
        return _multipart(segment, headers, body.start(), depth + 1)
    if main in _KEEP or not _BASE64.search(headers):
        return segment
    return segment[: body.end()] + (b"\r" if segment.endswith(b"\r") else b"")
