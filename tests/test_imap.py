"""The IMAP backend against two real, independent IMAP servers on loopback.

Dovecot (Debian's dovecot-imapd, the server much of the world runs: IMAPS and STARTTLS,
CONDSTORE, special-use folders) and pymap (pure Python: STARTTLS only, no CONDSTORE, no
special-use) each run with their own configuration and a test CA's certificate; see
``servers/dovecot.py`` and ``servers/pymap_server.py``. Every test gets a fresh account, filled
through IMAP APPEND by a plain imapclient connection on the test's side. The only thing
simulated is a network failure, by a real TCP proxy that cuts the connection
(``servers/tcp_cut.py``). Nothing is mocked.

Certificates are verified in these tests (``SSL_CERT_FILE`` names the test CA, as a company CA
would be named), except where a test shows what happens without that.
"""

from __future__ import annotations

import email
import itertools
import json
import logging
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from imapclient import IMAPClient
from servers.dovecot import Dovecot
from servers.pymap_server import Pymap
from servers.tcp_cut import HOST, Certificate, TcpCut, free_port

from sync.imap import ImapMailbox
from sync.imap.connection import _secure
from sync.mailbox import Folder, Mailbox, MailboxError, MessageRef, parse_url
from sync.open import open_mailbox

_users = itertools.count(1)


def message(n: int, body: str = "", *, charset: str = "utf-8", size: int = 0) -> bytes:
    """A real message, unique by ``n``, CRLF line ends as IMAP stores them; 8-bit body."""
    text = body or f"第 {n} 封邮件：报价单已附上。\r\n"
    payload = text.encode(charset) + b"x" * size
    return (
        f"From: =?utf-8?b?5byg5LiJ?= <zhang.san@example.cn>\r\n"
        f"To: sales@example.com\r\n"
        f"Subject: quote {n}\r\n"
        f"Message-ID: <m{n}@example.cn>\r\n"
        f"Date: Mon, 6 Jan 2025 10:00:00 +0800\r\n"
        f"MIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset={charset}\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode("ascii") + payload


GBK = message(
    90, "您好，这是用 GBK 编码的正文：合同第三条。\r\n报价：￥12,800 元\r\n", charset="gbk"
)


# ---- servers and accounts ------------------------------------------------------------------


@pytest.fixture(scope="session")
def pymap(certificate: Certificate) -> Iterator[Pymap]:
    server = Pymap(certificate)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pymap_cleartext(certificate: Certificate) -> Iterator[Pymap]:
    """pymap without STARTTLS: a server that lets a password through in clear."""
    server = Pymap(certificate, tls=False)
    server.start()
    yield server
    server.stop()


@dataclass
class Account:
    """A fresh mailbox on one server, and a test-side client to fill and inspect it."""

    server: str
    user: str
    password: str
    scheme: str
    port: int
    ca: Path

    @property
    def url(self) -> str:
        return self.url_at(self.port)

    def url_at(self, port: int) -> str:
        return f"{self.scheme}://{quote(self.user, safe='')}@{HOST}:{port}"

    def client(self) -> IMAPClient:
        context = ssl.create_default_context(cafile=str(self.ca))
        client = IMAPClient(HOST, self.port, ssl=self.scheme == "imaps", ssl_context=context)
        if self.scheme == "imap":
            client.starttls(context)
        client.login(self.user, self.password)
        return client

    def append(self, folder: str, *messages: bytes, flags: tuple[bytes, ...] = ()) -> None:
        with self.client() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for data in messages:
                client.append(folder, data, flags=flags)

    def flags(self, folder: str) -> dict[int, set[bytes]]:
        """The stored flags of each message (``\\Recent`` is per session: left out)."""
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            found = client.get_flags(client.search("ALL"))
        return {uid: set(f) - {b"\\Recent"} for uid, f in found.items()}


def new_account(server: str, dovecot_or_pymap: Dovecot | Pymap, ca: Path, **kw: str) -> Account:
    user = kw.get("user") or f"u{next(_users)}@example.cn"
    password = f"pw-{user.partition('@')[0]}-Zq8"
    dovecot_or_pymap.add_user(user, password)
    if isinstance(dovecot_or_pymap, Dovecot):
        return Account(server, user, password, "imaps", dovecot_or_pymap.imaps_port, ca)
    return Account(server, user, password, "imap", dovecot_or_pymap.port, ca)


@pytest.fixture(params=["dovecot", "pymap"])
def account(
    request: pytest.FixtureRequest, certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> Account:
    """A fresh account on each server; the password in XLCRM_PASSWORD, the CA trusted."""
    found = new_account(request.param, request.getfixturevalue(request.param), certificate.ca)
    monkeypatch.setenv("XLCRM_PASSWORD", found.password)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.ca))
    return found


