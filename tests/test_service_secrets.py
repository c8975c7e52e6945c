"""Issue 13, the service's secrets and paths: a password serves the one mailbox it was stored
for, the service opens only mailboxes it was set up for, and templates are names.

A forged request names fake IMAP and SMTP servers on loopback (:mod:`servers.recorder`, which
record every byte); the assertions are on what reached them — nothing at all — and on the
answer the add-in shows. The keyring is a real ``keyring`` backend kept in memory (there is no
desktop keyring here); the service runs in this process, so it sees the same one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from addin_client import AddinClient, ServiceFailed, running_service
from keyrings import MemoryKeyring
from officehost import OfficeHost
from servers.recorder import Recorder
from servers.tcp_cut import free_port

from addin.init import create_workbook
from addin.service import ServiceConfig
from addin.settings import write_settings
from addin.workbook import open_book
from sync import secrets

SERVICE_PASSWORD = "the-service's-XLCRM_PASSWORD"
NOT_SET_UP = "this xlcrm service is not set up for the"


@pytest.fixture
def ring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    store = MemoryKeyring()
    keyring.set_keyring(store)
    monkeypatch.setenv("XLCRM_PASSWORD", SERVICE_PASSWORD)
    yield store
    keyring.set_keyring(previous)


@pytest.fixture
def imap() -> Iterator[Recorder]:
    with Recorder("imap") as server:
        yield server


@pytest.fixture
def imap2() -> Iterator[Recorder]:
    with Recorder("imap") as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[Recorder]:
    with Recorder("smtp") as server:
        yield server


def workbook(path: Path, **settings: str) -> OfficeHost:
    create_workbook(path, "en")
    with open_book(path) as book:
        book.table("customers").insert_all(
            [
                {"name": "王伟", "company": "上海华东贸易有限公司", "email": "wang@hd.cn"},
                {"name": "Ann Lee", "company": "Northwind", "email": "ann@northwind.com"},
            ]
        )
        write_settings(
            book, {"sender": "Star <sales@ours.cn>", "company_name": "Star Software", **settings}
        )
    return OfficeHost.from_xlsx(path)


def failure(url: str, host: OfficeHost, command: str, options: dict | None = None) -> ServiceFailed:
    with pytest.raises(ServiceFailed) as failed:
        AddinClient(url, host).run(command, options)
    return failed.value


def nothing_reached(*servers: Recorder) -> None:
    for server in servers:
        assert server.connections == 0
        assert bytes(server.received) == b""  # so no LOGIN, AUTH, password or DATA


# -- a forged request -----------------------------------------------------------------------


def test_a_forged_request_reaches_no_mail_server_and_learns_nothing(
    tmp_path: Path, ring: MemoryKeyring, imap: Recorder, smtp: Recorder
) -> None:
    """The service was started for the company's mailbox; a request whose Settings name
    other servers gets one 400 before any connection — the same one for a listening fake
    server, a closed port and an unresolvable host — and the servers see not a byte."""
    config = ServiceConfig(
        mailboxes=("imaps://sales@imap.corp.cn",), transports=("smtps://sales@smtp.corp.cn",)
    )
    closed = free_port()
    with running_service(config) as url:
        answers = []
        for n, mailbox in enumerate(
            (
                f"imap://victim@{imap.url_host}",
                f"imap://victim@127.0.0.1:{closed}",
                "imaps://victim@no-such-host.invalid",
                f"imap://sales@{imap.url_host}",  # the company's user, another server
            )
        ):
            host = workbook(tmp_path / f"sync{n}.xlsx", mailbox=mailbox)
            state = host.state()
            failed = failure(url, host, "sync")
            answers.append((failed.status, failed.error))
            assert host.state() == state
        assert all(answer == answers[0] for answer in answers)
        status, error = answers[0]
        assert status == 400 and error["kind"] == "input"
        assert error["where"].startswith("Settings!B")
        assert error["message"].startswith(f"{NOT_SET_UP} mailbox in the Settings sheet")
        assert "--mailbox URL" in error["hint"]

        host = workbook(tmp_path / "send.xlsx", transport=f"smtp://victim@{smtp.url_host}")
        campaign = {"template": "emails/welcome", "name": "forged"}
        test = failure(url, host, "campaign", {"step": "test", "test_to": "x@evil.cn", **campaign})
        send = failure(url, host, "campaign", {"step": "send", **campaign})
        for failed in (test, send):
            assert failed.status == 400
            assert failed.error["message"].startswith(NOT_SET_UP)
        assert SERVICE_PASSWORD not in json.dumps([answers, test.error, send.error])
    nothing_reached(imap, smtp)


def test_a_local_service_reads_only_the_mail_folders_it_was_started_with(
    tmp_path: Path, ring: MemoryKeyring
) -> None:
    """``maildir:`` of any path on the user's disk (the DNS-rebinding read of issue 13) is
    refused the same way whether the folder exists or not."""
    (tmp_path / "Maildir" / "cur").mkdir(parents=True)
    with running_service(ServiceConfig()) as url:
        there = failure(
            url, workbook(tmp_path / "a.xlsx", mailbox=f"maildir:{tmp_path}/Maildir"), "sync"
        )
        missing = failure(url, workbook(tmp_path / "b.xlsx", mailbox="maildir:/nowhere"), "sync")
    assert there.status == missing.status == 400
    assert there.error == missing.error


# -- a password belongs to one mailbox ------------------------------------------------------


def test_a_stored_password_is_used_for_its_own_mailbox_and_no_other(
    tmp_path: Path, ring: MemoryKeyring, imap: Recorder, imap2: Recorder
) -> None:
    """Stored for imap://alice@127.0.0.1:<port>: offered there (spelled differently too), and
    neither to another user, another port nor another host name. XLCRM_PASSWORD is set, but
    the service was not started with these URLs, so it is used for none of them."""
    secrets.store(f"imap://alice@{imap.url_host}", "alice's password")
    with running_service(ServiceConfig()) as url:
        for n, mailbox in enumerate(
            (f"imap://alice@{imap.url_host}", f"IMAP://alice@127.0.0.1:{imap.port}/")
        ):
            failed = failure(url, workbook(tmp_path / f"own{n}.xlsx", mailbox=mailbox), "sync")
            assert "login failed for alice" in failed.error["message"]  # the fake refuses it
            assert "alice's password" not in json.dumps(failed.error)
        for n, other in enumerate(
            (
                f"imap://bob@{imap.url_host}",  # another user
                f"imap://alice@{imap2.url_host}",  # another port
                f"imap://alice@localhost:{imap.port}",  # another host name
                f"imaps://alice@{imap.url_host}",  # another scheme
            )
        ):
            failed = failure(url, workbook(tmp_path / f"other{n}.xlsx", mailbox=other), "sync")
            assert failed.error["message"].startswith(NOT_SET_UP)
    assert imap.logins() == [("alice", "alice's password")] * 2
    assert SERVICE_PASSWORD.encode() not in bytes(imap.received)
    nothing_reached(imap2)


def test_the_environment_password_serves_only_the_urls_the_service_was_started_with(
    tmp_path: Path, ring: MemoryKeyring, imap: Recorder, imap2: Recorder, smtp: Recorder
) -> None:
    """``xlcrm serve --mailbox A --transport T`` with XLCRM_PASSWORD: A and T get it; B,
    which has its own stored password, gets that one, never the environment's."""
    secrets.store(f"imap://dave@{imap2.url_host}", "dave's password")
    config = ServiceConfig(
        mailboxes=(f"imap://carol@{imap.url_host}",),
        transports=(f"smtp://carol@{smtp.url_host}",),
    )
    with running_service(config) as url:
        failure(url, workbook(tmp_path / "a.xlsx", mailbox=f"imap://carol@{imap.url_host}"), "sync")
        failure(url, workbook(tmp_path / "b.xlsx", mailbox=f"imap://dave@{imap2.url_host}"), "sync")
        host = workbook(tmp_path / "t.xlsx", transport=f"smtp://carol@{smtp.url_host}")
        test = {"step": "test", "template": "emails/welcome", "name": "t", "test_to": "me@ours.cn"}
        failed = failure(url, host, "campaign", test)
    assert "login failed for carol" in failed.error["message"]
    assert imap.logins() == [("carol", SERVICE_PASSWORD)]
    assert imap2.logins() == [("dave", "dave's password")]
    assert smtp.logins() == [("carol", SERVICE_PASSWORD)]
    assert b"DATA" not in bytes(smtp.received) and b"RCPT" not in bytes(smtp.received)


