"""mbox files: ``mbox:PATH``.

``PATH`` is one mbox file (a Google Takeout ``.mbox``, ``/var/mail/alice``), one folder named by
the file (``Sent.mbox`` → ``Sent``; a file in ``/var/mail`` or ``/var/spool/mail`` is the
INBOX), or a directory of them, each a folder:

- Thunderbird's Local Folders: mbox files without an extension (``Inbox``, ``Sent``) beside
  their ``.msf`` indexes, subfolders in ``Name.sbd/`` directories (``Customers/ACME``);
- Apple Mail exports: ``Name.mbox/`` directories holding a file named ``mbox``;
- ``.mbox`` / ``.mbx`` files, and any other file that starts with a ``From`` line.

A message starts at a ``From`` line (``From sender date``) at the start of the file or after
an empty line, or one that looks like a real From line (a sender, then a time of day) where a
writer left out the empty line. A message's key is the byte offset of its ``From`` line;
:meth:`MboxMailbox.fetch` returns the bytes after that line up to the next message, less the
empty separator line, as they are (``>From`` quoting is left alone, like Python's
:mod:`mailbox`).

Read-only, lock-free: the file is only opened for reading, never locked, rewritten or
flushed (Python's :class:`mailbox.mbox` is not used for reading at all).

State (compact JSON, the same size for any file)::

    {"v": 1, "len": 123456789, "head": "<16 hex>", "tail": "<16 hex>"}

``len`` is how far the file has been read; ``head`` and ``tail`` are hashes of the first 4 KiB
and of the 4 KiB before ``len``. Mail is appended to an mbox, so the next run reads from
``len`` on. When the file is shorter, either hash differs, or the bytes at ``len`` do not
start a message, the file was rewritten (compacted, messages deleted or edited): ``changes``
returns the whole file with ``reset=True`` (offsets have moved; the caller deduplicates by
Message-ID). A last message that does not end in a newline may still be being written (no lock
is taken): it is left for the next run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from ..mailbox import (
    Changes,
    Folder,
    MailboxError,
    MessageRef,
    bracketed_message_id,
    header_message_id,
    parse_url,
    role_from_name,
    same_message_id,
    warn_unreadable_state,
)
from ..utf7 import decode_folder_name
from ._files import cannot_send, log

INBOX = "INBOX"
_SPOOLS = ("/var/mail", "/var/spool/mail")
_SUFFIXES = (".mbox", ".mbx")
_NOT_MBOX = (".msf", ".dat", ".json", ".sqlite", ".plist")  # indexes beside mbox files
_HASHED = 4096
_LOOKAHEAD = 256  # bytes of a From line looked at
_FROM_LINE = re.compile(rb"From \S+ +[^\r\n]*?\d\d?:\d\d")
_MAX_DEPTH = 16
_HEAD_LIMIT = 1 << 20  # bytes of a message read to find its Message-ID


class MboxMailbox:
    """One mbox file, or a directory of them, read without locking or changing them."""

    def __init__(self, url: str, *, address: str | None = None) -> None:
        parsed = parse_url(url)
        if parsed.scheme != "mbox":
            raise ValueError(f"MboxMailbox reads mbox: URLs, not {url!r}")
        self.url = parsed.text
        self.address = address
        self.root = Path(parsed.path).expanduser()
        # folder → (the listed offsets, sorted; where the listing ended)
        self._listed: dict[str, tuple[list[int], int]] = {}
        self._files = self._find_folders()

    # -- folders

    def _find_folders(self) -> dict[str, Path]:
        root = self.root
        if root.is_file():
            if not _looks_like_mbox(root, empty_ok=True):
                raise MailboxError(
                    self.url,
                    f"{root} is not an mbox file: it does not start with a 'From ' line",
                    f"for a folder of .eml or .msg files use eml:{root.parent}",
                )
            name = decode_folder_name(_folder_name(root.name))
            return {INBOX if str(root.parent) in _SPOOLS else name: root}
        if not root.is_dir():
            raise MailboxError(
                self.url,
                f"there is no file or folder {root}",
                "give an mbox file (mbox:~/export/Inbox.mbox) or a folder of them"
                " (Thunderbird's Local Folders, an Apple Mail export)",
            )
        found: dict[str, Path] = {}
        self._walk(root, "", found, 0)
        if not found:
            raise MailboxError(
                self.url,
                f"{root} holds no mbox files",
                f"give an mbox file or a folder of them; for .eml or .msg files use eml:{root}",
            )
        return found

    def _walk(self, directory: Path, prefix: str, found: dict[str, Path], depth: int) -> None:
        try:
            with os.scandir(directory) as it:
                entries = sorted(
                    (e for e in it if not e.name.startswith(".")), key=lambda e: e.name
                )
        except OSError as error:
            log.warning("%s: cannot list %s (%s); skipped", self.url, directory, error)
            return
        names = {e.name for e in entries}
        for entry in entries:
            path = Path(entry.path)
            name = prefix + decode_folder_name(_folder_name(entry.name))
            if entry.is_dir():
                if depth >= _MAX_DEPTH or entry.is_symlink():
                    continue
                if entry.name.lower().endswith(".mbox") and (path / "mbox").is_file():
                    found.setdefault(name, path / "mbox")  # Apple Mail
                if entry.name.lower().endswith(".sbd"):
                    self._walk(
                        path, prefix + decode_folder_name(entry.name[:-4]) + "/", found, depth + 1
                    )
                else:
                    self._walk(path, name + "/", found, depth + 1)
            elif entry.name != "mbox" or not directory.name.lower().endswith(".mbox"):
                thunderbird_empty = f"{entry.name}.msf" in names
                if _looks_like_mbox(path, empty_ok=thunderbird_empty):
                    found.setdefault(name, path)

    def folders(self) -> list[Folder]:
        self._files = self._find_folders()
        return [
            Folder(name, "inbox" if name == INBOX else role_from_name(name)) for name in self._files
        ]

    def _path(self, folder: str) -> Path:
        path = self._files.get(folder)
        if path is None:
            self._files = self._find_folders()
            path = self._files.get(folder)
        if path is None:
            names = ", ".join(self._files)
            raise MailboxError(
                self.url, f"there is no folder {folder!r}", f"the folders are: {names}"
            )
        return path

    # -- changes

    def changes(self, folder: str, state: str | None) -> Changes:
        path = self._path(folder)
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            start, reset = (0, False) if state is None else self._resume(f, size, folder, state)
            offsets = _scan(f, start, size)
            if (
                start
                and (not offsets or offsets[0] != start)
                and _has_text(f, start, size, offsets)
            ):
                log.info(
                    "%s: %s: the mbox was changed in place; reading it again", self.url, folder
                )
                reset, start, offsets = True, 0, _scan(f, 0, size)
            end = size
            if end > start and _last_byte(f, end) not in b"\n":
                # The last message may still be being written: leave it for the next run.
                end = offsets.pop() if offsets else start
            new_state = json.dumps(
                {"v": 1, "len": end, "head": _hash(f, 0, min(_HASHED, end)), "tail": _tail(f, end)},
                separators=(",", ":"),
            )
        self._listed[folder] = (offsets, end)
        return Changes([MessageRef(folder, str(offset)) for offset in offsets], new_state, reset)

    def _resume(self, f: BinaryIO, size: int, folder: str, state: str) -> tuple[int, bool]:
        """Where to read on from, and whether that is the start because the file was rewritten."""
        try:
            data = json.loads(state)
            if data.get("v") != 1 or not isinstance(data.get("len"), int):
                raise ValueError("not an mbox state")
            length, head, tail = data["len"], data["head"], data["tail"]
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            warn_unreadable_state(log, self.url, folder, error)
            return 0, True
        if length > size or _hash(f, 0, min(_HASHED, length)) != head or _tail(f, length) != tail:
            log.info(
                "%s: %s: the mbox was rewritten (compacted?); reading it again", self.url, folder
            )
            return 0, True
        return length, False

    # -- fetch

    def fetch(self, refs: Sequence[MessageRef]) -> Iterator[tuple[MessageRef, bytes]]:
        for ref in refs:
            try:
                offset = int(ref.key)
                path = self._path(ref.folder)
                with path.open("rb") as f:
                    data = self._message(f, ref.folder, offset)
            except (ValueError, MailboxError, FileNotFoundError) as error:
                log.warning(
                    "%s: %s: message %s cannot be read (%s); skipped",
                    self.url,
                    ref.folder,
                    ref.key,
                    error,
                )
                continue
            if data is None:
                log.warning(
                    "%s: %s: no message starts at byte %s any more (the mbox was rewritten"
                    " since it was listed); skipped",
                    self.url,
                    ref.folder,
                    ref.key,
                )
                continue
            yield ref, data

    def _message(self, f: BinaryIO, folder: str, offset: int) -> bytes | None:
        offsets, listed_end = self._listed.get(folder, ([], 0))
        i = bisect_right(offsets, offset)
        if i and offsets[i - 1] == offset:
            end = offsets[i] if i < len(offsets) else listed_end
        else:  # not listed by this object: find the next message
            size = os.fstat(f.fileno()).st_size
            following = _scan(f, offset + 1, size, first=True)
            end = following[0] if following else size
        f.seek(offset)
        data = f.read(max(end - offset, 0))
        if not data.startswith(b"From "):
            return None
        newline = data.find(b"\n")
        data = data[newline + 1 :] if newline >= 0 else b""
        for blank in (b"\r\n\r\n", b"\n\n"):
            if data.endswith(blank):
                return data[: -len(blank) // 2]
        return data

    def send(self, message: bytes) -> None:
        raise cannot_send(self.url)

    def was_sent(self, message_id: str) -> bool | None:
        """Whether a sent mbox (``Sent``, ``Sent.mbox``, ``已发送``) holds a message with this
        Message-ID, from each message's header; None when there is no sent mbox."""
        return self._in_role("sent", message_id)

    def was_drafted(self, message_id: str) -> bool | None:
        """Whether a drafts mbox holds a message with this Message-ID (xlcrm saves no drafts
        into mbox files, but a mail client may)."""
        return self._in_role("drafts", message_id)

    def _in_role(self, role: str, message_id: str) -> bool | None:
        wanted = bracketed_message_id(message_id)
        folders = [folder.name for folder in self.folders() if folder.role == role]
        if not folders:
            return None
        for folder in folders:
            with self._path(folder).open("rb") as f:
                size = os.fstat(f.fileno()).st_size
                offsets = _scan(f, 0, size)
                for start, end in zip(offsets, [*offsets[1:], size]):
                    if same_message_id(header_message_id(_head(f, start, end)), wanted):
                        return True
        return False

    def save_draft(self, message: bytes) -> None:
        # Appending safely needs the locking protocol of whatever delivers into this file
        # (dotlock, fcntl, or both); a wrong guess corrupts the mailbox, so xlcrm does not try.
        raise MailboxError(
            self.url,
            "xlcrm does not write into mbox files",
            "save drafts into a Maildir (maildir:PATH) or a folder of .eml files (eml:DIR)",
        )

    def close(self) -> None:
        self._listed.clear()


