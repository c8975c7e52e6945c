"""What the file-per-message backends (Maildir, folders of .eml/.msg) share.

Folder roles from names, the mailbox shell (listing, fetching, files that went away), and the
incremental state: which message files a folder holds that an earlier listing had not seen.

The state is one compact JSON object per folder, about 2,800 characters at any folder size::

    {"v":1,"wm":1767225600123456789,"n":100000,"s":"<base64 of 2 KiB>"}

- ``wm``, the watermark: the newest file modification time (ns) in the listing, but never
  later than the time of the listing, so that one file stamped in the future (a wrong clock)
  cannot hold it back. A file modified later is new. That finds nearly every new message,
  however many arrived. (A file stamped in the future is listed again until its time comes.)
- ``n`` and ``s``: the count and an *invertible sketch* of the keys listed (an invertible
  Bloom lookup table: 128 cells, each a count, the XOR of 64-bit key ids and the XOR of check
  hashes; every key goes into 4 cells). The next run builds the same sketch of its files at or
  below the watermark and subtracts the stored one; what is left peels into the keys that were
  added and those removed, as long as there are not too many: 60 differences peel in all but
  about 1 run in 1,000, 80 in all but 5 (measured). So a file that appears with an *old*
  modification time is still found: a backup restored with ``cp -p`` or ``rsync -a``, a folder
  copied with Windows Explorer (which keeps modification times), Dovecot writing an old
  message's IMAP INTERNALDATE as the file time when a client APPENDs or COPYs it, coarse
  timestamps (FAT's 2 s), a clock that went backwards. Deleted messages cost nothing.

  Why not something simpler: keeping every key grows to megabytes for 100,000 messages (the
  workbook keeps a state in one cell, at most 32,767 characters); the watermark alone misses
  the cases above; a hash of the whole key list detects them but cannot say *which* files are
  new, so every deletion would turn into a full listing.
- When the sketch does not peel (too many files at or below the watermark added or deleted
  since the last run) or the state is not one of ours, ``changes`` lists the whole folder with
  ``reset=True`` and the caller relies on Message-ID deduplication.

A message file whose name or modification time changes (renamed, edited in place) is listed
again, which Message-ID deduplication absorbs too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import socket
import struct
import time
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..mailbox import (
    Changes,
    Folder,
    FolderRole,
    MailboxError,
    MessageRef,
    bracketed_message_id,
    header_message_id,
    parse_url,
    role_from_name,
    same_message_id,
    warn_gone,
    warn_unreadable_state,
)

log = logging.getLogger("sync.local")


def scan_files(directory: Path) -> Iterator[tuple[str, int, Path]]:
    """(name, mtime_ns, path) of each regular, non-hidden file in ``directory``.

    Listing reads directory entries only, never message bodies. A file that a mail client
    moves or deletes while we list (new/ → cur/, a deleted draft) is simply not there.
    """
    with os.scandir(directory) as it:
        for entry in it:
            if entry.name.startswith("."):
                continue
            try:
                if not entry.is_file():
                    continue
                mtime = entry.stat().st_mtime_ns
            except FileNotFoundError:
                continue
            yield entry.name, mtime, Path(entry.path)


# ---- the key sketch ------------------------------------------------------------------------

_HASHES = 4  # cells per key id, one in each partition
_CELLS = 128
_PART = _CELLS // _HASHES
_CELL = struct.Struct("<iQI")  # count, XOR of key ids, XOR of check hashes


def key_id(key: str) -> int:
    """A 64-bit id for a message key."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogateescape"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _spread(ident: int) -> tuple[list[int], int]:
    """The cells of an id (one per partition), and its check hash."""
    digest = hashlib.blake2b(ident.to_bytes(8, "little"), digest_size=20, person=b"xlcrm-ks")
    *hashes, check = struct.unpack("<5I", digest.digest())
    return [n * _PART + h % _PART for n, h in enumerate(hashes)], check


class KeySketch:
    """An invertible Bloom lookup table of key ids: small, and subtractable."""

    def __init__(self) -> None:
        self.counts = [0] * _CELLS
        self.ids = [0] * _CELLS
        self.checks = [0] * _CELLS

    @classmethod
    def of(cls, ids: Iterable[int]) -> KeySketch:
        sketch = cls()
        for ident in ids:
            sketch._toggle(ident, 1)
        return sketch

    def _toggle(self, ident: int, sign: int) -> None:
        cells, check = _spread(ident)
        for i in cells:
            self.counts[i] += sign
            self.ids[i] ^= ident
            self.checks[i] ^= check

    def minus(self, other: KeySketch) -> KeySketch:
        diff = KeySketch()
        diff.counts = [a - b for a, b in zip(self.counts, other.counts)]
        diff.ids = [a ^ b for a, b in zip(self.ids, other.ids)]
        diff.checks = [a ^ b for a, b in zip(self.checks, other.checks)]
        return diff

    def peel(self) -> tuple[set[int], set[int]] | None:
        """For ``new.minus(old)``: the ids only in new and only in old; None if it cannot tell."""
        added: set[int] = set()
        removed: set[int] = set()
        pending = list(range(_CELLS))
        while pending:
            i = pending.pop()
            count, ident = self.counts[i], self.ids[i]
            if count not in (1, -1) or _spread(ident)[1] != self.checks[i]:
                continue
            (added if count == 1 else removed).add(ident)
            self._toggle(ident, -count)
            pending.extend(_spread(ident)[0])
        if any(self.counts) or any(self.ids) or any(self.checks) or added & removed:
            return None
        return added, removed

    def encode(self) -> str:
        raw = b"".join(_CELL.pack(*cell) for cell in zip(self.counts, self.ids, self.checks))
        return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")

    @classmethod
    def decode(cls, text: str) -> KeySketch:
        raw = zlib.decompress(base64.b64decode(text, validate=True))
        if len(raw) != _CELL.size * _CELLS:
            raise ValueError("wrong sketch size")
        sketch = cls()
        for i, (count, ident, check) in enumerate(_CELL.iter_unpack(raw)):
            sketch.counts[i], sketch.ids[i], sketch.checks[i] = count, ident, check
        return sketch


