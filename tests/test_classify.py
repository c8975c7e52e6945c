"""What kind of mail a message is: bounces in each server's format, delays, complaints,
auto-replies and list mail (issue #15).

Every notice here is written for the test from the shape its server documents or is known to
write (Postfix's and Exim's templates, qmail-send, Sendmail, Exchange/Office 365 NDRs, Gmail,
Yahoo, mail.ru, Yandex, NetEase, QQ/Exmail, Aliyun, Sina, Sohu, KDDI/au, Courier, Domino,
DragonFly, Amazon SES, Hotmail JMRP): our own words and addresses, no real message copied.
Each test asserts what sync acts on: the kind, the failed recipient, the reason, hard or soft.
"""

from __future__ import annotations

import pytest

from sync.message import parse_message

ORIGINAL = (
    "Return-Path: <sales@ourco.cn>\n"
    "Message-ID: <offer.0301@ourco.cn>\n"
    "From: Sales <sales@ourco.cn>\n"
    "To: {rcpt}\n"
    "Subject: Spring offer\n"
    "Date: Mon, 02 Mar 2026 09:00:00 +0800\n"
)


def raw(headers: str, body: str) -> bytes:
    head = "Message-ID: <notice.1@mx.example.net>\nDate: Mon, 02 Mar 2026 10:00:00 +0800\n"
    return (head + headers.strip("\n") + "\n\n" + body).replace("\n", "\r\n").encode("utf-8")


def report(
    headers: str,
    text: str,
    status: str,
    *,
    returned: str = "text/rfc822-headers",
    rcpt: str = "x@example.org",
) -> bytes:
    """A multipart/report; report-type=delivery-status with the three parts of RFC 3464."""
    body = (
        f"--R\nContent-Type: text/plain; charset=utf-8\n\n{text}\n"
        f"--R\nContent-Type: message/delivery-status\n\n{status.strip()}\n\n"
        f"--R\nContent-Type: {returned}\n\n{ORIGINAL.format(rcpt=rcpt)}\n--R--\n"
    )
    headers = headers.strip("\n") + (
        "\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="R"'
    )
    return raw(headers, body)


def mixed(headers: str, text: str, *, rcpt: str, html: bool = False) -> bytes:
    """A provider's own notice: its text, then the returned message."""
    ctype = "text/html" if html else "text/plain"
    body = (
        f"--M\nContent-Type: {ctype}; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        f"{text}\n--M\nContent-Type: message/rfc822\n\n{ORIGINAL.format(rcpt=rcpt)}\nHello.\n"
        "--M--\n"
    )
    headers = (
        headers.strip("\n") + '\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="M"'
    )
    return raw(headers, body)


def plain(headers: str, text: str) -> bytes:
    return raw(headers + "\nContent-Type: text/plain; charset=utf-8", text)


POSTFIX = report(
    """
From: MAILER-DAEMON@mx.ourco.cn (Mail Delivery System)
To: sales@ourco.cn
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
""",
    "This is the mail system at host mx.ourco.cn.\n\nI'm sorry to have to inform you that your "
    "message could not\nbe delivered to one or more recipients.\n\n<wang@acme.example>: host "
    "mx.acme.example said: 550 5.1.1\n    <wang@acme.example>: Recipient address rejected: User "
    "unknown in local\n    recipient table (in reply to RCPT TO command)",
    """
Reporting-MTA: dns; mx.ourco.cn
Arrival-Date: Mon,  2 Mar 2026 09:00:01 +0800 (CST)

Final-Recipient: rfc822; wang@acme.example
Original-Recipient: rfc822;wang@acme.example
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.acme.example
Diagnostic-Code: smtp; 550 5.1.1 <wang@acme.example>: Recipient address rejected:
    User unknown in local recipient table
""",
    rcpt="wang@acme.example",
)

