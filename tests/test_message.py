"""Reading raw mail with ``sync.message.parse_message``: what a person would see.

The messages are the committed samples in ``tests/data/mail/`` (raw .eml bytes, written by
``make_samples.py`` there, which says what real-world case each one is), plus short messages
written inline where one header or one byte is the point. Nothing is mocked: every test
parses bytes and checks the decoded subject, names, addresses, summary, attachment names,
ids and dates.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sync.message import (
    Address,
    Bounce,
    FailedRecipient,
    MailMessage,
    html_to_text,
    new_text,
    normalise_address,
    normalise_message_id,
    parse_message,
)

MAIL = Path(__file__).parent / "data" / "mail"
ROOT = Path(__file__).resolve().parent.parent


def tz(hours: float) -> dt.timezone:
    return dt.timezone(dt.timedelta(hours=hours))


def sample(name: str) -> MailMessage:
    return parse_message((MAIL / name).read_bytes())


def raw(headers: str, body: bytes = b"Hello.\r\n", date: bool = True) -> bytes:
    """A message from header lines written one per line (LF here, CRLF on the wire), with a
    Date unless it has one or ``date`` is False."""
    if date and "\nDate:" not in f"\n{headers}":
        headers += "\nDate: Tue, 3 Mar 2026 10:00:00 +0800"
    return headers.strip("\n").replace("\n", "\r\n").encode("utf-8") + b"\r\n\r\n" + body


def load_generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_samples", MAIL / "make_samples.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------
# The corpus


def test_corpus_files_are_what_the_generator_writes() -> None:
    """Byte-exact: a checkout that rewrote line ends (CRLF) would silently test other mail."""
    generator = load_generator()
    on_disk = sorted(p.name for p in MAIL.glob("*.eml"))
    assert on_disk == sorted(generator.SAMPLES)
    for name, build in generator.SAMPLES.items():
        assert (MAIL / name).read_bytes() == build(), f"{name} differs from make_samples.py"


EXPECTED: dict[str, dict[str, object]] = {
    "plain_utf8_english.eml": {
        "message_id": "caf+3kq7xyz@mail.example.com",
        "subject": "Quote request for 500 units",
        "sender": Address("Alice Smith", "alice.smith@example.com"),
        "to": [
            Address("Zhang San", "zhang.san@example.cn"),
            Address("Li, Wei", "li.wei@example.cn"),
        ],
        "cc": [Address("", "sales@example.cn")],
        "date": dt.datetime(2026, 3, 2, 20, 14, 55, tzinfo=tz(-5)),
        "summary": "Hi Zhang, Could you send us a quote for 500 units of the X200 controller, "
        "delivered to Rotterdam by the end of April? We would also like to know the lead time "
        "for a further 2,000 units.",
        "auto_reply": False,
        "bounce": None,
        "defects": [],
    },
    "gb2312_label_gbk_body.eml": {
        "subject": "喆镕贸易：样品寄送确认",
        "sender": Address("张喆", "zhang.zhe@example.cn"),
        "to": [Address("王经理", "wang.li@example.com.cn")],
        "text": "王经理：\n\n您好！喆镕贸易的样品已于今天寄出，快递单号 SF1234567890。\n"
        "请查收后回复确认。\n\n此致\n敬礼\n\n张喆\n喆镕贸易有限公司",
        "summary": "王经理： 您好！喆镕贸易的样品已于今天寄出，快递单号 SF1234567890。 "
        "请查收后回复确认。",
        "headers_charset_guessed": False,
        "defects": [],
    },
    "gbk_subject_split_words.eml": {
        "subject": "关于下季度订单的安排",
        "sender": Address("欧阳晓明", "ouyang@example.cn"),
        "headers_charset_guessed": False,
        "defects": [],
    },
    "x_gbk_label.eml": {
        "subject": "合同修改稿",
        "text": "李经理您好：\n附件是修改后的合同，请过目。\n\n发自我的iPhone",
        "summary": "李经理您好： 附件是修改后的合同，请过目。",
        "defects": [],
    },
    "raw_8bit_gbk_headers.eml": {
        "subject": "样品已寄出，请查收",
        "sender": Address("陈晓明", "chen.xm@example.cn"),
        "to": [Address("销售部", "sales@example.cn")],
        "summary": "样品已于今天通过顺丰寄出，单号 SF9876543210。",
        "headers_charset_guessed": True,
    },
    "qq_html_only.eml": {
        "subject": "三月发货明细",
        "sender": Address("张喆", "10001234@qq.com"),
        "to": [Address("王总", "wang.zong@example.cn")],
        "text": "王总：\n您好！以下是本月的发货明细：\n产品 数量 单价\nX200 控制器 500 ¥120.00\n"
        "喆镕 传感器 1,200 ¥35.50\n\n如有问题请随时联系。<附件另发>\n\n此致\n敬礼\n张喆",
        "summary": "王总： 您好！以下是本月的发货明细： 产品 数量 单价 X200 控制器 500 ¥120.00 "
        "喆镕 传感器 1,200 ¥35.50 如有问题请随时联系。<附件另发>",
        "defects": [],
    },
    "multipart_alternative.eml": {
        "to": [Address("王芳", "wang.fang@example.cn")],
        "text": "Hi 王芳,\n\nThe meeting is moved to Thursday 10:00 (周四上午十点).\n"
        "The agenda follows next week.\n\nBest regards,\nTom",
        "summary": "Hi 王芳, The meeting is moved to Thursday 10:00 (周四上午十点). "
        "The agenda follows next week.",
        "attachments": [],
    },
    "attachment_names.eml": {
        "attachments": [
            "报价单 2026.pdf",
            "合同草案（第二版）.docx",
            "发票明细.xls",
            "装箱清单.txt",
        ],
        "text": "Please find the quotation and the draft contract attached.\n"
        "请查收附件中的报价单和合同草案。",
        "headers_charset_guessed": True,  # the raw GBK file name
    },
    "missing_message_id.eml": {
        "message_id": "sha256:a2aba7b5609e5dbd528c4138be7199869a9504e29f96c4e3fde68b6fb8cf3c2e",
        "synthetic_id": True,
        "subject": "订单 PO-2026-0311 已审核",
        "summary": "订单 PO-2026-0311 已由财务审核通过，请安排发货。",
    },
    "duplicate_message_id.eml": {
        "message_id": "20260312.1234@mail.example.cn",
        "synthetic_id": False,
        "in_reply_to": "cagmeeting+thursday@mail.example.com",
        "references": ["cagmeeting+thursday@mail.example.com"],
        "defects": ["2 Message-ID headers; the first one used"],
    },
    "outlook_reply_original_message.eml": {
        "subject": "RE: Quote request for 500 units",
        "in_reply_to": "caf+3kq7xyz@mail.example.com",
        "summary": "Hi Alice, Yes, 500 units by the end of April is fine. Price: USD 118 per "
        "unit, FOB Shanghai.",
    },
    "outlook_cn_reply_header_block.eml": {
        "subject": "答复: 价格确认",
        "sender": Address("李伟", "li.wei@example.cn"),
        "summary": "王芳， 价格已确认，合同今天下午发给您。",
    },
    "qq_reply_original_mail.eml": {
        "subject": "回复：Meeting moved to Thursday",
        "sender": Address("王芳", "wang.fang@example.cn"),
        "summary": "收到，谢谢！周四见。",
        "auto_reply": False,
    },
    "gmail_inline_reply.eml": {
        "references": ["first@example.cn", "lead.times@example.cn"],
        "summary": "Answers below. Yes, all 500. Six weeks from the order.",
    },
    "netease_reply_xiedao.eml": {
        "sender": Address("李总", "li.zong@example.com.cn"),
        "subject": "Re:交期沟通",
        "summary": "好的，明天上午十点电话沟通。",
        "date": dt.datetime(2026, 3, 12, 11, 20, tzinfo=tz(8)),
    },
    "auto_reply_auto_submitted.eml": {"auto_reply": True, "bounce": None},
    "out_of_office_chinese.eml": {
        "subject": "自动回复：关于下季度订单的安排",
        "auto_reply": True,
        "bounce": None,
    },
    "dsn_multipart_report.eml": {
        "sender": Address("Mail Delivery System", "mailer-daemon@mx.example.cn"),
        "bounce": Bounce(
            recipients=[
                FailedRecipient(
                    "nobody@example.org",
                    "5.1.1",
                    "smtp; 550 5.1.1 <nobody@example.org>: Recipient address rejected: "
                    "User unknown (in reply to RCPT TO command)",
                    "user_unknown",
                    hard=True,
                )
            ],
            original_message_id="20260303101458.abcd@mail.example.cn",
            standard=True,
            reason="user_unknown",
            hard=True,
        ),
        "attachments": [],
    },
    "bounce_chinese_provider.eml": {
        "subject": "系统退信",
        "sender": Address("系统管理员", "postmaster@mail.example.com.cn"),
        "bounce": Bounce(
            recipients=[
                FailedRecipient(
                    "wang.fang@example.com.cn",
                    "5.1.1",
                    "退信原因：收件人邮箱不存在 (550 5.1.1 Mailbox not found)",
                    "user_unknown",
                    hard=True,
                )
            ],
            original_message_id="order.0311.1400@example.cn",
            standard=False,
            reason="user_unknown",
            hard=True,
        ),
        "summary": "您好， 很抱歉，您的邮件未能成功投递到以下收件人： wang.fang@example.com.cn "
        "退信原因：收件人邮箱不存在 (550 5.1.1 Mailbox not found)",
    },
    "bounce_failure_rfc822_headers.eml": {
        "bounce": Bounce(
            recipients=[
                FailedRecipient(
                    "li.si@example.org",
                    "5.2.1",
                    "550 5.2.1 The email account that you tried to reach is disabled.",
                    "user_unknown",
                    hard=True,
                )
            ],
            original_message_id="cag.catalogue.0314@mail.example.com",
            standard=False,
            reason="user_unknown",
            hard=True,
        ),
    },
    "broken_date_received.eml": {
        "date": dt.datetime(2026, 3, 3, 10, 20, 5, tzinfo=tz(8)),
        "defects": [
            "unreadable Date 'Tue, 32 Mar 2026 25:61:00 +0800'; the newest Received date used"
        ],
    },
    "broken_base64_padding.eml": {
        "subject": "发货通知",
        "text": "货物已发出，预计三天到达。",
        "defects": ["text/plain: base64 with broken padding"],
    },
    "bogus_charset_label.eml": {
        "text": "本周新增客户 12 家，成交 3 单。",
        "defects": [
            "text/plain: unknown charset '%charset%'",
            "text/plain: labelled %charset%; read as GB18030",
        ],
        "headers_charset_guessed": False,  # the body needed repair, the headers did not
    },
    "no_charset_gbk_body.eml": {
        "text": "库存预警：X200 控制器 库存低于 50 台。",
        "defects": ["text/plain: no charset; read as GB18030"],
    },
    "newsletter_list_unsubscribe.eml": {
        "list_unsubscribe": [
            "mailto:unsubscribe@news.example.com?subject=unsubscribe",
            "https://news.example.com/u/abc123",
        ],
        "auto_reply": False,
    },
}


def test_every_sample_has_expectations() -> None:
    assert sorted(EXPECTED) == sorted(p.name for p in MAIL.glob("*.eml"))


@pytest.mark.parametrize(
    ("name", "field", "expected"),
    [(name, field, value) for name, fields in EXPECTED.items() for field, value in fields.items()],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None,
)
def test_sample_reads_as_a_person_sees_it(name: str, field: str, expected: object) -> None:
    assert getattr(sample(name), field) == expected


def test_samples_never_need_the_safety_net() -> None:
    for path in MAIL.glob("*.eml"):
        message = parse_message(path.read_bytes())
        assert not any(d.startswith("parser error") for d in message.defects), path.name


# ---------------------------------------------------------------------------------------------
# Message-IDs


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<AbC.123@Mail.Example.COM>", "abc.123@mail.example.com"),
        ("  <abc@x.cn>  ", "abc@x.cn"),
        ("abc@x.cn", "abc@x.cn"),  # brackets forgotten
        ("<abc\r\n @x.cn>", "abc@x.cn"),  # folded inside the id
        ("<abc@x.cn> (Zhang San's message of Tue)", "abc@x.cn"),
        ("<abc@x.cn", "abc@x.cn"),  # unterminated
        ("<>", None),
        ("", None),
        ("(null)", None),
        ("<undefined>", None),
        ("<@x.cn>", None),
        ("<abc@>", None),
    ],
)
def test_normalise_message_id(value: str, expected: str | None) -> None:
    assert normalise_message_id(value) == expected


def test_synthetic_id_is_the_same_however_the_message_arrives() -> None:
    """A backend may hand over LF line ends (Maildir) or add a Received line (IMAP server):
    the id a sync deduplicates on must not change."""
    data = (MAIL / "missing_message_id.eml").read_bytes()
    first, again = parse_message(data), parse_message(data)
    lf = parse_message(data.replace(b"\r\n", b"\n"))
    relayed = parse_message(
        b"Received: from relay.example.net by mx.example.cn; Wed, 11 Mar 2026 09:00:03 +0800\r\n"
        + data
    )
    assert first.synthetic_id
    assert first.message_id == again.message_id == lf.message_id == relayed.message_id
    other = parse_message(data.replace(b"Wed, 11 Mar 2026 09:00:00", b"Wed, 11 Mar 2026 09:00:01"))
    assert other.message_id != first.message_id


def test_broken_message_id_gets_a_synthetic_one() -> None:
    message = parse_message(
        raw("From: a@x.cn\nMessage-ID: <>\nDate: Tue, 3 Mar 2026 10:00:00 +0800")
    )
    assert message.synthetic_id
    assert message.message_id.startswith("sha256:") and len(message.message_id) == 7 + 64
    assert message.defects == ["broken Message-ID '<>'; a synthetic id used"]


def test_references_and_in_reply_to_are_normalised() -> None:
    message = parse_message(
        raw(
            "From: a@x.cn\nMessage-ID: <m@x.cn>\n"
            "In-Reply-To: <Parent@X.cn> (Zhang San's message of Tue, 3 Mar 2026)\n"
            "References: <Root@X.cn>\n <parent@x.cn>,<PARENT@x.cn> <>"
        )
    )
    assert message.in_reply_to == "parent@x.cn"
    assert message.references == ["root@x.cn", "parent@x.cn"]


# ---------------------------------------------------------------------------------------------
# Addresses


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"Alice Smith" <Alice.Smith@Example.COM>', "alice.smith@example.com"),
        ("ZHANG@EXAMPLE.CN", "zhang@example.cn"),
        ("<zhang@example.cn>", "zhang@example.cn"),
        ("mailto:Zhang@Example.cn", "zhang@example.cn"),
        ("user@xn--fiqs8s.cn", "user@xn--fiqs8s.cn"),  # punycode left as is
        ("用户@例子.中国", "用户@例子.中国"),  # so is Unicode
        ("'zhang@example.cn'", "zhang@example.cn"),  # Outlook's single quotes
        ("Zhang San", None),
        ("MAILER-DAEMON", None),
        ("", None),
    ],
)
def test_normalise_address(value: str, expected: str | None) -> None:
    assert normalise_address(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("undisclosed-recipients:;", []),
        ('Team: a@x.com, "B" <b@x.com>;', [("", "a@x.com"), ("B", "b@x.com")]),
        ("a@x.com; B@X.com", [("", "a@x.com"), ("", "b@x.com")]),
        ("Zhang, San <z@x.cn>", [("Zhang, San", "z@x.cn")]),
        ("john@x.com (John Doe)", [("John Doe", "john@x.com")]),
        ('"=?utf-8?B?546L6Iqz?=" <W@X.CN>', [("王芳", "w@x.cn")]),
        ("=?utf-8?Q?Li,_Wei?= <li@x.cn>, c@x.cn", [("Li, Wei", "li@x.cn"), ("", "c@x.cn")]),
        ("'Bob' <bob@x.com>", [("Bob", "bob@x.com")]),
        ('"Wang \\"Fang\\"" <w@x.cn>', [('Wang "Fang"', "w@x.cn")]),
        ("<a@x.cn> <b@x.cn>", [("", "a@x.cn"), ("", "b@x.cn")]),
        ("Mail Delivery System <MAILER-DAEMON>", []),
    ],
)
def test_address_lists(value: str, expected: list[tuple[str, str]]) -> None:
    message = parse_message(raw(f"From: a@x.cn\nTo: {value}\nMessage-ID: <m@x.cn>"))
    assert [(a.name, a.addr) for a in message.to] == expected


def test_reply_to_and_bcc() -> None:
    message = parse_message(
        raw(
            "From: sales@x.cn\nReply-To: Orders <Orders@X.cn>\nBcc: boss@x.cn\nMessage-ID: <m@x.cn>"
        )
    )
    assert message.reply_to == [Address("Orders", "orders@x.cn")]
    assert message.bcc == [Address("", "boss@x.cn")]


# ---------------------------------------------------------------------------------------------
# Charsets and encoded-words


def gbk(text: str) -> bytes:
    return text.encode("gbk")


@pytest.mark.parametrize(
    ("label", "body", "text", "defect"),
    [
        ("gb2312", gbk("朱镕基和张喆"), "朱镕基和张喆", None),  # outside GB2312: read as GB18030
        ("GBK", gbk("您好"), "您好", None),
        ("cp936", gbk("您好"), "您好", None),
        ("euc-cn", gbk("您好"), "您好", None),
        ("gb_2312-80", gbk("您好"), "您好", None),
        ("x-gbk", gbk("您好"), "您好", None),
        ("GB18030", "€ 𠀀".encode("gb18030"), "€ 𠀀", None),
        (None, "您好，样品已寄出".encode(), "您好，样品已寄出", None),
        (None, gbk("您好，样品已寄出"), "您好，样品已寄出", "no charset; read as GB18030"),
        ("utf-8", gbk("您好，样品已寄出"), "您好，样品已寄出", "labelled utf-8; read as GB18030"),
        ("gb2312", "您好，样品已寄出".encode(), "您好，样品已寄出", "labelled gb2312 but is UTF-8"),
        (
            "iso-8859-1",
            gbk("您好，样品已寄出"),
            "您好，样品已寄出",
            "labelled iso-8859-1 but is GB18030",
        ),
        ("us-ascii", "Grüße, García".encode(), "Grüße, García", "labelled us-ascii but is UTF-8"),
        ("iso-8859-1", "café crème".encode("latin-1"), "café crème", None),
        ("windows-1252", "“quoted” – €5".encode("cp1252"), "“quoted” – €5", None),
        ("big5", "您好".encode("big5"), "您好", None),
        ("x-unknown-thing", "naïve".encode(), "naïve", "unknown charset 'x-unknown-thing'"),
        ("gbk", gbk("样品已寄出") + b"\xd6", "样品已寄出\ufffd", "1 undecodable byte(s) replaced"),
    ],
)
def test_body_charsets(label: str | None, body: bytes, text: str, defect: str | None) -> None:
    ctype = f"text/plain; charset={label}" if label else "text/plain"
    message = parse_message(raw(f"From: a@x.cn\nMessage-ID: <m@x.cn>\nContent-Type: {ctype}", body))
    assert message.text == text
    if defect is None:
        assert message.defects == []
    else:
        assert any(defect in d for d in message.defects), message.defects
    assert not message.headers_charset_guessed  # body repairs are not header repairs


def b_word(data: bytes, label: str) -> str:
    import base64

    return f"=?{label}?B?{base64.b64encode(data).decode()}?="


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("=?utf-8?Q?caf=C3=A9_au_lait?=", "café au lait"),
        ("=?UTF-8?B?5Lit?= =?UTF-8?B?5paH?=", "中文"),  # the space between words goes
        ("Re: =?utf-8?B?5Lit5paH?= test", "Re: 中文 test"),
        ("=?utf-8*zh-CN?B?5Lit5paH?=", "中文"),  # RFC 2231 language suffix
        (
            f"{b_word('中文'.encode()[:2], 'utf-8')}\n {b_word('中文'.encode()[2:], 'UTF-8')}",
            "中文",
        ),
        (f"{b_word(gbk('报价单')[:3], 'gb2312')} {b_word(gbk('报价单')[3:], 'GBK')}", "报价单"),
        ("=?utf-8?B?5Lit5paH?=", "中文"),
        ("=?utf-8?B?5Lit5paH?=abc", "中文abc"),  # no space after the word
        ("Plain   subject\twith  spaces", "Plain subject with spaces"),
        ("=?gb2312?B?1tDOxA?=", "中文"),  # padding missing
    ],
)
def test_encoded_word_subjects(subject: str, expected: str) -> None:
    message = parse_message(raw(f"From: a@x.cn\nMessage-ID: <m@x.cn>\nSubject: {subject}"))
    assert message.subject == expected
    assert not message.headers_charset_guessed


def test_unknown_charset_in_an_encoded_word_is_a_guessed_header() -> None:
    subject = b_word("报价".encode(), "x-bogus")
    message = parse_message(raw(f"From: a@x.cn\nMessage-ID: <m@x.cn>\nSubject: {subject}"))
    assert message.subject == "报价"
    assert message.headers_charset_guessed
    assert "Subject: unknown charset 'x-bogus'" in message.defects


def test_raw_utf8_headers_are_not_a_repair() -> None:
    """RFC 6532 allows UTF-8 in headers; only other raw bytes count as guessed."""
    message = parse_message(
        "From: 王芳 <w@x.cn>\r\nSubject: 价格确认\r\nMessage-ID: <m@x.cn>\r\n\r\nok\r\n".encode()
    )
    assert (message.subject, message.sender) == ("价格确认", Address("王芳", "w@x.cn"))
    assert not message.headers_charset_guessed


def test_raw_8bit_header_follows_the_body_charset() -> None:
    """Raw bytes in a header are read in the charset the message declares for its text."""
    big5 = "報價單".encode("big5")
    data = (
        b"From: a@x.tw\r\nSubject: " + big5 + b"\r\nMessage-ID: <m@x.tw>\r\n"
        b"Content-Type: text/plain; charset=big5\r\n\r\n" + big5 + b"\r\n"
    )
    message = parse_message(data)
    assert message.subject == message.text == "報價單"
    assert message.headers_charset_guessed


# ---------------------------------------------------------------------------------------------
# Bodies


def test_html_is_only_used_when_the_text_part_is_empty() -> None:
    body = (
        b"--B\r\nContent-Type: text/plain\r\n\r\n \r\n"
        b"--B\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Only &amp; here</p>\r\n--B--\r\n"
    )
    message = parse_message(
        raw(
            "From: a@x.cn\nMessage-ID: <m@x.cn>\nContent-Type: multipart/alternative; boundary=B",
            body,
        )
    )
    assert message.text == "Only & here"


def test_format_flowed_lines_are_joined() -> None:
    body = b"This line is long and \r\ncontinues here.\r\n-- \r\nTom\r\n"
    message = parse_message(
        raw('From: a@x.cn\nMessage-ID: <m@x.cn>\nContent-Type: text/plain; format="flowed"', body)
    )
    assert message.text == "This line is long and continues here.\n-- \nTom"
    assert message.summary == "This line is long and continues here."


def test_html_charset_from_meta_when_the_part_has_none() -> None:
    html = '<meta charset="gbk"><p>报价单</p>'.encode("gbk")
    message = parse_message(
        raw("From: a@x.cn\nMessage-ID: <m@x.cn>\nContent-Type: text/html", html)
    )
    assert message.text == "报价单"
    assert message.defects == []


def test_forwarded_message_is_an_attachment_named_after_its_subject() -> None:
    body = (
        b"--B\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n"
        b"--B\r\nContent-Type: message/rfc822\r\n\r\n"
        b"Subject: =?utf-8?B?5Lu35qC8?=\r\nFrom: c@y.cn\r\n\r\nold\r\n--B--\r\n"
    )
    message = parse_message(
        raw("From: a@x.cn\nMessage-ID: <m@x.cn>\nContent-Type: multipart/mixed; boundary=B", body)
    )
    assert message.attachments == ["价格.eml"]
    assert message.text == "See below."


def test_attachment_paths_are_reduced_to_names() -> None:
    body = (
        b"--B\r\nContent-Type: text/plain\r\n\r\nx\r\n"
        b'--B\r\nContent-Type: application/pdf; name="C:\\\\Users\\\\me\\\\quote.pdf"\r\n'
        b"Content-Disposition: attachment\r\n\r\n%PDF\r\n--B--\r\n"
    )
    message = parse_message(
        raw("From: a@x.cn\nMessage-ID: <m@x.cn>\nContent-Type: multipart/mixed; boundary=B", body)
    )
    assert message.attachments == ["quote.pdf"]


def test_missing_date_uses_received() -> None:
    message = parse_message(
        raw(
            "Received: from a by b; Tue, 3 Mar 2026 10:00:00 +0800\n"
            "Received: from c by a; Tue, 3 Mar 2026 01:59:00 +0000\nFrom: a@x.cn",
            date=False,
        )
    )
    assert message.date == dt.datetime(2026, 3, 3, 10, 0, tzinfo=tz(8))
    assert "no Date header; the newest Received date used" in message.defects


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 3 Mar 2026 10:00:00 +0800", dt.datetime(2026, 3, 3, 10, 0, tzinfo=tz(8))),
        ("3 Mar 2026 10:00 -0130", dt.datetime(2026, 3, 3, 10, 0, tzinfo=tz(-1.5))),
        ("Tue, 03 Mar 2026 02:00:00 GMT", dt.datetime(2026, 3, 3, 2, 0, tzinfo=tz(0))),
        ("Tue, 3 Mar 26 10:00:00 EST", dt.datetime(2026, 3, 3, 10, 0, tzinfo=tz(-5))),
        ("Tue, 3 Mar 2026 10:00:00", dt.datetime(2026, 3, 3, 10, 0, tzinfo=tz(0))),
        ("not a date", None),
        ("Tue, 31 Feb 2026 10:00:00 +0800", None),
        ("Thu, 1 Jan 1970 00:00:00 +0000", None),  # an unset clock, not a date
    ],
)
def test_dates(value: str, expected: dt.datetime | None) -> None:
    message = parse_message(raw(f"From: a@x.cn\nMessage-ID: <m@x.cn>\nDate: {value}"))
    assert message.date == expected
    if expected is not None:
        assert message.date is not None and message.date.utcoffset() == expected.utcoffset()


# ---------------------------------------------------------------------------------------------
# Auto-replies


@pytest.mark.parametrize(
    ("headers", "auto"),
    [
        ("Auto-Submitted: auto-replied", True),
        ("Auto-Submitted: auto-generated; owner-email=x@y.cn", True),
        ("Auto-Submitted: no", False),
        ("X-Autoreply: yes", True),
        ("X-Autorespond: vacation", True),
        ("Precedence: auto_reply", True),
        # Precedence: bulk/junk/list only says many people got it: a list reply is a person's.
        ("Precedence: bulk\nSubject: Re: your order", False),
        ("Precedence: junk\nIn-Reply-To: <a@b.cn>", False),
        ("Precedence: list\nList-Id: <sales.example.cn>\nSubject: Re: price", False),
        ("Precedence: bulk\nSubject: Our spring catalogue", False),
        ("Subject: Out of Office: back on Monday", True),
        ("Subject: Automatic reply: Quote", True),
        ("Subject: 自动答复: 报价", True),
        ("Subject: 关于自动回复设置的问题", True),
        ("Subject: Office party", False),
    ],
)
def test_auto_reply(headers: str, auto: bool) -> None:
    message = parse_message(raw(f"From: a@x.cn\nMessage-ID: <m@x.cn>\n{headers}"))
    assert message.auto_reply is auto


def test_a_delay_notice_is_not_a_bounce() -> None:
    body = (
        b"--R\r\nContent-Type: text/plain\r\n\r\nStill trying.\r\n"
        b"--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Final-Recipient: rfc822; slow@x.net\r\nAction: delayed\r\nStatus: 4.4.1\r\n\r\n--R--\r\n"
    )
    message = parse_message(
        raw(
            "From: MAILER-DAEMON@mx.x.cn\nMessage-ID: <m@x.cn>\nSubject: Delayed Mail\n"
            "Content-Type: multipart/report; report-type=delivery-status; boundary=R",
            body,
        )
    )
    assert message.bounce is None


def test_a_person_writing_about_a_bounce_is_not_one() -> None:
    message = parse_message(
        raw("From: Zhang <zhang@x.cn>\nMessage-ID: <m@x.cn>\nSubject: 关于退信的问题")
    )
    assert message.bounce is None


# ---------------------------------------------------------------------------------------------
# HTML and the new text of replies


def test_html_to_text() -> None:
    html = (
        "<html><head><title>t</title><style>p{color:red}</style></head><body>"
        "<!-- a comment --><script>var a = '<p>no</p>';</script>"
        "<p>First&nbsp;line &lt;b&gt; &#20013;&#x6587; &eacute;</p>"
        "<div>Second<br>third</div><div><br></div>"
        '<table><tr><td>a</td><td title="x > y">b</td></tr></table>'
        "<pre>  keep\n  this</pre>"
        "<blockquote>quoted<div>too</div></blockquote>after"
        "</body></html>"
    )
    assert html_to_text(html) == (
        "First line <b> 中文 é\nSecond\nthird\n\na b\n  keep\n  this\n> quoted\n> too\nafter"
    )


def test_html_to_text_on_broken_markup() -> None:
    assert html_to_text("a < b and c > d <p unclosed") == "a < b and c > d <p unclosed"
    assert html_to_text("<p>x</p><!-- never closed <p>y</p>") == "x"
    assert html_to_text("<STYLE>x</style><P>y</P>") == "y"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("New.\n\n> old\n> older", "New."),
        ("Top.\n\nOn Tue, 3 Mar 2026, Zhang <z@x.cn> wrote:\nold text", "Top."),
        ("好的。\n\n在 2026年3月3日 10:00，张三 <z@x.cn> 写道：\n旧的内容", "好的。"),
        ('好的。\n"张三"<z@x.cn> 于 2026年3月3日 周二 10:00 写道：\n旧的内容', "好的。"),
        ("OK.\n-----Original Message-----\nFrom: z@x.cn", "OK."),
        ("OK.\n---------- Forwarded message ---------\nFrom: z@x.cn", "OK."),
        ("OK.\n\nFrom: Zhang <z@x.cn>\nSent: Tuesday\nTo: me\nSubject: x\n\nold", "OK."),
        ("收到。\n发件人: 张三\n发送时间: 2026年3月3日\n收件人: 我\n主题: 报价\n旧的", "收到。"),
        (
            "From: the factory floor, good news.\nAll shipped.",
            "From: the factory floor, good news. All shipped.",
        ),
        ("Price is fine.\n\nThanks,\nTom\nSales\n+86 21 5555 0000", "Price is fine."),
        (
            "谢谢！\n\n货已收到，质量很好。",
            "谢谢！ 货已收到，质量很好。",
        ),  # a first line is no sign-off
        ("请查收。\n\n此致\n敬礼\n张三", "请查收。"),
        ("Body.\n-- \nSig", "Body."),
        ("Body.\n\nSent from my iPhone", "Body."),
        (
            "Regards,\n" + "\n".join(f"line {i}" for i in range(12)),
            "Regards, " + " ".join(f"line {i}" for i in range(12)),
        ),
    ],
)
def test_new_text(text: str, expected: str) -> None:
    assert new_text(text) == expected


def test_summary_is_cut_near_300_characters() -> None:
    words = " ".join(f"word{i}" for i in range(100))
    message = parse_message(raw("From: a@x.cn\nMessage-ID: <m@x.cn>", words.encode()))
    assert message.summary.endswith("…")
    assert 260 <= len(message.summary) <= 301
    assert words.startswith(message.summary[:-1])
    chinese = "很" * 500
    message = parse_message(
        raw(
            "From: a@x.cn\nMessage-ID: <m@x.cn>\nContent-Type: text/plain; charset=utf-8",
            chinese.encode(),
        )
    )
    assert message.summary == "很" * 300 + "…"


# ---------------------------------------------------------------------------------------------
# Robustness


def mangled(rng: random.Random, data: bytes) -> bytes:
    choice = rng.randrange(4)
    if choice == 0:
        return data[: rng.randrange(len(data) + 1)]  # truncated download
    out = bytearray(data)
    for _ in range(rng.randrange(1, 20)):
        if not out:
            break
        position = rng.randrange(len(out))
        if choice == 1:
            out[position] = rng.randrange(256)  # flipped bytes
        elif choice == 2:
            out[position:position] = rng.choice([b"=?", b"?=", b"<", b'"', b"\r\n", b"\xff", b";"])
        else:
            del out[position : position + rng.randrange(1, 50)]
    return bytes(out)


def test_garbage_never_raises() -> None:
    """Every sample truncated, with bytes flipped, inserted and deleted; and pure noise. The
    parser's last-resort handler must not be what catches them: no "parser error"."""
    rng = random.Random(20260315)
    inputs = [b"", b"\r\n\r\n", b"From:", b"\xff\xfe\x00", b"Content-Type: multipart/mixed\r\n\r\n"]
    inputs += [rng.randbytes(rng.randrange(1, 2000)) for _ in range(50)]
    for path in sorted(MAIL.glob("*.eml")):
        data = path.read_bytes()
        inputs += [mangled(rng, data) for _ in range(40)]
    for data in inputs:
        message = parse_message(data)
        assert isinstance(message, MailMessage)
        assert not any(d.startswith("parser error") for d in message.defects), (
            data[:200],
            message.defects,
        )
        assert message.message_id


