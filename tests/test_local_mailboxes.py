"""Local mail backends (Maildir, mbox, folders of .eml/.msg) read real files, changing nothing.

Maildirs and mboxes are written in ``tmp_path`` by Python's :mod:`mailbox` module (what many
tools use) or file by file the way mail clients and servers write them; the Outlook ``.msg``
inputs in ``tests/data/localmail/`` were written by a real .msg writer (see ``make_msg.mjs``
there) and are read through extract-msg. Nothing is mocked, except one test that hides the
installed extract-msg to show the error a user without it sees.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import importlib.util
import logging
import mailbox
import os
import shutil
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from sync.local import EmlMailbox, MaildirMailbox, MboxMailbox, role_from_name
from sync.local._files import file_changes
from sync.local.maildir import message_key
from sync.mailbox import Changes, Folder, Mailbox, MailboxError, MessageRef
from sync.open import open_mailbox
from sync.utf7 import decode_folder_name, decode_utf7, encode_utf7

DATA = Path(__file__).parent / "data" / "localmail"
OLD = 1_500_000_000  # 2017: a modification time older than anything a test delivers


def message(n: int) -> bytes:
    """A small real message, unique by ``n``; its body has a line that starts with "From"."""
    msg = EmailMessage()
    msg["From"] = "zhang.san@example.cn"
    msg["To"] = "sales@example.com"
    msg["Subject"] = f"报价 {n}"
    msg["Message-ID"] = f"<m{n}@example.cn>"
    msg.set_content(f"第 {n} 封邮件。\n\nFrom the desk of 张三\n")
    return msg.as_bytes()


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Every file and directory below ``root``: modification time, and a hash of files."""
    seen = {}
    for path in sorted([root, *root.rglob("*")]):
        stat = path.stat()
        digest = "" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
        seen[path.relative_to(root).as_posix()] = (stat.st_mtime_ns, digest)
    return seen


def sync_everything(box: Mailbox, states: dict[str, str] | None = None) -> dict[str, str]:
    """What a sync run does: every folder, every change, every message fetched."""
    new_states = {}
    for folder in box.folders():
        changes = box.changes(folder.name, (states or {}).get(folder.name))
        assert len(list(box.fetch(changes.refs))) == len(changes.refs)
        new_states[folder.name] = changes.state
    return new_states


def in_mbox(n: int) -> bytes:
    """``message(n)`` as an mbox stores it: a body line starting "From " is quoted ">From "."""
    return message(n).replace(b"\nFrom the desk", b"\n>From the desk")


def keys(changes: Changes) -> list[str]:
    return [ref.key for ref in changes.refs]


# ---- Maildir -------------------------------------------------------------------------------


def make_maildir(root: Path) -> mailbox.Maildir:
    md = mailbox.Maildir(root, create=True)
    for n in range(3):
        md.add(message(n))
    md.add_folder("Sent").add(message(10))
    md.add_folder("Drafts")
    md.add_folder("已发送").add(message(11))  # raw UTF-8 name, as some servers write it
    md.add_folder("Customers.ACME").add(message(12))  # Maildir++ level separator "."
    dovecot = root / f".{encode_utf7('草稿箱')}"  # Dovecot: .&g0l6P3ux-
    for sub in ("cur", "new", "tmp"):
        (dovecot / sub).mkdir(parents=True)
    (dovecot / "cur" / "1700000000.M1P1.host,S=10,W=12:2,S").write_bytes(message(13))
    return md


def test_maildir_lists_folders_with_roles_and_fetches_bytes_as_stored(tmp_path: Path) -> None:
    root = tmp_path / "Maildir"
    md = make_maildir(root)
    box = open_mailbox(f"maildir:{root}")
    assert isinstance(box, MaildirMailbox)
    assert isinstance(box, Mailbox)
    assert box.url == f"maildir:{root}"
    assert box.folders() == [
        Folder("INBOX", "inbox"),
        Folder("草稿箱", "drafts"),
        Folder("Customers/ACME", "other"),
        Folder("Drafts", "drafts"),
        Folder("Sent", "sent"),
        Folder("已发送", "sent"),
    ]

    inbox = box.changes("INBOX", None)
    assert inbox.reset is False
    assert sorted(keys(inbox)) == sorted(md.keys())  # Python's key is the unique part too
    fetched = dict(box.fetch(inbox.refs))
    assert {ref.key: data for ref, data in fetched.items()} == {
        key: (root / "new" / key).read_bytes() for key in md.iterkeys()
    }
    assert sorted(fetched.values()) == sorted(message(n) for n in range(3))

    [(ref, data)] = box.fetch(box.changes("草稿箱", None).refs)
    assert ref == MessageRef("草稿箱", "1700000000.M1P1.host,S=10,W=12")
    assert data == message(13)
    [(_, data)] = box.fetch(box.changes("已发送", None).refs)
    assert data == message(11)
    assert box.changes("Drafts", None).refs == []


