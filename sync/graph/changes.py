"""What a Graph folder holds that the last listing had not seen, and the state to remember.

Two ways of listing, and the state says which one a folder uses, so the next run uses the
same one (a compact JSON object, versioned, kept by the caller in the workbook)::

    {"v":1,"mode":"delta","folder":"AAMk…","link":"https://graph…/messages/delta?$deltatoken=…"}
    {"v":1,"mode":"received","folder":"AAMk…","at":"2026-03-01T08:00:00Z","ids":["AAMk…"]}

- **delta** (Graph's own change tracking): ``messages/delta?changeType=created&$select=id``,
  page after page (``@odata.nextLink``) up to the ``@odata.deltaLink``, which is the state.
  Only ids are asked for; the message bytes come later from ``fetch``. ``changeType=created``
  keeps messages that were only read or flagged out of the next round (Graph may still send
  ``@removed`` entries, which are not new messages and are skipped). When Graph no longer
  knows the delta token (410 Gone, ``SyncStateNotFound``: tokens expire, and mailboxes
  move between servers), the folder is listed again from the start with ``reset=True``.
- **received** (where there is no delta: Graph operated by 21Vianet, or a server that answers
  delta with 400/501 "not supported"): ``messages?$filter=receivedDateTime ge T&$orderby=
  receivedDateTime``. The state is the newest receivedDateTime listed plus the ids listed at
  that very instant, so the next run starts *at* T (not after it): a message received in
  the same second as the last one listed is found, and those already listed are not listed
  twice. Pages are walked by time (the next page starts at the last time seen), which keeps a
  message deleted meanwhile from shifting a ``$skip`` page over one that was never seen;
  only when a whole page shares one instant is Graph's own next link followed.
  Its limit: a message moved into the folder keeps its old receivedDateTime and is not
  found; that is why delta is used wherever Graph has it.

A state that cannot be read (not ours, another version, another folder, a link to another
server) gives a warning and a full listing with ``reset=True``; the caller's Message-ID
deduplication keeps that from adding anything twice.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from ..mailbox import MailboxError, warn_unreadable_state
from .client import GraphClient, GraphError

log = logging.getLogger("sync.graph")

VERSION = 1
EPOCH = "1900-01-01T00:00:00Z"  # "since the beginning": a filter Graph accepts


@dataclass(frozen=True)
class Listing:
    ids: list[str]
    state: str
    reset: bool


@dataclass(frozen=True)
class DeltaState:
    folder: str
    link: str


@dataclass(frozen=True)
class ReceivedState:
    folder: str
    at: datetime
    ids: frozenset[str]


class _Gone(Exception):
    """Graph no longer knows the delta token."""


class _NoDelta(Exception):
    """This Graph has no delta function."""


def encode(state: DeltaState | ReceivedState) -> str:
    if isinstance(state, DeltaState):
        data: dict[str, Any] = {"mode": "delta", "folder": state.folder, "link": state.link}
    else:
        data = {
            "mode": "received",
            "folder": state.folder,
            "at": format_time(state.at),
            "ids": sorted(state.ids),
        }
    return json.dumps({"v": VERSION, **data}, separators=(",", ":"))


def decode(client: GraphClient, text: str) -> DeltaState | ReceivedState:
    """Our state, or ValueError saying why it is not one."""
    try:
        data = json.loads(text)
    except ValueError:
        raise ValueError("not JSON") from None
    if not isinstance(data, dict) or data.get("v") != VERSION:
        raise ValueError("not a state this version of xlcrm wrote for Graph")
    folder = data.get("folder")
    if not isinstance(folder, str) or not folder:
        raise ValueError("no folder id")
    if data.get("mode") == "delta":
        link = data.get("link")
        if not isinstance(link, str) or not client.is_ours(link):
            raise ValueError("the delta link does not point at the configured Graph server")
        return DeltaState(folder, link)
    if data.get("mode") == "received":
        ids = data.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError("ids must be a list of strings")
        return ReceivedState(folder, parse_time(str(data.get("at"))), frozenset(ids))
    raise ValueError(f"unknown mode {data.get('mode')!r}")


def parse_time(text: str) -> datetime:
    """Graph's ``2026-03-01T08:00:00Z`` (sometimes with fractions) as an aware datetime."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"a time without a zone: {text!r}")
    return value.astimezone(timezone.utc)


def format_time(value: datetime) -> str:
    """The OData literal for ``value`` (UTC, ``Z``), with fractions only when there are any."""
    text = value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{value.microsecond:06d}Z" if value.microsecond else f"{text}Z"


def list_changes(
    client: GraphClient,
    folder: str,
    folder_id: str,
    state: str | None,
    *,
    delta: bool,
    page_size: int,
) -> tuple[Listing, bool]:
    """New message ids in the folder since ``state``; also whether delta works here."""
    old: DeltaState | ReceivedState | None = None
    reset = False
    if state is not None:
        try:
            old = decode(client, state)
        except ValueError as error:
            warn_unreadable_state(log, client.where, folder, error)
            reset = True
        if old is not None and old.folder != folder_id:
            log.warning(
                "%s: %s: the folder was deleted and made again since the last run;"
                " listing the whole folder",
                client.where,
                folder,
            )
            old, reset = None, True
    if isinstance(old, ReceivedState) or (old is None and not delta):
        received = old if isinstance(old, ReceivedState) else None
        return by_received_time(client, folder_id, received, reset, page_size), delta
    link = old.link if isinstance(old, DeltaState) else None
    try:
        return by_delta(client, folder, folder_id, link, reset, page_size), True
    except _NoDelta:
        log.info(
            "%s: this Microsoft Graph has no message delta; listing by received time",
            client.where,
        )
        listing = by_received_time(client, folder_id, None, reset or link is not None, page_size)
        return listing, False


