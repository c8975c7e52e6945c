"""Which interactions are contact with a customer, and which are xlcrm's own bookkeeping.

The Interactions sheet holds both: the mail, calls and meetings people had with a customer, and
the rows xlcrm writes so that its work is visible and happens once — stage history, rule and
merge notes, contract documents, ticket escalations, notices to colleagues. Recency (RFM
segments, "A-tier customer not contacted for 30 days") and idle deals must count only the
first kind; otherwise xlcrm's own run would make every customer look contacted today.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .schema import DEALS

# Notices (:mod:`addin.notify`) get Message-IDs that start with this, so that their
# Interactions rows are told from mail with the customer.
NOTICE_ID_PREFIX = "xlcrm.n."
_PREFIX = re.compile(r"^[^:：]*[:：]\s*")
_ARROW = re.compile(r"\s*(?:→|->)\s*")

CONTACT_KINDS = frozenset({"email", "call", "meeting"})


def is_contact(row: Mapping[str, Any]) -> bool:
    """Mail, a call or a meeting with the customer — not an internal notice about them."""
    if row.get("kind") not in CONTACT_KINDS:
        return False
    message_id = row.get("message_id")
    return not (isinstance(message_id, str) and message_id.startswith(NOTICE_ID_PREFIX))


def is_deal_activity(row: Mapping[str, Any]) -> bool:
    """Contact about a deal, or a stage change a person made — not the stage xlcrm recorded
    when it first saw the deal."""
    if is_contact(row):
        return True
    if row.get("kind") != "stage":
        return False
    return not parse_stage_subject(row.get("subject"))[1]


def parse_stage_subject(subject: Any) -> tuple[str | None, bool]:
    """The stage a stage interaction's subject records, and whether it was a first sighting."""
    if not isinstance(subject, str) or not subject.strip():
        return None, False
    text = _PREFIX.sub("", subject.strip(), count=1)
    parts = _ARROW.split(text)
    choice = DEALS.column("stage").choice_for(parts[-1].strip())
    return (choice.value if choice else None), len(parts) == 1
