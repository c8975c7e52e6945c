"""A contract template in each language it has: each deal is written in its customer's.

``sales_contract`` names ``sales_contract.en.docx`` and ``sales_contract.zh.docx``; a deal
whose customer's Language cell says 中文 gets the Chinese one even in an English workbook, as
a campaign mails that customer in Chinese. A customer without a language gets the run's
language (``--lang``, else the workbook's), falling back to the other file as
:func:`~addin.templating.find_template` always has. A template given as one exact file
(``my_contract.docx``, ``sales_contract.en.docx``) is used for every deal: the user chose it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..schema import LANGS, Lang
from ..templating import TemplateEnvironment, TemplateValueError
from .docx import WordTemplate

_LANG_SUFFIX = re.compile(r"^(?P<stem>.+)\.(?P<lang>en|zh)\.docx$", re.IGNORECASE)
_NAMES = {"en": "English", "zh": "Chinese (中文)"}


def names_one_file(name: str) -> bool:
    """Whether a ``--template`` value names one exact file rather than a template by name."""
    return name.strip().lower().endswith(".docx")


class ContractTemplates:
    """The language versions of one contract template, compiled once each."""

    def __init__(self, path: Path, default: Lang, *, fixed: bool = False) -> None:
        self.path = path  # the default language's file: the report and records name it
        self.default = default
        match = _LANG_SUFFIX.match(path.name)
        paths: dict[Lang, Path] = {}
        self.stem = match["stem"] if match else path.stem
        if match and not fixed:
            for code in LANGS:
                candidate = path.with_name(f"{match['stem']}.{code}.docx")
                if candidate.is_file():
                    paths[code] = candidate
        self.fixed = not paths
        self.paths = paths or {default: path}
        self._compiled: dict[Lang, WordTemplate] = {}
        self.version(default)  # the default one is read now: a broken file stops the run

    def version(self, lang: Lang) -> WordTemplate:
        """The template for a customer in ``lang``; :class:`TemplateValueError` (a problem of
        that deal in the preflight) when there is no file in their language."""
        if self.fixed or (lang not in self.paths and lang == self.default):
            lang = self.default if self.default in self.paths else next(iter(self.paths))
        path = self.paths.get(lang)
        if path is None:
            raise TemplateValueError(
                f"the customer's language is {_NAMES[lang]} but there is no "
                f"{self.stem}.{lang}.docx beside "
                f"{self.path.name} (add it, or clear the customer's Language cell to write the "
                "contract in the workbook's language)"
            )
        if lang not in self._compiled:
            self._compiled[lang] = WordTemplate(path, TemplateEnvironment(lang))
        return self._compiled[lang]

    def path_for(self, context: Mapping[str, Any]) -> Path:
        return self.version(_lang_of(context, self.default)).path

    def render(self, context: Mapping[str, Any]) -> bytes:
        """The document for ``context``, from the version of its ``lang``."""
        return self.version(_lang_of(context, self.default)).render(context)


def _lang_of(context: Mapping[str, Any], default: Lang) -> Lang:
    lang = context.get("lang")
    return lang if lang in LANGS else default
