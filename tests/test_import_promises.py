"""``xlcrm import`` does what the README says, seen from the command line.

Real workbooks (``xlcrm init`` and ``xlcrm demo``), real CSV and vCard files written here, and
the real ``xlcrm`` entry point in a child process; the tests assert the lines a person reads and
the rows the saved workbook holds. Nothing is mocked.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from addin.init import create_workbook
from addin.workbook import open_book
from tests.test_cli import run


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def rows_of(book: Path, table: str) -> list[dict]:
    with open_book(book) as b:
        return [{k: v for k, v in r.items() if v not in (None, "")} for r in b.table(table).rows()]


@pytest.fixture
def crm(tmp_path: Path) -> Path:
    """A CRM workbook with 王伟 (no phone yet) and Li Na, and one deal of 王伟's."""
    book = create_workbook(tmp_path / "crm.xlsx")
    with open_book(book) as b:
        b.table("customers").insert_all(
            [
                {"name": "王伟", "email": "wang.wei@example.cn", "company": "星河软件"},
                {"name": "Li Na", "email": "li.na@example.com", "phone": "+86 139 0013 9000"},
            ]
        )
        b.table("deals").insert_all([{"customer_id": "C0001", "title": "ERP", "stage": "Lead"}])
    return book


VCARD = """BEGIN:VCARD
VERSION:3.0
FN:Wang Wei
N:Wang;Wei;;;
ORG:Xinghe Software
EMAIL;TYPE=WORK:Wang.Wei@example.cn
TEL;TYPE=CELL:138 0013 8000
NOTE:met at the fair
END:VCARD
"""


def test_a_vcard_fills_blanks_and_never_rewrites_a_chinese_name(crm, tmp_path):
    card = tmp_path / "phone.vcf"
    card.write_text(VCARD, encoding="utf-8")
    result = run("import", str(crm), "customers", str(card))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "phone.vcf → Customers: 1 rows: 0 inserted, 1 updated, 0 unchanged, 0 skipped",
        "kept 2 existing values that differ from the file (--overwrite replaces them)",
        "changes (4):",
        '  phone.vcf:1: C0001 phone: (empty) → "+86 138 0013 8000"',
        '  phone.vcf:1: C0001 notes: (empty) → "met at the fair"',
        '  phone.vcf:1: C0001 name: kept "王伟" (the file has "Wang Wei")',
        '  phone.vcf:1: C0001 company: kept "星河软件" (the file has "Xinghe Software")',
        "duplicates (1):",
        "  phone.vcf:1: matched existing C0001 (same e-mail Wang.Wei@example.cn)",
    ]
    first = rows_of(crm, "customers")[0]
    assert (first["name"], first["company"], first["phone"], first["notes"]) == (
        "王伟",
        "星河软件",
        "+86 138 0013 8000",
        "met at the fair",
    )
    overwrite = run("import", str(crm), "customers", str(card), "--overwrite")
    assert 'C0001 name: "王伟" → "Wang Wei"' in overwrite.stdout
    assert rows_of(crm, "customers")[0]["name"] == "Wang Wei"


def test_a_problem_row_writes_nothing_and_strict_writes_nothing_at_all(crm, tmp_path):
    source = write_csv(
        tmp_path / "new.csv",
        [
            ["Name", "Email", "Phone"],
            ["张三", "zhang.san@example.cn", "13800138000"],
            ["Foo", "foo@", "13900139000"],
        ],
    )
    before = crm.read_bytes()
    strict = run("import", str(crm), "customers", str(source), "--strict")
    assert strict.returncode == 1
    assert strict.stdout == ""
    assert strict.stderr.splitlines() == [
        "new.csv → Customers: 2 rows: 1 inserted, 0 updated, 0 unchanged, 1 skipped",
        "--strict: nothing was written because of the problems below",
        "problems (1):",
        '  new.csv:3: email "foo@" is not a valid address; the row was skipped',
        "xlcrm: new.csv: 1 of 2 rows have problems, so with --strict nothing was imported",
        "  hint: fix the rows listed, or run without --strict to import the rows without problems",
    ]
    assert crm.read_bytes() == before

    result = run("import", str(crm), "customers", str(source))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "new.csv → Customers: 2 rows: 1 inserted, 0 updated, 0 unchanged, 1 skipped"
    )
    assert '  new.csv:3: email "foo@" is not a valid address; the row was skipped' in (
        result.stdout.splitlines()
    )
    assert [r["name"] for r in rows_of(crm, "customers")] == ["王伟", "Li Na", "张三"]