def by_delta(
    client: GraphClient,
    folder: str,
    folder_id: str,
    link: str | None,
    reset: bool,
    page_size: int,
) -> Listing:
    try:
        ids, delta_link = _delta_round(client, folder_id, link, page_size)
    except _Gone:
        if link is None:  # even a fresh round was refused: not something a retry fixes
            raise MailboxError(
                client.where,
                f"{folder}: Microsoft Graph lost track of a delta listing while it was running",
                "run the command again",
            ) from None
        log.warning(
            "%s: %s: Microsoft Graph no longer knows the last sync point (it expires);"
            " listing the whole folder",
            client.where,
            folder,
        )
        return by_delta(client, folder, folder_id, None, True, page_size)
    return Listing(ids, encode(DeltaState(folder_id, delta_link)), reset)


def _delta_round(
    client: GraphClient, folder_id: str, link: str | None, page_size: int
) -> tuple[list[str], str]:
    """One round of delta calls: the ids created since ``link``, and the next delta link."""
    path = f"{client.settings.mailbox_path}/mailFolders/{_segment(folder_id)}/messages/delta"
    target = link or client.url(path)
    params: dict[str, str] | None = None if link else {"changeType": "created", "$select": "id"}
    headers = {"Prefer": f"odata.maxpagesize={page_size}"}
    ids: list[str] = []
    seen: set[str] = set()
    while True:
        status, body = client.get_json(target, params, headers, accept=(400, 410, 501))
        if status == 410 or (status == 400 and _says_gone(body)):
            raise _Gone
        if status == 501 or (status == 400 and _says_unsupported(body)):
            raise _NoDelta
        if status == 400:
            raise GraphError(
                client.where,
                f"Microsoft Graph refused the delta listing ({_describe(body)})",
                None,
                status,
                _code(body),
            )
        for item in body.get("value", []):
            if not isinstance(item, dict) or "@removed" in item or not item.get("id"):
                continue
            if item["id"] not in seen:
                seen.add(item["id"])
                ids.append(item["id"])
        if body.get("@odata.nextLink"):
            target, params = client.link(body["@odata.nextLink"]), None
        elif body.get("@odata.deltaLink"):
            return ids, client.link(body["@odata.deltaLink"])
        else:
            raise MailboxError(
                client.where,
                "Microsoft Graph ended a delta page without a next link or a delta link",
                "check XLCRM_GRAPH_URL",
            )


def by_received_time(
    client: GraphClient,
    folder_id: str,
    old: ReceivedState | None,
    reset: bool,
    page_size: int,
) -> Listing:
    path = f"{client.settings.mailbox_path}/mailFolders/{_segment(folder_id)}/messages"

    def query(since: datetime | None) -> dict[str, str]:
        return {
            "$filter": f"receivedDateTime ge {format_time(since) if since else EPOCH}",
            "$orderby": "receivedDateTime",
            "$select": "id,receivedDateTime",
            "$top": str(page_size),
        }

    since = old.at if old else None
    before = old.ids if old else frozenset()
    at, at_ids = since, set(before)
    ids: list[str] = []
    seen: set[str] = set()
    page_from = since
    target: str = client.url(path)
    params: dict[str, str] | None = query(since)
    while True:
        _, body = client.get_json(target, params)
        items = [i for i in body.get("value", []) if isinstance(i, dict) and i.get("id")]
        last = None
        for item in items:
            when = parse_time(str(item.get("receivedDateTime")))
            last = when
            ident = item["id"]
            if ident in seen or (since and (when < since or (when == since and ident in before))):
                continue
            seen.add(ident)
            ids.append(ident)
            if at is None or when > at:
                at, at_ids = when, {ident}
            elif when == at:
                at_ids.add(ident)
        next_link = body.get("@odata.nextLink")
        if not next_link or last is None:
            break
        if page_from is None or last > page_from:
            page_from = last  # the next page starts at the last instant seen; `seen` skips it
            target, params = client.url(path), query(last)
        else:  # a whole page at one instant: only Graph's own $skip link gets past it
            target, params = client.link(next_link), None
    at = at or parse_time(EPOCH)  # an empty folder: from the beginning next time too
    return Listing(ids, encode(ReceivedState(folder_id, at, frozenset(at_ids))), reset)


def _segment(folder_id: str) -> str:
    return quote(folder_id, safe="")


def _code(body: dict[str, Any]) -> str:
    error = body.get("error")
    return str(error.get("code") or "") if isinstance(error, dict) else ""


def _describe(body: dict[str, Any]) -> str:
    error = body.get("error")
    if not isinstance(error, dict):
        return "no details"
    return f"{error.get('code')}: {error.get('message')}"


def _says_gone(body: dict[str, Any]) -> bool:
    return _code(body).lower() in ("syncstatenotfound", "resyncrequired", "syncstateinvalid")


def _says_unsupported(body: dict[str, Any]) -> bool:
    text = _describe(body).lower().replace(" ", "")
    return "notsupported" in text or "notimplemented" in text