# ---- scanning ------------------------------------------------------------------------------


def _scan(f: BinaryIO, start: int, end: int, *, first: bool = False) -> list[int]:
    """Offsets of the From lines that start in [start, end); only the first if ``first``."""
    found: list[int] = []
    if start == 0:
        f.seek(0)
        if f.read(5) == b"From ":
            found.append(0)
            if first:
                return found
    base = max(start - 3, 0)  # the bytes before ``start`` tell whether a line begins there
    f.seek(base)
    carry = b""
    searched = 0  # buf[:searched] has been searched for line starts
    chunk = 64 * 1024
    pos = base
    while pos < end:
        data = f.read(min(chunk, end - pos))
        if not data:
            break
        pos += len(data)
        chunk = min(chunk * 2, 1 << 20)
        buf = carry + data
        buf_start = pos - len(buf)
        final = pos >= end
        limit = len(buf) if final else max(len(buf) - _LOOKAHEAD, searched)
        i = buf.find(b"\nFrom ", searched)
        while 0 <= i < limit:
            line = i + 1
            if buf_start + line >= max(start, 1) and _starts_message(buf, line):
                found.append(buf_start + line)
                if first:
                    return found
            i = buf.find(b"\nFrom ", i + 1)
        keep = max(limit - 3, 0)
        carry, searched = buf[keep:], limit - keep
    return found


