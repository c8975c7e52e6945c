"""Mail servers the tests run on loopback: dovecot and pymap (IMAP), aiosmtpd (SMTP), and our
own Exchange Web Services and Microsoft Graph servers, which speak the real protocols to the
real client libraries (exchangelib, httpx + msal). Imported by tests as ``servers.NAME``
(pytest puts ``tests/`` on ``sys.path``)."""
