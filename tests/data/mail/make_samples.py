"""Write the sample messages in this folder, byte for byte, and say what each one is.

Each ``.eml`` here is what a mailbox backend would hand to ``sync.message.parse_message``:
raw RFC 5322 bytes with CRLF line ends, in the shapes real mail programs send (Outlook,
QQ Mail, NetEase, Gmail, Postfix, Chinese providers' postmasters), including their mistakes.
The function that builds each file says which case it is; tests/test_message.py asserts what
a person would see when the file is read.

The files are committed so that a reader can open them; this script is the record of how
they were made. It is deterministic (no clocks, no random numbers), so running it again
rewrites the same bytes::

    python tests/data/mail/make_samples.py           # (re)write every .eml
    python tests/data/mail/make_samples.py --check   # exit 1 when a file differs

All names, addresses and numbers are invented; domains are example.com/.cn/.org/.net.
"""

from __future__ import annotations

import base64
import binascii
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
CRLF = b"\r\n"

Header = tuple[str, "str | bytes"]
SAMPLES: dict[str, Callable[[], bytes]] = {}


def sample(name: str) -> Callable[[Callable[[], bytes]], Callable[[], bytes]]:
    """Register a builder under the file name it writes."""

    def register(build: Callable[[], bytes]) -> Callable[[], bytes]:
        SAMPLES[name] = build
        return build

    return register


# ---------------------------------------------------------------------------------------------
# Building blocks


def crlf(data: bytes) -> bytes:
    """Any line ends → CRLF, as on the wire."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", CRLF)


def message(headers: list[Header], body: bytes) -> bytes:
    """Header lines (values as given: str is ASCII, bytes are raw 8-bit) + blank line + body."""
    lines = []
    for name, value in headers:
        raw = value if isinstance(value, bytes) else value.encode("ascii")
        lines.append(name.encode("ascii") + b": " + crlf(raw))
    return CRLF.join(lines) + CRLF + CRLF + crlf(body)


def b64(data: bytes) -> bytes:
    """Base64 in 76-character lines, as MIME encoders write it."""
    encoded = base64.b64encode(data)
    return b"\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + b"\n"


def qp(data: bytes) -> bytes:
    """Quoted-printable body text (soft line breaks at 76)."""
    return binascii.b2a_qp(data.replace(b"\r\n", b"\n"))


def word(text: str | bytes, charset: str, encoding: str = "B") -> str:
    """One RFC 2047 encoded-word (bytes: already in the charset)."""
    data = text if isinstance(text, bytes) else text.encode(charset)
    if encoding == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode('ascii')}?="
    quoted = binascii.b2a_qp(data, header=True).decode("ascii").replace("=\n", "")
    return f"=?{charset}?Q?{quoted}?="


def gbk(text: str) -> bytes:
    return text.encode("gbk")


def multipart(boundary: str, parts: list[bytes], preamble: bytes = b"") -> bytes:
    """A multipart body: each part is its own headers + body (see ``message``)."""
    out = preamble
    for part in parts:
        out += b"--" + boundary.encode() + CRLF + part + CRLF
    return out + b"--" + boundary.encode() + b"--" + CRLF


def part(headers: list[Header], body: bytes) -> bytes:
    return message(headers, body).rstrip(b"\r\n")


# ---------------------------------------------------------------------------------------------
# The samples

ALICE_BODY = """Hi Zhang,

Could you send us a quote for 500 units of the X200 controller, delivered
to Rotterdam by the end of April? We would also like to know the lead time
for a further 2,000 units.

Thanks,
Alice