EXIM = plain(
    """
From: Mail Delivery System <Mailer-Daemon@mail.ourco.cn>
To: sales@ourco.cn
Subject: Mail delivery failed: returning message to sender
X-Failed-Recipients: li.na@full.example
Auto-Submitted: auto-replied
""",
    "This message was created automatically by mail delivery software.\n\n"
    "A message that you sent could not be delivered to one or more of its\n"
    "recipients. This is a permanent error. The following address(es) failed:\n\n"
    "  li.na@full.example\n    host mx.full.example [192.0.2.7]\n"
    "    SMTP error from remote mail server after RCPT TO:<li.na@full.example>:\n"
    "    552 5.2.2 Mailbox full: quota exceeded\n\n"
    "------ This is a copy of the message, including all the headers. ------\n\n"
    + ORIGINAL.format(rcpt="li.na@full.example"),
)

QMAIL = plain(
    """
From: MAILER-DAEMON@mx.ourco.cn
To: sales@ourco.cn
Subject: failure notice
""",
    "Hi. This is the qmail-send program at mx.ourco.cn.\n"
    "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
    "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
    "<chen@gone.example>:\n192.0.2.9 does not like recipient.\n"
    "Remote host said: 550 5.1.1 <chen@gone.example>... No such user\n"
    "Giving up on 192.0.2.9.\n\n--- Below this line is a copy of the message.\n\n"
    + ORIGINAL.format(rcpt="chen@gone.example"),
)

SENDMAIL = plain(
    """
From: Mail Delivery Subsystem <MAILER-DAEMON@relay.ourco.cn>
To: <sales@ourco.cn>
Subject: Returned mail: see transcript for details
Auto-Submitted: auto-generated (failure)
""",
    "The original message was received at Mon, 2 Mar 2026 09:00:00 +0800\n"
    "from localhost [127.0.0.1]\n\n"
    "   ----- The following addresses had permanent fatal errors -----\n"
    "<zhou@nowhere.example>\n"
    "    (reason: 550 5.1.2 Host unknown (Name server: nowhere.example: host not found))\n\n"
    "   ----- Transcript of session follows -----\n"
    "550 5.1.2 <zhou@nowhere.example>... Host unknown (Name server: nowhere.example: host "
    "not found)\n\n" + ORIGINAL.format(rcpt="zhou@nowhere.example"),
)

EXCHANGE = report(
    """
From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@ourco.onmicrosoft.com>
To: Sales <sales@ourco.cn>
Subject: Undeliverable: Spring offer
""",
    "Your message to ops@strict.example couldn't be delivered.\n"
    "ops wasn't found at strict.example? No: delivery to this address is restricted.",
    """
Reporting-MTA: dns;AM0PR01MB0001.eurprd01.prod.outlook.com
Received-From-MTA: dns;AM0PR01MB0002.eurprd01.prod.outlook.com

Final-Recipient: rfc822;ops@strict.example
Action: failed
Status: 5.7.1
Diagnostic-Code: smtp;550 5.7.1 RESOLVER.RST.AuthRequired; authentication required
 [Stage: CreateMessage]
""",
    returned="message/rfc822",
    rcpt="ops@strict.example",
)

GMAIL_TEXT = plain(
    """
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: sales@ourco.cn
Subject: Delivery Status Notification (Failure)
""",
    "** Address not found **\n\n"
    "Your message wasn't delivered to nobody.here@gmail.com because the address couldn't be "
    "found, or is unable to receive mail.\n\nThe response from the remote server was:\n"
    "550 5.1.1 The email account that you tried to reach does not exist.",
)

YAHOO = plain(
    """
From: MAILER-DAEMON@yahoo.com
To: sales@ourco.cn
Subject: Failure Notice
""",
    "Sorry, we were unable to deliver your message to the following address.\n\n"
    "<old.friend@yahoo.com>:\n554: delivery error: dd This user doesn't have a yahoo.com "
    "account (old.friend@yahoo.com) [0] - mta1001.mail.example.yahoo.com\n\n"
    "--- Below this line is a copy of the message.\n\n" + ORIGINAL.format(rcpt="x@y.example"),
)

