"""Which customers are probably the same one: blocking, then scoring the few candidate pairs.

Comparing every customer with every other is 5 billion pairs at 100,000 customers; instead
each customer is put into a handful of *blocks* and only customers that share a block are
compared (``bench/bench_dedupe.py``):

- **e-mail** and **phone** — the same normalised address or number (``normalize.py``): every
  pair in the block is a candidate. An address or number shared by very many customers (a
  switchboard, ``info@``) says nothing about any two of them and is left out.
- **person** — the same normalised name: candidates where the companies are alike
  (rapidfuzz), so two 王伟 at different companies are never a pair.
- **company** — the same normalised company: candidates where the names are alike.
- **domain** — the same company e-mail domain (never a public one such as qq.com or
  gmail.com, which would put everyone together): candidates where the names are alike.

Within a block, each distinct key is compared once (``rapidfuzz.process.extract`` with a
cut-off), however many customers share it. Each candidate pair then gets a score from 0 to 100
and the evidence behind it, and a suggested survivor.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from ..domains import PUBLIC_DOMAINS
from .normalize import (
    CompanyKey,
    Invalid,
    company_key,
    domain_of,
    email_keys,
    person_key,
    phone_keys,
)

DEFAULT_THRESHOLD = 80
"""Pairs scoring below this are not proposed (``--threshold``)."""

MAX_SHARED = 50
"""An address or number shared by more customers than this is not evidence of a duplicate."""

MAX_FUZZY_BLOCK = 3000
"""Distinct keys compared within one fuzzy block at most (beyond: a name too common to help)."""

NAME_CUTOFF = 80
COMPANY_CUTOFF = 80

# Columns that do not make a record "more complete".
_NOT_CONTENT = frozenset({"id", "merged_into", "updated"})
_ID_NUMBER = re.compile(r"(\d+)$")


@dataclass
class Record:
    """One active customer, prepared for matching."""

    id: str
    name: str
    company: str
    person: str  # normalised name ("" when none)
    firm: CompanyKey | None  # normalised company (None when none)
    emails: list[str]
    phones: list[str]
    domains: list[str]  # company domains of the addresses (not public ones)
    invalid: list[Invalid]
    linked: int = 0  # deals, interactions and tickets that name this customer
    filled: int = 0  # non-empty cells
    created: dt.date | None = None

    @property
    def label(self) -> str:
        """How a person recognises the record: ``李娜 (上海华信科技有限公司)``."""
        if self.name and self.company:
            return f"{self.name} ({self.company})"
        return self.name or self.company or self.id


@dataclass(frozen=True)
class Reason:
    """One piece of evidence: a kind and its values; ``evidence.py`` words it."""

    kind: str  # email, phone, name, company, domain, cities, names_differ, companies_differ
    values: tuple[Any, ...] = ()


@dataclass
class Pair:
    """Two customers that are probably one, the suggested survivor first."""

    keep: Record
    merge: Record
    score: int
    reasons: list[Reason]
    why_keep: Reason  # why ``keep`` is suggested as the survivor

    @property
    def key(self) -> frozenset[str]:
        return pair_key(self.keep.id, self.merge.id)


def pair_key(a: str, b: str) -> frozenset[str]:
    """Pairs are the same whichever way round: ``{c0001, c0002}``."""
    return frozenset((a.strip().casefold(), b.strip().casefold()))


@dataclass
class Found:
    """What matching found: the pairs at or above the threshold, the invalid values, and the
    addresses or numbers too widely shared to count."""

    records: list[Record]
    pairs: list[Pair]
    shared: list[tuple[str, str, int]] = field(default_factory=list)  # kind, value, customers

    @property
    def invalid(self) -> list[tuple[Record, Invalid]]:
        return [(r, bad) for r in self.records for bad in r.invalid]


# -- preparing records --------------------------------------------------------------------------


Progress = Callable[[int, int], None]
"""``progress(done, total)``: customers read, then candidate pairs scored."""
PROGRESS_EVERY = 500


def prepare(
    rows: Iterable[Mapping[str, Any]],
    region: str,
    linked: Mapping[str, int] | None = None,
    progress: Progress | None = None,
    total: int = 0,
) -> list[Record]:
    """The customers to compare: every row with an id that was not merged away.
    ``progress`` hears of every :data:`PROGRESS_EVERY` rows of ``total``."""
    linked = linked or {}
    out = []
    for n, row in enumerate(rows, 1):
        if progress is not None and (n % PROGRESS_EVERY == 0 or n == total):
            progress(n, total)
        cid = row.get("id")
        if not isinstance(cid, str) or not cid.strip() or row.get("merged_into"):
            continue
        name = str(row.get("name") or "").strip()
        company = str(row.get("company") or "").strip()
        emails, bad_emails = email_keys(row.get("email"))
        phones, bad_phones = phone_keys(row.get("phone"), region)
        firm = company_key(company) if company else None
        created = row.get("created")
        out.append(
            Record(
                id=cid.strip(),
                name=name,
                company=company,
                person=person_key(name) if name else "",
                firm=firm if firm and firm.full else None,
                emails=emails,
                phones=phones,
                domains=sorted({d for e in emails if (d := domain_of(e)) not in PUBLIC_DOMAINS}),
                invalid=bad_emails + bad_phones,
                linked=linked.get(cid.strip().casefold(), 0),
                filled=sum(
                    1 for k, v in row.items() if k not in _NOT_CONTENT and v not in (None, "")
                ),
                created=created if isinstance(created, dt.date) else None,
            )
        )
    return out


# -- blocking -----------------------------------------------------------------------------------


def candidates(records: list[Record], found: Found | None = None) -> set[tuple[int, int]]:
    """Index pairs ``(i, j)``, ``i < j``, that share a block and look alike within it."""
    pairs: set[tuple[int, int]] = set()
    by_email: dict[str, list[int]] = defaultdict(list)
    by_phone: dict[str, list[int]] = defaultdict(list)
    by_person: dict[str, list[int]] = defaultdict(list)
    by_company: dict[str, list[int]] = defaultdict(list)
    by_domain: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        for e in r.emails:
            by_email[e].append(i)
        for p in r.phones:
            by_phone[p].append(i)
        if r.person:
            by_person[r.person].append(i)
        if r.firm:
            by_company[r.firm.full].append(i)
        for d in r.domains:
            by_domain[d].append(i)
    for kind, blocks in (("email", by_email), ("phone", by_phone)):
        for value, members in blocks.items():
            if len(members) < 2:
                continue
            if len(members) > MAX_SHARED:
                if found is not None:
                    found.shared.append((kind, value, len(members)))
                continue
            _all_pairs(members, pairs)
    for members in by_person.values():
        if len(members) > 1:
            keys = [firm.core if (firm := records[i].firm) else "" for i in members]
            _alike(members, keys, COMPANY_CUTOFF, pairs)
    for members in by_company.values():
        if len(members) > 1:
            keys = [records[i].person for i in members]
            _alike(members, keys, NAME_CUTOFF, pairs)
            nameless = [i for i in members if not records[i].person]
            if len(nameless) <= MAX_SHARED:
                _all_pairs(nameless, pairs)  # company-only rows with the same company
    for members in by_domain.values():
        if len(members) > 1:
            keys = [records[i].person for i in members]
            _alike(members, keys, NAME_CUTOFF, pairs)
    return pairs


def _all_pairs(members: list[int], out: set[tuple[int, int]]) -> None:
    for n, i in enumerate(members):
        for j in members[n + 1 :]:
            if i != j:
                out.add((i, j) if i < j else (j, i))


def _alike(members: list[int], keys: list[str], cutoff: int, out: set[tuple[int, int]]) -> None:
    """Pairs of members whose keys are alike (empty keys are never alike)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, key in zip(members, keys):
        if key:
            groups[key].append(i)
    distinct = list(groups)
    if len(distinct) > MAX_FUZZY_BLOCK:
        distinct = []  # too common to tell anyone apart: only exact keys pair up
    for group in groups.values():
        if len(group) <= MAX_SHARED:
            _all_pairs(group, out)
    for n, key in enumerate(distinct[:-1]):
        rest = distinct[n + 1 :]
        for _, _, k in process.extract(
            key, rest, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
        ):
            for i in groups[key]:
                for j in groups[rest[k]]:
                    if i != j:
                        out.add((i, j) if i < j else (j, i))