--\x20
Alice Smith | Purchasing | Example Trading B.V.
+31 10 555 0100
"""


@sample("plain_utf8_english.eml")
def plain_utf8_english() -> bytes:
    """Plain UTF-8 English from a Western customer: a display name with a comma (quoted), a
    capitalised address, a "Thanks," sign-off and a "-- " signature."""
    return message(
        [
            ("Return-Path", "<alice.smith@example.com>"),
            (
                "Received",
                "from mail.example.com (mail.example.com [192.0.2.10])\n\tby mx.example.cn "
                "with ESMTPS id 4F2A1; Tue, 03 Mar 2026 09:15:02 +0800",
            ),
            ("From", '"Alice Smith" <Alice.Smith@Example.COM>'),
            ("To", 'Zhang San <zhang.san@example.cn>, "Li, Wei" <li.wei@example.cn>'),
            ("Cc", "sales@example.cn"),
            ("Subject", "Quote request for\n 500 units"),
            ("Date", "Mon, 2 Mar 2026 20:14:55 -0500"),
            ("Message-ID", "<CAF+3kq7xYz@mail.Example.COM>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", 'text/plain; charset="UTF-8"'),
            ("Content-Transfer-Encoding", "7bit"),
        ],
        ALICE_BODY.encode("utf-8"),
    )


@sample("gb2312_label_gbk_body.eml")
def gb2312_label_gbk_body() -> bytes:
    """Labelled GB2312 but really GBK: 喆 and 镕 are not in GB2312 (Python's gb2312 codec
    fails on them), in the body, the subject and the sender's name."""
    body = (
        "王经理：\n\n您好！喆镕贸易的样品已于今天寄出，快递单号 SF1234567890。\n"
        "请查收后回复确认。\n\n此致\n敬礼\n\n张喆\n喆镕贸易有限公司\n"
    )
    for text in ("喆", "镕"):
        try:
            text.encode("gb2312")
        except UnicodeEncodeError:
            continue
        raise AssertionError(f"{text} is in GB2312: the sample would prove nothing")
    return message(
        [
            ("From", f"{word(gbk('张喆'), 'gb2312')} <zhang.zhe@example.cn>"),
            ("To", f"{word(gbk('王经理'), 'gb2312')} <wang.li@example.com.cn>"),
            ("Subject", word(gbk("喆镕贸易：样品寄送确认"), "gb2312")),
            ("Date", "Wed, 04 Mar 2026 16:02:11 +0800"),
            ("Message-ID", "<5f1e2a.7c3b@example.cn>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=gb2312"),
            ("Content-Transfer-Encoding", "base64"),
        ],
        b64(crlf(gbk(body))),
    )