MAILRU = plain(
    """
From: Mail Delivery System <mailer-daemon@corp.mail.ru>
To: sales@ourco.cn
Subject: =?UTF-8?B?0JLQsNGI0LUg0YHQvtC+0LHRidC10L3QuNC1INC90LUg0LTQvtGB0YLQsNCy0LvQtdC90L4=?= .
 Mail failure.
""",
    "Это письмо создано автоматически сервером Mail.Ru, отвечать на него не нужно.\n\n"
    "К сожалению, Ваше письмо не может быть доставлено одному или нескольким получателям:\n\n"
    "ivanov@mail.ru\nMessage was not accepted -- invalid mailbox.  Local mailbox "
    "ivanov@mail.ru is unavailable: account is disabled\n\n"
    + ORIGINAL.format(rcpt="ivanov@mail.ru"),
)

YANDEX = plain(
    """
From: mailer-daemon@yandex.ru
To: sales@ourco.cn
Subject: =?UTF-8?B?0J3QtdC00L7RgdGC0LDQstC70LXQvdC90L7QtSDRgdC+0L7QsdGJ0LXQvdC40LU=?=
""",
    "Сообщение не было доставлено.\n\nMessage was not delivered.\n\n"
    "<petrov@example.ru>: host mx.example.ru[192.0.2.3] said: 552 5.2.2 Mailbox size limit "
    "exceeded (in reply to RCPT TO command)",
)

NETEASE = mixed(
    """
From: Postmaster@163.com
To: sales@ourco.cn
Subject: =?UTF-8?B?57O757uf6YCA5L+h?=
""",
    "很抱歉您发送的邮件被退回，以下是该邮件的相关信息：\n"
    "被退回邮件\n主    题：Spring offer\n收件人：liu.yang@example.com.cn\n"
    "退信原因：收件人账户不存在 (550 User not found: liu.yang@example.com.cn)",
    rcpt="liu.yang@example.com.cn",
)

QQ = mixed(
    """
From: PostMaster <PostMaster@qq.com>
To: sales@ourco.cn
Subject: =?UTF-8?B?6YCA5L+h77yaU3ByaW5nIG9mZmVy?=
""",
    "<div>抱歉，您的邮件被退回来了……</div><div>原邮件信息：</div>"
    "<div>收件人：123456@qq.com</div>"
    "<div>退信原因：收件人邮箱空间不足，请稍后重试 (552 Mailbox quota exceeded)</div>",
    rcpt="123456@qq.com",
    html=True,
)

ALIYUN = plain(
    """
From: MAILER-DAEMON@aliyun.com
To: sales@ourco.cn
Subject: =?UTF-8?B?6YKu5Lu25oqV6YCS5aSx6LSl?=
""",
    "您发送到 zhao@example.cn 的邮件投递失败。\n"
    "失败原因：对方服务器拒绝了邮件：550 5.7.1 Message rejected as spam by Content Filtering",
)

SINA = plain(
    """
From: MAILER-DAEMON@sina.com
To: sales@ourco.cn
Subject: =?UTF-8?B?57O757uf6YCA5L+h?=
""",
    "您好，您发送的邮件未能成功投递到以下地址：\nsun@example.com.cn\n"
    "原因：550 5.1.1 <sun@example.com.cn>: Recipient address rejected: User unknown",
)

SOHU = plain(
    """
From: =?UTF-8?B?5pCc54uQ6YKu5Lu257O757uf?= <postmaster@sohu.com>
To: sales@ourco.cn
Subject: =?UTF-8?B?6YCA5L+h6YCa55+l?=
""",
    "你的邮件无法投递到 ma@large.example\n"
    "错误信息：552 5.3.4 Message size exceeds fixed maximum message size",
)

