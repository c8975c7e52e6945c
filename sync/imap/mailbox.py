"""``ImapMailbox``: the :class:`~sync.mailbox.Mailbox` protocol over IMAP, read-only.

Reading never changes the server: folders are opened with EXAMINE (read-only SELECT), and
messages fetched with ``BODY.PEEK[]``, which unlike ``BODY[]`` or ``RFC822`` does not set
``\\Seen``. The only writes are the explicit :meth:`ImapMailbox.save_draft` (an APPEND to the
Drafts folder); IMAP cannot send, so :meth:`ImapMailbox.send` says to use an SMTP transport.
:meth:`ImapMailbox.was_sent` looks for a Message-ID in the sent folder the same read-only way
(EXAMINE, ``UID SEARCH HEADER Message-ID``, ``BODY.PEEK``).

A dropped connection, a reset or a timeout is a :class:`~sync.mailbox.MailboxError`; the
connection is then treated as dead (later calls raise the same error) and nothing is retried
behind the caller's back: the sync run writes nothing, and the next run starts again from the
state it saved last.
"""

from __future__ import annotations

import imaplib
import itertools
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from imapclient import IMAPClient

from ..mailbox import (
    Changes,
    Folder,
    MailboxError,
    MessageRef,
    bracketed_message_id,
    header_message_id,
    parse_url,
    same_message_id,
    warn_gone,
)
from ..net import lost_connection
from .connection import connect, logout
from .folders import Listed, parse_listing, wire_name
from .state import FolderState, Selected, decode_state, nothing_new

log = logging.getLogger("sync.imap")

FETCH_BATCH = 50  # messages per UID FETCH: few round trips, bounded memory
_DRAFT_FLAGS = (b"\\Draft", b"\\Seen")
_LINE_END = re.compile(rb"\r?\n")


