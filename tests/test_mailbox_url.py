"""Mailbox URLs as people type them, and the mistakes they make."""

from __future__ import annotations

import pytest

from sync.mailbox import MailboxError, MailboxURL, parse_url


@pytest.mark.parametrize(
    ("url", "parsed"),
    [
        ("maildir:/srv/mail/sales", MailboxURL("maildir", path="/srv/mail/sales")),
        ("mbox:~/Mail/客户.mbox", MailboxURL("mbox", path="~/Mail/客户.mbox")),
        ("eml://C:/Users/li/Desktop/邮件", MailboxURL("eml", path="C:/Users/li/Desktop/邮件")),
        ("imaps://li@mail.example.cn:993", MailboxURL("imaps", "li", "mail.example.cn", 993)),
        ("IMAP://sales@imap.163.com", MailboxURL("imap", "sales", "imap.163.com")),
        (
            "ews://li%40corp.cn@ex.corp.cn/EWS/Exchange.asmx",
            MailboxURL("ews", "li@corp.cn", "ex.corp.cn", None, "/EWS/Exchange.asmx"),
        ),
        (
            "graph://li@contoso.onmicrosoft.com",
            MailboxURL("graph", "li", "contoso.onmicrosoft.com"),
        ),
    ],
)
def test_parse_and_write_back(url: str, parsed: MailboxURL) -> None:
    assert parse_url(url) == parsed
    assert parse_url(parsed.text) == parsed  # what xlcrm prints can be pasted back


@pytest.mark.parametrize(
    ("url", "message", "hint"),
    [
        ("pop3://me@host", "pop3://me@host: not a mailbox URL", "use one of: maildir:"),
        ("/home/me/Maildir", "/home/me/Maildir: not a mailbox URL", "maildir:"),
        ("maildir:", "maildir:: the URL names no path", "write it as maildir:PATH"),
        ("imaps://", "imaps://: the URL names no server", "imaps://user@host"),
        ("imap://me@host:port", "imap://me@host:port: the port is not a number", None),
    ],
)
def test_mistakes_say_what_to_do(url: str, message: str, hint: str | None) -> None:
    with pytest.raises(MailboxError) as err:
        parse_url(url)
    assert str(err.value).startswith(message)
    if hint:
        assert hint in str(err.value)


def test_a_password_in_the_url_is_refused_and_not_repeated() -> None:
    with pytest.raises(MailboxError) as err:
        parse_url("imaps://li:s3cret-pw@mail.example.cn")
    text = str(err.value)
    assert "s3cret-pw" not in text
    assert text.startswith("imaps://li:***@mail.example.cn: passwords do not belong")
    assert "XLCRM_PASSWORD" in text
