"""The Microsoft Graph backend against our Graph test server on loopback, through real HTTPS.

The server (``servers.graph``) speaks Graph's mail API and the Microsoft identity platform's
sign-in endpoints, with a certificate from a CA made for the run; clients trust it through
``SSL_CERT_FILE``, so certificate checks stay on as in production. msal signs in against it
for real (client credentials in-process; the device-code flow in a child process that has a
real pseudo-terminal, with the test "typing" the code). Nothing is mocked. Waiting is
injected (``sleep=``) so throttling tests record the waits instead of sleeping; one test
shows the default sleeps for real. An audit hook records every socket connection and name
lookup of every test: none may leave 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import os
import select
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import pytest
from servers.graph import GraphServer

from sync.graph import GraphMailbox
from sync.graph.client import RetryPolicy
from sync.graph.settings import settings_from
from sync.mailbox import Changes, Folder, Mailbox, MailboxError, Transport, is_loopback, parse_url
from sync.open import open_mailbox, open_transport

URL = "graph://li@contoso.onmicrosoft.com"
MAIL = Path(__file__).parent / "data" / "mail"
GBK = (MAIL / "gb2312_label_gbk_body.eml").read_bytes()
T0 = datetime(2026, 3, 1, 8, 0, 0, tzinfo=timezone.utc)

# ---- no request leaves this machine ------------------------------------------------------

_destinations: list[tuple[str, object]] = []
_recording = [False]  # audit hooks cannot be removed: they record only during these tests


def _audit(event: str, args: tuple[object, ...]) -> None:
    if not _recording[0]:
        return
    if event == "socket.connect" and isinstance(args[1], tuple):
        _destinations.append(("connect", args[1][0]))
    elif event == "socket.getaddrinfo":
        _destinations.append(("lookup", args[0]))


sys.addaudithook(_audit)


@pytest.fixture(autouse=True)
def only_loopback() -> Iterator[None]:
    """Every connection and name lookup the test made went to 127.0.0.1 (so none reached
    login.microsoftonline.com or graph.microsoft.com, msal's instance discovery included)."""
    _destinations.clear()
    _recording[0] = True
    try:
        yield
    finally:
        _recording[0] = False
    elsewhere = [(kind, host) for kind, host in _destinations if not _is_local(host)]
    assert not elsewhere, f"requests left loopback: {elsewhere}"


def _is_local(host: object) -> bool:
    text = host.decode() if isinstance(host, bytes) else str(host)
    return is_loopback(text)


# ---- the server and the environment ------------------------------------------------------


class Sleeps(list):
    """An injected ``sleep``: records how long the backend asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def message(n: int, subject: str = "报价") -> bytes:
    msg = EmailMessage()
    msg["From"] = "zhang.san@example.cn"
    msg["To"] = "li@contoso.onmicrosoft.com"
    msg["Subject"] = f"{subject} {n}"
    msg["Message-ID"] = f"<g{n}@example.cn>"
    msg.set_content(f"第 {n} 封邮件。\n")
    return msg.as_bytes()


def deliver(server: GraphServer, *numbers: int, at: datetime | None = None) -> list[str]:
    return [server.store.deliver("inbox", message(n), at) for n in numbers]


def keys(changes: Changes) -> list[str]:
    return [ref.key for ref in changes.refs]


def mailbox(**options: object) -> GraphMailbox:
    return GraphMailbox(URL, sleep=options.pop("sleep", Sleeps()), **options)  # type: ignore[arg-type]


# ---- folders and listing -------------------------------------------------------------------


def test_folders_come_with_roles_children_and_paging(graph: GraphServer) -> None:
    graph.max_page = 2  # Graph may page folder lists too
    box = open_mailbox(URL)
    assert isinstance(box, GraphMailbox)
    assert isinstance(box, Mailbox)
    assert (box.url, box.address) == (URL, "li@contoso.onmicrosoft.com")
    assert box.folders() == [
        Folder("Inbox", "inbox"),
        Folder("Sent Items", "sent"),
        Folder("Drafts", "drafts"),
        Folder("Deleted Items", "other"),
        Folder("客户", "other"),
        Folder("客户/华东", "other"),
    ]
    assert any("$skip" in r.query for r in graph.api_requests() if r.path.endswith("mailFolders"))
    graph.store.deliver("华东", message(1))
    [(_, data)] = box.fetch(box.changes("客户/华东", None).refs)
    assert data == message(1)
    with pytest.raises(MailboxError) as err:
        box.changes("Archive", None)
    assert str(err.value).startswith(f"{URL}: there is no folder 'Archive'")
    assert "Inbox, Sent Items, Drafts" in str(err.value)
    box.close()


def test_first_listing_then_only_what_is_new(graph: GraphServer) -> None:
    first_ids = deliver(graph, 1, 2, 3)
    box = mailbox()
    first = box.changes("Inbox", None)
    assert (keys(first), first.reset) == (first_ids, False)
    assert [data for _, data in box.fetch(first.refs)] == [message(1), message(2), message(3)]
    [delta] = [r for r in graph.api_requests() if r.path.endswith("/messages/delta")]
    assert delta.query == {"changeType": "created", "$select": "id"}  # only ids, only new
    assert delta.headers["prefer"] == "odata.maxpagesize=100"
    assert json.loads(first.state)["mode"] == "delta"

    nothing = box.changes("Inbox", first.state)
    assert (nothing.refs, nothing.reset) == ([], False)

    [new] = deliver(graph, 4)
    graph.store.mark_read(first_ids[0])  # read in Outlook: not a new message
    graph.store.delete(first_ids[1])  # an @removed entry: not a new message either
    third = box.changes("Inbox", nothing.state)
    assert (keys(third), third.reset) == ([new], False)
    assert box.changes("Inbox", third.state).refs == []


def test_a_listing_follows_delta_pages_to_the_delta_link(graph: GraphServer) -> None:
    ids = deliver(graph, *range(7))
    graph.max_page = 2  # the server pages at 2 whatever is asked, as Graph may
    box = mailbox(page_size=50)
    changes = box.changes("Inbox", None)
    assert keys(changes) == ids
    rounds = [r for r in graph.api_requests() if "/messages/delta" in r.path]
    assert len(rounds) == 4
    assert all("$skiptoken" in r.query for r in rounds[1:])
    assert all(r.headers["prefer"] == "odata.maxpagesize=50" for r in rounds)
    assert "$deltatoken=" in json.loads(changes.state)["link"]


def test_an_expired_delta_token_lists_everything_again_and_loses_nothing(
    graph: GraphServer, caplog: pytest.LogCaptureFixture
) -> None:
    ids = deliver(graph, 1, 2)
    box = mailbox()
    first = box.changes("Inbox", None)
    ids += deliver(graph, 3)
    graph.store.expire_delta_tokens()
    again = box.changes("Inbox", first.state)
    assert (keys(again), again.reset) == (ids, True)
    assert "no longer knows the last sync point" in caplog.text
    after = box.changes("Inbox", again.state)
    assert (after.refs, after.reset) == ([], False)


@pytest.mark.parametrize(
    ("status", "retry_after", "waits"),
    [(429, "7", [7.0, 7.0]), (503, None, [1.0, 2.0]), (504, "3", [3.0, 3.0])],
)
def test_throttling_waits_as_asked_and_the_run_completes(
    graph: GraphServer, status: int, retry_after: str | None, waits: list[float]
) -> None:
    ids = deliver(graph, 1, 2)
    sleeps = Sleeps()
    box = mailbox(sleep=sleeps)
    graph.throttle(2, status, retry_after)
    changes = box.changes("Inbox", None)
    graph.throttle(1, status, retry_after, match="$value")
    fetched = list(box.fetch(changes.refs))
    assert keys(changes) == ids and len(fetched) == 2
    assert sleeps == [*waits, waits[0]]  # Retry-After honoured, else 1 s doubling


def test_throttling_that_lasts_is_an_error_not_a_hang(graph: GraphServer) -> None:
    deliver(graph, 1)
    sleeps = Sleeps()
    box = mailbox(sleep=sleeps, retry=RetryPolicy(attempts=4))
    graph.throttle(100, 429, "2")
    with pytest.raises(MailboxError) as err:
        box.changes("Inbox", None)
    assert "is busy or throttling this mailbox (429 Too Many Requests)" in str(err.value)
    assert "gave up after 4 tries" in str(err.value)
    assert sleeps == [2.0, 2.0, 2.0]

    graph.hooks.clear()
    graph.throttle(1, 429, "3600")  # longer than a run should wait: fail now, say so
    sleeps.clear()
    with pytest.raises(MailboxError, match="asks to wait 3600 s"):
        box.changes("Inbox", None)
    assert sleeps == []


def test_the_default_sleep_really_waits(graph: GraphServer) -> None:
    deliver(graph, 1)
    box = GraphMailbox(URL)
    graph.throttle(1, 429, "1")
    started = time.monotonic()
    assert len(box.changes("Inbox", None).refs) == 1
    assert time.monotonic() - started >= 1.0


@pytest.mark.parametrize("status", [400, 501])
def test_without_delta_listing_by_received_time_loses_and_repeats_nothing(
    graph: GraphServer, status: int
) -> None:
    graph.delta_status = status  # as Graph operated by 21Vianet
    a, b, c = (
        graph.store.deliver("inbox", message(1), T0),
        graph.store.deliver("inbox", message(2), T0 + timedelta(seconds=5)),
        graph.store.deliver("inbox", message(3), T0 + timedelta(seconds=5)),
    )
    box = mailbox()
    first = box.changes("Inbox", None)
    assert (keys(first), first.reset) == ([a, b, c], False)
    state = json.loads(first.state)
    assert (state["mode"], state["at"], sorted(state["ids"])) == (
        "received",
        "2026-03-01T08:00:05Z",
        sorted([b, c]),
    )
    listing = next(r for r in graph.api_requests() if r.path.endswith("/messages"))
    assert listing.query["$filter"] == "receivedDateTime ge 1900-01-01T00:00:00Z"
    assert listing.query["$orderby"] == "receivedDateTime"
    assert listing.query["$select"] == "id,receivedDateTime"

    # One more in the very second of the last listed, and a later one: both, once.
    d = graph.store.deliver("inbox", message(4), T0 + timedelta(seconds=5))
    e = graph.store.deliver("inbox", message(5), T0 + timedelta(seconds=9))
    graph.requests.clear()
    later = GraphMailbox(URL, sleep=Sleeps())  # a new run: the state says which mode
    second = later.changes("Inbox", first.state)
    assert (keys(second), second.reset) == ([d, e], False)
    assert not [r for r in graph.api_requests() if "delta" in r.path]
    assert later.changes("Inbox", second.state).refs == []
    assert [data for _, data in later.fetch(second.refs)] == [message(4), message(5)]


def test_received_time_pages_get_past_many_messages_of_one_instant(graph: GraphServer) -> None:
    graph.delta_status = 501
    graph.max_page = 2
    same = [graph.store.deliver("inbox", message(n), T0) for n in range(5)]
    later = [graph.store.deliver("inbox", message(n), T0 + timedelta(hours=n)) for n in (6, 7)]
    box = mailbox()
    changes = box.changes("Inbox", None)
    assert sorted(keys(changes)) == sorted(same + later)
    assert len(keys(changes)) == 7
    assert box.changes("Inbox", changes.state).refs == []


def test_the_settings_for_21vianet_skip_delta_and_sign_in_in_china() -> None:
    settings = settings_from(
        parse_url("graph://li@contoso.partner.onmschina.cn"),
        {"XLCRM_GRAPH_URL": "https://microsoftgraph.chinacloudapi.cn/v1.0/"},
    )
    assert settings.base == "https://microsoftgraph.chinacloudapi.cn/v1.0"
    assert settings.authority == "https://login.chinacloudapi.cn"
    assert settings.app_scopes == ["https://microsoftgraph.chinacloudapi.cn/.default"]
    assert settings.user_scopes == [
        "https://microsoftgraph.chinacloudapi.cn/Mail.ReadWrite",
        "https://microsoftgraph.chinacloudapi.cn/Mail.Send",
    ]
    assert settings.delta_available is False
    assert settings.mailbox_path == "users/li@contoso.partner.onmschina.cn"
    default = settings_from(parse_url(URL), {})
    assert (default.base, default.authority, default.delta_available) == (
        "https://graph.microsoft.com/v1.0",
        "https://login.microsoftonline.com",
        True,
    )


@pytest.mark.parametrize(
    ("state", "why"),
    [
        ("not json", "not JSON"),
        ('{"v":9,"mode":"delta"}', "not a state this version"),
        (
            '{"v":1,"mode":"delta","folder":"F","link":"https://graph.example/v1.0/x"}',
            "the delta link does not point at the configured Graph server",
        ),
    ],
)
def test_a_state_that_is_not_ours_gives_a_warning_and_a_full_listing(
    graph: GraphServer, caplog: pytest.LogCaptureFixture, state: str, why: str
) -> None:
    ids = deliver(graph, 1, 2)
    box = mailbox()
    changes = box.changes("Inbox", state)
    assert (keys(changes), changes.reset) == (ids, True)
    assert f"{URL}: Inbox: the saved sync state is not one this backend wrote ({why}" in (
        caplog.text
    )
    assert all(r.client == "127.0.0.1" for r in graph.requests)


def test_a_folder_made_again_under_the_same_name_is_listed_whole(
    graph: GraphServer, caplog: pytest.LogCaptureFixture
) -> None:
    old = graph.store.add_folder("Projects")
    box = mailbox()
    state = box.changes("Projects", None).state
    del graph.store.folders[old]  # deleted in Outlook, and a new one made with the name
    graph.store.add_folder("Projects")
    new = graph.store.deliver("Projects", message(1))
    box.folders()
    changes = box.changes("Projects", state)
    assert (keys(changes), changes.reset) == ([new], True)
    assert "the folder was deleted and made again since the last run" in caplog.text


# ---- fetching ------------------------------------------------------------------------------


def test_fetch_returns_the_mime_byte_for_byte_and_skips_what_was_deleted(
    graph: GraphServer, caplog: pytest.LogCaptureFixture
) -> None:
    gbk_id = graph.store.deliver("inbox", GBK)
    split = (MAIL / "gbk_subject_split_words.eml").read_bytes()
    split_id = graph.store.deliver("inbox", split)
    [gone] = deliver(graph, 9)
    box = mailbox()
    refs = box.changes("Inbox", None).refs
    graph.store.delete(gone)
    fetched = list(box.fetch(refs))
    assert [(ref.key, data) for ref, data in fetched] == [(gbk_id, GBK), (split_id, split)]
    assert f"message {gone} is gone since it was listed" in caplog.text
    values = [r for r in graph.api_requests() if r.path.endswith("/$value")]
    assert [r.path.split("/")[-2] for r in values] == [gbk_id, split_id, gone]


def test_a_connection_that_drops_mid_message_is_retried_then_an_error(
    graph: GraphServer,
) -> None:
    deliver(graph, 1, 2)
    sleeps = Sleeps()
    box = mailbox(sleep=sleeps)
    refs = box.changes("Inbox", None).refs
    graph.drop_fetches(1)
    assert [data for _, data in box.fetch(refs)] == [message(1), message(2)]
    assert sleeps == [1.0]

    graph.drop_fetches(100)
    with pytest.raises(MailboxError) as err:
        list(box.fetch(refs))
    text = str(err.value)
    assert text.startswith(f"{URL}: the connection to Microsoft Graph broke during GET ")
    assert "what was read so far is not lost" in text


def test_an_unreachable_server_is_an_error_after_a_few_tries(graph_env: pytest.MonkeyPatch) -> None:
    with GraphServer() as server:  # started and stopped: nothing listens on its port now
        graph_env.setenv("XLCRM_GRAPH_URL", server.graph_url)
        graph_env.setenv("XLCRM_GRAPH_TOKEN", server.login.issue())
    sleeps = Sleeps()
    with pytest.raises(MailboxError) as err:
        GraphMailbox(URL, sleep=sleeps, retry=RetryPolicy(attempts=3))
    assert str(err.value).startswith(f"{URL}: Microsoft Graph could not be reached at 127.0.0.1")
    assert "nothing was changed or sent" in str(err.value)
    assert sleeps == [1.0, 2.0]


def test_a_sync_only_reads(graph: GraphServer) -> None:
    deliver(graph, 1, 2)
    graph.store.deliver("sentitems", message(3))
    box = open_mailbox(URL)
    for folder in box.folders():
        changes = box.changes(folder.name, None)
        assert len(list(box.fetch(changes.refs))) == len(changes.refs)
    assert {r.method for r in graph.api_requests()} == {"GET"}
    assert not any(m.is_read for m in graph.store.messages.values())
    assert all(r.client == "127.0.0.1" for r in graph.requests)


# ---- signing in ----------------------------------------------------------------------------


def test_a_wrong_or_expired_token_is_a_sign_in_error_without_the_token(
    graph: GraphServer, graph_env: pytest.MonkeyPatch
) -> None:
    graph_env.setenv("XLCRM_GRAPH_TOKEN", "eyJ0eXAi.wrong-token-d41d8cd98f00")
    with pytest.raises(MailboxError) as err:
        open_mailbox(URL)
    text = str(err.value)
    assert text.startswith(
        f"{URL}: sign-in failed: Microsoft Graph did not accept the access token"
    )
    assert "InvalidAuthenticationToken" in text and "XLCRM_GRAPH_TOKEN" in text
    assert "wrong-token" not in text

    good = graph.login.issue()
    graph_env.setenv("XLCRM_GRAPH_TOKEN", good)
    box = mailbox()
    graph.login.revoke_all()  # the token expires during the run
    with pytest.raises(MailboxError, match="sign-in failed") as err:
        box.changes("Inbox", None)
    assert good not in str(err.value) and good.split(".")[-1] not in str(err.value)


def test_a_mailbox_the_token_may_not_open_says_what_permission_is_missing(
    graph: GraphServer, graph_env: pytest.MonkeyPatch
) -> None:
    graph_env.setenv("XLCRM_GRAPH_TOKEN", graph.login.issue(allowed=False))
    box = mailbox()  # opening works: an app allowed only to send could still send
    with pytest.raises(MailboxError) as err:
        box.folders()
    assert str(err.value).startswith(f"{URL}: not allowed: Microsoft Graph refused GET ")
    assert "ErrorAccessDenied" in str(err.value) and "Mail.ReadWrite" in str(err.value)


def test_an_unknown_user_is_named(graph: GraphServer) -> None:
    with pytest.raises(MailboxError) as err:
        open_mailbox("graph://wang@contoso.onmicrosoft.com")
    assert str(err.value).startswith(
        "graph://wang@contoso.onmicrosoft.com: there is no Exchange Online mailbox "
        "wang@contoso.onmicrosoft.com"
    )


def test_without_settings_the_error_says_what_to_set(graph_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(MailboxError) as err:
        open_mailbox(URL)
    assert str(err.value) == (
        f"{URL}: no way to sign in to Microsoft Graph was given\n"
        "  hint: set XLCRM_GRAPH_CLIENT_ID to the app registration's client id (and "
        "XLCRM_GRAPH_CLIENT_SECRET for app-only access), or XLCRM_GRAPH_TOKEN to an access token"
    )


# ---- sending -------------------------------------------------------------------------------


def test_send_and_save_draft_put_the_mime_on_the_server(graph: GraphServer) -> None:
    transport = open_transport(URL)
    assert isinstance(transport, GraphMailbox) and isinstance(transport, Transport)
    outgoing = message(20, "合同")
    transport.send(outgoing)
    assert graph.store.outbox == [outgoing]
    [post] = [r for r in graph.api_requests() if r.method == "POST"]
    assert post.path == "/v1.0/users/li@contoso.onmicrosoft.com/sendMail"
    assert post.headers["content-type"] == "text/plain"
    assert base64.b64decode(post.body) == outgoing
    [sent] = graph.store.in_folder(graph.store.folder("sentitems").id)
    assert sent.mime == outgoing

    draft = message(21, "草稿")
    transport.save_draft(draft)
    [saved] = graph.store.in_folder(graph.store.folder("drafts").id)
    assert (saved.mime, saved.is_draft) == (draft, True)
    assert graph.store.outbox == [outgoing]  # a draft is not sent
    transport.close()


def test_sending_is_retried_only_when_graph_did_not_take_the_message(
    graph: GraphServer,
) -> None:
    sleeps = Sleeps()
    box = mailbox(sleep=sleeps)
    graph.throttle(1, 429, "2", match="sendMail")  # 429: not taken, safe to try again
    box.send(message(30))
    assert (graph.store.outbox, sleeps) == ([message(30)], [2.0])

    graph.throttle(1, 503, "2", match="sendMail")  # may have gone: never twice
    with pytest.raises(MailboxError) as err:
        box.send(message(31))
    assert "503 Service Unavailable to POST users/li@contoso.onmicrosoft.com/sendMail" in str(
        err.value
    )
    assert "look in Sent Items before sending it again" in str(err.value)
    posts = [r for r in graph.api_requests() if r.method == "POST"]
    assert len(posts) == 3 and sleeps == [2.0]


# ---- msal sign-in against the test server --------------------------------------------------


def test_app_only_sign_in_with_a_client_secret(
    graph: GraphServer, graph_env: pytest.MonkeyPatch
) -> None:
    client_id = "7c1a2b3c-0000-4000-8000-00000000a99"
    graph.login.apps[client_id] = "s3cret~value"
    graph_env.delenv("XLCRM_GRAPH_TOKEN")
    graph_env.setenv("XLCRM_GRAPH_CLIENT_ID", client_id)
    graph_env.setenv("XLCRM_GRAPH_CLIENT_SECRET", "s3cret~value")
    deliver(graph, 1)
    box = open_mailbox(URL)
    assert len(box.changes("Inbox", None).refs) == 1
    discovery, token = [r for r in graph.requests if not r.path.startswith("/v1.0/")]
    assert discovery.path == "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"
    assert token.path == "/contoso.onmicrosoft.com/oauth2/v2.0/token"
    assert b"grant_type=client_credentials" in token.body
    assert f"scope={graph.root}/.default".encode() in token.body.replace(b"%3A", b":").replace(
        b"%2F", b"/"
    )
    [issued] = [t for t, who in graph.login.tokens.items() if who == client_id]
    assert {r.headers["authorization"] for r in graph.api_requests()} == {f"Bearer {issued}"}
    graph.login.revoke_all()  # Graph stops taking msal's cached token: get a new one, go on
    assert len(box.changes("Inbox", None).refs) == 1
    assert len([r for r in graph.requests if r.path.endswith("/token")]) == 2
    box.close()

    graph_env.setenv("XLCRM_GRAPH_CLIENT_SECRET", "not-the-secret")
    with pytest.raises(MailboxError) as err:
        open_mailbox(URL)
    text = str(err.value)
    assert text.startswith(f"{URL}: sign-in failed: invalid_client (AADSTS7000215")
    assert "not-the-secret" not in text and "XLCRM_GRAPH_CLIENT_SECRET" in text


def _sign_in_with_a_device_code(graph: GraphServer, client_id: str) -> str:
    """Run a sync in a child process whose stdin is a real terminal; be the person who types
    the code it shows. Returns what the child printed. (POSIX: pseudo-terminals; CI is Linux.)"""
    import pty

    script = (
        "import sys\n"
        "hosts = set()\n"
        "def audit(event, args):\n"
        "    if event == 'socket.connect' and isinstance(args[1], tuple):\n"
        "        hosts.add(str(args[1][0]))\n"
        "    elif event == 'socket.getaddrinfo':\n"
        "        hosts.add(str(args[0]))\n"
        "sys.addaudithook(audit)\n"
        "from sync.graph import GraphMailbox\n"
        "box = GraphMailbox(sys.argv[1])\n"
        "print('folders:', len(box.folders()))\n"
        "print('hosts:', ' '.join(sorted(hosts)))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "XLCRM_GRAPH_TOKEN"}
    env["XLCRM_GRAPH_CLIENT_ID"] = client_id
    terminal, child_end = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-c", script, URL],
        stdin=child_end,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=Path(__file__).parent.parent,
    )
    os.close(child_end)
    shown = b""
    try:
        deadline = time.monotonic() + 30
        while b"enter the code " not in shown or not shown.endswith(b"\n"):
            assert time.monotonic() < deadline, f"no device code shown: {shown!r}"
            ready, _, _ = select.select([child.stderr], [], [], 1)
            if ready:
                chunk = os.read(child.stderr.fileno(), 4096)  # type: ignore[union-attr]
                assert chunk, f"the child ended: {shown!r}"
                shown += chunk
        code = shown.split(b"enter the code ")[1].split()[0].decode()
        graph.login.approve(code, "li@contoso.onmicrosoft.com")
        out, err = child.communicate(timeout=30)
    finally:
        os.close(terminal)
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, (shown + err).decode()
    return (shown + err).decode() + out.decode()


def test_a_person_signs_in_once_with_a_device_code_and_later_runs_reuse_it(
    graph: GraphServer, graph_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    client_id = "0e1f2a3b-0000-4000-8000-0000000de71c"
    graph.login.apps[client_id] = None  # a public client: no secret
    shown = _sign_in_with_a_device_code(graph, client_id)
    assert shown.startswith(f"{URL}: To sign in, use a web browser to open the page ")
    assert "folders: 6" in shown
    [hosts] = [line for line in shown.splitlines() if line.startswith("hosts: ")]
    assert hosts.split()[1:] and all(is_loopback(h) for h in hosts.split()[1:]), hosts

    cache = tmp_path / "config" / "xlcrm" / "graph" / "tokens-li@contoso.onmicrosoft.com.json"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700
    assert json.loads(cache.read_text())["RefreshToken"]  # what lets later runs go on

    # A later run without a terminal (a scheduled one): the cached sign-in, no new code.
    graph_env.delenv("XLCRM_GRAPH_TOKEN")
    graph_env.setenv("XLCRM_GRAPH_CLIENT_ID", client_id)
    graph.requests.clear()
    graph.login.revoke_all()  # Graph no longer takes the access token msal has cached
    box = open_mailbox(URL)
    assert len(box.folders()) == 6
    # Refused (401), the mailbox asked msal for a fresh token, which used the refresh token.
    assert not any("devicecode" in r.path for r in graph.requests)
    [renewal] = [r for r in graph.requests if r.path.endswith("/oauth2/v2.0/token")]
    assert b"grant_type=refresh_token" in renewal.body
    box.close()

    cache.unlink()  # nobody signed in, and nobody at a terminal to do it
    with pytest.raises(MailboxError) as err:
        open_mailbox(URL)
    assert str(err.value).startswith(
        f"{URL}: signing in to Microsoft Graph needs a person at a terminal (device code)"
    )
    assert "run the same command once by hand" in str(err.value)


# ---- certificates and plain http -----------------------------------------------------------


def test_an_untrusted_certificate_is_refused_unless_insecure_says_so(
    graph: GraphServer, graph_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    graph_env.delenv("SSL_CERT_FILE")
    with pytest.raises(MailboxError) as err:
        open_mailbox(URL)
    assert str(err.value).startswith(f"{URL}: the certificate of 127.0.0.1 could not be verified")
    assert "--insecure" in str(err.value)

    deliver(graph, 1)
    box = open_mailbox(URL, insecure=True)
    assert len(box.changes("Inbox", None).refs) == 1
    assert f"{URL}: certificate checks are off (--insecure)" in caplog.text


def test_plain_http_only_to_this_machine(graph_env: pytest.MonkeyPatch) -> None:
    with GraphServer() as server:  # no TLS
        server.make_mailbox()
        server.store.deliver("inbox", GBK)
        graph_env.setenv("XLCRM_GRAPH_URL", server.graph_url)
        graph_env.setenv("XLCRM_GRAPH_TOKEN", server.login.issue())
        box = open_mailbox(URL)
        [(_, data)] = box.fetch(box.changes("Inbox", None).refs)
        assert data == GBK
        box.close()
    graph_env.setenv("XLCRM_GRAPH_URL", "http://graph.example.cn/v1.0")
    with pytest.raises(MailboxError) as err:
        open_mailbox(URL)
    assert str(err.value).startswith(
        f"{URL}: XLCRM_GRAPH_URL uses plain http, which would send the access token unencrypted"
    )
    graph_env.setenv("XLCRM_GRAPH_URL", "https://graph.microsoft.com/v1.0")
    graph_env.setenv("XLCRM_GRAPH_AUTHORITY", "http://login.example.cn")
    with pytest.raises(MailboxError, match="XLCRM_GRAPH_AUTHORITY must be an https URL"):
        open_mailbox(URL)


# ---- what a campaign needs: rich messages, "was it sent?", temporary failures ----------------

ADDRESS = "li@contoso.onmicrosoft.com"


def test_a_campaign_message_goes_out_whole_with_its_message_id(
    graph: GraphServer, campaign_message: Callable[..., bytes]
) -> None:
    """sendMail and POST messages take the MIME in base64: Exchange keeps it as it is, so the
    Message-ID is the one the campaign chose (Graph's JSON form would make its own)."""
    sent = campaign_message("<spring-2026.C0001@corp.example>", sender=f"销售部 <{ADDRESS}>")
    draft = campaign_message("<spring-2026.C0002@corp.example>", sender=f"销售部 <{ADDRESS}>")
    box = mailbox()
    box.send(sent)
    box.save_draft(draft)

    assert graph.store.outbox == [sent]
    [copy] = graph.store.in_folder(graph.store.folder("sentitems").id)
    [saved] = graph.store.in_folder(graph.store.folder("drafts").id)
    assert (copy.mime, saved.mime, saved.is_draft) == (sent, draft, True)
    assert (copy.internet_message_id, saved.internet_message_id) == (
        "<spring-2026.C0001@corp.example>",
        "<spring-2026.C0002@corp.example>",
    )
    posts = [r for r in graph.api_requests() if r.method == "POST"]
    assert [base64.b64decode(r.body) for r in posts] == [sent, draft]
    parsed = BytesParser(policy=default).parsebytes(graph.store.outbox[0])
    assert parsed["Subject"] == "【春季促销】张三，您的专属报价已备好"
    assert [part.get_content_type() for part in parsed.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "application/pdf",
    ]
    [attachment] = parsed.iter_attachments()
    assert attachment.get_filename() == "报价单-C0001.pdf"


def test_was_sent_asks_sent_items_for_the_internet_message_id(
    graph: GraphServer, campaign_message: Callable[..., bytes]
) -> None:
    box = mailbox()
    box.send(campaign_message("<spring-2026.C0001@corp.example>", sender=ADDRESS))
    box.save_draft(campaign_message("<o'brien.C0002@corp.example>", sender=ADDRESS))
    deliver(graph, 7)  # <g7@example.cn>, received, not sent
    before = len(graph.api_requests())

    assert box.was_sent("<spring-2026.C0001@corp.example>") is True
    assert box.was_sent("spring-2026.C0001@corp.example") is True  # brackets aside
    assert box.was_sent("<o'brien.C0002@corp.example>") is False  # a draft did not go
    assert box.was_sent("<g7@example.cn>") is False  # in the Inbox, not Sent Items
    asked = graph.api_requests()[before:]
    assert {r.method for r in asked} == {"GET"}
    assert {r.path for r in asked} == {
        "/v1.0/users/li@contoso.onmicrosoft.com/mailFolders/sentitems/messages"
    }
    assert [r.query["$filter"] for r in asked] == [
        "internetMessageId eq '<spring-2026.C0001@corp.example>'",
        "internetMessageId eq '<spring-2026.C0001@corp.example>'",
        "internetMessageId eq '<o''brien.C0002@corp.example>'",  # OData quoting
        "internetMessageId eq '<g7@example.cn>'",
    ]

    graph.throttle(1, 429, "1", match="sentitems")  # a read: waited for and asked again
    assert box.was_sent("<spring-2026.C0001@corp.example>") is True
    # What a run saving drafts asks after a kill: Drafts, not Sent Items.
    assert box.was_drafted("<o'brien.C0002@corp.example>") is True
    assert box.was_drafted("<spring-2026.C0001@corp.example>") is False  # sent, not a draft


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [(429, "120", 120.0), (503, "30", 30.0), (504, None, None)],
)
def test_throttled_or_busy_sending_is_temporary_with_graphs_retry_after(
    graph: GraphServer, status: int, retry_after: str | None, expected: float | None
) -> None:
    box = mailbox(retry=RetryPolicy(attempts=2, max_wait=60))
    graph.throttle(5, status, retry_after, match="sendMail")
    with pytest.raises(MailboxError) as err:
        box.send(message(40))
    assert f"{status} " in str(err.value)
    assert (err.value.temporary, err.value.retry_after) == (True, expected)
    assert graph.store.outbox == []


def test_a_refused_send_is_not_temporary(graph: GraphServer, graph_env: pytest.MonkeyPatch) -> None:
    graph_env.setenv("XLCRM_GRAPH_TOKEN", graph.login.issue(allowed=False))
    box = mailbox()
    with pytest.raises(MailboxError) as err:
        box.send(message(41))
    assert "not allowed" in str(err.value) and "ErrorAccessDenied" in str(err.value)
    assert (err.value.temporary, err.value.retry_after) == (False, None)
