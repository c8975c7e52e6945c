"""What delivery failure notices say, as data: who sends them, their subjects, their reasons.

The tables follow the notices that mail servers and providers are documented to write (RFC
3464 and RFC 3463 for the standard ones; the servers' own templates for the rest: Postfix's
``bounce`` templates, Exim's ``bounce_message_text``, qmail's ``qmail-send``, Sendmail's
``savemail``, Exchange and Office 365 NDRs, Gmail, Yahoo, mail.ru, Yandex, NetEase 163/126,
QQ/Exmail, Aliyun, Sina, Sohu, KDDI/au, Courier, Domino, DragonFly). In the spirit of sisimai
(one table of phrases per server and reason), but our own code and a smaller vocabulary: sync
only needs to know whether an address is dead (hard) or merely unlucky this time (soft).

Every phrase is matched case-insensitively against text whose whitespace is folded to single
spaces, so a table entry is plain words, not a regular expression, unless it says otherwise.
Add a phrase family here when a server's notice is missed; never a single message's words.
"""

from __future__ import annotations

import re

# -- who writes them ----------------------------------------------------------------------------

# Local parts of the addresses notices come from.
DAEMON_LOCALS = frozenset(
    {
        "mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mailer_daemon",
        "mdaemon", "mail.daemon", "maildelivery", "mail-delivery", "nobody-bounce",
        "bounce", "bounces", "mailerd", "mailsystem", "mail-system", "nondeliveryreport",
        "microsoftexchange", "mailmaster", "smtp", "daemon",
        "post_master", "post-master", "mail_daemon",
    }
)  # fmt: skip
# Every DAEMON_NAME match holds one of these, lower-cased (a cheap test before the regex).
DAEMON_NAME_ANCHORS = (
    "mail", "postmaster", "daemon", "deliver", "exchange", "outlook", "master", "系统",
    "邮件", "退信", "яндекс", "yandex",
)  # fmt: skip
# Display names (or the whole From text, for "From: MAILER-DAEMON <>") that notices use.
DAEMON_NAME = re.compile(
    r"mail ?delivery|postmaster|mailer[-_ ]?daemon|mail[-_ ]daemon|mail administrator"
    r"|delivery (?:status|subsystem|notification)|mail (?:system|service|router)"
    r"|microsoft ?exchange|microsoft outlook|mail ?master|internet mail delivery"
    r"|系统退信|邮件系统|系统管理员|退信|postmaster@|网易邮箱|mail\.ru|яндекс|yandex",
    re.I,
)

# -- subjects -----------------------------------------------------------------------------------

# A final failure, by the server or provider that writes it.
BOUNCE_SUBJECTS: dict[str, tuple[str, ...]] = {
    "rfc 3464 / generic": (
        "delivery status notification (failure)", "delivery failure", "delivery failed",
        "delivery has failed", "delivery problem", "failed delivery", "failure delivery",
        "undeliverable", "undelivered", "non-delivery", "non delivery", "nondelivery",
        "not delivered", "could not be delivered", "couldn't be delivered",
        "delivery status notification: failed", "delivery status notification: error",
        "permanent delivery failure", "delivery report", "message status - undeliverable",
        "returned mail", "returned to sender", "return mail", "mail returned",
        "mail delivery failure", "mail could not be delivered", "mail system error",
        "there was an error sending your mail", "sorry, your message could not be delivered",
        "rejected:", "mail failure",
    ),
    "postfix": ("undelivered mail returned to sender", "postmaster notify"),
    "exim": ("mail delivery failed", "returning message to sender", "mail failed, returning"),
    "qmail": ("failure notice",),
    "sendmail": ("returned mail:", "see transcript for details"),
    "exchange / office 365": ("undeliverable:", "non remis", "non recapitabile", "unzustellbar",
                              "no se puede entregar", "não é possível entregar", "onbestelbaar",
                              "kohaletoimetamatu", "nedoručitelné", "niedostarczalne",
                              "не доставлено", "无法传递", "無法傳遞", "配信できません"),
    "domino / courier": ("delivery failure:", "delivery notification: delivery has failed"),
    "mail.ru / yandex": ("mail failure", "недоставленное сообщение", "сообщение не доставлено",
                         "не доставлено"),
    "netease / qq / aliyun / sina / sohu": (
        "系统退信", "退信", "投递失败", "发送失败", "无法投递", "未能送达", "邮件被退回",
        "退回", "寄送失败", "郵件退回", "無法送達",
    ),
    "kddi / au / docomo / softbank": ("メールエラー通知", "メール送信エラー", "配信エラー",
                                      "配信失敗", "送信エラー", "宛先不明"),
}  # fmt: skip