def test_the_settings_pane_stores_a_password_for_the_normalised_url(
    tmp_path: Path, ring: MemoryKeyring
) -> None:
    with running_service(ServiceConfig()) as url:
        client = AddinClient(url, workbook(tmp_path / "crm.xlsx"))
        client.run("secret", {"url": "IMAPS://Me@Imap.Corp.CN:993/", "secret": "pw"})
        local = failure(
            url, workbook(tmp_path / "l.xlsx"), "secret", {"url": "maildir:/x", "secret": "pw"}
        )
    assert ring.items == {("xlcrm", "imaps://Me@imap.corp.cn"): "pw"}
    assert local.status == 400 and "local mail folders have no password" in local.error["message"]


def test_the_settings_pane_shows_a_password_only_where_the_service_has_one(
    tmp_path: Path, ring: MemoryKeyring
) -> None:
    """XLCRM_PASSWORD is set (the ``ring`` fixture), but only for the service's --transport:
    the mailbox without a stored password is shown as missing, not as stored."""
    secrets.store("imaps://me@imap.corp.cn", "pw")
    settings = {
        "mailbox": "imaps://me@imap.corp.cn:993",
        "support_mailbox": "imaps://help@imap.corp.cn",
        "transport": "smtps://me@smtp.corp.cn",
    }
    config = ServiceConfig(transports=("smtps://me@smtp.corp.cn:465",))
    with running_service(config) as url:
        got = AddinClient(url, workbook(tmp_path / "crm.xlsx", **settings)).run("settings")
    assert got.result["secrets"] == {
        "imaps://me@imap.corp.cn:993": True,
        "imaps://help@imap.corp.cn": False,
        "smtps://me@smtp.corp.cn": True,
    }


