"""Mail for tests: messages as a mail client writes them, and a Maildir to put them in."""

from __future__ import annotations

import datetime as dt
import mailbox
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from sync.local import MaildirMailbox

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def mail(
    sender: str,
    to: str,
    subject: str,
    body: str = "Hello.",
    *,
    ident: str | None,
    at: dt.datetime = T0,
    reply_to_id: str | None = None,
    cc: str | None = None,
    headers: dict[str, str] | None = None,
    charset: str = "utf-8",
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(at)
    if ident:
        msg["Message-ID"] = f"<{ident}>"
    if reply_to_id:
        msg["In-Reply-To"] = f"<{reply_to_id}>"
        msg["References"] = f"<{reply_to_id}>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body, charset=charset)
    return msg.as_bytes()


class Mail:
    """A Maildir with an INBOX and a Sent folder, filled by the test."""

    def __init__(self, root: Path, address: str | None = None) -> None:
        self.root = root
        self.address = address
        self.inbox = mailbox.Maildir(root, create=True)
        self.sent = self.inbox.add_folder("Sent")

    @property
    def url(self) -> str:
        return f"maildir:{self.root}"

    def receive(self, data: bytes) -> None:
        self.inbox.add(data)

    def send(self, data: bytes) -> None:
        self.sent.add(data)

    def open(self) -> MaildirMailbox:
        return MaildirMailbox(self.url, address=self.address)