def test_references_are_checked(crm, tmp_path):
    source = write_csv(
        tmp_path / "calls.csv",
        [
            ["Customer ID", "Deal ID", "Kind", "At", "Summary"],
            ["C0001", "D0001", "call", "2026-01-05 10:00", "pricing"],
            ["C0009", "", "call", "2026-01-06 10:00", "who?"],
            ["C0002", "D0042", "meeting", "2026-01-07 10:00", "lost deal"],
        ],
    )
    result = run("import", str(crm), "interactions", str(source))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        lines[0]
        == "calls.csv → Interactions: 3 rows: 1 inserted, 0 updated, 0 unchanged, 2 skipped"
    )
    assert lines[-3:] == [
        "problems (2):",
        '  calls.csv:3: customer_id "C0009" is not in the Customers table; the row was skipped',
        '  calls.csv:4: deal_id "D0042" is not in the Deals table; the row was skipped',
    ]
    assert [r["summary"] for r in rows_of(crm, "interactions")] == ["pricing"]


def test_the_dry_run_lists_the_first_twenty_changes_and_verbose_all(crm, tmp_path):
    rows = [["Name", "Email"]] + [[f"P{n}", f"p{n}@example.cn"] for n in range(25)]
    source = write_csv(tmp_path / "many.csv", rows)
    before = crm.read_bytes()
    dry = run("import", str(crm), "customers", str(source), "--dry-run")
    lines = dry.stdout.splitlines()
    assert lines[:4] == [
        "many.csv → Customers: 25 rows: 25 inserted, 0 updated, 0 unchanged, 0 skipped",
        "dry run: nothing was written",
        "changes (25):",
        "  many.csv:2: new C0003",
    ]
    assert lines[22:] == [
        "  many.csv:21: new C0022",
        "  … and 5 more (--verbose lists them all)",
        "Run again without --dry-run to import.",
    ]
    verbose = run("import", str(crm), "customers", str(source), "--dry-run", "--verbose")
    assert verbose.stdout.splitlines()[-2] == "  many.csv:26: new C0027"
    assert crm.read_bytes() == before


def test_json_report(crm, tmp_path):
    source = write_csv(tmp_path / "x.csv", [["ID", "Phone"], ["C0002", "+86 139-0013-9000"]])
    result = run("import", str(crm), "customers", str(source), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["unchanged"], report["updated"], report["written"]) == (1, 0, True)
    assert report["changes"] == [] and report["problems"] == []


def test_export_then_import_of_the_demo_is_a_no_op(tmp_path):
    assert run("demo", str(tmp_path / "demo")).returncode == 0
    book = tmp_path / "demo" / "xlcrm-demo.xlsx"
    for fmt in ("csv", "json"):
        out = tmp_path / f"customers.{fmt}"
        exported = run("export", str(book), "customers", "--format", fmt, "-o", str(out))
        assert exported.returncode == 0, exported.stderr
        before = book.read_bytes()
        result = run("import", str(book), "customers", str(out))
        assert result.returncode == 0, result.stderr
        count = len(rows_of(book, "customers"))
        assert result.stdout == (
            f"customers.{fmt} → Customers: {count} rows: 0 inserted, 0 updated, "
            f"{count} unchanged, 0 skipped\n"
        )
        assert book.read_bytes() == before  # nothing to save
