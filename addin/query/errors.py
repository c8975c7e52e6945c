"""The one error a filter raises: where it came from, the position in the text, what to do."""

from __future__ import annotations

from ..errors import UsageError


class FilterError(UsageError):
    """A filter that cannot be read or cannot mean anything (exit code 2).

    The message points at the character where the problem is (1-based, as a person counts):
    ``--where: at 12: unknown column 'stauts' (columns: id, name, …)``.
    """

    def __init__(
        self,
        where: str | None,
        position: int,
        message: str,
        hint: str | None = None,
        *,
        text: str = "",
    ) -> None:
        self.position = position
        self.text = text
        self.detail = message
        super().__init__(where, f"at {position}: {message}", hint)
