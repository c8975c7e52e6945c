"""Internal e-mail — rule notices, hand-offs, reminder digests, ticket escalations — sent once.

``send_notices(book, book_path, notices, …)`` sends each :class:`Notice` at most once, ever:
its Message-ID is made from its key, a notice whose Message-ID is already in Interactions is
skipped, and a write-ahead journal beside the workbook (:mod:`.journal`) makes a crash between
sending and saving harmless. See :mod:`.send` for the whole story.
"""

from .message import Notice, notice_message_id
from .send import NoticeReport, Outcome, recorded_keys, send_notices

__all__ = [
    "Notice",
    "NoticeReport",
    "Outcome",
    "notice_message_id",
    "recorded_keys",
    "send_notices",
]