# -- scoring ------------------------------------------------------------------------------------


def name_similarity(a: Record, b: Record) -> int | None:
    if not a.person or not b.person:
        return None
    return round(fuzz.ratio(a.person, b.person))


def company_similarity(a: Record, b: Record) -> tuple[int | None, bool]:
    """How alike the companies are (None when either has none), and whether their cities
    differ (上海华信 and 北京华信: branches at most, never more than 60)."""
    if a.firm is None or b.firm is None:
        return None, False
    fa, fb = a.firm, b.firm
    cities_differ = bool(fa.city and fb.city and fa.city != fb.city)
    if fa.full == fb.full:
        score = 100
    elif fa.core == fb.core:
        score = 90
    else:
        score = round(max(fuzz.ratio(fa.full, fb.full), fuzz.ratio(fa.core, fb.core)))
    if cities_differ:
        score = min(score, 60)
    if _forms_differ(fa, fb):
        score = min(score, 85)  # Acme GmbH and Acme LLC: related companies, not one
    return score, cities_differ


def _forms_differ(a: CompanyKey, b: CompanyKey) -> bool:
    """Two specific legal forms that differ (GmbH / LLC). "Co., Ltd." is not specific: it is
    what many people add to any company name, so it conflicts with nothing."""
    forms = {a.form, b.form}
    return len(forms) == 2 and "" not in forms and "ltd" not in forms


