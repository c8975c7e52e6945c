"""Local mail, the embedded default: Maildir, mbox, and folders of .eml and Outlook .msg files.

Each backend implements :class:`sync.mailbox.Mailbox` over files on disk and never changes
them: no file is renamed, flagged, locked or rewritten, and no message moves from ``new/`` to
``cur/``. One module per format:

- :mod:`.maildir` — ``maildir:PATH``, Maildir and Maildir++;
- :mod:`.mbox` — ``mbox:PATH``, one mbox file or a directory of them;
- :mod:`.eml` — ``eml:DIR``, a folder tree of ``.eml`` and ``.msg`` files (:mod:`.msg`
  converts Outlook's format, with the optional extract-msg package);
- :mod:`._files` — what the file-per-message formats share, including their incremental state.
"""

from ..mailbox import role_from_name
from .eml import EmlMailbox
from .maildir import MaildirMailbox
from .mbox import MboxMailbox

__all__ = ["EmlMailbox", "MaildirMailbox", "MboxMailbox", "role_from_name"]
