"""The Table contract's backends: the same tests run on each (``tests/test_table.py``).

A backend opens a workbook by path and keeps what was saved for the next open of that path:
the **file** backend is the file itself; the **remote** backend is the workbook as the Office.js
client holds it (``tests/officehost.py``, seeded from the file), read through a plan and
changed by applying the actions a save produces, exactly as the add-in does.
"""

from __future__ import annotations

from pathlib import Path

from officehost import OfficeHost

from addin.remote import RemoteBook
from addin.remote.protocol import PlanRequest, RunRequest
from addin.schema import TABLES
from addin.workbook import Book, open_book


class FileBackend:
    name = "file"

    def open(self, path: Path) -> Book:
        return open_book(path)


class HostedRemoteBook(RemoteBook):
    """A RemoteBook whose saves are applied to the host at once, as the client would."""

    def __init__(self, request: RunRequest, host: OfficeHost) -> None:
        super().__init__(request)
        self.host = host

    def save(self) -> bool:
        saved = super().save()
        if self.actions:
            self.host.apply([a.model_dump() for a in self.actions])
            self.actions.clear()
        return saved


class RemoteBackend:
    name = "remote"

    def __init__(self) -> None:
        self.hosts: dict[Path, OfficeHost] = {}

    def host(self, path: Path) -> OfficeHost:
        if path not in self.hosts:
            self.hosts[path] = OfficeHost.from_xlsx(path)
        return self.hosts[path]

    def open(self, path: Path) -> Book:
        host = self.host(path)
        base = host.request("contract-tests")
        planner = RemoteBook(PlanRequest.model_validate(base))
        reads = {}
        for spec in TABLES.values():
            found = planner.find(spec)
            if found is not None:
                reads[spec.key] = found.model_dump()
        request = RunRequest.model_validate({**base, "tables": host.read(reads)})
        return HostedRemoteBook(request, host)
