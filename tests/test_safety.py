"""A save never loses a workbook: it refuses while another program has the file or after the
file changed, keeps backups, keeps the file's mode and encryption, and a process killed in the
middle of a save leaves the old workbook intact.

No mocks: lock files are shaped like the ones Excel and LibreOffice leave, "someone else saved"
is a real write to the file, and the crash is a real SIGKILL of a real Python process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import msoffcrypto
import pytest
from books import blank_workbook
from msoffcrypto.format.ooxml import OOXMLFile

from addin.errors import WorkbookChangedError, WorkbookError, WorkbookLockedError
from addin.workbook import open_book
from addin.workbook.safety import BACKUP_DIR, TEMP_PREFIX

Convert = Callable[[Path, str, Path], Path]  # conftest.libreoffice_convert

FIXTURES = Path(__file__).parent / "fixtures"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PASSWORD = "客户 s3cret!"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def temp_files(folder: Path, name: str) -> set[str]:
    prefix = f"{TEMP_PREFIX}{name}."
    return {p.name for p in folder.iterdir() if p.name.startswith(prefix)}


def backups(path: Path) -> list[Path]:
    """This workbook's backups, oldest first (the lock file xlcrm keeps there is not one)."""
    folder = path.parent / BACKUP_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"{path.stem}.*{path.suffix}") if p.is_file())


def names(path: Path) -> list[str]:
    with open_book(path) as book:
        return [r["name"] for r in book.table("customers").rows()]


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = blank_workbook(tmp_path / "crm.xlsx")
    with open_book(path) as b:
        b.table("customers").insert_all([{"name": "张伟"}, {"name": "Ann Lee"}])
    shutil.rmtree(tmp_path / BACKUP_DIR, ignore_errors=True)
    return path


# -- another program has the workbook open --------------------------------------------------


def _excel_owner_file(user: str) -> bytes:
    """Shaped like an Office owner file: name length, the name in the ANSI code page, space
    padding, the name again in UTF-16 (only its presence matters to these tests)."""
    ansi = user.encode("latin-1")
    data = bytes([len(user)]) + ansi.ljust(53, b" ") + user.encode("utf-16-le")
    return data.ljust(165, b"\x00")


@pytest.mark.parametrize(
    ("lock_name", "content"),
    [
        pytest.param("~$crm.xlsx", _excel_owner_file("Wang Fang"), id="excel"),
        pytest.param(
            ".~lock.crm.xlsx#",
            b"Wang Fang,wangf,PC-017,22.11.2026 09:30,file:///home/wangf/.config/libreoffice/4;",
            id="libreoffice",
        ),
    ],
)
def test_refuses_to_save_while_another_program_has_the_file(
    book: Path, lock_name: str, content: bytes
) -> None:
    before = book.read_bytes()
    with open_book(book) as b:
        b.table("customers").insert({"name": "not now"})
        (book.parent / lock_name).write_bytes(content)  # the user opens it meanwhile
        with pytest.raises(WorkbookLockedError) as err:
            b.save()
        b.discard()
    message = str(err.value)
    assert message.startswith(f"{book}: the workbook is open")
    assert f"({lock_name} exists)" in message
    assert f"delete {book.parent / lock_name}" in message  # what to do if it is left over
    if lock_name.startswith(".~lock."):
        assert "open by Wang Fang in Excel or LibreOffice" in message
    assert book.read_bytes() == before
    assert temp_files(book.parent, book.name) == set()
    assert backups(book) == []

    (book.parent / lock_name).unlink()  # closed there: now a save goes through
    with open_book(book) as b:
        b.table("customers").insert({"name": "now"})
    assert names(book) == ["张伟", "Ann Lee", "now"]


# -- someone else saved after xlcrm read the file ---------------------------------------------


def _touch(path: Path) -> None:
    later = time.time() + 2
    os.utime(path, (later, later))


def _other_program_replaces(path: Path) -> None:
    with open_book(path) as other:
        other.table("customers").insert({"name": "typed in Excel"})


def _rewritten_in_place_same_size(path: Path) -> None:
    data = path.read_bytes()
    time.sleep(0.01)
    with path.open("r+b") as f:  # same inode, same size, same bytes: only the time differs
        f.write(data)


@pytest.mark.parametrize(
    "change",
    [_touch, _other_program_replaces, _rewritten_in_place_same_size],
    ids=["touched", "saved-by-another-program", "rewritten-in-place"],
)
def test_refuses_to_save_when_the_file_changed_after_it_was_read(book: Path, change) -> None:
    with open_book(book) as b:
        b.table("customers").insert({"name": "from xlcrm"})
        change(book)
        theirs = book.read_bytes()
        with pytest.raises(WorkbookChangedError) as err:
            b.save()
        b.discard()
    assert str(err.value) == (
        f"{book}: the workbook changed on disk after xlcrm read it (someone saved it "
        "meanwhile)\n  hint: nothing was written; run the command again to work on the new "
        "version"
    )
    assert book.read_bytes() == theirs
    assert temp_files(book.parent, book.name) == set()
    assert "from xlcrm" not in names(book)