KDDI = mixed(
    """
From: no-reply@au.example.ne.jp
To: sales@ourco.cn
Subject: =?UTF-8?B?44Oh44O844Or44Ko44Op44O86YCa55+l?=
""",
    "Your mail sent on: Mon, 02 Mar 2026 10:00:00 +0900\n"
    "     Could not be delivered to: <tanaka@au.example.ne.jp>\n"
    "     As their mailbox is full.",
    rcpt="tanaka@au.example.ne.jp",
)

COURIER = report(
    """
From: "Courier mail server at mx.ourco.cn" <@>
To: sales@ourco.cn
Subject: NOTICE: mail delivery status.
""",
    "This is a delivery status notification from mx.ourco.cn,\nrunning the Courier mail server."
    "\n\n<kim@example.kr>:\n    550 5.1.1 <kim@example.kr>... User unknown",
    """
Reporting-MTA: dns; mx.ourco.cn

Final-Recipient: rfc822; kim@example.kr
Action: failed
Status: 5.0.0
Diagnostic-Code: smtp; 550 5.1.1 <kim@example.kr>... User unknown
""",
    rcpt="kim@example.kr",
)

DOMINO = plain(
    """
From: Postmaster@lotus.example
To: sales@ourco.cn
Subject: DELIVERY FAILURE: User jdoe (jdoe@lotus.example) not listed in Domino Directory
""",
    "Your message\n\n  Subject: Spring offer\n\nwas not delivered to:\n\n  jdoe@lotus.example\n\n"
    "because:\n\n  User jdoe (jdoe@lotus.example) not listed in Domino Directory",
)

DRAGONFLY = plain(
    """
From: MAILER-DAEMON <>
To: sales@ourco.cn
Subject: Mail delivery failed
""",
    "This is the DragonFly Mail Agent at mx.ourco.cn.\n\n"
    "There was an error delivering your mail to <ho@nodomain.example>.\n\n"
    "remote delivery failed: 550 5.1.2 nodomain.example: Host or domain name not found\n\n"
    "Message headers follow.\n\n" + ORIGINAL.format(rcpt="ho@nodomain.example"),
)

SES = plain(
    """
From: AWS Notifications <no-reply@sns.amazonaws.com>
To: ops@ourco.cn
Subject: AWS Notification Message
""",
    '{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bouncedRecipients":'
    '[{"emailAddress":"gone@example.com","action":"failed","status":"5.1.1",'
    '"diagnosticCode":"smtp; 550 5.1.1 user unknown"}],"timestamp":"2026-03-02T02:00:00Z"},'
    '"mail":{"source":"sales@ourco.cn","destination":["gone@example.com"]}}',
)

# A report whose only parts are text and the returned message: the heuristics read it.
REPORT_WITHOUT_STATUS = raw(
    """
From: Mail Delivery System <Mail.Delivery.System@mx.example.net>
To: sales@ourco.cn
Subject: Delivery status notification
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="R"
""",
    "--R\nContent-Type: text/plain\n\nDelivery to the following recipients was aborted after "
    "5.0 hour(s):\n\n  * xu@example.net\n\nRouting: Could not find a gateway for "
    "xu@example.net\n--R\nContent-Type: message/rfc822\n\n"
    + ORIGINAL.format(rcpt="xu@example.net")
    + "\nHello.\n--R--\n",
)


