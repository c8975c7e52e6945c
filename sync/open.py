"""Opening a mailbox, or a transport to send through, by its URL."""

from __future__ import annotations

from .mailbox import Mailbox, MailboxError, Transport, parse_url


def open_mailbox(url: str, *, address: str | None = None, insecure: bool = False) -> Mailbox:
    """The mailbox ``url`` names.

    ``maildir:PATH``, ``mbox:PATH``, ``eml:DIR``; ``imap://`` / ``imaps://user@host[:port]``;
    ``ews://user@host/EWS/Exchange.asmx``; ``graph://user@tenant``. ``address`` is the
    mailbox's own address when the URL does not say it (local mail cannot know it).
    ``insecure`` turns certificate checks off, for test servers with self-signed certificates;
    the backend says so in a warning. Server backends connect and log in here, so a wrong
    password or an unreachable server is a :class:`MailboxError` before any work starts.
    """
    parsed = parse_url(url)
    scheme = parsed.scheme
    if scheme == "maildir":
        from .local.maildir import MaildirMailbox

        return MaildirMailbox(url, address=address)
    if scheme == "mbox":
        from .local.mbox import MboxMailbox

        return MboxMailbox(url, address=address)
    if scheme == "eml":
        from .local.eml import EmlMailbox

        return EmlMailbox(url, address=address)
    if scheme in ("imap", "imaps"):
        from .imap import ImapMailbox

        return ImapMailbox(url, address=address, insecure=insecure)
    if scheme in ("ews", "ews+http"):
        from .ews import EwsMailbox

        return EwsMailbox(url, address=address, insecure=insecure)
    if scheme == "graph":
        from .graph import GraphMailbox

        return GraphMailbox(url, address=address, insecure=insecure)
    raise MailboxError(url, f"{scheme}: is not a mailbox")  # parse_url lets no other through


def open_transport(url: str, *, address: str | None = None, insecure: bool = False) -> Transport:
    """Something to send mail through: ``smtp://`` / ``smtps://user@host[:port]``, or an
    Exchange (EWS) or Graph mailbox URL, which sends through the mailbox itself."""
    scheme = url.partition(":")[0].lower()
    if scheme in ("smtp", "smtps"):
        from .smtp import SmtpTransport

        return SmtpTransport(url, insecure=insecure)
    if scheme in ("ews", "ews+http", "graph"):
        return open_mailbox(url, address=address, insecure=insecure)
    raise MailboxError(
        url,
        "mail cannot be sent through this URL",
        "send with smtp://user@host[:port] or smtps://user@host[:port], or through an Exchange "
        "mailbox (ews://…, graph://…)",
    )
