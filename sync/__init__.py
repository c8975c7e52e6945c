"""Everything that talks to a mailbox: reading (sync) and sending.

This package never imports ``addin``: it knows mailboxes and messages, not workbooks.

- ``mailbox.py`` — the ``Mailbox`` protocol (folders, incremental ``changes`` with an opaque
  state, read-only ``fetch``) and mailbox URLs.
- ``open.py`` — ``open_mailbox(url)``: a backend for a URL.
- ``local/`` — Maildir, mbox and folders of .eml / Outlook .msg files (the embedded default).
- ``message/`` — the one MIME parser every backend's raw bytes go through.
- ``utf7.py`` — IMAP's modified UTF-7 folder names (``已发送`` ⇄ ``&XfJT0ZAB-``).
- ``imap/`` — IMAP mailboxes (``imap://``, ``imaps://``), read-only: EXAMINE and BODY.PEEK.
- ``ews/`` — Exchange on-premises through EWS (``ews://``), with exchangelib.
- ``graph/`` — Exchange Online through Microsoft Graph (``graph://``), with httpx and msal.
- ``net.py`` — TLS contexts and network failures, shared by IMAP and SMTP.
- ``smtp.py`` — sending through SMTP (``smtp://``, ``smtps://``): all recipients or none.
- ``secrets.py`` — passwords and tokens from the environment, the keyring or a prompt, each
  for one mailbox URL.

The sync run that turns messages into the workbook's interactions is ``addin.mailsync``.
"""
