"""What people type in a Currency cell, read as an ISO 4217 code.

``人民币``, ``RMB``, ``元`` and ``¥`` are one currency; contracts format it, the forecast and
the dashboard add up by it. One table, so that every feature agrees which amounts are the same
money.
"""

from __future__ import annotations

from typing import Any

DEFAULT_CURRENCY = "CNY"
"""The currency of an amount whose Currency cell is empty."""

# Names and signs besides ISO codes; anything else is upper-cased as it is.
CURRENCY_NAMES = {
    "RMB": "CNY",
    "人民币": "CNY",
    "元": "CNY",
    "¥": "CNY",
    "￥": "CNY",
    "美元": "USD",
    "US$": "USD",
    "$": "USD",
    "欧元": "EUR",
    "€": "EUR",
    "HK$": "HKD",
    "港币": "HKD",
    "港元": "HKD",
    "日元": "JPY",
    "£": "GBP",
    "英镑": "GBP",
}


def currency_of(value: Any) -> str | None:
    """``人民币``/``RMB``/``¥`` → ``CNY``, ``us$`` → ``USD``; None for an empty cell."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    return CURRENCY_NAMES.get(text.upper(), CURRENCY_NAMES.get(text, text.upper()))