def keys(refs: list[MessageRef]) -> list[int]:
    return [int(ref.key) for ref in refs]


# ---- folders -------------------------------------------------------------------------------


def test_folders_have_roles_from_special_use_and_names(account: Account) -> None:
    if account.server == "pymap":  # Dovecot creates these itself, marked \Sent and \Drafts
        account.append("已发送", message(1))
    for name in ("Sent Items", "Customers/ACME", "R&D", "草稿箱"):
        account.append(name, message(2))

    box = open_mailbox(account.url)
    assert isinstance(box, ImapMailbox) and isinstance(box, Mailbox)
    assert box.url == account.url
    assert box.address == account.user
    folders = box.folders()
    box.close()

    assert folders[0] == Folder("INBOX", "inbox")
    expected = {
        Folder("已发送", "sent"),  # sent as &XfJT0ZAB- on the wire
        Folder("Sent Items", "sent"),
        Folder("草稿箱", "drafts"),
        Folder("R&D", "other"),  # R&- on the wire
        Folder("Customers/ACME", "other"),
    }
    assert expected <= set(folders)
    if account.server == "dovecot":
        # Roles from RFC 6154 special-use flags: no name-based guess knows "Brouillons".
        assert Folder("Brouillons", "drafts") in folders
        # "Customers" is only a hierarchy level (\Noselect): not a folder to read.
        assert "Customers" not in {f.name for f in folders}
    with account.client() as client:
        client.folder_encode = False
        on_the_wire = {name for _, _, name in client.list_folders()}
    assert {b"&XfJT0ZAB-", b"R&-D", b"&g0l6P3ux-"} <= on_the_wire


def test_a_folder_that_does_not_exist_names_the_ones_that_do(account: Account) -> None:
    with ImapMailbox(account.url) as box, pytest.raises(MailboxError) as caught:
        box.changes("Nonexistent", None)
    assert str(caught.value).startswith(f"{account.url}: folder 'Nonexistent' could not be opened")
    assert caught.value.hint and "INBOX" in caught.value.hint


# ---- listing changes -----------------------------------------------------------------------


def test_first_listing_then_only_new_messages(account: Account) -> None:
    account.append("INBOX", message(1), message(2), message(3))
    with ImapMailbox(account.url) as box:
        first = box.changes("INBOX", None)
        assert first.reset is False
        assert len(first.refs) == 3 and keys(first.refs) == sorted(keys(first.refs))
        assert {ref.folder for ref in first.refs} == {"INBOX"}
        assert [data for _, data in box.fetch(first.refs)] == [message(1), message(2), message(3)]

        same = box.changes("INBOX", first.state)
        assert same.refs == [] and same.reset is False
        # Dovecot has CONDSTORE: its HIGHESTMODSEQ is kept to answer "unchanged" at once.
        assert ("ms" in json.loads(first.state)) is (account.server == "dovecot")

    account.append("INBOX", message(4))
    with ImapMailbox(account.url) as box:  # a later run: a new connection, the saved state
        later = box.changes("INBOX", same.state)
        assert later.reset is False
        assert [data for _, data in box.fetch(later.refs)] == [message(4)]
        assert box.changes("INBOX", later.state).refs == []


def test_a_new_message_deleted_before_the_next_run_lists_nothing(account: Account) -> None:
    """``UID SEARCH UID n:*`` answers with the highest UID even when it is below n: the
    folder's UIDNEXT (and HIGHESTMODSEQ) moved on, but there is nothing new to list."""
    account.append("INBOX", message(1), message(2))
    with ImapMailbox(account.url) as box:
        state = box.changes("INBOX", None).state
    account.append("INBOX", message(3))
    with account.client() as client:
        client.select_folder("INBOX")
        newest = max(client.search("ALL"))
        client.delete_messages([newest])
        client.expunge()
        assert max(client.search(f"UID {newest}:*")) < newest  # the server quirk itself
    with ImapMailbox(account.url) as box:
        changes = box.changes("INBOX", state)
    assert changes.refs == [] and changes.reset is False


