"""Everything that talks to a mailbox: reading (sync) and sending.

This package never imports ``addin``: it knows mailboxes and messages, not workbooks. The
mailbox backends (local mail, IMAP, Exchange/EWS, Microsoft Graph) arrive with the mailbox
sync capability (issue 3); nothing here is in use yet.
"""
