"""The outbox: the one place that decides how a message is handed over, retried and settled.

Everything that sends mail — CLI campaigns (:mod:`addin.campaigns.run`), the ribbon's claimed
batches (:mod:`addin.campaigns.batches`), rule notices, reminders and escalations
(:mod:`addin.notify.send`) — goes through one engine (:class:`Outbox`, :mod:`.engine`):
settle → queue → send → record, over a pluggable :class:`Store` (the journal beside a closed
workbook, :class:`JournalStore`; or the Sends claims the service workers share). The rules it
applies (:mod:`.rules`) and the composing ahead (:mod:`.prefetch`) are used by no one else.
"""

from .engine import Left, Outbox, Outgoing, Pace, Run, Store
from .journal_store import JournalStore
from .prefetch import ForkedPrefetch, Prefetch, fork_is_safe, prefetch
from .rules import (
    SERVER_DOWN,
    UNCERTAIN,
    Failed,
    Owner,
    RetryRules,
    Settled,
    Streak,
    attempt,
    boot_id,
    hand_over,
    never_handed,
    settle,
    was_sent,
)

__all__ = [
    "SERVER_DOWN",
    "UNCERTAIN",
    "Failed",
    "ForkedPrefetch",
    "JournalStore",
    "Left",
    "Outbox",
    "Outgoing",
    "Owner",
    "Pace",
    "Prefetch",
    "RetryRules",
    "Run",
    "Settled",
    "Store",
    "Streak",
    "attempt",
    "boot_id",
    "fork_is_safe",
    "hand_over",
    "never_handed",
    "prefetch",
    "settle",
    "was_sent",
]
