"""Whose address is it: ours, a public mail provider's, or one we must never log?

Linking a message needs three judgements about each address on it:

- **ours** — the mailbox's own address, the addresses given with ``--me``, and every address on
  an internal domain (``--internal-domain``, plus the domains of our own addresses unless they
  are public providers: one colleague on ``qq.com`` must not make all of qq.com internal).
  Mail whose every participant is ours is internal and skipped.
- **public** — a mail provider's domain (qq.com, 163.com, gmail.com…): thousands of unrelated
  people share it, so a domain match there says nothing about which company wrote.
- **never log** — addresses and domains a person listed because that mail must stay out of
  the CRM (a lawyer, HR, a personal contact). A message with any such participant is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..customers import email_key
from ..domains import domain_of, is_public

# Local parts of addresses that machines write from: their mail is not a person's.
AUTOMATED_LOCAL_PARTS = frozenset(
    {
        "noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply",
        "mailer-daemon", "postmaster", "bounce", "bounces", "notification", "notifications",
        "newsletter", "news", "marketing", "system", "robot",
    }
)  # fmt: skip


def storable_address(address: str) -> bool:
    """True when ``address`` can go into the workbook as it is: text that encodes as UTF-8
    (no surrogate-escaped raw bytes), without control characters, with ``local@domain``.

    The parser already leaves out raw 8-bit addresses that are not UTF-8 (SMTPUTF8); this is
    the last check before a row is written, so that a mangled address never becomes a
    customer's e-mail or a lead.
    """
    if not address or "@" not in address or not address.isprintable():
        return False
    try:
        address.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_automated(address: str) -> bool:
    """``noreply@…``, ``mailer-daemon@…`` and the like: nobody to build a relationship with."""
    local = email_key(address).rpartition("@")[0]
    return local in AUTOMATED_LOCAL_PARTS or local.startswith(("noreply", "no-reply", "bounce"))


def _domain_matches(domain: str, domains: frozenset[str]) -> bool:
    """``domain`` is one of ``domains`` or a subdomain of one (``mail.corp.cn`` of ``corp.cn``)."""
    while domain:
        if domain in domains:
            return True
        _, dot, domain = domain.partition(".")
        if not dot:
            return False
    return False


def _clean_domain(text: str) -> str:
    return email_key(text).lstrip("@*.").rstrip(".")


@dataclass(frozen=True)
class Ours:
    """Our own addresses and internal domains (see the module docstring)."""

    addresses: frozenset[str]
    domains: frozenset[str]

    @classmethod
    def build(cls, addresses: Iterable[str | None], domains: Iterable[str] = ()) -> Ours:
        mine = frozenset(email_key(a) for a in addresses if a and "@" in a)
        internal = {_clean_domain(d) for d in domains if d.strip()}
        internal.update(d for d in map(domain_of, mine) if d and not is_public(d))
        return cls(mine, frozenset(internal))

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str):
            return False
        key = email_key(address)
        return key in self.addresses or _domain_matches(domain_of(key), self.domains)


@dataclass(frozen=True)
class NeverLog:
    """Addresses (``a@b.cn``) and domains (``b.cn``, ``@b.cn``; subdomains included)."""

    addresses: frozenset[str]
    domains: frozenset[str]

    @classmethod
    def build(cls, entries: Iterable[str]) -> NeverLog:
        addresses, domains = set(), set()
        for entry in entries:
            entry = entry.strip()
            if not entry:
                continue
            if "@" in entry.lstrip("@"):
                addresses.add(email_key(entry))
            else:
                domains.add(_clean_domain(entry))
        return cls(frozenset(addresses), frozenset(domains))

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str):
            return False
        key = email_key(address)
        return key in self.addresses or _domain_matches(domain_of(key), self.domains)

    def __bool__(self) -> bool:
        return bool(self.addresses or self.domains)
