"""What the campaign sender relies on from ``sync``, across backends: ``was_sent`` in local
mail, the protocols every mailbox and transport implements, and Message-IDs compared the same
way everywhere. (The servers' sides are in test_smtp.py, test_ews.py, test_graph.py and
test_imap.py, against the real loopback servers.)

Local mailboxes are written in ``tmp_path`` the way mail software writes them: Maildir++ files
by hand, mbox files by Python's :mod:`mailbox`, an Outlook ``.msg`` from ``tests/data``.
Nothing is mocked.
"""

from __future__ import annotations

import hashlib
import mailbox
import shutil
from email.message import EmailMessage
from pathlib import Path

import pytest

from sync.local import EmlMailbox, MaildirMailbox, MboxMailbox
from sync.mailbox import (
    Mailbox,
    MailboxError,
    bracketed_message_id,
    header_message_id,
    same_message_id,
)
from sync.open import open_mailbox

DATA = Path(__file__).parent / "data" / "localmail"


def message(n: int, *, references: str = "") -> bytes:
    msg = EmailMessage()
    msg["From"] = "sales@corp.example"
    msg["To"] = f"c{n}@customer.example"
    msg["Subject"] = f"春季报价 {n}"
    msg["Message-ID"] = f"<spring.C{n:04d}@corp.example>"
    if references:
        msg["References"] = references
    msg.set_content(f"第 {n} 封。\nMessage-ID: <in.the.body@corp.example>\n")
    return msg.as_bytes()


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Every file below ``root``: modification time and a hash, to show nothing changed."""
    return {
        path.relative_to(root).as_posix(): (
            path.stat().st_mtime_ns,
            "" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in sorted([root, *root.rglob("*")])
    }


def maildir(root: Path, folders: dict[str, list[bytes]]) -> Path:
    """A Maildir++ tree: ``INBOX`` is the root, other folders are ``.Name`` beside ``cur/``."""
    for name, messages in folders.items():
        directory = root if name == "INBOX" else root / f".{name}"
        for sub in ("cur", "new", "tmp"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        for n, data in enumerate(messages):
            (directory / "cur" / f"17000000{n:02d}.M{n}P1.host:2,S").write_bytes(data)
    return root


def assert_was_sent(box: Mailbox) -> None:
    assert box.was_sent("<spring.C0001@corp.example>") is True
    assert box.was_sent("SPRING.c0002@corp.example") is True  # brackets and case aside
    assert box.was_sent("<spring.C0003@corp.example>") is False  # received, not sent
    assert box.was_sent("<spring.C0009@corp.example>") is False  # only referred to
    assert box.was_sent("<in.the.body@corp.example>") is False  # only in a body


# ---- local mail ----------------------------------------------------------------------------


def test_maildir_was_sent_reads_the_sent_folder_and_changes_nothing(tmp_path: Path) -> None:
    root = maildir(
        tmp_path / "Maildir",
        {
            "INBOX": [message(3)],
            "Sent": [message(1), message(2, references="<spring.C0009@corp.example>")],
        },
    )
    before = snapshot(root)
    box = open_mailbox(f"maildir:{root}")
    assert isinstance(box, MaildirMailbox) and isinstance(box, Mailbox)
    assert_was_sent(box)
    assert snapshot(root) == before


def test_a_folder_of_eml_and_msg_files_was_sent(tmp_path: Path, extract_msg: None) -> None:
    root = tmp_path / "export"
    (root / "已发送").mkdir(parents=True)
    (root / "收件箱").mkdir()
    (root / "已发送" / "1.eml").write_bytes(message(1).replace(b"\n", b"\r\n"))
    (root / "已发送" / "2.eml").write_bytes(message(2, references="<spring.C0009@corp.example>"))
    shutil.copy(DATA / "received.msg", root / "已发送" / "3.msg")  # Message-ID <quote-2026@…>
    (root / "收件箱" / "3.eml").write_bytes(message(3))
    before = snapshot(root)
    box = EmlMailbox(f"eml:{root}")
    assert_was_sent(box)
    assert box.was_sent("<quote-2026@example.cn>") is True  # read through extract-msg
    assert snapshot(root) == before


def test_a_maildir_draft_is_found_in_the_drafts(tmp_path: Path) -> None:
    """What a run saving drafts asks after a kill, so that each draft is saved once."""
    root = maildir(tmp_path / "Maildir", {"INBOX": [message(3)], "Sent": [message(1)]})
    box = open_mailbox(f"maildir:{root}")
    assert box.was_drafted("<spring.C0002@corp.example>") is None  # no Drafts folder yet
    box.save_draft(message(2))
    assert box.was_drafted("<SPRING.c0002@corp.example>") is True
    assert box.was_drafted("<spring.C0001@corp.example>") is False  # sent, not a draft
    assert box.was_sent("<spring.C0002@corp.example>") is False  # a draft did not go


def test_an_mbox_was_sent(tmp_path: Path) -> None:
    root = tmp_path / "Local Folders"
    root.mkdir()
    for name, messages in {
        "Inbox": [message(3)],
        "Sent": [message(1), message(2, references="<spring.C0009@corp.example>")],
    }.items():
        box = mailbox.mbox(root / name)
        for data in messages:
            box.add(data)
        box.close()
    before = snapshot(root)
    assert_was_sent(MboxMailbox(f"mbox:{root}"))
    assert snapshot(root) == before


def test_without_a_sent_folder_a_local_mailbox_cannot_tell(tmp_path: Path) -> None:
    root = maildir(tmp_path / "Maildir", {"INBOX": [message(1)], "Customers": [message(2)]})
    assert MaildirMailbox(f"maildir:{root}").was_sent("<spring.C0001@corp.example>") is None
    (tmp_path / "eml" / "Inbox").mkdir(parents=True)
    assert EmlMailbox(f"eml:{tmp_path / 'eml'}").was_sent("<x@corp.example>") is None
    inbox = mailbox.mbox(tmp_path / "inbox.mbox")
    inbox.add(message(1))
    inbox.close()
    assert MboxMailbox(f"mbox:{tmp_path / 'inbox.mbox'}").was_sent("<x@corp.example>") is None


# ---- the shared pieces ---------------------------------------------------------------------


def test_mailbox_errors_say_whether_to_try_again() -> None:
    old_style = MailboxError("smtp://mail.corp.example", "refused", "check the address")
    assert (old_style.temporary, old_style.retry_after) == (False, None)
    assert str(old_style) == "smtp://mail.corp.example: refused\n  hint: check the address"
    busy = MailboxError("graph://li@contoso.cn", "throttled", temporary=True, retry_after=30.0)
    assert (busy.temporary, busy.retry_after, busy.hint) == (True, 30.0, None)
    with pytest.raises(TypeError):
        MailboxError("x", "y", None, True)  # type: ignore[misc]  # keyword-only


def test_message_ids_are_compared_without_brackets_space_or_case() -> None:
    assert bracketed_message_id("spring.C0001@corp.example") == "<spring.C0001@corp.example>"
    assert bracketed_message_id(" <spring.C0001@corp.example>\r\n") == (
        "<spring.C0001@corp.example>"
    )
    for bad in ("", "<>", "C0001", "@corp.example", "<a@b> <c@d>"):
        with pytest.raises(ValueError, match="not a Message-ID"):
            bracketed_message_id(bad)
    assert same_message_id("<A@corp.example>", "a@CORP.example")
    assert not same_message_id("<a@corp.example>", "<ab@corp.example>")
    assert not same_message_id(None, "<a@corp.example>")

    folded = b"From: a@corp.example\r\nMessage-ID:\r\n <long.id@corp.example> (x)\r\n\r\nbody\r\n"
    assert header_message_id(folded) == "<long.id@corp.example>"
    assert header_message_id(b"From: a@corp.example\n\nMessage-ID: <b@corp.example>\n") is None
    assert header_message_id(b"Resent-Message-ID: <r@corp.example>\n\n") is None
