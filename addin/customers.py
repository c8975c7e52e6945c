"""Small helpers for customer contact data: e-mail lists and phone numbers.

A customer's ``email`` cell may hold several addresses (``li@example.cn; li.wei@gmail.com``)
because people keep a work and a private address; everything that matches mail to customers
(import, mailbox sync, campaigns) must read that cell the same way, so the splitting and the
address index live here, once. Phone numbers are written in one international format
(``+86 138 0013 8000``) and compared in E.164 (``+8613800138000``), so the same number typed
three ways (``138 0013 8000``, ``+86 138-0013-8000``, ``13800138000``) is one number;
numbers written without a country code are read in the workbook's region (default ``"CN"``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

DEFAULT_REGION = "CN"
"""Region for phone numbers written without a country code (ISO 3166 code, e.g. "CN", "US")."""

EMAIL_SEPARATOR = "; "
"""How addresses are joined in one cell: ``;`` is what Outlook uses between recipients."""

# Between addresses: ; , and their full-width forms, the Chinese enumeration comma, new lines.
_EMAIL_SPLIT = re.compile(r"[;,；，、\r\n]+")
_TAG_SPLIT = re.compile(r"[;,；，、\r\n]+")
# Extension markers: 转 (transfer), 分机 (extension), 内线 (internal line), ext., x.
_EXTENSION = re.compile(r"\s*(?:转|分机|内线|ext\.?|x)\s*(\d{1,6})\s*$", re.IGNORECASE)
_TRAILING_EXT = re.compile(r"^(.*\d)\s*-\s*(\d{1,5})$")
_PHONE_SPLIT = re.compile(r"[;,；，、/\r\n]+")
_ANGLE = re.compile(r"<([^<>]*)>\s*$")


class InvalidAddress(ValueError):
    """An e-mail address that cannot receive mail; ``str()`` says why."""


class InvalidPhone(ValueError):
    """A phone number that cannot be understood in the given region."""


def split_tags(value: object) -> list[str]:
    """The tags in a Tags cell, in order, trimmed: separated by commas or semicolons (half- or
    full-width), 、 or new lines — people write ``VIP, 制造业`` and ``VIP; 制造业`` alike."""
    return [t.strip() for t in _TAG_SPLIT.split(str(value or "")) if t.strip()]


def split_emails(text: str | None) -> list[str]:
    """The addresses in one cell, in order, as written (not validated, not de-duplicated).

    Accepts ``;`` and ``,`` (also full-width), new lines, spaces between bare addresses and
    ``Name <address>`` forms, because that is what people paste from mail clients.
    """
    if not text:
        return []
    out: list[str] = []
    for part in _EMAIL_SPLIT.split(text):
        part = part.strip()
        if not part:
            continue
        angle = _ANGLE.search(part)
        if angle:
            out.append(angle[1].strip())
        else:
            out.extend(p.strip("\"'") for p in part.split())
    return [a for a in out if a]


def normalise_email(address: str) -> str:
    """The address in canonical form (domain lower-cased, Unicode NFC); raises InvalidAddress.

    Deliverability (DNS) is not checked: imports run offline and must give the same answer
    every time. Checking a domain costs email-validator ~0.1 ms (IDNA tables), and a customer
    list repeats a few domains thousands of times, so the common case — a plain ASCII local
    part — checks the domain once per domain and the local part with the RFC 5322 pattern
    email-validator itself applies; anything else gets the full check.
    """
    address = address.strip()
    local, at, domain = address.rpartition("@")
    if at and _ASCII_LOCAL.fullmatch(local) and len(local) <= 64 and len(address) <= 254:
        normal_domain = _domain(domain)
        if normal_domain is not None:
            return f"{local}@{normal_domain}"
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from None


# RFC 5322 dot-atom of ASCII atext: what email-validator accepts unquoted without SMTPUTF8.
_ASCII_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


@functools.lru_cache(maxsize=4096)
def _domain(domain: str) -> str | None:
    """The normalised domain, or None when it is not valid (the full check says why)."""
    try:
        return validate_email(f"a@{domain}", check_deliverability=False).domain
    except EmailNotValidError:
        return None


def join_emails(addresses: Iterable[str]) -> str:
    """One cell's text for a list of addresses, dropping case-insensitive repeats."""
    seen: set[str] = set()
    out = []
    for address in addresses:
        folded = address.casefold()
        if folded not in seen:
            seen.add(folded)
            out.append(address)
    return EMAIL_SEPARATOR.join(out)


def email_key(address: str) -> str:
    """The form addresses are compared in: mail systems treat them case-insensitively."""
    return address.strip().casefold()


def email_index(rows: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Map every address of every customer (folded with :func:`email_key`) to the customer id.

    A cell may hold several addresses; each maps to its row. When two customers share an
    address the first one (in sheet order) wins, as a person reading the sheet top-down would.
    """
    index: dict[str, str] = {}
    for row in rows:
        customer = row.get("id")
        cell = row.get("email")
        if not customer or not isinstance(cell, str):
            continue
        for address in split_emails(cell):
            index.setdefault(email_key(address), customer)
    return index


def split_phones(text: str | None) -> list[str]:
    """The phone numbers in one cell (``;``, ``,``, ``/`` or new lines between them)."""
    if not text:
        return []
    return [p.strip() for p in _PHONE_SPLIT.split(text) if p.strip()]


def normalise_phone(text: str, region: str = DEFAULT_REGION) -> str:
    """The number in E.164 (``+8613800138000``), with `` ext. 12`` for an extension: the form
    numbers are compared in.

    Full-width digits (``１３８…``), ``0086…`` prefixes and extensions written ``转 12``,
    ``分机 12``, ``ext. 12`` or ``-12`` after a complete number are understood. Raises
    InvalidPhone when the text is not a valid number of ``region`` or, with a ``+`` prefix, of
    its own country: a number we cannot vouch for is better kept as the person wrote it than
    silently rewritten.
    """
    number = _parse_phone(text, region)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return f"{e164} ext. {number.extension}" if number.extension else e164


def display_phone(text: str, region: str = DEFAULT_REGION) -> str:
    """The number as xlcrm writes it in a sheet: international format, grouped as the
    country groups it (``+86 138 0013 8000``, ``+86 21 6555 1234 ext. 12``).

    One format everywhere — the demo, imports, exports — so a number reads the same wherever
    it was entered; comparisons use :func:`phone_key`, so older cells in E.164 or typed by
    hand still match. Raises InvalidPhone like :func:`normalise_phone`.
    """
    number = _parse_phone(text, region)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _parse_phone(text: str, region: str) -> phonenumbers.PhoneNumber:
    text = _EXTENSION.sub(r" ext. \1", unicodedata.normalize("NFKC", text).strip())
    candidates = [text]
    if "ext." not in text and _TRAILING_EXT.match(text):
        candidates.append(_TRAILING_EXT.sub(r"\1 ext. \2", text))
    problem = "not a valid number"
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region.upper() if region else None)
        except phonenumbers.NumberParseException as exc:
            problem = str(exc)
            continue
        if phonenumbers.is_valid_number(number):
            return number
        problem = "not a valid number"
    raise InvalidPhone(problem)


def phone_key(text: str, region: str = DEFAULT_REGION) -> str:
    """The form phone numbers are compared in: E.164 when valid, else the digits alone."""
    try:
        return normalise_phone(text, region)
    except InvalidPhone:
        return re.sub(r"\D", "", text)