def test_a_renumbered_folder_is_listed_again_with_reset(account: Account) -> None:
    account.append("Kunden", message(1), message(2))
    with ImapMailbox(account.url) as box:
        old = box.changes("Kunden", None)
    assert len(old.refs) == 2

    with account.client() as client:
        before = client.folder_status("Kunden", ["UIDVALIDITY"])[b"UIDVALIDITY"]
        for _ in range(3):  # pymap's UIDVALIDITY has 16 random bits: retry a collision
            client.delete_folder("Kunden")
            client.create_folder("Kunden")
            after = client.folder_status("Kunden", ["UIDVALIDITY"])[b"UIDVALIDITY"]
            if after != before:
                break
        assert after != before
    account.append("Kunden", message(1), message(2), message(3))

    with ImapMailbox(account.url) as box:
        changes = box.changes("Kunden", old.state)
        assert changes.reset is True
        assert [data for _, data in box.fetch(changes.refs)] == [message(n) for n in (1, 2, 3)]
        assert box.changes("Kunden", changes.state).refs == []


@pytest.mark.parametrize("state", ["not json", '{"v":1,"wm":1767225600,"n":3,"s":"AAAA"}', "{}"])
def test_an_unreadable_state_lists_everything_with_a_warning(
    account: Account, state: str, caplog: pytest.LogCaptureFixture
) -> None:
    account.append("INBOX", message(1), message(2))
    with ImapMailbox(account.url) as box:
        changes = box.changes("INBOX", state)
    assert changes.reset is True and len(changes.refs) == 2
    assert "the saved sync state is not one this backend wrote" in caplog.text


# ---- fetching ------------------------------------------------------------------------------


def test_fetch_gives_the_bytes_as_stored_and_marks_nothing_read(
    account: Account, caplog: pytest.LogCaptureFixture
) -> None:
    account.append("INBOX", message(1), GBK)
    account.append("INBOX", message(2), flags=(b"\\Seen",))
    account.append("INBOX", message(3), flags=(b"\\Flagged",))
    flags_before = account.flags("INBOX")

    with ImapMailbox(account.url) as box:
        refs = box.changes("INBOX", None).refs
        assert len(refs) == 4
        backwards = list(box.fetch(refs[::-1]))  # yielded in the order asked
        assert [ref for ref, _ in backwards] == refs[::-1]
        assert [data for _, data in backwards] == [message(3), message(2), GBK, message(1)]
        body = email.message_from_bytes(backwards[2][1]).get_payload(decode=True)
        assert body.decode("gbk").startswith("您好，这是用 GBK 编码的正文")

    # A message deleted by another client after the listing is skipped, with a log line.
    # (A session that had the folder open when it happened may still be given the message:
    # RFC 3501 §7.4.1 lets a server hold back the expunge until the next command.)
    with account.client() as client:
        client.select_folder("INBOX")
        client.delete_messages([int(refs[0].key)])
        client.expunge()
    with ImapMailbox(account.url) as box, caplog.at_level(logging.WARNING, logger="sync.imap"):
        left = list(box.fetch(refs))
    assert [data for _, data in left] == [GBK, message(2), message(3)]
    assert f"message UID {refs[0].key} is gone since it was listed" in caplog.text

    after = account.flags("INBOX")
    assert after == {uid: f for uid, f in flags_before.items() if uid != int(refs[0].key)}
    assert all(b"\\Seen" not in f for uid, f in after.items() if uid != int(refs[2].key))


def test_a_connection_dropped_mid_fetch_is_an_error_and_the_next_run_starts_over(
    account: Account,
) -> None:
    big = [message(n, size=40_000) for n in range(1, 6)]
    account.append("INBOX", *big)
    with TcpCut(HOST, account.port) as proxy:
        box = ImapMailbox(account.url_at(proxy.port))
        changes = box.changes("INBOX", None)
        proxy.cut(after=60_000)  # the server's next 60 kB get through, then the line drops
        got = []
        with pytest.raises(MailboxError) as caught:
            got.extend(box.fetch(changes.refs))
        assert proxy.cuts == 1
        assert got == []  # the batch never completed: nothing to write
        text = str(caught.value)
        assert text.startswith(f"{account.url_at(proxy.port)}: the connection to the server was")
        assert "lost while fetching messages from 'INBOX'" in text
        assert "run again" in text
        with pytest.raises(MailboxError, match="connection to the server was lost"):
            box.changes("INBOX", None)  # the connection stays dead, it does not half-work
        box.close()  # closing a dead connection is not an error

    with ImapMailbox(account.url) as box:  # the next run, from the saved state (none yet)
        again = box.changes("INBOX", None)
        assert [data for _, data in box.fetch(again.refs)] == big


