"""The ``Mailbox`` protocol every mail backend implements, and mailbox URLs.

A sync run asks a mailbox three things: which folders it has, what changed in a folder since
an opaque ``state`` string it handed out last time, and the raw bytes of some messages. A
mailbox is *never modified* by a sync: backends read with peeking operations only (IMAP
``BODY.PEEK``, EWS/Graph reads), never set flags, never move or delete.

Campaigns and contracts (issue #4) also *write* through a mailbox, and only through these two
explicit calls: ``send`` (Exchange and Graph send themselves; IMAP mailboxes send through an
SMTP transport, :mod:`sync.smtp`) and ``save_draft`` (a message left in the Drafts folder for a
person to check and send). Both take a complete RFC 5322 message whose Message-ID the caller
chose, so a resumed campaign can recognise what already left: ``was_sent(message_id)`` looks
for it in the sent mail (True, False, or None when the backend cannot tell, as SMTP cannot).

A :class:`MailboxError` says whether trying again later can succeed (``temporary``: a server
that is busy, throttling or unreachable, a dropped connection, an SMTP 4xx reply) or not (a
refused login, an address that does not exist, an SMTP 5xx reply), and how long the server
asked to wait (``retry_after``), so a campaign can retry one and record the other.

State is opaque to callers: each backend encodes what it needs (IMAP: UIDVALIDITY and the last
UID; EWS: the SyncFolderItems state; Graph: the delta link; local mail: a watermark) as a string
that the workbook keeps in its ``_xlcrm`` sheet, in the same save as the rows it produced.

Mailboxes are named by URL (``docs/sync.md``)::

    maildir:PATH   mbox:PATH   eml:DIR
    imap://user@host[:port]   imaps://user@host[:port]
    ews://user@host/EWS/Exchange.asmx   graph://user@tenant

URLs never carry passwords; secrets come from the environment, the keyring or a prompt.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable
from urllib.parse import quote, unquote, urlsplit

from .errors import ActionableError

FolderRole = Literal["inbox", "sent", "drafts", "other"]

_ROLE_NAMES: dict[str, FolderRole] = {
    "inbox": "inbox",
    "收件箱": "inbox",
    "sent": "sent",
    "sent items": "sent",
    "sent messages": "sent",
    "sent mail": "sent",
    "已发送": "sent",
    "已发送邮件": "sent",
    "已发邮件": "sent",
    "drafts": "drafts",
    "draft": "drafts",
    "草稿箱": "drafts",
    "草稿": "drafts",
}


def role_from_name(name: str) -> FolderRole:
    """The role a folder's name implies: ``INBOX``, ``Sent Items``, ``已发送``, ``草稿箱``…"""
    return _ROLE_NAMES.get(name.strip().casefold(), "other")


class MailboxError(ActionableError):
    """A mailbox problem a person can act on; the message starts with the mailbox URL.

    ``temporary``: the same request may succeed later (busy, throttled, unreachable, dropped);
    False means it will fail again until someone changes something. ``retry_after``: the
    seconds the server asked to wait, when it said. A send that broke after the message was
    handed over is temporary too, but may have gone: ``maybe_sent`` says so (as does its
    hint), and ``was_sent`` can tell where the transport keeps sent mail. A sender must not
    simply try such a message again.
    """

    where: str  # always the mailbox's URL

    def __init__(
        self,
        where: str,
        message: str,
        hint: str | None = None,
        *,
        temporary: bool = False,
        retry_after: float | None = None,
        maybe_sent: bool = False,
    ) -> None:
        self.temporary = temporary
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent
        super().__init__(where, message, hint)


def warn_unreadable_state(log: logging.Logger, url: str, folder: str, error: object) -> None:
    """Every backend says the same when a saved state is not its own: it lists everything."""
    log.warning(
        "%s: %s: the saved sync state is not one this backend wrote (%s); listing the whole folder",
        url,
        folder,
        error,
    )


