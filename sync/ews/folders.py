"""Which folders an Exchange mailbox shows: Inbox, Sent Items and Drafts, and the Inbox's
sub-folders, with the names the server gives them (``收件箱``, ``已发送邮件`` in a mailbox set up in
Chinese).

Two requests: one GetFolder for the three distinguished folders (which also proves the sign-in
and that the mailbox exists, so the mailbox does it when it opens), and one FindFolder for
everything below the Inbox, where people file customer mail. Sub-folders are named by their
path, ``收件箱/客户/VIP``. Other folders (Deleted Items, Junk, archives, calendars) are not
customer correspondence and are left out.

exchangelib's ``account.inbox`` and ``account.root`` would fetch the root folder and walk the
whole folder tree first; the folder objects here are built from distinguished ids instead, so
nothing is asked that is not needed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from exchangelib import Account
from exchangelib.fields import FieldPath
from exchangelib.folders import BaseFolder, Drafts, Folder, Inbox, Root, SentItems
from exchangelib.folders.queryset import DEEP
from exchangelib.items import ID_ONLY
from exchangelib.properties import DistinguishedFolderId, Mailbox
from exchangelib.services import FindFolder, GetFolder

from ..mailbox import FolderRole

log = logging.getLogger("sync.ews")

WELLKNOWN: tuple[tuple[type[Folder], FolderRole], ...] = (
    (Inbox, "inbox"),
    (SentItems, "sent"),
    (Drafts, "drafts"),
)
_FIELDS = ("name", "parent_folder_id", "folder_class")


@dataclass(frozen=True)
class RemoteFolder:
    """A folder as listed: its name, role, EWS id, and the exchangelib object for requests."""

    name: str
    role: FolderRole
    id: str
    folder: BaseFolder


def distinguished(account: Account) -> dict[FolderRole, BaseFolder]:
    """Inbox, Sent Items and Drafts as folder objects that refer to the folders by role."""
    mailbox = Mailbox(email_address=account.primary_smtp_address)
    root = Root(
        account=account, _distinguished_id=DistinguishedFolderId(id="root", mailbox=mailbox)
    )
    return {
        role: cls(
            root=root,
            _distinguished_id=DistinguishedFolderId(
                id=cls.DISTINGUISHED_FOLDER_ID, mailbox=mailbox
            ),
        )
        for cls, role in WELLKNOWN
    }


def wellknown_folders(
    account: Account, folders: dict[FolderRole, BaseFolder]
) -> list[RemoteFolder]:
    """The distinguished folders the mailbox has, as RemoteFolder (one GetFolder request)."""
    requested = list(folders.values())
    fields = [FieldPath(field=Inbox.get_field_by_fieldname("name"))]
    found = []
    answers = GetFolder(account=account).call(
        folders=requested, additional_fields=fields, shape=ID_ONLY
    )
    for (role, _), answer in zip(folders.items(), answers):
        if isinstance(answer, Exception):  # a mailbox without Drafts, say
            log.info("the mailbox has no %s folder (%s)", role, type(answer).__name__)
            continue
        name = answer.name or type(answer).__name__
        found.append(RemoteFolder(name, role, answer.id, answer))
    return found


def subfolders(account: Account, parent: RemoteFolder) -> list[RemoteFolder]:
    """Every mail folder below ``parent``, named by path (one FindFolder request per 1,000)."""
    fields = [FieldPath(field=Folder.get_field_by_fieldname(name)) for name in _FIELDS]
    found = FindFolder(account=account, page_size=1000).call(
        folders=[parent.folder],
        additional_fields=fields,
        restriction=None,
        shape=ID_ONLY,
        depth=DEEP,
        max_items=None,
        offset=0,
    )
    by_id: dict[str, BaseFolder] = {}
    for folder in found:
        if isinstance(folder, Exception):
            raise folder
        by_id[folder.id] = folder
    listed = []
    for folder in by_id.values():
        if folder.folder_class and not folder.folder_class.startswith("IPF.Note"):
            continue  # a calendar or contacts folder someone made below the Inbox
        path = _path(folder, by_id, parent)
        if path is not None:
            listed.append(RemoteFolder(path, "other", folder.id, folder))
    return sorted(listed, key=lambda f: f.name)


def _path(folder: BaseFolder, by_id: dict[str, BaseFolder], top: RemoteFolder) -> str | None:
    """``收件箱/客户/VIP``: the names from ``top`` down to ``folder``."""
    names = [folder.name or folder.id]
    seen = {folder.id}
    current = folder
    while True:
        parent_id = current.parent_folder_id.id if current.parent_folder_id else None
        if parent_id == top.id:
            return "/".join([top.name, *reversed(names)])
        current = by_id.get(parent_id)  # type: ignore[arg-type]
        if current is None or current.id in seen:
            log.debug("folder %s is not below %s; skipped", folder.name, top.name)
            return None
        seen.add(current.id)
        names.append(current.name or current.id)
