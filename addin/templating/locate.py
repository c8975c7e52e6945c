"""Finding a template by name: the user's own first, then the ones xlcrm ships.

``--template contracts/sales_contract`` or ``--template emails/promotion`` names a template the
way the shipped ``templates/`` folder is laid out. A name is looked up, in order, as a path
(relative to the current folder, then to the workbook's folder — so a company keeps its own
``templates/`` beside the workbook) and then among the shipped templates. A contract name may
leave out the language and extension: ``sales_contract`` finds ``sales_contract.zh.docx`` for a
Chinese workbook.

The ribbon service is different: its requests come from a network, so a request's template is
a *name* (``emails/welcome``, ``sales_contract``), never a path — looked up only in the
folders the service was started with (:class:`TemplateFolders`) and the shipped ones, with the
same answer for a name that is missing and one that is not allowed, so nobody learns through it
what exists on the service's disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import Literal

from ..errors import UsageError
from ..schema import Lang

Kind = Literal["contracts", "emails"]


def builtin_root() -> Path:
    """The folder of templates shipped with xlcrm (the repository's ``templates/``)."""
    return Path(str(files("addin.templates")))


def builtin_names(kind: Kind) -> list[str]:
    """The shipped templates of one kind, as names ``--template`` accepts."""
    root = builtin_root() / kind
    if kind == "emails":
        return sorted(f"emails/{p.name}" for p in root.iterdir() if p.is_dir())
    names = {p.name.split(".")[0] for p in root.glob("*.docx")}
    return sorted(f"contracts/{n}" for n in names)


class TemplateFolders(tuple[Path, ...]):
    """The folders of a service's own templates: given as ``near``, they make
    :func:`find_template` take names only (no path relative to the current folder, no absolute
    path, no ``..``), as a request to the service must."""


def is_template_name(text: str, kind: Kind) -> bool:
    """Whether ``text`` is a plain name: one folder or file name, optionally after
    ``<kind>/`` — nothing that could step out of a template folder."""
    if text.startswith(f"{kind}/"):
        text = text[len(kind) + 1 :]
    return (
        bool(text)
        and text not in (".", "..")
        and not any(c in text for c in "/\\:\0")
        and not text.startswith("~")
        and text.isprintable()
    )


def find_template(name: str, kind: Kind, lang: Lang, near: Sequence[Path] = ()) -> Path:
    """The template file (contracts) or folder (emails) that ``name`` means."""
    text = name.strip().replace("\\", "/")
    relative = text if text.startswith(f"{kind}/") or "/" in text else f"{kind}/{text}"
    names_only = isinstance(near, TemplateFolders)
    if names_only:
        if not is_template_name(text, kind):
            raise _unknown(name, kind, near)
        candidates = [base / relative for base in near] + [base / text for base in near]
    else:
        candidates = [Path(text)]
        candidates += [base / text for base in near]
    candidates += [builtin_root() / relative]
    for candidate in candidates:
        found = _resolve(candidate, kind, lang)
        if found is not None:
            return found
    raise _unknown(name, kind, near)


def _unknown(name: str, kind: Kind, near: Sequence[Path]) -> UsageError:
    """The one answer for a template that is not there — or, on the service, not allowed."""
    shipped = ", ".join(builtin_names(kind))
    if isinstance(near, TemplateFolders):
        return UsageError(
            None,
            f"no {kind[:-1]} template {name!r}",
            f"choose one of the templates the add-in lists (shipped: {shipped})",
        )
    return UsageError(
        None,
        f"no {kind[:-1]} template {name!r}",
        f"give a path to your own template, or one of: {shipped}",
    )


def _resolve(path: Path, kind: Kind, lang: Lang) -> Path | None:
    if kind == "emails":
        return path if path.is_dir() else None
    if path.is_file():
        return path
    for suffix in (f".{lang}.docx", ".docx", ".en.docx", ".zh.docx"):
        candidate = path.with_name(path.name + suffix)
        if candidate.is_file():
            return candidate
    return None
