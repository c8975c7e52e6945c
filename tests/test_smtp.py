"""Sending through a real SMTP server on loopback (aiosmtpd, see ``servers/smtp.py``).

The server records the envelope and the exact bytes it received, which is what the tests
check: who the message went to, that Bcc reached its recipient but not the header, that a
refused recipient means nobody got the message. Certificates are verified (``SSL_CERT_FILE``
names the test CA) except where a test shows what happens without that. Nothing is mocked;
one test points the transport at this machine under another server name (see its docstring).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from email.parser import BytesParser
from email.policy import default

import pytest
from servers.smtp import SmtpServer
from servers.tcp_cut import HOST, Certificate, TcpCut, free_port, make_certificate

from sync.mailbox import MailboxError, Transport, header_message_id
from sync.open import open_transport
from sync.smtp import SmtpTransport, crlf_lines, dot_stuffed, envelope, without_bcc

USER, PASSWORD = "sales@example.cn", "S3cret-发件-2025"
# How a server takes a message: content in BDAT chunks (CHUNKING with PIPELINING, RFC 3030:
# Exchange, Gmail, Postfix 3.4+), DATA after a pipelined envelope, or one command at a time.
STYLES = {
    "chunked": {"pipelining": True, "chunking": True},
    "pipelined": {"pipelining": True},
    "one-by-one": {"pipelining": False},
}
each_style = pytest.mark.parametrize("style", list(STYLES))
# aiosmtpd warns when it takes a login on a connection it does not see as TLS. It does not
# see TLS-from-the-start (smtps) as TLS; and one test offers a login in clear on purpose.
LOGIN_WITHOUT_STARTTLS = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning"
)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def trusted(certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test CA trusted, the password in the environment, as a user would set them."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.ca))
    monkeypatch.setenv("XLCRM_PASSWORD", PASSWORD)


@pytest.fixture
def submission(certificate: Certificate, trusted: None) -> Iterator[SmtpServer]:
    """Port-587 style: STARTTLS offered, login required (and only after STARTTLS)."""
    with SmtpServer(
        certificate, mode="starttls", users={USER: PASSWORD}, refuse=["nobody@example.com"]
    ) as server:
        yield server


def url(server: SmtpServer, user: str | None = USER) -> str:
    scheme = "smtps" if server.mode == "tls" else "smtp"
    who = f"{user.replace('@', '%40')}@" if user else ""
    return f"{scheme}://{who}{HOST}:{server.port}"


def mail(*headers: str, body: bytes = b"Hello,\r\n\r\nthe quote is attached.\r\n") -> bytes:
    head = "".join(f"{h}\r\n" for h in headers)
    return head.encode("utf-8") + b"\r\n" + body


QUOTE = mail(
    "From: Sales <sales@example.cn>",
    "To: Li Lei <li.lei@customer.cn>, wang@customer.cn",
    "Cc: boss@example.cn",
    "Bcc: archive@example.cn,",
    "  LI.LEI@customer.cn",  # folded, and li.lei again in another case
    "Subject: Quote Q-2025-001",
    "Message-ID: <q-2025-001@example.cn>",
)


def test_starttls_login_and_bcc_delivered_but_not_shown(submission: SmtpServer) -> None:
    transport = open_transport(url(submission))
    assert isinstance(transport, SmtpTransport) and isinstance(transport, Transport)
    assert transport.url == f"smtp://sales%40example.cn@{HOST}:{submission.port}"
    transport.send(QUOTE)
    transport.send(QUOTE.replace(b"Q-2025-001", b"Q-2025-002"))
    transport.close()

    first, second = submission.messages
    assert first.mail_from == "sales@example.cn"
    assert first.rcpt_tos == [
        "li.lei@customer.cn",
        "wang@customer.cn",
        "boss@example.cn",
        "archive@example.cn",  # Bcc: delivered…
    ]
    assert first.content == mail(  # …but not in what was transmitted; the rest unchanged
        "From: Sales <sales@example.cn>",
        "To: Li Lei <li.lei@customer.cn>, wang@customer.cn",
        "Cc: boss@example.cn",
        "Subject: Quote Q-2025-001",
        "Message-ID: <q-2025-001@example.cn>",
    )
    assert first.tls and first.login == USER
    assert second.peer == first.peer  # one connection for both messages


def test_plain_smtp_without_login_on_this_machine(certificate: Certificate) -> None:
    gbk = "您好：报价单见附件。\r\n".encode("gbk")
    message = mail(
        "Sender: robot@example.cn",
        "From: Sales <sales@example.cn>",
        "To: li.lei@customer.cn",
        "Subject: =?utf-8?b?5oql5Lu3?=",
        "Content-Type: text/plain; charset=gbk",
        "Content-Transfer-Encoding: 8bit",
        body=gbk,
    )
    with SmtpServer(certificate, mode="plain") as server:
        transport = SmtpTransport(url(server, user=None))
        transport.send(message)
        transport.close()
    [received] = server.messages
    assert received.mail_from == "robot@example.cn"  # Sender before From
    assert received.rcpt_tos == ["li.lei@customer.cn"]
    assert received.content == message  # 8-bit GBK body byte for byte
    assert "BODY=8BITMIME" in received.mail_options
    assert not received.tls and received.login is None


@LOGIN_WITHOUT_STARTTLS
def test_smtps_with_a_chinese_address_uses_smtputf8(
    certificate: Certificate, trusted: None
) -> None:
    message = mail(
        "From: sales@example.cn",
        "To: 张三 <张三@例子.中国>",
        "Subject: 报价",  # raw UTF-8 in the header: SMTPUTF8 (RFC 6532)
        body="正文\r\n".encode(),
    )
    with SmtpServer(certificate, mode="tls", users={USER: PASSWORD}) as server:
        transport = open_transport(url(server))
        transport.send(message)
        transport.close()
    [received] = server.messages
    assert received.rcpt_tos == ["张三@例子.中国"]
    assert received.content == message
    assert {"SMTPUTF8", "BODY=8BITMIME"} <= set(received.mail_options)
    assert received.tls and received.login == USER


@each_style
def test_a_refused_recipient_means_the_message_went_to_no_one(
    certificate: Certificate, trusted: None, style: str
) -> None:
    """With PIPELINING the server has already answered DATA with 354 (another recipient was
    accepted) when the refusal is read: the content must not follow, and does not. With
    CHUNKING the content went already, in a chunk that is not the last: RSET discards it, and
    the connection goes on."""
    with (
        SmtpServer(
            certificate,
            mode="starttls",
            users={USER: PASSWORD},
            refuse=["nobody@example.com"],
            **STYLES[style],
        ) as submission,
        SmtpTransport(url(submission)) as transport,
    ):
        bad = mail("From: sales@example.cn", "To: li.lei@customer.cn", "Cc: nobody@example.com")
        with pytest.raises(MailboxError) as caught:
            transport.send(bad)
        assert str(caught.value) == (
            f"{transport.url}: the server refused 1 of 2 recipients, so the message was sent "
            "to no one: nobody@example.com (550 5.1.1 <nobody@example.com>: Recipient address "
            "rejected: User unknown)\n  hint: correct or remove those addresses and send again"
        )
        assert caught.value.temporary is False  # 550: the address does not exist
        assert submission.messages == []
        assert submission.rcpt_seen == ["li.lei@customer.cn", "nobody@example.com"]

        transport.send(mail("From: sales@example.cn", "To: li.lei@customer.cn"))  # still works
        assert [m.rcpt_tos for m in submission.messages] == [["li.lei@customer.cn"]]
        assert [m.via for m in submission.messages] == ["BDAT" if style == "chunked" else "DATA"]
        # DATA after a 354 can only be abandoned by dropping the line; a chunk is reset.
        assert submission.connections == {"chunked": 1, "pipelined": 2, "one-by-one": 1}[style]


@each_style
def test_before_commit_runs_when_only_the_final_dot_is_left(
    certificate: Certificate, style: str
) -> None:
    """The hook a sender records "handed over" in: the whole content is with the server, and
    the server has not taken the message yet."""
    with SmtpServer(certificate, mode="plain", **STYLES[style]) as server:
        seen: list[int] = []
        with SmtpTransport(f"smtp://{HOST}:{server.port}") as transport:
            transport.send(numbered(1), before_commit=lambda: seen.append(len(server.messages)))
            transport.send(numbered(2))
        assert seen == [0]
        assert arrived(server) == ["<c1@example.cn>", "<c2@example.cn>"]


class Killed(Exception):
    """Stands for the sending process dying at the hook (the journal could not be written)."""


@each_style
def test_a_send_abandoned_before_the_final_dot_delivers_nothing(
    certificate: Certificate, style: str
) -> None:
    """Everything but the dot went out, then the sender gave up: the server must discard the
    message, so sending it again later cannot make a duplicate."""

    def die() -> None:
        raise Killed

    with SmtpServer(certificate, mode="plain", **STYLES[style]) as server:
        with SmtpTransport(f"smtp://{HOST}:{server.port}") as transport:
            with pytest.raises(Killed):
                transport.send(numbered(1), before_commit=die)
            transport.send(numbered(1))  # sent again: once
        assert arrived(server) == ["<c1@example.cn>"]
        assert server.connections == 2  # the abandoned one was dropped


def test_dot_stuffing_and_line_ends_as_data_transmits_them() -> None:
    assert dot_stuffed(b"a\n.b\r\n..c\rd") == b"a\r\n..b\r\n...c\r\nd\r\n"
    assert dot_stuffed(b".\r\n") == b"..\r\n"
    assert dot_stuffed(b"") == b"\r\n"
    assert crlf_lines(b"a\n.b\r\n..c\rd") == b"a\r\n.b\r\n..c\r\nd\r\n"  # a chunk: no stuffing


def test_the_server_gets_the_same_bytes_in_chunks_as_after_data(certificate: Certificate) -> None:
    """Lines that start with a dot, bare LF and CR line ends, 8-bit text, a lone dot line: a
    BDAT chunk carries them as they are (CRLF line ends), DATA dot-stuffed; what the server
    keeps is the same, and the message goes as 8BITMIME either way."""
    body = ".hidden\n..two\r\n.\r\nend\rof 报价单 — €\n".encode()
    message = mail("From: sales@example.cn", "To: li@customer.cn", "Subject: dots", body=body)
    kept = {}
    for style in ("chunked", "pipelined"):
        with SmtpServer(certificate, mode="plain", **STYLES[style]) as server:
            with SmtpTransport(f"smtp://{HOST}:{server.port}") as transport:
                transport.send(message, before_commit=lambda: None)
            (received,) = server.messages
            kept[received.via] = received
    assert kept["BDAT"].content == kept["DATA"].content == crlf_lines(message)
    assert kept["BDAT"].mail_options == kept["DATA"].mail_options == ["BODY=8BITMIME"]


def test_a_wrong_password_says_so_without_showing_it(
    submission: SmtpServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "Wr0ng-口令-smtp"
    monkeypatch.setenv("XLCRM_PASSWORD", wrong)
    caplog.set_level(logging.DEBUG)
    transport = SmtpTransport(url(submission))
    with pytest.raises(MailboxError) as caught:
        transport.send(QUOTE)
    transport.close()
    text = str(caught.value)
    assert text.startswith(f"{transport.url}: login failed for {USER} (the server said: 535")
    assert "XLCRM_PASSWORD" in text and "xlcrm secret set" in text
    assert wrong not in text and wrong not in caplog.text
    assert caught.value.temporary is False
    assert submission.messages == []


def test_an_untrusted_certificate_is_refused_unless_insecure(
    submission: SmtpServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")
    with pytest.raises(MailboxError) as caught:
        SmtpTransport(url(submission)).send(QUOTE)
    assert str(caught.value).startswith(
        f"{url(submission)}: the certificate of {HOST} was not accepted"
    )
    assert caught.value.hint and "--insecure" in caught.value.hint
    assert caught.value.temporary is False
    assert submission.messages == []

    with caplog.at_level(logging.WARNING), SmtpTransport(url(submission), insecure=True) as t:
        t.send(QUOTE)
    assert "certificate checks are OFF (--insecure)" in caplog.text
    assert len(submission.messages) == 1


@LOGIN_WITHOUT_STARTTLS
def test_no_login_in_clear_to_another_machine(
    certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server without STARTTLS that would take a login in clear. The transport is told the
    server is ``mail.example.cn`` while it connects to this machine (the only network the
    tests may use): it must refuse before AUTH, and the server must see no login."""
    monkeypatch.setenv("XLCRM_PASSWORD", PASSWORD)
    with SmtpServer(certificate, mode="plain", users={USER: PASSWORD}) as server:
        transport = SmtpTransport("smtp://sales%40example.cn@mail.example.cn")
        transport._host, transport._port = HOST, server.port  # where mail.example.cn "is"
        with pytest.raises(MailboxError) as caught:
            transport.send(QUOTE)
        transport.close()
        assert server.messages == []
        # The same server, named as this machine: a login in clear is acceptable there.
        with SmtpTransport(url(server)) as local:
            local.send(QUOTE)
        assert server.messages[0].login == USER
    assert str(caught.value).startswith(
        "smtp://sales%40example.cn@mail.example.cn: the server does not offer STARTTLS"
    )
    assert (
        caught.value.hint
        == "use smtps://sales%40example.cn@mail.example.cn (TLS, port 465) instead"
    )