# Every BOUNCE_SUBJECTS phrase holds one of these (tests/test_classify.py checks): a plain
# substring test rules out most people's subjects before the phrase alternation (about 20 µs).
BOUNCE_SUBJECT_ANCHORS = (
    "deliver", "fail", "return", "reject", "notice", "report", "error", "transcript",
    "postmaster", "remis", "recapit", "zustell", "entregar", "bestel", "kohale", "doruč",
    "dostarcz", "доставл", "传递", "傳遞", "配信", "退", "失败", "投递", "送达", "送達",
    "エラー", "宛先",
)  # fmt: skip

# A notice that is not (yet) a failure: "still trying", "delivered".
DELAY_SUBJECTS = re.compile(
    r"\(delay\)|: delayed|delay(?:ed)? (?:mail|notification)|delivery (?:has been )?delayed"
    r"|still being retried|warning: message .{1,40} delayed|could not send (?:mail|message) for"
    r" past|delivery status notification: warning|has been delayed|延迟|延遲|遅延",
    re.I,
)
# In the text of a notice: "only a warning, still trying" (checked first), and "failed for good".
DELAY_TEXT = re.compile(
    r"warning message only|this is only a (?:temporary|warning)|only a temporary failure"
    r"|do(?: not|n't) need to re-?send|will (?:be retried|continue (?:to try|trying)|keep trying)"
    r"|is kept in the queue|still (?:be )?(?:trying|retrying)|has not yet been delivered"
    r"|no action is required on your part|暂时无法投递|正在重试|将继续尝试",
)
FINAL_TEXT = re.compile(
    r"permanent|fatal error|giving up|will not be retried|could not be delivered"
)
# RFC 3464 Action values, and the non-standard ones servers write for a failure.
KNOWN_ACTIONS = frozenset({"failed", "delayed", "delivered", "relayed", "expanded", "deliverable"})
FAILED_ACTIONS = frozenset({"failed", "failure", "expired", "bounced", "bounce", "undeliverable"})
SUCCESS_SUBJECTS = re.compile(
    r"\(success\)|\(relay\)|delivery status notification: delivered|successful(?:ly)? deliver"
    r"|^delivered:|^relayed:|^read:|已送达|已投递",
    re.I,
)

# -- the body -----------------------------------------------------------------------------------

# Words that say, in the body, that a message could not be delivered (for notices whose
# subject says little: "Mail", "Re: Test").
FAILURE_PHRASES = (
    "could not be delivered", "couldn't be delivered", "was not delivered", "undeliverable",
    "delivery to the following recipient", "delivery has failed", "permanent error",
    "permanent fatal error", "failed permanently", "address(es) failed", "unable to deliver",
    "undelivered mail", "delivery failed", "not be delivered", "could not deliver",
    "message could not be sent", "was returned", "fatal error", "did not reach",
    "wasn't delivered", "message not delivered", "your message cannot be delivered",
    "mail delivery failed", "following recipients failed", "delivery failure",
    "the following addresses had permanent", "recipient address rejected", "user unknown",
    "hi. this is the qmail-send program", "delivery problems", "was aborted",
    "not a valid user", "no such user", "could not be sent to", "permanently rejected",
    "message was rejected", "rejected your message", "delivery to the following",
    "i'm afraid i wasn't able to deliver",
    "this is the mail system at host", "this message was created automatically by mail",
    "未能成功投递", "无法投递", "投递失败", "退信", "发送失败", "无法送达",
    "не может быть доставлено", "не доставлено", "не удалось доставить",
    "送信できませんでした", "配信できませんでした", "届けることができませんでした",
    "宛先のメールアドレスが見つかりません",
)  # fmt: skip