def test_maildir_second_run_lists_nothing_and_a_third_exactly_the_two_new(tmp_path: Path) -> None:
    md = make_maildir(tmp_path / "Maildir")
    box = open_mailbox(f"maildir:{tmp_path / 'Maildir'}")
    first = box.changes("INBOX", None)
    assert len(first.refs) == 3
    second = box.changes("INBOX", first.state)
    assert (second.refs, second.reset) == ([], False)

    added = [md.add(message(20)), md.add(message(21))]
    third = box.changes("INBOX", second.state)
    assert sorted(keys(third)) == sorted(added)
    assert third.reset is False
    assert sorted(data for _, data in box.fetch(third.refs)) == [message(20), message(21)]
    assert box.changes("INBOX", third.state).refs == []


def test_a_message_the_mail_client_marks_seen_is_not_new_again(tmp_path: Path) -> None:
    md = make_maildir(tmp_path / "Maildir")
    root = tmp_path / "Maildir"
    box = open_mailbox(f"maildir:{root}")
    first = box.changes("INBOX", None)
    key = keys(first)[0]
    (root / "new" / key).rename(root / "cur" / f"{key}:2,S")  # what a client does on reading
    assert box.changes("INBOX", first.state).refs == []
    (root / "cur" / f"{key}:2,S").rename(root / "cur" / f"{key}:2,RS")  # replied
    assert box.changes("INBOX", first.state).refs == []
    # A ref listed before the move still fetches, from its new place.
    fresh = MaildirMailbox(f"maildir:{root}")
    assert dict(fresh.fetch([MessageRef("INBOX", key)])) == {
        MessageRef("INBOX", key): md.get_bytes(key)
    }


@pytest.mark.parametrize("kind", ["maildir", "mbox", "eml"])
def test_a_sync_leaves_the_mail_exactly_as_it_was(tmp_path: Path, kind: str) -> None:
    root = tmp_path / "mail"
    if kind == "maildir":
        make_maildir(root)
    elif kind == "mbox":
        make_mbox(root / "Inbox.mbox", range(5))
    else:
        make_eml_tree(root)
        if importlib.util.find_spec("extract_msg"):  # .msg files are opened too
            shutil.copy(DATA / "received.msg", root / "Sent" / "received.msg")
    os.utime(root, ns=(OLD * 10**9, OLD * 10**9))
    before = snapshot(root)
    box = open_mailbox(f"{kind}:{root if kind != 'mbox' else root / 'Inbox.mbox'}")
    states = sync_everything(box)
    sync_everything(box, states)
    box.close()
    assert snapshot(root) == before  # same names (nothing moved to cur/), times, contents


def test_maildir_finds_files_restored_with_old_times_and_shrugs_off_deletions(
    tmp_path: Path,
) -> None:
    root = tmp_path / "Maildir"
    md = make_maildir(root)
    for n in range(100, 150):
        md.add(message(n))
    box = MaildirMailbox(f"maildir:{root}")
    state = box.changes("INBOX", None).state

    for key in list(md.keys())[:20]:  # the user deletes some old mail…
        md.remove(key)
    restored = []
    for n in range(200, 205):  # …and restores five messages from a backup, times kept
        key = md.add(message(n))
        path = root / "new" / key
        os.utime(path, ns=(OLD * 10**9, OLD * 10**9))
        restored.append(key)
    changes = box.changes("INBOX", state)
    assert (sorted(keys(changes)), changes.reset) == (sorted(restored), False)