@pytest.mark.parametrize(
    ("sample", "recipient", "reason", "hard", "standard"),
    [
        (POSTFIX, "wang@acme.example", "user_unknown", True, True),
        (EXIM, "li.na@full.example", "mailbox_full", False, False),
        (QMAIL, "chen@gone.example", "user_unknown", True, False),
        (SENDMAIL, "zhou@nowhere.example", "host_unknown", True, False),
        (EXCHANGE, "ops@strict.example", "blocked", False, True),
        (GMAIL_TEXT, "nobody.here@gmail.com", "user_unknown", True, False),
        (YAHOO, "old.friend@yahoo.com", "user_unknown", True, False),
        (MAILRU, "ivanov@mail.ru", "user_unknown", True, False),
        (YANDEX, "petrov@example.ru", "mailbox_full", False, False),
        (NETEASE, "liu.yang@example.com.cn", "user_unknown", True, False),
        (QQ, "123456@qq.com", "mailbox_full", False, False),
        (ALIYUN, "zhao@example.cn", "blocked", False, False),
        (SINA, "sun@example.com.cn", "user_unknown", True, False),
        (SOHU, "ma@large.example", "too_large", False, False),
        (KDDI, "tanaka@au.example.ne.jp", "mailbox_full", False, False),
        (COURIER, "kim@example.kr", "user_unknown", True, True),
        (DOMINO, "jdoe@lotus.example", "user_unknown", True, False),
        (DRAGONFLY, "ho@nodomain.example", "host_unknown", True, False),
        (SES, "gone@example.com", "user_unknown", True, False),
        (REPORT_WITHOUT_STATUS, "xu@example.net", "other", False, False),
    ],
    ids=[
        "postfix-rfc3464", "exim", "qmail", "sendmail", "office365", "gmail", "yahoo",
        "mail.ru", "yandex", "netease-163", "qq", "aliyun", "sina", "sohu", "kddi-au",
        "courier", "domino", "dragonfly", "amazon-ses", "report-without-delivery-status",
    ],
)  # fmt: skip
def test_a_bounce_names_the_failed_recipient_and_why(
    sample: bytes, recipient: str, reason: str, hard: bool, standard: bool
) -> None:
    message = parse_message(sample)
    assert message.kind == "bounce"
    assert message.auto_reply is False
    bounce = message.bounce
    assert bounce is not None
    assert [r.addr for r in bounce.recipients] == [recipient]
    assert (bounce.reason, bounce.hard, bounce.standard) == (reason, hard, standard)
    assert (bounce.recipients[0].reason, bounce.recipients[0].hard) == (reason, hard)


def test_the_bounce_links_to_the_message_that_bounced() -> None:
    for sample in (POSTFIX, EXIM, QMAIL, SENDMAIL, EXCHANGE, NETEASE, DRAGONFLY):
        bounce = parse_message(sample).bounce
        assert bounce is not None and bounce.original_message_id == "offer.0301@ourco.cn"


def test_the_server_words_and_status_are_kept() -> None:
    (failed,) = parse_message(POSTFIX).bounce.recipients  # type: ignore[union-attr]
    assert failed.status == "5.1.1"
    assert failed.diagnostic.startswith("smtp; 550 5.1.1 <wang@acme.example>: Recipient address")
    (failed,) = parse_message(EXIM).bounce.recipients  # type: ignore[union-attr]
    assert (failed.status, failed.diagnostic) == ("5.2.2", "552 5.2.2 Mailbox full: quota exceeded")


# -- notices that are not bounces ------------------------------------------------------------------


