"""Opening a mailbox by its URL."""

from __future__ import annotations

from .mailbox import Mailbox, MailboxError, parse_url

_LATER = {
    "imap": "IMAP",
    "imaps": "IMAP",
    "ews": "Exchange (EWS)",
    "ews+http": "Exchange (EWS)",
    "graph": "Microsoft Graph",
}


def open_mailbox(url: str, *, address: str | None = None) -> Mailbox:
    """The mailbox ``url`` names (``maildir:PATH``, ``mbox:PATH``, ``eml:DIR``).

    ``address`` is the mailbox's own address, which local mail cannot know by itself. Raises
    :class:`MailboxError` for a URL that is not a mailbox, a path that is not one, or a kind of
    mailbox that this version cannot read yet.
    """
    parsed = parse_url(url)
    if parsed.scheme == "maildir":
        from .local.maildir import MaildirMailbox

        return MaildirMailbox(url, address=address)
    if parsed.scheme == "mbox":
        from .local.mbox import MboxMailbox

        return MboxMailbox(url, address=address)
    if parsed.scheme == "eml":
        from .local.eml import EmlMailbox

        return EmlMailbox(url, address=address)
    raise MailboxError(
        parsed.text,
        f"{_LATER.get(parsed.scheme, parsed.scheme)} mailboxes: not supported yet",
        "read a local copy for now: maildir:PATH, mbox:PATH or eml:DIR",
    )
