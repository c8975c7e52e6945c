"""IMAP folder listings: names as people read them, and what each folder is for.

Roles come first from the server: RFC 6154 special-use attributes (``\\Sent``, ``\\Drafts``)
in LIST, or Gmail's older XLIST (which also marks ``\\Inbox``) on servers that have XLIST but
not SPECIAL-USE. Servers that mark nothing (many Chinese providers, older Exchange) get roles
from the folder's name (``Sent Items``, ``已发送``, ``草稿箱``), for top-level folders and
children of INBOX (``INBOX.Sent`` on Courier-style servers) only: ``Customers/Sent`` is a
customer's folder, not the mailbox's sent mail.

Names travel in modified UTF-7 (``&XfJT0ZAB-`` is ``已发送``); a few servers send raw UTF-8
instead. Both are shown decoded, and the name exactly as the server sent it is kept to talk
to the server about that folder again. Folders marked ``\\Noselect`` or ``\\NonExistent``
hold no messages (a hierarchy level only) and are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..mailbox import FolderRole, role_from_name
from ..utf7 import decode_folder_name, encode_utf7

_ROLE_FLAGS: dict[bytes, FolderRole] = {
    b"\\inbox": "inbox",  # XLIST
    b"\\sent": "sent",
    b"\\drafts": "drafts",
}
_SKIP_FLAGS = {b"\\noselect", b"\\nonexistent"}


@dataclass(frozen=True)
class Listed:
    """One selectable folder: shown name, name on the wire, role."""

    name: str
    wire: str
    role: FolderRole


def _text(raw: bytes | str | int) -> str:
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace")
    return str(raw)  # imapclient turns a quoted numeric name ("2024") into an int


def folder_role(name: str, flags: Iterable[bytes], delimiter: str | None) -> FolderRole:
    """The role of a folder from its LIST attributes, else from its name."""
    lowered = {flag.lower() for flag in flags}
    for flag, role in _ROLE_FLAGS.items():
        if flag in lowered:
            return role
    if name.upper() == "INBOX":
        return "inbox"
    parent, leaf = "", name
    if delimiter and delimiter in name:
        parent, _, leaf = name.rpartition(delimiter)
    if parent.upper() in ("", "INBOX"):
        return role_from_name(leaf)
    return "other"


def parse_listing(entries: Sequence[tuple[Sequence[bytes], bytes | None, object]]) -> list[Listed]:
    """LIST (or XLIST) responses as imapclient parses them: ``(flags, delimiter, name)``."""
    found: list[Listed] = []
    seen: set[str] = set()
    for flags, delimiter, raw in entries:
        if {flag.lower() for flag in flags} & _SKIP_FLAGS:
            continue
        wire = _text(raw)  # type: ignore[arg-type]
        name = decode_folder_name(wire)
        if name.upper() == "INBOX" or b"\\inbox" in {flag.lower() for flag in flags}:
            # INBOX is case-insensitive (RFC 3501); XLIST may show it localised ("收件箱"),
            # a name that SELECT does not know.
            name = wire = "INBOX"
        if name in seen:
            continue
        seen.add(name)
        sep = delimiter.decode("ascii", "replace") if isinstance(delimiter, bytes) else None
        found.append(Listed(name, wire, folder_role(name, flags, sep)))
    # INBOX first, then the server's order (which is usually the order people see).
    found.sort(key=lambda listed: listed.name != "INBOX")
    return found


def wire_name(name: str, known: dict[str, str]) -> str:
    """The name to send for folder ``name``: as last listed, else encoded in modified UTF-7."""
    return known.get(name) or encode_utf7(name)