DELAY_DSN = report(
    """
From: Mail Delivery System <MAILER-DAEMON@mx.ourco.cn>
To: sales@ourco.cn
Subject: Delayed Mail (still being retried)
""",
    "This is the mail system at host mx.ourco.cn.\n\n####### THIS IS A WARNING ONLY.  YOU DO "
    "NOT NEED TO RESEND YOUR MESSAGE. #######",
    """
Reporting-MTA: dns; mx.ourco.cn

Final-Recipient: rfc822; slow@example.net
Action: delayed
Status: 4.4.1
Will-Retry-Until: Fri, 6 Mar 2026 09:00:00 +0800
""",
)
SUCCESS_DSN = report(
    """
From: MAILER-DAEMON@mx.ourco.cn
To: sales@ourco.cn
Subject: Successful Mail Delivery Report
""",
    "Your message was successfully delivered to the destination(s) listed below.",
    """
Reporting-MTA: dns; mx.ourco.cn

Final-Recipient: rfc822; happy@example.net
Action: delivered
Status: 2.0.0
""",
)
EXIM_WARNING = plain(
    """
From: Mail Delivery System <Mailer-Daemon@mail.ourco.cn>
To: sales@ourco.cn
Subject: Warning: message 1abcDE-000123-Fg delayed 24 hours
""",
    "This message was created automatically by mail delivery software.\n"
    "A message that you sent has not yet been delivered to one or more of its\n"
    "recipients after more than 24 hours on the queue on mail.ourco.cn.\n\n"
    "  later@example.net\n    Delay reason: SMTP error from remote mail server: 451 greylisted\n\n"
    "No action is required on your part. Delivery attempts will continue for some time, and "
    "this\nwarning may be repeated at intervals if the message remains undelivered.",
)
ARF = raw(
    """
From: Feedback Loop <fbl@isp.example>
To: abuse@ourco.cn
Subject: FW: Spring offer
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F"
""",
    "--F\nContent-Type: text/plain\n\nThis is an email abuse report for an email message "
    "received from IP 192.0.2.1.\n--F\nContent-Type: message/feedback-report\n\n"
    "Feedback-Type: abuse\nUser-Agent: SomeGenerator/1.0\nVersion: 1\n"
    "Original-Mail-From: <sales@ourco.cn>\nOriginal-Rcpt-To: <angry@isp.example>\n"
    "Arrival-Date: Mon, 02 Mar 2026 09:00:05 +0800\n\n--F\nContent-Type: message/rfc822\n\n"
    + ORIGINAL.format(rcpt="angry@isp.example")
    + "\nHello.\n--F--\n",
)
JMRP = raw(
    """
From: staff@hotmail.com
To: abuse@ourco.cn
Subject: complaint about message from 192.0.2.1
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="J"
""",
    "--J\nContent-Type: message/rfc822\nContent-Disposition: inline\n\n"
    "X-HmXmrOriginalRecipient: <someone@hotmail.com>\n"
    + ORIGINAL.format(rcpt="someone@hotmail.com")
    + "\nHello.\n--J--\n",
)


def test_a_delay_notice_is_a_delay_not_a_bounce() -> None:
    for sample in (DELAY_DSN, EXIM_WARNING):
        message = parse_message(sample)
        assert (message.kind, message.bounce) == ("delay", None)


def test_a_success_report_is_not_a_bounce() -> None:
    message = parse_message(SUCCESS_DSN)
    assert (message.kind, message.bounce) == ("delivered", None)


def test_an_arf_complaint_names_who_complained_and_is_no_bounce() -> None:
    message = parse_message(ARF)
    assert (message.kind, message.bounce) == ("complaint", None)
    assert message.complaint is not None
    assert message.complaint.recipients == ["angry@isp.example"]
    assert message.complaint.feedback_type == "abuse"
    assert message.complaint.original_message_id == "offer.0301@ourco.cn"


def test_a_hotmail_complaint_names_the_complainer() -> None:
    message = parse_message(JMRP)
    assert message.kind == "complaint" and message.complaint is not None
    assert message.complaint.recipients == ["someone@hotmail.com"]


@pytest.mark.parametrize(
    ("subject", "text"),
    [
        ("Re: Returned mail", "Your mail could not be delivered to our old address; use this."),
        ("Delivery failure: order 4411", "The goods could not be delivered: the port is closed."),
        ("Delivery report", "Your parcel was not delivered today; we will try again."),
    ],
)
def test_a_person_or_courier_writing_about_delivery_is_not_a_bounce(
    subject: str, text: str
) -> None:
    """Trading companies write "Delivery failure" about goods: without a daemon sender or a
    returned message, failure words in subject and text are not a notice."""
    message = parse_message(
        plain(f"From: Li <li@acme.example>\nTo: sales@ourco.cn\nSubject: {subject}", text)
    )
    assert (message.kind, message.bounce) == ("person", None)