@sample("gbk_subject_split_words.eml")
def gbk_subject_split_words() -> bytes:
    """A GBK subject in two B encoded-words split in the middle of a character (the first
    word ends with a lead byte), folded onto two lines. The sender's name is split the same
    way across words labelled ``gb2312`` and ``GBK``: a gateway re-encoded half of it."""
    subject = gbk("关于下季度订单的安排")
    name = gbk("欧阳晓明")
    return message(
        [
            ("From", f"{word(name[:3], 'gb2312')} {word(name[3:], 'GBK')} <ouyang@example.cn>"),
            ("To", "sales@example.cn"),
            ("Subject", f"{word(subject[:7], 'GBK')}\n {word(subject[7:], 'GBK')}"),
            ("Date", "Thu, 05 Mar 2026 08:30:00 +0800"),
            ("Message-ID", "<split.words.20260305@example.cn>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "8bit"),
        ],
        "下季度的订单请按附表安排生产。\n".encode(),
    )


@sample("x_gbk_label.eml")
def x_gbk_label() -> bytes:
    """The ``x-gbk`` label (Python has no such codec) on a quoted-printable body and a Q
    encoded-word subject, ending in a "发自我的iPhone" mobile signature."""
    body = "李经理您好：\n附件是修改后的合同，请过目。\n\n发自我的iPhone\n"
    return message(
        [
            ("From", "Chen Jing <chen.jing@example.cn>"),
            ("To", "li.jl@example.com.cn"),
            ("Subject", word(gbk("合同修改稿"), "x-gbk", "Q")),
            ("Date", "Thu, 05 Mar 2026 21:47:03 +0800"),
            ("Message-ID", "<iphone.x-gbk.0305@example.cn>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", 'text/plain; charset="x-gbk"'),
            ("Content-Transfer-Encoding", "quoted-printable"),
        ],
        qp(gbk(body)),
    )


@sample("raw_8bit_gbk_headers.eml")
def raw_8bit_gbk_headers() -> bytes:
    """Raw (unencoded) GBK bytes in From, To and Subject, as some old Chinese mail programs
    and scripts send them; the body says GBK."""
    return message(
        [
            ("From", gbk("陈晓明") + b" <chen.xm@example.cn>"),
            ("To", b'"' + gbk("销售部") + b'" <sales@example.cn>'),
            ("Subject", gbk("样品已寄出，请查收")),
            ("Date", "Fri, 06 Mar 2026 11:05:45 +0800"),
            ("Message-ID", "<raw8bit.0306@example.cn>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=GBK"),
            ("Content-Transfer-Encoding", "8bit"),
        ],
        gbk("样品已于今天通过顺丰寄出，单号 SF9876543210。\n"),
    )


QQ_HTML = (
    '<meta http-equiv="Content-Type" content="text/html; charset=GB18030">'
    '<style>body{font-size:14px;font-family:"Microsoft YaHei"} td{padding:4px}</style>'
    "<div>王总：</div><div>&nbsp; &nbsp; 您好！以下是本月的发货明细：</div>"
    '<table border="1" cellspacing="0"><tbody>'
    "<tr><th>产品</th><th>数量</th><th>单价</th></tr>"
    "<tr><td>X200 控制器</td><td>500</td><td>&yen;120.00</td></tr>"
    "<tr><td>喆镕 传感器</td><td>1,200</td><td>&yen;35.50</td></tr>"
    "</tbody></table><div><br></div>"
    "<div>如有问题请随时联系。&lt;附件另发&gt;</div><div><br></div>"
    "<div>此致</div><div>敬礼</div><div>张喆</div>"
    "<script>document.title='x'</script>"
)


@sample("qq_html_only.eml")
def qq_html_only() -> bytes:
    """HTML-only mail as QQ Mail's web client sends it: gb18030, base64, a quoted
    encoded-word display name, <style>, a table, &nbsp; and &yen; entities, a <script>."""
    return message(
        [
            ("From", f'"{word("张喆", "gb18030")}" <10001234@qq.com>'),
            ("To", f'"{word("王总", "gb18030")}" <wang.zong@example.cn>'),
            ("Subject", word("三月发货明细", "gb18030")),
            ("Mime-Version", "1.0"),
            ("Content-Type", 'text/html;\n\tcharset="gb18030"'),
            ("Content-Transfer-Encoding", "base64"),
            ("Date", "Sat, 7 Mar 2026 10:11:12 +0800"),
            ("X-Priority", "3"),
            ("Message-ID", "<tencent_3C4D5E6F@qq.com>"),
            ("X-QQ-MIME", "TCMime 1.0 by Tencent"),
            ("X-Mailer", "QQMail 2.x"),
        ],
        b64(QQ_HTML.encode("gb18030")),
    )


@sample("multipart_alternative.eml")
def multipart_alternative() -> bytes:
    """multipart/alternative with a UTF-8 quoted-printable text part and an HTML part that
    says something slightly different: the text part is the one read."""
    plain = (
        "Hi 王芳,\n\nThe meeting is moved to Thursday 10:00 (周四上午十点).\n"
        "The agenda follows next week.\n\nBest regards,\nTom\n"
    )
    html = "<p>Hi 王芳,</p><p>The meeting is moved to <b>Thursday</b> 10:00.</p>"
    boundary = "000000000000a1b2c3d4e5f6"
    return message(
        [
            ("MIME-Version", "1.0"),
            ("Date", "Mon, 9 Mar 2026 02:12:00 +0000"),
            ("Message-ID", "<CAGmeeting+thursday@mail.example.com>"),
            ("Subject", "Meeting moved to Thursday"),
            ("From", "Tom Brown <tom.brown@example.com>"),
            ("To", f"{word('王芳', 'utf-8')} <wang.fang@example.cn>"),
            ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
        ],
        multipart(
            boundary,
            [
                part(
                    [
                        ("Content-Type", 'text/plain; charset="UTF-8"'),
                        ("Content-Transfer-Encoding", "quoted-printable"),
                    ],
                    qp(plain.encode("utf-8")),
                ),
                part(
                    [
                        ("Content-Type", 'text/html; charset="UTF-8"'),
                        ("Content-Transfer-Encoding", "quoted-printable"),
                    ],
                    qp(html.encode("utf-8")),
                ),
            ],
        ),
    )


@sample("attachment_names.eml")
def attachment_names() -> bytes:
    """Attachment names in every encoding seen in the wild: RFC 2231 UTF-8
    (``filename*=UTF-8''…``), a GBK RFC 2047 word inside quotes (Outlook, Foxmail), raw GBK
    bytes, and RFC 2231 continuations in GB2312. The HTML body sits in multipart/related
    with an inline logo (Content-ID), which is not an attachment."""
    html = (
        "<p>Please find the quotation and the draft contract attached.</p>"
        '<p>请查收附件中的报价单和合同草案。</p><img src="cid:logo@example.cn">'
    )
    outer, related = "----=_Part_1_outer", "----=_Part_2_related"
    gbk_name = word(gbk("合同草案（第二版）.docx"), "GBK")
    packing = gbk("装箱清单.txt")
    packing_1 = "".join(f"%{b:02X}" for b in packing[:4])
    packing_2 = "".join(f"%{b:02X}" for b in packing[4:8]) + ".txt"
    return message(
        [
            ("From", "Li Wei <li.wei@example.cn>"),
            ("To", "Alice Smith <alice.smith@example.com>"),
            ("Subject", "Quotation and draft contract"),
            ("Date", "Tue, 10 Mar 2026 15:20:00 +0800"),
            ("Message-ID", "<attachments.0310@example.cn>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", f'multipart/mixed; boundary="{outer}"'),
        ],
        multipart(
            outer,
            [
                part(
                    [("Content-Type", f'multipart/related; boundary="{related}"')],
                    multipart(
                        related,
                        [
                            part(
                                [
                                    ("Content-Type", "text/html; charset=utf-8"),
                                    ("Content-Transfer-Encoding", "base64"),
                                ],
                                b64(html.encode("utf-8")),
                            ),
                            part(
                                [
                                    ("Content-Type", 'image/png; name="logo.png"'),
                                    ("Content-Disposition", 'inline; filename="logo.png"'),
                                    ("Content-ID", "<logo@example.cn>"),
                                    ("Content-Transfer-Encoding", "base64"),
                                ],
                                b64(b"\x89PNG\r\n\x1a\n" + bytes(16)),
                            ),
                        ],
                    ),
                ),
                part(
                    [
                        ("Content-Type", "application/pdf"),
                        (
                            "Content-Disposition",
                            "attachment;\n filename*=UTF-8''%E6%8A%A5%E4%BB%B7%E5%8D%95%202026.pdf",
                        ),
                        ("Content-Transfer-Encoding", "base64"),
                    ],
                    b64(b"%PDF-1.4\n%%EOF\n"),
                ),
                part(
                    [
                        (
                            "Content-Type",
                            "application/vnd.openxmlformats-officedocument.wordprocessingml"
                            f'.document;\n name="{gbk_name}"',
                        ),
                        ("Content-Disposition", f'attachment;\n filename="{gbk_name}"'),
                        ("Content-Transfer-Encoding", "base64"),
                    ],
                    b64(b"PK\x03\x04"),
                ),
                part(
                    [
                        ("Content-Type", "application/vnd.ms-excel"),
                        (
                            "Content-Disposition",
                            b'attachment; filename="' + gbk("发票明细.xls") + b'"',
                        ),
                        ("Content-Transfer-Encoding", "base64"),
                    ],
                    b64(b"\xd0\xcf\x11\xe0"),
                ),
                part(
                    [
                        ("Content-Type", "text/plain; charset=gb2312"),
                        (
                            "Content-Disposition",
                            f"attachment;\n filename*0*=gb2312''{packing_1};\n"
                            f" filename*1*={packing_2}",
                        ),
                        ("Content-Transfer-Encoding", "base64"),
                    ],
                    b64(gbk("X200 控制器 500 台\n")),
                ),
            ],
        ),
    )


@sample("missing_message_id.eml")
def missing_message_id() -> bytes:
    """No Message-ID at all (a script that sends through a relay that does not add one):
    the parser makes a synthetic id from Date, From, To, Subject and text."""
    return message(
        [
            ("From", "ERP System <erp@example.cn>"),
            ("To", "zhang.san@example.cn"),
            ("Subject", word("订单 PO-2026-0311 已审核", "utf-8")),
            ("Date", "Wed, 11 Mar 2026 09:00:00 +0800"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "base64"),
        ],
        b64("订单 PO-2026-0311 已由财务审核通过，请安排发货。\n".encode()),
    )


@sample("duplicate_message_id.eml")
def duplicate_message_id() -> bytes:
    """Two Message-ID headers (a relay added its own instead of keeping the first): the first
    one is the message's id, and the duplication is a defect."""
    return message(
        [
            ("Message-ID", "<20260312.1234@mail.example.cn>"),
            ("From", "Wang Fang <wang.fang@example.cn>"),
            ("To", "tom.brown@example.com"),
            ("Subject", "Re: Meeting moved to Thursday"),
            ("Date", "Thu, 12 Mar 2026 08:00:00 +0800"),
            ("In-Reply-To", "<CAGmeeting+thursday@mail.example.com>"),
            ("References", "<CAGmeeting+thursday@mail.example.com>"),
            ("Message-ID", "<dup-5678@relay.example.net>"),
            ("Content-Type", "text/plain; charset=us-ascii"),
        ],
        b"Thursday 10:00 works for me.\n",
    )


OUTLOOK_REPLY = f"""Hi Alice,

Yes, 500 units by the end of April is fine. Price: USD 118 per unit, FOB Shanghai.

Best regards
Li Wei
Sales Manager | 上海示例贸易有限公司

-----Original Message-----
From: Alice Smith <alice.smith@example.com>
Sent: Tuesday, March 3, 2026 9:15 AM
To: Li Wei <li.wei@example.cn>
Subject: Quote request for 500 units

{ALICE_BODY}"""


@sample("outlook_reply_original_message.eml")
def outlook_reply_original_message() -> bytes:
    """An Outlook reply: "RE:" subject, In-Reply-To/References, a gb2312 base64 text part
    with a "Best regards" sign-off and signature above "-----Original Message-----"."""
    boundary = "_000_SG2PR01MB1234ABCD_"
    html = (
        "<html><body><p>Hi Alice,</p>"
        "<p>Yes, 500 units by the end of April is fine.</p></body></html>"
    )
    return message(
        [
            ("From", "Li Wei <li.wei@example.cn>"),
            ("To", "Alice Smith <alice.smith@example.com>"),
            ("Subject", "RE: Quote request for 500 units"),
            ("Thread-Topic", "Quote request for 500 units"),
            ("Date", "Tue, 3 Mar 2026 02:40:11 +0000"),
            ("Message-ID", "<SG2PR01MB1234ABCD5678@SG2PR01MB1234.apcprd01.prod.outlook.com>"),
            ("References", "<CAF+3kq7xYz@mail.Example.COM>"),
            ("In-Reply-To", "<CAF+3kq7xYz@mail.Example.COM>"),
            ("Content-Language", "zh-CN"),
            ("X-MS-Has-Attach", ""),
            ("MIME-Version", "1.0"),
            ("Content-Type", f'multipart/alternative;\n\tboundary="{boundary}"'),
        ],
        multipart(
            boundary,
            [
                part(
                    [
                        ("Content-Type", 'text/plain; charset="gb2312"'),
                        ("Content-Transfer-Encoding", "base64"),
                    ],
                    b64(crlf(gbk(OUTLOOK_REPLY))),
                ),
                part(
                    [
                        ("Content-Type", 'text/html; charset="gb2312"'),
                        ("Content-Transfer-Encoding", "base64"),
                    ],
                    b64(gbk(html)),
                ),
            ],
        ),
    )


@sample("outlook_cn_reply_header_block.eml")
def outlook_cn_reply_header_block() -> bytes:
    """A Chinese Outlook reply without an "Original Message" line: a rule of underscores,
    then a 发件人:/发送时间:/收件人:/主题: block (full-width colons), and "谢谢！" + name."""
    body = """王芳，

价格已确认，合同今天下午发给您。

谢谢！
李伟

________________________________
发件人： 王芳 <wang.fang@example.cn>
发送时间： 2026年3月12日 9:30
收件人： 李伟 <li.wei@example.cn>
主题： 价格确认

李伟，请确认最终价格。
"""
    return message(
        [
            ("From", f"{word('李伟', 'utf-8')} <li.wei@example.cn>"),
            ("To", f"{word('王芳', 'utf-8')} <wang.fang@example.cn>"),
            ("Subject", word("答复: 价格确认", "utf-8")),
            ("Date", "Thu, 12 Mar 2026 14:03:27 +0800"),
            ("Message-ID", "<TYCPR01MB5555@TYCPR01MB5555.jpnprd01.prod.outlook.com>"),
            ("In-Reply-To", "<price.confirm.0312@example.cn>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", 'text/plain; charset="utf-8"'),
            ("Content-Transfer-Encoding", "base64"),
        ],
        b64(crlf(body.encode())),
    )


QQ_REPLY_HTML = (
    "<div>收到，谢谢！周四见。</div><div><br></div>"
    '<div style="font-size: 12px;font-family: Arial Narrow;padding:2px 0 2px 0;">'
    "------------------&nbsp;原始邮件&nbsp;------------------</div>"
    '<div style="font-size: 12px;background:#efefef;padding:8px;">'
    '<div><b>发件人:</b>&nbsp;"Tom Brown"&lt;tom.brown@example.com&gt;;</div>'
    "<div><b>发送时间:</b>&nbsp;2026年3月9日(星期一) 上午10:12</div>"
    '<div><b>收件人:</b>&nbsp;"王芳"&lt;wang.fang@example.cn&gt;;</div>'
    "<div></div><div><b>主题:</b>&nbsp;Meeting moved to Thursday</div></div><div><br></div>"
    "<p>Hi 王芳,</p><p>The meeting is moved to <b>Thursday</b> 10:00.</p>"
)


@sample("qq_reply_original_mail.eml")
def qq_reply_original_mail() -> bytes:
    """A QQ Mail reply, HTML only (gb18030): the new text, then the
    "------------------&nbsp;原始邮件&nbsp;------------------" block with bold 发件人: fields."""
    return message(
        [
            ("From", f'"{word("王芳", "gb18030")}" <wang.fang@example.cn>'),
            ("To", '"Tom Brown" <tom.brown@example.com>'),
            ("Subject", word("回复：Meeting moved to Thursday", "gb18030")),
            ("Mime-Version", "1.0"),
            ("Content-Type", 'text/html;\n\tcharset="gb18030"'),
            ("Content-Transfer-Encoding", "base64"),
            ("Date", "Mon, 9 Mar 2026 10:31:05 +0800"),
            ("Message-ID", "<tencent_9A8B7C6D@qq.com>"),
            ("In-Reply-To", "<CAGmeeting+thursday@mail.example.com>"),
            ("References", "<CAGmeeting+thursday@mail.example.com>"),
        ],
        b64(QQ_REPLY_HTML.encode("gb18030")),
    )


@sample("gmail_inline_reply.eml")
def gmail_inline_reply() -> bytes:
    """Interleaved answers under a Gmail "On … wrote:" line wrapped onto two lines: the
    quoted ">" lines go, the answers between them stay."""
    body = """Answers below.

On Tue, Mar 3, 2026 at 9:15 AM Zhang San <
zhang.san@example.cn> wrote:

> Can you take 500 units?

Yes, all 500.

> And the lead time for 2,000 more?

Six weeks from the order.
"""
    return message(
        [
            ("From", "Alice Smith <alice.smith@example.com>"),
            ("To", "Zhang San <zhang.san@example.cn>"),
            ("Subject", "Re: Lead times"),
            ("Date", "Wed, 4 Mar 2026 01:02:03 +0100"),
            ("Message-ID", "<CAF+reply.inline@mail.example.com>"),
            ("In-Reply-To", "<lead.times@example.cn>"),
            ("References", "<first@example.cn>\n <lead.times@example.cn> <LEAD.TIMES@example.cn>"),
            ("Content-Type", 'text/plain; charset="UTF-8"; format=flowed'),
        ],
        body.encode(),
    )


@sample("netease_reply_xiedao.eml")
def netease_reply_xiedao() -> bytes:
    """A NetEase (163) reply in plain text: the new text, then "在 …，"王芳" <…> 写道："
    and the old message without ">" marks."""
    body = """好的，明天上午十点电话沟通。



在 2026-03-12 10:15:00，"王芳" <wang.fang@example.cn> 写道：

李总，明天方便电话沟通一下交期吗？
"""
    return message(
        [
            ("From", f'"{word("李总", "UTF-8")}" <li.zong@example.com.cn>'),
            ("To", "wang.fang@example.cn"),
            ("Subject", word("Re:交期沟通", "UTF-8")),
            ("Date", "Thu, 12 Mar 2026 11:20:00 +0800 (CST)"),
            ("Message-ID", "<7a1b2c3d.4e5f.18e2a3b4c5d.Coremail.li.zong@example.com.cn>"),
            ("X-Mailer", "Coremail Webmail Server Version XT5.0.14"),
            ("Content-Type", "text/plain; charset=UTF-8"),
            ("Content-Transfer-Encoding", "base64"),
        ],
        b64(crlf(body.encode())),
    )


@sample("auto_reply_auto_submitted.eml")
def auto_reply_auto_submitted() -> bytes:
    """An Exchange auto-reply known only by its headers (Auto-Submitted: auto-replied); the
    subject is an ordinary "Re:"."""
    return message(
        [
            ("From", "Li Wei <li.wei@example.cn>"),
            ("To", "Alice Smith <alice.smith@example.com>"),
            ("Subject", "Re: Quote request for 500 units"),
            ("Date", "Tue, 3 Mar 2026 01:15:09 +0000"),
            ("Message-ID", "<auto.0303@example.cn>"),
            ("In-Reply-To", "<CAF+3kq7xYz@mail.Example.COM>"),
            ("Auto-Submitted", "auto-replied"),
            ("X-Auto-Response-Suppress", "All"),
            ("Content-Type", "text/plain; charset=us-ascii"),
        ],
        b"I am out of the office until 10 March with limited access to e-mail.\n"
        b"For urgent matters please contact sales@example.cn.\n",
    )


@sample("out_of_office_chinese.eml")
def out_of_office_chinese() -> bytes:
    """A Chinese out-of-office reply known only by its subject "自动回复：…" (no
    Auto-Submitted header, as many Chinese webmail services send them)."""
    return message(
        [
            ("From", f"{word('王芳', 'utf-8')} <wang.fang@example.cn>"),
            ("To", "zhang.san@example.cn"),
            ("Subject", word("自动回复：关于下季度订单的安排", "utf-8")),
            ("Date", "Fri, 13 Mar 2026 09:00:01 +0800"),
            ("Message-ID", "<ooo.0313@example.cn>"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "8bit"),
        ],
        (
            "您好，我于3月13日至3月20日休假，期间邮件回复可能延迟。紧急事务请联系 13800138000。\n"
        ).encode(),
    )


@sample("dsn_multipart_report.eml")
def dsn_multipart_report() -> bytes:
    """A Postfix RFC 3464 bounce: multipart/report; report-type=delivery-status, one failed
    recipient (folded Diagnostic-Code), one only delayed (not a failure), and the original
    message returned as message/rfc822."""
    boundary = "4F2A1.1741000000/mx.example.cn"
    explanation = """This is the mail system at host mx.example.cn.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<nobody@example.org>: host mx.example.org[192.0.2.25] said: 550 5.1.1
    <nobody@example.org>: Recipient address rejected: User unknown (in reply
    to RCPT TO command)
"""
    status = """Reporting-MTA: dns; mx.example.cn
X-Postfix-Queue-ID: 4F2A1
Arrival-Date: Tue,  3 Mar 2026 10:15:00 +0800 (CST)

Final-Recipient: rfc822; Nobody@Example.org
Original-Recipient: rfc822;nobody@example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>: Recipient address
    rejected: User unknown (in reply to RCPT TO command)

Final-Recipient: rfc822; slow@example.net
Action: delayed
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mx.example.net[192.0.2.80]:25: Connection
    timed out
"""
    original = message(
        [
            ("From", "sales@example.cn"),
            ("To", "nobody@example.org, slow@example.net"),
            ("Subject", "Price list 2026"),
            ("Date", "Tue, 3 Mar 2026 10:14:58 +0800"),
            ("Message-ID", "<20260303101458.ABCD@mail.Example.cn>"),
            ("Content-Type", "text/plain; charset=us-ascii"),
        ],
        b"Please find our 2026 price list below.\n",
    )
    return message(
        [
            ("Return-Path", "<>"),
            ("From", "MAILER-DAEMON@mx.example.cn (Mail Delivery System)"),
            ("To", "sales@example.cn"),
            ("Subject", "Undelivered Mail Returned to Sender"),
            ("Date", "Tue,  3 Mar 2026 10:15:03 +0800 (CST)"),
            ("Message-Id", "<20260303021503.5B6C7@mx.example.cn>"),
            ("Auto-Submitted", "auto-replied"),
            ("MIME-Version", "1.0"),
            (
                "Content-Type",
                f'multipart/report; report-type=delivery-status;\n\tboundary="{boundary}"',
            ),
            ("Content-Transfer-Encoding", "8bit"),
        ],
        multipart(
            boundary,
            [
                part(
                    [
                        ("Content-Description", "Notification"),
                        ("Content-Type", "text/plain; charset=us-ascii"),
                    ],
                    explanation.encode(),
                ),
                part(
                    [
                        ("Content-Description", "Delivery report"),
                        ("Content-Type", "message/delivery-status"),
                    ],
                    status.encode(),
                ),
                part(
                    [
                        ("Content-Description", "Undelivered Message"),
                        ("Content-Type", "message/rfc822"),
                    ],
                    original,
                ),
            ],
            preamble=b"This is a MIME-encapsulated message.\n\n",
        ),
    )


@sample("bounce_chinese_provider.eml")
def bounce_chinese_provider() -> bytes:
    """A Chinese provider's own bounce ("系统退信" from its postmaster), not RFC 3464: a GBK
    explanation naming the failed address and the SMTP reply, then the original headers
    quoted inline under "----- 原邮件头 -----"."""
    body = """您好，

很抱歉，您的邮件未能成功投递到以下收件人：

    wang.fang@example.com.cn

退信原因：收件人邮箱不存在 (550 5.1.1 Mailbox not found)

----- 原邮件头 -----
Received: from mail.example.cn (unknown [192.0.2.10])
\tby mx.example.com.cn with SMTP id 8a7b6c; Wed, 11 Mar 2026 14:00:02 +0800
Message-ID: <order.0311.1400@Example.cn>
From: sales@example.cn
To: wang.fang@example.com.cn
Subject: =?utf-8?B?6K6i5Y2V56Gu6K6k?=
"""
    return message(
        [
            ("From", f"{word(gbk('系统管理员'), 'GBK')} <postmaster@mail.example.com.cn>"),
            ("To", "sales@example.cn"),
            ("Subject", word(gbk("系统退信"), "GBK")),
            ("Date", "Wed, 11 Mar 2026 14:00:05 +0800"),
            ("Message-ID", "<bounce.0311@mail.example.com.cn>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=GBK"),
            ("Content-Transfer-Encoding", "base64"),
        ],
        b64(crlf(gbk(body))),
    )


@sample("bounce_failure_rfc822_headers.eml")
def bounce_failure_rfc822_headers() -> bytes:
    """A "Delivery Status Notification (Failure)" that is multipart/mixed, not
    multipart/report, with the original headers attached as text/rfc822-headers."""
    boundary = "bounce-boundary-42"
    return message(
        [
            ("From", "Mail Delivery Subsystem <mailer-daemon@example.net>"),
            ("To", "tom.brown@example.com"),
            ("Subject", "Delivery Status Notification (Failure)"),
            ("Date", "Sat, 14 Mar 2026 08:00:00 +0000"),
            ("Message-ID", "<dsn.failure.0314@example.net>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", f'multipart/mixed; boundary="{boundary}"'),
        ],
        multipart(
            boundary,
            [
                part(
                    [("Content-Type", "text/plain; charset=UTF-8")],
                    b"Delivery to the following recipient failed permanently:\n\n"
                    b"     li.si@example.org\n\n"
                    b"Technical details of permanent failure:\n"
                    b"The recipient server did not accept our requests.\n"
                    b"550 5.2.1 The email account that you tried to reach is disabled.\n",
                ),
                part(
                    [("Content-Type", "text/rfc822-headers; charset=UTF-8")],
                    b"From: Tom Brown <tom.brown@example.com>\n"
                    b"To: li.si@example.org\n"
                    b"Subject: Catalogue\n"
                    b"Message-ID:\n <CAG.catalogue.0314@mail.example.com>\n",
                ),
            ],
        ),
    )


@sample("broken_date_received.eml")
def broken_date_received() -> bytes:
    """A Date header nobody can read (day 32, hour 25): the date is taken from the newest
    Received header, which is not the first one here."""
    return message(
        [
            (
                "Received",
                "from relay.example.net by mx.example.cn; Tue, 03 Mar 2026 02:19:58 +0000",
            ),
            (
                "Received",
                "from mx.example.cn by store.example.cn; Tue, 03 Mar 2026 10:20:05 +0800",
            ),
            ("From", "Old Client <old.client@example.net>"),
            ("To", "sales@example.cn"),
            ("Subject", "Order status?"),
            ("Date", "Tue, 32 Mar 2026 25:61:00 +0800"),
            ("Message-ID", "<broken.date@example.net>"),
            ("Content-Type", "text/plain"),
        ],
        b"Any news on our order?\n",
    )


@sample("broken_base64_padding.eml")
def broken_base64_padding() -> bytes:
    """Base64 with its padding cut off, in a subject encoded-word and in the body (plus a
    dangling character from a truncated line)."""
    subject = base64.b64encode("发货通知".encode()).decode().rstrip("=")
    body = base64.b64encode("货物已发出，预计三天到达。\n".encode()).rstrip(b"=")
    assert len(body) % 4, "the sample needs a body whose padding is missing"
    return message(
        [
            ("From", "Logistics <logistics@example.cn>"),
            ("To", "zhang.san@example.cn"),
            ("Subject", f"=?UTF-8?B?{subject}?="),
            ("Date", "Sun, 15 Mar 2026 12:00:00 +0800"),
            ("Message-ID", "<padding.0315@example.cn>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=UTF-8"),
            ("Content-Transfer-Encoding", "base64"),
        ],
        body + b"\n",
    )


@sample("bogus_charset_label.eml")
def bogus_charset_label() -> bytes:
    """A template bug: the charset label is the literal ``%charset%`` and the body is GBK."""
    return message(
        [
            ("From", "Newsletter Robot <robot@example.cn>"),
            ("To", "zhang.san@example.cn"),
            ("Subject", "Weekly report"),
            ("Date", "Mon, 16 Mar 2026 07:00:00 +0800"),
            ("Message-ID", "<bogus.charset.0316@example.cn>"),
            ("Content-Type", 'text/plain; charset="%charset%"'),
            ("Content-Transfer-Encoding", "8bit"),
        ],
        gbk("本周新增客户 12 家，成交 3 单。\n"),
    )


@sample("no_charset_gbk_body.eml")
def no_charset_gbk_body() -> bytes:
    """A text part with no charset at all and a raw GBK body (an old ERP's mailer)."""
    return message(
        [
            ("From", "ERP <erp@example.cn>"),
            ("To", "zhang.san@example.cn"),
            ("Subject", "Stock alert"),
            ("Date", "Tue, 17 Mar 2026 06:30:00 +0800"),
            ("Message-ID", "<no.charset.0317@example.cn>"),
            ("Content-Type", "text/plain"),
            ("Content-Transfer-Encoding", "8bit"),
        ],
        gbk("库存预警：X200 控制器 库存低于 50 台。\n"),
    )


@sample("newsletter_list_unsubscribe.eml")
def newsletter_list_unsubscribe() -> bytes:
    """A newsletter: List-Unsubscribe with a mailto and an https URI (folded), Precedence:
    bulk. Not an auto-reply: bulk mail is only an auto-reply when it answers something."""
    return message(
        [
            ("From", "Example Trade Fair <news@news.example.com>"),
            ("To", "zhang.san@example.cn"),
            ("Subject", "Canton Fair 2026: exhibitor list"),
            ("Date", "Wed, 18 Mar 2026 03:00:00 +0000"),
            ("Message-ID", "<news.0318@news.example.com>"),
            ("Precedence", "bulk"),
            (
                "List-Unsubscribe",
                "<mailto:unsubscribe@news.example.com?subject=unsubscribe>,\n"
                " <https://news.example.com/u/\n abc123>",
            ),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Content-Type", "text/plain; charset=utf-8"),
        ],
        b"The exhibitor list for the spring session is online.\n",
    )


# ---------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    check = "--check" in argv
    differ = []
    for name, build in SAMPLES.items():
        path = HERE / name
        data = build()
        if check:
            if not path.is_file() or path.read_bytes() != data:
                differ.append(name)
        else:
            path.write_bytes(data)
    if differ:
        print("differ from make_samples.py:", ", ".join(differ))
        return 1
    print(f"{len(SAMPLES)} samples {'checked' if check else 'written'} in {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
