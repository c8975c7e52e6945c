"""Auto-replies and delivery failures: RFC 3464 reports and providers' own notices."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from .addresses import Address, clean_addr, normalise_message_id
from .body import Part, part_text
from .headers import fold, unfold
from .state import State


@dataclass(frozen=True)
class FailedRecipient:
    """A recipient a delivery report says could not be reached.

    ``status`` is the enhanced status code (``5.1.1``) when the report gives one, else "";
    ``diagnostic`` is the remote server's words (``smtp; 550 5.1.1 User unknown``), else "".
    """

    addr: str
    status: str = ""
    diagnostic: str = ""


@dataclass(frozen=True)
class Bounce:
    """A delivery failure report, and which message of ours it is about.

    ``standard`` is True for an RFC 3464 report (multipart/report; report-type=delivery-status)
    and False for a provider's own format (a "退信" from a Chinese postmaster, a qmail
    "failure notice"), which is read by heuristics. ``original_message_id`` is normalised like
    :attr:`MailMessage.message_id`, so it links straight to the message that bounced.
    """

    recipients: list[FailedRecipient]
    original_message_id: str | None
    standard: bool


_AUTO_SUBJECT = re.compile(  # searched in the lower-cased subject
    r"out of (?:the )?office|automatic reply|auto[- ]?reply|auto[- ]?response|autoreply"
    r"|自动回复|自动答复|不在办公室"
)
_REPLY_SUBJECT = re.compile(r"^\s*(re|aw|sv|回复|答复|回覆)\s*[:：]", re.I)
BOUNCE_SUBJECT = re.compile(
    r"退信|退回|投递失败|发送失败|无法投递|undeliver|returned mail|returned to sender"
    r"|delivery status notification \(failure\)|delivery (status )?fail|mail delivery failed"
    r"|failure notice|non[- ]?delivery|delivery has failed",
    re.I,
)
DAEMON_LOCALS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"})
DAEMON_NAME = re.compile(r"mail delivery|postmaster|mailer-daemon|系统退信|邮件系统", re.I)
_HEADER_LINE_ID = re.compile(r"^[ \t]*message-id[ \t]*:[ \t]*(.*(?:\n[ \t]+.*)*)", re.I | re.M)
_RETURNED_HEADERS = re.compile(
    r"^[ \t]*(return-path|received|message-id|mime-version|x-mailer|dkim-signature)[ \t]*:",
    re.I | re.M,
)
# Starts only where a run of address characters starts, and is bounded: linear on long runs.
_EMAIL = re.compile(r"(?<![\w.+'-])[\w.+'-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_ENHANCED_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_SMTP_REPLY = re.compile(r"\b[45]\d\d\b[ -]")


def is_auto_reply(headers: dict[str, list[str]], subject: str, replying: bool) -> bool:
    """Written by a program in answer to a message (vacation notices, "we got your mail").

    Auto-Submitted other than "no" (RFC 3834), X-Autoreply, X-Autorespond, Precedence
    auto_reply; Precedence bulk/junk only on a reply (vacation programs set it, and so does
    every newsletter); "Out of Office", "Automatic reply", "自动回复" subjects.
    """
    for key in ("auto-submitted", "x-autoreply", "x-autorespond"):
        values = headers.get(key)
        if values and values[0].partition(";")[0].strip().lower() not in ("", "no"):
            return True
    precedence = headers.get("precedence")
    if precedence:
        value = precedence[0].strip().lower()
        if value == "auto_reply" or (
            value in ("bulk", "junk") and (replying or _REPLY_SUBJECT.match(subject))
        ):
            return True
    return _AUTO_SUBJECT.search(subject.lower()) is not None


_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_FOLD = re.compile(r"\n[ \t]+")


def _delivery_fields(part: Part, st: State) -> list[dict[str, str]]:
    """The field blocks of a message/delivery-status part, lower-cased names, unfolded."""
    payload = part.message.get_payload()
    blocks: list[dict[str, str]] = []
    if isinstance(payload, list):
        for block in payload:
            if isinstance(block, Message):
                fields: dict[str, str] = {}
                for name, value in block.raw_items():
                    fields.setdefault(name.lower(), fold(unfold(value)))
                blocks.append(fields)
        return blocks
    text = part_text(part, st)
    for chunk in _BLANK_LINE.split(text):
        fields = {}
        for line in _FOLD.sub(" ", chunk).split("\n"):
            name, colon, value = line.partition(":")
            if colon and name.strip():
                fields.setdefault(name.strip().lower(), fold(value))
        if fields:
            blocks.append(fields)
    return blocks


def _returned_id(part: Part, st: State) -> str | None:
    """The Message-ID of the returned original: an enclosed message/rfc822 or its headers."""
    if part.ctype.startswith("message/"):
        inner = part.message.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            for name, value in inner[0].raw_items():
                if name.lower() == "message-id":
                    ident = normalise_message_id(unfold(value))
                    if ident:
                        return ident
            return None
    text = part_text(part, st) if part.ctype.startswith("text/") else ""
    match = _HEADER_LINE_ID.search(text)
    return normalise_message_id(unfold(match.group(1))) if match else None


_RETURNED_TYPES = frozenset(
    {"message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers"}
)


def standard_bounce(report: Part, st: State) -> Bounce | None:
    """An RFC 3464 delivery-status report → Bounce; None when nothing failed (a delay notice).

    A recipient failed when its Action says so, or, with no Action, when its Status is 5.x.x.
    """
    failed: list[FailedRecipient] = []
    original: str | None = None
    for child in report.children:
        if child.ctype == "message/delivery-status":
            for block in _delivery_fields(child, st):
                recipient = block.get("final-recipient") or block.get("original-recipient")
                if not recipient:
                    continue  # the per-message block
                status = _ENHANCED_STATUS.search(block.get("status", ""))
                action = block.get("action", "").lower()
                if action != "failed" and (action or not status or status.group(1)[0] != "5"):
                    continue
                addr = clean_addr(recipient.rpartition(";")[2])
                if addr:
                    code = status.group(1) if status else ""
                    failed.append(FailedRecipient(addr, code, block.get("diagnostic-code", "")))
        elif child.ctype in _RETURNED_TYPES:
            original = original or _returned_id(child, st)
    return Bounce(failed, original, True) if failed else None


def _line_at(text: str, pos: int) -> str:
    """The whole line of ``text`` that holds position ``pos``, stripped."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return text[start : end if end >= 0 else len(text)].strip()


