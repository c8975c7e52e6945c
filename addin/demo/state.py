"""How a demo workbook is recognised: its state records the seed it was built from."""

from __future__ import annotations

from ..workbook import Book

DEMO_STATE_KEY = "demo_seed"


def is_demo(book: Book) -> bool:
    """Whether ``book`` was made by ``xlcrm demo`` (its addresses are made up: never mail them)."""
    return DEMO_STATE_KEY in book.state
