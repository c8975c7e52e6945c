"""Raw RFC 5322 bytes → ``MailMessage``: the one MIME parser every mailbox backend goes through.

Every backend (IMAP, EWS, Graph, Maildir, mbox, .eml folders) hands its raw bytes to
:func:`parse_message`, so a message reads the same whichever way it arrived, and the id that
sync deduplicates on (the normalised Message-ID, or a synthetic one) is the same too.

Why the parser looks the way it does:

* **compat32, not policy.default.** ``email.message_from_bytes`` with the compat32 policy only
  splits headers and MIME parts; policy.default also parses every header into objects, which
  is several times slower and raises or mangles on the malformed headers that real mail has.
  We decode the handful of headers we need ourselves.
* **Our own RFC 2047 and parameter decoding.** ``email.header.decode_header`` joins adjacent
  encoded-words only when their labels are spelled alike, raises on bad base64, and garbles
  raw 8-bit text next to encoded-words. Chinese mail needs all three: a GBK subject split
  mid-character across ``=?gb2312?B?…?=`` and ``=?GBK?B?…?=`` words must be joined *as bytes*
  before decoding, and raw GBK bytes in a From line are common.
* **Charsets.** Everything labelled GB2312, GBK, GB18030 or one of their aliases is decoded as
  GB18030, the superset: senders label GBK text (镕, 喆, 堃 are not in GB2312) as GB2312 all
  the time. A label that fails or is unknown falls back to UTF-8, then GB18030, then Latin-1,
  and the fallback is recorded in ``defects``. Nothing here raises on bad bytes.
* **Never raise.** Mail is written by thousands of programs, many of them wrong. Problems end
  up in ``MailMessage.defects`` as short sentences; the message is still returned. No regular
  expression here can backtrack without bound on garbage (tests/test_message.py checks).
* **Speed.** A sync parses thousands of messages; ``bench/bench_parse.py`` holds this package
  to 1.5 × a bare compat32 parse. Hence one pass over the headers, everyday addresses and
  dates read by one regular expression each (the general parsers are the fallback), the part
  tree built once, HTML converted only when a message has no text part, and the summary
  scanner jumping between lines that could matter instead of looking at every line.

The modules, in the order a message flows through them (:func:`parse_message` in
``parse.py`` calls each in turn; ``state.py`` holds what one parse accumulates):

- ``charsets.py`` — bytes in a claimed charset → text, with fallbacks and GBK repair;
- ``headers.py`` — unfolding, raw 8-bit headers, RFC 2047 words, RFC 2231 parameters, dates;
- ``addresses.py`` — address lists and Message-IDs, decoded and normalised;
- ``lighten.py`` — attachment bodies cut out of large messages before parsing (names kept);
- ``body.py`` — the MIME part tree, the text parts, attachment names;
- ``html.py`` — HTML bodies → text;
- ``summary.py`` — the new text of a reply: quotes and signatures stripped;
- ``autoreply.py`` — auto-replies (RFC 3834 and out-of-office subjects) and list mail;
- ``bounce_rules.py`` — what delivery notices say, as data: senders, subjects, reasons;
- ``bounce.py`` — the kind of a message: bounces (recipient, reason, hard or soft), delay and
  success notices, complaints, then auto-replies and list mail;
- ``parse.py`` — ``MailMessage`` and ``parse_message``, tying them together.

Only the standard library is used.
"""

from .addresses import Address, normalise_address, normalise_message_id
from .bounce import Bounce, Complaint, FailedRecipient
from .html import html_to_text
from .parse import MailMessage, parse_message
from .summary import new_text

__all__ = [
    "Address",
    "Bounce",
    "Complaint",
    "FailedRecipient",
    "MailMessage",
    "html_to_text",
    "new_text",
    "normalise_address",
    "normalise_message_id",
    "parse_message",
]
