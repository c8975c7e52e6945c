"""The command line as a user runs it: help text, exit codes, messages that say where."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from addin.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real ``xlcrm`` entry point in a child process."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "addin", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def all_commands() -> list[tuple[str, click.Command]]:
    return sorted(cli.commands.items())  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "command"), all_commands())
def test_every_command_and_option_is_documented(name: str, command: click.Command) -> None:
    assert command.help and len(command.help) > 30, f"xlcrm {name} has no help text"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"xlcrm {name} {param.opts[0]} has no help text"


@pytest.mark.parametrize(("name", "command"), all_commands())
def test_every_command_is_in_the_readme(name: str, command: click.Command) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"xlcrm {name}" in readme, f"README.md does not mention 'xlcrm {name}'"


def test_help_and_version() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "a CRM in an Excel workbook" in result.stdout
    assert run("--version").stdout.startswith("xlcrm, version ")


def test_init_creates_and_leaves_a_complete_workbook_alone(tmp_path: Path) -> None:
    book = tmp_path / "客户管理.xlsx"
    result = run("init", str(book), "--lang", "zh")
    assert result.returncode == 0, result.stderr
    assert "客户, 商机, 互动记录, 工单, 产品, 发送记录" in result.stdout
    before = book.read_bytes()
    again = run("init", str(book))
    assert again.returncode == 0, again.stderr
    assert again.stdout == (
        f"{book}: nothing to add: the workbook has every CRM table and setting\n"
    )
    assert book.read_bytes() == before


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    result = run("init", str(tmp_path / "x.xlsx"), "--lang", "fr")
    assert result.returncode == 2
    assert "Invalid value for '--lang'" in result.stderr
    result = run("init", str(tmp_path / "x.csv"))
    assert result.returncode == 2
    assert "must be an .xlsx file" in result.stderr


def test_missing_workbook_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["info", str(tmp_path / "nope.xlsx")])
    assert result.exit_code == 1
    assert "nope.xlsx: no such workbook" in result.output
    assert "create one with 'xlcrm init'" in result.output


def test_info_lists_tables(tmp_path: Path) -> None:
    book = tmp_path / "crm.xlsx"
    CliRunner().invoke(cli, ["init", str(book)])
    result = CliRunner().invoke(cli, ["info", str(book)])
    assert result.exit_code == 0, result.output
    assert "language: en" in result.output
    assert "Customers            0 rows  sheet 'Customers' (table Customers)" in result.output


def test_unknown_table_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    book = tmp_path / "crm.xlsx"
    CliRunner().invoke(cli, ["init", str(book)])
    result = run("export", str(book), "orders")
    assert result.returncode == 1
    assert "there is no CRM table called 'orders'" in result.stderr
    assert "Traceback" not in result.stderr
