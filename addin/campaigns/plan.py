"""Who a campaign mails, at which address, and who it skips and why.

Customers are selected by ``--where``; then each one is either *done* (an earlier run already
sent, drafted or skipped them), *skipped* now (unsubscribed; every address bounced; no address;
an address that cannot be valid; merged into another customer by ``xlcrm dedupe``), or *to
send*, at their first address that has not bounced.
Unsubscribed and bounced customers are never mailed by any campaign, whatever ``--where`` says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email

from ..customers import email_key, split_emails, split_tags
from .sends import DONE

UNSUBSCRIBED = "unsubscribed"
BOUNCED = "bounced"
NO_ADDRESS = "no e-mail address"
INVALID = "invalid address"
MERGED = "merged into another customer"


@dataclass(frozen=True)
class Recipient:
    customer_id: str
    email: str


@dataclass(frozen=True)
class Skip:
    customer_id: str
    email: str
    reason: str


@dataclass
class Plan:
    to_send: list[Recipient]
    skipped: list[Skip]
    done: dict[str, str]  # customer id -> status from an earlier run
    retried: list[str]  # failed earlier, sent again (--retry-failed)


def make_plan(
    customers: Sequence[Mapping[str, Any]],
    existing: Mapping[str, Mapping[str, Any]],
    *,
    retry_failed: bool,
) -> Plan:
    plan = Plan([], [], {}, [])
    for row in customers:
        customer_id = row["id"]
        earlier = existing.get(customer_id)
        status = earlier.get("status") if earlier else None
        if status in DONE or (status == "failed" and not retry_failed):
            plan.done[customer_id] = str(status)
            continue
        if status == "failed":
            plan.retried.append(customer_id)
        choice = choose_address(row)
        if isinstance(choice, Skip):
            plan.skipped.append(choice)
        else:
            plan.to_send.append(choice)
    return plan


def choose_address(row: Mapping[str, Any]) -> Recipient | Skip:
    """The address to mail ``row`` at, or why not to mail them at all."""
    customer_id = row["id"]
    addresses = split_emails(row.get("email") or "")
    tags = {t.casefold() for t in split_tags(row.get("tags"))}
    if row.get("merged_into"):  # xlcrm dedupe --apply: the survivor has these addresses now
        return Skip(customer_id, addresses[0] if addresses else "", MERGED)
    if row.get("unsubscribed") is True or "unsubscribed" in tags:
        return Skip(customer_id, addresses[0] if addresses else "", UNSUBSCRIBED)
    if not addresses:
        return Skip(customer_id, "", NO_ADDRESS)
    bounced = {email_key(a) for a in split_emails(row.get("bounced") or "")}
    if "bounced" in tags and not row.get("bounced"):
        bounced = {email_key(a) for a in addresses}  # an older workbook without the column
    usable = [a for a in addresses if email_key(a) not in bounced]
    if not usable:
        return Skip(customer_id, addresses[0], BOUNCED)
    try:
        validate_email(usable[0], check_deliverability=False)
    except EmailNotValidError:
        return Skip(customer_id, usable[0], INVALID)
    return Recipient(customer_id, usable[0])
