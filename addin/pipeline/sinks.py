"""Where the contracts a rule generates go: a folder beside the workbook, or downloads.

``xlcrm run`` works on a workbook file and writes each contract into ``contracts/`` beside it
(or ``--out``). The ribbon service has no file and never writes to its own disk for a request:
its contracts go back to Excel as downloads in the answer (as the Generate contract command's
do), and the deal records ``contracts/<name>`` — the place the command line would have used,
so a user who saves the download beside the workbook has the link working.

Either way the run is all or nothing: when it fails, :meth:`ContractSink.discard` removes what
was written, since a contract the workbook does not record must not exist.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..contracts.generate import workbook_relative, write_contract


@dataclass(frozen=True)
class Stored:
    """A contract as the sink kept it: the file's name, and what the deal's Contract file
    cell records."""

    name: str
    recorded: str


class Downloads(Protocol):
    """A book that hands files to the user (the ribbon service's RemoteBook)."""

    def download(self, name: str, media_type: str, data: bytes) -> None: ...


class ContractSink(Protocol):
    def put(self, name: str, content: bytes) -> Stored:
        """Keep one contract under a free name close to ``name``."""
        ...

    def discard(self) -> None:
        """Forget everything this run kept: the run failed or its save did."""
        ...


@dataclass
class FolderSink:
    """Files in ``folder``; the deal records their path relative to ``base`` (the workbook's
    folder) when inside it, so the link moves with the workbook."""

    folder: Path
    base: Path
    files: list[Path] = field(default_factory=list)

    def put(self, name: str, content: bytes) -> Stored:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = write_contract(self.folder, name, content)
        self.files.append(path)
        return Stored(path.name, workbook_relative(path, self.base))

    def discard(self) -> None:
        for file in self.files:
            file.unlink(missing_ok=True)
        self.files.clear()


FOLDER = "contracts"  # what the deal records for a download: the command line's default place


@dataclass
class DownloadSink:
    """Downloads in the answer of a book that has no file (the ribbon service's RemoteBook):
    held until :meth:`deliver`, so that a run that fails half-way hands over nothing."""

    held: list[tuple[str, bytes]] = field(default_factory=list)

    def put(self, name: str, content: bytes) -> Stored:
        # The user's folder is not known (and the service's own disk is never looked at), so
        # only the contracts of this run are kept apart: `` (2)`` on a clash.
        taken = {n.casefold() for n, _ in self.held}
        stem, suffix = Path(name).stem, Path(name).suffix
        free, number = name, 1
        while free.casefold() in taken:
            number += 1
            free = f"{stem} ({number}){suffix}"
        self.held.append((free, content))
        return Stored(free, f"{FOLDER}/{free}")

    def discard(self) -> None:
        self.held.clear()

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.held]

    def deliver(self, book: Downloads) -> None:
        """Hand the contracts to ``book`` as downloads (``RemoteBook.download``)."""
        for name, content in self.held:
            media = mimetypes.guess_type(name)[0] or "application/octet-stream"
            book.download(name, media, content)
