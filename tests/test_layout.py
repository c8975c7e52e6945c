"""The architecture's first dependency rule (docs/architecture.md): ``sync`` never imports
``addin``. tests/test_layers.py checks the rest of the layers."""

from __future__ import annotations

import ast
from pathlib import Path

SYNC = Path(__file__).resolve().parent.parent / "sync"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_sync_never_imports_addin() -> None:
    files = sorted(SYNC.rglob("*.py"))
    assert files, "sync/ has no Python files"
    offenders = {
        str(path.relative_to(SYNC.parent)): sorted(
            m for m in imported_modules(path) if m == "addin" or m.startswith("addin.")
        )
        for path in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}
