"""The ribbon's commands that read whole tables read only the columns they use, and show what
whole tables show: the dashboard, the reminders and merging duplicates are each run through a
real service twice on the same demo workbook — as shipped, and with every column of every
table posted — and the sheets they leave must match cell for cell (Excel cannot run here: the
Office host stand-in holds the workbook). Past its cell budget a command is refused before
any work.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from addin_client import AddinClient, ServiceFailed, running_service
from books import built_once
from officehost import OfficeHost

from addin.demo import build_demo
from addin.remote.book import ALL
from addin.schema import TABLES
from addin.service import commands
from addin.workbook.cells import parse_range


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with running_service() as url:
        yield url


@built_once
def demo_book(path: Path, lang: str = "en") -> Path:
    made = build_demo(path.parent / f"demo-{lang}", lang=lang)  # type: ignore[arg-type]
    path.write_bytes(made.path.read_bytes())
    return path


def _whole(_: Any) -> dict[str, str]:
    return {name: ALL for name in TABLES}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("command", ["report", "reminders"])
def test_dashboard_and_reminders_show_with_their_columns_what_whole_tables_show(
    tmp_path: Path, base_url: str, monkeypatch: pytest.MonkeyPatch, command: str, lang: str
) -> None:
    path = demo_book(tmp_path / "crm.xlsx", lang)
    narrow = OfficeHost.from_xlsx(path)
    client = AddinClient(base_url, narrow)
    reads = client.post("/api/v1/plan", narrow.request(command))["reads"]
    for table in ("customers", "deals", "interactions", "tickets"):
        assert reads[table].get("columns"), f"{table}: every column read"
    customers = reads["customers"]
    sheet = narrow.sheets[customers["sheet"]]
    r1, c1, _, _ = parse_range(customers["address"])
    read = {sheet.get(r1, c1 + j) for j in customers["columns"]}
    assert not read & {"Phone", "Notes", "电话", "备注"}  # what the dashboard never shows
    client.run(command)
    assert_same_as_whole_tables(narrow, path, base_url, monkeypatch, command, {})


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_merging_duplicates_reads_only_the_customer_column_of_linked_tables(
    tmp_path: Path, base_url: str, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    """Clean duplicates, then merge what it found: the linked tables' rows point at the
    survivors exactly as with whole tables posted."""
    path = demo_book(tmp_path / "crm.xlsx", lang)
    narrow = OfficeHost.from_xlsx(path)
    client = AddinClient(base_url, narrow)
    reads = client.post("/api/v1/plan", narrow.request("dedupe", {"apply": True}))["reads"]
    for table in ("deals", "interactions", "tickets"):
        assert len(reads[table]["columns"]) == 2  # the id and the customer
    client.run("dedupe")
    assert mark_all_to_merge(narrow), "the demo has duplicates to merge"
    client.run("dedupe", {"apply": True})
    merged = [r for r in customer_rows(narrow) if r.get("merged_into")]
    assert merged, "nothing was merged"

    whole = OfficeHost.from_xlsx(path)
    whole_client = AddinClient(base_url, whole)
    whole_client.run("dedupe")
    mark_all_to_merge(whole)
    assert_same_as_whole_tables(
        narrow, path, base_url, monkeypatch, "dedupe", {"apply": True}, whole=whole
    )


def assert_same_as_whole_tables(
    narrow: OfficeHost,
    path: Path,
    base_url: str,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    options: dict[str, Any],
    whole: OfficeHost | None = None,
) -> None:
    """Run ``command`` again on ``whole`` (a fresh copy of ``path`` unless given) with every
    column of every table posted; the workbooks must then be the same, cell for cell."""
    whole = whole or OfficeHost.from_xlsx(path)
    monkeypatch.setitem(
        commands.COMMANDS, command, dataclasses.replace(commands.COMMANDS[command], needs=_whole)
    )
    AddinClient(base_url, whole).run(command, options)

    assert narrow.sheets.keys() == whole.sheets.keys()
    for name, got in narrow.sheets.items():
        expected = whole.sheets[name]
        differ = {
            at: (got.cells.get(at), expected.cells.get(at))
            for at in got.cells.keys() | expected.cells.keys()
            if not _same(got.cells.get(at), expected.cells.get(at))
        }
        if name == "_xlcrm":  # each answer's own operation id
            assert narrow.state().keys() == whole.state().keys()
            continue
        assert not differ, f"{name}: {sorted(differ.items())[:5]}"


def _same(a: object, b: object) -> bool:
    """Two cells as a user would compare them: the times the runs wrote (the dashboard's
    refresh time, a merge's note) may be a minute apart, as text or as Excel serial dates."""
    if isinstance(a, str) and isinstance(b, str):
        now = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")
        return now.sub("<now>", a) == now.sub("<now>", b)
    if isinstance(a, float) and isinstance(b, float) and a > 40_000:  # a date after 2009
        return abs(a - b) <= 2 / (24 * 60)
    return a == b


def mark_all_to_merge(host: OfficeHost) -> int:
    """Write "merge" into every pair's Merge? cell, as a user reviewing the sheet would; the
    number of pairs."""
    for sheet in host.sheets.values():
        header = {sheet.get(1, c): c for c in range(20)}
        decision = header.get("Merge?", header.get("是否合并"))
        if decision is None:
            continue
        pairs = [r for r in range(2, 1000) if sheet.get(r, 0)]
        for r in pairs:
            sheet.put(r, decision, "merge")
        return len(pairs)
    return 0


def customer_rows(host: OfficeHost) -> list[dict[str, Any]]:
    """The Customers table as the workbook in Excel now holds it."""
    from backends import RemoteBackend

    backend = RemoteBackend()
    backend.hosts[Path("host")] = host
    with backend.open(Path("host")) as book:
        return list(book.table("customers").rows())


def test_a_workbook_past_a_commands_cell_budget_gets_a_413_and_keeps_its_sheets(
    tmp_path: Path, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What each command builds from a cell costs more than decoding it, so each has its own
    budget (``Command.max_cells``, measured for the memory bound); past it the add-in is told
    so before any work, and the workbook is not touched."""
    host = OfficeHost.from_xlsx(demo_book(tmp_path / "crm.xlsx", "en"))
    before = {name: dict(sheet.cells) for name, sheet in host.sheets.items()}
    report = commands.COMMANDS["report"]
    assert report.max_cells == 1_300_000
    monkeypatch.setitem(commands.COMMANDS, "report", dataclasses.replace(report, max_cells=1_000))

    with pytest.raises(ServiceFailed) as failed:
        AddinClient(base_url, host).run("report")
    assert failed.value.status == 413
    message = failed.value.error["message"]
    assert re.fullmatch(
        r"the workbook is too large for Dashboard from Excel: [\d,]+ cells to read, at most 1,000",
        message,
    )
    assert "xlcrm" in failed.value.error["hint"]
    assert failed.value.error["code"] == "request.too_many_cells"  # the pane's own words
    assert failed.value.error["params"]["limit"] == "1,000"
    assert {name: dict(sheet.cells) for name, sheet in host.sheets.items()} == before
