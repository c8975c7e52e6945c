"""Who handles a ticket: the matching rule's assignee, else the customer's owner, else the team.

A TicketRules row's *Assign to* cell may say:

- one person (``张三``, ``li.si@ourco.cn``) — every ticket the rule matches goes to them;
- ``owner`` (``客户负责人``, ``负责人``, ``customer owner``) — the customer's owner
  (Customers: Owner); a customer without one falls through to the team below;
- several people (``张三; 李四; 王五``) — round-robin among them.

No rule assignee: the customer's owner; no owner: round-robin over the ``support_team``
setting; no team either: the ticket stays unassigned and the report says so.

Round-robin remembers, per group (the rule's id, or ``support_team``), who got the last ticket,
in the workbook's machine state (``_xlcrm``), saved with the tickets. So the rotation carries
on across runs and is fair: three tickets over three runs go to three different people. When
the list changes the rotation continues after the last person if they are still listed, else
starts at the top. What is stored is the name as written, never an address book.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass

from ..schema import normalize_label

STATE_PREFIX = "tickets|round-robin|"
TEAM_GROUP = "support_team"
OWNER_WORDS = frozenset(
    normalize_label(w)
    for w in ("owner", "customer owner", "account owner", "客户负责人", "负责人", "销售负责人")
)
_SEPARATORS = (";", "；", ",", "，", "、", "\n")


def split_people(text: str) -> list[str]:
    """The names in an Assign-to or Support-team cell, in order, without blanks."""
    for sep in _SEPARATORS[1:]:
        text = text.replace(sep, ";")
    return [p.strip() for p in text.split(";") if p.strip()]


@dataclass(frozen=True)
class Assignment:
    assignee: str | None
    how: str  # "rule", "owner", "round robin", "" when nobody could be chosen


class Assigner:
    """Chooses assignees; changes the round-robin state in ``state`` (saved with the book)."""

    def __init__(
        self,
        state: MutableMapping[str, str],
        team: Sequence[str],
        owners: Mapping[str, str | None],
    ) -> None:
        self.state = state
        self.team = list(team)
        self.owners = owners

    def assign(self, wanted: str | None, group: str, customer_id: str | None) -> Assignment:
        """``wanted``: a rule's Assign-to text (``group``: the rule's id), or None."""
        owner = self.owners.get(customer_id or "") or None
        if wanted:
            people = split_people(wanted)
            if len(people) == 1 and normalize_label(people[0]) in OWNER_WORDS:
                if owner:
                    return Assignment(owner, "owner")
            elif len(people) == 1:
                return Assignment(people[0], "rule")
            elif people:
                return Assignment(self.next_of(group, people), "round robin")
        if owner:
            return Assignment(owner, "owner")
        if self.team:
            return Assignment(self.next_of(TEAM_GROUP, self.team), "round robin")
        return Assignment(None, "")

    def next_of(self, group: str, people: Sequence[str]) -> str:
        """The person after the one who got ``group``'s last ticket; remembers the choice."""
        key = STATE_PREFIX + group
        last = normalize_label(self.state.get(key, ""))
        folded = [normalize_label(p) for p in people]
        start = folded.index(last) + 1 if last in folded else 0
        chosen = people[start % len(people)]
        self.state[key] = chosen
        return chosen
