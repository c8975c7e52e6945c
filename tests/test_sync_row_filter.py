"""Sync mail's row filter: the record call posts only the interactions its new mail names.

A real service on loopback, the add-in's protocol spoken by the Office host stand-in (Excel
cannot run here; ``excel-read.js`` applies the same filter, tested in tests/js/read.test.js).
What a user must see is what the command line's sync of the same file gives: a message
already recorded is not recorded again, a reply is linked through its thread although the
thread's row was never posted, and new rows get new ids above an id the service never saw.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from addin_client import AddinClient, ServiceFailed, running_service
from books import blank_workbook
from maildirs import T0, Mail, mail
from officehost import OfficeHost

from addin.mailsync import sync_mailbox
from addin.remote.protocol import filter_key
from addin.service import ServiceConfig
from addin.settings import write_settings
from addin.workbook import open_book
from sync.message import normalise_message_id
from sync.open import open_mailbox

HISTORY = 600  # interactions already in the workbook


@pytest.fixture
def serve() -> Iterator[Callable[[ServiceConfig], str]]:
    with ExitStack() as stack:
        yield lambda config: stack.enter_context(running_service(config))


def history_book(path: Path, box: Mail) -> Path:
    """Three customers, Ann's open deal, and ``HISTORY`` recorded emails. The sheet is sorted
    newest first, as users sort it: the highest id, I0900, is in the first row, and the
    thread of Ann's deal somewhere in the middle."""
    blank_workbook(path, "en")
    with open_book(path) as book:
        book.table("customers").insert_all(
            [
                {"name": "王伟", "company": "华东贸易", "email": "wang@hd.cn"},
                {"name": "Ann Lee", "company": "Northwind", "email": "ann@northwind.com"},
                {"name": "李娜", "company": "深圳电子", "email": "lina@szdz.cn"},
            ]
        )
        book.table("deals").insert(
            {"customer_id": "C0002", "title": "Renewal", "stage": "Proposal"}
        )
        history = [
            {
                "id": f"I{900 - n:04d}",
                "customer_id": ("C0001", "C0003")[n % 2],
                "kind": "email",
                "direction": "in",
                "at": dt.datetime(2024, 1, 1) + dt.timedelta(hours=n),
                "subject": f"old {n}",
                "message_id": f"<Old{n}@hist.cn>",  # as a user might have typed or pasted it
                "thread_id": f"old{n}@hist.cn",
            }
            for n in range(HISTORY)
        ]
        history[HISTORY // 2].update(
            customer_id="C0002", deal_id="D0001", message_id="t1@nw.com", thread_id="t1@nw.com"
        )
        book.table("interactions").insert_all(history)
        write_settings(book, {"mailbox": box.url})
        book.save()
    return path


def new_mail(box: Mail) -> None:
    """One message recorded before, a reply to Ann's thread from an address nobody knows,
    and a new message from 王伟."""
    box.receive(mail("wang@hd.cn", "me@ours.cn", "old 7, again", ident="OLD7@hist.cn"))
    box.receive(
        mail(
            "Ann's assistant <assist@mail.example>",
            "me@ours.cn",
            "Re: Renewal",
            ident="r1@mail.example",
            reply_to_id="t1@nw.com",
            at=T0 + dt.timedelta(hours=1),
        )
    )
    box.receive(
        mail("wang@hd.cn", "me@ours.cn", "报价", ident="n1@hd.cn", at=T0 + dt.timedelta(hours=2))
    )


def rows(host: OfficeHost, table: str) -> list[dict]:
    from backends import RemoteBackend

    backend = RemoteBackend()
    backend.hosts[Path("host")] = host
    with backend.open(Path("host")) as book:
        return list(book.table(table).rows())


def cli_twin(path: Path, box: Mail) -> list[dict]:
    """The interactions the command line's sync of the same file records."""
    with open_book(path) as book:
        sync_mailbox(book, open_mailbox(box.url))
        return list(book.table("interactions").rows())


