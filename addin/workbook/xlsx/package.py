"""The .xlsx/.xlsm file as a ZIP package whose untouched parts are copied byte for byte.

openpyxl rebuilds a workbook from its object model on save and drops what it does not model
(pivot caches, slicers, some chart and drawing features). xlcrm instead copies every part it does
not own *as compressed bytes* — not even decompressed — and writes only the parts it changed.
That is what makes a save both lossless and fast: a 300,000-row sheet nobody touched costs one
``read``/``write`` of its compressed bytes.

Only the ZIP features Office writes are handled: stored and deflated entries, no encryption at
the ZIP level (Office encryption wraps the whole package; see ``crypto.py``), no ZIP64 (Excel
cannot open packages that would need it).
"""

from __future__ import annotations

import io
import struct
import time
import zipfile
import zlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from ...errors import WorkbookError

Buffer = bytes | memoryview
Content = bytes | Sequence[Buffer]  # a part's bytes, or its bytes in chunks (never joined)

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_LIMIT = 0xFFFFFFFF


class PackageError(WorkbookError):
    """The file is not a usable OOXML package (the caller names the file)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(None, message, hint)


_REPAIR = "open it in Excel (which offers to repair it) and save it again, or use a backup"


@dataclass
class _Entry:
    name: bytes
    flags: int
    method: int
    dostime: int
    dosdate: int
    crc: int
    csize: int
    usize: int
    data: bytes  # compressed bytes as they go into the file


class Package:
    """Read access to the parts of an OOXML package, plus a lossless writer."""

    def __init__(self, source: str | bytes | BinaryIO) -> None:
        if isinstance(source, bytes):
            source = io.BytesIO(source)
        try:
            self._zip = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
            raise PackageError(
                f"not an Excel .xlsx/.xlsm file ({exc})",
                "open it in Excel or LibreOffice and save it as an Excel Workbook (.xlsx)",
            ) from None
        self._fp = self._zip.fp
        # Every entry, duplicates included (``bounds.check_zip`` refuses those): the dict
        # below would silently keep only the last one of a name.
        self.entries = self._zip.infolist()
        self._infos = {info.filename: info for info in self.entries}

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def names(self) -> list[str]:
        return list(self._infos)

    def __contains__(self, name: str) -> bool:
        return name in self._infos

    @property
    def fp(self) -> BinaryIO:
        """The package file, for reading entries in chunks (``bounds.inflate``)."""
        assert self._fp is not None
        return self._fp  # type: ignore[return-value]

    def info(self, name: str) -> zipfile.ZipInfo:
        try:
            return self._infos[name]
        except KeyError:
            raise PackageError(f"the package has no part {name!r}") from None

    def read(self, name: str) -> bytes:
        try:
            return self._zip.read(name)
        except KeyError:
            raise PackageError(f"the package has no part {name!r}") from None
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise PackageError(
                f"the file is damaged: part {name} cannot be read ({exc})", _REPAIR
            ) from None

    def _raw(self, info: zipfile.ZipInfo) -> bytes:
        """The compressed bytes of one entry, exactly as stored."""
        assert self._fp is not None
        self._fp.seek(info.header_offset)
        header = self._fp.read(_LOCAL.size)
        fields = _LOCAL.unpack(header)
        if fields[0] != 0x04034B50:
            raise PackageError(f"damaged ZIP entry {info.filename!r}")
        self._fp.seek(fields[9] + fields[10], io.SEEK_CUR)
        return self._fp.read(info.compress_size)

    def write(
        self,
        out: BinaryIO,
        replace: Mapping[str, Content] | None = None,
        add: Mapping[str, Content] | None = None,
        *,
        remove: Collection[str] = (),
        level: int = 6,
    ) -> None:
        """Write the package to ``out``: replaced parts and added parts compressed anew,
        removed parts left out, every other part copied as stored. Part order is kept; added
        parts go last."""
        replace = dict(replace or {})
        entries: list[_Entry] = []
        stamp = _dos_now()
        for name, info in self._infos.items():
            if name in remove:
                replace.pop(name, None)
                continue
            if name in replace:
                entries.append(_deflate(name, replace.pop(name), stamp, level))
            else:
                entries.append(
                    _Entry(
                        info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437"),
                        info.flag_bits & ~0x08,
                        info.compress_type,
                        *_dos_split(info.date_time),
                        info.CRC,
                        info.compress_size,
                        info.file_size,
                        self._raw(info),
                    )
                )
        if replace:
            raise PackageError(f"cannot replace missing parts: {sorted(replace)}")
        for name, data in (add or {}).items():
            if name in self._infos:
                raise PackageError(f"part {name!r} already exists")
            entries.append(_deflate(name, data, stamp, level))
        _write_entries(out, entries)


def _deflate(name: str, data: Content, stamp: tuple[int, int], level: int) -> _Entry:
    chunks = [data] if isinstance(data, bytes | memoryview) else data
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    packed = []
    crc = size = 0
    for chunk in chunks:
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
        packed.append(compressor.compress(chunk))
    packed.append(compressor.flush())
    body = b"".join(packed)
    encoded = name.encode("utf-8")
    flags = 0x800 if not encoded.isascii() else 0
    return _Entry(encoded, flags, zipfile.ZIP_DEFLATED, *stamp, crc, len(body), size, body)


def _write_entries(out: BinaryIO, entries: Iterable[_Entry]) -> None:
    central = bytearray()
    offset = 0
    count = 0
    for e in entries:
        if e.csize > _LIMIT or e.usize > _LIMIT or offset > _LIMIT:
            raise PackageError("the workbook would be larger than 4 GB, which Excel cannot open")
        header = _LOCAL.pack(
            0x04034B50,
            20,
            e.flags,
            e.method,
            e.dostime,
            e.dosdate,
            e.crc,
            e.csize,
            e.usize,
            len(e.name),
            0,
        )
        out.write(header)
        out.write(e.name)
        out.write(e.data)
        central += _CENTRAL.pack(
            0x02014B50,
            20,
            20,
            e.flags,
            e.method,
            e.dostime,
            e.dosdate,
            e.crc,
            e.csize,
            e.usize,
            len(e.name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += e.name
        offset += len(header) + len(e.name) + len(e.data)
        count += 1
    if count > 0xFFFF:
        raise PackageError("too many parts for a workbook")
    out.write(central)
    out.write(_END.pack(0x06054B50, 0, 0, count, count, len(central), offset, 0))


def _dos_split(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    dosdate = max(year - 1980, 0) << 9 | month << 5 | day
    dostime = hour << 11 | minute << 5 | second // 2
    return dostime, dosdate


def _dos_now() -> tuple[int, int]:
    return _dos_split(time.localtime()[:6])  # type: ignore[arg-type]