def test_a_file_stamped_in_the_future_does_not_hold_the_watermark_back(tmp_path: Path) -> None:
    root = tmp_path / "Maildir"
    md = make_maildir(root)
    future = md.add(message(99))
    os.utime(root / "new" / future, ns=(4_102_444_800 * 10**9,) * 2)  # 2100-01-01
    box = MaildirMailbox(f"maildir:{root}")
    state = box.changes("INBOX", None).state
    added = [md.add(message(n)) for n in range(100, 200)]  # more than the sketch could peel
    changes = box.changes("INBOX", state)
    assert changes.reset is False
    listed = keys(changes)
    assert sorted(listed[:-1]) == sorted(added)  # oldest first: file times, not names
    assert listed[-1] == future  # the future one again, last


def test_maildir_lists_everything_again_when_too_much_changed_below_the_watermark(
    tmp_path: Path,
) -> None:
    root = tmp_path / "Maildir"
    md = mailbox.Maildir(root, create=True)
    for n in range(200):
        md.add(message(n))
    box = MaildirMailbox(f"maildir:{root}")
    state = box.changes("INBOX", None).state
    for key in list(md.keys())[:170]:  # far more than 128 cells can tell apart
        md.remove(key)
    changes = box.changes("INBOX", state)
    assert changes.reset is True
    assert sorted(keys(changes)) == sorted(md.keys())


@pytest.mark.slow
def test_the_file_state_stays_small_and_exact_for_100000_messages() -> None:
    t0 = 1_700_000_000 * 10**9
    files = {f"{1700000000 + i}.M{i}P7.mx,S=4000:2,S": t0 + i * 10**6 for i in range(100_000)}
    first = file_changes("maildir:x", "INBOX", files, None)
    assert len(first.state) < 3000
    later = dict(files)
    for i in range(0, 100_000, 4000):  # 25 deleted
        del later[f"{1700000000 + i}.M{i}P7.mx,S=4000:2,S"]
    later.update({f"restored-{i:02}": t0 - 1 for i in range(30)})  # 30 with old times
    later.update({f"new-{i}": t0 + 10**15 + i for i in range(1000)})  # 1,000 new ones
    changes = file_changes("maildir:x", "INBOX", later, first.state)
    assert changes.reset is False
    restored = [f"restored-{i:02}" for i in range(30)]
    assert changes.keys == restored + [f"new-{i}" for i in range(1000)]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("1700000000.M20P3.host", "1700000000.M20P3.host"),
        ("1700000000.M20P3.host:2,", "1700000000.M20P3.host"),
        ("1700000000.M20P3.host:2,FRS", "1700000000.M20P3.host"),
        ("1035478339.2704_1.foo,S=1000,W=1030:2,S", "1035478339.2704_1.foo,S=1000,W=1030"),
        ("1700000000.M20P3.host;2,S", "1700000000.M20P3.host"),  # mbsync on Windows
        ("1700000000.M20P3.host!2,S", "1700000000.M20P3.host"),  # Python's mailbox on Windows
    ],
)
def test_maildir_key_is_the_unique_part_of_the_file_name(name: str, key: str) -> None:
    assert message_key(name) == key


def test_maildir_nested_folders_without_an_inbox(tmp_path: Path) -> None:
    root = tmp_path / "Mail"  # mutt/isync style: a directory of maildirs, nested
    root.mkdir()
    mailbox.Maildir(root / "Work", create=True).add(message(1))
    mailbox.Maildir(root / "Work" / "ACME", create=True).add(message(2))
    mailbox.Maildir(root / "Sent Messages", create=True)
    (root / "notes").mkdir()
    box = open_mailbox(f"maildir:{root}")
    assert box.folders() == [
        Folder("Sent Messages", "sent"),
        Folder("Work", "other"),
        Folder("Work/ACME", "other"),
    ]
    assert [data for _, data in box.fetch(box.changes("Work/ACME", None).refs)] == [message(2)]


def test_a_message_deleted_between_listing_and_fetch_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "Maildir"
    md = make_maildir(root)
    box = open_mailbox(f"maildir:{root}")
    refs = box.changes("INBOX", None).refs
    md.remove(refs[0].key)
    with caplog.at_level(logging.WARNING, logger="sync.local"):
        fetched = list(box.fetch(refs))
    assert [ref for ref, _ in fetched] == refs[1:]
    assert f"INBOX: message {refs[0].key} is gone since it was listed" in caplog.text


# ---- mbox ----------------------------------------------------------------------------------


