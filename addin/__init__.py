"""xlcrm: a CRM that lives in an Excel workbook and the company mailbox.

The library is the product; the ``xlcrm`` command line and the Excel ribbon are thin shells
over it. Start with :func:`addin.workbook.open_book`.
"""

__version__ = "0.1.0"
