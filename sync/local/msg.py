"""Outlook ``.msg`` files as RFC 5322 bytes, read with extract-msg.

A ``.msg`` (MS-OXMSG) is a compound file of MAPI properties, not a MIME message, so the bytes a
sync gets for it are made here:

- Headers: a received message keeps the transport headers it arrived with
  (``PR_TRANSPORT_MESSAGE_HEADERS``); those are used as they are, except the MIME fields, which
  described the original body rather than the one written here. When there are none (drafts,
  sent items, messages saved before delivery) or a field is missing from them, From, To, Cc,
  Bcc, Subject, Date (submit time, else delivery time), Message-ID, In-Reply-To and References
  come from the MAPI properties. Only SMTP addresses are written; Exchange-internal addresses
  (``/O=…``) are left out.
- Body: the plain-text and HTML bodies (extract-msg derives them from the RTF body when that is
  all the file has) as ``multipart/alternative``, then each attachment with its file name,
  MIME type and Content-ID; an attached Outlook item becomes ``message/rfc822``.

Files written by tools other than Outlook are often slightly off the compound-file spec (empty
streams with a start sector); extract-msg is asked to tolerate such defects rather than refuse
a readable message.
"""

from __future__ import annotations

import codecs
import email.policy
import logging
import mimetypes
import re
from email.headerregistry import Address
from email.message import MIMEPart
from email.parser import BytesParser
from email.utils import format_datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("sync.local")
_POLICY = email.policy.SMTP  # CRLF line ends, RFC 2047 encoded words in headers
_MIME_FIELDS = {"mime-version", "content-type", "content-transfer-encoding", "content-disposition"}
_MS_PREFIX = "Microsoft Mail Internet Headers Version 2.0"
_MIME_TYPE = re.compile(r"[\w.+-]+/[\w.+-]+")
_RECIPIENT_FIELDS = {1: "To", 2: "Cc", 3: "Bcc"}


class MsgError(Exception):
    """The file is not an Outlook message that can be read."""


def msg_to_bytes(path: Path) -> bytes:
    """The message in an Outlook ``.msg`` file as RFC 5322 bytes (CRLF line ends)."""
    try:
        import extract_msg
        from extract_msg.enums import ErrorBehavior
    except ImportError:
        raise MsgError("reading Outlook .msg files needs the extract-msg package") from None
    try:
        msg = extract_msg.openMsg(str(path), errorBehavior=ErrorBehavior.SUPPRESS_ALL)
    except FileNotFoundError:
        raise
    except Exception as error:  # extract-msg and olefile raise many kinds for bad input
        raise MsgError(f"not an Outlook message extract-msg can read ({error})") from error
    try:
        return _message_bytes(msg)
    except Exception as error:
        raise MsgError(f"cannot convert this Outlook message ({error})") from error
    finally:
        msg.close()


def _message_bytes(msg: Any) -> bytes:
    body = _body(msg)
    head = "".join([*_headers(msg), "MIME-Version: 1.0\r\n"]).encode("utf-8")
    return head + body.as_bytes(policy=_POLICY)


# ---- headers -------------------------------------------------------------------------------


def _headers(msg: Any) -> list[str]:
    """Folded header fields, each ending in CRLF; the MIME fields come with the body."""
    fields = _transport_fields(getattr(msg, "headerText", None) or "")
    present = {name.lower() for name, _ in fields}
    lines = [text for _, text in fields]

    def add(name: str, line: str | None) -> None:
        if line and name.lower() not in present:
            lines.append(line)

    add("From", _address_field("From", [_sender(msg)]))
    recipients: dict[str, list[tuple[str, str]]] = {"To": [], "Cc": [], "Bcc": []}
    for recipient in getattr(msg, "recipients", None) or []:
        field = _RECIPIENT_FIELDS.get(int(recipient.type or 0))
        if field:
            recipients[field].append((recipient.name or "", recipient.email or ""))
    for field, people in recipients.items():
        add(field, _address_field(field, people))
    subject = getattr(msg, "subject", None)
    if subject:
        add("Subject", _fold("Subject", _one_line(subject)))
    date = _prop(msg, "00390040") or _prop(msg, "0E060040")
    if date is not None and hasattr(date, "tzinfo"):
        add("Date", _raw_field("Date", format_datetime(date)))
    add("Message-ID", _raw_field("Message-ID", getattr(msg, "messageId", None)))
    add("In-Reply-To", _raw_field("In-Reply-To", getattr(msg, "inReplyTo", None)))
    add("References", _raw_field("References", _string(msg, "1039")))
    return lines


def _transport_fields(text: str) -> list[tuple[str, str]]:
    """The header fields of a transport-header block: (name, the field's raw lines + CRLF)."""
    if text.startswith(_MS_PREFIX):
        text = text[len(_MS_PREFIX) :].lstrip()
    fields: list[tuple[str, list[str]]] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line.strip():
            if fields:
                break  # the end of the header block
            continue
        if line[0] in " \t":
            if fields:
                fields[-1][1].append(line)
            continue
        name, colon, _ = line.partition(":")
        if colon and name.strip() and " " not in name.strip():
            fields.append((name.strip(), [line]))
    return [
        (name, "\r\n".join(lines) + "\r\n")
        for name, lines in fields
        if name.lower() not in _MIME_FIELDS
    ]