def make_mbox(path: Path, numbers) -> mailbox.mbox:
    path.parent.mkdir(parents=True, exist_ok=True)
    box = mailbox.mbox(path)
    for n in numbers:
        box.add(message(n))
    box.flush()
    return box


def test_mbox_lists_and_fetches_what_pythons_mailbox_reads(tmp_path: Path) -> None:
    path = tmp_path / "Sent.mbox"
    written = make_mbox(path, range(4))
    box = open_mailbox(f"mbox:{path}")
    assert isinstance(box, MboxMailbox)
    assert box.folders() == [Folder("Sent", "sent")]
    changes = box.changes("Sent", None)
    assert len(changes.refs) == 4
    assert keys(changes)[0] == "0"
    fetched = [data for _, data in box.fetch(changes.refs)]
    assert fetched == [written.get_bytes(key) for key in written.iterkeys()]
    assert [email.message_from_bytes(d)["Message-ID"] for d in fetched] == [
        f"<m{n}@example.cn>" for n in range(4)
    ]
    # A ref from an earlier run, fetched by a new object, finds its end by itself.
    again = MboxMailbox(f"mbox:{path}")
    assert [d for _, d in again.fetch(changes.refs[1:3])] == fetched[1:3]


def test_a_large_mbox_read_in_chunks_matches_pythons_mailbox(tmp_path: Path) -> None:
    path = tmp_path / "big.mbox"
    written = mailbox.mbox(path)
    for n in range(250):  # about 1.5 MB: many chunk boundaries, From lines across them
        msg = email.message_from_bytes(message(n))
        msg.set_payload(f"line {n}\n\nFrom x at 10:00\n".encode() * (n % 7) * 60 + b"end\n")
        written.add(msg)
    written.flush()
    box = MboxMailbox(f"mbox:{path}")
    changes = box.changes("big", None)
    data = path.read_bytes()
    assert len(changes.refs) == 250
    assert all(data[int(key) : int(key) + 5] == b"From " for key in keys(changes))
    assert [d for _, d in box.fetch(changes.refs)] == [
        written.get_bytes(k) for k in written.iterkeys()
    ]


def test_mbox_append_lists_only_the_new_messages(tmp_path: Path) -> None:
    path = tmp_path / "inbox.mbox"
    written = make_mbox(path, range(3))
    box = MboxMailbox(f"mbox:{path}")
    first = box.changes("inbox", None)
    assert box.changes("inbox", first.state).refs == []
    written.add(message(3))
    written.add(message(4))
    written.flush()  # appends: Python rewrites an mbox only after removals
    changes = box.changes("inbox", first.state)
    assert changes.reset is False
    assert [d for _, d in box.fetch(changes.refs)] == [in_mbox(3), in_mbox(4)]
    assert box.changes("inbox", changes.state).refs == []


def test_mbox_compaction_resets_and_lists_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "inbox.mbox"
    written = make_mbox(path, range(5))
    box = MboxMailbox(f"mbox:{path}")
    state = box.changes("inbox", None).state
    written.remove(next(iter(written.keys())))  # delete the first message, then compact
    written.add(message(5))
    written.add(message(6))
    written.flush()
    assert path.stat().st_size > 0
    changes = box.changes("inbox", state)
    assert changes.reset is True
    subjects = [email.message_from_bytes(d)["Message-ID"] for _, d in box.fetch(changes.refs)]
    assert subjects == [f"<m{n}@example.cn>" for n in (1, 2, 3, 4, 5, 6)]


def test_mbox_shrunk_or_replaced_resets(tmp_path: Path) -> None:
    path = tmp_path / "inbox.mbox"
    make_mbox(path, range(3))
    box = MboxMailbox(f"mbox:{path}")
    state = box.changes("inbox", None).state
    path.unlink()
    make_mbox(path, range(7, 9))
    changes = box.changes("inbox", state)
    assert (len(changes.refs), changes.reset) == (2, True)


def test_mbox_splits_only_at_real_from_lines_and_reads_crlf(tmp_path: Path) -> None:
    path = tmp_path / "crlf.mbox"
    one = b"Subject: one\r\n\r\nbody\r\nFrom me to you, no empty line before: not a start\r\n"
    two = b"Subject: two\r\n\r\nbody two\r\n"
    path.write_bytes(
        b"From - Thu Jan  1 00:00:00 2026\r\n" + one + b"\r\n"
        b"From - Fri Jan  2 00:00:00 2026\r\n" + two
    )
    box = MboxMailbox(f"mbox:{path}")
    changes = box.changes("crlf", None)
    assert [d for _, d in box.fetch(changes.refs)] == [one, two]


