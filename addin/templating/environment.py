"""The Jinja environment every template runs in: sandboxed, strict, escaped.

Templates are written by the people who use the workbook, not by us, so they run in Jinja's
immutable sandbox (no ``__class__`` tricks, no ``list.append`` on our data, bounded ``range``).
A field a template uses but a row leaves empty is an error — a contract with a blank where the
buyer's name belongs must never be generated — and the error names the field
(``customer.email is empty``) rather than Jinja's ``'dict object' has no attribute …``.

Before anything is generated or sent, :mod:`.preflight` renders every row in *collecting* mode:
the same templates and the same undefined values, but each problem is recorded and rendering
goes on, so one run reports every empty field of every row at once. Collecting is switched on
per thread with :func:`collecting`, so one compiled template serves both passes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from jinja2 import StrictUndefined, Undefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import missing

from ..schema import Lang
from . import filters
from .records import Record

_sink: ContextVar[list[str] | None] = ContextVar("xlcrm_template_problems", default=None)


@contextlib.contextmanager
def collecting() -> Iterator[list[str]]:
    """Within the block, using a missing field records a problem instead of raising."""
    problems: list[str] = []
    token = _sink.set(problems)
    try:
        yield problems
    finally:
        _sink.reset(token)


class MissingField(StrictUndefined):
    """An empty or unknown field. Strict (any use raises), with a message a user understands.

    StrictUndefined binds its dunders to ``_fail_with_undefined_error``; ours keep the real
    signatures (hence the ``override`` ignores) so a preflight can collect the problem."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        obj, name = self._undefined_obj, self._undefined_name
        if obj is missing:
            return f"{name} is not available in this template"
        if isinstance(obj, Record):
            return obj.missing_message(str(name))
        if isinstance(obj, MissingField):
            return obj._undefined_message
        return f"{type(obj).__name__} value has no field {name!r}"

    def _fail_or(self, fallback: Any) -> Any:
        problems = _sink.get()
        if problems is None:
            raise self._undefined_exception(self._undefined_message)
        message = self._undefined_message
        if issubclass(self._undefined_exception, SecurityError):
            message = f"the template tried something not allowed: {message}"
        problems.append(message)
        return fallback

    def __str__(self) -> str:  # type: ignore[override]
        return self._fail_or("")

    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        return iter(self._fail_or(()))

    def __bool__(self) -> bool:  # type: ignore[override]
        return self._fail_or(False)

    def __len__(self) -> int:  # type: ignore[override]
        return self._fail_or(0)

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__":
            raise AttributeError(name)
        return self._fail_or(self)

    def __getitem__(self, name: Any) -> Any:
        return self._fail_or(self)

    def __eq__(self, other: object) -> bool:  # type: ignore[override]
        return self._fail_or(False)

    def __ne__(self, other: object) -> bool:  # type: ignore[override]
        return self._fail_or(True)

    def __hash__(self) -> int:  # type: ignore[override]
        return id(type(self))

    def _arith(self, *_: Any) -> Any:
        return self._fail_or(self)

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _arith
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _arith
    __pos__ = __neg__ = __call__ = _arith
    __lt__ = __le__ = __gt__ = __ge__ = _arith


class TemplateEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox with xlcrm's filters, for one language (``en`` or ``zh``)."""

    def __init__(self, lang: Lang = "en", *, autoescape: bool = True) -> None:
        super().__init__(
            undefined=MissingField,
            autoescape=autoescape,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.lang: Lang = lang
        self.filters.update(filters.for_language(lang))
        self.globals["lang"] = lang


def is_missing(value: object) -> bool:
    """True for a template's undefined value (used by filters to pass it through untouched)."""
    return isinstance(value, Undefined)
