"""IMAP mailboxes: ``imap://user@host[:port]`` (STARTTLS) and ``imaps://user@host[:port]``.

Tencent Exmail, Alibaba Mail, NetEase (163/126), Gmail, Dovecot, Exchange's IMAP… through
imapclient. Read-only: EXAMINE and ``BODY.PEEK[]``, so a sync marks nothing read.

- ``connection.py`` — connect, TLS or STARTTLS, login, the ID command, CONDSTORE.
- ``folders.py`` — LIST with special-use roles, modified UTF-7 names.
- ``state.py`` — the per-folder state (UIDVALIDITY, last UID, HIGHESTMODSEQ).
- ``mailbox.py`` — ``ImapMailbox``: folders, changes, fetch, save_draft.

TLS contexts and network errors are :mod:`sync.net`, shared with :mod:`sync.smtp`.
"""

from __future__ import annotations

from .mailbox import ImapMailbox

__all__ = ["ImapMailbox"]