def test_mbox_leaves_a_message_still_being_written_for_the_next_run(tmp_path: Path) -> None:
    path = tmp_path / "spool"
    whole = b"From a@example.cn Thu Jan  1 00:00:00 2026\nSubject: 1\n\none\n"
    part = b"\nFrom b@example.cn Thu Jan  1 00:00:01 2026\nSubject: 2\n\ntw"
    path.write_bytes(whole + part)
    box = MboxMailbox(f"mbox:{path}")
    first = box.changes("spool", None)
    assert keys(first) == ["0"]
    with path.open("ab") as f:
        f.write(b"o\n")
    second = box.changes("spool", first.state)
    assert (keys(second), second.reset) == ([str(len(whole) + 1)], False)
    assert [d for _, d in box.fetch(second.refs)] == [b"Subject: 2\n\ntwo\n"]


def test_mbox_directory_thunderbird_and_apple_mail_layouts(tmp_path: Path) -> None:
    root = tmp_path / "Local Folders"
    make_mbox(root / "Inbox", range(2))
    (root / "Inbox.msf").write_text('// <!-- <mdb:mork:z v="1.4"/> -->')
    make_mbox(root / "Inbox.sbd" / "客户", [2])
    make_mbox(root / "Sent", [3])
    (root / "Trash").write_bytes(b"")  # an empty Thunderbird folder
    (root / "Trash.msf").write_text("")
    make_mbox(root / "Archive.mbox" / "mbox", [4])  # Apple Mail export
    (root / "Archive.mbox" / "table_of_contents").write_bytes(b"\x00\x01")
    (root / "notes.txt").write_text("not mail")
    box = open_mailbox(f"mbox:{root}")
    assert box.folders() == [
        Folder("Archive", "other"),
        Folder("Inbox", "inbox"),
        Folder("Inbox/客户", "other"),
        Folder("Sent", "sent"),
        Folder("Trash", "other"),
    ]
    assert [d for _, d in box.fetch(box.changes("Inbox/客户", None).refs)] == [in_mbox(2)]
    assert [d for _, d in box.fetch(box.changes("Archive", None).refs)] == [in_mbox(4)]
    assert box.changes("Trash", None).refs == []