def test_leading_blank_lines_do_not_hide_the_headers() -> None:
    message = parse_message(b"\r\n\r\n" + raw("From: a@x.cn\nSubject: hi\nMessage-ID: <m@x.cn>"))
    assert (message.subject, message.message_id) == ("hi", "m@x.cn")


def test_sync_does_not_import_addin() -> None:
    """``sync`` reads mailboxes; it must work without the workbook package."""
    code = (
        "import sys, sync.message; print(sorted(m for m in sys.modules if m.startswith('addin')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "data",
    [
        raw("From: a@x.cn\nContent-Type: text/html", b'<div style="' + b"a" * 100_000),
        raw("From: a@x.cn\nContent-Type: text/html", b"<div " * 20_000),
        raw("From: a@x.cn\nContent-Type: text/html", b"<!x" * 20_000),
        raw("From: " + " " * 50_000 + "a@x.cn"),
        raw("From: " + "a" * 50_000 + " <a@x.cn>"),
        raw("From: " + "@" * 50_000),
        raw("From: " + "=?" * 20_000),
        raw("From: postmaster@x.cn\nSubject: Undelivered Mail", b"x" * 200_000 + b"@"),
        raw("From: a@x.cn", b"-" * 300 + b"\n" + b"-- " * 90 + b"\n" + b"> " * 50_000),
    ],
    ids=lambda data: repr(data[:40]),
)
def test_pathological_input_stays_fast(data: bytes) -> None:
    """No regular expression here may backtrack without bound on long runs of garbage."""
    started = time.perf_counter()
    parse_message(data)
    assert time.perf_counter() - started < 2.0


