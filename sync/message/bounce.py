"""What kind of mail a message is: a person's, an auto-reply, list mail, or a report about
delivery (a failure, a delay, a success) or a complaint.

Reports come first, because they are the most certain:

1. **ARF complaints** (RFC 5965: ``multipart/report; report-type=feedback-report``): a
   recipient pressed "This is spam". Not a bounce: the address works, its owner wants no more
   mail. Sync records it as an unsubscribe.
2. **RFC 3464 delivery status reports**: each recipient block says failed, delayed,
   delivered, relayed or expanded. Only "failed" (or, with no Action, a 5.x.x Status) is a
   bounce; a report of delays or successes only is a ``delay`` / ``delivered`` notice.
3. **Everything else that looks like a notice** — from a mailer daemon, a postmaster or a
   provider's notice address, or with a failure subject (:mod:`.bounce_rules` lists them by
   server and provider) — is read by heuristics: the failed recipients from the explanation,
   the reason from the server's words. A ``multipart/report`` without a delivery-status part
   comes here too.

Then auto-replies and list mail (:mod:`.autoreply`). A bounce says who failed (the recipient),
why (``reason``: user_unknown, mailbox_full, blocked, host_unknown, too_large, expired, other)
and whether the address is dead (``hard``) or may work next time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from .addresses import Address, clean_addr, normalise_message_id
from .autoreply import is_auto_reply, is_list_mail
from .body import Part, part_text
from .bounce_rules import (
    BOUNCE_SUBJECT,
    BOUNCE_SUBJECT_ANCHORS,
    COMPLAINT_HEADERS,
    COMPLAINT_SUBJECTS,
    DAEMON_LOCALS,
    DAEMON_NAME,
    DAEMON_NAME_ANCHORS,
    DELAY_SUBJECTS,
    DELAY_TEXT,
    FAILED_ACTIONS,
    FAILURE_PHRASE,
    FINAL_TEXT,
    HARD_REASONS,
    HELP_LINE,
    KNOWN_ACTIONS,
    REASON_PATTERNS,
    RECIPIENT_INTRO,
    STATUS_REASONS,
    SUCCESS_SUBJECTS,
    UNSUBSCRIBE_HEADERS,
    WEAK_PATTERNS,
)
from .headers import fold, unfold
from .state import State

# The kinds of mail (``MailMessage.kind``).
PERSON = "person"
AUTO_REPLY = "auto-reply"
LIST = "list"
BOUNCE = "bounce"
DELAY = "delay"
DELIVERED = "delivered"
COMPLAINT = "complaint"


@dataclass(frozen=True)
class FailedRecipient:
    """A recipient a delivery report says could not be reached.

    ``status`` is the enhanced status code (``5.1.1``) when the report gives one, else "";
    ``diagnostic`` is the remote server's words (``smtp; 550 5.1.1 User unknown``), else "";
    ``reason`` one of user_unknown, mailbox_full, blocked, host_unknown, too_large, expired,
    other; ``hard`` when the address itself is dead (unknown user or domain).
    """

    addr: str
    status: str = ""
    diagnostic: str = ""
    reason: str = "other"
    hard: bool = False


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
    reason: str = "other"  # the first recipient's, or the notice's when it names nobody
    hard: bool = False


@dataclass(frozen=True)
class Complaint:
    """An ARF feedback report (RFC 5965): someone marked our message as spam.

    ``recipients``: whom the complained-about message went to (Original-Rcpt-To, else the
    enclosed message's To), the people to stop mailing; ``feedback_type``: abuse, fraud,
    opt-out, virus, other…
    """

    recipients: list[str]
    original_message_id: str | None
    feedback_type: str = "abuse"


@dataclass(frozen=True)
class Kind:
    """What :func:`classify` decided."""

    kind: str = PERSON
    bounce: Bounce | None = None
    complaint: Complaint | None = None


_HEADER_LINE_ID = re.compile(r"^[ \t]*message-id[ \t]*:[ \t]*(.*(?:\n[ \t]+.*)*)", re.I | re.M)
_HEADER_LINE_TO = re.compile(r"^[ \t]*to[ \t]*:[ \t]*(.*(?:\n[ \t]+.*)*)", re.I | re.M)
_RETURNED_HEADERS = re.compile(
    r"^[ \t]*(return-path|received|message-id|mime-version|x-mailer|dkim-signature)[ \t]*:",
    re.I | re.M,
)
# Starts only where a run of address characters starts, and is bounded: linear on long runs.
_EMAIL = re.compile(r"(?<![\w.+'=-])[\w.+'=-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_ENHANCED_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_SMTP_REPLY = re.compile(r"\b[45]\d\d\b[ -]")
_INLINE_RECIPIENT = re.compile(
    r"^[ \t]*(?:final|original)-recipient[ \t]*:[ \t]*(?:rfc822[ \t]*;)?[ \t]*"
    r"<?([^\s<>;]+@[^\s<>;]+)",
    re.I | re.M,
)
# qmail and its kin: the failed address alone on a line, in angle brackets, with a colon.
_QMAIL_RECIPIENT = re.compile(r"^<([^\s<>@]{1,64}@[^\s<>]{1,255})>:[ \t]*$", re.M)
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|回复|答复|回覆)\s*[:：]", re.I)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_FOLD = re.compile(r"\n[ \t]+")
_RETURNED_TYPES = frozenset(
    {"message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers"}
)
_STATUS_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
_FEEDBACK_TYPES = frozenset({"message/feedback-report"})


# -- the whole decision ---------------------------------------------------------------------------


def classify(
    top: Part,
    headers: dict[str, list[str]],
    subject: str,
    sender: Address | None,
    to: list[Address],
    body: set[int],
    text: str,
    st: State,
) -> Kind:
    """The kind of one parsed message; see the module docstring for the order of the rules.

    ``headers``: the top-level headers by lower-cased name (raw values); ``body``: the ids of
    the Message objects that are the body text (``text``, decoded) so other text parts are
    told apart.
    """
    if not text.strip() and top.ctype.startswith("multipart/"):
        text = _unparsed_text(top)
    if top.children:
        report = _report_part(top)
        if report is not None:
            ours = {a.addr for a in to} | ({sender.addr} if sender else set())
            found = _report(report, text, ours, st)
            if found is not None:
                return found
    found = _provider_notice(top, headers, subject, sender, text, st)
    if found is not None:
        return found
    daemon = _from_daemon(headers, sender)
    if daemon or not _REPLY_PREFIX.match(subject):
        low = subject.lower()
        said = (
            any(a in low for a in BOUNCE_SUBJECT_ANCHORS) and BOUNCE_SUBJECT.search(low) is not None
        )
        if daemon and _delay(subject, text):
            return Kind(DELAY)
        if daemon and SUCCESS_SUBJECTS.search(subject):
            return Kind(DELIVERED)
        if (daemon or said) and FAILURE_PHRASE.search(" ".join(text[:4000].lower().split())):
            failure = True  # searched only when it can matter: a person's mail costs nothing
        else:
            failure = False
        if (daemon and (said or failure)) or (said and failure and _returns_mail(top, text)):
            return Kind(BOUNCE, heuristic_bounce(top, body, text, sender, to, headers, st))
    if is_auto_reply(headers, subject):
        return Kind(AUTO_REPLY)
    if is_list_mail(headers):
        return Kind(LIST)
    return Kind()


def _returns_mail(top: Part, text: str) -> bool:
    """The notice encloses the returned message (a message/rfc822 or headers part, or quoted
    headers in its text): what tells a forwarded notice from a person writing "the goods could
    not be delivered" under "Delivery failure" (couriers and customers say that too)."""
    if any(p.ctype in _RETURNED_TYPES for p in top.walk()):
        return True
    return _RETURNED_HEADERS.search(text) is not None


def _unparsed_text(top: Part) -> str:
    """The raw text of multiparts the MIME parser could not split (a boundary parameter lost
    to a bad fold): the only words a broken notice has."""
    chunks = []
    for part in top.walk():
        payload = part.message.get_payload()  # the unsplit body, when no boundary split it
        if not part.children and part.ctype.startswith("multipart/") and isinstance(payload, str):
            chunks.append(payload[:20000])
    return "\n".join(chunks)


def _delay(subject: str, text: str) -> bool:
    """A warning that a message is still being tried: the subject says delayed, or the text
    says "warning only / will be retried", and the text does not say it failed for good."""
    low = " ".join(text[:3000].lower().split())
    warning = DELAY_TEXT.search(low) is not None
    if warning:
        return True
    return DELAY_SUBJECTS.search(subject) is not None and FINAL_TEXT.search(low) is None


def _from_daemon(headers: dict[str, list[str]], sender: Address | None) -> bool:
    """From a mailer daemon or postmaster: by the address, by its display name, or by the
    From text itself when it holds no address (``From: MAILER-DAEMON <>`` in DragonFly).
    A null return path (``Return-Path: <>``, RFC 5321 §4.5.5) or an empty From says so too:
    notices are sent that way so that they never bounce back."""
    path = headers.get("return-path")
    if path and path[-1].strip() in ("<>", "< >"):
        return True
    if sender is not None:
        local = sender.addr.partition("@")[0]
        if local in DAEMON_LOCALS or local.startswith(("mailer-daemon", "postmaster")):
            return True
        if sender.name and _daemon_name(sender.name):
            return True
        return local.startswith("microsoftexchange")
    raw = headers.get("from") or headers.get("sender")
    if not raw:
        return False
    value = unfold(raw[0]).strip()
    return value in ("<>", "") or _daemon_name(value)


def _daemon_name(name: str) -> bool:
    low = name.lower()
    return any(a in low for a in DAEMON_NAME_ANCHORS) and DAEMON_NAME.search(low) is not None


# -- providers' own structured notices ----------------------------------------------------------

_SES_TYPE = re.compile(r'"notificationType"\s*:\s*"(\w+)"')
_SES_RECIPIENT = re.compile(r'\{\s*"emailAddress"\s*:\s*"([^"]+)"([^{}]*)\}')
_SES_FIELD = re.compile(r'"(status|diagnosticCode)"\s*:\s*"([^"]*)"')


def _provider_notice(
    top: Part,
    headers: dict[str, list[str]],
    subject: str,
    sender: Address | None,
    text: str,
    st: State,
) -> Kind | None:
    """Notices in a provider's documented format other than RFC 3464 / 5965:

    - Amazon SES notifications (by SNS or e-mail feedback forwarding): a JSON body whose
      ``notificationType`` is Bounce, Complaint or Delivery, recipients in
      ``bouncedRecipients`` / ``complainedRecipients``;
    - Hotmail / Outlook.com JMRP complaints: "complaint about message from …" with the message
      enclosed, or the message itself marked ``X-HmXmrOriginalRecipient``;
    - a mail client's unsubscribe (``X-Apple-Unsubscribe: true``): an opt-out complaint by
      the sender.
    """
    if "notificationType" in text[:3000]:
        text = text.replace('\\"', '"')  # the JSON quoted inside SNS's own JSON
        kind = _SES_TYPE.search(text)
        if kind is not None:
            return _ses(kind.group(1).lower(), text)
    for key in COMPLAINT_HEADERS:
        if headers.get(key):
            addr = clean_addr(unfold(headers[key][0]))
            message_id = headers.get("message-id")
            original = normalise_message_id(unfold(message_id[0])) if message_id else None
            return Kind(COMPLAINT, complaint=Complaint([addr] if addr else [], original))
    if top.children and any(p in subject.lower() for p in COMPLAINT_SUBJECTS):
        for part in top.walk():
            if part.ctype in _RETURNED_TYPES:
                inner = _returned_message(part)
                marked = [
                    clean_addr(unfold(v))
                    for k, v in (inner.raw_items() if inner is not None else ())
                    if k.lower() in COMPLAINT_HEADERS
                ]
                recipients = [a for a in marked if a] or _returned_to(part, st)
                return Kind(COMPLAINT, complaint=Complaint(recipients, _returned_id(part, st)))
    for key in UNSUBSCRIBE_HEADERS:
        values = headers.get(key)
        if values and values[0].strip().lower() == "true" and sender is not None:
            return Kind(COMPLAINT, complaint=Complaint([sender.addr], None, "opt-out"))
    return None


def _ses(kind: str, text: str) -> Kind | None:
    """An Amazon SES notification's JSON → its kind (read with regular expressions: SNS
    e-mail wraps long lines, which breaks the JSON)."""
    mail = text.find('"mail"')
    head = text[:mail] if mail > 0 else text
    recipients = [
        (m.group(1), dict(_SES_FIELD.findall(m.group(2)))) for m in _SES_RECIPIENT.finditer(head)
    ]
    if kind == "bounce":
        permanent = '"bounceType":"Permanent"' in head.replace(" ", "")
        failed = []
        for address, fields in recipients:
            addr = clean_addr(address)
            if addr:
                status, diagnostic = fields.get("status", ""), fields.get("diagnosticCode", "")
                reason = reason_of(diagnostic, status)
                hard = _hard(reason, "5" if permanent else status)
                failed.append(FailedRecipient(addr, status, diagnostic, reason, hard))
        return Kind(BOUNCE, _bounce(failed, None, False, head))
    if kind == "complaint":
        addrs = [a for a in (clean_addr(r[0]) for r in recipients) if a]
        return Kind(COMPLAINT, complaint=Complaint(addrs, None))
    if kind == "delivery":
        return Kind(DELIVERED)
    return None


# -- reports (multipart/report) -------------------------------------------------------------------


def _report_part(top: Part) -> Part | None:
    """The multipart/report, else any multipart holding a delivery-status or feedback-report
    part (some servers wrap one in multipart/mixed)."""
    fallback = None
    for part in top.walk():
        if part.ctype == "multipart/report":
            return part
        if fallback is None and any(
            c.ctype in _STATUS_TYPES or c.ctype in _FEEDBACK_TYPES for c in part.children
        ):
            fallback = part
    return fallback


def _report(report: Part, text: str, ours: set[str], st: State) -> Kind | None:
    """A report → its kind; None when it has no part this can read (a multipart/report
    without a delivery-status part: then the heuristics try)."""
    report_type = report.params.get("report-type", "").lower()
    children = {c.ctype for c in report.children}
    if report_type == "feedback-report" or children & _FEEDBACK_TYPES:
        return Kind(COMPLAINT, complaint=complaint(report, st))
    if not children & _STATUS_TYPES:
        return None
    actions, bounce = standard_bounce(report, st, text, ours)
    if bounce is not None:
        return Kind(BOUNCE, bounce)
    if "delayed" in actions:
        return Kind(DELAY)
    if actions - {""}:  # delivered, relayed, expanded, deliverable: nothing failed
        return Kind(DELIVERED)
    return None


def complaint(report: Part, st: State) -> Complaint:
    """An ARF report's complained-about recipients, original Message-ID and feedback type."""
    recipients: list[str] = []
    feedback = "abuse"
    original: str | None = None
    for child in report.children:
        if child.ctype in _FEEDBACK_TYPES:
            for block in _delivery_fields(child, st):
                feedback = block.get("feedback-type", feedback).strip().lower() or feedback
                for key in ("original-rcpt-to", "removal-recipient"):
                    addr = clean_addr(block.get(key, "").rpartition(";")[2])
                    if addr and addr not in recipients:
                        recipients.append(addr)
        elif child.ctype in _RETURNED_TYPES:
            original = original or _returned_id(child, st)
            if not recipients:
                recipients = _returned_to(child, st)
    return Complaint(recipients, original, feedback)


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
        if any(blocks):
            return blocks
        blocks = []
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


def _returned_message(part: Part) -> Message | None:
    if part.ctype.startswith("message/"):
        inner = part.message.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            return inner[0]
    return None


def _returned_id(part: Part, st: State) -> str | None:
    """The Message-ID of the returned original: an enclosed message/rfc822 or its headers."""
    inner = _returned_message(part)
    if inner is not None:
        for name, value in inner.raw_items():
            if name.lower() == "message-id":
                ident = normalise_message_id(unfold(value))
                if ident:
                    return ident
        return None
    text = part_text(part, st) if part.ctype.startswith("text/") else ""
    match = _HEADER_LINE_ID.search(text)
    return normalise_message_id(unfold(match.group(1))) if match else None


def _returned_to(part: Part, st: State) -> list[str]:
    """The To addresses of the returned original (or of its headers part)."""
    inner = _returned_message(part)
    if inner is not None:
        values = [unfold(v) for k, v in inner.raw_items() if k.lower() == "to"]
    else:
        text = part_text(part, st) if part.ctype.startswith("text/") else ""
        match = _HEADER_LINE_TO.search(text)
        values = [unfold(match.group(1))] if match else []
    found: list[str] = []
    for value in values:
        for match in _EMAIL.finditer(value):
            addr = clean_addr(match.group(0))
            if addr and addr not in found:
                found.append(addr)
    return found


def standard_bounce(
    report: Part, st: State, text: str = "", ours: set[str] | None = None
) -> tuple[set[str], Bounce | None]:
    """An RFC 3464 delivery-status report → the actions it reports, and a Bounce when a
    recipient failed (None for a report of delays or deliveries only).

    A recipient failed when its Action says so, or, with no Action, when its Status is 5.x.x.
    A failed block without a readable address (``Final-Recipient: rfc822; <>``) takes the
    address from X-Actual-Recipient, then from the human-readable part.
    """
    failed: list[FailedRecipient] = []
    actions: set[str] = set()
    original: str | None = None
    nameless = 0
    for child in report.children:
        if child.ctype in _STATUS_TYPES:
            for block in _delivery_fields(child, st):
                recipient = (
                    block.get("final-recipient")
                    or block.get("original-recipient")
                    or block.get("x-actual-recipient")
                )
                action = block.get("action", "").strip().lower().split(" ")[0]
                status = _ENHANCED_STATUS.search(block.get("status", ""))
                if not recipient and not action:
                    continue  # the per-message block
                if action in FAILED_ACTIONS or (
                    action not in KNOWN_ACTIONS and status and status.group(1)[0] == "5"
                ):
                    action = "failed"  # "failure", "expired", "bounced" in some servers
                elif not action:
                    action = {"4": "delayed", "2": "delivered"}.get(
                        status.group(1)[0] if status else "", ""
                    )
                actions.add(action)
                if action != "failed":
                    continue
                addr = None
                for key in ("final-recipient", "original-recipient", "x-actual-recipient"):
                    addr = _recipient_addr(block.get(key, ""))
                    if addr:
                        break
                code = status.group(1) if status else ""
                diagnostic = block.get("diagnostic-code", "")
                if addr is None:
                    nameless += 1
                elif all(f.addr != addr for f in failed):
                    failed.append(_failed(addr, code, diagnostic, text))
        elif child.ctype in _RETURNED_TYPES:
            original = original or _returned_id(child, st)
    if not failed and not nameless:
        return actions, None
    if not failed:  # failed, but the report names nobody: read the explanation
        failed = [_failed(a, "", "", text) for a in _addresses(text, ours or set())[:1]]
        if not failed:
            for child in report.children:
                if child.ctype in _RETURNED_TYPES:
                    failed = [_failed(a, "", "", text) for a in _returned_to(child, st)[:1]]
                    break
    return actions, _bounce(failed, original, True, text)


def _recipient_addr(value: str) -> str | None:
    """The mailbox of a Final-Recipient field (``rfc822; a@b``): an ordinary address, else
    the last address inside it (a source route ``@relay:a@b``), else None (a pipe, a file)."""
    addr = clean_addr(value.rpartition(";")[2])
    if addr and _EMAIL.fullmatch(addr):
        return addr
    found = _EMAIL.findall(value)
    return clean_addr(found[-1]) if found else None


def _failed(addr: str, status: str, diagnostic: str, explanation: str) -> FailedRecipient:
    reason = reason_of(diagnostic, status, explanation)
    return FailedRecipient(addr, status, diagnostic, reason, _hard(reason, status))


def _hard(reason: str, status: str) -> bool:
    """The address is dead: an unknown user or domain, or a permanent (5.x.x) failure whose
    reason is none of the passing ones (full, blocked, too large, expired)."""
    return reason in HARD_REASONS or (reason == "other" and status.startswith("5"))


def _bounce(
    failed: list[FailedRecipient], original: str | None, standard: bool, text: str
) -> Bounce:
    if failed:
        reason, hard = failed[0].reason, failed[0].hard
    else:
        reason = reason_of("", "", text)
        hard = _hard(reason, "")
    return Bounce(failed, original, standard, reason, hard)


def reason_of(diagnostic: str, status: str, explanation: str = "") -> str:
    """Why a delivery failed: user_unknown, mailbox_full, blocked, host_unknown, too_large,
    expired or other (see :data:`.bounce_rules.REASONS`).

    In order of trust: the server's words (``diagnostic``) by the specific phrase families;
    the enhanced status code; the server's words by the weak phrases ("address rejected");
    then the same for the whole notice's text.
    """
    words = " ".join(diagnostic.lower().split())
    found = _ENHANCED_STATUS.search(status) or _ENHANCED_STATUS.search(words)
    code = found.group(1) if found else ""
    text = " ".join(explanation[:6000].lower().split()) if explanation else ""
    for source in (words, text):
        if not source:
            continue
        for reason, pattern in REASON_PATTERNS:
            if pattern.search(source):
                return reason
        if code:
            by_status = _status_reason(code)
            if by_status:
                return by_status
        for reason, pattern in WEAK_PATTERNS:
            if pattern.search(source):
                return reason
    return _status_reason(code) or "other"


def _status_reason(code: str) -> str | None:
    """An RFC 3463 code's reason where the code alone says it (5.1.1 → user_unknown)."""
    rest = code.partition(".")[2]
    while rest:
        if rest in STATUS_REASONS:
            return STATUS_REASONS[rest]
        rest = rest.rpartition(".")[0]
    return None


# -- heuristics -----------------------------------------------------------------------------------


def _line_at(text: str, pos: int) -> str:
    """The whole line of ``text`` that holds position ``pos``, stripped."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return text[start : end if end >= 0 else len(text)].strip()


def _addresses(text: str, ours: set[str], *, postmasters: bool = False) -> list[str]:
    """The addresses in ``text`` in order, once each, without ours and (unless asked for,
    after a "following recipients" line) the postmasters'."""
    found: list[str] = []
    for match in _EMAIL.finditer(text):
        addr = clean_addr(match.group(0))
        if not addr or addr in ours or addr in found:
            continue
        local = addr.partition("@")[0]
        if not postmasters and (
            local in DAEMON_LOCALS or local.startswith(("mailer-daemon", "postmaster"))
        ):
            continue
        found.append(addr)
    return found


def heuristic_bounce(
    top: Part,
    body: set[int],
    text: str,
    sender: Address | None,
    to: list[Address],
    headers: dict[str, list[str]],
    st: State,
) -> Bounce:
    """A provider's own failure notice, read by heuristics.

    The explanation is the body text up to where the returned headers start. The failed
    recipients are, in order of trust: the X-Failed-Recipients header (Exim); inline
    Final-Recipient lines; the addresses after a "the following address(es) failed" line;
    every other address in the explanation except ours (the notice's From and To, the
    returned original's sender) and the postmasters'; and, when the notice names nobody, the
    returned original's To. Each gets the first enhanced status code and SMTP reply line
    after it. The original Message-ID comes from an enclosed message or header part, else
    from quoted headers in the body or in another text part.
    """
    original: str | None = None
    others: list[str] = []
    returned_parts: list[Part] = []
    for part in top.walk():
        if part.ctype in _RETURNED_TYPES:
            returned_parts.append(part)
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
    if returned:
        tail = text[returned.start() :]
        sent_by = re.search(r"^[ \t]*from[ \t]*:(.*)$", tail, re.I | re.M)
        if sent_by:
            ours.update(_addresses(sent_by.group(1), set()))

    candidates: list[str] = []
    for value in headers.get("x-failed-recipients", ()):
        candidates += _addresses(unfold(value), set())
    for source in (text, *others):
        for pattern in (_INLINE_RECIPIENT, _QMAIL_RECIPIENT):
            for match in pattern.finditer(source):
                addr = clean_addr(match.group(1))
                if addr and addr not in candidates:
                    candidates.append(addr)
    if not candidates:
        intro = RECIPIENT_INTRO.search(explanation)
        if intro:
            after = explanation[intro.end() : intro.end() + 1500]
            candidates = _addresses(after, ours, postmasters=True)[:20]
    if not candidates:
        helpful = {
            a
            for line in explanation.split("\n")
            if "@" in line and HELP_LINE.search(line)
            for a in _addresses(line, set(), postmasters=True)
        }
        candidates = _addresses(explanation, ours | helpful)[:20]
    if not candidates:
        for other in others:
            candidates = _addresses(other[:4000], ours)[:5]
            if candidates:
                break
    if not candidates:
        for part in returned_parts:
            candidates = [a for a in _returned_to(part, st) if a not in ours][:1]
            if candidates:
                break
        if not candidates and returned:
            match = _HEADER_LINE_TO.search(text, returned.start())
            if match:
                candidates = [a for a in _addresses(unfold(match.group(1)), ours)][:1]

    everything = "\n".join((explanation, *others))
    failed: list[FailedRecipient] = []
    for addr in candidates:
        at = everything.lower().find(addr)
        near = (at, at + 500) if at >= 0 else (0, len(everything))
        status = _ENHANCED_STATUS.search(everything, *near) or _ENHANCED_STATUS.search(everything)
        reply = _SMTP_REPLY.search(everything, *near) or _SMTP_REPLY.search(everything)
        diagnostic = _line_at(everything, reply.start())[:300] if reply else ""
        code = status.group(1) if status else ""
        failed.append(_failed(addr, code, diagnostic, explanation))
    return _bounce(failed, original, False, everything)