def test_an_mbox_in_the_mail_spool_is_the_inbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/var/mail/alice is alice's INBOX; the same file name elsewhere is a folder of its name.
    The spool is a folder of this test's, so the machine's own /var/mail is never touched."""
    spool = tmp_path / "var" / "mail"
    spool.mkdir(parents=True)
    monkeypatch.setattr("sync.local.mbox._SPOOLS", (str(spool),))
    (spool / "alice").write_bytes(b"")
    (tmp_path / "alice").write_bytes(b"")
    assert open_mailbox(f"mbox:{spool / 'alice'}").folders() == [Folder("INBOX", "inbox")]
    assert open_mailbox(f"mbox:{tmp_path / 'alice'}").folders() == [Folder("alice", "other")]


# ---- folders of .eml and .msg --------------------------------------------------------------


def make_eml_tree(root: Path) -> None:
    (root / "Sent").mkdir(parents=True)
    (root / "客户" / "ACME").mkdir(parents=True)
    (root / ".cache").mkdir()
    (root / "a.eml").write_bytes(message(1))
    (root / "Sent" / "b.eml").write_bytes(message(2))
    (root / "客户" / "ACME" / "报价.EML").write_bytes(message(3))
    (root / ".hidden.eml").write_bytes(message(4))
    (root / ".cache" / "x.eml").write_bytes(message(5))
    (root / "notes.txt").write_text("not mail")


def test_eml_tree_folders_keys_and_bytes(tmp_path: Path) -> None:
    root = tmp_path / "Sent Items"  # the root's role comes from its own name
    make_eml_tree(root)
    box = open_mailbox(f"eml:{root}")
    assert isinstance(box, EmlMailbox)
    assert box.folders() == [
        Folder("(root)", "sent"),
        Folder("Sent", "sent"),
        Folder("客户", "other"),
        Folder("客户/ACME", "other"),
    ]
    assert keys(box.changes("(root)", None)) == ["a.eml"]
    acme = box.changes("客户/ACME", None)
    assert dict(box.fetch(acme.refs)) == {MessageRef("客户/ACME", "客户/ACME/报价.EML"): message(3)}
    assert box.changes("客户", None).refs == []


def test_eml_incremental_including_a_folder_copied_in_with_old_times(tmp_path: Path) -> None:
    root = tmp_path / "export"
    make_eml_tree(root)
    box = open_mailbox(f"eml:{root}")
    first = box.changes("Sent", None)
    assert box.changes("Sent", first.state).refs == []
    (root / "Sent" / "c.eml").write_bytes(message(6))
    copied = root / "Sent" / "2019" / "old.eml"  # Explorer keeps modification times
    copied.parent.mkdir()
    copied.write_bytes(message(7))
    (root / "Sent" / "old.eml").write_bytes(message(8))
    os.utime(root / "Sent" / "old.eml", ns=(OLD * 10**9, OLD * 10**9))
    changes = box.changes("Sent", first.state)
    assert (sorted(keys(changes)), changes.reset) == (["Sent/c.eml", "Sent/old.eml"], False)
    assert keys(box.changes("Sent/2019", None)) == ["Sent/2019/old.eml"]


@pytest.mark.usefixtures("extract_msg")
def test_outlook_msg_with_transport_headers_keeps_them(tmp_path: Path) -> None:
    root = tmp_path / "outlook"
    root.mkdir()
    shutil.copy(DATA / "received.msg", root / "received.msg")
    box = open_mailbox(f"eml:{root}")
    [(ref, raw)] = box.fetch(box.changes("(root)", None).refs)
    assert ref == MessageRef("(root)", "received.msg")
    assert raw.startswith(b"Received: from mx.example.cn (mx.example.cn [192.0.2.25])\r\n\tby ")
    assert b"----=_Part_0" not in raw  # the original MIME structure is not claimed
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["From"] == "张三 <zhang.san@example.cn>"
    assert msg["To"] == "Sales <sales@example.com>"
    assert msg["Subject"] == "报价单（2026年）"
    assert b"\r\nDate: Tue, 3 Mar 2026 09:15:00 +0800\r\n" in raw  # as it arrived
    assert msg["Message-ID"] == "<quote-2026@example.cn>"
    assert msg.get_body(("plain",)).get_content().splitlines() == ["您好，附件是报价单。", "张三"]
    assert "<b>报价单</b>" in msg.get_body(("html",)).get_content()
    [attachment, logo] = msg.iter_attachments()
    assert attachment.get_filename() == "quote.csv"
    assert attachment.get_content() == "SKU,数量\r\nA-1,10\r\n".encode()
    assert 'src="cid:logo@example.cn"' in msg.get_body(("html",)).get_content()
    assert (logo.get_content_type(), logo.get_content_disposition()) == ("image/png", "inline")
    assert (logo.get_filename(), logo["Content-ID"]) == ("logo.png", "<logo@example.cn>")
    assert logo.get_content().startswith(b"\x89PNG\r\n")
    assert not msg.defects


@pytest.mark.usefixtures("extract_msg")
def test_outlook_msg_without_transport_headers_gets_them_from_its_properties(
    tmp_path: Path,
) -> None:
    root = tmp_path / "outlook"
    (root / "草稿箱").mkdir(parents=True)
    shutil.copy(DATA / "draft.msg", root / "草稿箱" / "合同.MSG")
    box = open_mailbox(f"eml:{root}")
    assert Folder("草稿箱", "drafts") in box.folders()
    [(_, raw)] = box.fetch(box.changes("草稿箱", None).refs)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["From"] == "李四 <li.si@example.com>"
    assert msg["To"] == "王五 <wang.wu@example.cn>, buyer@example.org"
    assert msg["Cc"] == "Boss <boss@example.com>"
    assert msg["Subject"] == "合同草稿 / contract draft"
    assert msg["Date"] == "Wed, 04 Mar 2026 02:30:00 +0000"
    assert msg["Message-ID"] == "<draft-7@example.com>"
    assert msg["In-Reply-To"] == "<quote-2026@example.cn>"
    assert msg.get_body(("plain",)).get_content().strip() == "合同草稿见附件。"
    [attachment] = msg.iter_attachments()
    assert attachment.get_filename() == "合同草稿.txt"
    assert attachment.get_content() == "contract body\r\n"
    assert raw.partition(b"\r\n\r\n")[0].isascii()  # headers in RFC 2047 encoded words
    assert not msg.defects


@pytest.mark.usefixtures("extract_msg")
def test_a_broken_msg_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "broken.msg").write_bytes(b"this is no compound file")
    (tmp_path / "fine.eml").write_bytes(message(1))
    box = open_mailbox(f"eml:{tmp_path}")
    with caplog.at_level(logging.WARNING, logger="sync.local"):
        fetched = list(box.fetch(box.changes("(root)", None).refs))
    assert fetched == [(MessageRef("(root)", "fine.eml"), message(1))]
    assert "broken.msg: not an Outlook message extract-msg can read" in caplog.text


def test_msg_files_without_extract_msg_say_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hides the installed extract-msg (``sys.modules[...] = None``) to act as if it were not."""
    monkeypatch.setitem(sys.modules, "extract_msg", None)
    shutil.copy(DATA / "draft.msg", tmp_path / "draft.msg")
    box = open_mailbox(f"eml:{tmp_path}")
    with pytest.raises(MailboxError) as caught:
        box.changes("(root)", None)
    assert str(caught.value) == (
        f"eml:{tmp_path}: (root): reading Outlook .msg files needs the extract-msg package\n"
        "  hint: install it (pip install extract-msg), or save the messages as .eml"
    )


