"""``xlcrm sync`` end to end against a real IMAP server: Debian's Dovecot on loopback.

What a person running a scheduled sync relies on, checked through the command line: GBK mail
from the committed samples recorded as interactions, nothing recorded twice, \\Seen flags on
the server untouched, a wrong password failing cleanly (exit 1), and a connection that drops
mid-sync leaving the workbook exactly as it was, with the next run completing.
"""

from __future__ import annotations

import itertools
import ssl
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from conftest import CrmBook
from imapclient import IMAPClient
from servers.dovecot import Dovecot
from servers.tcp_cut import HOST, Certificate, TcpCut

from addin.cli import cli
from addin.workbook import open_book

SAMPLES = Path(__file__).parent / "data" / "mail"
_users = itertools.count(1)


class Account:
    """A fresh Dovecot account, filled and inspected through a second connection."""

    def __init__(self, dovecot: Dovecot, ca: Path) -> None:
        self.user = f"sync{next(_users)}@ourco.cn"
        self.password = "密码-Zq8"  # non-ASCII on purpose
        dovecot.add_user(self.user, self.password)
        self.port = dovecot.imap_port
        self.ca = ca

    def url(self, port: int | None = None) -> str:
        return f"imap://{quote(self.user, safe='')}@{HOST}:{port or self.port}"

    def client(self) -> IMAPClient:
        context = ssl.create_default_context(cafile=str(self.ca))
        client = IMAPClient(HOST, self.port, ssl=False)
        client.starttls(context)
        client.plain_login(self.user, self.password)  # LOGIN is ASCII-only in imaplib
        return client

    def append(self, folder: str, data: bytes, *, seen: bool = False) -> None:
        with self.client() as client:
            client.append(folder, data, flags=(b"\\Seen",) if seen else ())

    def flags(self) -> dict[str, dict[int, set[bytes]]]:
        out = {}
        with self.client() as client:
            for folder in ("INBOX", "已发送"):
                client.select_folder(folder, readonly=True)
                found = client.get_flags(client.search("ALL"))
                out[folder] = {uid: set(f) - {b"\\Recent"} for uid, f in found.items()}
        return out


@pytest.fixture
def account(dovecot: Dovecot, certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> Account:
    found = Account(dovecot, certificate.ca)
    monkeypatch.setenv("XLCRM_PASSWORD", found.password)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.ca))
    return found


@pytest.fixture
def book(crm_book: CrmBook) -> Path:
    """Customers who wrote the committed GBK / GB2312 samples."""
    return crm_book(
        lang="zh",
        customers=[
            {"name": "张喆", "email": "zhang.zhe@example.cn"},
            {"name": "欧阳晓明", "email": "ouyang@example.cn"},
            {"name": "Chen Jing", "email": "chen.jing@example.cn"},
        ],
    )


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def sync(book: Path, url: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["sync", str(book), "--mailbox", url, "--json"])
    return result.exit_code, result.output


@pytest.fixture
def filled(account: Account) -> Account:
    account.append("INBOX", sample("gbk_subject_split_words.eml"))
    account.append("INBOX", sample("gb2312_label_gbk_body.eml"), seen=True)
    account.append("INBOX", sample("x_gbk_label.eml"))
    return account


def interactions(book: Path) -> list[dict[str, object]]:
    with open_book(book) as wb:
        return list(wb.table("interactions").rows())


def test_sync_records_gbk_mail_once_and_leaves_flags_alone(filled: Account, book: Path) -> None:
    before = filled.flags()
    code, output = sync(book, filled.url())
    assert code == 0, output
    rows = interactions(book)
    assert {r["customer_id"] for r in rows} == {"C0001", "C0002", "C0003"}
    subjects = {r["subject"] for r in rows}
    assert "关于下季度订单的安排" in subjects  # GBK split across encoded-words, joined
    assert all(r["direction"] == "in" and r["mailbox"] == filled.user for r in rows)
    assert filled.flags() == before  # nothing marked \\Seen, nothing moved

    code, output = sync(book, filled.url())
    assert code == 0 and '"new": 0' in output
    filled.append("已发送", sample("netease_reply_xiedao.eml"))
    code, output = sync(book, filled.url())
    assert code == 0 and '"folders": {\n    "INBOX": 0,\n    "已发送": 1\n  }' in output
    assert len(interactions(book)) <= len(rows) + 1


def test_a_wrong_password_fails_with_exit_1_and_writes_nothing(
    filled: Account, book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLCRM_PASSWORD", "wrong-密码")
    before = book.read_bytes()
    code, output = sync(book, filled.url())
    assert code == 1
    assert output.startswith(f"xlcrm: {filled.url()}: ")
    assert "login failed" in output.lower() and "XLCRM_PASSWORD" in output
    assert "wrong-密码" not in output
    assert book.read_bytes() == before


@pytest.fixture
def proxy(account: Account) -> Iterator[TcpCut]:
    cut = TcpCut(HOST, account.port)
    yield cut
    cut.close()


def test_a_dropped_connection_writes_nothing_and_the_next_run_completes(
    filled: Account, book: Path, proxy: TcpCut
) -> None:
    big = sample("attachment_names.eml")
    for _ in range(20):
        filled.append("INBOX", big)  # 20 copies: one interaction, 19 already recorded
    before = book.read_bytes()
    proxy.cut(after=40_000)  # past login and listing, in the middle of fetching
    code, output = sync(book, filled.url(proxy.port))
    assert code == 1, output
    assert proxy.cuts >= 1
    assert output.startswith(f"xlcrm: {filled.url(proxy.port)}: ")
    assert book.read_bytes() == before  # nothing half-written

    proxy.cut(after=10**12)  # the network is back
    code, output = sync(book, filled.url(proxy.port))
    assert code == 0, output
    assert '"fetched": 23' in output
    rows = interactions(book)
    assert len(rows) == 4  # the three samples, and the twenty copies once
    assert sum(r["attachments"] is not None for r in rows) == 1
