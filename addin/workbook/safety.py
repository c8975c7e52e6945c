"""Writing a workbook without ever losing one: locks, stale reads, atomic replace, backups.

The rules (``docs/design.md``, "One Table API, three backends"):

* refuse while Excel or LibreOffice has the file open (their owner/lock files say so);
* refuse when the file changed on disk after xlcrm read it — someone saved in between;
* write a complete new file beside the old one, fsync it, keep the old one as a backup, then
  ``os.replace`` — a crash at any moment leaves either the old or the new workbook, never half.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import WorkbookChangedError, WorkbookLockedError

BACKUP_DIR = ".xlcrm-backups"
TEMP_PREFIX = ".~xlcrm-"
STALE_TEMP_SECONDS = 3600


@dataclass(frozen=True)
class Snapshot:
    """What the file looked like when read; any difference means someone else wrote it."""

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> Snapshot:
        st = path.stat()
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)


def lock_holder(path: Path) -> tuple[Path, str] | None:
    """The lock file of an application editing ``path``, and who holds it (if it says)."""
    name = path.name
    candidates = [
        # Excel and Word: "~$" + name; for long names Office drops leading characters.
        *(path.with_name("~$" + name[k:]) for k in (0, 1, 2)),
        path.with_name(f".~lock.{name}#"),  # LibreOffice
    ]
    for lock in candidates:
        if lock.is_file():
            return lock, _lock_owner(lock)
    return None


def _lock_owner(lock: Path) -> str:
    try:
        data = lock.read_bytes()[:512]
    except OSError:
        return ""
    if lock.name.startswith(".~lock."):
        # LibreOffice: "Name,user,host,date,profile;"
        fields = data.decode("utf-8", "replace").split(",")
        return fields[0].strip() if fields else ""
    if data:
        # Office owner file: a length byte, the user name in the ANSI code page, padding,
        # then at offset 54 the same name in UTF-16.
        n = data[0]
        if 0 < n < 54 and len(data) >= 54 + 2 * n:
            with contextlib.suppress(UnicodeDecodeError):
                return data[54 : 54 + 2 * n].decode("utf-16-le").strip("\x00 ")
        return data[1 : 1 + n].decode("latin-1", "replace").strip("\x00 ")
    return ""


def check_not_locked(path: Path) -> None:
    held = lock_holder(path)
    if held is None:
        return
    lock, owner = held
    who = f" by {owner}" if owner else ""
    raise WorkbookLockedError(
        str(path),
        f"the workbook is open{who} in Excel or LibreOffice ({lock.name} exists)",
        "close it there and run again; if no one has it open, the lock file is left over "
        f"from a crash: delete {lock}",
    )


def check_unchanged(path: Path, snapshot: Snapshot) -> None:
    try:
        now = Snapshot.of(path)
    except FileNotFoundError:
        raise WorkbookChangedError(
            str(path),
            "the workbook was moved or deleted after xlcrm read it",
            "nothing was written; run again",
        ) from None
    if now != snapshot:
        raise WorkbookChangedError(
            str(path),
            "the workbook changed on disk after xlcrm read it (someone saved it meanwhile)",
            "nothing was written; run the command again to work on the new version",
        )


def atomic_write(
    path: Path,
    write: Callable[[BinaryIO], None],
    *,
    before_replace: Callable[[], None] | None = None,
    backups: int = 3,
) -> None:
    """Write ``path`` through a temp file in the same folder, keeping ``backups`` old copies.

    ``before_replace`` runs after the new file is safely on disk and before it takes the old
    one's place: the last moment to refuse (file changed, lock appeared).
    """
    folder = path.parent
    _remove_stale_temps(folder, path.name)
    fd, tmp_name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.", suffix=".tmp", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        _copy_ownership(path, tmp)
        # Two xlcrm processes (a scheduled sync and an import) must not both pass the last
        # check and then replace in turn: the second would drop the first one's rows.
        with _save_lock(path):
            if before_replace is not None:
                before_replace()
            if backups > 0 and path.exists():
                _backup(path, backups)
            os.replace(tmp, path)
            _fsync_dir(folder)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _copy_ownership(source: Path, target: Path) -> None:
    """The new file keeps the old one's permissions and, where allowed, owner and group —
    a scheduled run as another user must not take the workbook away from its owner."""
    try:
        st = source.stat()
    except FileNotFoundError:
        return
    with contextlib.suppress(OSError):
        shutil.copymode(source, target)
    if hasattr(os, "chown"):
        with contextlib.suppress(OSError):
            os.chown(target, st.st_uid, st.st_gid)


@contextlib.contextmanager
def _save_lock(path: Path) -> Iterator[None]:
    """An OS lock held while one process checks and replaces the workbook.

    The operating system releases it when the process dies, so a crash never leaves a stale
    lock behind. The lock file lives in the backup folder, out of the user's way.
    """
    folder = backup_dir(path)
    folder.mkdir(exist_ok=True)
    handle = (folder / f".lock-{path.name}").open("a+b")
    try:
        try:
            if sys.platform == "win32":  # os.name == "nt", in the form mypy understands
                import msvcrt

                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise WorkbookLockedError(
                str(path),
                "another xlcrm process is saving this workbook right now",
                "nothing was written; run again when it has finished",
            ) from None
        yield
    finally:
        handle.close()  # closing releases the lock


def backup_dir(path: Path) -> Path:
    return path.parent / BACKUP_DIR


def _backup(path: Path, keep: int) -> None:
    folder = backup_dir(path)
    folder.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"{path.stem}.{stamp}{path.suffix}"
    try:
        os.link(path, target)  # instant; the old inode lives on after the replace
    except OSError:
        shutil.copy2(path, target)
    # Only this workbook's backups: "crm.<date>-<time>-<µs>.xlsx", not "crm.2.<…>.xlsx".
    digits = "[0-9]" * 8 + "-" + "[0-9]" * 6 + "-" + "[0-9]" * 6
    old = sorted(folder.glob(f"{_glob_escape(path.stem)}.{digits}{path.suffix}"))
    for stale in old[:-keep]:
        with contextlib.suppress(OSError):
            stale.unlink()


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def _remove_stale_temps(folder: Path, name: str) -> None:
    """Temp files left by a process killed mid-save (the workbook itself is intact)."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    for tmp in folder.glob(f"{TEMP_PREFIX}{_glob_escape(name)}.*.tmp"):
        with contextlib.suppress(OSError):
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
