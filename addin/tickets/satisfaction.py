"""Satisfaction surveys: the e-mail asking for a 1–5 rating, and reading the rating back.

When a ticket is resolved, ``xlcrm tickets --send`` mails the customer once (notice key
``survey-T0042``) in the workbook's language, the ticket's id in brackets in the subject so
that the answer finds its ticket even when a mail client drops the threading headers.

The answer, synced from the support mailbox, is read by :func:`read_rating` from the text the
customer wrote (the quoted survey is cut off first, so the survey's own "5 非常满意" legend is
never read as an answer). Understood:

- a number 1–5 at the start of the reply, or with a unit or scale: ``5``, ``５``, ``4分``,
  ``5 stars``, ``4/5``, ``4 out of 5``, ``打5分``, ``rate it 4``, ``五星``, ``四分``;
- stars: ``★★★★☆`` (4), ``⭐⭐⭐⭐⭐`` (5);
- words: ``非常满意`` 5, ``满意`` 4, ``一般`` 3, ``不满意`` 2, ``非常不满意`` 1 (also ``很满意``,
  ``十分满意``, ``比较满意``, ``还行``, ``很不满意``); ``very satisfied`` 5, ``satisfied`` 4,
  ``neutral`` 3, ``dissatisfied`` / ``unsatisfied`` / ``not satisfied`` 2,
  ``very dissatisfied`` 1.

Only the first couple of hundred characters are read. When what is found disagrees
(``不满意，5分``) the reply is **ambiguous**: nothing is recorded, the report lists it for a
person. A bare number inside a sentence (``it took 3 days``) is not a rating.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..schema import Lang

READ_CHARS = 240
TAG = re.compile(r"[\[【［]\s*(T\d{1,9})\s*[\]】］]", re.IGNORECASE)

_WORDS: tuple[tuple[str, int], ...] = tuple(
    sorted(
        {
            "非常不满意": 1,
            "很不满意": 1,
            "特别不满意": 1,
            "非常满意": 5,
            "很满意": 5,
            "十分满意": 5,
            "特别满意": 5,
            "不太满意": 2,
            "不满意": 2,
            "比较满意": 4,
            "满意": 4,
            "一般": 3,
            "还行": 3,
            "very dissatisfied": 1,
            "very unsatisfied": 1,
            "extremely dissatisfied": 1,
            "not satisfied": 2,
            "dissatisfied": 2,
            "unsatisfied": 2,
            "very satisfied": 5,
            "extremely satisfied": 5,
            "satisfied": 4,
            "neutral": 3,
        }.items(),
        key=lambda item: len(item[0]),
        reverse=True,
    )
)
_WORD = re.compile(
    "|".join(
        rf"(?<![a-z]){re.escape(w)}(?![a-z])" if w.isascii() else re.escape(w) for w, _ in _WORDS
    )
)
_WORD_VALUE = dict(_WORDS)
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_UNIT = r"(?:\s*(?:分|星|颗星|points?|pts?|stars?)|\s*(?:/|out\s+of|of)\s*5(?![0-9]))"
_NUMBER_WITH_UNIT = re.compile(rf"(?<![0-9a-z.:/\-])([0-9]+){_UNIT}")
_NUMBER_AFTER_VERB = re.compile(
    r"(?:rate|rating|score|give|打|给|评分|评)\s*(?:it|you|us|了)?\s*[:：]?\s*([0-9]+)(?![0-9.:/\-])"
)
_NUMBER_FIRST = re.compile(r"^[\s\"'“”(（]*([0-9]+)(?![0-9.:/\-a-z])")
_CN_NUMBER = re.compile(r"([一二两三四五])\s*(?:分|星|颗星)")
_STARS = re.compile(r"[★☆⭐✩]+")


@dataclass(frozen=True)
class Rating:
    """What a reply says: ``value`` 1–5, or None; ``ambiguous`` when it says several things."""

    value: int | None
    ambiguous: bool = False
    found: tuple[int, ...] = ()


def read_rating(text: str | None) -> Rating:
    """The 1–5 rating in the new text of a survey reply (see the module docstring)."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()[:READ_CHARS]
    found: list[int] = []
    for run in _STARS.findall(folded):
        filled = sum(1 for c in run if c in "★⭐")
        if 1 <= filled <= 5:
            found.append(filled)
    found += [_WORD_VALUE[m.group(0)] for m in _WORD.finditer(folded)]
    numbers = [int(m[1]) for m in _NUMBER_WITH_UNIT.finditer(folded)]
    numbers += [int(m[1]) for m in _NUMBER_AFTER_VERB.finditer(folded)]
    first = _NUMBER_FIRST.match(folded)
    if first:
        numbers.append(int(first[1]))
    numbers += [_CN_DIGITS[m[1]] for m in _CN_NUMBER.finditer(folded)]
    found += [n for n in numbers if 1 <= n <= 5]
    values = tuple(dict.fromkeys(found))
    if len(values) == 1:
        return Rating(values[0], False, values)
    return Rating(None, len(values) > 1, values)


def ticket_tag(subject: str | None) -> str | None:
    """The ticket id in a subject's brackets (``Re: [T0042] …`` → ``T0042``), upper-case."""
    found = TAG.search(subject or "")
    return found[1].upper() if found else None


@dataclass(frozen=True)
class Survey:
    subject: str
    text: str


def survey(
    ticket_id: str, subject: str | None, name: str | None, company: str, lang: Lang
) -> Survey:
    """The survey e-mail for a resolved ticket, in the workbook's language."""
    about = (subject or "").strip()
    if lang == "zh":
        greeting = f"{name}，您好：" if name else "您好："
        text = (
            f"{greeting}\n\n"
            f"您的工单 {ticket_id}{f'“{about}”' if about else ''}已处理完毕。"
            "请直接回复本邮件，用 1–5 分评价我们的服务：\n\n"
            "  5 非常满意\n  4 满意\n  3 一般\n  2 不满意\n  1 非常不满意\n\n"
            "如问题仍未解决，也请直接回复告诉我们。\n\n谢谢！\n"
        )
        title = f"[{ticket_id}] 服务满意度调查" + (f"：{about}" if about else "")
    else:
        greeting = f"Hello {name}," if name else "Hello,"
        text = (
            f"{greeting}\n\n"
            f"Your request {ticket_id}{f' “{about}”' if about else ''} has been resolved. "
            "How satisfied are you with our help? Please reply to this e-mail with a number "
            "from 1 to 5:\n\n"
            "  5 very satisfied\n  4 satisfied\n  3 neutral\n  2 dissatisfied\n"
            "  1 very dissatisfied\n\n"
            "If the problem is not solved, just reply and tell us.\n\nThank you!\n"
        )
        title = f"[{ticket_id}] How did we do?" + (f" {about}" if about else "")
    if company:
        text += company + "\n"
    return Survey(title, text)
