"""The Exchange (EWS) backend: the real exchangelib client against our EWS server on loopback.

``servers.ews`` is a real HTTP server speaking EWS SOAP (NTLM, Basic or bearer-token sign-in,
plain http or TLS with a self-signed certificate) over an in-memory mailbox; it records every
request and operation it receives. Nothing is mocked. One guard is added: every test runs with
host-name lookups limited to this machine, so a client that tried autodiscover (DNS and
``autodiscover.<domain>``) or any other host would fail the test instead of reaching out.
"""

from __future__ import annotations

import base64
import logging
import socket
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import dns.resolver
import pytest
from exchangelib import NTLM, Account, Build, Configuration, Credentials, Version
from exchangelib.errors import ErrorInvalidItemForOperationSendItem
from exchangelib.properties import ItemId
from exchangelib.protocol import BaseProtocol
from exchangelib.services import SendItem
from servers.ews import READ_OPERATIONS, EwsServer

from sync.ews import EwsMailbox
from sync.ews.connect import endpoint
from sync.mailbox import Changes, Folder, Mailbox, MailboxError, MessageRef, is_loopback, parse_url
from sync.open import open_mailbox, open_transport

MAIL = Path(__file__).parent / "data" / "mail"
GBK_FILES = ["raw_8bit_gbk_headers.eml", "gb2312_label_gbk_body.eml", "gbk_subject_split_words.eml"]
INBOX, SENT, DRAFTS = "收件箱", "已发送邮件", "草稿"


def message(n: int, *, sender: str = "li.si@customer.example") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = EwsServer.address
    msg["Subject"] = f"询价 {n}"
    msg["Message-ID"] = f"<ews{n}@customer.example>"
    msg.set_content(f"第 {n} 封邮件。\n")
    return msg.as_bytes().replace(b"\n", b"\r\n")


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Name lookups, connections and datagrams to anything but this machine fail, and are
    listed here (autodiscover starts with a DNS query sent straight to the name server)."""
    asked: list[str] = []

    def check(host: object) -> None:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if not is_loopback(name):
            asked.append(name)
            raise socket.gaierror(socket.EAI_NONAME, f"{name}: only loopback in these tests")

    real_lookup = socket.getaddrinfo

    def lookup(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        check(host)
        return real_lookup(host, *args, **kwargs)

    def reach(real):  # type: ignore[no-untyped-def]
        def guarded(sock, *args):  # type: ignore[no-untyped-def]
            address = args[-1]  # connect(address), sendto(data[, flags], address)
            if isinstance(address, tuple):
                check(address[0])
            return real(sock, *args)

        return guarded

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    for name in ("connect", "connect_ex", "sendto"):
        monkeypatch.setattr(socket.socket, name, reach(getattr(socket.socket, name)))
    yield asked
    assert asked == [], f"the client tried to reach other hosts: {asked}"


@pytest.fixture
def server(ews: EwsServer) -> EwsServer:
    """This module's name for the shared EWS server fixture (conftest.py)."""
    return ews


def windows_login(server: EwsServer) -> EwsMailbox:
    """The usual on-premises set-up: CORP\\zhang over NTLM, the address given separately."""
    return EwsMailbox(server.url("CORP\\zhang"), address=server.address)


def keys(changes: Changes) -> list[str]:
    return [ref.key for ref in changes.refs]


# ---- folders, listing, fetching ----------------------------------------------------------------


def test_folders_with_roles_and_the_names_the_server_gives(server: EwsServer) -> None:
    box = open_mailbox(server.url("CORP\\zhang"), address=server.address)
    assert isinstance(box, EwsMailbox)
    assert isinstance(box, Mailbox)
    assert box.url == server.url("CORP\\zhang")
    assert box.address == "zhang.san@corp.example"
    assert box.folders() == [
        Folder(INBOX, "inbox"),
        Folder(SENT, "sent"),
        Folder(DRAFTS, "drafts"),
        Folder("收件箱/客户", "other"),
        Folder("收件箱/客户/VIP", "other"),
    ]
    server.add_message("VIP", message(1))
    [(ref, data)] = box.fetch(box.changes("收件箱/客户/VIP", None).refs)
    assert ref.folder == "收件箱/客户/VIP" and data == message(1)
    with pytest.raises(MailboxError) as error:
        box.changes("Inbox", None)
    assert "there is no folder 'Inbox'" in str(error.value)
    assert "收件箱/客户/VIP" in str(error.value)


