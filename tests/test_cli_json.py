"""``--json`` on ``xlcrm info`` and ``xlcrm contract`` (issue 18): the same facts the text
shows, as UTF-8 JSON a script can read (Chinese stays readable), nothing else on stdout."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner
from test_contract_templates import make_book as contract_book

from addin.cli import cli
from addin.workbook import open_book


def test_info_json_lists_every_table_and_its_state(tmp_path: Path) -> None:
    book = tmp_path / "crm.xlsx"
    assert CliRunner().invoke(cli, ["init", str(book)]).exit_code == 0
    with open_book(book) as wb:
        wb.table("customers").insert_all([{"id": "C0001", "name": "Li Na"}])
    text = CliRunner().invoke(cli, ["info", str(book)])
    result = CliRunner().invoke(cli, ["info", str(book), "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert {k: found[k] for k in ("workbook", "lang", "encrypted")} == {
        "workbook": str(book),
        "lang": "en",
        "encrypted": False,
    }
    customers = found["tables"][0]
    assert customers == {
        "table": "customers",
        "name": "Customers",
        "state": "found",
        "rows": 1,
        "sheet": "Customers",
        "excel_table": "Customers",
        "your_columns": [],
        "missing_columns": [],
    }
    # One entry per line of the text output, in the same order.
    assert len(found["tables"]) == len(text.output.splitlines()) - 1
    states = {t["table"]: t["state"] for t in found["tables"]}
    lines = text.output.splitlines()[1:]
    for (key, state), line in zip(states.items(), lines, strict=True):
        name = next(t["name"] for t in found["tables"] if t["table"] == key)
        assert line.strip().startswith(name)
        assert ("not yet created (defaults)" in line) == (state == "defaults")


def test_contract_json_names_the_numbers_and_files(tmp_path: Path) -> None:
    book = contract_book(tmp_path / "客户管理.xlsx")
    result = CliRunner().invoke(cli, ["contract", str(book), "D0001", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    generated = report["generated"]
    number = f"CT-{dt.date.today().year}-0001"  # the default format numbers by this year
    assert [(g["deal_id"], g["contract_no"]) for g in generated] == [("D0001", number)]
    written = Path(generated[0]["files"][0])
    assert written.parent == book.parent / "contracts" and written.is_file()
    assert written.name.startswith(f"{number} A&B 上海贸易有限公司")
    assert "上海贸易" in result.stdout  # readable Chinese, not \\u escapes
    assert report["skipped"] == []