# -- large messages: attachment bodies cut out before parsing -----------------------------------


def _big_message(*, message_id: bool, crlf: bool) -> bytes:
    """A 300 kB message as Outlook and QQ send them: text and HTML, a PDF, an inline image in
    the HTML, a forwarded message, and a nested mixed part with one more attachment."""
    rng = random.Random(7)
    pdf = base64_lines(rng.randbytes(150_000))
    png = base64_lines(rng.randbytes(20_000))
    zip_ = base64_lines(rng.randbytes(60_000))
    parts = [
        "--outer\n"
        'Content-Type: multipart/related; boundary="rel"\n\n'
        "--rel\n"
        'Content-Type: multipart/alternative; boundary="alt"\n\n'
        "--alt\nContent-Type: text/plain; charset=gbk\nContent-Transfer-Encoding: base64\n\n"
        + base64_lines("报价单见附件，请查收。\n\n王芳".encode("gbk"))
        + "\n--alt\nContent-Type: text/html; charset=utf-8\n\n"
        "<p>报价单见附件</p><img src=cid:logo>\n"
        "--alt--\n"
        "--rel\nContent-Type: image/png\nContent-ID: <logo>\nContent-Transfer-Encoding: base64\n\n"
        + png
        + "\n--rel--\n",
        "--outer\nContent-Type: application/pdf; name==?gbk?B?"
        + base64_lines("报价单.pdf".encode("gbk"))
        + "?=\nContent-Disposition: attachment;\n"
        " filename*=UTF-8''%E6%8A%A5%E4%BB%B7%E5%8D%95.pdf\n"
        "Content-Transfer-Encoding: base64\n\n" + pdf + "\n",
        "--outer\nContent-Type: message/rfc822\n\nSubject: 原始询价\nFrom: a@example.cn\n\nHi\n",
        "--outer\nContent-Type: TEXT/PLAIN; name=notes.txt\nContent-Disposition: attachment\n"
        "Content-Transfer-Encoding: base64\n\n" + base64_lines(b"keep me") + "\n",
        '--outer\nContent-Type: multipart/mixed; boundary="inner"\n\n'
        "--inner\nContent-Type: application/zip; name=specs.zip\n"
        "Content-Transfer-Encoding: BASE64\n\n" + zip_ + "\n--inner--\n",
    ]
    head = (
        "From: 王芳 <wang.fang@example.cn>\nTo: li@example.com\nSubject: 报价\n"
        "Date: Tue, 03 Mar 2026 10:00:00 +0800\n"
        + ("Message-ID: <big@example.cn>\n" if message_id else "")
        + 'MIME-Version: 1.0\nContent-Type: multipart/mixed;\n\tboundary="outer"\n\n'
        "This is a multi-part message in MIME format.\n"
    )
    text = head + "".join(parts) + "--outer--\nepilogue\n"
    return text.replace("\n", "\r\n").encode() if crlf else text.encode()