# -- templates are names --------------------------------------------------------------------


def own_templates(root: Path) -> Path:
    folder = root / "company-templates" / "emails" / "autumn"
    folder.mkdir(parents=True)
    (folder / "en.html").write_text(
        "---\nsubject: Autumn news for {{ customer.name }}\n---\n"
        "<p>Hello {{ customer.name }}</p>\n",
        encoding="utf-8",
    )
    return root / "company-templates"


def test_a_request_names_templates_and_never_learns_what_exists_on_disk(tmp_path: Path) -> None:
    """Names in the service's template folder and the shipped ones work; paths (existing or
    not, absolute or with ``..``) get the same answer as a name that does not exist, and no
    file's content comes back."""
    folder = own_templates(tmp_path)
    secret_dir = tmp_path / "private" / "emails" / "hr"
    secret_dir.mkdir(parents=True)
    (secret_dir / "en.html").write_text("---\nsubject: salaries\n---\nSALARIES", encoding="utf-8")
    host = workbook(tmp_path / "crm.xlsx")
    with running_service(ServiceConfig(template_dirs=(folder,))) as url:
        client = AddinClient(url, host)
        listed = [
            t["name"] for t in client.run("campaign", {"step": "templates"}).result["templates"]
        ]
        assert "emails/autumn" in listed and "emails/welcome" in listed
        for name in ("emails/autumn", "autumn", "emails/welcome"):
            preview = client.run("campaign", {"step": "preview", "template": name, "name": "p"})
            assert preview.result["would_send"] == 2
        answers = {}
        for name in (
            str(secret_dir),  # exists
            str(tmp_path / "private" / "emails" / "gone"),  # does not
            "../private/emails/hr",
            "emails/../../private/emails/hr",
            "emails\\..\\..\\private\\emails\\hr",
            "C:hr",
            "no-such-template",
        ):
            failed = failure(
                url, host, "campaign", {"step": "preview", "template": name, "name": "p"}
            )
            assert failed.status == 400
            assert failed.error["message"] == f"no email template {name!r}"
            answers[name] = failed.error["hint"]
            assert "SALARIES" not in json.dumps(failed.error) and "salaries" not in json.dumps(
                failed.error
            )
        assert len(set(answers.values())) == 1


def test_a_contract_template_path_is_no_file_existence_oracle(tmp_path: Path) -> None:
    from addin.templating import builtin_root

    shipped = next((builtin_root() / "contracts").glob("*.docx"))
    path = tmp_path / "crm.xlsx"
    create_workbook(path, "en")
    with open_book(path) as book:
        book.table("customers").insert_all([{"name": "Ann", "company": "N", "email": "a@n.com"}])
        book.table("deals").insert_all([{"customer_id": "C0001", "title": "Deal", "amount": 100}])
    host = OfficeHost.from_xlsx(path)
    with running_service(ServiceConfig()) as url:
        answers = []
        for name in (str(shipped), str(tmp_path / "missing.docx"), "/etc/passwd", "../x"):
            failed = failure(url, host, "contract", {"template": name, "deal_ids": ["D0001"]})
            assert failed.status == 400
            assert failed.error["message"] == f"no contract template {name!r}"
            answers.append(failed.error["hint"])
    assert len(set(answers)) == 1