# -- backups ------------------------------------------------------------------------------------


def test_rolling_backups_keep_the_previous_versions(book: Path) -> None:
    versions = []
    with open_book(book, backups=3) as b:
        customers = b.table("customers")
        for n in range(5):
            versions.append(book.read_bytes())
            customers.insert({"name": f"save {n}"})
            assert b.save() is True
            kept = backups(book)
            assert len(kept) == min(n + 1, 3)
            assert kept[-1].read_bytes() == versions[-1]  # the newest is the version before
    kept = backups(book)
    assert [p.read_bytes() for p in kept] == versions[-3:]
    assert names(kept[0]) == ["张伟", "Ann Lee", "save 0", "save 1"]  # backups are workbooks
    assert names(book)[-1] == "save 4"


def test_backups_of_another_workbook_in_the_folder_are_left_alone(book: Path) -> None:
    """'crm.xlsx' and 'crm.2025.xlsx' side by side: saving one never prunes the other's."""
    archive = shutil.copy(book, book.with_name("crm.2025.xlsx"))
    for n in range(3):
        with open_book(archive, backups=3) as b:
            b.table("customers").insert({"name": f"archive {n}"})
    archive_backups = backups(Path(archive))
    assert len(archive_backups) == 3
    previous = book.read_bytes()
    with open_book(book, backups=3) as b:
        b.table("customers").insert({"name": "main"})
    assert backups(Path(archive)) == archive_backups
    own = [p for p in backups(book) if not p.name.startswith("crm.2025.")]
    assert [p.read_bytes() for p in own] == [previous]


def test_xlcrm_backups_0_keeps_none(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLCRM_BACKUPS", "0")
    for n in range(2):
        with open_book(book) as b:
            b.table("customers").insert({"name": f"no backup {n}"})
    assert backups(book) == []
    assert names(book)[-2:] == ["no backup 0", "no backup 1"]


@pytest.mark.parametrize("mode", [0o640, 0o600, 0o664])
def test_file_mode_is_preserved(book: Path, mode: int) -> None:
    book.chmod(mode)
    with open_book(book) as b:
        b.table("customers").insert({"name": "mode"})
    assert book.stat().st_mode & 0o7777 == mode
    assert names(book)[-1] == "mode"


def test_owner_and_group_are_preserved(book: Path) -> None:
    """A scheduled run as root (or a service account) must not take the workbook away from
    the person who owns it: after the save they can still edit it in Excel."""
    if os.geteuid() != 0:
        pytest.skip("giving the workbook another owner needs root")
    os.chown(book, 1000, 1000)
    book.chmod(0o644)
    with open_book(book) as b:
        b.table("customers").insert({"name": "from the scheduled run"})
    st = book.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1000, 1000, 0o644)
    assert names(book)[-1] == "from the scheduled run"


def test_a_symlinked_workbook_is_saved_through_the_link(book: Path, tmp_path: Path) -> None:
    """The workbook lives in a synced folder; the user opens it through a link elsewhere.
    The save must reach the real file, and the link must stay a link."""
    link = tmp_path / "desktop" / "crm.xlsx"
    link.parent.mkdir()
    link.symlink_to(book)
    with open_book(link) as b:
        b.table("customers").insert({"name": "via the link"})
    assert link.is_symlink()
    assert link.resolve() == book.resolve()
    assert names(book)[-1] == "via the link"


def test_temp_files_left_by_a_crash_are_removed_once_stale(book: Path) -> None:
    """A crash leaves ``.~xlcrm-crm.xlsx.*.tmp`` behind; a later save removes those older than
    an hour and leaves younger ones alone (another process may be writing it right now)."""
    old = book.with_name(f"{TEMP_PREFIX}{book.name}.crashed.tmp")
    young = book.with_name(f"{TEMP_PREFIX}{book.name}.writing.tmp")
    for temp in (old, young):
        temp.write_bytes(b"half a workbook")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    with open_book(book) as b:
        b.table("customers").insert({"name": "cleans up"})
    assert temp_files(book.parent, book.name) == {young.name}
    assert names(book)[-1] == "cleans up"


# -- encrypted workbooks ------------------------------------------------------------------------


def _encrypt(source: Path, target: Path, password: str) -> Path:
    with source.open("rb") as f, target.open("wb") as out:
        OOXMLFile(f).encrypt(password, out)
    return target


