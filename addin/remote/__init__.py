"""The remote backend and the add-in protocol: the workbook as the Office.js client sends it."""

from .book import RemoteBook, plan_reads
from .protocol import PROTOCOL

__all__ = ["PROTOCOL", "RemoteBook", "plan_reads"]
