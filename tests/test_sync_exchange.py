"""``xlcrm sync`` end to end against Exchange: our EWS server (exchangelib, NTLM) and our
Graph server (httpx), both on loopback and speaking the real protocols.

The backends have their own tests (test_ews.py, test_graph.py); these check what a person
running the command sees: GBK mail recorded once, inbox and sent items both read, only read
requests sent to the server, and a wrong password or token ending in exit 1 with the
workbook untouched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CrmBook
from servers.ews import EwsServer
from servers.graph import GraphServer

from addin.cli import cli
from addin.workbook import open_book

MAIL = Path(__file__).parent / "data" / "mail"
READS = {"GetFolder", "FindFolder", "SyncFolderItems", "GetItem"}


def sample(name: str) -> bytes:
    return (MAIL / name).read_bytes()


def outgoing(sender: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: 张喆 <zhang.zhe@example.cn>\r\nSubject: 合同已寄出\r\n"
        "Date: Wed, 04 Mar 2026 09:00:00 +0800\r\nMessage-ID: <out.1@corp.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n合同今天寄出。\r\n"
    ).encode()


@pytest.fixture
def book(crm_book: CrmBook) -> Path:
    return crm_book(
        customers=[
            {"name": "张喆", "email": "zhang.zhe@example.cn"},
            {"name": "欧阳晓明", "email": "ouyang@example.cn"},
        ]
    )


def sync(book: Path, url: str, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["sync", str(book), "--mailbox", url, "--json", *extra])
    return result.exit_code, result.output


def recorded(book: Path) -> list[tuple[str, str, str]]:
    with open_book(book) as wb:
        rows = wb.table("interactions").rows()
        return sorted((r["customer_id"], r["direction"], r["subject"]) for r in rows)


EXPECTED = [
    ("C0001", "in", "喆镕贸易：样品寄送确认"),
    ("C0001", "out", "合同已寄出"),
    ("C0002", "in", "关于下季度订单的安排"),
]


# ---- Exchange on-premises (EWS) ---------------------------------------------------------------


@pytest.fixture
def filled_ews(ews: EwsServer) -> EwsServer:
    ews.add_message("inbox", sample("gb2312_label_gbk_body.eml"))
    ews.add_message("inbox", sample("gbk_subject_split_words.eml"))
    ews.add_message("sentitems", outgoing(EwsServer.address))
    return ews


def test_sync_over_ews_records_inbox_and_sent_items_once_and_only_reads(
    filled_ews: EwsServer, book: Path
) -> None:
    code, output = sync(book, filled_ews.url())
    assert code == 0, output
    report = json.loads(output)
    assert (report["new"], report["mailbox"]) == (3, EwsServer.address)
    assert recorded(book) == EXPECTED
    code, output = sync(book, filled_ews.url())
    assert code == 0 and json.loads(output)["fetched"] == 0
    assert set(filled_ews.operation_names()) <= READS
    assert not any(item.is_read for item in filled_ews.store.items.values())


def test_a_wrong_ews_password_is_exit_1_and_the_workbook_is_untouched(
    filled_ews: EwsServer, book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLCRM_PASSWORD", "not-the-password")
    before = book.read_bytes()
    code, output = sync(book, filled_ews.url())
    assert code == 1
    assert "login failed" in output and "not-the-password" not in output
    assert book.read_bytes() == before


# ---- Exchange Online (Microsoft Graph) --------------------------------------------------------


@pytest.fixture
def filled_graph(graph: GraphServer) -> GraphServer:
    graph.store.deliver("inbox", sample("gb2312_label_gbk_body.eml"))
    graph.store.deliver("inbox", sample("gbk_subject_split_words.eml"))
    graph.store.deliver("sentitems", outgoing("li@contoso.onmicrosoft.com"))
    return graph


GRAPH_URL = "graph://li@contoso.onmicrosoft.com"


def test_sync_over_graph_records_inbox_and_sent_items_once_and_only_reads(
    filled_graph: GraphServer, book: Path
) -> None:
    code, output = sync(book, GRAPH_URL)
    assert code == 0, output
    assert json.loads(output)["new"] == 3
    assert recorded(book) == EXPECTED
    code, output = sync(book, GRAPH_URL)
    assert code == 0 and json.loads(output)["fetched"] == 0
    assert {r.method for r in filled_graph.api_requests()} == {"GET"}


def test_an_expired_graph_token_is_exit_1_and_the_workbook_is_untouched(
    filled_graph: GraphServer, book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLCRM_GRAPH_TOKEN", "expired-token-value")
    before = book.read_bytes()
    code, output = sync(book, GRAPH_URL)
    assert code == 1
    assert output.startswith(f"xlcrm: {GRAPH_URL}: ")
    assert "expired-token-value" not in output
    assert book.read_bytes() == before
