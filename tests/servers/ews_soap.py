"""The SOAP side of the EWS test server: parse a request envelope, run the operation against the
store, and answer with the response XML Exchange 2016 sends.

Operations: GetFolder, FindFolder, SyncFolderItems, GetItem, FindItem (with no restriction, or
``IsEqualTo`` on ``message:InternetMessageId``, compared without regard to case as Exchange
compares strings), CreateItem (SaveOnly, SendOnly, SendAndSaveCopy) and SendItem. Anything
else is answered the way Exchange answers a request it cannot validate: HTTP 500 with an
``ErrorSchemaValidation`` SOAP fault. Errors about one folder or item are per-message errors
(``ResponseClass="Error"``), as on a real server.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from lxml import etree

from .ews_store import Store, StoredFolder
from .ews_xml import (
    API_VERSIONS,
    MAX_CHANGES,
    MESSAGE_FLAGS_TAGS,
    MSGFLAG_READ,
    MSGFLAG_UNSENT,
    Fault,
    M,
    Operation,
    ResponseError,
    S,
    T,
    envelope,
    failure,
    fault,
    folder_xml,
    item_xml,
    m,
    resolve_folder,
    shape,
    success,
    t,
)


def operation_name(data: bytes) -> str:
    """The operation an envelope asks for (``GetItem``), or ``""`` when it is not one."""
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return ""
    body = root.find(f"{{{S}}}Body")
    return etree.QName(body[0]).localname if body is not None and len(body) else ""


def handle(store: Store, data: bytes, user: str | None) -> tuple[Operation, int, bytes]:
    """Run the operation in the envelope ``data``: (what it was, HTTP status, response)."""
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as error:
        return Operation("(not XML)", user), 500, fault("ErrorSchemaValidation", str(error))
    body = root.find(f"{{{S}}}Body")
    request = body[0] if body is not None and len(body) else None
    name = etree.QName(request).localname if request is not None else "(empty)"
    version_elem = root.find(f"{{{S}}}Header/{{{T}}}RequestServerVersion")
    version = version_elem.get("Version") if version_elem is not None else None
    operation = Operation(name, user, version)
    run = OPERATIONS.get(name)
    if request is None or run is None or etree.QName(request).namespace != M:
        return operation, 500, fault("ErrorSchemaValidation", f"The request {name} is not valid.")
    if version is not None and version not in API_VERSIONS:
        return operation, 500, fault("ErrorInvalidServerVersion", "The server version is invalid.")
    try:
        with store.lock:
            messages = run(store, request, operation)
    except Fault as error:
        return operation, 500, fault(error.code, error.text)
    response = m(f"{name}Response")
    container = m("ResponseMessages", response)
    for message in messages:
        container.append(message)
    return operation, 200, envelope(response)


# ---- operations --------------------------------------------------------------------------------

Run = Callable[[Store, etree._Element, Operation], list[etree._Element]]


def get_folder(store: Store, request: etree._Element, op: Operation) -> list[etree._Element]:
    base, extra = shape(request.find(f"{{{M}}}FolderShape"))
    ids = request.find(f"{{{M}}}FolderIds")
    messages = []
    for elem in ids if ids is not None else []:
        try:
            folder = resolve_folder(store, elem)
        except ResponseError as error:
            messages.append(failure("GetFolder", error, "Folders"))
            continue
        message = success("GetFolder")
        m("Folders", message).append(folder_xml(store, folder, base, extra))
        messages.append(message)
    op.detail["folders"] = len(messages)
    return messages


def find_folder(store: Store, request: etree._Element, op: Operation) -> list[etree._Element]:
    base, extra = shape(request.find(f"{{{M}}}FolderShape"))
    deep = request.get("Traversal") == "Deep"
    view = request.find(f"{{{M}}}IndexedPageFolderView")
    limit = int(view.get("MaxEntriesReturned", "1000")) if view is not None else 1000
    offset = int(view.get("Offset", "0")) if view is not None else 0
    parents = request.find(f"{{{M}}}ParentFolderIds")
    messages = []
    for elem in parents if parents is not None else []:
        try:
            parent = resolve_folder(store, elem)
        except ResponseError as error:
            messages.append(failure("FindFolder", error))
            continue
        found = store.children(parent.id, deep=deep)
        page = found[offset : offset + limit]
        message = success("FindFolder")
        root = m(
            "RootFolder",
            message,
            IndexedPagingOffset=str(offset + len(page)),
            TotalItemsInView=str(len(found)),
            IncludesLastItemInRange="true" if offset + len(page) >= len(found) else "false",
        )
        folders = t("Folders", root)
        for folder in page:
            folders.append(folder_xml(store, folder, base, extra))
        messages.append(message)
    op.detail["traversal"] = request.get("Traversal")
    return messages


def sync_folder_items(store: Store, request: etree._Element, op: Operation) -> list:
    base, extra = shape(request.find(f"{{{M}}}ItemShape"))
    target = request.find(f"{{{M}}}SyncFolderId")
    if target is None or not len(target):
        raise Fault("ErrorSchemaValidation", "SyncFolderId is missing.")
    try:
        limit = int(request.findtext(f"{{{M}}}MaxChangesReturned") or "")
    except ValueError:
        raise Fault("ErrorSchemaValidation", "MaxChangesReturned is not a number.") from None
    if not 1 <= limit <= MAX_CHANGES:
        raise Fault("ErrorSchemaValidation", f"MaxChangesReturned must be 1 to {MAX_CHANGES}.")
    token = request.findtext(f"{{{M}}}SyncState") or None
    ignore = {e.get("Id") for e in request.iterfind(f"{{{M}}}Ignore/{{{T}}}ItemId")}
    op.detail.update(max_changes=limit, with_state=token is not None)
    try:
        folder = resolve_folder(store, target[0])
        since = 0
        if token is not None:
            known = store.sync_states.get(token)
            if known is None or known[0] != folder.id:
                raise ResponseError(
                    "ErrorInvalidSyncStateData",
                    "Synchronization state data is corrupt or otherwise invalid.",
                )
            since = known[1]
    except ResponseError as error:
        return [failure("SyncFolderItems", error)]
    changes = [c for c in store.changes_since(folder.id, since) if c.item_id not in ignore]
    page, last = changes[:limit], len(changes) <= limit
    upto = store.last_seq if last else page[-1].seq
    message = success("SyncFolderItems")
    m("SyncState", message, store.new_sync_state(folder.id, upto))
    m("IncludesLastItemInRange", message, "true" if last else "false")
    container = m("Changes", message)
    for change in page:
        elem = t(change.kind, container)
        if change.kind == "Create":
            elem.append(item_xml(store.items[change.item_id], base, extra))
        else:
            t("ItemId", elem, Id=change.item_id, ChangeKey="AQAAAA==")
            if change.kind == "ReadFlagChange":
                t("IsRead", elem, "true" if change.is_read else "false")
    op.detail["changes"] = len(page)
    return [message]


def get_item(store: Store, request: etree._Element, op: Operation) -> list[etree._Element]:
    base, extra = shape(request.find(f"{{{M}}}ItemShape"))
    messages = []
    ids = [e.get("Id", "") for e in request.iterfind(f"{{{M}}}ItemIds/{{{T}}}ItemId")]
    for item_id in ids:
        item = store.items.get(item_id)
        if item is None:
            error = ResponseError(
                "ErrorItemNotFound", "The specified object was not found in the store."
            )
            messages.append(failure("GetItem", error, "Items"))
            continue
        message = success("GetItem")
        m("Items", message).append(item_xml(item, base, extra))
        messages.append(message)
    op.detail["items"] = len(ids)
    return messages


def find_item(store: Store, request: etree._Element, op: Operation) -> list[etree._Element]:
    base, extra = shape(request.find(f"{{{M}}}ItemShape"))
    view = request.find(f"{{{M}}}IndexedPageItemView")
    limit = int(view.get("MaxEntriesReturned", "1000")) if view is not None else 1000
    offset = int(view.get("Offset", "0")) if view is not None else 0
    wanted = _restriction(request.find(f"{{{M}}}Restriction"))
    op.detail.update(traversal=request.get("Traversal"), restriction=wanted)
    parents = request.find(f"{{{M}}}ParentFolderIds")
    messages = []
    for elem in parents if parents is not None else []:
        try:
            folder = resolve_folder(store, elem)
        except ResponseError as error:
            messages.append(failure("FindItem", error))
            continue
        found = [
            item
            for item in store.in_folder(folder.id)
            if wanted is None or (item.message_id or "").lower() == wanted.lower()
        ]
        page = found[offset : offset + limit]
        message = success("FindItem")
        root = m(
            "RootFolder",
            message,
            IndexedPagingOffset=str(offset + len(page)),
            TotalItemsInView=str(len(found)),
            IncludesLastItemInRange="true" if offset + len(page) >= len(found) else "false",
        )
        items = t("Items", root)
        for item in page:
            items.append(item_xml(item, base, extra))
        messages.append(message)
    return messages


def _restriction(elem: etree._Element | None) -> str | None:
    """The InternetMessageId a FindItem restriction asks for; None when there is none."""
    if elem is None:
        return None
    equal = elem.find(f"{{{T}}}IsEqualTo")
    uri = equal.find(f"{{{T}}}FieldURI") if equal is not None else None
    constant = (
        equal.find(f"{{{T}}}FieldURIOrConstant/{{{T}}}Constant") if equal is not None else None
    )
    if uri is None or uri.get("FieldURI") != "message:InternetMessageId" or constant is None:
        raise Fault(
            "ErrorUnsupportedPathForQuery", "This server filters on InternetMessageId only."
        )
    return constant.get("Value", "")


def _transmit(store: Store, mime: bytes) -> None:
    try:
        store.transmit(mime)
    except ValueError:
        raise ResponseError(
            "ErrorInvalidRecipients", "At least one recipient is required."
        ) from None
    except PermissionError:
        raise ResponseError(
            "ErrorSendAsDenied",
            "The user account which was used to submit this request does not have the right to "
            "send mail on behalf of the specified sending account.",
        ) from None


def _saved_folder(store: Store, request: etree._Element, default: str) -> StoredFolder:
    saved = request.find(f"{{{M}}}SavedItemFolderId")
    if saved is not None and len(saved):
        return resolve_folder(store, saved[0])
    folder = store.distinguished(default)
    assert folder is not None
    return folder


def create_item(store: Store, request: etree._Element, op: Operation) -> list[etree._Element]:
    disposition = request.get("MessageDisposition")
    op.detail["disposition"] = disposition
    items = request.find(f"{{{M}}}Items")
    messages = []
    for elem in items if items is not None else []:
        try:
            messages.append(_create_one(store, request, elem, disposition))
        except ResponseError as error:
            messages.append(failure("CreateItem", error, "Items"))
    return messages


def _create_one(store, request, elem, disposition) -> etree._Element:
    encoded = elem.findtext(f"{{{T}}}MimeContent")
    if etree.QName(elem).localname != "Message" or not encoded:
        raise ResponseError("ErrorInvalidRequest", "This server creates messages from MIME only.")
    try:
        mime = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ResponseError(
            "ErrorMimeContentInvalidBase64String", "Invalid base64 string."
        ) from None
    flags = None
    for prop in elem.iterfind(f"{{{T}}}ExtendedProperty"):
        uri = prop.find(f"{{{T}}}ExtendedFieldURI")
        if uri is not None and uri.get("PropertyTag", "").lower() in MESSAGE_FLAGS_TAGS:
            flags = int(prop.findtext(f"{{{T}}}Value") or "0")
    message = success("CreateItem")
    container = m("Items", message)
    if disposition == "SaveOnly":
        folder = _saved_folder(store, request, "drafts")
        is_read = bool(flags & MSGFLAG_READ) if flags is not None else False
        is_draft = bool(flags & MSGFLAG_UNSENT) if flags is not None else False
        item = store.add_item(folder.id, mime, is_read=is_read, is_draft=is_draft)
        created = t("Message", container)
        t("ItemId", created, Id=item.id, ChangeKey=item.change_key)
    elif disposition in ("SendOnly", "SendAndSaveCopy"):
        folder = _saved_folder(store, request, "sentitems")
        _transmit(store, mime)
        if disposition == "SendAndSaveCopy":
            store.add_item(folder.id, mime, is_read=True)
    else:
        raise Fault("ErrorSchemaValidation", "MessageDisposition is missing or not valid.")
    return message


def send_item(store: Store, request: etree._Element, op: Operation) -> list[etree._Element]:
    keep = request.get("SaveItemToFolder", "").lower() in ("true", "1")
    ids = [e.get("Id", "") for e in request.iterfind(f"{{{M}}}ItemIds/{{{T}}}ItemId")]
    messages = []
    for item_id in ids:
        try:
            item = store.items.get(item_id)
            if item is None:
                raise ResponseError(
                    "ErrorItemNotFound", "The specified object was not found in the store."
                )
            if not item.is_draft:
                raise ResponseError(
                    "ErrorInvalidItemForOperationSendItem",
                    "The item is not a draft and cannot be sent.",
                )
            target = _saved_folder(store, request, "sentitems")
            _transmit(store, item.mime)
            if keep:
                store.move(item.id, target.id)
            else:
                store.delete(item.id)
        except ResponseError as error:
            messages.append(failure("SendItem", error))
            continue
        messages.append(success("SendItem"))
    op.detail["items"] = len(ids)
    return messages


OPERATIONS: dict[str, Run] = {
    "GetFolder": get_folder,
    "FindFolder": find_folder,
    "SyncFolderItems": sync_folder_items,
    "GetItem": get_item,
    "FindItem": find_item,
    "CreateItem": create_item,
    "SendItem": send_item,
}
READ_OPERATIONS = frozenset({"GetFolder", "FindFolder", "SyncFolderItems", "GetItem"})
