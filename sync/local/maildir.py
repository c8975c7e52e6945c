"""Maildir and Maildir++ mailboxes: ``maildir:PATH``.

``PATH`` is the folder that holds ``cur/``, ``new/`` and ``tmp/`` (the INBOX). Its subfolders
are found in both layouts servers write:

- Maildir++ (Courier, Dovecot's default): ``.Sent/``, ``.Customers.ACME/`` beside ``cur/``,
  shown as ``Sent`` and ``Customers/ACME``;
- nested (Dovecot ``LAYOUT=fs``, mutt, isync): ``Sent/``, ``Customers/ACME/``.

Dovecot writes non-ASCII folder names in modified UTF-7 (``.&XfJT0ZAB-``), other software in
raw UTF-8 (``.已发送``); both read as ``已发送``. A ``PATH`` that is not itself a Maildir but holds
some (a mutt ``~/Mail``) is read as those folders, without an INBOX.

A message's key is the unique part of its file name, before the ``:2,`` info (``;2,`` or
``!2,`` where ``:`` is not allowed in file names): it stays the same when a mail client moves
the file from ``new/`` to ``cur/`` or changes its flags. ``tmp/`` (deliveries in progress) is
never read.

Read-only: directories are listed with :func:`os.scandir` and messages read with ``open``;
nothing is renamed, flagged or touched. Python's :class:`mailbox.Maildir` is not used: it is a
read-write API (``set_flags`` and item assignment move files to ``cur/``, ``clean()`` deletes
from ``tmp/``), and a plain listing is easier to keep provably read-only. Incremental state:
see :mod:`._files`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..mailbox import FolderRole, MailboxError
from ..utf7 import decode_folder_name
from ._files import FileMailbox, log, scan_files, unique_name

INBOX = "INBOX"
_INFO = re.compile(r"[:;!][12],[^/]*$")
_MAX_DEPTH = 8


def message_key(file_name: str) -> str:
    """``1700000000.M1P2.host,S=1234:2,RS`` → ``1700000000.M1P2.host,S=1234``."""
    info = _INFO.search(file_name)
    return file_name[: info.start()] if info else file_name


def is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


class MaildirMailbox(FileMailbox):
    """A Maildir or Maildir++ tree on disk, read without changing it."""

    scheme = "maildir"

    def _check_root(self) -> None:
        root = self.root
        hint = "give the folder that holds cur/, new/ and tmp/, for example maildir:~/Maildir"
        if not root.exists():
            raise MailboxError(self.url, f"there is no folder {root}", hint)
        if not root.is_dir():
            raise MailboxError(
                self.url,
                f"{root} is a file, not a Maildir folder",
                f"a file of messages is an mbox: use mbox:{root}",
            )
        if not is_maildir(root) and not self._find_folders():
            raise MailboxError(
                self.url,
                f"{root} is not a Maildir: it has no cur/ and new/ folders",
                f"{hint}; for a folder of .eml or .msg files use eml:{root}",
            )

    def _role(self, name: str) -> FolderRole:
        return "inbox" if name == INBOX else super()._role(name)

    def _find_folders(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        if is_maildir(self.root):
            found[INBOX] = self.root
        self._walk(self.root, "", found, 0)
        return found

    def _walk(self, directory: Path, prefix: str, found: dict[str, Path], depth: int) -> None:
        try:
            with os.scandir(directory) as it:
                entries = sorted((e for e in it if e.is_dir()), key=lambda e: e.name)
        except OSError as error:
            log.warning("%s: cannot list %s (%s); skipped", self.url, directory, error)
            return
        for entry in entries:
            path = Path(entry.path)
            if entry.name in ("cur", "new", "tmp"):
                continue
            if entry.name.startswith("."):
                # Maildir++: every folder is a dot-folder of the root, "." between levels.
                if depth == 0 and len(entry.name) > 1 and is_maildir(path):
                    parts = entry.name[1:].split(".")
                    found.setdefault("/".join(map(decode_folder_name, parts)), path)
                continue
            name = prefix + decode_folder_name(entry.name)
            if is_maildir(path):
                found.setdefault(name, path)
            if depth < _MAX_DEPTH and not entry.is_symlink():
                self._walk(path, name + "/", found, depth + 1)

    def _new_drafts_folder(self) -> Path:
        # Maildir++ beside an INBOX, a nested folder in a tree of maildirs.
        directory = self.root / (".Drafts" if is_maildir(self.root) else "Drafts")
        for sub in ("tmp", "new", "cur"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        return directory

    def _draft_paths(self, directory: Path, message: bytes) -> tuple[Path, Path]:
        # Delivered the Maildir way: written in tmp/, renamed into cur/ with the Draft flag.
        name = unique_name(message, "")
        return directory / "tmp" / name, directory / "cur" / f"{name}:2,D"

    def _list(self, directory: Path) -> dict[str, tuple[int, Path]]:
        listed: dict[str, tuple[int, Path]] = {}
        for sub in ("new", "cur"):  # new/ first: a file moved meanwhile is then seen in cur/
            try:
                for name, mtime, path in scan_files(directory / sub):
                    listed[message_key(name)] = (mtime, path)
            except FileNotFoundError:
                continue  # a maildir without new/ (or cur/) yet
        return listed