# ---- listing changes -----------------------------------------------------------------------


@dataclass(frozen=True)
class FileChanges:
    keys: list[str]  # new keys, oldest file first
    state: str
    reset: bool


def file_changes(url: str, folder: str, files: Mapping[str, int], state: str | None) -> FileChanges:
    """Which of ``files`` (key → modification time in ns) ``state`` had not seen."""
    ids = {key: key_id(key) for key in files}
    watermark = min(max(files.values(), default=0), time.time_ns())
    new_state = json.dumps(
        {"v": 1, "wm": watermark, "n": len(files), "s": KeySketch.of(ids.values()).encode()},
        separators=(",", ":"),
    )

    def in_order(keys: Iterable[str]) -> list[str]:
        return sorted(keys, key=lambda key: (files[key], key))

    if state is None:
        return FileChanges(in_order(files), new_state, reset=False)
    old = _parse_state(url, folder, state)
    if old is None:
        return FileChanges(in_order(files), new_state, reset=True)
    old_watermark, old_count, old_sketch = old
    fresh = [key for key, mtime in files.items() if mtime > old_watermark]
    older = [key for key, mtime in files.items() if mtime <= old_watermark]
    peeled = KeySketch.of(ids[key] for key in older).minus(old_sketch).peel()
    if peeled is None or old_count - len(peeled[1]) + len(peeled[0]) != len(older):
        log.info(
            "%s: %s: too many files changed below the watermark since the last run;"
            " listing the whole folder",
            url,
            folder,
        )
        return FileChanges(in_order(files), new_state, reset=True)
    added = peeled[0]
    fresh += [key for key in older if ids[key] in added]
    return FileChanges(in_order(fresh), new_state, reset=False)


def _parse_state(url: str, folder: str, state: str) -> tuple[int, int, KeySketch] | None:
    try:
        data = json.loads(state)
        if data.get("v") != 1:
            raise ValueError("unknown version")
        watermark, count = data["wm"], data["n"]
        if not isinstance(watermark, int) or not isinstance(count, int):
            raise ValueError("wm and n must be integers")
        return watermark, count, KeySketch.decode(data["s"])
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, zlib.error) as error:
        warn_unreadable_state(log, url, folder, error)
        return None


_HEAD_CHUNK = 16 * 1024
_HEAD_LIMIT = 1 << 20  # a header longer than this is not one


def read_head(path: Path) -> bytes:
    """The start of the message in ``path``, up to the end of its header (not the body)."""
    head = b""
    with path.open("rb") as f:
        while len(head) < _HEAD_LIMIT:
            chunk = f.read(_HEAD_CHUNK)
            if not chunk:
                break
            head += chunk
            if b"\n\n" in head or b"\n\r\n" in head:
                break
    return head


def cannot_send(url: str) -> MailboxError:
    return MailboxError(
        url,
        "a local mailbox cannot send mail",
        "send through an SMTP server (smtp://user@host, smtps://user@host) or an Exchange "
        "mailbox (ews://…, graph://…)",
    )


def unique_name(message: bytes, suffix: str) -> str:
    """A file name no other writer picks: time, process, and a hash of the message."""
    digest = hashlib.sha1(message, usedforsecurity=False).hexdigest()[:12]
    host = socket.gethostname().replace("/", "_").replace(":", "_")
    return f"{time.time_ns()}.P{os.getpid()}.{host}.{digest}{suffix}"


# ---- the shared mailbox --------------------------------------------------------------------