def test_the_record_call_posts_only_the_interactions_the_new_mail_names(
    tmp_path: Path, serve: Callable[[ServiceConfig], str]
) -> None:
    box = Mail(tmp_path / "mail", "me@ours.cn")
    path = history_book(tmp_path / "crm.xlsx", box)
    twin = tmp_path / "twin.xlsx"
    twin.write_bytes(path.read_bytes())
    new_mail(box)
    host = OfficeHost.from_xlsx(path)
    client = AddinClient(serve(ServiceConfig(mailboxes=(box.url,))), host)

    probe = client.run("sync", calls=1)
    record = probe.answers[0]["next"]
    assert record["phase"] == "record"
    assert set(record["threads"]) == {"old7@hist.cn", "r1@mail.example", "t1@nw.com", "n1@hd.cn"}
    plan = client.post("/api/v1/plan", host.request("sync", record))
    posted = host.read(plan["reads"])["interactions"]
    assert len(posted["rows"]) == 2  # of 600: the recorded message and the thread's first
    assert posted["highest_id"] == "I0900"

    done = client.run("sync", record)
    assert [a["status"] for a in done.answers] == ["done"]
    assert done.result["new"] == 2
    got = rows(host, "interactions")
    assert len(got) == HISTORY + 2
    new = {r["message_id"]: r for r in got[HISTORY:]}
    assert new["r1@mail.example"]["customer_id"] == "C0002"  # by its thread
    assert new["r1@mail.example"]["deal_id"] == "D0001"
    assert new["n1@hd.cn"]["customer_id"] == "C0001"
    assert sorted(r["id"] for r in new.values()) == ["I000901", "I000902"]
    assert [(r["id"], r["customer_id"], r["deal_id"], r["message_id"]) for r in got] == [
        (r["id"], r["customer_id"], r["deal_id"], r["message_id"]) for r in cli_twin(twin, box)
    ]


def test_mail_that_arrives_after_the_probe_is_read_with_its_own_rows(
    tmp_path: Path, serve: Callable[[ServiceConfig], str]
) -> None:
    """A message the probe did not see names keys whose rows were not posted: the record call
    records nothing and asks again with them, so the copy of a recorded message that came in
    meanwhile is still recognised."""
    box = Mail(tmp_path / "mail", "me@ours.cn")
    path = history_book(tmp_path / "crm.xlsx", box)
    box.receive(mail("wang@hd.cn", "me@ours.cn", "报价", ident="n1@hd.cn"))
    host = OfficeHost.from_xlsx(path)
    client = AddinClient(serve(ServiceConfig(mailboxes=(box.url,))), host)

    probe = client.run("sync", calls=1)
    assert probe.answers[0]["next"]["threads"] == ["n1@hd.cn"]
    box.receive(mail("lina@szdz.cn", "me@ours.cn", "old 11, again", ident="old11@hist.cn"))

    rest = client.run("sync", probe.answers[0]["next"])
    assert [a["status"] for a in rest.answers] == ["more", "done"]
    assert not rest.answers[0].get("actions")  # nothing written on the first try
    assert "old11@hist.cn" in rest.answers[0]["next"]["threads"]
    assert rest.result["new"] == 1
    assert rest.result["skipped"]["recorded"] == 1
    got = rows(host, "interactions")
    assert [r["message_id"] for r in got[HISTORY:]] == ["n1@hd.cn"]


def test_posted_places_that_do_not_fit_the_table_are_refused(
    tmp_path: Path, serve: Callable[[ServiceConfig], str]
) -> None:
    box = Mail(tmp_path / "mail", "me@ours.cn")
    path = history_book(tmp_path / "crm.xlsx", box)
    box.receive(mail("wang@hd.cn", "me@ours.cn", "old 3, again", ident="old3@hist.cn"))
    host = OfficeHost.from_xlsx(path)
    client = AddinClient(serve(ServiceConfig(mailboxes=(box.url,))), host)
    record = client.run("sync", calls=1).answers[0]["next"]
    request = host.request("sync", record)
    tables = host.read(client.post("/api/v1/plan", request)["reads"])
    assert tables["interactions"]["rows_at"] == [3]
    tables["interactions"]["rows_at"] = [HISTORY + 5]  # below the table's last row

    with pytest.raises(ServiceFailed) as failed:
        client.post("/api/v1/run", {**request, "tables": tables})
    assert failed.value.status == 400
    assert failed.value.error["message"] == "the posted rows do not fit the table's range"
    assert len(rows(host, "interactions")) == HISTORY


@pytest.mark.parametrize(
    "cell",
    [
        "<AbC@Example.COM>",
        "  abc@example.com ",
        "In reply to <abc@example.com> (Ann)",
        "<abc@exa\tmple.com",
        "abc @ example.com",
        "<a@b><c@d>",
        "sha256:ABCDEF",
        "<KELVIN\u212a@x.cn>",
        "中文@例子.cn",
        "a\u3000b@c\u2028d",
    ],
)
def test_the_filter_keeps_every_cell_sync_would_match(cell: str) -> None:
    """The client's comparison (``filter_key``, mirrored by excel-read.js) gives the key sync
    compares (``normalise_message_id``) wherever sync finds one: a row is never left out."""
    ident = cell.strip().lower() if cell.startswith("sha256:") else normalise_message_id(cell)
    if ident is not None:
        assert filter_key(cell) == ident
