"""Sending and saving drafts through Exchange: CreateItem with the message's own MIME text.

``send``: one CreateItem with ``MessageDisposition="SendAndSaveCopy"`` and Sent Items as the
folder for the copy, which is what exchangelib's ``Message.send_and_save()`` sends for a new
message (SendItem is for items already stored, such as a draft a person sends later).
Exchange takes the recipients from the MIME To, Cc and Bcc headers and does not transmit Bcc.

``save_draft``: CreateItem with ``SaveOnly`` into Drafts. Exchange stores an item imported
from MIME as a *received* message unless its message flags say otherwise, so the draft carries
``PR_MESSAGE_FLAGS`` (0x0E07) = read | unsent: it opens in Outlook as a draft a person can
edit and send.

Only the MIME text (and those flags) is sent. exchangelib's ``Message`` would add its field
defaults (Importance, Sensitivity, IsRead, read-receipt flags) after the MIME, and Exchange
lets properties override what the MIME says: a message asking for a read receipt
(``Disposition-Notification-To``) or marked important would lose that. Exchange keeps the
MIME's own Message-ID as the item's InternetMessageId, in the copy in Sent Items too.

``was_sent``: one FindItem in Sent Items restricted to that InternetMessageId (IdOnly, plus
the id to compare), which reads nothing else and changes nothing.
"""

from __future__ import annotations

import base64

from exchangelib import Account
from exchangelib.fields import FieldPath
from exchangelib.folders import BaseFolder
from exchangelib.items import (
    ID_ONLY,
    SAVE_ONLY,
    SEND_AND_SAVE_COPY,
    SEND_TO_NONE,
    SHALLOW,
    Message,
)
from exchangelib.restriction import Q, Restriction
from exchangelib.services import CreateItem, FindItem
from exchangelib.util import add_xml_child, create_element

from ..mailbox import bracketed_message_id, same_message_id

MSGFLAG_READ = 0x1
MSGFLAG_UNSENT = 0x8
PR_MESSAGE_FLAGS = "0x0E07"


class MimeMessage(Message):
    """A new message that is its MIME text, and optionally its message flags, nothing else."""

    message_flags: int | None = None

    def to_xml(self, version):  # type: ignore[no-untyped-def]
        elem = create_element(self.request_tag())
        add_xml_child(elem, "t:MimeContent", base64.b64encode(self.mime_content).decode("ascii"))
        if self.message_flags is not None:
            prop = create_element("t:ExtendedProperty")
            prop.append(
                create_element(
                    "t:ExtendedFieldURI",
                    attrs={"PropertyTag": PR_MESSAGE_FLAGS, "PropertyType": "Integer"},
                )
            )
            add_xml_child(prop, "t:Value", str(self.message_flags))
            elem.append(prop)
        return elem


class MimeDraft(MimeMessage):
    message_flags = MSGFLAG_READ | MSGFLAG_UNSENT


def send(account: Account, sent_items: BaseFolder, message: bytes) -> None:
    """Send ``message`` and keep a copy in Sent Items."""
    CreateItem(account=account).get(
        items=[MimeMessage(account=account, mime_content=message)],
        folder=sent_items,
        message_disposition=SEND_AND_SAVE_COPY,
        send_meeting_invitations=SEND_TO_NONE,
    )


def save_draft(account: Account, drafts: BaseFolder, message: bytes) -> None:
    """Store ``message`` in Drafts as an unsent draft."""
    CreateItem(account=account).get(
        items=[MimeDraft(account=account, mime_content=message)],
        folder=drafts,
        message_disposition=SAVE_ONLY,
        send_meeting_invitations=SEND_TO_NONE,
    )


def holds(account: Account, folder: BaseFolder, message_id: str) -> bool:
    """Whether ``folder`` (Sent Items, Drafts) holds a message with this Message-ID."""
    wanted = bracketed_message_id(message_id)
    field = FieldPath(field=Message.get_field_by_fieldname("message_id"))
    found = FindItem(account=account, page_size=10).call(
        folders=[folder],
        additional_fields=[field],
        restriction=Restriction(
            Q(message_id=wanted), folders=[folder], applies_to=Restriction.ITEMS
        ),
        order_fields=None,
        shape=ID_ONLY,
        query_string=None,
        depth=SHALLOW,
        calendar_view=None,
        max_items=10,
        offset=0,
    )
    for item in found:
        if isinstance(item, Exception):
            raise item
        if same_message_id(getattr(item, "message_id", None), wanted):
            return True
    return False