def _sender(msg: Any) -> tuple[str, str]:
    name = _string(msg, "0C1A") or _string(msg, "0042") or ""
    address = (
        _string(msg, "5D01")
        or (_string(msg, "0C1F") if (_string(msg, "0C1E") or "").upper() == "SMTP" else None)
        or _string(msg, "5D02")
        or (_string(msg, "0065") if (_string(msg, "0064") or "").upper() == "SMTP" else None)
        or ""
    )
    return name, address


def _address_field(name: str, people: list[tuple[str, str]]) -> str | None:
    addresses = []
    for display, address in people:
        if "@" not in address:
            continue  # an Exchange-internal address, or none: nothing to reply to
        try:
            address = address.strip()
            display = _one_line(display)
            addresses.append(str(Address("" if display == address else display, addr_spec=address)))
        except (ValueError, IndexError):
            continue
    return _fold(name, ", ".join(addresses)) if addresses else None


def _fold(name: str, value: str) -> str:
    """The field folded, with RFC 2047 encoded words for non-ASCII text."""
    folded: str = _POLICY.header_factory(name, value).fold(policy=_POLICY)
    return folded


def _raw_field(name: str, value: str | None) -> str | None:
    value = _one_line(value or "")
    return f"{name}: {value}\r\n" if value else None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _string(msg: Any, prop: str) -> str | None:
    value = msg.getStringStream(f"__substg1.0_{prop}")
    return (value.strip() or None) if isinstance(value, str) else None


def _prop(msg: Any, tag: str) -> Any:
    prop = msg.props.get(tag)
    return getattr(prop, "value", None)


# ---- body ----------------------------------------------------------------------------------


def _body(msg: Any) -> MIMEPart:
    body = MIMEPart(policy=_POLICY)
    text = getattr(msg, "body", None)
    html = getattr(msg, "htmlBody", None)
    if text:
        body.set_content(text, subtype="plain", charset="utf-8")
    if html:
        html_text = _decode_html(html, _prop(msg, "3FDE0003"))
        if text:
            body.add_alternative(html_text, subtype="html", charset="utf-8")
        else:
            body.set_content(html_text, subtype="html", charset="utf-8")
    if not text and not html:
        body.set_content("", subtype="plain", charset="utf-8")
    for attachment in getattr(msg, "attachments", None) or []:
        try:
            _attach(body, attachment)
        except Exception as error:  # one unreadable attachment does not lose the message
            log.warning("an attachment of an Outlook message was left out (%s)", error)
    return body


def _decode_html(html: bytes | str, codepage: int | None) -> str:
    if isinstance(html, str):
        return html
    codec = _codec(codepage)
    try:
        return html.decode(codec)
    except UnicodeDecodeError:
        pass
    try:
        return html.decode("utf-8")
    except UnicodeDecodeError:
        return html.decode(codec, "replace")


def _codec(codepage: int | None) -> str:
    """A Windows code page (PR_INTERNET_CPID) as a Python codec; GBK/GB2312 read as GB18030."""
    if codepage in (936, 20936, 52936, 54936):
        return "gb18030"
    if not isinstance(codepage, int) or codepage in (0, 1200, 1201, 65001):
        return "utf-8"
    try:
        return codecs.lookup(f"cp{codepage}").name
    except LookupError:
        return "utf-8"


def _attach(body: MIMEPart, attachment: Any) -> None:
    from extract_msg.msg_classes import MSGFile

    data = getattr(attachment, "data", None)
    name = (
        getattr(attachment, "longFilename", None)
        or getattr(attachment, "shortFilename", None)
        or getattr(attachment, "name", None)
    )
    cid = (getattr(attachment, "contentId", None) or "").strip().strip("<>") or None
    disposition = "inline" if cid and getattr(attachment, "hidden", False) else "attachment"
    if isinstance(data, MSGFile):
        inner = BytesParser(policy=_POLICY).parsebytes(_message_bytes(data))
        body.add_attachment(inner, filename=name and _eml_name(name), disposition=disposition)
        return
    if not isinstance(data, bytes):
        return  # a link to a file elsewhere, or an attachment extract-msg could not read
    mime = (getattr(attachment, "mimetype", None) or "").strip().lower()
    if not _MIME_TYPE.fullmatch(mime):
        mime = (name and mimetypes.guess_type(name)[0]) or "application/octet-stream"
    maintype, subtype = mime.split("/")
    body.add_attachment(
        data,
        maintype=maintype,
        subtype=subtype,
        filename=name,
        cid=f"<{cid}>" if cid else None,
        disposition=disposition,
    )


def _eml_name(name: str) -> str:
    return name[:-4] + ".eml" if name.lower().endswith(".msg") else name
