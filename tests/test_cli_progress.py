"""Long commands show their progress with counts, on a terminal only (issue 18).

The commands run as a person runs them: ``xlcrm`` in a subprocess whose stderr is a real
pseudo-terminal, so the test sees the bytes a terminal gets — one line redrawn in place
(``\\r``, padded with spaces over a longer line before it) and blanked before the command's own
report (a frame of spaces, then ``\\r``). With stderr a pipe, or with
``--json``, nothing but the report is printed: a script's output stays clean.
"""

from __future__ import annotations

import csv
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from test_dedupe import make_book

XLCRM = str(Path(sys.executable).with_name("xlcrm"))

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")


def at_terminal(*args: str) -> tuple[int, list[str], str]:
    """Run ``xlcrm ARGS`` with stderr on a pseudo-terminal: (exit code, the progress frames
    drawn, in order, then what stayed on the terminal after the last erase; stdout)."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [XLCRM, *args],
            stdout=subprocess.PIPE,
            stderr=follower,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "COLUMNS": "200"},
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        stdout = process.stdout.read().decode() if process.stdout else ""
        process.wait(timeout=120)
    finally:
        os.close(leader)
    terminal = b"".join(chunks).decode().replace("\r\n", "\n")
    # Each \r starts a frame; the spaces that pad it over the one before are not seen.
    return process.returncode, [f.rstrip(" ") for f in terminal.split("\r")], stdout


def test_dedupe_shows_each_step_with_counts_then_erases_the_line(tmp_path: Path) -> None:
    book = make_book(tmp_path / "crm.xlsx")
    code, frames, stdout = at_terminal("dedupe", str(book))
    assert code == 0, frames
    assert frames == [
        "",  # before the first frame
        "Reading deals, interactions, tickets: 8/8 (100%)",
        "Reading customers: 11/11 (100%)",
        "Comparing pairs: 0/3 (0%)",
        "Comparing pairs: 3/3 (100%)",
        "Saving the workbook…",
        "",  # blanked,
        "",  # and back to the start: the report takes the line
    ]
    assert stdout.splitlines()[0] == (
        "10 customers compared: 3 likely duplicate pair(s) (score ≥ 80), "
        "2 invalid e-mail/phone value(s)"
    )


def test_dedupe_json_at_a_terminal_shows_no_progress(tmp_path: Path) -> None:
    book = make_book(tmp_path / "crm.xlsx")
    code, frames, stdout = at_terminal("dedupe", str(book), "--json")
    assert code == 0, frames
    assert frames == [""]
    assert json.loads(stdout)["pairs"] == 3


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    book = make_book(tmp_path / "crm.xlsx")
    done = subprocess.run([XLCRM, "dedupe", str(book)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_export_to_a_file_shows_rows_written(tmp_path: Path) -> None:
    book = make_book(tmp_path / "crm.xlsx")
    out = tmp_path / "customers.csv"
    code, frames, _ = at_terminal("export", str(book), "customers", "-o", str(out))
    assert code == 0, frames
    assert frames == ["", "Exporting: 11/11 (100%)", "", f"Wrote 11 rows to {out}\n"]
    with out.open(encoding="utf-8-sig", newline="") as written:
        assert len(list(csv.DictReader(written))) == 11


def test_export_with_where_counts_the_rows_it_writes(tmp_path: Path) -> None:
    """With --where the total is known only at the end: the rows written, not the table's."""
    book = make_book(tmp_path / "crm.xlsx")
    out = tmp_path / "some.csv"
    where = 'company == "广州博远贸易有限公司"'
    code, frames, _ = at_terminal(
        "export", str(book), "customers", "-o", str(out), "--where", where
    )
    assert code == 0, frames
    assert frames == ["", "Exporting: 1/1 (100%)", "", f"Wrote 1 rows to {out}\n"]


def test_export_to_stdout_draws_nothing_over_the_data(tmp_path: Path) -> None:
    book = make_book(tmp_path / "crm.xlsx")
    code, frames, stdout = at_terminal("export", str(book), "customers")
    assert code == 0, frames
    assert frames == [""]
    assert len(stdout.splitlines()) == 12  # the header and 11 rows


def test_import_shows_rows_done(tmp_path: Path) -> None:
    book = make_book(tmp_path / "crm.xlsx")
    source = tmp_path / "new.csv"
    source.write_text(
        "name,email\n" + "".join(f"Person {n},p{n}@example.cn\n" for n in range(30)),
        encoding="utf-8",
    )
    code, frames, stdout = at_terminal("import", str(book), "customers", str(source))
    assert code == 0, frames
    assert frames == ["", "Importing: 30/30 (100%)", "Saving the workbook…", "", ""]
    assert stdout.splitlines()[0] == (
        "new.csv → Customers: 30 rows: 30 inserted, 0 updated, 0 unchanged, 0 skipped"
    )
    code, frames, stdout = at_terminal(
        "import", str(book), "customers", str(source), "--json", "--dry-run"
    )
    assert frames == [""]
    assert json.loads(stdout)["dry_run"] is True


def test_report_shows_its_steps(tmp_path: Path) -> None:
    book = make_book(tmp_path / "crm.xlsx")
    code, frames, stdout = at_terminal("report", str(book), "--today", "2026-03-01")
    assert code == 0, frames
    assert frames == ["", "Refreshing the dashboard…", "Saving the workbook…", "", ""]
    assert stdout.splitlines()[:2] == [f"{book}:", "Dashboard refreshed: sheet 'Dashboard'"]


def test_the_progress_line_text() -> None:
    from addin.cli.common import progress_text

    assert progress_text("Comparing pairs", 1200, 30000) == "Comparing pairs: 1,200/30,000 (4%)"
    assert progress_text("Reading mail", 1200, 0) == "Reading mail: 1,200"
    assert progress_text("Saving the workbook", 0, 0) == "Saving the workbook…"


def test_sync_shows_messages_read(tmp_path: Path) -> None:
    book = make_book(tmp_path / "crm.xlsx")
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for n in range(3):
        (maildir / "new" / f"{n}.eml").write_text(
            f"From: li.na@huaxin.cn\r\nTo: sales@xinghe-soft.example\r\n"
            f"Subject: Quote {n}\r\nMessage-ID: <q{n}@huaxin.cn>\r\n"
            f"Date: Mon, 02 Mar 2026 10:0{n}:00 +0800\r\n\r\nHello\r\n",
            encoding="utf-8",
        )
    mailbox = f"maildir:{maildir}"
    me = ("--me", "sales@xinghe-soft.example")
    code, frames, stdout = at_terminal("sync", str(book), "--mailbox", mailbox, *me)
    assert code == 0, frames
    assert frames == ["", "Reading mail: 3/3 (100%)", "Saving the workbook…", "", ""]
    code, frames, stdout = at_terminal(
        "sync", str(book), "--mailbox", mailbox, *me, "--rescan", "--json"
    )
    assert code == 0, frames
    assert frames == [""]
    assert json.loads(stdout)["fetched"] == 3


def test_a_shorter_frame_covers_the_longer_one_before_it() -> None:
    """The exact characters: ``\\r`` and spaces only, which every console understands."""
    import io

    from addin.cli.common import _ProgressLine

    screen = io.StringIO()
    line = _ProgressLine("Reading customers", screen)
    line(10, 10)  # 31 characters
    line(0, 0, "Saving the workbook")  # 20, padded to 31
    line.clear()
    assert screen.getvalue() == (
        "\rReading customers: 10/10 (100%)"
        + "\rSaving the workbook…"
        + " " * 11
        + "\r"
        + " " * 20
        + "\r"
    )
