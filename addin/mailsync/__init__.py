"""Mailbox sync: every email with a customer becomes a row in the Interactions table.

``sync/`` reads mailboxes and parses messages; this package decides what they mean for the
CRM and writes it through the Table API:

- ``run.py`` — :func:`sync_mailbox`: list, fetch and link, exactly once per message (the caller
  saves);
- ``linking.py`` — which customer and which deal a message belongs to;
- ``identity.py`` — our own addresses, public mail domains, the never-log list;
- ``effects.py`` — last contact, deal follow-ups, bounces, campaign replies, new leads;
- ``report.py`` — what a run did, as the printed summary and as data.
"""

from .report import SyncReport, Unknown, latest_emails
from .run import (
    Probe,
    SyncOptions,
    ThreadKeysMissing,
    probe_mailbox,
    state_key,
    sync_mailbox,
)

__all__ = [
    "Probe",
    "SyncOptions",
    "SyncReport",
    "ThreadKeysMissing",
    "Unknown",
    "latest_emails",
    "probe_mailbox",
    "state_key",
    "sync_mailbox",
]