def _head(f: BinaryIO, start: int, end: int) -> bytes:
    """The header of the message whose From line is at ``start`` (it ends before ``end``)."""
    f.seek(start)
    head = b""
    while len(head) < min(end - start, _HEAD_LIMIT):
        chunk = f.read(min(16 * 1024, end - start - len(head)))
        if not chunk:
            break
        head += chunk
        if b"\n\n" in head or b"\n\r\n" in head:
            break
    return head[head.find(b"\n") + 1 :]  # after the From line


def _starts_message(buf: bytes, line: int) -> bool:
    """Whether the From line at ``buf[line:]`` starts a message (``buf[line - 1]`` is LF)."""
    before = buf[max(line - 3, 0) : line - 1]  # what precedes that LF on the line before
    after_blank = before.endswith((b"\n", b"\n\r"))
    return after_blank or _FROM_LINE.match(buf, line, line + _LOOKAHEAD) is not None


def _has_text(f: BinaryIO, start: int, size: int, offsets: list[int]) -> bool:
    """Whether anything but line ends lies between ``start`` and the first new message."""
    stop = offsets[0] if offsets else size
    f.seek(start)
    return f.read(min(stop - start, 1 << 20)).strip(b"\r\n") != b""


def _last_byte(f: BinaryIO, end: int) -> bytes:
    f.seek(end - 1)
    return f.read(1)


def _hash(f: BinaryIO, start: int, stop: int) -> str:
    f.seek(start)
    return hashlib.blake2b(f.read(max(stop - start, 0)), digest_size=8).hexdigest()


def _tail(f: BinaryIO, length: int) -> str:
    return _hash(f, max(length - _HASHED, 0), length)


def _looks_like_mbox(path: Path, *, empty_ok: bool) -> bool:
    if path.suffix.lower() in _NOT_MBOX:
        return False
    try:
        with path.open("rb") as f:
            head = f.read(5)
    except OSError:
        return False
    if head == b"From ":
        return True
    return not head and (empty_ok or path.suffix.lower() in _SUFFIXES)


def _folder_name(file_name: str) -> str:
    stem, dot, suffix = file_name.rpartition(".")
    return stem if dot and stem and f".{suffix.lower()}" in _SUFFIXES else file_name