def test_first_listing_then_only_what_is_new(server: EwsServer) -> None:
    stored = [server.add_message("inbox", message(n)) for n in range(3)]
    box = windows_login(server)
    first = box.changes(INBOX, None)
    assert (keys(first), first.reset) == ([item.id for item in stored], False)
    assert [data for _, data in box.fetch(first.refs)] == [message(n) for n in range(3)]

    nothing = box.changes(INBOX, first.state)
    assert (nothing.refs, nothing.reset) == ([], False)

    server.store.mark_read(stored[0].id)  # someone reads, deletes and files mail in Outlook:
    server.store.delete(stored[1].id)  # ReadFlagChange and Delete are not new mail
    new = server.add_message("inbox", message(3))
    later = box.changes(INBOX, nothing.state)
    assert (later.refs, later.reset) == ([MessageRef(INBOX, new.id)], False)
    assert list(box.fetch(later.refs)) == [(MessageRef(INBOX, new.id), message(3))]
    assert box.changes(INBOX, later.state).refs == []
    # A new mailbox object (the next run) resumes from the stored state too.
    assert EwsMailbox(server.url(), address=None).changes(INBOX, later.state).refs == []


def test_a_large_folder_is_listed_across_several_sync_calls(server: EwsServer) -> None:
    stored = [server.add_message("inbox", b"Subject: %d\r\n\r\nx\r\n" % n) for n in range(1100)]
    box = windows_login(server)
    server.clear_log()
    listed = box.changes(INBOX, None)
    assert keys(listed) == [item.id for item in stored]
    syncs = [op for op in server.operations if op.name == "SyncFolderItems"]
    assert [op.detail["changes"] for op in syncs] == [512, 512, 76]
    assert all(op.detail["max_changes"] == 512 for op in syncs)
    assert box.changes(INBOX, listed.state).refs == []


