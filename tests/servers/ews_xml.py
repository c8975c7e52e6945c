"""EWS XML for the test server: namespaces, element builders, envelopes and faults, and how
folders and items are written in answers (only the properties a request's shape asks for).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from lxml import etree

from .ews_store import Store, StoredFolder, StoredItem

S = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
NSMAP = {"s": S, "m": M, "t": T}
API_VERSIONS = {
    "Exchange2007",
    "Exchange2007_SP1",
    "Exchange2010",
    "Exchange2010_SP1",
    "Exchange2010_SP2",
    "Exchange2013",
    "Exchange2013_SP1",
    "Exchange2015",
    "Exchange2016",
}
MAX_CHANGES = 512  # Exchange's limit for MaxChangesReturned
MSGFLAG_READ, MSGFLAG_UNSENT = 0x1, 0x8
MESSAGE_FLAGS_TAGS = {"0x0e07", "3591"}


class Fault(Exception):
    """The whole request fails: a SOAP fault, HTTP 500."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(code, text)
        self.code, self.text = code, text


class ResponseError(Exception):
    """One folder or item fails: an error response message for it."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(code, text)
        self.code, self.text = code, text


@dataclass
class Operation:
    """One EWS operation the server received, as tests inspect it."""

    name: str
    user: str | None = None
    version: str | None = None
    detail: dict[str, object] = field(default_factory=dict)


def m(tag: str, parent: etree._Element | None = None, text: str | None = None, **attrs: str):
    return _element(M, tag, parent, text, attrs)


def t(tag: str, parent: etree._Element | None = None, text: str | None = None, **attrs: str):
    return _element(T, tag, parent, text, attrs)


def _element(ns, tag, parent, text, attrs) -> etree._Element:
    name = f"{{{ns}}}{tag}"
    elem = etree.Element(name, nsmap=NSMAP) if parent is None else etree.SubElement(parent, name)
    for key, value in attrs.items():
        elem.set(key, value)
    if text is not None:
        elem.text = text
    return elem


# ---- envelopes ---------------------------------------------------------------------------------


def envelope(body: etree._Element) -> bytes:
    root = etree.Element(f"{{{S}}}Envelope", nsmap={"s": S})
    header = etree.SubElement(root, f"{{{S}}}Header")
    info = etree.SubElement(header, f"{{{T}}}ServerVersionInfo", nsmap={"h": T})
    for key, value in (
        ("MajorVersion", "15"),
        ("MinorVersion", "1"),
        ("MajorBuildNumber", "2507"),
        ("MinorBuildNumber", "6"),
        ("Version", "V2017_07_11"),  # what Exchange 2016 CUs really send
    ):
        info.set(key, value)
    etree.SubElement(root, f"{{{S}}}Body").append(body)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def fault(code: str, text: str, back_off_ms: int | None = None) -> bytes:
    root = etree.Element(f"{{{S}}}Envelope", nsmap={"s": S})
    body = etree.SubElement(root, f"{{{S}}}Body")
    fault_elem = etree.SubElement(body, f"{{{S}}}Fault")
    etree.SubElement(fault_elem, "faultcode").text = "s:Client"
    etree.SubElement(fault_elem, "faultstring").text = text
    detail = etree.SubElement(fault_elem, "detail")
    errors = "http://schemas.microsoft.com/exchange/services/2006/errors"
    etree.SubElement(detail, f"{{{errors}}}ResponseCode", nsmap={"e": errors}).text = code
    etree.SubElement(detail, f"{{{errors}}}Message").text = text
    if back_off_ms is not None:  # what a throttled Exchange asks clients to wait
        xml = etree.SubElement(detail, f"{{{T}}}MessageXml", nsmap={"t": T})
        value = etree.SubElement(xml, f"{{{T}}}Value", Name="BackOffMilliseconds")
        value.text = str(back_off_ms)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def success(operation: str) -> etree._Element:
    message = m(f"{operation}ResponseMessage", ResponseClass="Success")
    m("ResponseCode", message, "NoError")
    return message


def failure(operation: str, error: ResponseError, container: str | None = None) -> etree._Element:
    message = m(f"{operation}ResponseMessage", ResponseClass="Error")
    m("MessageText", message, error.text)
    m("ResponseCode", message, error.code)
    m("DescriptiveLinkKey", message, "0")
    if container:
        m(container, message)
    return message


# ---- shapes, folders, items --------------------------------------------------------------------


def shape(elem: etree._Element | None) -> tuple[str, set[str]]:
    if elem is None:
        raise Fault("ErrorSchemaValidation", "The shape element is missing.")
    base = elem.findtext(f"{{{T}}}BaseShape") or "IdOnly"
    extra = {f.get("FieldURI", "") for f in elem.iter(f"{{{T}}}FieldURI")}
    return base, extra


def resolve_folder(store: Store, elem: etree._Element) -> StoredFolder:
    tag = etree.QName(elem).localname
    if tag == "DistinguishedFolderId":
        address = elem.findtext(f"{{{T}}}Mailbox/{{{T}}}EmailAddress")
        if address and address.lower() != store.address.lower():
            raise ResponseError(
                "ErrorNonExistentMailbox", "The SMTP address has no mailbox associated with it."
            )
        found = store.distinguished(elem.get("Id", ""))
    elif tag == "FolderId":
        found = store.folders.get(elem.get("Id", ""))
    else:
        raise Fault("ErrorSchemaValidation", f"{tag} is not a folder id.")
    if found is None:
        raise ResponseError(
            "ErrorFolderNotFound", "The specified folder could not be found in the store."
        )
    return found


def folder_xml(store: Store, folder: StoredFolder, base: str, extra: set[str]) -> etree._Element:
    full = base in ("Default", "AllProperties")
    elem = t(folder.element)
    t("FolderId", elem, Id=folder.id, ChangeKey="AQAAABYAAAA=")
    if folder.parent and ("folder:ParentFolderId" in extra or base == "AllProperties"):
        t("ParentFolderId", elem, Id=folder.parent, ChangeKey="AQAAAA==")
    if "folder:FolderClass" in extra or base == "AllProperties":
        t("FolderClass", elem, folder.folder_class)
    if "folder:DisplayName" in extra or full:
        t("DisplayName", elem, folder.name)
    items = store.in_folder(folder.id)
    if "folder:TotalCount" in extra or full:
        t("TotalCount", elem, str(len(items)))
    if "folder:ChildFolderCount" in extra or full:
        t("ChildFolderCount", elem, str(len(store.children(folder.id, deep=False))))
    if folder.distinguished and "folder:DistinguishedFolderId" in extra:
        t("DistinguishedFolderId", elem, folder.distinguished)
    if "folder:UnreadCount" in extra or full:
        t("UnreadCount", elem, str(sum(not i.is_read for i in items)))
    return elem


def item_xml(item: StoredItem, base: str, extra: set[str]) -> etree._Element:
    full = base in ("Default", "AllProperties")
    elem = t("Message")
    if "item:MimeContent" in extra or base == "AllProperties":
        encoded = base64.b64encode(item.mime).decode("ascii")
        t("MimeContent", elem, encoded, CharacterSet=item.charset)
    t("ItemId", elem, Id=item.id, ChangeKey=item.change_key)
    if "item:Subject" in extra or full:
        t("Subject", elem, item.subject)
    if "message:IsRead" in extra or full:
        t("IsRead", elem, "true" if item.is_read else "false")
    if item.message_id and ("message:InternetMessageId" in extra or full):
        t("InternetMessageId", elem, item.message_id)
    return elem