class ImapMailbox:
    """A mailbox on an IMAP server: ``imap://user@host[:port]`` or ``imaps://user@host[:port]``.

    Connects and logs in here, so a wrong password or an unreachable server fails before any
    work starts. ``address`` is the mailbox's own address when the user name is not one.
    """

    def __init__(self, url: str, *, address: str | None = None, insecure: bool = False) -> None:
        parsed = parse_url(url)
        if parsed.scheme not in ("imap", "imaps"):
            raise ValueError(f"ImapMailbox reads imap:// and imaps:// URLs, not {url!r}")
        self.url = parsed.text
        user = parsed.user or ""
        self.address = user if "@" in user else address
        self._client: IMAPClient | None = connect(parsed, insecure=insecure)
        self._broken: MailboxError | None = None
        self._wire: dict[str, str] = {}  # folder name → name as the server sent it
        self._selected: str | None = None  # the folder EXAMINEd now
        self._validity: dict[str, int] = {}  # folder → UIDVALIDITY its refs were listed under

    # -- the Mailbox protocol

    def folders(self) -> list[Folder]:
        return [Folder(listed.name, listed.role) for listed in self._list()]

    def changes(self, folder: str, state: str | None) -> Changes:
        """UIDs above the last one ``state`` saw; the whole folder when UIDVALIDITY changed
        (or the state is unreadable), with ``reset=True``."""
        now = self._examine(folder)
        self._validity[folder] = now.uidvalidity
        old = decode_state(self.url, folder, state) if state is not None else None
        reset = state is not None and old is None
        if old is not None and old.uidvalidity != now.uidvalidity:
            log.info(
                "%s: %s: UIDVALIDITY changed (%d → %d): the server renumbered the folder;"
                " listing all of it again",
                self.url,
                folder,
                old.uidvalidity,
                now.uidvalidity,
            )
            old, reset = None, True
        if old is None:
            uids = self._search(folder, b"ALL") if now.exists else []
            last = max(uids, default=0)
        elif nothing_new(old, now):
            uids, last = [], old.last_uid
        else:
            # "n:*" always matches the highest UID, even when it is below n (RFC 3501 §6.4.8).
            found = self._search(folder, b"UID %d:*" % (old.last_uid + 1))
            uids = [uid for uid in found if uid > old.last_uid]
            last = max([old.last_uid, *uids])
        new_state = FolderState(now.uidvalidity, last, now.modseq).encode()
        return Changes([MessageRef(folder, str(uid)) for uid in sorted(uids)], new_state, reset)

    def fetch(self, refs: Sequence[MessageRef]) -> Iterator[tuple[MessageRef, bytes]]:
        """Each message's raw bytes, in the order asked; messages deleted since they were
        listed are skipped with a log line."""
        for folder, group in itertools.groupby(refs, key=lambda ref: ref.folder):
            batch_refs = list(group)
            for ref in batch_refs:
                if not ref.key.isdigit():
                    raise ValueError(f"{ref} is not an IMAP message (its key is not a UID)")
            self._open_for_fetch(folder)
            for start in range(0, len(batch_refs), FETCH_BATCH):
                batch = batch_refs[start : start + FETCH_BATCH]
                got = self._fetch_batch(folder, sorted({int(ref.key) for ref in batch}))
                for ref in batch:
                    data = got.get(int(ref.key))
                    if data is None:
                        warn_gone(log, self.url, folder, f"UID {ref.key}")
                        continue
                    yield ref, data

    def send(self, message: bytes) -> None:
        raise MailboxError(
            self.url,
            "an IMAP mailbox cannot send mail",
            "send through the provider's SMTP server: --transport smtps://user@host (port 465) "
            "or smtp://user@host (port 587, STARTTLS)",
        )

    def save_draft(self, message: bytes) -> None:
        """APPEND ``message`` to the Drafts folder (created when there is none), flagged
        ``\\Draft`` and ``\\Seen`` as mail clients file their own drafts."""
        drafts = next((f for f in self._list() if f.role == "drafts"), None)
        name = drafts.name if drafts else self._create_drafts()
        data = _LINE_END.sub(b"\r\n", message)  # IMAP literals are CRLF (RFC 3501 §4.3)
        with self._talk(f"saving a draft in {name!r}") as client:
            client.append(wire_name(name, self._wire), data, flags=_DRAFT_FLAGS)
        log.info("%s: draft saved in %s", self.url, name)

    def was_sent(self, message_id: str) -> bool | None:
        """Whether a sent folder holds a message with this Message-ID; None when the mailbox
        has no sent folder (special-use ``\\Sent``, else a folder named so: ``已发送``).

        Mail sent over SMTP reaches the sent folder only when the mail client (or the
        provider: Gmail, Exmail) files a copy there. SEARCH HEADER matches substrings, so the
        Message-IDs it finds are read back and compared whole."""
        return self._in_role("sent", message_id)

    def was_drafted(self, message_id: str) -> bool | None:
        """Whether the drafts folder (``\\Drafts``, else one named so: ``草稿箱``) holds a
        message with this Message-ID; None when the mailbox has none."""
        return self._in_role("drafts", message_id)

    def _in_role(self, role: str, message_id: str) -> bool | None:
        wanted = bracketed_message_id(message_id)
        folders = [listed.name for listed in self._list() if listed.role == role]
        if not folders:
            return None
        return any(self._holds(folder, wanted) for folder in folders)

    def _holds(self, folder: str, wanted: str) -> bool:
        self._examine(folder)
        charset = None if wanted.isascii() else "UTF-8"
        with self._talk(f"searching {folder!r}") as client:
            uids = client.search([b"HEADER", b"Message-ID", wanted.encode()], charset=charset)
            if not uids:
                return False
            found = client.fetch(uids, [b"BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        headers = [
            data
            for items in found.values()
            for key, data in items.items()
            if key.startswith(b"BODY[") and isinstance(data, bytes)
        ]
        return any(same_message_id(header_message_id(data), wanted) for data in headers)

    def close(self) -> None:
        """LOGOUT; a connection that is already dead is just dropped."""
        client, self._client = self._client, None
        if client is not None:
            logout(client)
        self._broken = self._broken or MailboxError(self.url, "the mailbox was closed")

    def __enter__(self) -> ImapMailbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- talking to the server

    @contextmanager
    def _talk(self, doing: str) -> Iterator[IMAPClient]:
        """The client, turning socket trouble and refusals into :class:`MailboxError`."""
        if self._broken is not None or self._client is None:
            raise self._broken or MailboxError(self.url, "the mailbox was closed")
        try:
            yield self._client
        except (OSError, imaplib.IMAP4.abort) as error:
            self._broken = lost_connection(self.url, doing, error)
            self._selected = None
            raise self._broken from None
        except imaplib.IMAP4.error as error:
            raise MailboxError(self.url, f"the server refused {doing} ({error})") from None

    def _list(self) -> list[Listed]:
        with self._talk("listing folders") as client:
            if client.has_capability("XLIST") and not client.has_capability("SPECIAL-USE"):
                entries = client.xlist_folders()
            else:
                entries = client.list_folders()
        listed = parse_listing(entries)
        self._wire = {f.name: f.wire for f in listed}
        return listed

    def _examine(self, folder: str) -> Selected:
        """EXAMINE ``folder`` (never SELECT: a read-write open may clear ``\\Recent``)."""
        refused = None
        with self._talk(f"opening folder {folder!r}") as client:
            try:
                info = client.select_folder(wire_name(folder, self._wire), readonly=True)
            except imaplib.IMAP4.abort:
                raise
            except imaplib.IMAP4.error as error:
                refused = str(error)
        if refused is not None:
            self._selected = None
            names = ", ".join(f.name for f in self._list()) or "none"
            raise MailboxError(
                self.url,
                f"folder {folder!r} could not be opened (the server said: {refused})",
                f"the folders are: {names}",
            )
        self._selected = folder
        uidvalidity = info.get(b"UIDVALIDITY")
        if not isinstance(uidvalidity, int):
            log.warning("%s: %s: the server sent no UIDVALIDITY", self.url, folder)
            uidvalidity = 0
        modseq = None if b"NOMODSEQ" in info else info.get(b"HIGHESTMODSEQ")
        return Selected(uidvalidity, int(info.get(b"EXISTS", 0)), info.get(b"UIDNEXT"), modseq)

    def _search(self, folder: str, criteria: bytes) -> list[int]:
        with self._talk(f"listing the messages of {folder!r}") as client:
            return [int(uid) for uid in client.search(criteria)]

    def _open_for_fetch(self, folder: str) -> None:
        """EXAMINE ``folder`` unless it is open, and make sure its UIDs still mean what they
        meant when it was listed."""
        if self._selected == folder:
            return
        now = self._examine(folder)
        listed_under = self._validity.get(folder)
        if listed_under is not None and listed_under != now.uidvalidity:
            raise MailboxError(
                self.url,
                f"folder {folder!r} was renumbered by the server (UIDVALIDITY changed) after "
                "it was listed, so its message numbers no longer name the same messages",
                "run the sync again: it lists the folder anew",
            )

    def _fetch_batch(self, folder: str, uids: list[int]) -> dict[int, bytes]:
        """UID FETCH BODY.PEEK[] of ``uids``: UID → bytes for the messages that still exist."""
        doing = f"fetching messages from {folder!r}"
        for attempt in (1, 2):
            refused = None
            with self._talk(doing) as client:
                try:
                    response = client.fetch(uids, [b"BODY.PEEK[]"])
                except imaplib.IMAP4.abort:
                    raise
                except imaplib.IMAP4.error as error:
                    refused = error
            if refused is None:
                break
            if attempt == 2:
                raise MailboxError(self.url, f"the server refused {doing} ({refused})")
            # Dovecot answers NO [EXPUNGEISSUED] when another client deleted one of them:
            # re-open the folder to see the deletions, then ask again for what is left.
            log.info("%s: %s: %s; re-opening the folder", self.url, folder, refused)
            self._examine(folder)
        found = {}
        for uid, items in response.items():
            data = items.get(b"BODY[]")
            if isinstance(data, bytes):
                found[int(uid)] = data
        return found

    def _create_drafts(self) -> str:
        """Create a Drafts folder in the personal namespace (``INBOX.Drafts`` on servers whose
        folders all live under INBOX) and subscribe to it, so mail clients show it."""
        prefix = ""
        with self._talk("reading the folder namespace") as client:
            if client.has_capability("NAMESPACE"):
                personal = client.namespace().personal or ()
                if personal:
                    raw = personal[0][0]
                    prefix = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        name = f"{prefix}Drafts"
        with self._talk(f"creating folder {name!r}") as client:
            try:
                client.create_folder(name)
            except imaplib.IMAP4.abort:
                raise
            except imaplib.IMAP4.error as error:
                if "EXISTS" not in str(error).upper():  # [ALREADYEXISTS]: another client won
                    raise
            try:
                client.subscribe_folder(name)
            except imaplib.IMAP4.abort:
                raise
            except imaplib.IMAP4.error as error:
                log.info("%s: could not subscribe to %s (%s)", self.url, name, error)
        log.info("%s: created folder %s for drafts", self.url, name)
        self._list()
        return name