def test_an_unreachable_server_is_a_clear_error() -> None:
    port = free_port()
    with pytest.raises(MailboxError) as caught:
        SmtpTransport(f"smtp://{HOST}:{port}").send(QUOTE)
    assert str(caught.value).startswith(
        f"smtp://{HOST}:{port}: nothing answers at {HOST} port {port} (connection refused)"
    )
    assert caught.value.hint and "587" in caught.value.hint
    assert caught.value.temporary is True  # a server being restarted: try again later


# ---- a campaign: thousands of messages, failures that pass and failures that stay ----------


def numbered(n: int) -> bytes:
    return mail(
        "From: sales@example.cn",
        f"To: c{n}@customer.cn",
        f"Subject: Spring offer {n}",
        f"Message-ID: <c{n}@example.cn>",
    )


def arrived(server: SmtpServer) -> list[str | None]:
    """The Message-IDs of the messages the server accepted, in order."""
    return [header_message_id(m.content) for m in server.messages]


def test_a_campaign_goes_through_one_connection_and_one_login(submission: SmtpServer) -> None:
    with SmtpTransport(url(submission)) as transport:
        for n in range(50):
            transport.send(numbered(n))
    assert arrived(submission) == [f"<c{n}@example.cn>" for n in range(50)]
    assert (submission.connections, submission.logins) == (1, 1)
    assert submission.noops == 0  # no round trip to check a connection that was just used
    assert len({m.peer for m in submission.messages}) == 1


