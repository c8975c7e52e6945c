"""The MIME part tree: payload decoding, the parts that are the message's text, and the
names of its attachments."""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator
from email.message import Message

from .charsets import decode
from .headers import b64decode, decode_header, fold, params_cached, unfold
from .state import State

_NO_PARAMS: dict[str, str] = {}
PART_HEADERS = frozenset(
    {"content-type", "content-disposition", "content-transfer-encoding", "content-id"}
)


class Part:
    """One MIME part, with the few facts the parse needs read once from its raw headers.

    ``children`` are the parts of a multipart, built once for the whole tree; an enclosed
    message (message/rfc822, a delivery-status block list) has none: its parts are not ours.
    """

    __slots__ = ("children", "cid", "cte", "ctype", "disposition", "dparams", "message", "params")

    def __init__(
        self, message: Message, st: State, headers: dict[str, list[str]] | None = None
    ) -> None:
        """``headers``: the part's headers by lower-cased name when the caller has read them
        already (the top-level message), else they are read here."""
        self.message = message
        if headers is None:
            headers = {}
            for name, value in message.raw_items():
                key = name.lower()
                if key in PART_HEADERS:
                    headers.setdefault(key, []).append(value)
        ctype = unfold(headers["content-type"][0]) if "content-type" in headers else ""
        disposition = headers.get("content-disposition")
        cte = headers.get("content-transfer-encoding")
        cid = headers.get("content-id")
        self.cid = unfold(cid[0]).strip() if cid else ""
        self.ctype, self.params = (
            params_cached(ctype, "Content-Type", st) if ctype else ("", _NO_PARAMS)
        )
        if "/" not in self.ctype:
            self.ctype = message.get_default_type()
        self.disposition, self.dparams = (
            params_cached(unfold(disposition[0]), "Content-Disposition", st)
            if disposition
            else ("", _NO_PARAMS)
        )
        self.cte = cte[0].strip().lower() if cte else ""
        self.children: list[Part] = []
        if self.ctype.startswith("multipart/"):
            payload = message.get_payload()
            if isinstance(payload, list):
                self.children = [Part(c, st) for c in payload if isinstance(c, Message)]

    @property
    def raw_filename(self) -> str:
        return self.dparams.get("filename") or self.params.get("name") or ""

    def walk(self) -> Iterator[Part]:
        """This part and all below it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


def _part_bytes(part: Part, st: State) -> bytes:
    """The decoded payload of a leaf part; base64 read leniently, never raising.

    Reads the parser's stored payload (``_payload``: the body as ASCII with raw 8-bit bytes
    surrogate-escaped) rather than ``get_payload``: ``get_payload()`` re-decodes 8-bit bytes
    with the declared charset and "replace", losing mislabelled GBK, and
    ``get_payload(decode=True)`` scans the headers again for every part.
    """
    message = part.message
    payload = message._payload  # type: ignore[attr-defined]  # see above
    if not isinstance(payload, str):
        return b""
    try:
        data = payload.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:  # a Message built from str, not bytes
        data = payload.encode("utf-8", "surrogateescape")
    cte = part.cte
    if cte == "base64":
        if data.translate(None, _BASE64_TEXT):
            data = _base64_only(data, part, st)
        data, repaired = b64decode(data)
        if repaired:
            st.defect(f"{part.ctype}: base64 with broken padding")
        return data
    if cte == "quoted-printable":
        return binascii.a2b_qp(data)
    if cte in ("x-uuencode", "uuencode", "uue", "x-uue"):
        try:
            decoded = message.get_payload(decode=True)
        except Exception as error:  # the uu module raises on garbage
            st.defect(f"{part.ctype}: undecodable uuencoded payload ({error})")
            return data
        return decoded if isinstance(decoded, bytes) else data
    return data


_BASE64_TEXT = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n\t "
_NOT_BASE64_TEXT = re.compile(rb"[^A-Za-z0-9+/=\s]")


def _base64_only(data: bytes, part: Part, st: State) -> bytes:
    """The base64 lines of a payload, up to the first line that is not base64.

    Mailing lists append their footer in plain text after a base64 body; decoded along with
    it, the footer's letters shift the base64 and the whole text turns to garbage.
    """
    match = _NOT_BASE64_TEXT.search(data)
    if match is None:  # pragma: no cover - the caller checked
        return data
    start = data.rfind(b"\n", 0, match.start()) + 1
    if start == 0:  # not even the first line: read leniently, as before
        return data
    if data[start:].strip():
        st.defect(f"{part.ctype}: text after the base64 data left out")
    return data[:start]


_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)


def part_text(part: Part, st: State) -> str:
    """A text part's payload as text with "\\n" line ends (format=flowed joined)."""
    data = _part_bytes(part, st)
    label = part.params.get("charset")
    if not label and part.ctype == "text/html":
        meta = _META_CHARSET.search(data, 0, 4096)
        label = meta.group(1).decode("ascii") if meta else None
    text = decode(data, label, part.ctype, st)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if part.params.get("format", "").lower() == "flowed":
        text = _unflow(text, part.params.get("delsp", "").lower() == "yes")
    return text


