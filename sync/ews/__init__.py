"""Exchange on-premises through Exchange Web Services (EWS), with exchangelib: ``ews://``.

``ews://user@host/EWS/Exchange.asmx`` (https; ``ews+http://`` only to this machine, for test
servers). The user is ``DOMAIN%5Cuser`` (with the mailbox's address given separately) or a UPN
such as ``zhang%40corp.cn``. Sign-in is NTLM unless ``XLCRM_EWS_AUTH`` says ``basic`` or
``oauth``; the password comes from ``XLCRM_PASSWORD``, the keyring or a prompt, an OAuth access
token from ``XLCRM_TOKEN``.

Modules by topic:

- :mod:`.mailbox` — :class:`EwsMailbox`, the :class:`sync.mailbox.Mailbox` protocol;
- :mod:`.connect` — the endpoint, sign-in, and an exchangelib account that does not
  autodiscover, probe or guess;
- :mod:`.folders` — Inbox, Sent Items, Drafts and the Inbox's sub-folders;
- :mod:`.changes` — SyncFolderItems and the incremental state;
- :mod:`.sending` — CreateItem from MIME: send, and save a draft;
- :mod:`.errors` — exchangelib's exceptions as :class:`sync.mailbox.MailboxError`.

Exchange Online blocks EWS (from October 2026); use ``graph://`` there.
"""

from .mailbox import EwsMailbox

__all__ = ["EwsMailbox"]
