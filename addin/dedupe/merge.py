"""``xlcrm dedupe --apply``: merge the pairs a person marked, and never lose anything.

For each row of the Duplicates sheet marked *merge* (合并, yes, x…), the Merge customer goes
into the Keep customer:

- the survivor's empty cells are filled from the duplicate; e-mail addresses, phone numbers,
  bounced addresses and tags are united; notes are appended; the earliest *created* and the
  latest *last contact* win; *unsubscribed* wins (someone who asked not to be mailed is not
  mailed because a duplicate was merged);
- deals, interactions, tickets and campaign sends that name the duplicate are re-pointed to the
  survivor. A send is keyed by campaign and customer, so when both customers have a row for the
  same campaign the duplicate's row stays where it is (it is the record of what went to that
  address; the survivor's row is the campaign's answer for the survivor) — never a second row
  with the same key, never a deleted row;
- the duplicate stays in the Customers table with *Merged into* set to the survivor, and a note
  interaction on the survivor says what was merged and moved.

Chains resolve: Keep B / Merge A and Keep C / Merge B send A and B to C, and customers merged
into B by an earlier run now point to C. Everything is checked before anything changes; one
problem stops the whole run with the cell to fix, and the workbook is saved in one step.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..customers import join_emails, split_emails, split_phones, split_tags
from ..errors import ValueProblem
from ..schema import Lang
from ..workbook import Book, Table
from .normalize import phone_key
from .review import GONE, MERGED, SEPARATE

LINKED_TABLES = ("deals", "interactions", "tickets")
# Columns merged by their own rule, not by "fill the survivor's empty cells".
_SPECIAL = frozenset(
    {
        "id",
        "merged_into",
        "email",
        "bounced",
        "phone",
        "tags",
        "notes",
        "created",
        "last_contact",
        "updated",
        "unsubscribed",
    }
)


@dataclass
class Merge:
    """One merge to do: the duplicate, the row's survivor and the final one (after chains)."""

    pair: str  # the Duplicates row id
    merge: str
    keep: str
    into: str = ""


@dataclass
class Applied:
    """What ``--apply`` did."""

    merged: list[Merge] = field(default_factory=list)
    separated: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # pair id, why
    moved: Counter[str] = field(default_factory=Counter)  # table -> rows re-pointed
    sends_kept: list[tuple[str, str]] = field(default_factory=list)  # campaign, customer


def _fold(value: Any) -> str:
    return str(value or "").strip().casefold()


def plan_merges(review: Table, customers: Table) -> tuple[list[Merge], list[str], Applied]:
    """Read the decisions and check every one; raise at the first cell that needs fixing."""
    applied = Applied()
    merges: list[Merge] = []
    separate: list[str] = []
    ids = {_fold(r.get("id")): r for r in customers.rows() if r.get("id")}
    edges: dict[str, Merge] = {}  # folded duplicate -> its merge
    for row in review.rows():
        pid, decision, status = row.get("id"), row.get("decision"), row.get("status")
        if not pid or decision is None:
            continue
        where = review.where_of(pid, "decision")
        if decision not in ("merge", "separate"):
            raise ValueProblem(
                where,
                f"{decision!r} is not a decision",
                "write merge (合并, yes, x) or separate (不合并, no), or leave the cell empty",
            )
        if status == MERGED or (status == SEPARATE and decision == "separate"):
            continue  # done by an earlier run
        if status == GONE:
            applied.skipped.append((pid, "no longer a candidate (status gone)"))
            continue
        if decision == "separate":
            separate.append(pid)
            continue
        keep = str(row.get("keep_id") or "").strip()
        merge = str(row.get("merge_id") or "").strip()
        if not merge or not keep:
            side = "merge_id" if not merge else "keep_id"
            raise ValueProblem(
                review.where_of(pid, side),
                "this row is marked merge but names no customer to "
                + ("merge" if side == "merge_id" else "keep"),
                "rows without a Merge customer report a value to fix in the Customers table; "
                "fix it there and clear the Merge? cell",
            )
        if _fold(keep) == _fold(merge):
            raise ValueProblem(
                review.where_of(pid, "merge_id"),
                f"a customer cannot be merged into itself ({keep})",
                "correct Keep or Merge, or clear the Merge? cell",
            )
        for side, ident in (("keep_id", keep), ("merge_id", merge)):
            found = ids.get(_fold(ident))
            if found is None:
                raise ValueProblem(
                    review.where_of(pid, side),
                    f"there is no customer {ident} in the Customers table",
                    "correct the id, or clear the Merge? cell",
                )
            into = found.get("merged_into")
            if into:
                raise ValueProblem(
                    review.where_of(pid, side),
                    f"customer {ident} was already merged into {into} "
                    f"({customers.where_of(found['id'], 'merged_into')})",
                    f"write {into} instead, or clear the Merge? cell",
                )
        earlier = edges.get(_fold(merge))
        if earlier is not None and _fold(earlier.keep) != _fold(keep):
            raise ValueProblem(
                where,
                f"{merge} is merged into {keep} here and into {earlier.keep} by row {earlier.pair}",
                "mark only one of the two rows merge",
            )
        item = Merge(pid, ids[_fold(merge)]["id"], ids[_fold(keep)]["id"])
        edges[_fold(merge)] = item
        merges.append(item)
    # Chains: follow Keep until a customer that is not merged itself; refuse circles.
    for item in merges:
        seen = [item.pair]
        target = item.keep
        while _fold(target) in edges:
            nxt = edges[_fold(target)]
            if nxt.pair in seen:
                raise ValueProblem(
                    review.where_of(item.pair, "decision"),
                    "rows " + ", ".join(seen) + " merge these customers into each other "
                    "in a circle",
                    "clear the Merge? cell of one of them",
                )
            seen.append(nxt.pair)
            target = nxt.keep
        item.into = target
    # Deepest first, so A → B → C fills B from A before C from B.
    merges.sort(key=lambda m: -_depth(m, edges))
    return merges, separate, applied


