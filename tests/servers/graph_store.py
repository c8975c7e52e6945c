"""The mailbox behind the Graph test server: folders, messages, and Exchange-style change tracking.

Every change gets a sequence number, as Exchange's sync state does. A delta token remembers
the sequence number of the round it ends; the next round reports what changed after it:
messages created in (or moved into) the folder, messages updated (read, flagged; left out
with ``changeType=created``) and ``@removed`` entries for messages deleted or moved out (sent
whatever the changeType, as Graph documents). Page contents are fixed when a round starts, so
a message that arrives while a client pages is reported in the next round, never twice.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import itertools
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any


def graph_id(prefix: str, n: int) -> str:
    """An id shaped like Graph's (``AAMkAD…``, base64 with ``-``, ``_`` and ``=``)."""
    return prefix + base64.urlsafe_b64encode(f"\xfb{n:04d}>?".encode("latin-1")).decode()


def graph_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class StoredFolder:
    id: str
    name: str
    parent: str | None
    well_known: str | None = None


@dataclass
class StoredMessage:
    id: str
    folder: str
    mime: bytes
    received: datetime
    created: int  # sequence number of its arrival in its folder
    updated: int
    is_read: bool = False
    is_draft: bool = False

    @property
    def internet_message_id(self) -> str | None:
        """What Exchange keeps of the MIME's Message-ID (``internetMessageId``)."""
        head = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(
            self.mime, headersonly=True
        )
        value = head.get("Message-ID")
        return "".join(str(value).split()) if value else None


@dataclass
class DeltaRound:
    """The pages of one delta round still to be served, and the round's end."""

    folder: str
    entries: list[dict[str, Any]]
    seq: int
    change_type: str | None
    select: list[str] | None


@dataclass
class DeltaCursor:
    folder: str
    seq: int
    change_type: str | None
    select: list[str] | None


@dataclass
class GraphStore:
    user: str = "li@contoso.onmicrosoft.com"
    folders: dict[str, StoredFolder] = field(default_factory=dict)
    messages: dict[str, StoredMessage] = field(default_factory=dict)
    removed: list[tuple[int, str, str]] = field(default_factory=list)  # (seq, folder, id)
    rounds: dict[str, DeltaRound] = field(default_factory=dict)  # skip token → pages left
    cursors: dict[str, DeltaCursor] = field(default_factory=dict)  # delta token → cursor
    outbox: list[bytes] = field(default_factory=list)  # what sendMail transmitted
    lock: threading.RLock = field(default_factory=threading.RLock)
    clock: datetime = datetime(2026, 3, 2, 9, 0, 0, tzinfo=timezone.utc)

    def __post_init__(self) -> None:
        self._seq = itertools.count(1)
        self._ids = itertools.count(1)
        self.seq = 0

    def _next(self) -> int:
        self.seq = next(self._seq)
        return self.seq

    # -- making a mailbox

    def add_folder(self, name: str, parent: str | None = None, well_known: str | None = None):
        with self.lock:
            ident = graph_id("AAMkAGI2TG93AAA", next(self._ids))
            self.folders[ident] = StoredFolder(ident, name, parent, well_known)
            return ident

    def folder(self, name_or_well_known: str) -> StoredFolder:
        for folder in self.folders.values():
            if name_or_well_known in (folder.well_known, folder.id, folder.name):
                return folder
        raise KeyError(name_or_well_known)

    def deliver(self, folder: str, mime: bytes, received: datetime | None = None) -> str:
        """A message arrives in ``folder`` (an id, a name or a well-known name)."""
        with self.lock:
            if received is None:
                self.clock += timedelta(minutes=1)
                received = self.clock
            ident = graph_id("AAMkADk1ZTRjAAA", next(self._ids))
            seq = self._next()
            self.messages[ident] = StoredMessage(
                ident, self.folder(folder).id, mime, received, seq, seq
            )
            return ident

    def mark_read(self, ident: str) -> None:
        with self.lock:
            self.messages[ident].is_read = True
            self.messages[ident].updated = self._next()

    def delete(self, ident: str) -> None:
        with self.lock:
            message = self.messages.pop(ident)
            self.removed.append((self._next(), message.folder, ident))

    def move(self, ident: str, folder: str) -> None:
        with self.lock:
            message = self.messages[ident]
            seq = self._next()
            self.removed.append((seq, message.folder, ident))
            message.folder, message.created, message.updated = self.folder(folder).id, seq, seq

    def in_folder(self, folder: str) -> list[StoredMessage]:
        return sorted(
            (m for m in self.messages.values() if m.folder == folder), key=lambda m: m.created
        )

    # -- what the API shows

    def view(self, message: StoredMessage, select: list[str] | None) -> dict[str, Any]:
        full = {
            "@odata.type": "#microsoft.graph.message",
            "@odata.etag": f'W/"CQAAABYAAAA{message.updated:08d}"',
            "id": message.id,
            "receivedDateTime": graph_time(message.received),
            "isRead": message.is_read,
            "isDraft": message.is_draft,
            "parentFolderId": message.folder,
            "internetMessageId": message.internet_message_id,
        }
        if select is None:
            return full
        return {k: v for k, v in full.items() if k.startswith("@") or k == "id" or k in select}

    def start_round(
        self, folder: str, token: str | None, change_type: str | None, select: list[str] | None
    ) -> str | None:
        """Begin a delta round; returns its skip token, or None when ``token`` is unknown."""
        with self.lock:
            if token is None:
                since = 0
            elif token in self.cursors:
                cursor = self.cursors[token]
                folder, since = cursor.folder, cursor.seq
                change_type, select = cursor.change_type, cursor.select
            else:
                return None
            entries = []
            for message in self.in_folder(folder):
                if message.created > since:
                    if change_type in (None, "created"):
                        entries.append(self.view(message, select))
                elif message.updated > since and change_type in (None, "updated"):
                    entries.append(self.view(message, select))
            for seq, where, ident in self.removed:
                if where == folder and seq > since and since > 0:
                    entries.append({"id": ident, "@removed": {"reason": "deleted"}})
            skip = secrets.token_urlsafe(18)
            self.rounds[skip] = DeltaRound(folder, entries, self.seq, change_type, select)
            return skip

    def page(self, skip: str, size: int) -> tuple[list[dict[str, Any]], str, bool] | None:
        """The next page of a round: (items, token, last); the token is the next skip token,
        or on the last page a new delta token. None when the skip token is unknown."""
        with self.lock:
            current = self.rounds.pop(skip, None)
            if current is None:
                return None
            items, rest = current.entries[:size], current.entries[size:]
            if rest:
                token = secrets.token_urlsafe(18)
                current.entries = rest
                self.rounds[token] = current
                return items, token, False
            token = secrets.token_urlsafe(24)
            self.cursors[token] = DeltaCursor(
                current.folder, current.seq, current.change_type, current.select
            )
            return items, token, True

    def expire_delta_tokens(self) -> None:
        """What happens when Exchange drops sync states (they expire, mailboxes move)."""
        with self.lock:
            self.cursors.clear()
            self.rounds.clear()
