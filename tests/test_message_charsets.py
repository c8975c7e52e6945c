"""Charsets by evidence: what a person sees when real mail labels its text wrongly or not at
all (issue 15). Every message is built here from sample text written for the test; each case
is one that real mailboxes hold, and the assertion is the exact decoded subject, name or body.
"""

from __future__ import annotations

import base64

import pytest

from sync.message import Address, parse_message

HEAD = b"Message-ID: <m@x.example>\r\nDate: Tue, 3 Mar 2026 10:00:00 +0800\r\n"


def message(headers: bytes, body: bytes = b"Hello.\r\n") -> bytes:
    """Raw message bytes: the given header lines (CRLF-terminated), the usual ones, a body."""
    return headers + HEAD + b"\r\n" + body


def b_word(data: bytes, label: str) -> bytes:
    return b"=?" + label.encode() + b"?B?" + base64.b64encode(data) + b"?="


# -- raw 8-bit headers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "name", "codec", "shown"),
    [
        ("純商業辦公室出租", "陳育徵", "big5", "Big5-HKSCS"),
        ("Frösche und Kröten", "Jürgen Müller", "latin-1", "Windows-1252"),
        ("Formação – preços", "João Simões", "cp1252", "Windows-1252"),
        ("Çalışma saatleri değişti", "Ayşe Yılmaz", "cp1254", "Windows-1254"),
        ("您好，样品已寄出", "王芳", "gbk", "GB18030"),
        ("会議の資料をお送りします", "山田太郎", "shift_jis", "Shift_JIS"),
        ("회의 자료를 보내드립니다", "김민수", "euc-kr", "EUC-KR"),
    ],
)
def test_raw_8bit_headers_are_read_in_the_charset_they_were_written_in(
    subject: str, name: str, codec: str, shown: str
) -> None:
    """No charset anywhere in the message: the bytes alone decide."""
    data = message(
        b"From: "
        + name.encode(codec)
        + b" <a@x.example>\r\nSubject: "
        + subject.encode(codec)
        + b"\r\n"
    )
    parsed = parse_message(data)
    assert parsed.subject == subject
    assert parsed.sender == Address(name, "a@x.example")
    assert f"Subject: raw 8-bit bytes; read as {shown}" in parsed.defects
    assert parsed.headers_charset_guessed


def test_raw_big5_header_is_not_gb18030_even_with_a_utf8_body() -> None:
    parsed = parse_message(
        message(
            b"From: " + "陳育徵".encode("big5") + b" <chen@x.example.tw>\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n",
            "租金面議".encode(),
        )
    )
    assert parsed.sender == Address("陳育徵", "chen@x.example.tw")
    assert parsed.text == "租金面議"


def test_raw_utf8_name_with_one_stray_byte_keeps_the_rest() -> None:
    """One byte that is not UTF-8 costs one replacement character, not the whole name."""
    raw_name = "Юникод".encode() + b"\xa0" + " запрещен".encode()
    parsed = parse_message(message(b"From: " + raw_name + b" <u@x.example>\r\n"))
    assert parsed.sender == Address("Юникод\ufffd запрещен", "u@x.example")
    assert "From: raw 8-bit bytes; read as UTF-8" in parsed.defects


# -- encoded-words ---------------------------------------------------------------------------


def test_a_bad_byte_in_a_big5_word_costs_that_byte_only() -> None:
    broken = "報價單".encode("big5") + b"\x80" + "請查收".encode("big5")
    subject = b_word(broken, "big5") + b" " + b_word("第二版".encode(), "utf-8")
    parsed = parse_message(message(b"From: a@x.example\r\nSubject: " + subject + b"\r\n"))
    assert parsed.subject == "報價單\ufffd請查收第二版"
    assert "Subject: 1 undecodable byte(s) replaced" in parsed.defects


def test_a_bad_byte_in_a_big5_q_word_keeps_the_rest_of_the_subject() -> None:
    """The Q form, as Taiwanese webmail writes it: one stray byte, then more words."""
    import binascii

    q = binascii.b2a_qp("會議通知".encode("big5") + b"\xff", header=True).replace(b"=\n", b"")
    subject = b"Re: =?big5?Q?" + q + b"?= =?big5?B?" + base64.b64encode("附件".encode("big5"))
    parsed = parse_message(message(b"From: a@x.example\r\nSubject: " + subject + b"?=\r\n"))
    assert parsed.subject == "Re: 會議通知\ufffd附件"