def _depth(item: Merge, edges: dict[str, Merge]) -> int:
    depth, target = 1, item.keep
    while _fold(target) in edges and depth <= len(edges):
        depth += 1
        target = edges[_fold(target)].keep
    return depth


def apply_decisions(
    book: Book, review: Table, lang: Lang, now: dt.datetime, region: str
) -> Applied:
    """Do what the Duplicates sheet says (unsaved): merges, then separations."""
    customers = book.table("customers")
    merges, separate, applied = plan_merges(review, customers)
    if merges:
        customers.add_column("merged_into")
    today = now.date()
    into_of = {_fold(m.merge): m.into for m in merges}
    # Customers merged by earlier runs into someone merged now follow to the new survivor.
    for row in customers.rows():
        earlier = _fold(row.get("merged_into"))
        if earlier in into_of:
            customers.update(row["id"], {"merged_into": into_of[earlier]})
            into_of[_fold(row["id"])] = into_of[earlier]
    moved_by: dict[str, Counter[str]] = {m.merge: Counter() for m in merges}
    kept_by: dict[str, list[str]] = {m.merge: [] for m in merges}
    for name in LINKED_TABLES:
        if not book.has_table(name):
            continue
        table = book.table(name)
        if "customer_id" not in table.columns:
            continue
        pk = table.spec.pk[0]
        for row in table.rows():
            target = into_of.get(_fold(row.get("customer_id")))
            if target is not None and row.get(pk):
                original = _original(row["customer_id"], merges)
                table.update(row[pk], {"customer_id": target})
                applied.moved[name] += 1
                moved_by.setdefault(original, Counter())[name] += 1
    if book.has_table("sends"):
        _repoint_sends(book.table("sends"), into_of, merges, applied, moved_by, kept_by)
    for item in merges:
        keep_row = customers.get(item.keep)
        drop_row = customers.get(item.merge)
        changes = merged_fields(keep_row, drop_row, region, today)
        customers.update(item.keep, changes)
        trace = {"merged_into": item.into, "updated": today}
        customers.update(item.merge, {k: v for k, v in trace.items() if k in customers.columns})
        applied.merged.append(item)
        review.update(item.pair, {"status": MERGED})
    if merges and book.has_table("interactions"):
        book.table("interactions").insert_all(
            _note(
                m, customers, moved_by.get(m.merge, Counter()), kept_by.get(m.merge, []), lang, now
            )
            for m in merges
        )
    for pid in separate:
        review.update(pid, {"status": SEPARATE})
        applied.separated.append(pid)
    return applied


def _original(customer_id: str, merges: list[Merge]) -> str:
    folded = _fold(customer_id)
    for m in merges:
        if _fold(m.merge) == folded:
            return m.merge
    return customer_id


