"""What every workflow returns: a report a person reads and a program stores.

Each workflow (``sync_mailbox``, ``import_file``, ``run_rules``, ``run_campaign``…) returns
its own report class, with the counts and details that belong to it; all of them
implement :class:`Report`, so the command line prints ``lines()`` and ``--json`` prints
``as_dict()`` whatever the command, and the ribbon service answers with the same data.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Report(Protocol):
    """The outcome of one workflow run."""

    def lines(self) -> list[str]:
        """What a person reads after the run, one line each (no trailing newlines)."""
        ...

    def as_dict(self) -> dict[str, Any]:
        """Plain data (JSON-serialisable) for ``--json``, the service and logs."""
        ...