@pytest.mark.parametrize("how", ["expired on the server", "not ours", "another folder's"])
def test_an_unusable_state_lists_everything_again_with_reset(
    server: EwsServer, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    stored = [server.add_message("inbox", message(n)) for n in range(4)]
    box = windows_login(server)
    state = box.changes(INBOX, None).state
    server.add_message("inbox", message(4))
    if how == "expired on the server":
        server.expire_sync_states()
    elif how == "not ours":
        state = "1700000000:42"  # another backend's state, or a hand-edited cell
    else:
        state = box.changes(SENT, None).state
    with caplog.at_level(logging.INFO, logger="sync.ews"):
        again = box.changes(INBOX, state)
    assert again.reset is True
    assert keys(again)[:4] == [item.id for item in stored] and len(again.refs) == 5
    assert "listing the whole folder" in caplog.text
    assert box.changes(INBOX, again.state).refs == []


def test_fetched_bytes_are_the_bytes_the_server_stores(
    server: EwsServer, caplog: pytest.LogCaptureFixture
) -> None:
    originals = [(MAIL / name).read_bytes() for name in GBK_FILES]
    originals.append(message(9).replace(b"\r\n", b"\n"))  # LF line ends, kept as they are
    stored = [server.add_message("inbox", data) for data in originals]
    gone = server.add_message("inbox", message(10))
    box = windows_login(server)
    refs = box.changes(INBOX, None).refs
    server.store.delete(gone.id)  # deleted in Outlook between listing and fetching
    asked = list(reversed(refs))
    with caplog.at_level(logging.INFO, logger="sync.ews"):
        fetched = list(box.fetch(asked))
    assert [ref for ref, _ in fetched] == [r for r in asked if r.key != gone.id]
    assert {ref.key: data for ref, data in fetched} == {i.id: i.mime for i in stored}
    assert f"message {gone.id} is gone since it was listed" in caplog.text
    assert stored[0].charset == "GBK"  # the server said CharacterSet="GBK"; bytes unchanged


def test_a_sync_only_reads(server: EwsServer) -> None:
    for n in range(5):
        server.add_message("inbox", message(n))
    server.add_message("客户", message(5))
    box = windows_login(server)
    states = {}
    for _ in range(2):
        for folder in box.folders():
            changes = box.changes(folder.name, states.get(folder.name))
            assert len(list(box.fetch(changes.refs))) == len(changes.refs)
            states[folder.name] = changes.state
    box.close()
    assert set(server.operation_names()) == READ_OPERATIONS
    assert not any(item.is_read for item in server.store.items.values())  # nothing marked read


def test_a_connection_cut_mid_fetch_is_an_error_and_the_next_run_gets_everything(
    server: EwsServer,
) -> None:
    stored = [server.add_message("inbox", message(n)) for n in range(120)]
    box = windows_login(server)
    refs = box.changes(INBOX, None).refs
    server.drop_connection("GetItem", after=1)  # the second batch of 50 is cut off halfway
    got = []
    with pytest.raises(MailboxError) as error:
        for ref, _ in box.fetch(refs):
            got.append(ref)
    assert got == refs[:50]
    assert str(error.value).startswith(f"{box.url}: reading messages: the connection")
    assert "run the sync again later" in str(error.value)
    again = windows_login(server)
    assert [data for _, data in again.fetch(refs)] == [item.mime for item in stored]


def test_a_busy_server_fails_fast_instead_of_waiting_minutes(server: EwsServer) -> None:
    for n in range(3):
        server.add_message("inbox", message(n))
    box = windows_login(server)
    refs = box.changes(INBOX, None).refs
    server.throttle("GetItem", back_off_ms=300_000)  # "come back in five minutes"
    started = time.monotonic()
    with pytest.raises(MailboxError) as error:
        list(box.fetch(refs))
    assert time.monotonic() - started < 5
    assert "reading messages: the server is busy or unavailable (ErrorServerBusy)" in str(
        error.value
    )
    assert [data for _, data in box.fetch(refs)] == [message(n) for n in range(3)]


# ---- signing in ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["ntlm", "basic"])
def test_a_wrong_password_fails_at_open_without_showing_it(
    server: EwsServer, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    monkeypatch.setenv("XLCRM_EWS_AUTH", method)
    url = server.url("CORP\\zhang")
    with EwsMailbox(url, address=server.address) as box:
        assert box.folders()[0] == Folder(INBOX, "inbox")  # the right password works
    monkeypatch.setenv("XLCRM_PASSWORD", "Wr0ng-Passw0rd")
    server.clear_log()
    with pytest.raises(MailboxError) as error:
        EwsMailbox(url, address=server.address)
    text = str(error.value)
    assert text.startswith(f"{url}: login failed")
    assert "XLCRM_PASSWORD" in text and "keyring" in text
    assert "Wr0ng-Passw0rd" not in text and EwsServer.password not in text
    assert server.operations == []  # nothing ran on the server


def test_the_password_is_not_in_debug_logs(
    server: EwsServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("XLCRM_EWS_AUTH", "basic")  # the header is the password in base64
    with caplog.at_level(logging.DEBUG):
        EwsMailbox(server.url("CORP\\zhang"), address=server.address).folders()
    basic = base64.b64encode(f"CORP\\zhang:{EwsServer.password}".encode()).decode()
    assert "'Authorization': '***'" in caplog.text  # exchangelib logged the headers…
    assert basic not in caplog.text and EwsServer.password not in caplog.text  # …not the secret


def test_an_oauth_token_is_not_sent_over_plain_http(
    server: EwsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLCRM_EWS_AUTH", "oauth")
    monkeypatch.setenv("XLCRM_TOKEN", "eyJ0eXAiOiJKV1Qi.test-token")
    with pytest.raises(MailboxError) as error:
        EwsMailbox(server.url())
    assert "an OAuth token is sent only over https" in str(error.value)
    assert server.requests == []


def test_windows_account_needs_the_address_and_a_wrong_address_is_named(
    server: EwsServer,
) -> None:
    with pytest.raises(MailboxError) as error:
        EwsMailbox(server.url("CORP\\zhang"))
    assert "the mailbox's email address is not known: CORP\\zhang is a Windows account" in str(
        error.value
    )
    assert "--me" in str(error.value)
    with pytest.raises(MailboxError) as error:
        EwsMailbox(server.url("CORP\\zhang"), address="wang.wu@corp.example")
    assert "the server has no mailbox wang.wu@corp.example" in str(error.value)


def test_no_autodiscover_no_probing_only_the_given_endpoint(
    server: EwsServer, loopback_only: list[str]
) -> None:
    server.add_message("inbox", message(1))
    box = EwsMailbox(server.url())  # a UPN user: autodiscover would look up corp.example
    list(box.fetch(box.changes(INBOX, None).refs))
    assert {request.path for request in server.requests} == {"/EWS/Exchange.asmx"}
    # One NTLM handshake (two 401 legs), then the signed-in connection carries every request.
    assert [request.authorized for request in server.requests] == [False, False, True, True, True]
    assert server.operation_names() == ["GetFolder", "SyncFolderItems", "GetItem"]
    assert {op.version for op in server.operations} == {"Exchange2016"}  # no version guessing
    assert loopback_only == []
    # The guard is not idle: autodiscover's first step, a DNS query for the SRV record, and
    # its second, https://corp.example/autodiscover/…, are both stopped.
    with pytest.raises(Exception):  # noqa: B017 - dnspython reports it its own way
        dns.resolver.resolve("_autodiscover._tcp.corp.example", "SRV", lifetime=2)
    with pytest.raises(OSError):
        socket.create_connection(("corp.example", 443), timeout=2)
    assert "corp.example" in loopback_only and len(loopback_only) >= 2
    loopback_only.clear()


# urllib3 warns on every unverified request; the test asserts xlcrm's own warning instead.
@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_https_with_a_self_signed_certificate_and_an_oauth_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("XLCRM_EWS_AUTH", "oauth")
    monkeypatch.setenv("XLCRM_TOKEN", "eyJ0eXAiOiJKV1Qi.test-token")
    with EwsServer(tmp_path, methods=(), token="eyJ0eXAiOiJKV1Qi.test-token", tls=True) as server:
        server.add_message("inbox", message(1))
        with pytest.raises(MailboxError) as error:
            EwsMailbox(server.url())
        assert "certificate could not be checked" in str(error.value)
        assert "--insecure" in str(error.value)

        with caplog.at_level(logging.WARNING, logger="sync.ews"):
            box = EwsMailbox(server.url(), insecure=True)
        assert "certificate checks are off (--insecure)" in caplog.text
        assert [data for _, data in box.fetch(box.changes(INBOX, None).refs)] == [message(1)]
        # Only that mailbox skips the check: exchangelib's global setting is untouched.
        assert BaseProtocol.HTTP_ADAPTER_CLS.__name__ == "HTTPAdapter"
        with pytest.raises(MailboxError, match="certificate could not be checked"):
            EwsMailbox(server.url())

        monkeypatch.setenv("XLCRM_TOKEN", "expired-token")
        with pytest.raises(MailboxError) as error:
            EwsMailbox(server.url(), insecure=True)
        assert "login failed" in str(error.value) and "XLCRM_TOKEN" in str(error.value)
        assert "expired-token" not in str(error.value)


def test_an_unreachable_server_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLCRM_PASSWORD", "x")
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(MailboxError) as error:
        EwsMailbox(f"ews+http://me%40corp.example@127.0.0.1:{port}/EWS/Exchange.asmx")
    assert "signing in: the connection to the server failed" in str(error.value)


def test_urls_and_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XLCRM_EWS_AUTH", raising=False)
    where = endpoint(parse_url("ews://CORP%5Czhang@mail.corp.cn"), "zhang@corp.cn")
    assert (where.service, where.user, where.address, where.method) == (
        "https://mail.corp.cn/EWS/Exchange.asmx",
        "CORP\\zhang",
        "zhang@corp.cn",
        "ntlm",
    )
    where = endpoint(parse_url("ews://li%40corp.cn@mail.corp.cn:8443/ews/exchange.asmx"), None)
    assert (where.service, where.address) == (
        "https://mail.corp.cn:8443/ews/exchange.asmx",
        "li@corp.cn",
    )
    with pytest.raises(MailboxError, match="plain http would send the password unencrypted"):
        EwsMailbox("ews+http://li%40corp.cn@mail.corp.cn/EWS/Exchange.asmx")
    monkeypatch.setenv("XLCRM_EWS_AUTH", "kerberos")
    with pytest.raises(MailboxError) as error:
        endpoint(parse_url("ews://li%40corp.cn@mail.corp.cn"), None)
    assert "XLCRM_EWS_AUTH=kerberos is not a sign-in method" in str(error.value)
    assert "ntlm, basic, oauth" in str(error.value)


# ---- sending -----------------------------------------------------------------------------------


BCC = b"Bcc: boss@corp.example\r\n"


def outgoing(subject: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = EwsServer.address
    msg["To"] = "li.si@customer.example"
    msg["Bcc"] = "boss@corp.example"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{subject}@corp.example>"
    msg["Disposition-Notification-To"] = EwsServer.address
    msg.set_content("您好，附上报价。\n")
    return msg.as_bytes().replace(b"\n", b"\r\n")


def test_send_and_save_draft_put_the_message_where_a_person_looks(server: EwsServer) -> None:
    box = windows_login(server)
    server.clear_log()
    box.send(outgoing("quote-1"))
    [sent] = server.outbox
    assert sent.recipients == ("li.si@customer.example", "boss@corp.example")
    assert b"Bcc:" not in sent.mime  # Bcc recipients get it, nobody sees them
    assert sent.mime == outgoing("quote-1").replace(BCC, b"")
    assert [item.mime for item in server.messages("sentitems")] == [outgoing("quote-1")]

    box.save_draft(outgoing("quote-2"))
    [draft] = server.messages("drafts")
    assert draft.mime == outgoing("quote-2")
    assert draft.is_draft and draft.is_read  # an unsent draft Outlook opens for editing
    assert len(server.outbox) == 1
    assert [(op.name, op.detail["disposition"]) for op in server.operations] == [
        ("CreateItem", "SendAndSaveCopy"),
        ("CreateItem", "SaveOnly"),
    ]

    # Someone opens Drafts later and sends it (EWS SendItem, as Outlook would).
    outlook = Account(
        server.address,
        config=Configuration(
            service_endpoint=f"http://127.0.0.1:{server.port}/EWS/Exchange.asmx",
            credentials=Credentials(server.address, EwsServer.password),
            auth_type=NTLM,
            version=Version(Build(15, 1)),
        ),
        autodiscover=False,
    )
    SendItem(account=outlook).get(items=[ItemId(id=draft.id)], saved_item_folder=None)
    assert server.messages("drafts") == []
    assert server.outbox[-1].mime == outgoing("quote-2").replace(BCC, b"")
    received = server.add_message("inbox", message(1))
    with pytest.raises(ErrorInvalidItemForOperationSendItem):  # only drafts can be sent
        SendItem(account=outlook).get(items=[ItemId(id=received.id)], saved_item_folder=None)

    transport = open_transport(server.url())  # sending through Exchange as a transport
    transport.send(outgoing("quote-3"))
    transport.close()
    assert len(server.outbox) == 3


def test_send_refusals_are_explained(server: EwsServer) -> None:
    box = windows_login(server)
    with pytest.raises(MailboxError) as error:
        box.send(outgoing("x").replace(b"From: zhang.san@", b"From: someone.else@"))
    assert "sending a message: the server denied access (ErrorSendAsDenied)" in str(error.value)
    assert "Send As" in str(error.value)
    assert server.outbox == []


# ---- what a campaign needs: rich messages, "was it sent?", temporary failures ----------------


def test_a_campaign_message_goes_out_whole_with_its_message_id(
    server: EwsServer, campaign_message: Callable[..., bytes]
) -> None:
    """Multipart/alternative with an inline image and an attachment, Chinese subject and
    body: Exchange gets the MIME as it is, so the Message-ID is the one the campaign chose."""
    sent = campaign_message("<spring-2026.C0001@corp.example>", sender=EwsServer.address)
    draft = campaign_message("<spring-2026.C0002@corp.example>", sender=EwsServer.address)
    box = windows_login(server)
    box.send(sent)
    box.save_draft(draft)

    [out] = server.outbox
    assert out.mime == sent and out.recipients == ("zhang.san@customer.example",)
    [copy] = server.messages("sentitems")
    [saved] = server.messages("drafts")
    assert (copy.mime, saved.mime) == (sent, draft)
    assert (copy.message_id, saved.message_id) == (
        "<spring-2026.C0001@corp.example>",
        "<spring-2026.C0002@corp.example>",
    )
    parsed = BytesParser(policy=default).parsebytes(out.mime)
    assert parsed["Subject"] == "【春季促销】张三，您的专属报价已备好"
    assert [part.get_content_type() for part in parsed.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "application/pdf",
    ]
    body = parsed.get_body(("plain",))
    assert body is not None and "春季促销已开始" in body.get_content()
    [attachment] = parsed.iter_attachments()
    assert attachment.get_filename() == "报价单-C0001.pdf"


def test_was_sent_finds_the_message_id_in_sent_items_only(
    server: EwsServer, campaign_message: Callable[..., bytes]
) -> None:
    box = windows_login(server)
    box.send(campaign_message("<spring-2026.C0001@corp.example>", sender=EwsServer.address))
    box.save_draft(campaign_message("<spring-2026.C0002@corp.example>", sender=EwsServer.address))
    server.add_message("inbox", message(7))  # <ews7@customer.example>, received, not sent
    server.clear_log()

    assert box.was_sent("<spring-2026.C0001@corp.example>") is True
    assert box.was_sent("spring-2026.c0001@CORP.example") is True  # brackets and case aside
    assert box.was_sent("<spring-2026.C0002@corp.example>") is False  # a draft did not go
    assert box.was_sent("<ews7@customer.example>") is False  # in the Inbox, not Sent Items
    assert box.was_sent("<never@corp.example>") is False
    assert server.operation_names() == ["FindItem"] * 5  # one read-only request each
    assert {op.detail["restriction"] for op in server.operations} >= {
        "<spring-2026.C0001@corp.example>",
        "<spring-2026.c0001@CORP.example>",
    }
    assert len(server.outbox) == 1
    with pytest.raises(ValueError, match="not a Message-ID"):
        box.was_sent("C0001")
    # What a run saving drafts asks after a kill: Drafts, not Sent Items.
    assert box.was_drafted("<spring-2026.C0002@corp.example>") is True
    assert box.was_drafted("<spring-2026.C0001@corp.example>") is False  # sent, not a draft


def test_a_throttled_or_unreachable_exchange_is_temporary_a_refusal_is_not(
    server: EwsServer, campaign_message: Callable[..., bytes]
) -> None:
    box = windows_login(server)
    outgoing_one = campaign_message("<c1@corp.example>", sender=EwsServer.address)
    server.throttle("CreateItem", back_off_ms=45_000)
    with pytest.raises(MailboxError) as error:
        box.send(outgoing_one)
    assert "sending a message: the server is busy or unavailable (ErrorServerBusy)" in str(
        error.value
    )
    assert (error.value.temporary, error.value.retry_after) == (True, 45.0)
    assert server.outbox == []

    server.drop_connection("CreateItem")  # the answer is cut off: did it go? Sent Items says
    with pytest.raises(MailboxError) as error:
        box.send(outgoing_one)
    assert error.value.temporary is True and error.value.retry_after is None
    assert error.value.hint and "look in Sent Items before sending it again" in error.value.hint
    assert box.was_sent("<c1@corp.example>") is True  # it had: the campaign must not resend

    with pytest.raises(MailboxError) as error:  # not allowed to send as someone else
        box.send(outgoing_one.replace(b"From: zhang.san@", b"From: someone.else@"))
    assert "ErrorSendAsDenied" in str(error.value) and error.value.temporary is False
    assert len(server.outbox) == 1


@pytest.mark.parametrize("status", [502, 503])
def test_an_exchange_behind_a_failing_proxy_is_temporary(
    server: EwsServer, status: int, campaign_message: Callable[..., bytes]
) -> None:
    box = windows_login(server)
    server.http_error("CreateItem", status)
    with pytest.raises(MailboxError) as error:
        box.send(campaign_message("<c1@corp.example>", sender=EwsServer.address))
    assert str(error.value).startswith(f"{box.url}: sending a message: the server ")
    assert error.value.temporary is True
    assert server.outbox == []
    box.send(campaign_message("<c1@corp.example>", sender=EwsServer.address))  # later: it goes
    assert len(server.outbox) == 1
