"""The mailbox the EWS test server holds: folders, items with their MIME bytes, and a change log.

Every change (an item created, read, deleted, moved) gets the next sequence number. A
SyncFolderItems state is an opaque token naming a folder and a sequence number; what changed in
the folder after that number is what the next call reports, the way Exchange's ICS states work.
A token the store does not know (or no longer knows: :meth:`Store.expire_sync_states`) is
``ErrorInvalidSyncStateData``.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import email.utils
import hashlib
import re
import secrets
import threading
from dataclasses import dataclass, field

CHARSET = re.compile(rb'charset="?([A-Za-z0-9_.:-]+)', re.IGNORECASE)


def new_id(kind: bytes) -> str:
    """An id shaped like Exchange's: base64 of a long binary entry id."""
    return base64.b64encode(b"AAMkAD" + kind + secrets.token_bytes(60)).decode("ascii")


@dataclass
class StoredFolder:
    id: str
    name: str
    parent: str | None
    distinguished: str | None = None
    folder_class: str = "IPF.Note"
    element: str = "Folder"  # t:Folder, t:CalendarFolder…


@dataclass
class StoredItem:
    id: str
    folder: str
    mime: bytes
    created: int  # sequence number of its creation in this folder
    changed: int  # sequence number of its last change (read flag)
    is_read: bool = False
    is_draft: bool = False

    @property
    def change_key(self) -> str:
        return base64.b64encode(hashlib.sha1(f"{self.id}{self.changed}".encode()).digest()).decode()

    @property
    def charset(self) -> str:
        """What EWS puts in MimeContent's CharacterSet: the message's own charset label."""
        found = CHARSET.search(self.mime.split(b"\r\n\r\n", 1)[0]) or CHARSET.search(self.mime)
        return found.group(1).decode("ascii").upper() if found else "UTF-8"

    @property
    def message_id(self) -> str | None:
        """The InternetMessageId Exchange takes from the MIME's Message-ID, as written."""
        parsed = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(
            self.mime, headersonly=True
        )
        value = parsed.get("Message-ID")
        return "".join(str(value).split()) if value else None

    @property
    def subject(self) -> str:
        parsed = email.parser.BytesParser(policy=email.policy.default).parsebytes(
            self.mime, headersonly=True
        )
        return str(parsed.get("Subject", ""))


@dataclass(frozen=True)
class Change:
    kind: str  # "Create", "ReadFlagChange", "Delete"
    seq: int
    item_id: str
    is_read: bool = False


@dataclass(frozen=True)
class Transmission:
    """A message that left the server: who it went to, and the bytes as transmitted."""

    sender: str
    recipients: tuple[str, ...]
    mime: bytes


