"""Sending through a real SMTP server on loopback (aiosmtpd, see ``servers/smtp.py``).

The server records the envelope and the exact bytes it received, which is what the tests
check: who the message went to, that Bcc reached its recipient but not the header, that a
refused recipient means nobody got the message. Certificates are verified (``SSL_CERT_FILE``
names the test CA) except where a test shows what happens without that. Nothing is mocked;
one test points the transport at this machine under another server name (see its docstring).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from servers.smtp import SmtpServer
from servers.tcp_cut import HOST, Certificate, free_port, make_certificate

from sync.mailbox import MailboxError, Transport
from sync.open import open_transport
from sync.smtp import SmtpTransport, envelope, without_bcc

USER, PASSWORD = "sales@example.cn", "S3cret-发件-2025"
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


def test_a_refused_recipient_means_the_message_went_to_no_one(submission: SmtpServer) -> None:
    with SmtpTransport(url(submission)) as transport:
        bad = mail("From: sales@example.cn", "To: li.lei@customer.cn", "Cc: nobody@example.com")
        with pytest.raises(MailboxError) as caught:
            transport.send(bad)
        assert str(caught.value) == (
            f"{transport.url}: the server refused 1 of 2 recipients, so the message was sent "
            "to no one: nobody@example.com (550 5.1.1 <nobody@example.com>: Recipient address "
            "rejected: User unknown)\n  hint: correct or remove those addresses and send again"
        )
        assert submission.messages == []
        assert submission.rcpt_seen == ["li.lei@customer.cn", "nobody@example.com"]

        transport.send(mail("From: sales@example.cn", "To: li.lei@customer.cn"))  # still works
    assert [m.rcpt_tos for m in submission.messages] == [["li.lei@customer.cn"]]


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
    assert "XLCRM_PASSWORD" in text and "keyring set xlcrm" in text
    assert wrong not in text and wrong not in caplog.text
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
