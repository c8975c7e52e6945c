"""Workbooks for the tests: each kind is made once per test session and copied per test.

``create_workbook`` costs about 0.2 s (openpyxl builds every sheet and zips it), and a filled
CRM costs more; copying the finished file costs 0.2 ms. The suite used to make 356 blank
workbooks, a fifth of its run time. So every kind of workbook is built once, by xlcrm's own
code (``create_workbook``, then ``open_book`` and ``insert_all``), kept in a private folder
for the session, and copied to the path the test asks for. The copy is byte for byte what
the building code wrote, so a test sees exactly the workbook it would have made itself.

- ``blank_workbook(path, lang)``: what ``xlcrm init`` writes (``create_workbook``).
- ``crm_workbook(path, lang, settings=…, customers=[…], deals=[…], …)``: a blank workbook,
  its settings written and rows inserted table by table (the ``crm_book`` fixture in
  conftest is this, rooted in the test's ``tmp_path``).
- ``ready(path, key, build)``: any other kind (``pipeline_books.make_crm``): ``build(path)``
  runs once per ``key``.

Tests about making a workbook (``xlcrm init``, its refusals) still call ``create_workbook``.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import shutil
import tempfile
from collections.abc import Callable, Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any

from addin.init import create_workbook
from addin.settings import write_settings
from addin.workbook import open_book

_made: dict[Hashable, Path] = {}
_names = itertools.count()
_folder: list[Path] = []


def _store() -> Path:
    """The session's private folder of finished workbooks (removed when the process ends)."""
    if not _folder:
        folder = Path(tempfile.mkdtemp(prefix="xlcrm-test-books-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _folder.append(folder)
    return _folder[0]


def ready(path: str | Path, key: Hashable, build: Callable[[Path], object]) -> Path:
    """Copy the workbook ``build`` makes for ``key`` to ``path``, building it the first time.

    Refuses to replace an existing file, as ``create_workbook`` does, so a test that reuses a
    name by mistake fails instead of silently starting over.
    """
    target = Path(path)
    if target.exists():
        raise FileExistsError(f"{target}: a file with this name already exists")
    made = _made.get(key)
    if made is None:
        made = _store() / f"{next(_names)}{target.suffix or '.xlsx'}"
        build(made)
        _made[key] = made
    shutil.copyfile(made, target)
    return target


def blank_workbook(path: str | Path, lang: str = "en") -> Path:
    """``create_workbook(path, lang)``, copied from the session's blank workbook."""
    return ready(path, ("blank", lang), lambda made: create_workbook(made, lang))  # type: ignore[arg-type]


def crm_workbook(
    path: str | Path,
    lang: str = "en",
    settings: Mapping[str, str] | None = None,
    **tables: Iterable[Mapping[str, Any]],
) -> Path:
    """A blank workbook with ``settings`` written (``write_settings``) and each table's rows
    inserted (``book.table(name).insert_all(rows)``), in that order; built once per content."""
    rows = {name: [dict(row) for row in table] for name, table in tables.items()}
    key = ("crm", lang, repr(sorted((settings or {}).items())), repr(sorted(rows.items())))

    def build(made: Path) -> None:
        blank_workbook(made, lang)
        with open_book(made) as book:
            if settings:
                write_settings(book, dict(settings))
            for name, table in rows.items():
                book.table(name).insert_all(table)

    return ready(path, key, build)


def built_once(build: Callable[..., object]) -> Callable[..., Path]:
    """Decorator for a test module's ``make_book(path, *args, **kwargs)``: the first call with
    given arguments builds at a private path, every call copies that workbook to ``path``.

    The builder must depend on its arguments only (no clock, no files beside ``path``)."""

    @functools.wraps(build)
    def copy(path: str | Path, *args: Any, **kwargs: Any) -> Path:
        key = (build.__module__, build.__qualname__, repr(args), repr(sorted(kwargs.items())))
        return ready(path, key, lambda made: build(made, *args, **kwargs))

    return copy