# ---- connecting ----------------------------------------------------------------------------


@pytest.mark.parametrize("wrong", ["Wr0ng-Geheim-密码", "Wr0ng-Geheim"], ids=["plain", "login"])
def test_a_wrong_password_says_so_without_showing_it(
    account: Account,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    wrong: str,
) -> None:
    """A non-ASCII password goes by AUTHENTICATE PLAIN, an ASCII one by LOGIN, whose failure
    imapclient reports as the reply's bytes. (The pymap test server logs what it receives,
    password included: only the client side's log lines are ours to keep clean.)"""
    monkeypatch.setenv("XLCRM_PASSWORD", wrong)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(MailboxError) as caught:
        ImapMailbox(account.url)
    text = str(caught.value)
    assert text.startswith(f"{account.url}: login failed for {account.user}")
    assert "XLCRM_PASSWORD" in text and "xlcrm secret set" in text
    client_log = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("pymap")
    )
    assert wrong not in text and wrong not in client_log
    said = text.split("(the server said: ", 1)[1]
    assert not said.startswith(("b'", 'b"'))  # the server's words, not a Python bytes value
    assert "AUTHENTICATIONFAILED" in said or "uthentication failed" in said


def test_an_untrusted_certificate_is_refused_unless_insecure(
    account: Account, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")  # back to the system's authorities only
    with pytest.raises(MailboxError) as caught:
        ImapMailbox(account.url)
    text = str(caught.value)
    assert text.startswith(f"{account.url}: the certificate of {HOST} was not accepted")
    assert "nothing was sent to it" in text
    assert caught.value.hint and "--insecure" in caught.value.hint
    assert "test server" in caught.value.hint

    with caplog.at_level(logging.WARNING), ImapMailbox(account.url, insecure=True) as box:
        assert box.folders()[0] == Folder("INBOX", "inbox")
    assert "certificate checks are OFF (--insecure)" in caplog.text


def test_the_login_sends_the_id_command(
    dovecot: Dovecot, certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NetEase refuses EXAMINE until a client sent ID; Dovecot logs the ID it received."""
    account = new_account("dovecot", dovecot, certificate.ca)
    monkeypatch.setenv("XLCRM_PASSWORD", account.password)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.ca))
    with ImapMailbox(account.url):
        pass
    sent = [line for line in dovecot.log().splitlines() if f"imap({account.user})" in line]
    assert any("ID sent: name=xlcrm, version=" in line for line in sent), sent


def test_plain_imap_logs_in_on_this_machine_and_refuses_anywhere_else(
    pymap_cleartext: Pymap, certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = new_account("pymap", pymap_cleartext, certificate.ca)
    monkeypatch.setenv("XLCRM_PASSWORD", account.password)
    with ImapMailbox(account.url) as box:  # no STARTTLS offered, but the server is loopback
        assert box.folders()[0] == Folder("INBOX", "inbox")

    # The same server under a name that is not this machine: the password must not go out.
    # (Only the name differs; the decision is made from it, before LOGIN.)
    client = IMAPClient(HOST, pymap_cleartext.port, ssl=False)
    elsewhere = parse_url("imap://li@mail.example.cn")
    with pytest.raises(MailboxError) as caught:
        _secure(client, elsewhere, ssl.create_default_context())
    client.shutdown()
    assert str(caught.value).startswith("imap://li@mail.example.cn: the server does not offer")
    assert "STARTTLS" in str(caught.value) and "nothing was sent" in str(caught.value)
    assert caught.value.hint == "use imaps://li@mail.example.cn (TLS, port 993) instead"


def test_the_address_is_the_user_or_the_one_given(
    dovecot: Dovecot, certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = new_account("dovecot", dovecot, certificate.ca, user=f"wang{next(_users)}")
    monkeypatch.setenv("XLCRM_PASSWORD", account.password)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.ca))
    with ImapMailbox(account.url, address="wang@example.cn") as box:
        assert box.address == "wang@example.cn"
    with ImapMailbox(account.url) as box:
        assert box.address is None


def test_an_unreachable_server_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLCRM_PASSWORD", "unused")
    port = free_port()
    with pytest.raises(MailboxError) as caught:
        ImapMailbox(f"imaps://li@{HOST}:{port}")
    assert str(caught.value).startswith(
        f"imaps://li@{HOST}:{port}: nothing answers at {HOST} port {port} (connection refused)"
    )


# ---- writing: drafts, and no sending -------------------------------------------------------


def test_save_draft_lands_in_the_drafts_folder_flagged_as_a_draft(account: Account) -> None:
    draft = message(7).replace(b"\r\n", b"\n")  # as a template engine writes it
    with ImapMailbox(account.url) as box:
        box.save_draft(draft)
        folders = box.folders()
    drafts = "Brouillons" if account.server == "dovecot" else "Drafts"  # created when none
    assert Folder(drafts, "drafts") in folders
    with account.client() as client:
        client.select_folder(drafts, readonly=True)
        [(_, item)] = client.fetch(client.search("ALL"), ["BODY.PEEK[]", "FLAGS"]).items()
        if account.server == "pymap":
            assert drafts in [name for _, _, name in client.list_sub_folders()]
    assert set(item[b"FLAGS"]) - {b"\\Recent"} == {b"\\Draft", b"\\Seen"}
    assert item[b"BODY[]"] == message(7)  # line ends made CRLF, nothing else changed


def test_was_drafted_finds_a_saved_draft_and_only_there(account: Account) -> None:
    """What a run saving drafts asks after a kill, so that each draft is saved once."""
    with ImapMailbox(account.url) as box:
        # Not there yet: False where a drafts folder exists (Dovecot's Brouillons), None where
        # there is none to look in (pymap, until the first draft makes one).
        assert box.was_drafted("<m7@example.cn>") is (
            False if account.server == "dovecot" else None
        )
        box.save_draft(message(7))
        account.append("INBOX", message(3))
        assert box.was_drafted("<M7@example.CN>") is True  # brackets and case aside
        assert box.was_drafted("<m3@example.cn>") is False  # received, not a draft
        assert box.was_sent("<m7@example.cn>") is not True  # a draft did not go


def test_send_says_to_use_an_smtp_transport(account: Account) -> None:
    with ImapMailbox(account.url) as box, pytest.raises(MailboxError) as caught:
        box.send(message(1))
    assert str(caught.value).startswith(f"{account.url}: an IMAP mailbox cannot send mail")
    assert caught.value.hint and "smtps://" in caught.value.hint


# ---- was it sent? (a campaign resumed after a crash asks) -----------------------------------


def test_was_sent_finds_the_message_id_in_the_sent_folder_without_changing_it(
    account: Account,
) -> None:
    """Dovecot marks ``已发送`` ``\\Sent`` (special-use); pymap marks nothing, and the folder is
    known by its name. A reply that only refers to an id (References) does not count."""
    reply = message(4).replace(b"Subject:", b"References: <m9@example.cn>\r\nSubject:")
    account.append("已发送", message(1), message(2), reply)
    account.append("INBOX", message(3))
    before = account.flags("已发送")
    with ImapMailbox(account.url) as box:
        assert box.was_sent("<m2@example.cn>") is True
        assert box.was_sent("M1@Example.CN") is True  # brackets and case aside
        assert box.was_sent("<m3@example.cn>") is False  # received, not sent
        assert box.was_sent("<m9@example.cn>") is False  # only referred to
        assert box.was_sent("<never@example.cn>") is False
        assert [data for _, data in box.fetch(box.changes("INBOX", None).refs)] == [message(3)]
    assert account.flags("已发送") == before  # EXAMINE and BODY.PEEK: nothing marked read


def test_was_sent_cannot_tell_without_a_sent_folder(
    pymap: Pymap, certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = new_account("pymap", pymap, certificate.ca)
    monkeypatch.setenv("XLCRM_PASSWORD", account.password)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.ca))
    account.append("INBOX", message(1))
    with ImapMailbox(account.url) as box:
        assert "sent" not in {folder.role for folder in box.folders()}
        assert box.was_sent("<m1@example.cn>") is None
