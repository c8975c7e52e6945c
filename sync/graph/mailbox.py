"""``GraphMailbox``: an Exchange Online mailbox through Microsoft Graph, as a ``Mailbox``.

Folders are named as a person sees them in Outlook, children after their parent with ``/``
(``收件箱``, ``Inbox/Customers``); roles come from Graph's well-known folder names (inbox,
sentitems, drafts), not from display names, which Exchange translates into the mailbox's
language. Message keys are Graph message ids; the bytes are the MIME that
``messages/{id}/$value`` returns. A sync only reads (GET); ``send`` and ``save_draft`` are
the only requests that change anything (``was_sent`` is a GET on Sent Items).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import time
from collections.abc import Iterator, Sequence
from urllib.parse import quote

import httpx

from ..mailbox import (
    Changes,
    Folder,
    FolderRole,
    MailboxError,
    MessageRef,
    bracketed_message_id,
    parse_url,
    same_message_id,
    warn_gone,
)
from .auth import token_source
from .changes import list_changes
from .client import GraphClient, RetryPolicy, Sleep
from .settings import settings_from

log = logging.getLogger("sync.graph")

_WELL_KNOWN: dict[str, FolderRole] = {"inbox": "inbox", "sentitems": "sent", "drafts": "drafts"}
_FOLDER_FIELDS = {"$select": "id,displayName,childFolderCount", "$top": "100"}


class GraphMailbox:
    """The mailbox ``graph://user@tenant`` (settings: see :mod:`sync.graph`).

    Opening signs in and reads the Inbox's id, so a refused sign-in, an unknown user or an
    unreachable server is an error before any work starts. (A 403 there is not: an app
    registration allowed only to send can still send.) ``sleep`` is how throttling waits;
    tests pass their own so they do not really wait.
    """

    def __init__(
        self,
        url: str,
        *,
        address: str | None = None,
        insecure: bool = False,
        sleep: Sleep = time.sleep,
        retry: RetryPolicy | None = None,
        page_size: int = 100,
    ) -> None:
        parsed = parse_url(url)
        if parsed.scheme != "graph":
            raise ValueError(f"GraphMailbox reads graph: URLs, not {url!r}")
        self.url = parsed.text
        self._settings = settings_from(parsed)
        self.address: str | None = address or self._settings.user
        self._page_size = page_size
        if insecure:
            log.warning(
                "%s: certificate checks are off (--insecure): use this only for a test server",
                self.url,
            )
        self._http = httpx.Client(
            verify=not insecure,
            timeout=httpx.Timeout(60.0, connect=15.0),
            headers={"User-Agent": "xlcrm"},
        )
        try:
            auth = token_source(self._settings, self._http)
            self._client = GraphClient(self._settings, self._http, auth, sleep=sleep, retry=retry)
            self._delta = self._settings.delta_available
            self._ids: dict[str, str] = {}  # folder name → Graph folder id, as last listed
            self._check()
        except BaseException:
            self._http.close()
            raise

    def _check(self) -> None:
        status, _ = self._client.get_json(
            f"{self._settings.mailbox_path}/mailFolders/inbox", {"$select": "id"}, accept=(403,)
        )
        if status == 403:
            log.debug("%s: may not read the Inbox; reading will say so", self.url)

    # -- folders

    def folders(self) -> list[Folder]:
        """Inbox, Sent Items and Drafts first, then every other folder, children after their
        parent (paged: a mailbox may have thousands of folders)."""
        base = self._settings.mailbox_path
        roles: dict[str, FolderRole] = {}
        for name, role in _WELL_KNOWN.items():
            status, body = self._client.get_json(
                f"{base}/mailFolders/{name}", {"$select": "id"}, accept=(404,)
            )
            if status == 200 and body.get("id"):
                roles[body["id"]] = role
        found: list[tuple[str, str]] = []  # (name, id), depth first
        self._walk(f"{base}/mailFolders", "", found)
        self._ids = {name: ident for name, ident in found}
        order = {"inbox": 0, "sent": 1, "drafts": 2, "other": 3}
        listed = [Folder(name, roles.get(ident, "other")) for name, ident in found]
        return sorted(listed, key=lambda folder: order[folder.role])  # stable: keeps the rest

    def _walk(self, path: str, prefix: str, found: list[tuple[str, str]]) -> None:
        for item in self._client.pages(path, _FOLDER_FIELDS):
            ident, name = item.get("id"), str(item.get("displayName") or "")
            if not ident:
                continue
            full = f"{prefix}{name}"
            found.append((full, ident))
            if item.get("childFolderCount"):
                child = f"{self._settings.mailbox_path}/mailFolders/{quote(ident, safe='')}"
                self._walk(f"{child}/childFolders", f"{full}/", found)

    def _folder_id(self, folder: str) -> str:
        if folder not in self._ids:
            names = [f.name for f in self.folders()]
            if folder not in self._ids:
                raise MailboxError(
                    self.url,
                    f"there is no folder {folder!r}",
                    f"the folders are: {', '.join(names) or 'none'}",
                )
        return self._ids[folder]

    # -- reading

    def changes(self, folder: str, state: str | None) -> Changes:
        listing, self._delta = list_changes(
            self._client,
            folder,
            self._folder_id(folder),
            state,
            delta=self._delta,
            page_size=self._page_size,
        )
        refs = [MessageRef(folder, ident) for ident in listing.ids]
        return Changes(refs, listing.state, listing.reset)

    def fetch(self, refs: Sequence[MessageRef]) -> Iterator[tuple[MessageRef, bytes]]:
        """Each message's MIME, in order; one deleted since it was listed is skipped."""
        for ref in refs:
            path = f"{self._settings.mailbox_path}/messages/{quote(ref.key, safe='')}/$value"
            response = self._client.request("GET", path, accept=(404,))
            if response.status_code == 404:
                warn_gone(log, self.url, ref.folder, ref.key)
                continue
            yield ref, response.content

    # -- writing

    def send(self, message: bytes) -> None:
        """Send through Exchange: ``sendMail`` with the MIME, which keeps a copy in Sent Items.

        Exchange makes the item's recipients from the MIME To, Cc and Bcc, as for a message
        sent from Outlook, so Bcc recipients get it without the others seeing them."""
        self._post("sendMail", message)

    def save_draft(self, message: bytes) -> None:
        """Create the message in Drafts (``POST messages`` with MIME makes a draft)."""
        response = self._post("messages", message)
        with contextlib.suppress(ValueError):
            log.debug("%s: draft saved as %s", self.url, response.json().get("id"))

    def was_sent(self, message_id: str) -> bool | None:
        """Whether Sent Items holds a message with this Message-ID (``sendMail`` leaves the
        copy there, keeping the MIME's Message-ID as its ``internetMessageId``).

        Exchange files that copy a moment after ``sendMail`` answers, so this is for a campaign
        resumed after a crash, not for checking a message sent a second ago."""
        return self._in_folder("sentitems", message_id)

    def was_drafted(self, message_id: str) -> bool | None:
        """Whether Drafts holds a message with this Message-ID (a draft made from MIME keeps
        it as its ``internetMessageId``), so a resumed run saving drafts saves each once."""
        return self._in_folder("drafts", message_id)

    def _in_folder(self, well_known: str, message_id: str) -> bool:
        wanted = bracketed_message_id(message_id)
        quoted = wanted.replace("'", "''")  # OData string literals double their quotes
        _, body = self._client.get_json(
            f"{self._settings.mailbox_path}/mailFolders/{well_known}/messages",
            {
                "$filter": f"internetMessageId eq '{quoted}'",
                "$select": "id,internetMessageId",
                "$top": "10",
            },
        )
        found = [item.get("internetMessageId") for item in body.get("value", [])]
        return any(same_message_id(ident, wanted) for ident in found)

    def _post(self, what: str, message: bytes) -> httpx.Response:
        """POST ``message`` as Graph takes MIME: base64 text, ``Content-Type: text/plain``."""
        return self._client.request(
            "POST",
            f"{self._settings.mailbox_path}/{what}",
            content=base64.b64encode(message),
            headers={"Content-Type": "text/plain"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GraphMailbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
