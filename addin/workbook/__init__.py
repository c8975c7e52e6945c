"""The CRM workbook as a database: one Table API over several backends.

``open_book(path)`` opens a workbook file (the **file** backend); ``book.table(name)`` returns a
:class:`Table`. See ``docs/design.md`` for the workbook contract.
"""

from .book import Book, BookState
from .filebook import FileBook, open_book
from .livebook import LiveBook, open_book_or_live, open_live
from .table import Row, Table, TableChanges, TableLayout, UpsertCounts

__all__ = [
    "Book",
    "BookState",
    "FileBook",
    "LiveBook",
    "Row",
    "Table",
    "TableChanges",
    "TableLayout",
    "UpsertCounts",
    "open_book",
    "open_book_or_live",
    "open_live",
]
