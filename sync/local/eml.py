"""Folders of saved messages: ``eml:DIR``.

``DIR`` holds ``.eml`` files (RFC 5322, as Thunderbird, Apple Mail, Outlook on the web and
Windows Mail save them) and Outlook ``.msg`` files (converted by :mod:`.msg`). Each
subdirectory is a folder named by its path below ``DIR`` (``Sent``, ``客户/ACME``), with a role
from its name; messages directly in ``DIR`` are in the folder ``(root)``, whose role comes from
``DIR``'s own name (``eml:D:/export/Sent Items`` is a sent folder). Names are used as they are
on disk (people name these folders, not IMAP servers: no modified UTF-7). Hidden files and
directories (``.``-names) are skipped, and symbolic links to directories are not followed.

A message's key is its path relative to ``DIR`` with ``/`` separators (``Sent/报价.msg``).
Listing reads directory entries and their modification times only, never a message. The
incremental state is the one of :mod:`._files`; a renamed file is a new key and is listed again.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from ..mailbox import Changes, FolderRole, MailboxError, role_from_name
from ._files import FileMailbox, log, scan_files, unique_name

ROOT = "(root)"
SUFFIXES = (".eml", ".msg")
_MAX_DEPTH = 16


class EmlMailbox(FileMailbox):
    """A directory tree of .eml and .msg files, read without changing it."""

    scheme = "eml"

    def _check_root(self) -> None:
        root = self.root
        if not root.exists():
            raise MailboxError(
                self.url,
                f"there is no folder {root}",
                "give the folder that holds the .eml or .msg files, for example eml:~/mail-export",
            )
        if not root.is_dir():
            raise MailboxError(
                self.url,
                f"{root} is a file, not a folder of .eml or .msg files",
                f"give the folder that holds it: eml:{root.parent}",
            )

    def _role(self, name: str) -> FolderRole:
        return role_from_name(self.root.resolve().name) if name == ROOT else super()._role(name)

    def _new_drafts_folder(self) -> Path:
        directory = self.root / "Drafts"
        directory.mkdir(exist_ok=True)
        return directory

    def _draft_paths(self, directory: Path, message: bytes) -> tuple[Path, Path]:
        name = unique_name(message, ".eml")
        return directory / f".{name}.tmp", directory / name  # dot-names are never listed

    def _find_folders(self) -> dict[str, Path]:
        found = {ROOT: self.root}
        self._walk(self.root, "", found, 0)
        return found

    def _walk(self, directory: Path, prefix: str, found: dict[str, Path], depth: int) -> None:
        try:
            with os.scandir(directory) as it:
                entries = sorted(
                    (e for e in it if not e.name.startswith(".") and e.is_dir()),
                    key=lambda e: e.name,
                )
        except OSError as error:
            log.warning("%s: cannot list %s (%s); skipped", self.url, directory, error)
            return
        for entry in entries:
            if entry.is_symlink():
                continue
            name = prefix + entry.name
            found[name] = Path(entry.path)
            if depth < _MAX_DEPTH:
                self._walk(Path(entry.path), name + "/", found, depth + 1)

    def _list(self, directory: Path) -> dict[str, tuple[int, Path]]:
        listed: dict[str, tuple[int, Path]] = {}
        prefix = directory.relative_to(self.root).as_posix()
        prefix = "" if prefix == "." else prefix + "/"
        for name, mtime, path in scan_files(directory):
            if name.lower().endswith(SUFFIXES):
                listed[prefix + name] = (mtime, path)
        return listed

    def changes(self, folder: str, state: str | None) -> Changes:
        found = super().changes(folder, state)
        if any(ref.key.lower().endswith(".msg") for ref in found.refs) and not _has_extract_msg():
            raise MailboxError(
                self.url,
                f"{folder}: reading Outlook .msg files needs the extract-msg package",
                "install it (pip install extract-msg), or save the messages as .eml",
            )
        return found

    def _read(self, path: Path) -> bytes | None:
        if path.suffix.lower() != ".msg":
            return path.read_bytes()
        from .msg import MsgError, msg_to_bytes

        if not path.exists():
            raise FileNotFoundError(path)
        try:
            return msg_to_bytes(path)
        except MsgError as error:
            log.warning("%s: %s: %s; skipped", self.url, path, error)
            return None

    def _head(self, path: Path) -> bytes:
        if path.suffix.lower() != ".msg":
            return super()._head(path)
        if not _has_extract_msg():
            return b""  # without extract-msg an Outlook file cannot be read
        return self._read(path) or b""


def _has_extract_msg() -> bool:
    return importlib.util.find_spec("extract_msg") is not None