def _repoint_sends(
    sends: Table,
    into_of: dict[str, str],
    merges: list[Merge],
    applied: Applied,
    moved_by: dict[str, Counter[str]],
    kept_by: dict[str, list[str]],
) -> None:
    rows = list(sends.rows())
    taken = {(_fold(r.get("campaign")), _fold(r.get("customer_id"))) for r in rows}
    for row in rows:
        target = into_of.get(_fold(row.get("customer_id")))
        if target is None or not row.get("campaign"):
            continue
        campaign = row["campaign"]
        original = _original(row["customer_id"], merges)
        if (_fold(campaign), _fold(target)) in taken:
            applied.sends_kept.append((campaign, row["customer_id"]))
            kept_by.setdefault(original, []).append(campaign)
            continue
        sends.update((campaign, row["customer_id"]), {"customer_id": target})
        taken.discard((_fold(campaign), _fold(row["customer_id"])))
        taken.add((_fold(campaign), _fold(target)))
        applied.moved["sends"] += 1
        moved_by.setdefault(original, Counter())["sends"] += 1


def merged_fields(
    keep: dict[str, Any], drop: dict[str, Any], region: str, today: dt.date
) -> dict[str, Any]:
    """The survivor's changed cells when ``drop`` is merged into ``keep``."""
    out: dict[str, Any] = {}
    for key, value in keep.items():
        other = drop.get(key)
        if key in _SPECIAL or other in (None, ""):
            continue
        if value in (None, ""):
            out[key] = other
    for key in ("email", "bounced"):
        if drop.get(key):
            out[key] = join_emails([*split_emails(keep.get(key)), *split_emails(drop.get(key))])
    if drop.get("phone"):
        numbers = split_phones(keep.get("phone"))
        known = {phone_key(n, region) or n for n in numbers}
        for n in split_phones(drop.get("phone")):
            if (phone_key(n, region) or n) not in known:
                numbers.append(n)
                known.add(phone_key(n, region) or n)
        out["phone"] = "; ".join(numbers)
    if drop.get("tags"):
        mine = str(keep.get("tags") or "")
        tags = split_tags(mine)
        folded = {t.casefold() for t in tags}
        for t in split_tags(drop["tags"]):
            if t.casefold() not in folded:
                tags.append(t)
                folded.add(t.casefold())
        out["tags"] = (", " if "," in mine and ";" not in mine else "; ").join(tags)
    notes, more = str(keep.get("notes") or "").strip(), str(drop.get("notes") or "").strip()
    if more and more not in notes:
        out["notes"] = f"{notes}\n({drop['id']}) {more}" if notes else f"({drop['id']}) {more}"
    for key, pick in (("created", min), ("last_contact", max)):
        values = [v for v in (keep.get(key), drop.get(key)) if isinstance(v, dt.date)]
        if values:
            out[key] = pick(values, key=_as_datetime)
    if drop.get("unsubscribed") is True:
        out["unsubscribed"] = True
    if "updated" in keep:
        out["updated"] = today
    return {k: v for k, v in out.items() if k in keep and keep.get(k) != v}


def _as_datetime(value: dt.date) -> dt.datetime:
    return (
        value if isinstance(value, dt.datetime) else dt.datetime(value.year, value.month, value.day)
    )


_MOVED_EN = {"deals": "deal(s)", "interactions": "interaction(s)", "tickets": "ticket(s)"}
_MOVED_ZH = {
    "deals": "个商机",
    "interactions": "条互动",
    "tickets": "个工单",
    "sends": "条发送记录",
}


def _note(
    item: Merge,
    customers: Table,
    moved: Counter[str],
    kept: list[str],
    lang: Lang,
    now: dt.datetime,
) -> dict[str, Any]:
    """The note interaction on the survivor that records a merge."""
    drop = customers.get(item.merge)
    who = " ".join(str(drop.get(k) or "") for k in ("name", "company")).strip() or item.merge
    if lang == "zh":
        subject = f"客户 {item.merge} 已合并到 {item.into}"
        parts = [f"{who}（{item.merge}）按重复客户 {item.pair} 合并"]
        if moved:
            parts.append(
                "转入 " + "、".join(f"{n} {_MOVED_ZH[t]}" for t, n in sorted(moved.items()))
            )
        if kept:
            parts.append("活动 " + "、".join(kept) + " 的发送记录保留在原客户名下")
        summary = "；".join(parts) + "。"
    else:
        subject = f"Merged {item.merge} into {item.into}"
        parts = [f"{who} ({item.merge}) merged by duplicate pair {item.pair}"]
        if moved:
            parts.append(
                "moved "
                + ", ".join(f"{n} {_MOVED_EN.get(t, 'send(s)')}" for t, n in sorted(moved.items()))
            )
        if kept:
            parts.append(f"sends of {', '.join(kept)} stay with {item.merge}")
        summary = "; ".join(parts) + "."
    return {
        "customer_id": item.into,
        "kind": "note",
        "at": now,
        "subject": subject,
        "summary": summary,
    }
