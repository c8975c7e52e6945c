"""What one parse accumulates as it goes: defects, header repairs, the part tree."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .body import Part


class State:
    """What one parse accumulates: defects, whether headers needed repair, and the part tree
    (the charset of its first text part is the best guess for raw 8-bit headers)."""

    __slots__ = ("_hint", "defects", "guessed", "top")

    def __init__(self) -> None:
        self.top: Part | None = None
        self.defects: list[str] = []
        self.guessed = False
        self._hint: str | None = None

    def defect(self, text: str) -> None:
        if text not in self.defects:
            self.defects.append(text)

    def repaired(self, where: str) -> None:
        """Note a charset repair; ``where`` is a header name or a MIME type (the body)."""
        if "/" not in where:
            self.guessed = True

    def body_charset(self) -> str | None:
        """The charset label of the message's first text part, if it has one."""
        if self._hint is None and self.top is not None:
            self._hint = next(
                (p.params.get("charset", "") for p in self.top.walk() if "charset" in p.params), ""
            )
        return self._hint or None
