"""Message-IDs and address lists: decoded, normalised, never raising."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .headers import QUOTED_PAIR, decode_header, fold
from .state import State


@dataclass(frozen=True)
class Address:
    """One mailbox: the decoded display name (may be empty) and the lower-cased address.

    Domains are compared as written: a punycode domain (``xn--fiqs8s``) stays punycode and a
    Unicode one stays Unicode, so the same spelling always links to the same customer.
    """

    name: str
    addr: str


ANGLE_ID = re.compile(r"<([^<>]*)>")


def message_id_text(value: str) -> str:
    """The text :func:`normalise_message_id` compares, before it checks that it is an id: the
    first ``<…>`` (or all of ``value``) without white space, lower-cased. The add-in's row
    filter compares workbook cells by this too, so it keeps every row sync would match."""
    start = value.find("<")
    if start >= 0:
        end = value.find(">", start + 1)
        value = value[start + 1 : end] if end > 0 else value[start + 1 :]
    return "".join(value.split()).lower()


def normalise_message_id(value: str) -> str | None:
    """The form sync compares Message-IDs in: ``" <AbC@X.com> "`` → ``"abc@x.com"``.

    Takes the first ``<…>`` when there is one (In-Reply-To often trails a comment), removes
    all white space (long ids get folded) and lower-cases. None when what is left is clearly
    not an id: empty, without ``id-left@id-right``, or holding brackets or control characters
    (``<>``, ``(null)``, ``<undefined>``).
    """
    if not value:
        return None
    ident = message_id_text(value)
    at = ident.rfind("@")
    if at <= 0 or at == len(ident) - 1 or len(ident) > 998:
        return None
    if "<" in ident or ">" in ident or not ident.isprintable():
        return None
    return ident


def message_ids(value: str) -> list[str]:
    """All ids in a References-style header, normalised, in order, without repeats."""
    found = ANGLE_ID.findall(value) or value.replace(",", " ").split()
    ids: list[str] = []
    for raw in found:
        ident = normalise_message_id(raw)
        if ident and ident not in ids:
            ids.append(ident)
    return ids


# An encoded-word first (it may hold commas), then quoted strings, comments, <addr>, the
# separators, and runs of anything else.
_ADDRESS_TOKEN = re.compile(
    r"""=\?[^?\s]+\?[bBqQ]\?[^?]*\?=|"(?:[^"\\]|\\.)*"?|\((?:[^()\\]|\\.)*\)?|<[^<>]*>?|[,;:]"""
    r"""|[^",;:<(=]+|="""
)
_NAME_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」"}  # opening: closing


def clean_addr(raw: str) -> str | None:
    """``" Zhang@Example.CN "`` → ``"zhang@example.cn"``; None unless local@domain."""
    addr = "".join(raw.split()).strip("'\"<>").rstrip(".")
    if addr[:7].lower() == "mailto:":
        addr = addr[7:]
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain or "<" in addr or ">" in addr:
        return None
    return addr.lower()


def _clean_name(raw: str, where: str, st: State) -> str:
    """A display name as the user would read it: decoded, folded, outer quotes removed."""
    if not raw:
        return ""
    name = fold(decode_header(raw, where, st))
    while len(name) >= 2 and _NAME_QUOTES.get(name[0]) == name[-1]:
        name = name[1:-1].strip()
    return name


# The everyday forms, read by one regular expression per address: ``"Name" <a@b>``,
# ``Name <a@b>``, ``=?utf-8?B?…?= <a@b>`` and bare ``a@b``, comma-separated. Anything else
# (comments, groups, escapes, commas in names) goes through the tokenizer below.
_ADDR_SPEC = r"[^<>\s\"(),;:\\]+@[^<>\s\"(),;:\\@]+"
_SIMPLE_ADDRESS = re.compile(
    rf"""[ \t]*(?:(?:"([^"\\]*)"[ \t]*|([A-Za-z0-9 \t.'_=?+/!#$%&*^`{{|}}~-]*))<({_ADDR_SPEC})>"""
    rf"""|({_ADDR_SPEC}))[ \t]*(?:,|$)"""
)


def _raw_utf8(value: str) -> str:
    """A header value with raw 8-bit bytes (surrogate-escaped) → text when they are UTF-8
    (RFC 6532: SMTPUTF8 addresses such as ``danglüe@…``), else unchanged: display names are
    then read by evidence, and addresses refused by :func:`_exact`."""
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeDecodeError:
        return value


