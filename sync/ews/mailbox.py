"""``EwsMailbox``: an Exchange mailbox through Exchange Web Services, as a :class:`Mailbox`.

Reading uses only EWS read operations (GetFolder, FindFolder, SyncFolderItems, GetItem; and
FindItem for :meth:`EwsMailbox.was_sent`), none of which changes a message: GetItem does not
mark mail read, unlike opening it in Outlook. Writing happens only in :meth:`EwsMailbox.send`
and :meth:`EwsMailbox.save_draft`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from exchangelib.errors import (
    ErrorCorruptData,
    ErrorFolderNotFound,
    ErrorItemCorrupt,
    ErrorItemNotFound,
    ErrorMimeContentConversionFailed,
    ErrorSyncFolderNotFound,
)
from exchangelib.fields import FieldPath
from exchangelib.items import ID_ONLY, Message
from exchangelib.properties import ItemId
from exchangelib.services import GetItem

from ..mailbox import Changes, Folder, MailboxError, MessageRef, parse_url, warn_gone
from . import sending
from .changes import decode_state, list_new
from .connect import connect, credentials, endpoint, login_hint
from .errors import translated
from .folders import RemoteFolder, distinguished, subfolders, wellknown_folders

log = logging.getLogger("sync.ews")

FETCH_BATCH = 50  # items per GetItem request
GONE = (ErrorItemNotFound,)  # deleted or moved since it was listed
UNREADABLE = (ErrorItemCorrupt, ErrorCorruptData, ErrorMimeContentConversionFailed)
_MIME = FieldPath(field=Message.get_field_by_fieldname("mime_content"))


class EwsMailbox:
    """An Exchange mailbox: ``ews://user@host/EWS/Exchange.asmx``.

    Opening it signs in and reads the Inbox, Sent Items and Drafts folders, so a wrong password,
    a wrong address or an unreachable server is a :class:`MailboxError` before any work starts.
    """

    def __init__(self, url: str, *, address: str | None = None, insecure: bool = False) -> None:
        parsed = parse_url(url)
        if parsed.scheme not in ("ews", "ews+http"):
            raise ValueError(f"EwsMailbox reads ews:// URLs, not {url!r}")
        self.url = parsed.text
        self._where = endpoint(parsed, address)
        self.address: str | None = self._where.address
        self._account = connect(self._where, credentials(self._where), insecure=insecure)
        self._roles = distinguished(self._account)
        try:
            with self._translated("signing in"):
                self._wellknown = wellknown_folders(self._account, self._roles)
        except BaseException:
            self.close()  # no half-open connection left behind a failed open
            raise
        self._folders = {f.name: f for f in self._wellknown}

    def __repr__(self) -> str:
        return f"EwsMailbox({self.url!r})"

    def __enter__(self) -> EwsMailbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the Mailbox protocol

    def folders(self) -> list[Folder]:
        """Inbox, Sent Items, Drafts, then the Inbox's sub-folders by path."""
        listed = list(self._wellknown)
        inbox = next((f for f in self._wellknown if f.role == "inbox"), None)
        if inbox is not None:
            with self._translated("listing the folders"):
                listed += subfolders(self._account, inbox)
        self._folders = {f.name: f for f in listed}
        return [Folder(f.name, f.role) for f in listed]

    def changes(self, folder: str, state: str | None) -> Changes:
        remote = self._folder(folder)
        sync_state = None
        reset = False
        if state is not None:
            sync_state = decode_state(self.url, remote, state)
            reset = sync_state is None
        try:
            with self._translated(f"listing {folder}"):
                listing = list_new(self.url, self._account, remote, sync_state)
        except MailboxError as error:
            if isinstance(error.__cause__, ErrorFolderNotFound | ErrorSyncFolderNotFound):
                self._folders.pop(folder, None)
                raise MailboxError(
                    self.url,
                    f"the folder {folder!r} is gone from the server",
                    "it was deleted or renamed; the next run lists the folders again",
                ) from error.__cause__
            raise
        refs = [MessageRef(folder, item_id) for item_id in listing.ids]
        return Changes(refs, listing.state, reset=reset or listing.reset)

    def fetch(self, refs: Sequence[MessageRef]) -> Iterator[tuple[MessageRef, bytes]]:
        """Each message's MIME bytes as Exchange gives them, ``FETCH_BATCH`` per request, in
        the order asked; messages deleted since they were listed are skipped (logged)."""
        for start in range(0, len(refs), FETCH_BATCH):
            batch = refs[start : start + FETCH_BATCH]
            with self._translated("reading messages"):
                answers = list(
                    GetItem(account=self._account, chunk_size=len(batch)).call(
                        items=[ItemId(id=ref.key) for ref in batch],
                        additional_fields=[_MIME],
                        shape=ID_ONLY,
                    )
                )
            if len(answers) != len(batch):
                raise MailboxError(
                    self.url,
                    f"reading messages: the server answered {len(answers)} items for "
                    f"{len(batch)} asked",
                )
            for ref, answer in zip(batch, answers):
                data = self._mime(ref, answer)
                if data is not None:
                    yield ref, data

    def send(self, message: bytes) -> None:
        """Send ``message`` through Exchange, which keeps a copy in Sent Items."""
        with self._translated("sending a message"):
            sending.send(self._account, self._roles["sent"], message)

    def save_draft(self, message: bytes) -> None:
        with self._translated("saving a draft"):
            sending.save_draft(self._account, self._roles["drafts"], message)

    def was_sent(self, message_id: str) -> bool | None:
        """Whether Sent Items holds a message with this Message-ID (what :meth:`send` leaves
        there), so a resumed campaign does not send it twice."""
        with self._translated("looking in Sent Items"):
            return sending.holds(self._account, self._roles["sent"], message_id)

    def was_drafted(self, message_id: str) -> bool | None:
        """Whether Drafts holds a message with this Message-ID (what :meth:`save_draft`
        leaves there), so a resumed run saving drafts saves each one once."""
        with self._translated("looking in Drafts"):
            return sending.holds(self._account, self._roles["drafts"], message_id)

    def close(self) -> None:
        """Close the connection to the server (the mailbox can still be used: it reconnects)."""
        self._account.protocol.close()

    # -- helpers

    def _translated(self, doing: str):  # type: ignore[no-untyped-def]
        return translated(self.url, doing, lambda: login_hint(self._where), self._where.address)

    def _folder(self, name: str) -> RemoteFolder:
        if name not in self._folders:
            self.folders()
        found = self._folders.get(name)
        if found is None:
            names = ", ".join(self._folders) or "none"
            hint = f"the folders are: {names}"
            raise MailboxError(self.url, f"there is no folder {name!r}", hint)
        return found

    def _mime(self, ref: MessageRef, answer: object) -> bytes | None:
        if isinstance(answer, GONE):
            warn_gone(log, self.url, ref.folder, ref.key)
            return None
        if isinstance(answer, UNREADABLE):
            log.warning(
                "%s: %s: the server cannot give message %s as MIME (%s); skipped",
                self.url,
                ref.folder,
                ref.key,
                type(answer).__name__,
            )
            return None
        if isinstance(answer, Exception):
            with self._translated("reading messages"):
                raise answer
        data = getattr(answer, "mime_content", None)
        if not data:
            log.warning(
                "%s: %s: item %s has no MIME content (%s); skipped",
                self.url,
                ref.folder,
                ref.key,
                type(answer).__name__,
            )
            return None
        return bytes(data)
