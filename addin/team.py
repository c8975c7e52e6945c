"""Who the owners are: names in the Deals and Customers sheets, addresses for their mail.

People write owners as names (``王伟``, ``Li Na``) — sometimes as addresses. Notices, reminders
and ticket escalations need an address, so the Settings table's *Team* setting maps names to
addresses, several in one cell: ``王伟 <wang.wei@example.cn>; Li Na <li.na@example.com>``.

A name is matched ignoring case, spaces and full-width forms (``li na``, ``LiNa`` and ``Li  Na``
are the same person); an address (or ``Name <address>``) passes through unchanged. An owner the
team does not list has no address: callers report that, they never guess one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import parseaddr

from .errors import ValueProblem
from .schema import normalize_label
from .settings import Settings, read_settings
from .workbook import Book


@dataclass(frozen=True)
class Member:
    """One person of the team: the name owners are written as, and their address."""

    name: str
    email: str


@dataclass
class Team:
    """The team from the Settings table; ``where`` is the cell it came from, for messages."""

    members: list[Member] = field(default_factory=list)
    where: str = "Settings"

    def address_of(self, name_or_address: object) -> str | None:
        """The address of a team member named so, an address given as it is, else None."""
        if not isinstance(name_or_address, str) or not name_or_address.strip():
            return None
        text = name_or_address.strip()
        if "@" in text:
            address = parseaddr(text)[1]
            return address if "@" in address else None
        wanted = normalize_label(text)
        for member in self.members:
            if member.name and normalize_label(member.name) == wanted:
                return member.email
        return None

    def name_of(self, name_or_address: object) -> str | None:
        """The member's name for an address (or name) — for greetings; None when unknown."""
        if not isinstance(name_or_address, str) or not name_or_address.strip():
            return None
        address = self.address_of(name_or_address)
        for member in self.members:
            if address and member.email.casefold() == address.casefold():
                return member.name or None
        return None


def parse_team(entries: tuple[str, ...] | list[str], where: str = "Settings") -> Team:
    """A team from setting values like ``王伟 <wang.wei@example.cn>`` or a bare address."""
    members = []
    for entry in entries:
        name, address = parseaddr(entry)
        if "@" not in address:
            raise ValueProblem(
                where,
                f"{entry!r} in the team list has no e-mail address",
                "write each person as Name <address>, e.g. 王伟 <wang.wei@example.cn>",
            )
        members.append(Member(name.strip(), address.strip()))
    return Team(members, where)


def read_team(book: Book, settings: Settings | None = None) -> Team:
    """The workbook's team (empty when the Team setting is empty or missing)."""
    settings = settings if settings is not None else read_settings(book)
    return parse_team(settings.list("team"), settings.where("team"))