def _exact(addr: str, where: str, st: State) -> bool:
    """True unless the address holds raw bytes that are not UTF-8.

    Such an address cannot be written back exactly (SMTPUTF8 is UTF-8) and any reading of
    it is a guess; a guessed address would link mail to the wrong customer or create a
    lead nobody can write to. It is left out, and the defect says so.
    """
    try:
        addr.encode("utf-8")
    except UnicodeEncodeError:
        shown = addr.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
        st.defect(f"{where}: address {shown} has 8-bit bytes that are not UTF-8; left out")
        return False
    return True


def parse_addresses(value: str, where: str, st: State) -> list[Address]:
    """An address-list header (unfolded, not yet decoded) → addresses, never raising.

    Raw 8-bit addresses come back exactly when they are UTF-8, and are left out (with a
    defect) when they are not: see :func:`_exact`.
    """
    if not value.isascii():
        value = _raw_utf8(value)
    found: list[Address] = []
    pos, end = 0, len(value)
    while pos < end:
        match = _SIMPLE_ADDRESS.match(value, pos)
        if match is None or match.end() == pos:
            if value[pos:].strip():
                return _parse_address_tokens(value, where, st)
            break
        quoted, plain, angle, bare = match.groups()
        addr = (angle or bare).lower()
        if addr[-1] in ".'" or addr[0] == "'":  # "'a@x.cn'" from Outlook, a trailing dot
            addr = clean_addr(addr) or addr
        name = quoted if quoted is not None else plain or ""
        if name and (
            "=?" in name or not name.isascii() or "  " in name or "\t" in name or name[0] in "'\""
        ):
            name = _clean_name(name, where, st)
        if addr.isascii() or _exact(addr, where, st):
            found.append(Address(name.strip(), addr))
        pos = match.end()
    return found


def _parse_address_tokens(value: str, where: str, st: State) -> list[Address]:
    """An address-list header that is not in an everyday form → addresses, never raising.

    Handles ``Name <addr>``, ``"Last, First" <addr>``, ``addr (Name)``, bare addresses,
    groups (``undisclosed-recipients:;``), ``;`` as a separator (pasted from Outlook), and an
    unquoted comma in a name (``Zhang, San <z@x>``). Names are decoded after splitting, so a
    comma inside an encoded-word cannot split an address.
    """
    found: list[Address] = []
    texts: list[str] = []  # quoted strings and plain runs of the current element
    comments: list[str] = []
    angle: str | None = None
    carry = ""  # a name with no address, waiting for the next element ("Zhang, San <z@x>")

    def flush() -> None:
        nonlocal angle, carry
        text = "".join(texts)
        name_raw = text
        addr: str | None = None
        if angle is not None:
            addr = clean_addr(angle)
        else:
            words = text.split()
            at_words = [w for w in words if "@" in w]
            if at_words:
                addr = clean_addr(at_words[-1])
                words.remove(at_words[-1])
                name_raw = " ".join(words)
        if not name_raw.strip() and comments:
            name_raw = " ".join(comments)
        if addr is None:
            if angle is not None and (angle.strip() or text.strip()):
                st.defect(f"{where}: not an address: {angle!r}")
            elif text.strip():
                carry = f"{carry}, {text.strip()}" if carry else text.strip()
        elif addr.isascii() or _exact(addr, where, st):
            name = _clean_name(name_raw, where, st)
            if carry:
                name = f"{_clean_name(carry, where, st)}, {name}" if name else carry
                carry = ""
            found.append(Address(name, addr))
        texts.clear()
        comments.clear()
        angle = None

    for token in _ADDRESS_TOKEN.findall(value):
        first = token[0]
        if first == '"':
            inner = token[1:-1] if len(token) > 1 and token.endswith('"') else token[1:]
            texts.append(QUOTED_PAIR.sub(r"\1", inner) if "\\" in inner else inner)
        elif first == "(":
            comments.append(token[1:-1] if token.endswith(")") else token[1:])
        elif first == "<":
            if angle is not None:  # two <addr> without a comma between them
                flush()
            angle = token[1:-1] if token.endswith(">") else token[1:]
        elif token in (",", ";"):
            flush()
        elif token == ":":
            if angle is None and "@" not in "".join(texts):
                texts.clear()  # a group name
                carry = ""
            else:
                texts.append(token)
        else:
            texts.append(token)
    flush()
    return found


def normalise_address(value: str) -> str | None:
    """The form sync compares addresses in: ``'"Zhang" <Zhang@X.CN>'`` → ``"zhang@x.cn"``.

    Accepts a bare address or one with a display name; takes the first of a list. None when
    there is no ``local@domain``.
    """
    found = parse_addresses(value or "", "address", State())
    return found[0].addr if found else None
