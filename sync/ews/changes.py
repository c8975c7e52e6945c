"""Listing what is new in a folder: EWS SyncFolderItems, and the state it resumes from.

The server keeps track of what a client has seen; the client keeps only the opaque SyncState
string it was last given. A listing asks for item ids only (``IdOnly``, no other property),
512 changes at a time (the most Exchange returns), until the server says the last change is
included. Only creations are listed: read flags changing, items being deleted or edited
are not new correspondence.

The state xlcrm stores is versioned JSON that also names the folder, so a folder that was
deleted and re-created under the same name (a new id) starts over instead of resuming from a
state that belongs to another folder::

    {"v":1,"folder":"AAMkAD…","sync":"H4sIAAAAAAAEAO29B2AcSZ…"}

When the server no longer accepts a state (``ErrorInvalidSyncStateData``: states expire, and a
mailbox move to another database invalidates them) or the stored text is not one of ours, the
whole folder is listed with ``reset=True``, and Message-ID deduplication keeps the workbook
from getting anything twice.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from exchangelib import Account
from exchangelib.errors import ErrorInvalidSyncStateData, MalformedResponseError
from exchangelib.items import ID_ONLY
from exchangelib.services import SyncFolderItems
from exchangelib.services.common import EWSAccountService
from exchangelib.util import MNS, xml_text_to_value

from ..mailbox import warn_unreadable_state
from .folders import RemoteFolder

log = logging.getLogger("sync.ews")

STATE_VERSION = 1
PAGE = 512  # Exchange's maximum for MaxChangesReturned
SCOPE = "NormalItems"  # not the folder's hidden (associated) items: rules, views


class _SyncFolderItems(SyncFolderItems):
    """exchangelib's SyncFolderItems, reading the answer's paging elements more carefully.

    exchangelib reads ``SyncState`` and ``IncludesLastItemInRange`` from every answer before it
    looks at the response code; Exchange leaves both out of error answers, which would surface
    as ``AttributeError`` instead of the error (``ErrorInvalidSyncStateData``) it reports.
    """

    def _get_element_container(self, message, name=None):  # type: ignore[no-untyped-def]
        if message.get("ResponseClass") != "Error":
            state = message.find(f"{{{MNS}}}SyncState")
            last = message.find(self.last_in_range_name)
            if state is None or not state.text or last is None:
                raise MalformedResponseError("a SyncFolderItems answer without its SyncState")
            self.sync_state = state.text
            self.includes_last_item_in_range = xml_text_to_value(last.text, bool)
        return EWSAccountService._get_element_container(self, message, name=name)


@dataclass(frozen=True)
class Listing:
    ids: list[str]  # new items' EWS ids, in the server's order
    state: str
    reset: bool


def encode_state(folder_id: str, sync_state: str) -> str:
    return json.dumps(
        {"v": STATE_VERSION, "folder": folder_id, "sync": sync_state}, separators=(",", ":")
    )


def decode_state(url: str, folder: RemoteFolder, state: str) -> str | None:
    """The SyncState to resume ``folder`` from, or None (logged) to list it all again."""
    try:
        data = json.loads(state)
        if not isinstance(data, dict) or data.get("v") != STATE_VERSION:
            raise ValueError("not a version 1 EWS state")
        folder_id, sync_state = data["folder"], data["sync"]
        if not isinstance(folder_id, str) or not isinstance(sync_state, str) or not sync_state:
            raise ValueError("folder and sync must be strings")
    except (ValueError, KeyError, TypeError) as error:
        warn_unreadable_state(log, url, folder.name, error)
        return None
    if folder_id != folder.id:
        log.warning(
            "%s: %s: the folder was re-created since the last run (its id changed); listing "
            "the whole folder",
            url,
            folder.name,
        )
        return None
    return sync_state


def list_new(url: str, account: Account, folder: RemoteFolder, sync_state: str | None) -> Listing:
    """The items created in ``folder`` since ``sync_state`` (None: every item)."""
    try:
        ids, state = _sync(account, folder, sync_state)
        return Listing(ids, encode_state(folder.id, state), reset=False)
    except ErrorInvalidSyncStateData:
        if sync_state is None:
            raise
        log.info(
            "%s: %s: the server no longer accepts the saved sync state; listing the whole folder",
            url,
            folder.name,
        )
    ids, state = _sync(account, folder, None)
    return Listing(ids, encode_state(folder.id, state), reset=True)


def _sync(account: Account, folder: RemoteFolder, sync_state: str | None) -> tuple[list[str], str]:
    service = _SyncFolderItems(account=account)
    ids: list[str] = []
    seen: set[str] = set()
    while True:
        answers = service.call(
            folder=folder.folder,
            shape=ID_ONLY,
            additional_fields=set(),
            sync_state=sync_state,
            ignore=None,
            max_changes_returned=PAGE,
            sync_scope=SCOPE,
        )
        for answer in answers:
            if isinstance(answer, Exception):
                raise answer
            change, item = answer
            if change != service.CREATE:
                continue
            if item.id and item.id not in seen:
                seen.add(item.id)
                ids.append(item.id)
        if service.includes_last_item_in_range or service.sync_state == sync_state:
            return ids, service.sync_state  # done (or the server makes no progress: stop)
        sync_state = service.sync_state