def test_fallback_is_per_encoded_word() -> None:
    """Two words labelled big5; the second is really UTF-8. The first stays Big5."""
    subject = b_word("報價單".encode("big5"), "big5") + b" " + b_word("样品已寄出".encode(), "big5")
    parsed = parse_message(message(b"From: a@x.example\r\nSubject: " + subject + b"\r\n"))
    assert parsed.subject == "報價單样品已寄出"
    assert "Subject: labelled big5 but is UTF-8" in parsed.defects


def test_utf8_word_with_a_stray_byte() -> None:
    word = b_word("Юникод".encode() + b"\xff" + " запрещен".encode(), "utf-8")
    parsed = parse_message(message(b"From: " + word + b" <u@x.example>\r\n"))
    assert parsed.sender == Address("Юникод\ufffd запрещен", "u@x.example")


# -- bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "codec", "shown"),
    [
        ("Sorry, I didn’t see your mail – I’ll reply tomorrow.", "cp1252", "Windows-1252"),
        ("Grüße aus München, schöne Woche!", "latin-1", "Windows-1252"),
        ("お世話になっております。資料を添付いたします。", "shift_jis", "Shift_JIS"),
        ("お世話になっております。資料を添付いたします。", "euc_jp", "EUC-JP"),
        ("您好，报价单见附件，请查收。", "gbk", "GB18030"),
        ("報價單請見附件，謝謝。", "big5", "Big5-HKSCS"),
        ("안녕하세요, 견적서를 첨부합니다.", "euc_kr", "EUC-KR"),
        ("Здравствуйте, счёт во вложении.", "cp1251", "Windows-1251"),
    ],
)
def test_unlabelled_bodies(text: str, codec: str, shown: str) -> None:
    parsed = parse_message(
        message(b"From: a@x.example\r\nContent-Type: text/plain\r\n", text.encode(codec))
    )
    assert parsed.text == text
    assert f"text/plain: no charset; read as {shown}" in parsed.defects


def test_unlabelled_iso_2022_jp_body() -> None:
    text = "お世話になっております。"
    parsed = parse_message(message(b"From: a@x.example\r\n", text.encode("iso2022_jp")))
    assert parsed.text == text


def test_windows_1252_quotes_under_an_iso_8859_1_label() -> None:
    """WHATWG: ISO-8859-1 means Windows-1252, so 0x93/0x94 are quotes, not C1 controls."""
    text = "“Quoted” — and it’s €5"
    parsed = parse_message(
        message(
            b"From: a@x.example\r\nContent-Type: text/plain; charset=iso-8859-1\r\n",
            text.encode("cp1252"),
        )
    )
    assert parsed.text == text
    assert parsed.defects == []


def test_iso_8859_1_subject_word_with_windows_1252_quotes() -> None:
    word = b"=?ISO-8859-1?Q?=93Angebot=94_f=FCr_M=E4rz?="
    parsed = parse_message(message(b"From: a@x.example\r\nSubject: " + word + b"\r\n"))
    assert parsed.subject == "“Angebot” für März"


def test_base64_body_stops_at_the_list_footer() -> None:
    """A mailing list appends its footer, in plain text, after a GB2312 base64 body."""
    text = "各位好，本周例会改到周四下午三点。"
    encoded = base64.encodebytes(text.encode("gb2312"))
    footer = b"\r\n_______________________________________________\r\nlist mailing list\r\n"
    parsed = parse_message(
        message(
            b"From: a@x.example\r\nContent-Type: text/plain; charset=gb2312\r\n"
            b"Content-Transfer-Encoding: base64\r\n",
            encoded.replace(b"\n", b"\r\n") + footer,
        )
    )
    assert parsed.text == text
    assert "text/plain: text after the base64 data left out" in parsed.defects


def test_labelled_gbk_stays_gbk() -> None:
    """The label is trusted while the bytes decode under it: GBK-only characters too."""
    text = "朱镕基和张喆的报价"
    parsed = parse_message(
        message(
            b"From: " + b_word("张喆".encode("gbk"), "gb2312") + b" <z@x.example>\r\n"
            b"Content-Type: text/plain; charset=gb2312\r\n",
            text.encode("gbk"),
        )
    )
    assert parsed.text == text
    assert parsed.sender == Address("张喆", "z@x.example")
    assert parsed.defects == []


# -- addresses -------------------------------------------------------------------------------


def test_raw_utf8_address_comes_back_exactly() -> None:
    parsed = parse_message(
        message("From: Dang <danglüe@email.example>\r\nTo: danglüe@email.example\r\n".encode())
    )
    assert parsed.sender == Address("Dang", "danglüe@email.example")
    assert parsed.to == [Address("", "danglüe@email.example")]
    assert parsed.defects == []