def warn_gone(log: logging.Logger, url: str, folder: str, key: str) -> None:
    """A message listed a moment ago and deleted or moved since: skipped, not an error."""
    log.warning(
        "%s: %s: message %s is gone since it was listed (deleted or moved); skipped",
        url,
        folder,
        key,
    )


@dataclass(frozen=True)
class Folder:
    """A folder as the user names it (``INBOX``, ``已发送``), and what it is for."""

    name: str
    role: FolderRole = "other"


@dataclass(frozen=True)
class MessageRef:
    """One message in one folder; ``key`` is the backend's own id (UID, file name, ItemId)."""

    folder: str
    key: str


@dataclass(frozen=True)
class Changes:
    """What a folder holds that a previous listing (``state``) had not seen.

    ``reset`` is True when the old state no longer applies (IMAP UIDVALIDITY changed, a Graph
    delta link expired, an mbox was rewritten): ``refs`` is then the whole folder, and the
    caller relies on Message-ID deduplication to add nothing twice.
    """

    refs: list[MessageRef]
    state: str
    reset: bool = False


@runtime_checkable
class Mailbox(Protocol):
    """Read access (and, where the backend can, sending) for one mailbox."""

    url: str  # the mailbox URL without secrets: used in messages and as the state key
    address: str | None  # the mailbox's own address, when the backend knows it

    def folders(self) -> list[Folder]:
        """The folders, with inbox / sent / drafts roles where the server says so."""
        ...

    def changes(self, folder: str, state: str | None) -> Changes:
        """Messages in ``folder`` not listed under ``state`` (None: everything)."""
        ...

    def fetch(self, refs: Sequence[MessageRef]) -> Iterator[tuple[MessageRef, bytes]]:
        """The raw RFC 5322 bytes of each message, without changing anything on the server."""
        ...

    def send(self, message: bytes) -> None:
        """Send ``message`` (recipients from its To, Cc and Bcc; Bcc is not transmitted).

        Backends that cannot send raise :class:`MailboxError` naming what can.
        """
        ...

    def save_draft(self, message: bytes) -> None:
        """Store ``message`` in the Drafts folder, unsent."""
        ...

    def was_sent(self, message_id: str) -> bool | None:
        """Whether a message with this Message-ID is in the sent mail: True, False, or None
        when this mailbox has no sent folder to look in."""
        ...

    def was_drafted(self, message_id: str) -> bool | None:
        """Whether a message with this Message-ID is in the drafts (what :meth:`save_draft`
        leaves there), so that a run saving drafts that was killed mid-save saves each draft
        once: True, False, or None when there is no drafts folder to look in."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Transport(Protocol):
    """Something that sends mail: an SMTP server, or a mailbox that can send (EWS, Graph)."""

    url: str

    def send(self, message: bytes) -> None: ...

    def was_sent(self, message_id: str) -> bool | None:
        """True when a message with this Message-ID went out through here (it is in the sent
        mail), False when it did not, None when this transport cannot tell (SMTP). The id is
        compared without angle brackets, white space or case; ValueError when it is none."""
        ...

    def close(self) -> None: ...


# ---- Message-IDs ---------------------------------------------------------------------------

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_ANGLED = re.compile(r"<[^<>]*>")
_MESSAGE_ID_FIELD = re.compile(
    rb"^message-id[ \t]*:((?:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*))", re.I | re.M
)


def bracketed_message_id(message_id: str) -> str:
    """``abc@x.cn``, ``<abc@x.cn>`` or a folded `` <abc@x.cn> `` → ``<abc@x.cn>``: the form
    servers store and search for. ValueError when it is not a Message-ID."""
    ident = "".join(message_id.split())
    if ident.startswith("<") and ident.endswith(">"):
        ident = ident[1:-1]
    at = ident.rfind("@")
    if at <= 0 or at == len(ident) - 1 or "<" in ident or ">" in ident or not ident.isprintable():
        raise ValueError(f"not a Message-ID: {message_id!r}")
    return f"<{ident}>"


def same_message_id(a: str | None, b: str | None) -> bool:
    """Whether two Message-IDs are the same, angle brackets, white space and case aside (sync
    compares them lower-cased too, see :func:`sync.message.normalise_message_id`)."""
    if not a or not b:
        return False
    try:
        return bracketed_message_id(a).casefold() == bracketed_message_id(b).casefold()
    except ValueError:
        return False


def header_message_id(message: bytes) -> str | None:
    """The Message-ID field of ``message`` (or of its header alone), unfolded; None if none."""
    found = _HEADER_END.search(message)
    head = message[: found.start()] if found else message
    field = _MESSAGE_ID_FIELD.search(head)
    if field is None:
        return None
    value = "".join(field.group(1).decode("utf-8", "replace").split())
    angled = _ANGLED.search(value)  # "<id> (comment)" → "<id>"
    return (angled.group(0) if angled else value) or None


@dataclass(frozen=True)
class MailboxURL:
    """A parsed mailbox URL: ``scheme://user@host:port/path`` or ``scheme:PATH``."""

    scheme: str
    user: str | None = None
    host: str | None = None
    port: int | None = None
    path: str = ""

    @property
    def text(self) -> str:
        """The URL as written back in messages and state keys (never with a password)."""
        if self.host is None:
            return f"{self.scheme}:{self.path}"
        user = f"{quote(self.user, safe='')}@" if self.user else ""  # me%40corp.cn@host
        port = f":{self.port}" if self.port else ""
        return f"{self.scheme}://{user}{self.host}{port}{self.path}"

    def replace(self, **changes: object) -> MailboxURL:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