def score_pair(a: Record, b: Record) -> tuple[int, list[Reason]]:
    """A score from 0 to 100 and the reasons, for two customers in the order given.

    A shared address (90) or number (85), both 95, is strong evidence unless the names
    clearly differ (colleagues sharing ``sales@``, a switchboard): then 35 less. Without one,
    name and company must both be alike, and a perfect match of both gives 88 at most: two
    people of the same name at one company exist. A name alone never reaches 60.
    """
    reasons: list[Reason] = []
    emails = [e for e in a.emails if e in b.emails]
    phones = [p for p in a.phones if p in b.phones]
    reasons += [Reason("email", (e,)) for e in emails[:2]]
    reasons += [Reason("phone", (p,)) for p in phones[:2]]
    ns = name_similarity(a, b)
    cs, cities_differ = company_similarity(a, b)
    domains = [d for d in a.domains if d in b.domains]
    if ns is not None and ns >= 60:
        reasons.append(Reason("name", (ns, a.name, b.name)))
    if cs is not None and cs >= 50:
        reasons.append(Reason("company", (cs, a.company, b.company)))
    if cities_differ:
        reasons.append(Reason("cities", (a.firm.city, b.firm.city)))  # type: ignore[union-attr]
    elif a.firm and b.firm and _forms_differ(a.firm, b.firm):
        reasons.append(Reason("forms", ()))
    if domains and (cs is None or cs < 90):
        reasons.append(Reason("domain", (domains[0],)))
        cs = max(cs or 0, 90)
    if emails or phones:
        score = 95 if emails and phones else 90 if emails else 85
        if ns is not None and ns >= 90:
            score += 5
        elif ns is not None and ns < 60:
            score -= 35
            reasons.append(Reason("names_differ", (a.name, b.name)))
        if cs is not None and cs < 50:
            score -= 10
            reasons.append(Reason("companies_differ", (a.company, b.company)))
    elif ns is not None and cs is not None:
        score = round(0.88 * (0.7 * min(ns, cs) + 0.3 * max(ns, cs)))
    elif cs is not None and not a.person and not b.person:
        score = round(0.88 * cs)  # two company-only rows
    elif cs is not None:
        score = round(0.75 * cs)  # a company-only row and a person there: maybe not the same
    elif ns is not None:
        score = round(0.6 * ns)
    else:
        score = 0
    return max(0, min(100, score)), reasons


def survivor(a: Record, b: Record) -> tuple[Record, Record, Reason]:
    """Which record to keep by default, and why: the one more linked to deals, interactions
    and tickets (people know it), else the more complete, else the older (created, then id)."""
    if a.linked != b.linked:
        keep, drop = (a, b) if a.linked > b.linked else (b, a)
        return keep, drop, Reason("keep_linked", (keep.id, keep.linked, drop.linked))
    if a.filled != b.filled:
        keep, drop = (a, b) if a.filled > b.filled else (b, a)
        return keep, drop, Reason("keep_complete", (keep.id, keep.filled, drop.filled))
    if a.created and b.created and a.created != b.created:
        keep, drop = (a, b) if a.created < b.created else (b, a)
        return keep, drop, Reason("keep_older", (keep.id, keep.created.isoformat()))  # type: ignore[union-attr]
    keep, drop = (a, b) if _id_order(a.id) <= _id_order(b.id) else (b, a)
    return keep, drop, Reason("keep_first", (keep.id,))


def _id_order(cid: str) -> tuple[int, str]:
    m = _ID_NUMBER.search(cid)
    return (int(m[1]) if m else 1 << 62, cid.casefold())


def find_pairs(
    records: list[Record], threshold: int = DEFAULT_THRESHOLD, progress: Progress | None = None
) -> Found:
    """Every candidate pair scoring at least ``threshold``, best first; ``progress`` hears
    how many candidate pairs are scored (the slow part on a big workbook)."""
    found = Found(records, [])
    pairs = candidates(records, found)
    total = len(pairs)
    if progress is not None:
        progress(0, total)
    for n, (i, j) in enumerate(pairs, 1):
        if progress is not None and (n % PROGRESS_EVERY == 0 or n == total):
            progress(n, total)
        keep, drop, why = survivor(records[i], records[j])
        score, reasons = score_pair(keep, drop)
        if score >= threshold:
            found.pairs.append(Pair(keep, drop, score, reasons, why))
    found.pairs.sort(key=lambda p: (-p.score, _id_order(p.keep.id), _id_order(p.merge.id)))
    return found