def test_raw_address_that_is_not_utf8_is_refused_clearly() -> None:
    parsed = parse_message(
        message(
            b"From: Dang <dangl\xfce@email.example>\r\nTo: b@x.example, m\xfcller@x.example\r\n"
        )
    )
    assert parsed.sender is None
    assert parsed.to == [Address("", "b@x.example")]
    assert (
        "From: address dangl\\xfce@email.example has 8-bit bytes that are not UTF-8; left out"
        in parsed.defects
    )
    assert "To: address m\\xfcller@x.example has 8-bit bytes that are not UTF-8; left out" in (
        parsed.defects
    )


# -- the fast split ---------------------------------------------------------------------------


def tree(message: object) -> object:
    """Everything compat32's parser stores for a message tree, comparable with ``==``."""
    from email.message import Message

    assert isinstance(message, Message)
    payload = message._payload  # type: ignore[attr-defined]
    return (
        message._headers,  # type: ignore[attr-defined]
        [type(d) for d in message.defects],
        message.get_unixfrom(),
        message.preamble,
        message.epilogue,
        message.get_default_type(),
        [tree(p) for p in payload] if isinstance(payload, list) else payload,
    )


MIXED = (
    b'From: a@x.example\r\nContent-Type: multipart/mixed; boundary="OUT"\r\n\r\n'
    b"preamble\r\n--OUT\r\nContent-Type: multipart/alternative; boundary=IN\r\n\r\n"
    b"--IN\r\nContent-Type: text/plain\r\n\r\nplain\r\n--IN\r\n"
    b"Content-Type: text/html\r\n\r\n<p>html</p>\r\n--IN--\r\ninner epilogue\r\n"
    b"--OUT  \r\n\r\nno headers\r\n--OUTER not a boundary\r\n--OUT--\r\nepilogue\r\n"
)


@pytest.mark.parametrize(
    "data",
    [
        b"From: a@x.example\r\nSubject: hi  \r\n\r\nbody\r\nline 2\r\n",
        b"From: a@x.example\nSubject: folded\n\tover two lines\n\nbody\n",
        b"Subject:   \r\n\tstarts on the next line\r\nTo: b@x.example\r\n\r\n",
        b"Subject: " + "Frösche".encode("latin-1") + b"\r\n\r\n" + "Grüße".encode("latin-1"),
        b"Subject: x\r\nContent-Type: text/plain\r\n\r\n\r\nblank first line\r\n",
        MIXED,
        MIXED.replace(b"\r\n", b"\n"),
        MIXED[: MIXED.rindex(b"--OUT--")] + b"--OUT--",  # closing boundary at the very end
        # what goes to the standard parser: odd structure, odd lines, mbox From, bare CR
        b"Content-Type:\r\n multipart/mixed; boundary=B\r\n\r\n--B\r\n\r\npart\r\n--B--\r\n",
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n\r\nno closing line\r\n",
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n--B\r\n\r\nx\r\n--B--\r\n",
        b"Content-Type: multipart/mixed\r\n\r\nno boundary parameter\r\n",
        b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ntext\r\n",
        b"From a@x Tue Mar  3 10:00:00 2026\r\nSubject: mbox\r\n\r\nbody\r\n",
        b"Subject: x\r\nnot a header line\r\n\r\nbody\r\n",
        b"Subject: bare\rCR\r\n\r\nbody\r\n",
        b"Subject: only headers\r\n",
        b": no name\r\nSubject: x\r\n\r\nbody\r\n",
    ],
)
def test_fast_split_is_the_standard_split(data: bytes) -> None:
    """``sync.message.split`` builds exactly the tree ``email.message_from_bytes`` (compat32)
    builds: headers as stored, payloads, preambles, epilogues, defects."""
    import email
    from email.policy import compat32

    from sync.message.split import message_from_bytes

    ours, theirs = message_from_bytes(data), email.message_from_bytes(data, policy=compat32)
    assert tree(ours) == tree(theirs)


def test_fast_split_takes_the_everyday_shapes() -> None:
    from sync.message.split import fast_split

    assert fast_split(MIXED.decode("ascii")) is not None
    assert fast_split("Subject: x\r\n\r\nbody\r\n") is not None
    assert fast_split("Content-Type: message/rfc822\r\n\r\nSubject: y\r\n\r\nz\r\n") is None