# ---- opening, and the errors people see ----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "text"),
    [
        (
            "maildir:{tmp}/nowhere",
            "maildir:{tmp}/nowhere: there is no folder {tmp}/nowhere\n"
            "  hint: give the folder that holds cur/, new/ and tmp/, for example maildir:~/Maildir",
        ),
        (
            "maildir:{tmp}/file.mbox",
            "maildir:{tmp}/file.mbox: {tmp}/file.mbox is a file, not a Maildir folder\n"
            "  hint: a file of messages is an mbox: use mbox:{tmp}/file.mbox",
        ),
        (
            "maildir:{tmp}/plain",
            "maildir:{tmp}/plain: {tmp}/plain is not a Maildir: it has no cur/ and new/ folders\n"
            "  hint: give the folder that holds cur/, new/ and tmp/, for example"
            " maildir:~/Maildir; for a folder of .eml or .msg files use eml:{tmp}/plain",
        ),
        (
            "mbox:{tmp}/nowhere",
            "mbox:{tmp}/nowhere: there is no file or folder {tmp}/nowhere\n"
            "  hint: give an mbox file (mbox:~/export/Inbox.mbox) or a folder of them"
            " (Thunderbird's Local Folders, an Apple Mail export)",
        ),
        (
            "mbox:{tmp}/plain/a.eml",
            "mbox:{tmp}/plain/a.eml: {tmp}/plain/a.eml is not an mbox file: it does not start"
            " with a 'From ' line\n"
            "  hint: for a folder of .eml or .msg files use eml:{tmp}/plain",
        ),
        (
            "mbox:{tmp}/plain",
            "mbox:{tmp}/plain: {tmp}/plain holds no mbox files\n"
            "  hint: give an mbox file or a folder of them; for .eml or .msg files use"
            " eml:{tmp}/plain",
        ),
        (
            "eml:{tmp}/nowhere",
            "eml:{tmp}/nowhere: there is no folder {tmp}/nowhere\n"
            "  hint: give the folder that holds the .eml or .msg files, for example"
            " eml:~/mail-export",
        ),
        (
            "eml:{tmp}/plain/a.eml",
            "eml:{tmp}/plain/a.eml: {tmp}/plain/a.eml is a file, not a folder of .eml or .msg"
            " files\n"
            "  hint: give the folder that holds it: eml:{tmp}/plain",
        ),
    ],
)
def test_paths_that_are_not_mailboxes_say_what_to_do(tmp_path: Path, url: str, text: str) -> None:
    make_mbox(tmp_path / "file.mbox", [1])
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "a.eml").write_bytes(message(1))
    with pytest.raises(MailboxError) as caught:
        open_mailbox(url.format(tmp=tmp_path))
    assert str(caught.value) == text.format(tmp=tmp_path)