def _decrypt(path: Path, password: str) -> bytes:
    with path.open("rb") as f:
        office = msoffcrypto.OfficeFile(f)
        office.load_key(password=password)
        out = io.BytesIO()
        office.decrypt(out)
    return out.getvalue()


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_encrypted_workbook_is_saved_encrypted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _encrypt(FIXTURES / "lo_features.xlsx", tmp_path / "secret.xlsx", PASSWORD)
    monkeypatch.setenv("XLCRM_BOOK_PASSWORD", PASSWORD)
    with open_book(path) as b:
        assert b.encrypted
        customers = b.table("customers")
        customers.update("C0001", {"notes": "加密工作簿里的更新"})
        customers.insert({"name": "新客户", "created": dt.date(2026, 6, 1)})

    assert path.read_bytes()[:8] == OLE_MAGIC
    plain = _parts(_decrypt(path, PASSWORD))
    original = _parts((FIXTURES / "lo_features.xlsx").read_bytes())
    changed = {n for n in original if original[n] != plain[n]}
    assert changed == {"xl/worksheets/sheet1.xml", "xl/tables/table1.xml"}
    with open_book(path) as b:
        rows = list(b.table("customers").rows())
    assert rows[0]["notes"] == "加密工作簿里的更新"
    assert (rows[-1]["id"], rows[-1]["name"], rows[-1]["created"]) == (
        "C0013",
        "新客户",
        dt.date(2026, 6, 1),
    )
    # The decrypted workbook never touched the disk: every file left is encrypted.
    for file in tmp_path.rglob("*"):
        if file.is_file() and file.stat().st_size:
            assert file.read_bytes()[:2] != b"PK", file


def test_wrong_password_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _encrypt(FIXTURES / "lo_features.xlsx", tmp_path / "secret.xlsx", PASSWORD)
    before = path.read_bytes()
    monkeypatch.setenv("XLCRM_BOOK_PASSWORD", "wrong")
    with pytest.raises(WorkbookError) as err:
        open_book(path)
    assert str(err.value) == (
        f"{path}: wrong password for the workbook\n"
        "  hint: check XLCRM_BOOK_PASSWORD (or what you typed)"
    )
    assert path.read_bytes() == before


def test_missing_password_in_an_unattended_run_says_what_to_set(tmp_path: Path) -> None:
    """A scheduled run has no terminal to ask on (stdin is not a tty)."""
    path = _encrypt(FIXTURES / "lo_features.xlsx", tmp_path / "secret.xlsx", PASSWORD)
    code = "import sys\nfrom addin.workbook import open_book\ntry:\n    open_book(sys.argv[1])\n"
    code += "except Exception as e:\n    print(type(e).__name__, e)\n"
    env = {k: v for k, v in os.environ.items() if k != "XLCRM_BOOK_PASSWORD"}
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.stdout.strip() == (
        f"WorkbookError {path}: the workbook is password-protected\n  hint: set "
        "XLCRM_BOOK_PASSWORD in the environment, or run the command in a terminal to be asked"
    )


# -- not a workbook -----------------------------------------------------------------------------


def _zip_without_workbook(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "not a workbook")


@pytest.mark.parametrize(
    "make",
    [
        lambda p: p.write_text("id,name\nC0001,张伟\n", encoding="utf-8"),
        lambda p: p.write_bytes(b""),
        lambda p: p.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"),
        _zip_without_workbook,
    ],
    ids=["csv-renamed", "empty", "pdf", "zip-without-workbook"],
)
def test_a_file_that_is_not_a_workbook_is_a_workbook_error(tmp_path: Path, make) -> None:
    path = tmp_path / "crm.xlsx"
    make(path)
    before = path.read_bytes()
    with pytest.raises(WorkbookError) as err:
        open_book(path)
    assert str(err.value).startswith(f"{path}: ")
    assert "Excel" in str(err.value)
    assert path.read_bytes() == before


