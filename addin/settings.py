"""Shared settings kept in the workbook's Settings table (``../shared/DESIGN.md``).

What everybody who opens the workbook shares — the company's internal domains, the addresses
whose mail is never recorded, how soon to follow up — lives in a Settings sheet with one row per
setting, so a scheduled sync, the ribbon and a colleague's command line all use the same values.
Secrets never do: passwords and tokens come from the environment, the keyring or a prompt.

A setting is found by its key (``internal_domains``) or its label in either language
(``Internal domains``, ``内部域名``), ignoring case, spaces and punctuation. List settings take
several values in one cell, separated by ``;``, ``,`` or new lines. A workbook without a
Settings table simply has no settings; options on the command line add to the lists and win
over single values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import ValueProblem
from .schema import Lang, normalize_label
from .workbook import Book


@dataclass(frozen=True)
class Setting:
    """A setting xlcrm knows: its key, labels, what it is for, and its kind."""

    key: str
    en: str
    zh: str
    help_en: str
    help_zh: str
    kind: str = "list"  # "list" (several values) or "int"

    def label(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en

    def help(self, lang: Lang) -> str:
        return self.help_zh if lang == "zh" else self.help_en


KNOWN: tuple[Setting, ...] = (
    Setting(
        "internal_domains",
        "Internal domains",
        "内部域名",
        "Our company's mail domains (;-separated). Mail among them only is not recorded.",
        "本公司的邮箱域名，用 ; 分隔。只在内部往来的邮件不记录。",
    ),
    Setting(
        "never_log",
        "Never log",
        "不记录邮件",
        "Addresses or domains whose mail is never recorded (lawyers, HR, private).",
        "这些地址或域名的邮件一律不记录（律师、人事、私人）。",
    ),
    Setting(
        "follow_up_days",
        "Follow-up days",
        "跟进天数",
        "After our mail on an open deal, follow up this many days later (default 3).",
        "给进行中的商机发邮件后，几天后跟进（默认 3 天）。",
        kind="int",
    ),
)

_SPLIT = re.compile(r"[;,；，、\r\n]+")


def _index() -> dict[str, Setting]:
    index = {}
    for setting in KNOWN:
        for name in (setting.key, setting.en, setting.zh):
            index[normalize_label(name)] = setting
    return index


_BY_LABEL = _index()


class Settings(Mapping[str, str]):
    """The Settings table's values by canonical key (unknown rows under their own name)."""

    def __init__(self, values: Mapping[str, str], where: Mapping[str, str] | None = None) -> None:
        self._values = dict(values)
        self._where = dict(where or {})

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def list(self, key: str) -> tuple[str, ...]:
        """A list setting's values, in order, without blanks."""
        text = self._values.get(key, "")
        return tuple(v.strip() for v in _SPLIT.split(text) if v.strip())

    def int(self, key: str) -> int | None:
        """A whole-number setting, None when empty; an error naming the cell otherwise."""
        text = self._values.get(key, "").strip()
        if not text:
            return None
        try:
            return int(float(text))
        except ValueError:
            raise ValueProblem(
                self._where.get(key), f"{text!r} is not a whole number", "write a number such as 3"
            ) from None


def read_settings(book: Book) -> Settings:
    """The workbook's settings; empty when it has no Settings table."""
    if not book.has_table("settings"):
        return Settings({})
    table = book.table("settings")
    values: dict[str, str] = {}
    where: dict[str, str] = {}
    for row in table.rows():
        name, value = row.get("key"), row.get("value")
        if not isinstance(name, str) or not name.strip():
            continue
        known = _BY_LABEL.get(normalize_label(name))
        key = known.key if known else name.strip()
        values[key] = "" if value is None else str(value)
        where[key] = table.where_of(row["key"], "value")
    return Settings(values, where)


def default_rows(lang: Lang) -> list[dict[str, str]]:
    """The rows a new workbook's Settings table starts with: every known setting, empty."""
    return [{"key": s.label(lang), "value": "", "notes": s.help(lang)} for s in KNOWN]
