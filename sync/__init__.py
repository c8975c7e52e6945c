"""Everything that talks to a mailbox: reading (sync) and, later, sending.

This package never imports ``addin``: it knows mailboxes and messages, not workbooks.

- ``mailbox.py`` — the ``Mailbox`` protocol (folders, incremental ``changes`` with an opaque
  state, read-only ``fetch``) and mailbox URLs.
- ``open.py`` — ``open_mailbox(url)``: a backend for a URL.
- ``local/`` — Maildir, mbox and folders of .eml / Outlook .msg files (the embedded default).
- ``message/`` — the one MIME parser every backend's raw bytes go through.
- ``utf7.py`` — IMAP's modified UTF-7 folder names (``已发送`` ⇄ ``&XfJT0ZAB-``).

IMAP, Exchange (EWS) and Microsoft Graph backends, sending, and the sync run that writes
interactions into the workbook are the rest of issue #3.
"""