# Lines after which the failed addresses are listed, one a line ("The following address(es)
# failed:" in Exim, "----- The following addresses had permanent fatal errors -----" in
# Sendmail); the search for recipients starts after them when one is there.
RECIPIENT_INTRO = re.compile(
    r"following (?:address(?:\(es\))?|recipients?(?:\(s\))?|destination addresses)"
    r"|addresses had permanent|could not be delivered to|delivery to the following"
    r"|failed to deliver to|not be delivered to|wasn't delivered to|did not reach"
    r"|error delivering (?:your )?(?:mail|message) to"
    r"|unable to deliver (?:your )?(?:message )?to|下列收件人|以下收件人|以下地址|收件人[:：]"
    r"|以下の宛先|次の宛先|получателям|получателю|адрес(?:ам|у)",
    re.I,
)

# Complaints that are not ARF reports: Hotmail/Outlook.com's Junk Mail Reporting Program
# sends the complained-about message inside "complaint about message from <ip>", or the
# message itself marked with X-HmXmrOriginalRecipient (the complainer's address).
COMPLAINT_SUBJECTS = ("complaint about message from", "abuse report", "spam report")
COMPLAINT_HEADERS = ("x-hmxmroriginalrecipient",)
# Headers that make a message an unsubscribe by a mail client (Apple Mail's
# "Unsubscribe" button sends one with "X-Apple-Unsubscribe: true").
UNSUBSCRIBE_HEADERS = ("x-apple-unsubscribe",)

# -- reasons ------------------------------------------------------------------------------------

# The reasons sync reports, checked in this order against the server's words (the more
# specific families first: "Recipient address rejected: User unknown" is an unknown user, not
# a policy block). Each is hard (the address is dead: campaigns skip it) or soft (this message
# failed; the address may work tomorrow).
REASONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("mailbox_full", (
        "mailbox full", "mailbox is full", "mailbox has exceeded", "quota exceeded",
        "over quota", "overquota", "exceeded storage", "exceeds its quota",
        "exceeded its quota", "insufficient storage", "disk quota", "quota exceed",
        "not enough storage", "mailbox size limit", "mail box full", "mailfolder is full",
        "mailbox exceeds allowed size", "user is over", "out of storage", "storage quota",
        "full mailbox", "too much mail", "maildir over", "exceeded the space",
        "mail quota", "空间不足", "邮箱已满", "邮箱满", "容量不足", "容量超", "空间已满",
        "メールボックスがいっぱい", "容量オーバー", "переполнен", "превышен",
    )),
    ("too_large", (
        "message too large", "message is too large", "message size exceeds",
        "size exceeds", "exceeds the maximum size", "message exceeds", "too big",
        "message length exceeds", "message size limit", "maximum message size",
        "exceeds size limit", "larger than", "mail size", "邮件过大", "超过大小",
        "超过了限制大小", "サイズ", "слишком большой",
    )),
    ("expired", (
        "retry timeout exceeded", "retry time not reached for any host after a long failure",
        "too long in queue", "message expired", "has expired", "delivery time expired",
        "cannot send message for", "could not be delivered within", "giving up",
        "message timed out", "timeout waiting", "queue lifetime", "retry period",
        "have been failing for", "not delivered for", "was not delivered within",
        "maximum time", "deferred for too long", "too many retries", "expired after",
        "no further attempts", "delivery expired", "超时", "過期",
    )),
    # The sender, not the recipient, was refused: our domain, address or server.
    ("blocked", (
        "sender address rejected", "sender rejected", "sender verify failed",
        "sender verification", "domain of sender address", "sender domain",
        "mail from rejected", "envelope sender", "sender is not allowed", "sender denied",
        "rejected due to sender", "your domain", "your ip", "your server", "your host",
        "reverse dns", "ptr record", "rdns",
    )),
    ("host_unknown", (
        "host unknown", "host not found", "unknown host", "domain not found",
        "domain does not exist", "no such domain", "unrouteable mail domain",
        "name or service not known", "host or domain name not found", "no mx",
        "mx record", "name server", "dns error", "domain name not found", "unknown domain",
        "illegal host", "domain is not", "does not accept mail", "nxdomain",
        "host name lookup failure", "hostname lookup", "unresolvable", "domain not exist",
        "could not resolve", "no route to host", "address resolution",
        "域名不存在", "域名无效", "ドメインが見つかりません",
    )),
    ("user_unknown", (
        "user unknown", "unknown user", "no such user", "no such mailbox",
        "no such recipient", "no such person", "no such account", "user not found",
        "mailbox not found", "mailbox unavailable", "mailbox does not exist",
        "mailbox is unavailable", "recipient not found", "recipient unknown",
        "unknown recipient", "invalid recipient", "invalid mailbox", "invalid address",
        "not a valid mailbox", "unknown address", "address unknown", "account unavailable",
        "account does not exist", "account has been disabled", "account is disabled",
        "account disabled", "account is inactive", "mailbox disabled", "mailbox inactive",
        "is not a valid", "unknown local part", "unknown or illegal alias",
        "no mailbox here", "not listed in", "unrouteable address", "user doesn't have",
        "no longer available", "no longer active", "not our customer", "user invalid",
        "invalid user", "bad destination mailbox", "addressee unknown", "no such address",
        "not known here", "mailbox unknown",
        "unknown account", "user is unknown", "user does not exist", "deactivated",
        "no account",
        "用户不存在", "收件人不存在", "账户不存在", "帐户不存在", "帐号不存在", "账号不存在",
        "地址不存在", "邮箱不存在", "用户名不存在", "无此用户", "無此用戶", "使用者不存在",
        "宛先が見つかりません", "宛先不明", "存在しない", "не существует", "нет такого",
        "неизвестный", "не найден",
    )),
    ("blocked", (
        "blocked", "block list", "blocklist", "blacklist", "black list", "denylist",
        "spam", "junk", "policy", "rejected", "refused", "denied", "not allowed",
        "not permitted", "prohibited", "unsolicited", "reputation", "rbl", "dnsbl",
        "spamhaus", "spf", "dkim", "dmarc", "authentication", "relay", "relaying",
        "virus", "malware", "content", "filter", "suspicious", "reverse dns", "ptr",
        "not authorized", "unauthorized", "banned", "access denied", "blacklisted",
        "too many", "rate limit", "temporarily deferred", "listed", "tls", "starttls",
        "拒绝", "垃圾邮件", "被拦截", "拦截", "反垃圾", "黑名单", "受限", "禁止",
        "拒否", "迷惑メール", "отклонено", "спам",
    )),
)  # fmt: skip
# Words that say little on their own ("Recipient address rejected: <why>" is followed by the
# real reason, and a specific status code such as 5.1.2 says more): tried after the status.
WEAK_REASONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("user_unknown", (
        "address rejected", "recipient rejected", "rcpt to rejected", "recipient address",
        "does not exist", "doesn't exist", "not exist", "address does not", "not found",
        "invalid address",
    )),
)  # fmt: skip
HARD_REASONS = frozenset({"user_unknown", "host_unknown"})

