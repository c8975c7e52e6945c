"""Raw bytes → :class:`MailMessage`: one pass over the headers, then each stage in turn."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message

from .addresses import ANGLE_ID, Address, message_ids, normalise_message_id, parse_addresses
from .autoreply import AUTO_HEADERS, LIST_HEADERS
from .body import PART_HEADERS, Part, attachment_names, body_parts, part_text
from .bounce import PERSON, Bounce, Complaint, classify
from .bounce_rules import COMPLAINT_HEADERS, UNSUBSCRIBE_HEADERS
from .headers import decode_header, fold, parse_date, unfold
from .html import html_to_text
from .lighten import without_attachment_bodies
from .split import message_from_bytes
from .state import State
from .summary import summary


@dataclass(slots=True)
class MailMessage:
    """What sync needs from one message, decoded and normalised; see :func:`parse_message`.

    Not frozen, unlike the small value classes: a frozen dataclass sets each of its 19 fields
    through ``object.__setattr__``, a measurable cost when a sync parses 10,000 messages.
    """

    message_id: str  # normalised; "sha256:<hex>" when synthetic_id
    synthetic_id: bool
    subject: str
    sender: Address | None
    to: list[Address]
    cc: list[Address]
    bcc: list[Address]  # present in copies from Sent folders
    reply_to: list[Address]
    date: datetime | None  # aware; from Date, else the newest Received
    in_reply_to: str | None
    references: list[str]
    text: str  # the whole body text, quotes included, "\n" line ends
    summary: str  # the new text only, whitespace folded, about SUMMARY_CHARS long
    attachments: list[str]  # file names only
    auto_reply: bool
    bounce: Bounce | None
    list_unsubscribe: list[str]  # the URIs of List-Unsubscribe, in order
    headers_charset_guessed: bool
    defects: list[str] = field(default_factory=list)
    # person, auto-reply, list, bounce, delay, delivered or complaint (see bounce.py)
    kind: str = PERSON
    complaint: Complaint | None = None  # an ARF report: who complained, about which message


_WANTED = PART_HEADERS | frozenset(
    [
        "message-id",
        "subject",
        "from",
        "sender",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "date",
        "received",
        "in-reply-to",
        "references",
        "precedence",
        "list-unsubscribe",
        "x-failed-recipients",
        "return-path",
        *COMPLAINT_HEADERS,
        *UNSUBSCRIBE_HEADERS,
        *AUTO_HEADERS,
        *LIST_HEADERS,
    ]
)
_SINGLE = {"message-id": "Message-ID", "subject": "Subject", "from": "From", "date": "Date"}


def parse_message(raw: bytes) -> MailMessage:
    """Parse one message's raw bytes; never raises, problems go to ``defects``.

    See the module docstring for the reasons behind the choices; each field is documented on
    :class:`MailMessage` and in the helpers below.
    """
    raw = bytes(raw)
    if raw[:1] in (b"\r", b"\n", b" ", b"\t"):
        raw = raw.lstrip(b"\r\n \t")  # a leading blank line would make everything body
    st = State()
    try:
        message = message_from_bytes(without_attachment_bodies(raw))
        return _parse(message, st)
    except Exception as error:  # a bug here must not stop a sync of thousands of messages
        st.defect(f"parser error: {type(error).__name__}: {error}")
        return MailMessage(
            message_id="sha256:" + hashlib.sha256(raw).hexdigest(),
            synthetic_id=True,
            subject="",
            sender=None,
            to=[],
            cc=[],
            bcc=[],
            reply_to=[],
            date=None,
            in_reply_to=None,
            references=[],
            text="",
            summary="",
            attachments=[],
            auto_reply=False,
            bounce=None,
            list_unsubscribe=[],
            headers_charset_guessed=st.guessed,
            defects=st.defects,
        )


def _parse(message: Message, st: State) -> MailMessage:
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        key = name.lower()
        if key in _WANTED:
            headers.setdefault(key, []).append(value)
    top = st.top = Part(message, st, headers)
    for key, shown in _SINGLE.items():
        if len(headers.get(key, ())) > 1:
            st.defect(f"{len(headers[key])} {shown} headers; the first one used")

    def header(key: str) -> str:
        values = headers.get(key)
        return unfold(values[0]) if values else ""

    subject = fold(decode_header(header("subject"), "Subject", st))
    senders = parse_addresses(header("from"), "From", st)
    if not senders and "sender" in headers:
        senders = parse_addresses(header("sender"), "Sender", st)
    sender = senders[0] if senders else None
    if sender is None:
        st.defect("no sender address")
    to = [a for v in headers.get("to", ()) for a in parse_addresses(unfold(v), "To", st)]
    cc = [a for v in headers.get("cc", ()) for a in parse_addresses(unfold(v), "Cc", st)]
    bcc = [a for v in headers.get("bcc", ()) for a in parse_addresses(unfold(v), "Bcc", st)]
    reply_to = parse_addresses(header("reply-to"), "Reply-To", st)

    date_header = header("date")
    date = sent = parse_date(date_header) if date_header else None
    if date is None:
        received = [parse_date(unfold(v).rpartition(";")[2]) for v in headers.get("received", ())]
        dates = [d for d in received if d is not None]
        date = max(dates) if dates else None
        what = "no Date header" if not date_header else f"unreadable Date {date_header!r}"
        st.defect(f"{what}; {'the newest Received date used' if date else 'no date known'}")

    in_reply_to = next(iter(message_ids(header("in-reply-to"))), None)
    references = message_ids(header("references"))
    unsubscribe = ["".join(uri.split()) for uri in ANGLE_ID.findall(header("list-unsubscribe"))]

    plain, html = body_parts(top)
    text = part_text(plain, st) if plain else ""
    if html and not text.strip():
        text = html_to_text(part_text(html, st))
    text = text.strip()

    body = {id(p.message) for p in (plain, html) if p}
    attachments = attachment_names(top, body, st)

    # The Message-ID, or a synthetic one over what every copy of the message shares.
    message_id = None
    for value in headers.get("message-id", ()):
        message_id = normalise_message_id(unfold(value))
        if message_id:
            break
    synthetic = message_id is None
    if message_id is None:
        if headers.get("message-id"):
            st.defect(f"broken Message-ID {header('message-id')!r}; a synthetic id used")
        key = "\x1f".join(
            (
                sent.isoformat() if sent else date_header,
                sender.addr if sender else "",
                ",".join(sorted(a.addr for a in to)),
                subject,
                fold(text),
            )
        )
        message_id = "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    # Reports (bounces, delays, complaints) first, then auto-replies and list mail.
    kind = classify(top, headers, subject, sender, to, body, text, st)

    for part in top.walk() if top.children else (top,):
        for defect in part.message.defects:
            st.defect(f"MIME: {type(defect).__name__}")

    return MailMessage(
        message_id=message_id,
        synthetic_id=synthetic,
        subject=subject,
        sender=sender,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=reply_to,
        date=date,
        in_reply_to=in_reply_to,
        references=references,
        text=text,
        summary=summary(text),
        attachments=attachments,
        auto_reply=kind.kind == "auto-reply",
        bounce=kind.bounce,
        list_unsubscribe=unsubscribe,
        headers_charset_guessed=st.guessed,
        defects=st.defects,
        kind=kind.kind,
        complaint=kind.complaint,
    )