def test_a_connection_that_sat_idle_is_checked_before_use(submission: SmtpServer) -> None:
    with SmtpTransport(url(submission)) as transport:
        transport.send(numbered(1))
        transport.idle_check = 0.0  # every pause now counts as a long one
        transport.send(numbered(2))  # NOOP, answered: the connection is used
        submission.drop_connections()  # the server closes it while it sits idle
        transport.send(numbered(3))  # NOOP fails: a new connection, before MAIL
    assert arrived(submission) == ["<c1@example.cn>", "<c2@example.cn>", "<c3@example.cn>"]
    assert (submission.noops, submission.connections, submission.logins) == (1, 2, 2)


@pytest.mark.parametrize("how", ["closed", "421"])
def test_a_connection_the_server_closed_between_messages_is_replaced(
    submission: SmtpServer, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Servers close connections that sat idle, or that carried their quota of messages,
    silently or with 421 at the next command. The next message finds out at MAIL, before
    any of it went out, and goes over a new connection: every message arrives once."""
    with SmtpTransport(url(submission)) as transport:
        for n in range(3):
            transport.send(numbered(n))
        if how == "closed":
            submission.drop_connections()
        else:
            submission.answer("MAIL", "421 4.4.2 mx.test.example Error: timeout exceeded")
        with caplog.at_level(logging.INFO, logger="sync.smtp"):
            for n in range(3, 6):
                transport.send(numbered(n))
    assert arrived(submission) == [f"<c{n}@example.cn>" for n in range(6)]
    assert (submission.connections, submission.logins) == (2, 2)
    assert "sending it over a new connection" in caplog.text
    if how == "421":
        assert "421 4.4.2 mx.test.example Error: timeout exceeded" in caplog.text


MAIL_OK = len(b"250 OK\r\n")
GO_AHEAD = len(b"354 End data with <CR><LF>.<CR><LF>\r\n")


@pytest.mark.parametrize(
    ("cut_after", "taken", "hint"),
    [
        (MAIL_OK, False, "nothing was sent: send it again"),  # gone before RCPT's answer
        # Gone after the server's first byte of "250 … queued": it had the message.
        (2 * MAIL_OK + GO_AHEAD + 1, True, "the server may have taken it"),
    ],
    ids=["before the content", "after the content"],
)
def test_a_connection_lost_mid_message_is_temporary_and_the_retry_reconnects(
    certificate: Certificate, cut_after: int, taken: bool, hint: str
) -> None:
    """The network drops in the middle of a message (a real TCP proxy cuts the line; plain
    SMTP, so the bytes it counts are the server's replies)."""
    with SmtpServer(certificate, mode="plain") as server, TcpCut(HOST, server.port) as proxy:
        transport = SmtpTransport(f"smtp://{HOST}:{proxy.port}")
        transport.send(numbered(1))
        proxy.cut(after=cut_after)
        with pytest.raises(MailboxError) as caught:
            transport.send(numbered(2))
        assert proxy.cuts == 1
        assert str(caught.value).startswith(
            f"smtp://{HOST}:{proxy.port}: the connection to the server was lost while sending "
            "a message"
        )
        assert caught.value.temporary is True
        assert caught.value.maybe_sent is taken  # a sender must not simply try it again
        assert caught.value.hint and hint in caught.value.hint
        assert arrived(server) == ["<c1@example.cn>", *(["<c2@example.cn>"] if taken else [])]

        proxy.cut(after=10**12)  # the network is back
        if not taken:
            transport.send(numbered(2))  # the caller tries again: over a new connection
        transport.send(numbered(3))
        transport.close()
    assert arrived(server) == ["<c1@example.cn>", "<c2@example.cn>", "<c3@example.cn>"]
    assert server.connections == 2


@pytest.mark.parametrize(
    ("command", "reply", "temporary"),
    [
        ("MAIL", "451 4.3.0 Mail server temporarily rejected message", True),
        ("MAIL", "553 5.7.1 <sales@example.cn>: Sender address rejected: not owned by user", False),
        ("RCPT", "452 4.5.3 Too many recipients in this hour", True),
        ("RCPT", "421 4.7.0 mx.test.example Too many connections, closing", True),
        ("DATA", "452 4.3.1 Insufficient system storage", True),
        ("DATA", "421 4.3.2 mx.test.example Service shutting down", True),
        ("DATA", "554 5.7.1 Message rejected: content looks like spam", False),
    ],
)
def test_4xx_replies_are_temporary_5xx_permanent_and_both_keep_the_servers_words(
    submission: SmtpServer, command: str, reply: str, temporary: bool
) -> None:
    with SmtpTransport(url(submission)) as transport:
        submission.answer(command, reply)
        with pytest.raises(MailboxError) as caught:
            transport.send(numbered(1))
        assert reply in str(caught.value)  # shown on the campaign's failed row
        assert (caught.value.temporary, caught.value.retry_after) == (temporary, None)
        transport.send(numbered(2))  # the next message goes through
    assert arrived(submission) == ["<c2@example.cn>"]
    assert submission.connections == (2 if reply.startswith("421") else 1)


def test_greylisted_recipients_are_temporary_an_unknown_one_is_not(
    certificate: Certificate, trusted: None
) -> None:
    with (
        SmtpServer(
            certificate,
            users={USER: PASSWORD},
            refuse=["nobody@example.com"],
            defer=["new@customer.cn"],
        ) as server,
        SmtpTransport(url(server)) as transport,
    ):
        with pytest.raises(MailboxError) as caught:
            transport.send(
                mail("From: sales@example.cn", "To: li.lei@customer.cn, new@customer.cn")
            )
        assert str(caught.value) == (
            f"{transport.url}: the server refused 1 of 2 recipients, so the message was sent "
            "to no one: new@customer.cn (450 4.2.0 <new@customer.cn>: Recipient address "
            "rejected: Greylisted, try again)\n  hint: the server turned them away for now "
            "(greylisting or a sending limit): send again later"
        )
        assert caught.value.temporary is True

        with pytest.raises(MailboxError) as caught:  # one of them will never work
            transport.send(
                mail("From: sales@example.cn", "To: new@customer.cn, nobody@example.com")
            )
        assert caught.value.temporary is False
        assert "550 5.1.1" in str(caught.value) and "450 4.2.0" in str(caught.value)
        assert caught.value.hint == "correct or remove those addresses and send again"
    assert server.messages == []


def test_a_campaign_message_arrives_byte_for_byte_with_its_unsubscribe_headers(
    submission: SmtpServer, campaign_message: Callable[..., bytes]
) -> None:
    message = campaign_message("<spring-2026.C0001@example.cn>", sender="销售部 <sales@example.cn>")
    with SmtpTransport(url(submission)) as transport:
        transport.send(message)
        assert transport.was_sent("<spring-2026.C0001@example.cn>") is None  # cannot tell
    [received] = submission.messages
    assert received.content == message
    assert received.rcpt_tos == ["zhang.san@customer.example"]
    headers = BytesParser(policy=default).parsebytes(received.content, headersonly=True)
    assert headers["List-Unsubscribe"].strip() == (  # folded in two, as it was written
        "<mailto:unsubscribe@corp.example?subject=unsubscribe%20C0001>, "
        "<https://crm.corp.example/unsubscribe/C0001/9f8e7d6c5b4a39281706>"
    )
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["Message-ID"] == "<spring-2026.C0001@example.cn>"


# ---- the message as sent -------------------------------------------------------------------


def test_envelope_needs_a_sender_and_a_recipient() -> None:
    with pytest.raises(MailboxError, match="the message has no From address"):
        envelope("smtp://x", mail("To: a@example.cn"))
    with pytest.raises(MailboxError, match=r"no recipients \(no To, Cc or Bcc address\)"):
        envelope("smtp://x", mail("From: a@example.cn", "To: undisclosed-recipients:;"))
    assert envelope("smtp://x", QUOTE)[1][-1] == "archive@example.cn"


def test_without_bcc_leaves_everything_else_alone() -> None:
    message = (
        b"From: a@example.cn\nBCC : x@example.cn,\n\ty@example.cn\nTo: b@example.cn\n\n"
        b"Bcc: in the body stays\n"
    )
    assert without_bcc(message) == (
        b"From: a@example.cn\nTo: b@example.cn\n\nBcc: in the body stays\n"
    )
    assert without_bcc(QUOTE.replace(b"Bcc:", b"X-Bcc-Note:")) == QUOTE.replace(
        b"Bcc:", b"X-Bcc-Note:"
    )


# -- the next message's envelope with this one's final dot (issue 16) ---------------------------


class TurnCounter:
    """A TCP proxy counting the client's turns: each time it writes after the server said
    something. A round trip a message is a turn a message (plain SMTP, so nothing is hidden)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.turns = 0
        self._server_spoke = True
        self._lock = threading.Lock()
        self._listener = socket.create_server((HOST, 0))
        self.listen_port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with suppress(OSError):
            while True:
                client, _ = self._listener.accept()
                server = socket.create_connection((HOST, self.port))
                for args in ((client, server, True), (server, client, False)):
                    threading.Thread(target=self._pipe, args=args, daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        with suppress(OSError):
            while chunk := source.recv(65536):
                with self._lock:
                    if from_client and self._server_spoke:
                        self.turns += 1
                    self._server_spoke = not from_client
                sink.sendall(chunk)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._listener.close()


def sent_in_turns(server: SmtpServer, count: int, *, ahead: bool) -> int:
    """The client's turns for ``count`` messages, each handed the next as ``then`` or not."""
    proxy = TurnCounter(server.port)
    try:
        with SmtpTransport(f"smtp://{HOST}:{proxy.listen_port}") as transport:
            messages = [numbered(n) for n in range(count)]
            for n, message in enumerate(messages):
                following = messages[n + 1] if ahead and n + 1 < count else None
                transport.send(message, before_commit=lambda: None, then=following)
        return proxy.turns
    finally:
        proxy.close()


ahead_styles = pytest.mark.parametrize("style", ["chunked", "pipelined"])


@ahead_styles
def test_the_next_envelope_rides_with_the_final_dot_one_round_trip_a_message(
    certificate: Certificate, style: str
) -> None:
    """With CHUNKING the next envelope carries the next content too, and ``BDAT 0 LAST`` is
    the dot: the same one round trip a message."""
    with SmtpServer(certificate, mode="plain", **STYLES[style]) as server:
        one = sent_in_turns(server, 1, ahead=True)
        pipelined = sent_in_turns(server, 11, ahead=True)
        separate = sent_in_turns(server, 11, ahead=False)
    assert pipelined - one == 10  # each further message: its content, dot and the next envelope
    assert separate - one == 20  # each further message: its envelope, then its content
    assert arrived(server) == ["<c0@example.cn>"] + [f"<c{n}@example.cn>" for n in range(11)] * 2
    assert server.connections == 3


@ahead_styles
def test_a_next_message_never_sent_is_never_delivered(certificate: Certificate, style: str) -> None:
    """Its envelope went with the previous dot, but nothing of its content (with CHUNKING:
    all of it, in a chunk that is not the last): closing (the run stopped: a limit, the
    sending hours) or sending another message instead drops the connection, and the server
    discards the transaction that never ended."""
    with SmtpServer(certificate, mode="plain", **STYLES[style]) as server:
        with SmtpTransport(f"smtp://{HOST}:{server.port}") as transport:
            transport.send(numbered(1), then=numbered(2))
        with SmtpTransport(f"smtp://{HOST}:{server.port}") as transport:
            transport.send(numbered(3), then=numbered(4))
            transport.send(numbered(5))  # not the one announced: a new connection
        time.sleep(0.2)  # anything the server would have taken has arrived by now
    assert arrived(server) == ["<c1@example.cn>", "<c3@example.cn>", "<c5@example.cn>"]
    assert server.connections == 3


@ahead_styles
def test_a_refused_next_recipient_sends_it_to_no_one_and_the_run_goes_on(
    certificate: Certificate, style: str
) -> None:
    """The refusal of a recipient of the message sent ahead is read by its own send: it raises
    as before, nothing of it is delivered to anyone, and the message after it goes."""
    refuse = ["nobody@example.com"]
    with SmtpServer(certificate, mode="plain", refuse=refuse, **STYLES[style]) as server:
        bad = mail(
            "From: sales@example.cn",
            "To: li.lei@customer.cn",
            "Cc: nobody@example.com",
            "Message-ID: <bad@example.cn>",
        )
        with SmtpTransport(f"smtp://{HOST}:{server.port}") as transport:
            transport.send(numbered(1), then=bad)
            with pytest.raises(MailboxError, match="sent to no one"):
                transport.send(bad, then=numbered(3))
            transport.send(numbered(3))
    assert arrived(server) == ["<c1@example.cn>", "<c3@example.cn>"]
    assert [m.rcpt_tos for m in server.messages] == [["c1@customer.cn"], ["c3@customer.cn"]]


@ahead_styles
def test_a_temporary_refusal_at_the_dot_retries_without_the_envelope_sent_ahead(
    certificate: Certificate, style: str
) -> None:
    """The server said 451 to message 1's dot after message 2's envelope went: retrying
    message 1 cannot use that connection (the server waits for message 2's content), so it
    reconnects; each message arrives once."""
    with SmtpServer(certificate, mode="plain", **STYLES[style]) as server:
        server.answer("DATA", "451 4.3.0 Try again later")
        with SmtpTransport(f"smtp://{HOST}:{server.port}") as transport:
            with pytest.raises(MailboxError) as caught:
                transport.send(numbered(1), then=numbered(2))
            assert caught.value.temporary
            transport.send(numbered(1), then=numbered(2))
            transport.send(numbered(2))
    assert arrived(server) == ["<c1@example.cn>", "<c2@example.cn>"]
    assert server.connections == 2


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        ("li@customer.cn", ["li@customer.cn"]),
        ("Li Lei <li@customer.cn>", ["li@customer.cn"]),
        ('"Lei, Li" <li@customer.cn>', ["li@customer.cn"]),
        ("=?utf-8?b?5byg5LiJ?= <zhang@customer.cn>", ["zhang@customer.cn"]),
        ("张三 <张三@例子.中国>", ["张三@例子.中国"]),
        ("a@customer.cn, B <b@customer.cn>", ["a@customer.cn", "b@customer.cn"]),
        ("Li <li@customer.cn> (work)", ["li@customer.cn"]),
        ('"a\\"b" <q@customer.cn>', ["q@customer.cn"]),
        ("team: a@customer.cn, b@customer.cn;", ["a@customer.cn", "b@customer.cn"]),
        ("undisclosed-recipients:;, c@customer.cn", ["c@customer.cn"]),
    ],
)
def test_envelope_reads_every_form_of_address(to: str, expected: list[str]) -> None:
    """One plain address is read without the email parser; every other form goes to it."""
    message = mail("From: Sales <sales@example.cn>", f"To: {to}")
    assert envelope("smtp://x", message) == ("sales@example.cn", expected)
