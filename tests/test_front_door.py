"""``addin.__all__``: the library's front door stays complete and true (docs/python-api.md).

Like httpx's tests/test_exported_members.py: every exported name resolves, the package's public
namespace is exactly ``__all__``, and every workflow the features define — a public function
``verb(book, …)`` returning a report — is exported, with its report implementing
:class:`addin.Report`.
"""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import addin
from addin.outcome import Report

ROOT = Path(__file__).resolve().parent.parent
SHELLS = {"cli", "service", "remote", "demo", "officeaddin", "desktop.py", "__main__.py"}
REPORT_SUFFIXES = ("Report", "Summary", "Preview", "Result")


def workflows() -> dict[str, str]:
    """Every public ``verb(book, …) -> SomethingReport`` outside the shells, by name → module."""
    found = {}
    for path in sorted((ROOT / "addin").rglob("*.py")):
        if SHELLS & set(path.relative_to(ROOT / "addin").parts):
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            args = node.args.args
            returns = ast.unparse(node.returns) if node.returns else ""
            if args and args[0].arg == "book" and returns.endswith(REPORT_SUFFIXES):
                found[node.name] = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return found


def test_every_exported_name_resolves_to_the_object_of_its_home() -> None:
    assert addin.__all__ == sorted(addin.__all__)
    assert set(addin.__all__) == set(addin._HOMES)
    for name in addin.__all__:
        home = sys.modules.get(addin._HOMES[name]) or __import__(
            addin._HOMES[name], fromlist=[name]
        )
        assert getattr(addin, name) is getattr(home, name), name


def test_the_public_namespace_is_exactly_all() -> None:
    for name in addin.__all__:
        getattr(addin, name)
    public = {
        name
        for name in dir(addin)
        if not name.startswith("_") and not isinstance(getattr(addin, name), ModuleType)
    }
    assert public == set(addin.__all__)
    with pytest.raises(AttributeError, match="no attribute 'sync_mailboxes'"):
        addin.sync_mailboxes  # noqa: B018


def test_every_workflow_is_exported() -> None:
    found = workflows()
    assert {"sync_mailbox", "run_campaign", "dedupe_customers", "import_file"} <= set(found)
    missing = sorted(set(found) - set(addin.__all__))
    assert missing == [], "add these workflows to addin._HOMES and docs/python-api.md"


@pytest.mark.parametrize("name", sorted(workflows()))
def test_a_workflow_takes_the_book_first_and_returns_a_report(name: str) -> None:
    function = getattr(addin, name)
    parameters = list(inspect.signature(function).parameters)
    assert parameters[0] == "book"
    returned = inspect.get_annotations(function, eval_str=True)["return"]
    assert issubclass(returned, Report), f"{returned.__name__} needs lines() and as_dict()"
    assert returned.__name__ in addin.__all__


def _samples() -> list[Report]:
    from pathlib import Path as P

    return [
        addin.SyncReport("maildir:/tmp/Maildir"),
        addin.ImportReport(source="contacts.csv", table="Customers", rows=2, inserted=2),
        addin.RunReport("en"),
        addin.RemindersReport("zh", dt.date(2026, 3, 1)),
        addin.ContractReport(P("sales_contract.docx")),
        addin.CampaignReport("spring", "preview", "emails/promotion"),
        addin.CampaignPreview("spring", "emails/promotion", selected=3, would_send=2),
        addin.BatchResult("done", "spring"),
        addin.DedupeReport(),
        addin.TicketReport(dt.datetime(2026, 3, 1, 9, 0)),
        addin.NoticeReport(dry_run=True, warnings=["an earlier run was interrupted"]),
    ]


@pytest.mark.parametrize("report", _samples(), ids=lambda r: type(r).__name__)
def test_every_report_gives_lines_and_plain_data(report: Report) -> None:
    assert isinstance(report, Report)
    lines = report.lines()
    assert lines and all(isinstance(line, str) and "\n" not in line for line in lines)
    json.dumps(report.as_dict(), default=str)


def test_importing_addin_imports_no_workflow() -> None:
    """The front door is lazy: ``import addin`` costs nothing until a name is used."""
    code = "import addin, sys; print(sorted(m for m in sys.modules if m.startswith('addin')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['addin']"
