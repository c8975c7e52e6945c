"""Reading vCards (2.1, 3.0, 4.0: a phone's or mail program's contacts) into a :class:`.Source`.

A card is not a row of columns: its properties are mapped to customer columns here (FN or N,
ORG, EMAIL, TEL, NOTE, CATEGORIES), names are put together the way their language writes them,
and each value keeps the line it came from, so a bad e-mail address is reported at its EMAIL
line rather than at the top of the card. :mod:`.sources` hands ``.vcf`` files to this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import vobject

from .. import customers as contacts
from ..errors import XlcrmError
from .rows import Row, Source

# vCard property -> canonical customer column. Everything else is listed as ignored.
_VCARD_COLUMNS = ("name", "company", "email", "phone", "notes", "tags")
_VCARD_QUIET = {"BEGIN", "END", "VERSION", "PRODID", "REV", "UID", "KIND", "N", "FN"}


def read_vcards(name: str, text: str) -> Source:
    """vCard 2.1/3.0/4.0: FN (or N) → name, ORG → company, every EMAIL → email, every TEL →
    phone, NOTE → notes, CATEGORIES → tags."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    located = _vcard_lines(text)
    rows: list[Row] = []
    ignored: list[str] = []
    try:
        cards = [c for c in vobject.readComponents(text) if c.name.upper() == "VCARD"]
    except Exception as exc:  # vobject raises ParseError and plain exceptions alike
        raise XlcrmError(name, f"cannot read the vCards ({exc})", "export them again") from None
    for n, card in enumerate(cards):
        begin, props = located[n] if n < len(located) else (1, {})
        contents = card.contents
        for prop in contents:
            upper = prop.upper()
            if upper not in _VCARD_QUIET and upper not in _VCARD_MAP and upper not in ignored:
                ignored.append(upper)
        values: list[Any] = []
        lines: list[list[int]] = []
        for column in _VCARD_COLUMNS:
            value, prop = _VCARD_READERS[column](contents)
            values.append(value)
            lines.append(props.get(prop, []) if prop else [])
        rows.append(Row(f"{name}:{begin}", begin, values, lines))
    return Source(name, "vcf", list(_VCARD_COLUMNS), rows, ignored=ignored)


def _vcard_lines(text: str) -> list[tuple[int, dict[str, list[int]]]]:
    """For each card: the line of BEGIN:VCARD and the lines of each property, in file order.

    vobject's own line numbers are unreliable, and a person wants to be sent to the EMAIL line
    that holds the bad address, not to the top of the card.
    """
    cards: list[tuple[int, dict[str, list[int]]]] = []
    props: dict[str, list[int]] | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        if not line or line[0] in " \t":
            continue  # folded continuation
        prop = line.split(":", 1)[0].split(";", 1)[0].rsplit(".", 1)[-1].strip().upper()
        if prop == "BEGIN" and line.split(":", 1)[-1].strip().upper() == "VCARD":
            if props is None:  # nested cards (AGENT) belong to their parent
                props = {}
                cards.append((number, props))
        elif prop == "END" and line.split(":", 1)[-1].strip().upper() == "VCARD":
            props = None
        elif props is not None:
            props.setdefault(prop, []).append(number)
    return cards


def _texts(contents: dict[str, list[Any]], prop: str) -> list[str]:
    out = []
    for line in contents.get(prop.lower(), []):
        value = line.value
        if isinstance(value, list | tuple):
            value = " ".join(str(v).strip() for v in value if str(v).strip())
        value = str(value).strip()
        if value:
            out.append(value)
    return out


def _vcard_name(contents: dict[str, list[Any]]) -> tuple[str | None, str | None]:
    full = _texts(contents, "fn")
    if full:
        return full[0], "FN"
    for line in contents.get("n", []):
        n = line.value
        family = " ".join(_as_list(getattr(n, "family", ""))).strip()
        given = " ".join(_as_list(getattr(n, "given", ""))).strip()
        if not (family or given):
            continue
        # Chinese (and Japanese, Korean) names are written family name first, without a space.
        if any(_is_cjk(ch) for ch in family + given):
            return family + given, "N"
        return " ".join(p for p in (given, family) if p), "N"
    return None, None


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value or "")]


def _is_cjk(ch: str) -> bool:
    return "\u3040" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" or "\uf900" <= ch <= "\ufaff"


def _joined(prop: str, sep: str) -> Callable[[dict[str, list[Any]]], tuple[str | None, str]]:
    def read(contents: dict[str, list[Any]]) -> tuple[str | None, str]:
        texts = _texts(contents, prop)
        if prop == "TEL":  # vCard 4.0 writes TEL;VALUE=uri:tel:+86-...
            texts = [t[4:] if t.lower().startswith("tel:") else t for t in texts]
        return (sep.join(texts) or None), prop

    return read


def _categories(contents: dict[str, list[Any]]) -> tuple[str | None, str]:
    tags: list[str] = []
    for line in contents.get("categories", []):
        value = line.value
        for tag in value if isinstance(value, list | tuple) else str(value).split(","):
            if str(tag).strip() and str(tag).strip() not in tags:
                tags.append(str(tag).strip())
    return (", ".join(tags) or None), "CATEGORIES"


_VCARD_READERS: dict[str, Callable[[dict[str, list[Any]]], tuple[str | None, str | None]]] = {
    "name": _vcard_name,
    "company": _joined("ORG", " "),
    "email": _joined("EMAIL", contacts.EMAIL_SEPARATOR),
    "phone": _joined("TEL", "; "),
    "notes": _joined("NOTE", "\n"),
    "tags": _categories,
}
_VCARD_MAP = {"ORG", "EMAIL", "TEL", "NOTE", "CATEGORIES"}
