"""``xlcrm dedupe`` on realistic, dirty, bilingual customer lists: what lands on the review
sheet, what ``--apply`` does to customers, deals, interactions, tickets and sends, and that a
person's decisions survive every later run. Every test reads the saved workbook back."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from books import blank_workbook, built_once
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from addin.campaigns.plan import MERGED, Skip, choose_address
from addin.cli import cli
from addin.dedupe import DedupeOptions, dedupe_customers, find_duplicates
from addin.dedupe.normalize import company_key, email_keys, person_key, phone_keys
from addin.errors import UsageError, ValueProblem
from addin.mailsync.linking import CustomerIndex
from addin.workbook import open_book

NOW = dt.datetime(2026, 3, 2, 9, 30)

CUSTOMERS: list[dict[str, Any]] = [
    # The same person from the website form and from a trade-show list.
    {
        "id": "C0001",
        "name": "李娜",
        "company": "上海华信科技有限公司",
        "email": "li.na@huaxin.cn",
        "phone": "+86 138-0013-8000",
        "tags": "vip",
        "notes": "老客户，价格敏感。",
        "created": dt.date(2023, 5, 4),
        "last_contact": dt.date(2025, 11, 3),
    },
    {
        "id": "C0002",
        "name": "李 娜",
        "company": "上海华信科技",
        "email": " LI.NA@HuaXin.CN ; lina1988@qq.com",
        "phone": "13800138000",
        "industry": "电子",
        "tags": "经销商",
        "notes": "展会名片。",
        "created": dt.date(2024, 2, 1),
        "last_contact": dt.date(2026, 2, 1),
    },
    # Two different people called 王伟: never a pair.
    {
        "id": "C0003",
        "name": "王伟",
        "company": "北京启明软件有限公司",
        "email": "wangwei@qiming-soft.cn",
        "phone": "(010) 6552 9988",
    },
    {
        "id": "C0004",
        "name": "王伟",
        "company": "深圳宏图电子有限公司",
        "email": "wang.wei@hongtu.cn",
        "phone": "0755-8888-1234",
    },
    # An English company written twice, the name the other way round, no shared contact.
    {
        "id": "C0005",
        "name": "Wei Wang",
        "company": "Acme Trading Co., Ltd.",
        "email": "wei.wang@acme-trading.com",
        "phone": "+1 650 253 0000",
    },
    {
        "id": "C0006",
        "name": "WANG  WEI",
        "company": "ＡＣＭＥ　ＴＲＡＤＩＮＧ LIMITED",
        "email": "w.wang@gmail.com",
    },
    # The same phone number, 0086 and full-width digits; private 163.com addresses.
    {
        "id": "C0007",
        "name": "张敏",
        "company": "杭州联创电子有限公司",
        "email": "zhangmin@163.com",
        "phone": "0086 139 1234 5678",
    },
    {
        "id": "C0008",
        "name": "张敏",
        "company": "杭州联创电子",
        "email": "zm1988@163.com",
        "phone": "１３９１２３４５６７８",
    },
    # Another 163.com user: a public domain puts nobody together.
    {
        "id": "C0009",
        "name": "Liu Yang",
        "company": "广州博远贸易有限公司",
        "email": "liuyang@163.com",
    },
    # Values that cannot be right.
    {
        "id": "C0010",
        "name": "陈静",
        "company": "成都新源物流有限公司",
        "email": "chen.jing@@xinyuan.cn",
        "phone": "1380013",
    },
    # Merged by an earlier run: ignored although it shares C0001's address.
    {"id": "C0011", "name": "李娜", "email": "li.na@huaxin.cn", "merged_into": "C0001"},
]


@built_once
def make_book(path: Path, lang: str = "en", customers: list[dict[str, Any]] = CUSTOMERS) -> Path:
    blank_workbook(path, lang)
    with open_book(path) as book:
        book.table("customers").insert_all(customers)
        book.table("deals").insert_all(
            [
                {"id": "D0001", "customer_id": "C0001", "title": "ERP 标准版", "stage": "Won"},
                {"id": "D0002", "customer_id": "C0002", "title": "CRM 50 用户", "stage": "Lead"},
                {"id": "D0003", "customer_id": "C0008", "title": "WMS", "stage": "Proposal"},
            ]
        )
        book.table("interactions").insert_all(
            [
                {"customer_id": "C0001", "kind": "email", "at": dt.datetime(2025, 11, 3, 10)},
                {"customer_id": "C0001", "kind": "call", "at": dt.datetime(2025, 11, 4, 15)},
                {"customer_id": "C0001", "kind": "meeting", "at": dt.datetime(2025, 12, 1, 9)},
                {"customer_id": "c0002", "kind": "email", "at": dt.datetime(2026, 2, 1, 11)},
            ]
        )
        book.table("tickets").insert_all(
            [{"id": "T0001", "customer_id": "C0002", "subject": "报表导出乱码"}]
        )
        book.table("sends").insert_all(
            [
                {"campaign": "spring-2026", "customer_id": "C0001", "status": "sent"},
                {"campaign": "spring-2026", "customer_id": "C0002", "status": "bounced"},
                {"campaign": "双十一预热", "customer_id": "C0002", "status": "sent"},
            ]
        )
    return path


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return make_book(tmp_path / "crm.xlsx")


def run(path: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["dedupe", str(path), *args])
    return result


def review_rows(path: Path) -> list[dict[str, Any]]:
    with open_book(path) as book:
        return list(book.table("duplicates").rows())


def pairs(path: Path) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {(r["keep_id"], r["merge_id"]): r for r in review_rows(path)}


def decide(path: Path, decisions: dict[str, str]) -> None:
    """What a person does in Excel: type a decision into the Merge? column."""
    with open_book(path) as book:
        table = book.table("duplicates")
        for row in table.rows():
            key = f"{row['keep_id']}/{row['merge_id']}"
            if key in decisions:
                table.update(row["id"], {"decision": decisions[key]})


# -- normal forms -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "keys", "invalid"),
    [
        (" LI.NA@HuaXin.CN ; lina@qq.com", ["li.na@huaxin.cn", "lina@qq.com"], []),
        ("mailto:Li.Na@huaxin.cn", ["li.na@huaxin.cn"], []),
        ("ｌｉ．ｎａ＠ｈｕａｘｉｎ．ｃｎ", ["li.na@huaxin.cn"], []),
        ("李娜 <li.na@huaxin.cn>，li.na@huaxin.cn", ["li.na@huaxin.cn"], []),
        ("chen.jing@@xinyuan.cn; foo@", [], ["chen.jing@@xinyuan.cn", "foo@"]),
    ],
)
def test_email_keys(cell: str, keys: list[str], invalid: list[str]) -> None:
    found, bad = email_keys(cell)
    assert found == keys
    assert [b.value for b in bad] == invalid


@pytest.mark.parametrize(
    ("cell", "keys"),
    [
        ("+86 138-0013-8000", ["+8613800138000"]),
        ("13800138000", ["+8613800138000"]),
        ("0086 138 0013 8000", ["+8613800138000"]),
        ("１３８００１３８０００", ["+8613800138000"]),
        ("(010) 6552 9988", ["+861065529988"]),
        ("010-6552 9988 转 803; 13800138000", ["+861065529988 ext. 803", "+8613800138000"]),
        ("010-65529988-12", ["+861065529988 ext. 12"]),
        ("+1 650 253 0000", ["+16502530000"]),
    ],
)
def test_phone_keys(cell: str, keys: list[str]) -> None:
    assert phone_keys(cell, "CN") == (keys, [])


def test_invalid_phone_numbers_are_returned_as_written() -> None:
    found, bad = phone_keys("1380013 / 138 0013 8000", "CN")
    assert found == ["+8613800138000"]
    assert [(b.kind, b.value) for b in bad] == [("phone", "1380013")]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("上海华信科技有限公司", "上海华信科技"),
        ("华信科技（上海）有限公司", "上海市华信科技有限责任公司"),
        ("深圳恒达电子股份有限公司", "深圳恒达电子集团"),
        ("Acme Trading Co., Ltd.", "ACME TRADING LIMITED"),
        ("Ａｃｍｅ　Ｔｒａｄｉｎｇ Ｉｎｃ．", "acme trading corp"),
        ("Northwind Logistics GmbH", "Northwind  Logistics"),
    ],
)
def test_company_names_alike(a: str, b: str) -> None:
    assert company_key(a).full == company_key(b).full


def test_a_city_prefix_is_kept_apart() -> None:
    shanghai, beijing, bare = (company_key(n) for n in ("上海华信科技", "北京华信科技", "华信科技"))
    assert shanghai.full != beijing.full
    assert shanghai.core == beijing.core == bare.core == "华信科技"
    assert (shanghai.city, beijing.city, bare.city) == ("上海", "北京", "")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Wang Wei", "wei  WANG"),
        ("王 伟", "王伟"),
        ("王伟先生", "王伟"),
        ("Ｌｉ Ｎａ", "Mr. Na Li"),
    ],
)
def test_person_names_alike(a: str, b: str) -> None:
    assert person_key(a) == person_key(b)


# -- finding ------------------------------------------------------------------------------------


def test_duplicates_and_invalid_values_are_listed_for_review(book: Path) -> None:
    result = run(book)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "10 customers compared: 3 likely duplicate pair(s) (score ≥ 80), "
        "2 invalid e-mail/phone value(s)",
        "Duplicates: 5 new, 0 updated, 0 reopened, 0 gone",
        "next: mark pairs merge (合并/x) or separate in Duplicates, then run again with --apply",
    ]
    rows = review_rows(book)
    assert [
        (r["id"], r["keep_id"], r["merge_id"], r["score"], r["status"], r["decision"]) for r in rows
    ] == [
        ("P0001", "C0001", "C0002", 100, "open", None),
        ("P0002", "C0008", "C0007", 90, "open", None),
        ("P0003", "C0005", "C0006", 88, "open", None),
        ("P0004", "C0010", None, None, "open", None),
        ("P0005", "C0010", None, None, "open", None),
    ]
    first = rows[0]
    assert first["keep_name"] == "李娜 (上海华信科技有限公司)"
    assert first["merge_name"] == "李 娜 (上海华信科技)"
    assert first["evidence"] == (
        "same e-mail li.na@huaxin.cn; same phone +8613800138000; "
        'name 100% alike: "李娜" ~ "李 娜"; '
        'company 100% alike: "上海华信科技有限公司" ~ "上海华信科技"; '
        "suggest keeping C0001: more activity (4 linked rows vs 3)"
    )
    assert rows[1]["evidence"].startswith('same phone +8613912345678; same name "张敏"; ')
    assert rows[2]["evidence"] == (
        'name 100% alike: "Wei Wang" ~ "WANG  WEI"; '
        'company 100% alike: "Acme Trading Co., Ltd." ~ "ＡＣＭＥ　ＴＲＡＤＩＮＧ LIMITED"; '
        "suggest keeping C0005: more complete (4 fields filled vs 3)"
    )
    assert rows[3]["evidence"] == (
        "invalid e-mail 'chen.jing@@xinyuan.cn' "
        "(The part after the @-sign contains invalid characters: '@'.)"
    )
    assert rows[4]["evidence"] == "invalid phone '1380013'"
    assert rows[0]["found"] == rows[4]["found"]


def test_a_common_name_at_different_companies_is_not_a_pair(book: Path) -> None:
    with open_book(book) as wb:
        found = find_duplicates(wb, threshold=0)
    ids = {frozenset((p.keep.id, p.merge.id)): p.score for p in found.pairs}
    assert frozenset(("C0003", "C0004")) not in ids  # 王伟 and 王伟: different companies
    assert not any("C0009" in pair for pair in ids)  # 163.com alone joins no one
    assert not any("C0011" in pair for pair in ids)  # merged away earlier


def test_the_same_company_and_name_in_another_city_is_weak(tmp_path: Path) -> None:
    path = make_book(
        tmp_path / "crm.xlsx",
        customers=[
            {"id": "C0001", "name": "周杰", "company": "上海华信科技有限公司"},
            {"id": "C0002", "name": "周杰", "company": "北京华信科技有限公司"},
            {"id": "C0003", "name": "周杰", "company": "华信科技"},
        ],
    )
    with open_book(path) as wb:
        found = find_duplicates(wb, threshold=0)
    scores = {(p.keep.id, p.merge.id): p.score for p in found.pairs}
    # 上海 vs 北京: two branches; a name without a city: maybe the same.
    assert scores[("C0001", "C0002")] < 80 and scores[("C0001", "C0003")] >= 80
    evidence = {(p.keep.id, p.merge.id): p.reasons for p in found.pairs}
    assert ("cities", ("上海", "北京")) in [(r.kind, r.values) for r in evidence["C0001", "C0002"]]


def test_different_legal_forms_need_more_than_a_name(tmp_path: Path) -> None:
    path = make_book(
        tmp_path / "crm.xlsx",
        customers=[
            {"id": "C0001", "name": "Anna Schmidt", "company": "Northwind Optics GmbH"},
            {"id": "C0002", "name": "Anna Schmidt", "company": "Northwind Optics LLC"},
            {"id": "C0003", "name": "Anna Schmidt", "company": "Northwind Optics Co., Ltd."},
        ],
    )
    with open_book(path) as wb:
        found = find_duplicates(wb, threshold=0)
    scores = {(p.keep.id, p.merge.id): p.score for p in found.pairs}
    # GmbH and LLC: two companies; "Co., Ltd." is what people add to any name.
    assert scores == {("C0001", "C0002"): 79, ("C0001", "C0003"): 88, ("C0002", "C0003"): 88}


def test_a_shared_address_with_different_names_is_not_a_strong_pair(tmp_path: Path) -> None:
    path = make_book(
        tmp_path / "crm.xlsx",
        customers=[
            {"id": "C0001", "name": "刘洋", "company": "苏州正泰机械", "email": "sales@zt.cn"},
            {"id": "C0002", "name": "黄丽", "company": "苏州正泰机械", "email": "Sales@ZT.cn"},
        ],
    )
    result = run(path, "--threshold", "50")
    assert result.exit_code == 0, result.output
    [row] = review_rows(path)
    assert row["score"] == 55
    assert 'but names differ: "刘洋" / "黄丽"' in row["evidence"]
    assert run(path).exit_code == 0  # at the default threshold the pair is not proposed
    assert [r["status"] for r in review_rows(path)] == ["gone"]


# -- applying -----------------------------------------------------------------------------------


def test_apply_merges_and_repoints_everything(book: Path) -> None:
    assert run(book).exit_code == 0
    decide(book, {"C0001/C0002": "合并", "C0005/C0006": "separate"})
    result = run(book, "--apply")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:4] == [
        "merged C0002 into C0001 (P0001)",
        "re-pointed 1 deals, 1 interactions, 1 sends, 1 tickets",
        "kept the send of campaign 'spring-2026' on C0002: the survivor has its own row for it",
        "marked 1 pair(s) not duplicates",
    ]
    with open_book(book) as wb:
        customers = wb.table("customers")
        keep, gone = customers.get("C0001"), customers.get("C0002")
        deals = {r["id"]: r["customer_id"] for r in wb.table("deals").rows()}
        interactions = list(wb.table("interactions").rows())
        tickets = {r["id"]: r["customer_id"] for r in wb.table("tickets").rows()}
        sends = sorted((r["campaign"], r["customer_id"], r["status"]) for r in wb.table("sends"))
        review = {r["id"]: (r["decision"], r["status"]) for r in wb.table("duplicates").rows()}
    assert keep["email"] == "li.na@huaxin.cn; lina1988@qq.com"
    assert keep["phone"] == "+86 138-0013-8000"  # the same number, not added twice
    assert keep["industry"] == "电子"  # filled from the duplicate
    assert keep["tags"] == "vip; 经销商"
    assert keep["notes"] == "老客户，价格敏感。\n(C0002) 展会名片。"
    assert keep["created"] == dt.date(2023, 5, 4)
    assert keep["last_contact"] == dt.date(2026, 2, 1)
    assert keep["merged_into"] is None
    # The duplicate is still there, traced, with its own data.
    assert gone["merged_into"] == "C0001"
    assert gone["email"] == " LI.NA@HuaXin.CN ; lina1988@qq.com"  # as it was
    assert deals == {"D0001": "C0001", "D0002": "C0001", "D0003": "C0008"}
    assert tickets == {"T0001": "C0001"}
    assert [r["customer_id"] for r in interactions[:4]] == ["C0001"] * 4
    note = interactions[4]
    assert (note["customer_id"], note["kind"], note["subject"]) == (
        "C0001",
        "note",
        "Merged C0002 into C0001",
    )
    assert note["summary"] == (
        "李 娜 上海华信科技 (C0002) merged by duplicate pair P0001; "
        "moved 1 deal(s), 1 interaction(s), 1 send(s), 1 ticket(s); "
        "sends of spring-2026 stay with C0002."
    )
    assert sends == [
        ("spring-2026", "C0001", "sent"),
        ("spring-2026", "C0002", "bounced"),
        ("双十一预热", "C0001", "sent"),
    ]
    assert review["P0001"] == ("merge", "merged")
    assert review["P0003"] == ("separate", "separate")
    assert review["P0002"] == (None, "open")
    # Campaigns and mail sync no longer see the merged customer.
    assert choose_address(gone) == Skip("C0002", "LI.NA@HuaXin.CN", MERGED)
    index = CustomerIndex([gone, keep])
    assert index.by_exact_address("li.na@huaxin.cn") == "C0001"
    assert index.by_exact_address("lina1988@qq.com") == "C0001"


def test_rerun_keeps_decisions_and_changes_nothing_twice(book: Path) -> None:
    assert run(book).exit_code == 0
    # A person swaps who survives, marks a pair separate, and fixes a phone number.
    with open_book(book) as wb:
        table = wb.table("duplicates")
        table.update("P0002", {"keep_id": "C0007", "merge_id": "C0008", "decision": "x"})
        table.update("P0003", {"decision": "不合并"})
        wb.table("customers").update("C0010", {"phone": "138 0013 8001"})
        wb.table("customers").insert(
            {
                "id": "C0012",
                "name": "Liu Yang",
                "company": "广州博远贸易",
                "email": "LiuYang@163.com",
            }
        )
    result = run(book)
    assert result.exit_code == 0, result.output
    assert "Duplicates: 1 new, 1 updated, 0 reopened, 1 gone" in result.output
    rows = {r["id"]: r for r in review_rows(book)}
    assert (rows["P0002"]["keep_id"], rows["P0002"]["merge_id"]) == ("C0007", "C0008")
    assert (rows["P0002"]["decision"], rows["P0002"]["status"]) == ("merge", "open")
    assert rows["P0002"]["keep_name"] == "张敏 (杭州联创电子有限公司)"
    assert (rows["P0003"]["decision"], rows["P0003"]["status"]) == ("separate", "open")
    assert rows["P0005"]["status"] == "gone"  # the phone was fixed
    assert (rows["P0006"]["keep_id"], rows["P0006"]["merge_id"]) == ("C0009", "C0012")
    # Nothing new: the file is not written again.
    before = book.read_bytes()
    again = run(book)
    assert again.output.splitlines()[-1] == "nothing to change in the workbook"
    assert book.read_bytes() == before
    # The swapped pair merges the way the person said.
    assert run(book, "--apply").exit_code == 0
    with open_book(book) as wb:
        assert wb.table("customers").get("C0008")["merged_into"] == "C0007"
        assert wb.table("deals").get("D0003")["customer_id"] == "C0007"
    rows = {r["id"]: r for r in review_rows(book)}
    assert [rows[p]["status"] for p in ("P0002", "P0003")] == ["merged", "separate"]
    before = book.read_bytes()
    assert run(book, "--apply").output.splitlines()[-1] == "nothing to change in the workbook"
    assert book.read_bytes() == before


def test_chains_resolve_to_the_last_survivor(tmp_path: Path) -> None:
    path = make_book(
        tmp_path / "crm.xlsx",
        customers=[
            {"id": "C0001", "name": "赵磊", "company": "宁波金桥包装", "email": "zl@jq.cn"},
            {"id": "C0002", "name": "赵磊", "email": "zl@jq.cn", "phone": "13912345678"},
            {"id": "C0003", "name": "赵 磊", "phone": "+86 139 1234 5678", "region": "华东"},
            {"id": "C0004", "name": "Zhao Lei", "merged_into": "C0002"},
        ],
    )
    with open_book(path) as wb:
        wb.ensure_table("duplicates").insert_all(
            [
                {"keep_id": "C0002", "merge_id": "C0001", "decision": "merge", "status": "open"},
                {"keep_id": "C0003", "merge_id": "C0002", "decision": "yes", "status": "open"},
            ]
        )
    result = run(path, "--apply")
    assert result.exit_code == 0, result.output
    with open_book(path) as wb:
        customers = {r["id"]: r for r in wb.table("customers").rows()}
        deals = {r["id"]: r["customer_id"] for r in wb.table("deals").rows()}
    assert {k: customers[k]["merged_into"] for k in customers} == {
        "C0001": "C0003",
        "C0002": "C0003",
        "C0003": None,
        "C0004": "C0003",  # merged into C0002 by an earlier run: follows it
    }
    survivor = customers["C0003"]
    assert (survivor["company"], survivor["email"], survivor["region"]) == (
        "宁波金桥包装",
        "zl@jq.cn",
        "华东",
    )
    assert deals["D0001"] == deals["D0002"] == "C0003"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            {"keep_id": "C0001", "merge_id": "C0999", "decision": "merge"},
            "Duplicates!D2: there is no customer C0999 in the Customers table\n"
            "  hint: correct the id, or clear the Merge? cell",
        ),
        (
            {"keep_id": "C0011", "merge_id": "C0002", "decision": "合并"},
            "Duplicates!C2: customer C0011 was already merged into C0001 (Customers!T12)\n"
            "  hint: write C0001 instead, or clear the Merge? cell",
        ),
        (
            {"keep_id": "C0010", "decision": "x", "evidence": "invalid phone '1380013'"},
            "Duplicates!D2: this row is marked merge but names no customer to merge\n"
            "  hint: rows without a Merge customer report a value to fix in the Customers "
            "table; fix it there and clear the Merge? cell",
        ),
        (
            {"keep_id": "C0001", "merge_id": "C0002", "decision": "maybe"},
            "Duplicates!B2: 'maybe' is not a decision\n"
            "  hint: write merge (合并, yes, x) or separate (不合并, no), or leave the cell empty",
        ),
    ],
)
def test_a_bad_decision_names_the_cell_and_changes_nothing(
    book: Path, row: dict[str, Any], message: str
) -> None:
    typed = row.pop("decision")
    with open_book(book) as wb:
        wb.ensure_table("duplicates").insert({"status": "open", **row})
    if typed not in ("merge", "合并", "x"):  # what the Table API refuses, a person may type
        excel = load_workbook(book)
        excel["Duplicates"]["B2"] = typed
        excel.save(book)
    else:
        decide(book, {f"{row['keep_id']}/{row.get('merge_id')}": typed})
    before = book.read_bytes()
    result = run(book, "--apply")
    assert result.exit_code == 1
    assert result.output == f"xlcrm: {message}\n"
    assert book.read_bytes() == before


def test_one_customer_merged_into_two_is_refused(book: Path) -> None:
    with open_book(book) as wb:
        wb.ensure_table("duplicates").insert_all(
            [
                {"keep_id": "C0001", "merge_id": "C0002", "decision": "merge"},
                {"keep_id": "C0003", "merge_id": "C0002", "decision": "merge"},
            ]
        )
        wb.save()
        with pytest.raises(ValueProblem) as error:
            dedupe_customers(wb, DedupeOptions(apply=True, now=lambda: NOW))
    assert str(error.value) == (
        "Duplicates!B3: C0002 is merged into C0003 here and into C0001 by row P0001\n"
        "  hint: mark only one of the two rows merge"
    )


# -- languages, settings, older workbooks -------------------------------------------------------


def test_a_chinese_workbook(tmp_path: Path) -> None:
    path = make_book(tmp_path / "客户管理.xlsx", "zh")
    with open_book(path) as wb:  # the caller saves
        report = dedupe_customers(wb, DedupeOptions(now=lambda: NOW))
    assert report.sheet == "重复客户"
    rows = review_rows(path)
    assert rows[0]["evidence"] == (
        "相同邮箱 li.na@huaxin.cn；相同电话 +8613800138000；姓名相似 100%：“李娜” ~ “李 娜”；"
        "公司相似 100%：“上海华信科技有限公司” ~ “上海华信科技”；"
        "建议保留 C0001：往来更多（4 条关联记录，对方 3 条）"
    )
    assert rows[4]["evidence"] == "无效电话“1380013”"
    decide(path, {"C0001/C0002": "合并"})
    with open_book(path) as wb:
        report = dedupe_customers(wb, DedupeOptions(apply=True, now=lambda: NOW))
    assert [(m.merge, m.into) for m in report.applied.merged] == [("C0002", "C0001")]
    with open_book(path) as wb:
        note = list(wb.table("interactions").rows())[-1]
        assert wb.table("duplicates").get("P0001")["status"] == "merged"
        assert wb.table("customers").where_of("C0002", "merged_into").startswith("客户!")
    assert note["subject"] == "客户 C0002 已合并到 C0001"
    assert note["summary"] == (
        "李 娜 上海华信科技（C0002）按重复客户 P0001 合并；"
        "转入 1 个商机、1 条互动、1 条发送记录、1 个工单；"
        "活动 spring-2026 的发送记录保留在原客户名下。"
    )
    assert note["at"] == NOW


def test_the_phone_region_comes_from_the_settings_or_the_option(tmp_path: Path) -> None:
    path = make_book(
        tmp_path / "crm.xlsx",
        customers=[
            {
                "id": "C0001",
                "name": "Chan Tai Man",
                "company": "Harbour Optics",
                "phone": "2123 4567",
            },
            {"id": "C0002", "name": "Tai Man Chan", "phone": "+852 2123-4567"},
        ],
    )
    result = run(path, "--json")
    assert json.loads(result.output)["pairs"] == 0  # read in China: 2123 4567 is not valid
    with open_book(path) as wb:
        wb.table("settings").update("Phone region", {"value": "hk"})
    report = json.loads(run(path, "--json").output)
    assert (report["region"], report["pairs"], report["invalid"]) == ("HK", 1, 0)
    bad = run(path, "--region", "XX")
    assert bad.exit_code == 2
    assert bad.output == (
        "xlcrm: --region: 'XX' is not a region phone numbers know\n"
        "  hint: use a two-letter country code such as CN, HK, TW, SG or US\n"
    )


def test_an_older_workbook_gets_the_review_sheet_and_the_merged_into_column(
    tmp_path: Path,
) -> None:
    """A workbook someone made by hand: plain header ranges, no Duplicates sheet and no
    Merged into column; xlcrm adds both and leaves the rest alone."""
    path = tmp_path / "客户.xlsx"
    wb = Workbook()
    sheet = wb.active
    sheet.title = "客户"
    sheet.append(["客户编号", "姓名", "公司", "邮箱", "电话", "我的备注"])
    sheet.append(["C0001", "孙丽", "厦门海川光电有限公司", "sunli@haichuan.cn", "13512345678", "A"])
    sheet.append(["C0002", "孙 丽", "厦门海川光电", "SunLi@HaiChuan.cn", "", "B"])
    deals = wb.create_sheet("商机")
    deals.append(["商机编号", "客户编号", "商机名称"])
    deals.append(["D0001", "C0002", "光电传感器"])
    deals.append(["D0002", "C0002", "温湿度传感器"])
    deals.append(["D0003", "C0001", "工业平板"])
    wb.save(path)
    assert run(path).exit_code == 0
    decide(path, {"C0002/C0001": "合并"})  # C0002 has more deals: suggested survivor
    result = run(path, "--apply")
    assert result.exit_code == 0, result.output
    with open_book(path) as book:
        customers = book.table("customers")
        assert customers.columns[-1] == "merged_into"
        assert customers.layout.headers[-1] == "已合并到"
        assert customers.get("C0001")["merged_into"] == "C0002"
        assert [customers.get(c)["我的备注"] for c in ("C0001", "C0002")] == ["A", "B"]
        assert customers.get("C0002")["phone"] == "13512345678"
        assert {r["customer_id"] for r in book.table("deals").rows()} == {"C0002"}
        assert book.table("duplicates").layout.sheet == "重复客户"


def test_apply_before_any_review_says_what_to_do(book: Path, tmp_path: Path) -> None:
    path = tmp_path / "plain.xlsx"
    wb = Workbook()
    wb.active.title = "Customers"
    wb.active.append(["ID", "Name", "Email"])
    wb.active.append(["C0001", "Li Na", "li@x.cn"])
    wb.save(path)
    missing = "there is no Duplicates sheet to apply yet"
    with open_book(path) as book, pytest.raises(UsageError, match=missing):
        dedupe_customers(book, DedupeOptions(apply=True))
    result = run(path)
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "nothing to change in the workbook"
