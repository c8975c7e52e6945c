"""The filters templates use for money, dates and greetings, in the template's language.

- ``{{ deal.amount | money }}`` — ``¥1,234,567.89`` in Chinese, ``CN¥1,234,567.89`` in English
  (Babel's CLDR data, so every currency and locale is written the way its readers expect);
  ``money("USD")`` names the currency, else the deal's or the workbook default (CNY).
- ``{{ deal.amount | cn_upper }}`` — 人民币大写金额 for contracts and invoices:
  ``壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分``, ``壹拾万元整`` (cn2an's ``rmb`` mode).
- ``{{ today | date }}`` — ``2026年11月22日`` / ``November 22, 2026``; ``date("short")`` or a
  CLDR pattern such as ``date("yyyy-MM-dd")``.
- ``{{ customer | salutation }}`` — ``尊敬的王伟`` / ``Dear Wang Wei`` (no punctuation: the
  template decides between ``，`` and ``：``).
- ``{{ value | number }}`` and ``{{ deal.probability | percent }}``.
- ``{{ company.name | end_sentence }}`` — the value and a period, unless it already ends a
  sentence: ``Xinghe Software Co., Ltd.`` never becomes ``Co., Ltd..`` (issue 18).

A filter given a missing field hands it on untouched, so the error names the field
(``deal.amount is empty``) rather than the filter. Values that cannot be what the filter
needs (``cn_upper`` of ``"abc"``) raise :class:`TemplateValueError` with the value in it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from jinja2 import Undefined
from markupsafe import Markup

from ..currency import DEFAULT_CURRENCY, currency_of
from ..schema import Lang

LOCALES: dict[str, str] = {"en": "en_US", "zh": "zh_Hans_CN"}
CENT = Decimal("0.01")
# cn2an and the banks' forms stop below a trillion yuan; nothing larger is a real contract.
CN_UPPER_LIMIT = Decimal("1000000000000")


class TemplateValueError(ValueError):
    """A value a filter cannot format; the message quotes it and says what was expected."""


def decimal_of(value: Any, what: str) -> Decimal:
    """``value`` as a Decimal, from a number or numeric text (``"1,234.50"``, ``"¥100"``)."""
    if isinstance(value, bool):
        raise TemplateValueError(f"{what} needs a number, not {value!r}")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace("，", "").lstrip("¥￥$€£").strip()
        try:
            return Decimal(text)
        except InvalidOperation:
            pass
    raise TemplateValueError(f"{what} needs a number, not {value!r}")


def currency_code(currency: Any) -> str:
    """An ISO 4217 code from a Currency cell: ``CNY``, ``rmb``, ``人民币``, ``$``…"""
    return currency_of(currency) or DEFAULT_CURRENCY


def money(value: Any, currency: Any = None, *, lang: Lang = "en") -> Any:
    if isinstance(value, Undefined):
        return value
    code = currency_code(currency)
    amount = decimal_of(value, "money").quantize(CENT, ROUND_HALF_UP)
    try:
        return format_currency(amount, code, locale=LOCALES[lang])
    except Exception as error:  # Babel raises several kinds for an unknown currency code
        raise TemplateValueError(f"money: unknown currency {code!r} ({error})") from None


def cn_upper(value: Any) -> Any:
    """人民币大写: the amount rounded to the fen, in the characters banks and contracts use."""
    if isinstance(value, Undefined):
        return value
    amount = decimal_of(value, "cn_upper").quantize(CENT, ROUND_HALF_UP)
    if abs(amount) >= CN_UPPER_LIMIT:
        raise TemplateValueError(f"cn_upper: {amount} is too large for 大写金额")
    # Imported here: cn2an compiles its patterns on import (0.2 s), which every command that
    # renders a template paid, in English too, whether or not a template asked for 大写.
    import cn2an

    return cn2an.an2cn(format(amount, "f"), "rmb")


def date(value: Any, format: str = "long", *, lang: Lang = "en") -> Any:
    if isinstance(value, Undefined):
        return value
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            raise TemplateValueError(f"date: {value!r} is not a date (write 2026-03-01)") from None
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        raise TemplateValueError(f"date: {value!r} is not a date")
    return format_date(value, format, locale=LOCALES[lang])


def salutation(person: Any, *, lang: Lang = "en") -> Any:
    """The opening of a letter to ``person`` (a customer record, or a name)."""
    if isinstance(person, Undefined):
        return person
    name = person.get("name") if isinstance(person, Mapping) else person
    name = name.strip() if isinstance(name, str) else ""
    if lang == "zh":
        return f"尊敬的{name}" if name else "尊敬的客户"
    return f"Dear {name}" if name else "Dear Sir or Madam"


def number(value: Any, digits: int = 2, *, lang: Lang = "en") -> Any:
    if isinstance(value, Undefined):
        return value
    amount = decimal_of(value, "number")
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(amount, pattern, locale=LOCALES[lang])


def percent(value: Any, *, lang: Lang = "en") -> Any:
    if isinstance(value, Undefined):
        return value
    return format_percent(decimal_of(value, "percent"), locale=LOCALES[lang])


# What already ends a sentence: "Co., Ltd." needs no second period, "Ltd.)" neither.
_SENTENCE_ENDS = (".", "!", "?", "…", "。", "！", "？", "．")
_CLOSERS = "\"'”’)）」』"


def end_sentence(value: Any, mark: str = ".") -> Any:
    """``value`` followed by ``mark`` unless it already ends a sentence.

    ``Thank you for choosing {{ company.name | end_sentence }}`` reads "…Acme Ltd." whether the
    Settings cell says "Acme Ltd" or "Acme Ltd.": a template cannot know whether a name from a
    cell ends with an abbreviation's period, and "Co., Ltd.." is the result of guessing. Works
    on HTML too (``{% filter end_sentence %}…{% endfilter %}``) and keeps it markup.
    """
    if isinstance(value, Undefined):
        return value
    text = value if isinstance(value, str) else str(value)
    stripped = text.rstrip()
    core = stripped.rstrip(_CLOSERS)
    if isinstance(value, Markup):  # a block: look past closing tags (</a>, </strong>…)
        core = _TRAILING_TAGS.sub("", stripped).rstrip(_CLOSERS)
    if core.endswith(_SENTENCE_ENDS):
        return value if isinstance(value, Markup) else stripped
    if isinstance(value, Markup):
        return Markup(stripped) + Markup.escape(mark)
    return stripped + mark


_TRAILING_TAGS = re.compile(r"(?:\s*</[A-Za-z][A-Za-z0-9]*\s*>)+\s*$")


def for_language(lang: Lang) -> dict[str, Callable[..., Any]]:
    """The filters, bound to ``lang``."""

    def bind(function: Callable[..., Any]) -> Callable[..., Any]:
        def bound(*args: Any, **kwargs: Any) -> Any:
            return function(*args, lang=lang, **kwargs)

        bound.__doc__ = function.__doc__
        return bound

    return {
        "money": bind(money),
        "cn_upper": cn_upper,
        "date": bind(date),
        "salutation": bind(salutation),
        "number": bind(number),
        "percent": bind(percent),
        "end_sentence": end_sentence,
    }