LOCAL_SCHEMES = ("maildir", "mbox", "eml")
SERVER_SCHEMES = ("imap", "imaps", "ews", "ews+http", "graph")
MAILBOX_SCHEMES = LOCAL_SCHEMES + SERVER_SCHEMES
TRANSPORT_SCHEMES = ("smtp", "smtps")


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` is this machine (``localhost``, 127.0.0.0/8, ``::1``): the only place
    plain-http forms (``ews+http://``, a Graph base-URL override) are allowed to point."""
    if not host:
        return False
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_url(url: str, *, schemes: tuple[str, ...] = MAILBOX_SCHEMES) -> MailboxURL:
    """Parse a mailbox URL (or, with ``schemes=TRANSPORT_SCHEMES``, an SMTP URL); refuse
    passwords in it, unknown schemes, and plain http to anywhere but this machine."""
    scheme, sep, rest = url.partition(":")
    scheme = scheme.lower()
    if not sep or scheme not in schemes:
        known = ", ".join(f"{s}:" for s in schemes)
        what = "an SMTP URL" if schemes == TRANSPORT_SCHEMES else "a mailbox URL"
        raise MailboxError(url, f"not {what}", f"use one of: {known}")
    if scheme in LOCAL_SCHEMES:
        path = rest[2:] if rest.startswith("//") else rest
        if not path:
            raise MailboxError(url, "the URL names no path", f"write it as {scheme}:PATH")
        return MailboxURL(scheme, path=unquote(path))
    parts = urlsplit(url)
    if parts.password:
        shown = url.replace(f":{parts.password}@", ":***@")
        raise MailboxError(
            shown,
            "passwords do not belong in mailbox URLs (they end up in shell history)",
            "set XLCRM_PASSWORD or store it in the keyring instead",
        )
    if not parts.hostname:
        raise MailboxError(url, "the URL names no server", f"write it as {scheme}://user@host")
    try:
        port = parts.port
    except ValueError:
        raise MailboxError(url, "the port is not a number") from None
    if scheme.endswith("+http") and not is_loopback(parts.hostname):
        raise MailboxError(
            url,
            "plain http would send the password unencrypted",
            f"use {scheme.removesuffix('+http')}:// (https); plain http is only for test servers "
            "on this machine",
        )
    return MailboxURL(
        scheme,
        unquote(parts.username) if parts.username else None,
        parts.hostname,
        port,
        parts.path,
    )