def _unflow(text: str, delsp: bool) -> str:
    """RFC 3676: lines ending in a space continue on the next line (except "-- ")."""
    out: list[str] = []
    pending = ""
    for line in text.split("\n"):
        if line.startswith(" "):
            line = line[1:]  # space-stuffing
        if line.endswith(" ") and line != "-- ":
            pending += line[:-1] if delsp else line
        else:
            out.append(pending + line)
            pending = ""
    if pending:
        out.append(pending)
    return "\n".join(out)


def body_parts(part: Part) -> tuple[Part | None, Part | None]:
    """The (text/plain, text/html) parts that are the message's own text, like ``get_body``.

    alternative: the best of each kind among the choices; related: its root; mixed, report
    and others: the first child with a body. Attachments and enclosed messages never count.
    """
    ctype = part.ctype
    main = ctype.partition("/")[0]
    if main == "message":
        return None, None
    if main != "multipart":
        if part.disposition == "attachment" or "filename" in part.dparams:
            return None, None
        if ctype == "text/plain":
            return part, None
        if ctype == "text/html":
            return None, part
        return None, None
    children = part.children
    if ctype == "multipart/alternative":
        plain = html = None
        for child in children:
            p, h = body_parts(child)
            plain, html = plain or p, h or html  # the last html: the richest version
        return plain, html
    if ctype == "multipart/related" and children:
        start = part.params.get("start", "").strip()
        for child in children:
            if start and child.cid == start:
                return body_parts(child)
        return body_parts(children[0])
    for child in children:
        p, h = body_parts(child)
        if p or h:
            return p, h
    return None, None


_PATH_SEPARATORS = re.compile(r"^.*[/\\]")


def attachment_names(top: Part, body: set[int], st: State) -> list[str]:
    """File names of the attachments, decoded; inline images of an HTML body left out.

    An enclosed message without a file name is named after its subject, as mail programs show
    it; the parts of a delivery report are the report, not attachments.
    """
    names: list[str] = []

    def visit(part: Part, related: bool) -> None:
        if id(part.message) in body:
            return
        ctype = part.ctype
        if ctype.startswith("multipart/"):
            if ctype == "multipart/report":
                return
            for child in part.children:
                visit(child, ctype == "multipart/related")
            return
        raw = part.raw_filename
        if raw:
            if related and part.cid and part.disposition != "attachment":
                return
            name = fold(decode_header(unfold(raw), "attachment name", st))
            name = _PATH_SEPARATORS.sub("", name).strip() or name
            names.append(name)
        elif ctype in ("message/rfc822", "message/global"):
            inner = part.message.get_payload()
            subject = ""
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                for key, value in inner[0].raw_items():
                    if key.lower() == "subject":
                        subject = fold(decode_header(unfold(value), "attachment name", st))
                        break
            names.append(f"{subject or 'message'}.eml")
        elif part.disposition == "attachment":
            st.defect(f"an attachment ({ctype}) has no file name")

    visit(top, False)
    return names