# -- auto-replies and list mail --------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: back on Monday",
        "Automatic reply: Spring offer",
        "自动回复：关于报价",
        "自動回覆: 報價",
        "不在通知: 見積もり",
        "自動応答 Re: お見積り",
        "Abwesenheitsnotiz: Angebot",
        "Automatische Antwort: Angebot",
        "Réponse automatique : Offre",
        "Absence du bureau",
        "Respuesta automática: Oferta",
        "Fuera de la oficina",
        "Resposta automática: Oferta",
        "Fora do escritório",
        "Автоответ: Предложение",
        "Автоматический ответ: Предложение",
        "Odpowiedź automatyczna: Oferta",
        "Poza biurem",
    ],
)
def test_out_of_office_subjects_in_nine_languages(subject: str) -> None:
    message = parse_message(plain(f"From: a@x.example\nSubject: {subject}", "Away."))
    assert (message.kind, message.auto_reply) == ("auto-reply", True)


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ("Auto-Submitted: auto-replied", "auto-reply"),
        ("Auto-Submitted: auto-generated", "auto-reply"),
        ("Auto-Submitted: no", "person"),
        ("X-Autoreply: yes", "auto-reply"),
        ("X-Autorespond: on vacation", "auto-reply"),
        ("Precedence: auto_reply", "auto-reply"),
        ("Precedence: bulk\nIn-Reply-To: <a@b.example>", "person"),
        ("Precedence: junk", "person"),
        ("List-Id: Pumps users <pumps.lists.example>\nPrecedence: bulk", "list"),
        ("List-Post: <mailto:pumps@lists.example>", "list"),
        ("Precedence: list", "list"),
        ("Mailing-List: contact pumps-help@lists.example; run by ezmlm", "list"),
        # A vacation notice sent to a list is still an auto-reply.
        ("List-Id: <pumps.lists.example>\nAuto-Submitted: auto-replied", "auto-reply"),
    ],
)
def test_auto_reply_headers_and_list_mail(headers: str, kind: str) -> None:
    message = parse_message(plain(f"From: a@x.example\n{headers}\nSubject: Re: pumps", "Yes."))
    assert message.kind == kind
    assert message.auto_reply is (kind == "auto-reply")


def test_every_subject_phrase_passes_the_cheap_gates() -> None:
    """The substring gates in front of the phrase alternations must let every phrase through,
    or a notice with that subject would never be looked at."""
    from sync.message.autoreply import _ANCHORS
    from sync.message.bounce_rules import BOUNCE_SUBJECT_ANCHORS, BOUNCE_SUBJECTS

    for phrases in BOUNCE_SUBJECTS.values():
        for phrase in phrases:
            assert any(a in phrase for a in BOUNCE_SUBJECT_ANCHORS), phrase
    for subject in (
        "Out of Office", "Automatic reply", "自动回复", "不在通知", "Abwesenheitsnotiz",
        "Réponse automatique", "Respuesta automática", "Resposta automática", "Автоответ",
        "Odpowiedź automatyczna", "Nieobecność", "Vacation reply", "Auto: away",
    ):  # fmt: skip
        assert any(a in subject.casefold() for a in _ANCHORS), subject


@pytest.mark.parametrize(
    "body",
    [
        "Final-Recipient: rfc822; " + "a" * 200_000,
        "<" + "a" * 100_000 + "@" + "b" * 100_000 + ">:",
        "The following address(es) failed:\n" + "x@y." * 50_000,
        '{"notificationType":"Bounce","bouncedRecipients":[{"emailAddress":"' + "{" * 100_000,
        "please contact " * 20_000 + "a@b.example",
        "could not be delivered " * 20_000,
    ],
    ids=["final-recipient", "qmail-line", "addresses", "ses-json", "help-lines", "phrases"],
)
def test_a_hostile_notice_stays_fast(body: str) -> None:
    """The notice rules read every word of a daemon's message: none may backtrack without
    bound on long runs of garbage (timed against a generous bound, not a target)."""
    import time

    started = time.perf_counter()
    message = parse_message(
        plain("From: MAILER-DAEMON@mx.example\nSubject: Undelivered Mail Returned to Sender", body)
    )
    assert time.perf_counter() - started < 2.0
    assert message.kind == "bounce"
