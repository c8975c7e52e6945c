"""A notice, its deterministic Message-ID, and the MIME message it becomes.

A notice is mail among colleagues (an owner, the warehouse, a team lead), so it is plain:
a text body, optionally an HTML alternative, ``Auto-Submitted: auto-generated`` so that
out-of-office replies stay quiet (RFC 3834), and no tracking or unsubscribe machinery.

The Message-ID is derived from the notice's key and the workbook's salt (the one campaigns
keep in the workbook's state), so the same notice from the same workbook always has the same
id — which is how a repeated run knows it was sent (the id is in Interactions) and how an
interrupted run asks the sent items — while two workbooks never share ids.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import hashlib
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr

from ..contact import NOTICE_ID_PREFIX as ID_PREFIX
from ..errors import XlcrmError

_LINE_BREAKS = re.compile(r"[\r\n\t]+")
_SEPARATORS = re.compile(r"[;；，,、]+")


@dataclass(frozen=True)
class Notice:
    """One internal e-mail. ``key`` names it for good: the same key is never sent twice.

    ``to`` is one or more addresses (``;`` or ``,`` between them, ``Name <address>`` allowed).
    The ids link the Interactions row that records it to the customer, deal or ticket.
    """

    key: str
    to: str
    subject: str
    text: str
    html: str | None = None
    customer_id: str | None = None
    deal_id: str | None = None
    ticket_id: str | None = None


def notice_message_id(salt: str, key: str, sender: str) -> str:
    """``xlcrm.n.<digest>@<sender's domain>``: the same every time for this key and workbook
    (normalised as sync stores Message-IDs: no brackets, lower case)."""
    digest = hashlib.sha256(f"{salt}\0notice\0{key}".encode()).hexdigest()[:24]
    domain = parseaddr(sender)[1].rpartition("@")[2].lower() or "xlcrm.invalid"
    return f"{ID_PREFIX}{digest}@{domain}"


def id_left(message_id: str) -> str:
    """The part before ``@``: what identifies a notice whatever the sender's domain was."""
    return message_id.strip("<> ").rpartition("@")[0].lower()


def recipients(to: str, where: str) -> str:
    """``to`` as a To header value (addresses separated by commas), or an error."""
    parts = [p.strip() for p in _SEPARATORS.split(to or "") if p.strip()]
    found = []
    for part in parts:
        pairs = getaddresses([part])
        if len(pairs) != 1 or "@" not in pairs[0][1]:
            raise XlcrmError(where, f"{part!r} is not an e-mail address")
        found.append(part)
    if not found:
        raise XlcrmError(where, "the notice has no recipient")
    return ", ".join(found)


def compose(notice: Notice, sender: str, message_id: str, date: dt.datetime) -> bytes:
    """The bytes of the message: text, optionally an HTML alternative; UTF-8 headers."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = sender
    message["To"] = recipients(notice.to, f"notice {notice.key}")
    message["Subject"] = _LINE_BREAKS.sub(" ", notice.subject).strip()
    message["Date"] = format_datetime(date.astimezone())
    message["Message-ID"] = f"<{message_id}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(notice.text)
    if notice.html:
        message.add_alternative(notice.html, subtype="html")
    return message.as_bytes()