# RFC 3463 enhanced status codes → reason, where the code alone says it (class.subject.detail;
# the class digit is dropped, the rest matched most specific first).
STATUS_REASONS = {
    "1.1": "user_unknown",
    "1.0": "user_unknown",
    "1.3": "user_unknown",
    "1.6": "user_unknown",
    "1.10": "user_unknown",
    "2.1": "user_unknown",
    "1.2": "host_unknown",
    "4.4": "host_unknown",
    "2.2": "mailbox_full",
    "2.3": "too_large",
    "3.4": "too_large",
    "4.7": "expired",
    "7": "blocked",
}


def _phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    words = sorted({re.escape(p.lower()) for p in phrases}, key=len, reverse=True)
    return re.compile("|".join(words))


BOUNCE_SUBJECT = _phrase_pattern(tuple(p for ps in BOUNCE_SUBJECTS.values() for p in ps))
FAILURE_PHRASE = _phrase_pattern(FAILURE_PHRASES)
REASON_PATTERNS = tuple((reason, _phrase_pattern(phrases)) for reason, phrases in REASONS)
WEAK_PATTERNS = tuple((reason, _phrase_pattern(phrases)) for reason, phrases in WEAK_REASONS)
# A line offering help ("For further assistance, please contact <support@…>"): its address
# is not a failed recipient.
HELP_LINE = re.compile(
    r"contact|assistance|questions|help ?desk|further information|please send mail to"
    r"|for more information|联系|問い合わせ|連絡",
    re.I,
)
