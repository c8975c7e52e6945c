"""The incremental state of one IMAP folder, and deciding what is new.

IMAP gives every message in a folder a UID that only grows, valid as long as the folder's
UIDVALIDITY stays the same (RFC 3501 §2.3.1.1). So "what is new since last time" is "the
UIDs above the last one seen", and the state is three numbers, as compact JSON::

    {"v":1,"uv":1712345678,"uid":4711,"ms":90210}

- ``uv``: UIDVALIDITY when the folder was listed. A different value means the server
  renumbered the folder (re-created, restored, migrated): the old UIDs mean nothing, and the
  whole folder is listed again with ``reset=True``.
- ``uid``: the highest UID listed so far.
- ``ms``: HIGHESTMODSEQ (RFC 7162 CONDSTORE), when the server has it, else absent. It grows
  with any change in the folder; the same value as last time means nothing changed, which
  answers without a SEARCH even on servers that send no UIDNEXT.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from ..mailbox import warn_unreadable_state

log = logging.getLogger("sync.imap")

VERSION = 1


@dataclass(frozen=True)
class FolderState:
    uidvalidity: int
    last_uid: int
    modseq: int | None = None

    def encode(self) -> str:
        data: dict[str, int] = {"v": VERSION, "uv": self.uidvalidity, "uid": self.last_uid}
        if self.modseq is not None:
            data["ms"] = self.modseq
        return json.dumps(data, separators=(",", ":"))


def decode_state(url: str, folder: str, text: str) -> FolderState | None:
    """The state ``text`` holds, or None (with a warning) when it is not one this backend
    wrote: another backend's state, an older format, a hand-edited cell."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("v") != VERSION:
            raise ValueError("not a version 1 IMAP state")
        uidvalidity, last_uid, modseq = data["uv"], data["uid"], data.get("ms")
        numbers = [uidvalidity, last_uid] + ([] if modseq is None else [modseq])
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers):
            raise ValueError("uv, uid and ms must be whole numbers")
        return FolderState(uidvalidity, last_uid, modseq)
    except (ValueError, KeyError, TypeError) as error:
        warn_unreadable_state(log, url, folder, error)
        return None


@dataclass(frozen=True)
class Selected:
    """What EXAMINE said about a folder."""

    uidvalidity: int
    exists: int
    uidnext: int | None
    modseq: int | None


def nothing_new(old: FolderState, now: Selected) -> bool:
    """Whether the folder certainly has no message above ``old.last_uid``, without a SEARCH.

    Any of three signs is enough: HIGHESTMODSEQ unchanged (no change of any kind), UIDNEXT
    not above the next UID we expected, or an empty folder.
    """
    if now.exists == 0:
        return True
    if old.modseq is not None and now.modseq is not None and now.modseq == old.modseq:
        return True
    return now.uidnext is not None and now.uidnext <= old.last_uid + 1
