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
* **Charsets by evidence.** The label is trusted while the bytes decode cleanly under it:
  GB2312/GBK labels read as GB18030, the superset (senders label GBK text — 镕, 喆, 堃 are not
  in GB2312 — as GB2312 all the time); Big5 as Big5-HKSCS; ISO-8859-1 and US-ASCII as
  Windows-1252, as WHATWG says. A few stray bytes are replaced and the label kept. Otherwise,
  and for unlabelled bytes (raw 8-bit headers, bodies without a charset), ``detect.py`` scores
  every candidate (UTF-8, GB18030, Big5, Shift_JIS, EUC-JP, ISO-2022-JP, EUC-KR,
  Windows-125x, KOI8-R) by how common the characters of each reading are in its script:
  a first-come rule ("try GB18030") read Big5, Latin-1 and Windows-1252 as Chinese garbage.
  charset-normalizer measured worse on real mail (``bench/bench_charsets.py``). A fallback
  applies per RFC 2047 encoded-word, not per header; every repair is a defect.
* **Addresses exactly or not at all.** Raw 8-bit addresses are kept when they are UTF-8
  (SMTPUTF8) and left out with a defect when they are not: any reading would be a guess.
* **Never raise.** Mail is written by thousands of programs, many of them wrong. Problems end
  up in ``MailMessage.defects`` as short sentences; the message is still returned. No regular
  expression here can backtrack without bound on garbage (tests/test_message.py checks).
* **Speed.** A sync parses thousands of messages; ``bench/bench_parse.py --realmail`` holds
  this package to 1.5 × a bare compat32 parse on real mail (2 × on messages under 32 KB).
  Hence ``split.py``, which builds compat32's own ``Message`` tree for the everyday shapes
  without its line-by-line feed parser, one pass over the headers, everyday addresses and
  dates read by one regular expression each (the general parsers are the fallback), the part
  tree built once, HTML converted only when a message has no text part, and the summary
  scanner jumping between lines that could matter instead of looking at every line.

The modules, in the order a message flows through them (:func:`parse_message` in
``parse.py`` calls each in turn; ``state.py`` holds what one parse accumulates):

- ``split.py`` — raw bytes → compat32 ``Message`` tree, a fast path for everyday shapes;
- ``charsets.py`` — bytes in a claimed charset → text: labels, aliases, repairs;
- ``detect.py`` — the charset of unlabelled or mislabelled bytes, by scoring candidates;
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
