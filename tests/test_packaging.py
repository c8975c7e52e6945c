"""pyproject.toml lists its packages by hand (the shipped templates install as
``addin.templates``): a package or template file missing from the lists would be missing from
every installed copy while the tests, run from the checkout, still pass."""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_package_is_listed() -> None:
    listed = set(project()["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("addin", "sync")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found | {"addin.templates"} == listed


def test_every_template_file_is_package_data() -> None:
    patterns = project()["tool"]["setuptools"]["package-data"]["addin.templates"]
    shipped = [
        p.relative_to(ROOT / "templates").as_posix()
        for p in (ROOT / "templates").rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc")
    ]
    assert shipped
    # As setuptools globs: "**/" matches no folder at all, too.
    patterns += [p.removeprefix("**/") for p in patterns]
    left_out = [f for f in shipped if not any(fnmatch.fnmatch(f, pat) for pat in patterns)]
    assert left_out == []
