"""The "handed over" record as a store to memory: the narrowest window a sender can have.

A message is *handed over* the instant its final ``.`` (SMTP) is written: before it the server
discards the transaction if the sender dies, after it the server may deliver. The sender must
record that instant, and a kill that lands between the record and the write leaves a message
recorded as handed over that never left — "may have been delivered" for ever, over SMTP. So
the gap between the two must be as small as a program can make it.

A line appended to a file is a system call, and in Python a system call lets go of the GIL:
getting it back may wait for another thread (the service's composing thread, the journal's
fsync thread) for up to the interpreter's switch interval, and a kill in that wait is exactly
the bad case. :class:`HandedSlot` is instead a small file mapped into memory (``mmap``,
``MAP_SHARED``): recording is one copy into that memory, with no system call and the GIL held,
and the final dot's write follows in the next statement. The page is the file's page in the
operating system's cache, so what was copied survives the process being killed, as a line
handed to ``write`` would; like such a line it may be lost if the *machine* stops, which is
why the stores trust a missing record only within the boot that wrote the fsync'd ``sending``
line (:func:`~.rules.never_handed`).

The slot holds one name — the message being handed over now — because a sender hands over one
message at a time and writes each message's outcome before it hands over the next. A torn
copy (a kill in the middle of it) fails its checksum and reads as nothing: that message's dot
had not been written either.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
import zlib
from pathlib import Path

_HEADER = struct.Struct("<II")  # length, CRC-32 of the name


class HandedSlot:
    """One sender's "handed over now" record in the file ``path`` (made if missing)."""

    SIZE = 512  # bytes: a header and one name (a journal token, a customer id)

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < self.SIZE:
                os.ftruncate(fd, self.SIZE)
            self._map: mmap.mmap | None = mmap.mmap(fd, self.SIZE)
        finally:
            os.close(fd)  # the mapping keeps the file

    @classmethod
    def encode(cls, name: str) -> bytes:
        """What :meth:`put` copies for ``name``; made before the moment, so that the moment
        itself is only the copy. A name too long for the slot is a programming error."""
        payload = name.encode("utf-8")
        if _HEADER.size + len(payload) > cls.SIZE:
            raise ValueError(f"a handed-over name of {len(payload)} bytes does not fit the slot")
        return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload

    def put(self, record: bytes) -> None:
        """Record ``record`` (from :meth:`encode`) as handed over: one memory copy."""
        assert self._map is not None, "the slot is closed"
        self._map[: len(record)] = record

    def clear(self) -> None:
        if self._map is not None:
            self._map[: _HEADER.size] = bytes(_HEADER.size)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None

    def __enter__(self) -> HandedSlot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def read(path: Path) -> str:
        """The name last recorded in the slot file ``path`` ("" for none, a torn record, or
        no file)."""
        try:
            data = path.read_bytes()
        except OSError:
            return ""
        if len(data) < _HEADER.size:
            return ""
        length, crc = _HEADER.unpack_from(data)
        payload = data[_HEADER.size : _HEADER.size + length]
        if length == 0 or len(payload) != length or zlib.crc32(payload) != crc:
            return ""
        with contextlib.suppress(UnicodeDecodeError):
            return payload.decode("utf-8")
        return ""