def base64_lines(data: bytes) -> str:
    import base64

    encoded = base64.b64encode(data).decode()
    return "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


@pytest.mark.parametrize("crlf", [True, False])
@pytest.mark.parametrize("message_id", [True, False])
def test_cutting_attachment_bodies_changes_nothing_a_sync_sees(
    message_id: bool, crlf: bool
) -> None:
    import email
    import email.policy

    from sync.message.lighten import without_attachment_bodies
    from sync.message.parse import _parse
    from sync.message.state import State

    raw = _big_message(message_id=message_id, crlf=crlf)
    light = without_attachment_bodies(raw)
    assert len(light) < len(raw) // 10  # the PDF, the image and the zip are gone
    assert base64_lines(b"keep me").encode() in light  # text/* attachments are kept
    whole = _parse(email.message_from_bytes(raw, policy=email.policy.compat32), State())
    parsed = parse_message(raw)
    assert parsed == whole
    assert parsed.attachments == ["报价单.pdf", "原始询价.eml", "notes.txt", "specs.zip"]
    assert parsed.summary == "报价单见附件，请查收。 王芳"
    assert parsed.synthetic_id is not message_id


def test_small_and_odd_messages_are_parsed_as_they_are() -> None:
    from sync.message.lighten import without_attachment_bodies

    small = _big_message(message_id=True, crlf=True)[:20_000]
    assert without_attachment_bodies(small) is small
    no_boundary = b"Content-Type: multipart/mixed\r\n\r\n" + b"x" * 40_000
    assert without_attachment_bodies(no_boundary) is no_boundary
    single = b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    single += b"QUJD\r\n" * 10_000
    assert without_attachment_bodies(single) is single
