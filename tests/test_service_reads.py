"""The dashboard and the reminders read only the columns they use, and show what whole tables
show: each command is run through a real service twice on the same demo workbook — as
shipped, and with every column of every table posted — and the sheets it leaves must match
cell for cell (Excel cannot run here: the Office host stand-in holds the workbook).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from addin_client import AddinClient, running_service
from books import built_once
from officehost import OfficeHost

from addin.demo import build_demo
from addin.remote.book import ALL
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
    return {name: ALL for name in commands._overview(None)}


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

    whole = OfficeHost.from_xlsx(path)
    monkeypatch.setitem(
        commands.COMMANDS, command, dataclasses.replace(commands.COMMANDS[command], needs=_whole)
    )
    AddinClient(base_url, whole).run(command)

    assert narrow.sheets.keys() == whole.sheets.keys()
    for name, got in narrow.sheets.items():
        expected = whole.sheets[name]
        differ = {
            at: (got.cells.get(at), expected.cells.get(at))
            for at in got.cells.keys() | expected.cells.keys()
            if _shown(got.cells.get(at)) != _shown(expected.cells.get(at))
        }
        if name == "_xlcrm":  # each answer's own operation id
            assert narrow.state().keys() == whole.state().keys()
            continue
        assert not differ, f"{name}: {sorted(differ.items())[:5]}"


def _shown(value: object) -> object:
    """A cell as compared: the dashboard's refresh time may pass a minute between the runs."""
    if isinstance(value, str):
        return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "<now>", value)
    return value
