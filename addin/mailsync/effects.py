"""What mail changes besides the Interactions table: customers, deals and campaign sends.

- **Last contact** — a customer's ``last_contact`` moves forward to the day of the newest mail
  with them, in either direction (our mail to several customers counts for each); it never
  moves back.
- **Deal follow-ups** — on an open deal, our mail means the next step is theirs: the
  follow-up date becomes ``follow_up_days`` after it (unless a later one is already set).
  Their mail means the next step is ours: the follow-up is due the next day (an earlier date
  a person set stays). Won and lost deals are left alone.
- **Bounces** — a hard delivery failure (unknown user or domain, or another permanent 5.x.x
  failure) adds the address to the customer's ``bounced`` column (campaigns skip those
  addresses; a workbook without the column gets a ``bounced`` tag). A soft one (mailbox full,
  blocked by a filter, too large, expired) leaves the customer alone: the address may work
  next time; the report lists it. Either way the campaign send it answers is marked
  ``bounced`` with the server's words as the error.
- **Complaints** — an ARF report (or a provider's own complaint, or a mail client's
  unsubscribe button) saying a customer marked our mail as spam sets their ``unsubscribed``,
  like an unsubscribe request: found by the complained-about address, else by the campaign
  send whose Message-ID the report encloses.
- **Campaign replies** — a reply to a campaign message marks that send ``replied``.
- **Unsubscribes** — a message asking to unsubscribe (``unsubscribe``, ``退订``…, the answer to
  a campaign's List-Unsubscribe mailto or footer link) sets the customer's ``unsubscribed``
  (a tag in workbooks without the column). The campaign's token in it names the customer even
  when they write from another address. No campaign mails them again.
- **Leads** — with ``--create-leads`` an unknown correspondent becomes a customer with
  status Lead, their company copied when a known customer shares their (non-public) domain.

Changes are collected while messages are linked and written by :meth:`Effects.finish` as one
``update`` per row, in the same save as the interactions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sync.message import MailMessage

from ..customers import email_key, join_emails, split_emails, split_tags
from ..unsubscribe import SALT_STATE_KEY, find_token, is_unsubscribe_request, make_token
from ..workbook import Book
from .linking import CLOSED_STAGES, CustomerIndex, stored_message_id
from .report import SyncReport

if TYPE_CHECKING:
    from .run import SyncOptions

Key = tuple[str, str]


class Effects:
    """Changes to Customers, Deals and Sends that one run's messages imply."""

    def __init__(
        self,
        book: Book,
        customers: CustomerIndex,
        customer_rows: Iterable[Mapping[str, Any]],
        deal_rows: Iterable[Mapping[str, Any]],
        report: SyncReport,
        options: SyncOptions,
    ) -> None:
        self.book = book
        self.index = customers
        self.report = report
        self.options = options
        self._tokens: dict[str, str] | None = None  # unsubscribe token -> customer, when needed
        self.customers = book.table("customers")
        self.customer_columns = set(self.customers.columns)
        # The ids only: a customer's values are looked up when a message touches it, so a
        # sync never holds a copy of 100,000 customers.
        self.current: set[str] = {row["id"] for row in customer_rows if row.get("id")}
        self.customer_changes: dict[str, dict[str, Any]] = {}
        self.deal_rows = {row["id"]: row for row in deal_rows if row.get("id")}
        self.deal_changes: dict[str, dict[str, Any]] = {}
        self.sends = book.table("sends") if book.has_table("sends") else None
        self.send_by_id: dict[str, list[Key]] = {}
        self.send_by_email: dict[str, list[tuple[Key, dt.datetime | None]]] = {}
        self.send_status: dict[Key, str | None] = {}
        self.send_changes: dict[Key, dict[str, Any]] = {}
        if self.sends is not None:
            self._index_sends()

    def _index_sends(self) -> None:
        assert self.sends is not None
        columns = set(self.sends.columns)
        for row in self.sends.rows():
            key = (row.get("campaign"), row.get("customer_id"))
            if not all(key):
                continue
            self.send_status[key] = row.get("status")  # type: ignore[index]
            ident = stored_message_id(row.get("message_id")) if "message_id" in columns else None
            if ident:
                self.send_by_id.setdefault(ident, []).append(key)  # type: ignore[arg-type]
            if row.get("email"):
                self.send_by_email.setdefault(email_key(row["email"]), []).append(
                    (key, row.get("sent_at"))  # type: ignore[arg-type]
                )

    # -- customers and deals ---------------------------------------------------------------------

    def contacted(
        self, customer: str, deal: str | None, when: dt.datetime | None, *, outgoing: bool
    ) -> None:
        if when is None:
            return
        day = when.astimezone().date() if when.tzinfo else when.date()
        if "last_contact" in self.customer_columns:
            last = self._customer_value(customer, "last_contact")
            if last is None or (isinstance(last, dt.date) and _day(last) < day):
                self._change_customer(customer, "last_contact", day)
        if deal:
            self._follow_up(deal, day, outgoing=outgoing)

    def _follow_up(self, deal: str, day: dt.date, *, outgoing: bool) -> None:
        row = self.deal_rows.get(deal)
        if row is None or row.get("stage") in CLOSED_STAGES or "next_follow_up" not in row:
            return
        changes = self.deal_changes.setdefault(deal, {})
        current = changes.get("next_follow_up", row.get("next_follow_up"))
        current = _day(current) if isinstance(current, dt.date) else None
        if outgoing:
            target = day + dt.timedelta(days=self.options.follow_up_days or 0)
            wanted = current is None or current <= day
        else:
            target = day + dt.timedelta(days=1)
            wanted = current is None or current < day or current > target
        if wanted and current != target:
            changes["next_follow_up"] = target

    def new_lead(self, address: str, name: str) -> str:
        """A new customer (status Lead) for an unknown correspondent; returns its id."""
        colleague = self.index.by_company_domain(address)
        company = self.index.companies.get(colleague) if colleague else None
        row: dict[str, Any] = {
            "name": name or address.partition("@")[0],
            "company": company,
            "email": address,
            "status": "Lead",
            "source": "邮件" if self.book.lang == "zh" else "Email",
            "created": dt.date.today(),
            "notes": "created by mailbox sync",
        }
        row = {k: v for k, v in row.items() if k in self.customer_columns and v is not None}
        customer = str(self.customers.insert(row))
        self.index.add(customer, address, company)
        self.current.add(customer)
        self.report.leads.append(customer)
        return customer

    def _customer_value(self, customer: str, key: str) -> Any:
        changed = self.customer_changes.get(customer, {})
        if key in changed:
            return changed[key]
        return self.customers.get(customer).get(key) if customer in self.current else None

    def _change_customer(self, customer: str, key: str, value: Any) -> None:
        self.customer_changes.setdefault(customer, {})[key] = value

    # -- bounces and campaign replies ------------------------------------------------------------

    def bounce(self, message: MailMessage) -> None:
        bounce = message.bounce
        assert bounce is not None
        marked_send = False
        if bounce.original_message_id:
            for key in self.send_by_id.get(bounce.original_message_id, []):
                failed = bounce.recipients[0] if bounce.recipients else None
                self._set_send(key, "bounced", failed.diagnostic or failed.status if failed else "")
                marked_send = True
        for failed in bounce.recipients:
            address = failed.addr
            customer = self.index.by_exact_address(address)
            if not failed.hard:
                self.report.soft_bounced.append(f"{address} ({failed.reason.replace('_', ' ')})")
            elif customer:
                self._mark_bounced(customer, address)
            if not marked_send:  # no original Message-ID: the latest send to that address
                sends = sorted(
                    self.send_by_email.get(email_key(address), []),
                    key=lambda s: s[1] or dt.datetime.min,
                )
                sent = [key for key, _ in sends if self.send_status.get(key) == "sent"]
                if sent:
                    self._set_send(sent[-1], "bounced", failed.diagnostic or failed.status)

    def _mark_bounced(self, customer: str, address: str) -> None:
        if "bounced" in self.customer_columns:
            have = split_emails(self._customer_value(customer, "bounced"))
            if email_key(address) in {email_key(a) for a in have}:
                return
            changed = self._flag(customer, "bounced", join_emails([*have, address]))
        else:
            changed = self._flag(customer, "bounced", None)
        if changed:
            self.report.bounced.append(address)

    def _flag(self, customer: str, column: str, value: Any) -> bool:
        """Set ``column`` to ``value`` — or, in a workbook without that column, add the tag
        ``column`` — and mark the record updated; False when there was nothing to change."""
        if value is not None and column in self.customer_columns:
            if self._customer_value(customer, column) == value:
                return False
            self._change_customer(customer, column, value)
        elif "tags" in self.customer_columns:
            tags = split_tags(self._customer_value(customer, "tags"))
            if column in tags:
                return False
            self._change_customer(customer, "tags", ", ".join([*tags, column]))
        else:
            return False
        if "updated" in self.customer_columns:  # the record changed, as an import would say
            self._change_customer(customer, "updated", dt.date.today())
        return True

    def complaint(self, message: MailMessage) -> None:
        """A spam complaint: the customers it names stop getting campaigns (``unsubscribed``)."""
        complaint = message.complaint
        assert complaint is not None
        customers = [self.index.by_exact_address(a) for a in complaint.recipients]
        if complaint.original_message_id:
            customers += [key[1] for key in self.send_by_id.get(complaint.original_message_id, [])]
        for customer in dict.fromkeys(c for c in customers if c):
            if customer in self.current and self._flag(customer, "unsubscribed", True):
                self.report.unsubscribed.append(customer)

    def replied(self, thread_ids: Iterable[str]) -> None:
        for ident in thread_ids:
            for key in self.send_by_id.get(ident, []):
                if self.send_status.get(key) == "sent":
                    self._set_send(key, "replied", None)
                    self.report.sends_replied += 1

    def unsubscribe(self, message: MailMessage, customer: str | None) -> str | None:
        """Mark who asks to unsubscribe; returns that customer when ``message`` is such a
        request (the token, when it has one of ours, names the customer), else None."""
        if not is_unsubscribe_request(message.subject, message.text):
            return None
        token = find_token(f"{message.subject}\n{message.text}")
        customer = (self._token_customer(token) if token else None) or customer
        if customer is None or customer not in self.current:
            return None
        if self._flag(customer, "unsubscribed", True):
            self.report.unsubscribed.append(customer)
        return customer

    def _token_customer(self, token: str) -> str | None:
        """The customer a campaign's unsubscribe token names, when this workbook made it."""
        if self._tokens is None:
            salt = self.book.state.get(SALT_STATE_KEY)
            self._tokens = {make_token(c, salt): c for c in self.current} if salt else {}
        return self._tokens.get(token)

    def _set_send(self, key: Key, status: str, error: str | None) -> None:
        if self.send_status.get(key) == status:
            return
        self.send_status[key] = status
        changes: dict[str, Any] = {"status": status}
        if error is not None and self.sends is not None and "error" in self.sends.columns:
            changes["error"] = error
        self.send_changes.setdefault(key, {}).update(changes)
        if status == "bounced":
            self.report.sends_bounced += 1

    # -- writing ---------------------------------------------------------------------------------

    def finish(self) -> None:
        for customer, changes in self.customer_changes.items():
            if self.customers.update(customer, changes) and "last_contact" in changes:
                self.report.customers_contacted += 1
        if self.deal_changes:
            deals = self.book.table("deals")
            for deal, changes in self.deal_changes.items():
                if changes and deals.update(deal, changes):
                    self.report.deals_followed_up += 1
        if self.sends is not None:
            for key, changes in self.send_changes.items():
                self.sends.update(key, changes)


def _day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
