"""Check every row before generating or sending anything, and report all problems at once.

Rendering stops at the first empty field; a person fixing a campaign of 800 customers should not
run it 40 times to find 40 empty cells. :func:`preflight` renders each row in collecting mode
(see :mod:`.environment`) and gathers every problem — empty fields, unknown fields, values a
filter cannot format, sandbox violations — each prefixed with the row it belongs to:
``Deals!D0042: customer.email is empty``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from jinja2 import TemplateError

from ..errors import XlcrmError
from .environment import collecting

C = TypeVar("C")
R = TypeVar("R")
SHOWN = 50


@dataclass(frozen=True)
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class TemplateProblems(XlcrmError):
    """Rows the templates cannot be filled from; nothing was generated or sent."""

    def __init__(self, problems: list[Problem], what: str = "nothing was generated") -> None:
        self.problems = problems
        rows = len({p.where for p in problems})
        lines = [str(p) for p in problems[:SHOWN]]
        if len(problems) > SHOWN:
            lines.append(f"… and {len(problems) - SHOWN} more")
        super().__init__(
            None,
            f"{len(problems)} problem(s) in {rows} row(s); {what}:\n  " + "\n  ".join(lines),
            "fill those cells, or make the template treat the field as optional: "
            '{% if customer.phone is defined %}…{% endif %} or {{ customer.phone | default("") }}',
        )


# What filling a template from a row can raise besides missing fields: reported per row (a
# filter given text, a bad attachment, arithmetic on text…), never a traceback.
TEMPLATE_FAILURES = (TemplateError, XlcrmError, ArithmeticError, TypeError, ValueError)


def render_checked(render: Callable[[C], R], context: C) -> tuple[R | None, list[str]]:
    """Render in collecting mode: the result — exactly what a strict render gives — when
    nothing went wrong, and what went wrong (empty when nothing did)."""
    result = None
    with collecting() as found:
        try:
            result = render(context)
        except TEMPLATE_FAILURES as error:
            found.append(template_error_text(error))
    problems = list(dict.fromkeys(found))
    return (None if problems else result), problems


def render_problems(render: Callable[[C], Any], where: str, context: C) -> list[str]:
    """What goes wrong filling the templates from one row (empty when nothing does)."""
    return render_checked(render, context)[1]


def preflight(render: Callable[[C], Any], rows: Iterable[tuple[str, C]]) -> list[Problem]:
    """Every problem of every row; ``render`` fills all the templates a row needs."""
    problems: list[Problem] = []
    for where, context in rows:
        problems.extend(Problem(where, text) for text in render_problems(render, where, context))
    return problems


def template_error_text(error: BaseException) -> str:
    """An error from inside a template as one line, with the template line when Jinja has it."""
    text = str(error).strip() or type(error).__name__
    if type(error).__name__ == "SecurityError":
        text = f"the template tried something not allowed: {text}"
    lineno = getattr(error, "lineno", None)
    name = getattr(error, "filename", None) or getattr(error, "name", None)
    if lineno and name:
        text += f" ({name}, line {lineno})"
    return text