@pytest.mark.libreoffice
@pytest.mark.parametrize("password", [None, PASSWORD], ids=["no-password", "password-set"])
def test_a_legacy_xls_file_is_a_clear_workbook_error(
    tmp_path: Path,
    libreoffice_convert: Convert,
    monkeypatch: pytest.MonkeyPatch,
    password: str | None,
) -> None:
    """An Excel 97-2003 .xls (made here by LibreOffice) is not password-protected; xlcrm
    must say it is not an .xlsx, whether or not XLCRM_BOOK_PASSWORD happens to be set."""
    libreoffice_convert(FIXTURES / "lo_features.xlsx", "xls", tmp_path)
    path = tmp_path / "lo_features.xls"
    assert path.read_bytes()[:8] == OLE_MAGIC
    if password:
        monkeypatch.setenv("XLCRM_BOOK_PASSWORD", password)
    else:
        monkeypatch.delenv("XLCRM_BOOK_PASSWORD", raising=False)
    with pytest.raises(WorkbookError) as err:
        open_book(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ")
    assert "password" not in message.split("\n")[0]
    assert ".xlsx" in message


# -- a process killed in the middle of a save -----------------------------------------------

BIG_ROWS = 20_000
POLL = 0.0005
CHILD = textwrap.dedent(
    """
    import sys
    from addin.workbook import open_book

    book = open_book(sys.argv[1])
    customers = book.table("customers")
    customers.update("C12345", {"notes": "changed by the killed process"})
    customers.insert({"name": "added by the killed process"})
    print("saving", flush=True)
    book.save()
    print("saved", flush=True)
    """
)


@dataclass
class BigBook:
    path: Path
    write_window: float  # seconds the temp file exists during an undisturbed save


def _run_child(path: Path, kill_after: float | None) -> tuple[subprocess.Popen[str], float]:
    """Start a child that saves ``path``; once its temp file appears, wait ``kill_after``
    seconds and SIGKILL it (None: let it finish). Returns the child and the temp file's
    lifetime as seen from here."""
    known = temp_files(path.parent, path.name)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not temp_files(path.parent, path.name) - known:
            if child.poll() is not None:
                out, err = child.communicate()
                pytest.fail(f"the child ended before its temp file was seen:\n{out}\n{err}")
            assert time.monotonic() < deadline, "the child never started writing"
            time.sleep(POLL)  # the machine may have two cores: leave one to the child
        appeared = time.perf_counter()
        if kill_after is None:
            while temp_files(path.parent, path.name) - known:
                time.sleep(POLL)
            lifetime = time.perf_counter() - appeared
            child.wait(timeout=60)
            return child, lifetime
        time.sleep(kill_after)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
        return child, time.perf_counter() - appeared
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()


@pytest.fixture(scope="module")
def big_book(tmp_path_factory: pytest.TempPathFactory) -> BigBook:
    folder = tmp_path_factory.mktemp("big")
    path = blank_workbook(folder / "big.xlsx")
    with open_book(path) as b:
        b.table("customers").insert_all(
            {
                "name": f"客户 {i}",
                "company": f"公司 {i % 97} 有限公司",
                "email": f"c{i}@example.cn",
                "phone": f"+86 138 {i:08d}",
                "status": "Active",
                "created": dt.date(2025, 1, 1) + dt.timedelta(days=i % 365),
                "notes": "季度回访；" * 3,
            }
            for i in range(BIG_ROWS)
        )
    shutil.rmtree(folder / BACKUP_DIR)
    # Measure how long an undisturbed save keeps its temp file, on a copy.
    trial = Path(shutil.copy(path, folder / "trial.xlsx"))
    child, window = _run_child(trial, kill_after=None)
    assert child.returncode == 0, child.stderr.read() if child.stderr else ""
    return BigBook(path, window)


KILL_POINTS = {
    "as-the-temp-file-appears": (0.0, 0.0),
    "early-in-the-write": (0.05, 0.35),
    "late-in-the-write": (0.35, 0.7),
    "near-the-replace": (0.7, 1.0),
}


@pytest.mark.slow  # kills a real process saving a big workbook, once per kill point
@pytest.mark.parametrize("kill_point", list(KILL_POINTS))
def test_a_save_killed_midway_leaves_the_workbook_intact(
    big_book: BigBook, tmp_path: Path, kill_point: str
) -> None:
    path = Path(shutil.copy(big_book.path, tmp_path / "big.xlsx"))
    original = sha256(path)
    seed = random.randrange(1_000_000)
    low, high = KILL_POINTS[kill_point]
    delay = random.Random(seed).uniform(low, high) * big_book.write_window
    where = f"{kill_point}: killed {delay * 1000:.0f} ms after the temp file appeared "
    where += f"(write window {big_book.write_window * 1000:.0f} ms, seed {seed})"

    child, _ = _run_child(path, kill_after=delay)
    finished = child.returncode == 0
    assert child.returncode in (-signal.SIGKILL, 0), where
    if kill_point == "as-the-temp-file-appears":
        assert not finished, where

    with open_book(path) as b:
        customers = b.table("customers")
        row = customers.get("C12345")
        if sha256(path) == original:
            assert len(customers) == BIG_ROWS, where
            assert row["notes"] == "季度回访；" * 3, where
        else:
            # The kill came after the new file took the old one's place: the new one, whole.
            assert len(customers) == BIG_ROWS + 1, where
            assert row["notes"] == "changed by the killed process", where
        stale = temp_files(tmp_path, path.name)  # a killed save may leave its temp file
        customers.update("C0001", {"notes": "the next save works"})
        customers.insert({"name": "after the crash"})
        assert b.save() is True

    assert temp_files(tmp_path, path.name) <= stale  # the normal save cleaned up after itself
    with open_book(path) as b:
        customers = b.table("customers")
        assert customers.get("C0001")["notes"] == "the next save works"
        assert list(customers.rows())[-1]["name"] == "after the crash"