@dataclass
class Store:
    """One mailbox's contents, safe to use from the server's request threads."""

    address: str
    folders: dict[str, StoredFolder] = field(default_factory=dict)
    items: dict[str, StoredItem] = field(default_factory=dict)
    deleted: list[tuple[str, int, int, str]] = field(default_factory=list)  # folder, seq, born, id
    sync_states: dict[str, tuple[str, int]] = field(default_factory=dict)
    outbox: list[Transmission] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    last_seq: int = 0  # the newest change's sequence number

    def next_seq(self) -> int:
        with self.lock:
            self.last_seq += 1
            return self.last_seq

    # -- folders

    def add_folder(
        self,
        name: str,
        parent: str | None,
        distinguished: str | None = None,
        *,
        folder_class: str = "IPF.Note",
        element: str = "Folder",
    ) -> StoredFolder:
        folder = StoredFolder(new_id(b"F"), name, parent, distinguished, folder_class, element)
        self.folders[folder.id] = folder
        return folder

    def distinguished(self, name: str) -> StoredFolder | None:
        return next((f for f in self.folders.values() if f.distinguished == name), None)

    def children(self, parent: str, *, deep: bool) -> list[StoredFolder]:
        """Sub-folders of ``parent``, depth first, each level sorted by name."""
        found: list[StoredFolder] = []
        for folder in sorted(self.folders.values(), key=lambda f: f.name):
            if folder.parent == parent:
                found.append(folder)
                if deep:
                    found.extend(self.children(folder.id, deep=True))
        return found

    # -- items

    def add_item(
        self, folder: str, mime: bytes, *, is_read: bool = False, is_draft: bool = False
    ) -> StoredItem:
        with self.lock:
            seq = self.next_seq()
            item = StoredItem(new_id(b"I"), folder, mime, seq, seq, is_read, is_draft)
            self.items[item.id] = item
            return item

    def in_folder(self, folder: str) -> list[StoredItem]:
        with self.lock:
            return sorted(
                (i for i in self.items.values() if i.folder == folder), key=lambda i: i.created
            )

    def mark_read(self, item_id: str, is_read: bool = True) -> None:
        with self.lock:
            item = self.items[item_id]
            item.is_read = is_read
            item.changed = self.next_seq()

    def delete(self, item_id: str) -> None:
        with self.lock:
            item = self.items.pop(item_id)
            self.deleted.append((item.folder, self.next_seq(), item.created, item.id))

    def move(self, item_id: str, folder: str) -> StoredItem:
        """Exchange gives a moved item a new id in its new folder."""
        with self.lock:
            item = self.items[item_id]
            self.delete(item_id)
            return self.add_item(folder, item.mime, is_read=item.is_read, is_draft=False)

    # -- incremental sync

    def changes_since(self, folder: str, seq: int) -> list[Change]:
        """What changed in ``folder`` after ``seq``, oldest first; an item created and changed
        since is one Create, an item created and deleted since is nothing."""
        with self.lock:
            found = []
            for item in self.items.values():
                if item.folder != folder:
                    continue
                if item.created > seq:
                    found.append(Change("Create", item.created, item.id))
                elif item.changed > seq:
                    found.append(Change("ReadFlagChange", item.changed, item.id, item.is_read))
            for where, when, born, item_id in self.deleted:
                if where == folder and when > seq and born <= seq:
                    found.append(Change("Delete", when, item_id))
            return sorted(found, key=lambda c: c.seq)

    def new_sync_state(self, folder: str, seq: int) -> str:
        token = base64.b64encode(b"\x1f\x8b\x08\x00" + secrets.token_bytes(45)).decode("ascii")
        with self.lock:
            self.sync_states[token] = (folder, seq)
        return token

    def expire_sync_states(self) -> None:
        with self.lock:
            self.sync_states.clear()

    # -- sending

    def transmit(self, mime: bytes) -> Transmission:
        """Send ``mime`` to its To, Cc and Bcc recipients; Bcc is not transmitted."""
        headers = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(
            mime, headersonly=True
        )
        recipients = tuple(
            address
            for _, address in email.utils.getaddresses(
                [str(v) for name in ("To", "Cc", "Bcc") for v in headers.get_all(name, [])]
            )
            if address
        )
        if not recipients:
            raise ValueError("ErrorInvalidRecipients")
        senders = [a for _, a in email.utils.getaddresses(headers.get_all("From", []))]
        if senders and any(a.lower() != self.address.lower() for a in senders):
            raise PermissionError("ErrorSendAsDenied")
        sent = Transmission(self.address, recipients, without_bcc(mime))
        with self.lock:
            self.outbox.append(sent)
        return sent


def without_bcc(mime: bytes) -> bytes:
    """``mime`` without its Bcc header (and the header's continuation lines), byte for byte
    otherwise."""
    end = re.search(rb"\r?\n\r?\n", mime)
    head, body = (mime[: end.start()], mime[end.start() :]) if end else (mime, b"")
    newline = b"\r\n" if b"\r\n" in head else b"\n"
    kept: list[bytes] = []
    dropping = False
    for line in head.split(newline):
        if line[:1] in (b" ", b"\t"):  # a folded header's continuation
            if not dropping:
                kept.append(line)
            continue
        dropping = line.lower().startswith(b"bcc:")
        if not dropping:
            kept.append(line)
    return newline.join(kept) + body