def heuristic_bounce(
    top: Part, body: set[int], text: str, sender: Address | None, to: list[Address], st: State
) -> Bounce:
    """A provider's own failure notice, read by heuristics.

    The explanation is the body text up to where the returned headers start; every address
    in it other than ours (the bounce's From and To) and the postmasters' is a failed
    recipient, with the first enhanced status code and SMTP reply line after it. The original
    Message-ID comes from an enclosed message or header part, else from quoted headers in the
    body or in another text part.
    """
    original: str | None = None
    others: list[str] = []
    for part in top.walk():
        if part.ctype in _RETURNED_TYPES:
            original = original or _returned_id(part, st)
        elif part.ctype == "text/plain" and not part.children and id(part.message) not in body:
            others.append(part_text(part, st))
    returned = _RETURNED_HEADERS.search(text)
    explanation = text[: returned.start()] if returned else text
    for source in (text[returned.start() :] if returned else "", *others):
        if original:
            break
        match = _HEADER_LINE_ID.search(source)
        original = normalise_message_id(unfold(match.group(1))) if match else None
    ours = {a.addr for a in to}
    if sender:
        ours.add(sender.addr)
    failed: list[FailedRecipient] = []
    for match in _EMAIL.finditer(explanation):
        addr = clean_addr(match.group(0))
        if not addr or addr in ours or addr.partition("@")[0] in DAEMON_LOCALS:
            continue
        ours.add(addr)
        near = (match.end(), match.end() + 400)
        status = _ENHANCED_STATUS.search(explanation, *near) or _ENHANCED_STATUS.search(explanation)
        reply = _SMTP_REPLY.search(explanation, *near) or _SMTP_REPLY.search(explanation)
        diagnostic = _line_at(explanation, reply.start())[:300] if reply else ""
        failed.append(FailedRecipient(addr, status.group(1) if status else "", diagnostic))
    return Bounce(failed, original, False)