def test_an_unknown_folder_names_the_ones_there_are(tmp_path: Path) -> None:
    make_maildir(tmp_path / "md")
    box = open_mailbox(f"maildir:{tmp_path / 'md'}")
    with pytest.raises(MailboxError) as caught:
        box.changes("Sent Items", None)
    assert str(caught.value) == (
        f"maildir:{tmp_path / 'md'}: there is no folder 'Sent Items'\n"
        "  hint: the folders are: INBOX, 草稿箱, Customers/ACME, Drafts, Sent, 已发送"
    )


def test_local_mailboxes_cannot_send_and_say_what_can(tmp_path: Path) -> None:
    make_eml_tree(tmp_path / "x")
    with pytest.raises(MailboxError) as caught:
        open_mailbox(f"eml:{tmp_path / 'x'}").send(message(1))
    assert "a local mailbox cannot send mail" in str(caught.value)
    assert "smtp://user@host" in str(caught.value)


def test_a_draft_saved_to_a_maildir_is_a_new_message_in_drafts_flagged_draft(
    tmp_path: Path,
) -> None:
    root = tmp_path / "Maildir"
    mailbox.Maildir(root, create=True).add(message(1))  # an INBOX without a Drafts folder
    box = MaildirMailbox(f"maildir:{root}")
    box.save_draft(message(2))
    assert {f.name: f.role for f in box.folders()}["Drafts"] == "drafts"
    (saved,) = (root / ".Drafts" / "cur").iterdir()
    assert saved.name.endswith(":2,D")  # the Draft flag, so mail clients open it as one
    assert saved.read_bytes() == message(2)
    assert list((root / ".Drafts" / "tmp").iterdir()) == []  # renamed from tmp/, not copied
    assert [data for _, data in box.fetch(box.changes("Drafts", None).refs)] == [message(2)]


def test_a_draft_saved_to_an_eml_folder_goes_into_its_existing_drafts_folder(
    tmp_path: Path,
) -> None:
    root = tmp_path / "export"
    (root / "草稿箱").mkdir(parents=True)
    box = EmlMailbox(f"eml:{root}")
    box.save_draft(message(3))
    (saved,) = (root / "草稿箱").iterdir()
    assert saved.suffix == ".eml"
    assert saved.read_bytes() == message(3)


def test_mbox_files_are_never_written(tmp_path: Path) -> None:
    path = tmp_path / "Inbox.mbox"
    path.write_bytes(b"From a@b Thu Jan  1 00:00:00 2026\n" + message(1))
    before = path.read_bytes()
    with pytest.raises(MailboxError, match="does not write into mbox files"):
        open_mailbox(f"mbox:{path}").save_draft(message(2))
    assert path.read_bytes() == before


def test_open_mailbox_keeps_the_address_and_the_url_as_written(tmp_path: Path) -> None:
    make_eml_tree(tmp_path / "x")
    box = open_mailbox(f"eml://{tmp_path / 'x'}", address="sales@example.com")
    assert (box.url, box.address) == (f"eml:{tmp_path / 'x'}", "sales@example.com")


# ---- folder names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("已发送", "&XfJT0ZAB-"),
        ("草稿箱", "&g0l6P3ux-"),
        ("INBOX", "INBOX"),
        ("R&D", "R&-D"),
        ("Entwürfe", "Entw&APw-rfe"),
        ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),  # RFC 3501 §5.1.3
        ("客户 ACME 📁", "&W6JiNw- ACME &2D3cwQ-"),
    ],
)
def test_modified_utf7_round_trip(text: str, encoded: str) -> None:
    assert encode_utf7(text) == encoded
    assert decode_utf7(encoded) == text
    assert decode_folder_name(encoded) == text


@pytest.mark.parametrize("name", ["已发送", "R&D", "R&D-Team", "a&Zg", "&AGE-x&", "&XfJT0ZAB"])
def test_names_that_are_not_modified_utf7_stay_as_they_are(name: str) -> None:
    with pytest.raises(ValueError, match="not modified UTF-7"):
        decode_utf7(name)
    assert decode_folder_name(name) == name


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("INBOX", "inbox"),
        ("Sent", "sent"),
        ("Sent Items", "sent"),
        ("sent messages", "sent"),
        ("已发送", "sent"),
        ("已发送邮件", "sent"),
        ("Drafts", "drafts"),
        ("草稿箱", "drafts"),
        ("Customers/ACME", "other"),
    ],
)
def test_roles_from_folder_names(name: str, role: str) -> None:
    assert role_from_name(name) == role
