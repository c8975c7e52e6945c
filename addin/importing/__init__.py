"""``xlcrm import``: bring customers (or any CRM table) in from CSV, Excel and vCard files.

People arrive with what they have: a CSV saved by Excel on Chinese Windows (GB18030, or UTF-8
with a BOM, ``;`` in some locales), a sheet exported from another system, a phone's vCard
export, or a JSON export of xlcrm itself. :func:`import_file` reads any of them, maps the
headers through the schema's aliases (English and Chinese), cleans e-mail addresses and phone
numbers, and upserts the rows through the Table API, so the workbook contract (typed values,
text never becoming a formula, one write per save) holds for imported data exactly as for
everything else.

An import never aborts half-way because of one bad row and never half-applies a row: a row
with a problem (a value that does not fit its column, an e-mail like ``foo@``, a customer that
does not exist) writes nothing, is counted as skipped and is reported with the place a person
finds it in *their* file (``contacts.csv:14``, ``contacts.xlsx!Sheet1!D14``); ``strict`` fails
the whole import instead. An import never erases or rewrites data either: empty cells in the
file leave the workbook's cells alone, a value the workbook already has is kept unless
``overwrite`` is given, and a customer's known e-mail addresses are kept when new ones are
added. Phones and e-mails compare by meaning, so importing an export changes nothing.

The caller saves (``with open_book(...)``); a dry run computes the same report and then drops
every change.

The modules follow the data: :mod:`.sources` (and :mod:`.vcard` for vCards) read a file into
the common shape of :mod:`.rows`; :mod:`.importer` applies those rows to a table; and
:mod:`.report` holds what the person is told. This package only re-exports the public names.
"""

from .importer import REFERENCES, ImportRefused, Progress, import_file
from .report import MAX_CHANGES, MAX_LISTED, Change, ImportReport, Problem
from .sources import (
    CSV_SUFFIXES,
    DELIMITERS,
    ENCODINGS,
    JSON_SUFFIXES,
    VCARD_SUFFIXES,
    WORKBOOK_SUFFIXES,
    sniff_delimiter,
)

__all__ = [
    "CSV_SUFFIXES",
    "DELIMITERS",
    "ENCODINGS",
    "JSON_SUFFIXES",
    "MAX_CHANGES",
    "MAX_LISTED",
    "REFERENCES",
    "VCARD_SUFFIXES",
    "WORKBOOK_SUFFIXES",
    "Change",
    "ImportRefused",
    "ImportReport",
    "Problem",
    "Progress",
    "import_file",
    "sniff_delimiter",
]
