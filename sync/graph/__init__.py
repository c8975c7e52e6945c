"""Exchange Online (Microsoft Graph) mailboxes: ``graph://user@tenant``.

``graph://li@contoso.onmicrosoft.com`` is the mailbox of user ``li@contoso.onmicrosoft.com``
in tenant ``contoso.onmicrosoft.com`` (the tenant may also be written as its id). When the
address is not in the tenant's domain, write it whole: ``graph://li%40corp.cn@contoso.cn``.
Requests go to ``users/{user}``, which works for app-only access and for a person's own or
shared mailbox alike. Graph is used through httpx and msal directly (the Graph SDK is very
large for the few calls a sync makes).

Settings, from the environment (``XLCRM_GRAPH_CLIENT_SECRET`` may also live in the system
keyring under service ``xlcrm`` and the mailbox URL: ``xlcrm secret set graph://li@…``):

``XLCRM_GRAPH_CLIENT_ID``
    The app registration (Entra admin center > App registrations) xlcrm signs in as.
``XLCRM_GRAPH_CLIENT_SECRET``
    Its client secret, for app-only access (client credentials): scheduled runs with no
    person. The registration needs the *application* permissions Mail.ReadWrite and Mail.Send,
    consented by an administrator. Without a secret, a person signs in with a device code
    (delegated Mail.ReadWrite and Mail.Send): the command prints a code to type at a
    Microsoft page. This needs a terminal; later runs, scheduled ones too, reuse the
    sign-in from a token cache in ``~/.config/xlcrm/graph/`` (``%APPDATA%\\xlcrm`` on
    Windows), readable by its owner only.
``XLCRM_GRAPH_TOKEN``
    A ready access token, used instead of signing in (scripts that have one, tests).
``XLCRM_GRAPH_URL``
    The Graph base URL, default ``https://graph.microsoft.com/v1.0``; for Microsoft Graph
    operated by 21Vianet ``https://microsoftgraph.chinacloudapi.cn/v1.0``. Plain http only to
    this machine (test servers).
``XLCRM_GRAPH_AUTHORITY``
    The sign-in service, default ``https://login.microsoftonline.com`` (or the one of the
    national cloud the base URL names: ``https://login.chinacloudapi.cn`` for 21Vianet).

21Vianet's Graph has no message delta; folders there are listed by received time (see
:mod:`sync.graph.changes`). Sign-in failures (401) and refusals (403) are
:class:`~sync.mailbox.MailboxError` with what to check; so is throttling that lasts longer
than a run should wait.
"""

from .mailbox import GraphMailbox

__all__ = ["GraphMailbox"]