class FileMailbox:
    """A mailbox whose messages are one file each; subclasses find the folders and files."""

    scheme = ""

    def __init__(self, url: str, *, address: str | None = None) -> None:
        parsed = parse_url(url)
        if parsed.scheme != self.scheme:
            raise ValueError(f"{type(self).__name__} reads {self.scheme}: URLs, not {url!r}")
        self.url = parsed.text
        self.address = address
        self.root = Path(parsed.path).expanduser()
        self._files: dict[str, dict[str, Path]] = {}  # folder → key → file, as last listed
        self._check_root()
        self._dirs = self._find_folders()

    # -- for subclasses

    def _check_root(self) -> None:
        """Raise a MailboxError that says what to do when ``self.root`` is not usable."""
        raise NotImplementedError

    def _find_folders(self) -> dict[str, Path]:
        """Folder name → directory, in the order people expect to read them."""
        raise NotImplementedError

    def _list(self, directory: Path) -> dict[str, tuple[int, Path]]:
        """Key → (modification time in ns, file) of the messages in one folder's directory."""
        raise NotImplementedError

    def _role(self, name: str) -> FolderRole:
        return role_from_name(name)

    def _read(self, path: Path) -> bytes | None:
        """The message's bytes; FileNotFoundError when it is gone, None to skip it."""
        return path.read_bytes()

    # -- the Mailbox protocol

    def folders(self) -> list[Folder]:
        self._dirs = self._find_folders()
        return [Folder(name, self._role(name)) for name in self._dirs]

    def changes(self, folder: str, state: str | None) -> Changes:
        listed = self._relist(folder)
        if listed is None:
            names = ", ".join(self._dirs) or "none"
            raise MailboxError(
                self.url, f"there is no folder {folder!r}", f"the folders are: {names}"
            )
        found = file_changes(self.url, folder, {k: m for k, (m, _) in listed.items()}, state)
        return Changes([MessageRef(folder, key) for key in found.keys], found.state, found.reset)

    def fetch(self, refs: Sequence[MessageRef]) -> Iterator[tuple[MessageRef, bytes]]:
        relisted: set[str] = set()
        for ref in refs:
            try:
                try:
                    data = self._load(ref)
                except FileNotFoundError:
                    if ref.folder in relisted:
                        raise
                    # Listed by another object, or moved since (Maildir: new/ → cur/, flags).
                    relisted.add(ref.folder)
                    self._relist(ref.folder)
                    data = self._load(ref)
            except FileNotFoundError:
                warn_gone(log, self.url, ref.folder, ref.key)
                continue
            if data is not None:
                yield ref, data

    def send(self, message: bytes) -> None:
        raise cannot_send(self.url)

    def save_draft(self, message: bytes) -> None:
        """Write ``message`` into the Drafts folder (created when there is none).

        Written under a temporary name and renamed into place, so a mail client never sees
        half a message.
        """
        drafts = next((n for n in self._find_folders() if self._role(n) == "drafts"), None)
        directory = self._dirs[drafts] if drafts else self._new_drafts_folder()
        temporary, target = self._draft_paths(directory, message)
        try:
            with open(temporary, "xb") as f:
                f.write(message)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, target)
        except OSError as error:
            temporary.unlink(missing_ok=True)
            raise MailboxError(
                self.url, f"the draft could not be written to {directory}: {error}"
            ) from error
        self._dirs = self._find_folders()

    def was_sent(self, message_id: str) -> bool | None:
        """Whether a sent folder (``Sent``, ``已发送``…) holds a message with this Message-ID,
        from each file's header; None when the mailbox has no sent folder."""
        return self._in_role("sent", message_id)

    def was_drafted(self, message_id: str) -> bool | None:
        """Whether a drafts folder (``Drafts``, ``草稿箱``…) holds a message with this
        Message-ID (what :meth:`save_draft` writes); None when there is none."""
        return self._in_role("drafts", message_id)

    def _in_role(self, role: str, message_id: str) -> bool | None:
        wanted = bracketed_message_id(message_id)
        folders = [folder.name for folder in self.folders() if folder.role == role]
        if not folders:
            return None
        for folder in folders:
            for _, path in (self._relist(folder) or {}).values():
                try:
                    head = self._head(path)
                except FileNotFoundError:  # moved or deleted while we looked
                    continue
                if same_message_id(header_message_id(head), wanted):
                    return True
        return False

    def _head(self, path: Path) -> bytes:
        """The message's header (or more); FileNotFoundError when it is gone."""
        return read_head(path)

    def _new_drafts_folder(self) -> Path:
        """Where a Drafts folder goes when the mailbox has none."""
        raise NotImplementedError

    def _draft_paths(self, directory: Path, message: bytes) -> tuple[Path, Path]:
        """Where a draft is written first, and the name it is renamed to, in ``directory``."""
        raise NotImplementedError

    def close(self) -> None:
        self._files.clear()

    def _load(self, ref: MessageRef) -> bytes | None:
        path = self._files.get(ref.folder, {}).get(ref.key)
        if path is None:
            raise FileNotFoundError(ref.key)
        return self._read(path)

    def _relist(self, folder: str) -> dict[str, tuple[int, Path]] | None:
        directory = self._dirs.get(folder)
        if directory is None or not directory.is_dir():
            self._dirs = self._find_folders()
            directory = self._dirs.get(folder)
            if directory is None:
                return None
        listed = self._list(directory)
        self._files[folder] = {key: path for key, (_, path) in listed.items()}
        return listed
