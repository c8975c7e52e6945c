"""The xlcrm service over real HTTP, driven as the Excel add-in drives it.

Each test builds a workbook file, loads it into the Office host stand-in (Excel cannot run
here), runs ribbon commands through a real uvicorn on loopback, and checks what a user sees:
the rows in the workbook, the files offered, the mail that arrived, the errors shown. Where a
command also exists on the command line, the same work on the file must give the same rows.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import gzip
import json
import re
import tempfile
from collections.abc import Callable, Iterator
from email.utils import parseaddr
from pathlib import Path

import httpx
import keyring
import pytest
from addin_client import CLIENT_HEADERS, TOKEN, AddinClient, ServiceFailed, running_service
from books import blank_workbook, built_once
from keyrings import MemoryKeyring
from maildirs import T0, Mail, mail
from officehost import OfficeHost
from pipeline_books import make_crm, received, smtp_url

from addin.mailsync import sync_mailbox
from addin.remote.protocol import json_schema
from addin.service import ServiceConfig
from addin.settings import write_settings
from addin.workbook import open_book
from sync.open import open_mailbox

ROOT = Path(__file__).resolve().parents[1]
# What the add-in sends on every API call besides its body.
ADDIN = {**CLIENT_HEADERS, "Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with running_service() as url:
        yield url


@pytest.fixture
def serve() -> Iterator[Callable[[ServiceConfig], str]]:
    """Start a service set up as ``xlcrm serve --mailbox … --transport …`` would be; the
    base URL. (Sending or syncing needs a service started for that mailbox: docs/secrets.md.)"""
    with contextlib.ExitStack() as stack:
        yield lambda config: stack.enter_context(running_service(config))


@built_once
def customers_book(path: Path, lang: str = "en", **settings: str) -> Path:
    blank_workbook(path, lang)
    with open_book(path) as book:
        book.table("customers").insert_all(
            [
                {"name": "王伟", "company": "上海华东贸易有限公司", "email": "wang@hd.cn"},
                {"name": "Ann Lee", "company": "Northwind", "email": "ann@northwind.com"},
                {"name": "李娜", "company": "深圳电子", "email": "lina@szdz.cn", "tier": "A"},
            ]
        )
        if settings:
            write_settings(book, settings)
    return path


def rows(host: OfficeHost, table: str) -> list[dict]:
    """The table as the workbook in Excel now holds it (read back through the file backend's
    twin: the same rows a user would see)."""
    from backends import RemoteBackend

    backend = RemoteBackend()
    backend.hosts[Path("host")] = host
    with backend.open(Path("host")) as book:
        return list(book.table(table).rows())


def maildir(tmp_path: Path) -> Mail:
    box = Mail(tmp_path / "mail", "me@ours.cn")
    box.receive(mail("王伟 <wang@hd.cn>", "me@ours.cn", '报价 =HYPERLINK("x")', ident="m1@hd.cn"))
    box.receive(
        mail(
            "Ann Lee <ann@northwind.com>",
            "me@ours.cn",
            "Renewal",
            ident="m2@nw.com",
            at=T0 + dt.timedelta(hours=1),
        )
    )
    box.receive(mail("stranger@else.org", "me@ours.cn", "Hi", ident="m3@else.org"))
    return box


# -- sync --------------------------------------------------------------------------------------


def test_sync_mail_records_what_the_cli_records_and_then_finds_nothing_new(
    tmp_path: Path, serve: Callable[[ServiceConfig], str]
) -> None:
    box = maildir(tmp_path)
    path = customers_book(tmp_path / "crm.xlsx", "zh", mailbox=box.url)
    twin = tmp_path / "twin.xlsx"
    twin.write_bytes(path.read_bytes())
    host = OfficeHost.from_xlsx(path)
    client = AddinClient(serve(ServiceConfig(mailboxes=(box.url,))), host)  # --mailbox URL

    first = client.run("sync")
    assert [a["status"] for a in first.answers] == ["more", "done"]
    assert first.tables_read[0] == {"settings"}  # asking the mailbox needs only the settings
    assert {"customers", "interactions"} <= first.tables_read[1]
    recorded = rows(host, "interactions")
    assert {r["subject"] for r in recorded} == {'报价 =HYPERLINK("x")', "Renewal"}
    assert host.sheets["_xlcrm"].visibility == "VeryHidden"

    with open_book(twin) as book:
        sync_mailbox(book, open_mailbox(box.url))
    with open_book(twin) as book:
        expected = list(book.table("interactions").rows())
    assert [(r["customer_id"], r["subject"], r["message_id"]) for r in recorded] == [
        (r["customer_id"], r["subject"], r["message_id"]) for r in expected
    ]

    again = client.run("sync")
    assert [a["status"] for a in again.answers] == ["done"]
    assert "no new mail" in again.result["summary"]
    assert again.tables_read == [{"settings"}]
    assert len(rows(host, "interactions")) == 2


def test_sync_mail_reads_only_the_columns_it_uses_and_writes_no_other(
    tmp_path: Path, serve: Callable[[ServiceConfig], str]
) -> None:
    """The record call posts customers' addresses, companies and the flags sync may change —
    no names, phones or notes — and its answer writes nothing into the columns it did not
    read: the Customers table ends exactly as the CLI's sync of the same file leaves it."""
    box = maildir(tmp_path)
    path = tmp_path / "crm.xlsx"
    path.write_bytes(customers_book(tmp_path / "source.xlsx", "en", mailbox=box.url).read_bytes())
    with open_book(path) as book:
        customers = book.table("customers")
        for row in customers.rows():
            customers.update(
                row["id"], {"phone": "+86 21 5555", "notes": "met at the fair", "tags": "vip"}
            )
        book.save()
    twin = tmp_path / "twin.xlsx"
    twin.write_bytes(path.read_bytes())
    host = OfficeHost.from_xlsx(path)
    client = AddinClient(serve(ServiceConfig(mailboxes=(box.url,))), host)

    plan = client.post("/api/v1/plan", host.request("sync", {"phase": "record"}))
    read = plan["reads"]["customers"]
    header = [host.sheets[read["sheet"]].get(1, c) for c in range(len(read["columns"]) + 20)]
    assert {header[j] for j in read["columns"]} == {
        "ID",
        "Email",
        "Company",
        "Merged into",
        "Last contact",
        "Bounced",
        "Tags",
        "Unsubscribed",
        "Updated",
    }
    client.run("sync")

    with open_book(twin) as book:
        sync_mailbox(book, open_mailbox(box.url))
    with open_book(twin) as book:
        expected = list(book.table("customers").rows())
    got = rows(host, "customers")
    assert got == expected
    assert {r["phone"] for r in got} == {"+86 21 5555"}
    assert [r["last_contact"] is not None for r in got] == [True, True, False]


def test_sync_without_a_mailbox_setting_says_where_to_put_it(tmp_path: Path, base_url: str) -> None:
    host = OfficeHost.from_xlsx(customers_book(tmp_path / "crm.xlsx"))
    with pytest.raises(ServiceFailed) as failed:
        AddinClient(base_url, host).run("sync")
    assert failed.value.status == 400
    assert failed.value.error["kind"] == "input"
    assert failed.value.error["where"].startswith("Settings!B")
    assert "Mailbox" in failed.value.error["hint"]
    # Named by a code, so the task pane can say it in its own language (i18n.js).
    assert failed.value.error["code"] == "settings.no_mailbox"
    assert failed.value.error["params"] == {"row": "Mailbox"}


def test_a_shared_service_does_not_read_folders_on_its_own_disk(tmp_path: Path) -> None:
    box = maildir(tmp_path)
    host = OfficeHost.from_xlsx(customers_book(tmp_path / "crm.xlsx", mailbox=box.url))
    with (
        running_service(ServiceConfig(token=TOKEN, local=False)) as url,
        pytest.raises(ServiceFailed) as failed,
    ):
        AddinClient(url, host).run("sync")
    assert "own disk" in failed.value.error["message"]


# -- contracts ---------------------------------------------------------------------------------


def test_contract_for_the_selected_deal_rows_is_offered_as_a_download(
    tmp_path: Path, base_url: str
) -> None:
    path = make_crm(tmp_path / "crm.xlsx", "zh")
    host = OfficeHost.from_xlsx(path)
    deals = rows(host, "deals")
    sheet = "商机"
    host.selection = {"sheet": sheet, "address": "B2:C3"}  # rows of D0001 and D0002

    exchange = AddinClient(base_url, host).run("contract")

    generated = exchange.result["generated"]
    assert [g["deal_id"] for g in generated] == [deals[0]["id"], deals[1]["id"]]
    names = [d["name"] for d in host.downloads]
    assert names == [f for g in generated for f in g["files"]]
    assert all(n.endswith(".docx") for n in names)
    assert base64.b64decode(host.downloads[0]["data"])[:2] == b"PK"
    # The service's temporary folder never reaches the user.
    assert tempfile.gettempdir() not in exchange.result["summary"]
    assert names[0] in exchange.result["summary"]
    after = {r["id"]: r for r in rows(host, "deals")}
    assert after[deals[0]["id"]]["contract_no"] == generated[0]["contract_no"]


def test_contract_without_a_deal_selection_says_what_to_select(
    tmp_path: Path, base_url: str
) -> None:
    host = OfficeHost.from_xlsx(make_crm(tmp_path / "crm.xlsx", "en"))
    host.selection = {"sheet": "Customers", "address": "A2"}
    with pytest.raises(ServiceFailed) as failed:
        AddinClient(base_url, host).run("contract")
    assert "select one or more rows of the Deals table" in failed.value.error["message"]
    assert failed.value.error["code"] == "selection.none"
    assert failed.value.error["params"] == {"sheet": "Deals"}
    assert host.downloads == []


# -- campaigns ---------------------------------------------------------------------------------


@pytest.fixture
def campaign_url(smtp, serve) -> str:  # type: ignore[no-untyped-def]
    """A service started with the loopback SMTP server as its transport (--transport URL)."""
    return serve(ServiceConfig(transports=(smtp_url(smtp),)))  # type: ignore[no-any-return]


def campaign_crm(tmp_path: Path, base_url: str, smtp) -> tuple[OfficeHost, AddinClient]:  # type: ignore[no-untyped-def]
    """Three customers in Excel, the loopback SMTP server as the outgoing mail, a sender."""
    path = customers_book(
        tmp_path / "crm.xlsx",
        "en",
        transport=smtp_url(smtp),
        sender="Star Software <sales@ours.cn>",
        company_name="Star Software",
    )
    host = OfficeHost.from_xlsx(path)
    return host, AddinClient(base_url, host)


def test_campaign_preview_test_and_send_each_customer_once(
    tmp_path: Path, campaign_url: str, smtp
) -> None:  # type: ignore[no-untyped-def]
    host, client = campaign_crm(tmp_path, campaign_url, smtp)
    options = {"template": "emails/welcome", "name": "spring-2027"}

    listed = client.run("campaign", {"step": "templates"}).result
    assert "emails/welcome" in [t["name"] for t in listed["templates"]]
    assert listed["segments"][0]["where"] == ""

    preview = client.run("campaign", {"step": "preview", **options}).result
    assert preview["would_send"] == 3
    assert any("ann@northwind.com" in s["to"] for s in preview["samples"])
    assert any("Ann" in (s["html"] or "") for s in preview["samples"])
    assert rows(host, "sends") == []  # a preview writes nothing

    client.run("campaign", {"step": "test", "test_to": "boss@ours.cn", **options})
    assert [m["To"] for m in received(smtp)] == ["boss@ours.cn"]

    sent = client.run("campaign", {"step": "send", **options})
    assert sent.answers[-1]["status"] == "done"
    progress = [a["progress"] for a in sent.answers if a.get("progress")]
    assert progress[-1]["done"] == progress[-1]["total"] == 3
    to = sorted(parseaddr(m["To"])[1] for m in received(smtp)[1:])
    assert to == ["ann@northwind.com", "lina@szdz.cn", "wang@hd.cn"]
    assert {r["status"] for r in rows(host, "sends")} == {"sent"}
    # Each message is logged once as an outgoing e-mail, by its Message-ID: the batches read
    # only that column of Interactions.
    logged = [r for r in rows(host, "interactions") if r["direction"] == "out"]
    assert sorted(r["customer_id"] for r in logged) == ["C0001", "C0002", "C0003"]
    sent_ids = {parseaddr(m["Message-ID"])[1].strip("<>").lower() for m in received(smtp)[1:]}
    assert {r["message_id"] for r in logged} == sent_ids
    plan = client.post("/api/v1/plan", host.request("campaign", {"step": "send", **options}))
    read = plan["reads"]["interactions"]
    header = [host.sheets[read["sheet"]].get(1, j) for j in read["columns"]]
    assert header == ["ID", "Message-ID"]

    client.run("campaign", {"step": "send", **options})
    assert len(received(smtp)) == 4  # running it again sends nobody twice
    assert len([r for r in rows(host, "interactions") if r["direction"] == "out"]) == 3


def test_campaign_batch_whose_answer_is_lost_is_never_sent_again(
    tmp_path: Path, campaign_url: str, smtp
) -> None:  # type: ignore[no-untyped-def]
    host, client = campaign_crm(tmp_path, campaign_url, smtp)
    options = {"step": "send", "template": "emails/welcome", "name": "lost"}
    claim = client.run("campaign", options, calls=1)  # claims the batch; the client applies it
    assert claim.answers[-1]["status"] == "more"
    # The send call goes out, the mail is sent — and the task pane is closed before the
    # answer is applied: the workbook still says "sending".
    request = host.request("campaign", claim.answers[-1]["next"])
    plan = client.post("/api/v1/plan", request)
    client.post("/api/v1/run", {**request, "tables": host.read(plan["reads"])})
    assert len(received(smtp)) == 3

    reopened = client.run("campaign", options)
    assert reopened.answers[-1]["status"] == "done"
    assert len(received(smtp)) == 3
    sends = rows(host, "sends")
    assert {r["status"] for r in sends} == {"failed"}  # shown, never retried by itself
    assert all("may have been delivered" in r["error"] for r in sends)


def test_bad_segment_expression_is_shown_with_its_position(tmp_path: Path, base_url: str) -> None:
    host = OfficeHost.from_xlsx(customers_book(tmp_path / "crm.xlsx"))
    with pytest.raises(ServiceFailed) as failed:
        AddinClient(base_url, host).run(
            "campaign",
            {"step": "preview", "template": "emails/welcome", "name": "x", "where": "tier == "},
        )
    assert failed.value.status == 400
    assert failed.value.error["where"]
    assert failed.value.error["message"]


# -- import and settings -----------------------------------------------------------------------


def test_import_a_csv_dry_run_then_for_real(tmp_path: Path, base_url: str) -> None:
    host = OfficeHost.from_xlsx(customers_book(tmp_path / "crm.xlsx", "zh"))
    csv = "姓名,公司,邮箱\n赵六,杭州西湖科技,zhao@xihu.cn\nAnn Lee,Northwind,ann@northwind.com\n"
    options = {"file_name": "contacts.csv", "data": base64.b64encode(csv.encode()).decode()}
    client = AddinClient(base_url, host)

    dry = client.run("import", {**options, "dry_run": True}).result
    assert (dry["inserted"], dry["updated"] + dry["unchanged"]) == (1, 1)
    assert len(rows(host, "customers")) == 3

    client.run("import", options)
    names = [r["name"] for r in rows(host, "customers")]
    assert names == ["王伟", "Ann Lee", "李娜", "赵六"]


def test_settings_round_trip_and_passwords_never_reach_the_workbook(
    tmp_path: Path, base_url: str
) -> None:
    host = OfficeHost.from_xlsx(customers_book(tmp_path / "crm.xlsx", "zh"))
    client = AddinClient(base_url, host)
    url = "imaps://sales@corp.cn@imap.example.cn"
    got = client.run("settings", {"step": "put", "values": {"mailbox": url}}).result
    mailbox = next(s for s in got["settings"] if s["key"] == "mailbox")
    assert (mailbox["label"], mailbox["value"]) == ("邮箱", url)
    assert url in got["secrets"]

    with pytest.raises(ServiceFailed) as failed:
        client.run("settings", {"step": "put", "values": {"mailbox": "imaps://me:hunter2@host"}})
    assert "holds a password" in failed.value.error["message"]
    every_cell = [v for s in host.sheets.values() for v in s.cells.values()]
    assert not any("hunter2" in str(v) for v in every_cell)


def test_a_password_goes_to_the_service_keyring_only(tmp_path: Path, base_url: str) -> None:
    host = OfficeHost.from_xlsx(customers_book(tmp_path / "crm.xlsx"))
    before = {n: dict(s.cells) for n, s in host.sheets.items()}
    store = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(store)
    try:
        answer = AddinClient(base_url, host).run(
            "secret", {"url": "imaps://me@host", "secret": "s3cr3t"}
        )
    finally:
        keyring.set_keyring(previous)
    assert answer.result["stored"] is True
    assert store.items == {("xlcrm", "imaps://me@host"): "s3cr3t"}
    assert "s3cr3t" not in json.dumps(answer.answers)
    assert {n: dict(s.cells) for n, s in host.sheets.items()} == before


# -- workflows ---------------------------------------------------------------------------------


def test_dashboard_reminders_and_duplicates_from_the_ribbon(tmp_path: Path, base_url: str) -> None:
    host = OfficeHost.from_xlsx(make_crm(tmp_path / "crm.xlsx", "zh"))
    client = AddinClient(base_url, host)

    report = client.run("report")
    dashboard = report.result
    assert dashboard["summary"]
    sheet = next(s for s in host.sheets.values() if s.charts)
    assert len(sheet.charts) >= 5
    assert all(c["kind"] for c in sheet.charts)
    # The new dashboard is the first tab, prints landscape one page wide over its print area,
    # and each chart covers whole cells beside its table (so it prints with it).
    assert next(iter(host.sheets)) == sheet.name == "仪表盘"
    layout = host.page_layouts[sheet.name]
    assert layout["landscape"] and layout["fit_width"] and layout["breaks"]
    assert layout["print_area"].startswith("A1:")
    assert all(c["end"] for c in sheet.charts)

    again = client.run("report")  # the second refresh replaces the sheet, never duplicates it
    assert again.answers[-1]["status"] == "done"
    assert sum(1 for s in host.sheets.values() if s.charts) == 1

    reminders = client.run("reminders").result
    assert reminders["sheet"] in host.sheets

    dedupe = client.run("dedupe").result
    assert "summary" in dedupe


def test_every_answer_with_actions_is_an_operation_applied_once(
    tmp_path: Path, base_url: str
) -> None:
    """Each answer that changes the workbook has its own id; the host records it in _xlcrm
    and an answer met again (a replayed response) changes nothing."""
    host = OfficeHost.from_xlsx(make_crm(tmp_path / "crm.xlsx", "en"))
    client = AddinClient(base_url, host)
    answers = client.run("reminders").answers
    operation = answers[-1]["operation"]
    assert re.fullmatch(r"[0-9a-f]{32}", operation)
    assert host.state()["applied"].split()[-1] == operation
    second = client.run("reminders").answers[-1]["operation"]
    assert second != operation
    assert host.state()["applied"].split()[-2:] == [operation, second]
    import copy

    before = copy.deepcopy((host.sheets, host.tables))
    assert host.apply(answers[-1]["actions"], operation) is False
    assert (host.sheets, host.tables) == before


# -- the protocol itself -----------------------------------------------------------------------


def test_errors_are_split_into_your_input_and_try_again(
    tmp_path: Path, base_url: str, serve: Callable[[ServiceConfig], str]
) -> None:
    host = OfficeHost.from_xlsx(customers_book(tmp_path / "crm.xlsx"))
    http = httpx.Client(base_url=base_url, headers=ADDIN)
    request = host.request("sync")

    old = http.post("/api/v1/plan", json={**request, "protocol": 0})
    assert old.status_code == 409
    assert old.json()["error"]["kind"] == "version"

    unknown = http.post("/api/v1/plan", json={**request, "command": "format-disk"})
    assert unknown.status_code == 400
    assert "no command 'format-disk'" in unknown.json()["error"]["message"]

    bad = http.post("/api/v1/run", json={**request, "tables": {"customers": {"sheet": 3}}})
    assert bad.status_code == 400
    assert bad.json()["error"]["where"].startswith("tables.customers")

    # Rows are checked cell by cell without being copied (protocol.Rows): same strictness.
    posted = {"sheet": "Customers", "address": "A1:B3", "header": ["ID", "Name"]}
    for rows, row in (([["C1", "a"], ["C2", {"x": 1}]], 2), ([["C1", "a"], "C2"], 2)):
        cell = http.post(
            "/api/v1/run", json={**request, "tables": {"customers": {**posted, "rows": rows}}}
        )
        assert cell.status_code == 400
        assert cell.json()["error"]["where"] == "tables.customers.rows"
        assert cell.json()["error"]["message"] == (
            f"Value error, row {row} must be an array of text, numbers, booleans or null"
        )

    json_type = {"Content-Type": "application/json"}
    not_json = http.post("/api/v1/plan", content=b"{not json", headers=json_type)
    assert (not_json.status_code, not_json.json()["error"]["message"]) == (
        400,
        "the request is not JSON",
    )

    host2 = OfficeHost.from_xlsx(
        customers_book(tmp_path / "b.xlsx", mailbox="imaps://me@127.0.0.1:1")
    )
    state = host2.state()
    configured = serve(ServiceConfig(mailboxes=("imaps://me@127.0.0.1:1",)))
    with pytest.raises(ServiceFailed) as failed:
        AddinClient(configured, host2).run("sync")
    assert failed.value.status == 503
    assert failed.value.error["kind"] == "retry"
    assert host2.state() == state  # a mailbox that cannot be reached changes nothing


@pytest.mark.slow  # a 260 MB body
def test_gzip_requests_and_the_size_limit(tmp_path: Path, base_url: str) -> None:
    host = OfficeHost.from_xlsx(customers_book(tmp_path / "crm.xlsx"))
    client = AddinClient(base_url, host)
    request = host.request("settings", {"step": "get"})
    assert client.post("/api/v1/plan", request, gzipped=True)["status"] == "read"
    bomb = gzip.compress(b"[" + b"0," * (130 * 1024 * 1024) + b"0]")
    answer = httpx.post(
        f"{base_url}/api/v1/plan",
        content=bomb,
        headers={**ADDIN, "Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["message"] == "the request is larger than 24 MB"
    cut = httpx.post(
        f"{base_url}/api/v1/plan",
        content=gzip.compress(json.dumps(request).encode())[:-10],
        headers={**ADDIN, "Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert cut.status_code == 400
    assert "gzip data is cut short" in cut.json()["error"]["message"]


def test_beyond_localhost_every_api_call_needs_the_token(tmp_path: Path) -> None:
    host = OfficeHost.from_xlsx(customers_book(tmp_path / "crm.xlsx"))
    with running_service(ServiceConfig(token="t0k3n-for-a-team", local=False)) as url:
        bare = httpx.get(f"{url}/api/v1/commands", headers=CLIENT_HEADERS)
        assert bare.status_code == 401
        wrong = httpx.get(
            f"{url}/api/v1/commands", headers={**CLIENT_HEADERS, "Authorization": "Bearer nope"}
        )
        assert wrong.status_code == 401
        assert wrong.json()["error"]["kind"] == "auth"
        # A shared service's token is given out by a person, never by the service.
        session = httpx.get(f"{url}/api/v1/session", headers=CLIENT_HEADERS)
        assert session.status_code == 401
        assert "from your administrator" in session.json()["error"]["hint"]
        assert httpx.get(f"{url}/taskpane.html").status_code == 200
        ok = AddinClient(url, host, token="t0k3n-for-a-team").run("settings", {"step": "get"})
        assert ok.result["settings"]


def test_a_local_service_hands_its_token_to_its_own_pages_only(base_url: str) -> None:
    """The pane's same-origin request gets the token; through a proxy (the whole network
    behind it) or without the add-in's header, nobody does."""
    own = httpx.get(
        f"{base_url}/api/v1/session", headers={**CLIENT_HEADERS, "Sec-Fetch-Site": "same-origin"}
    )
    assert own.status_code == 200
    assert own.json()["token"] == TOKEN
    proxied = httpx.get(
        f"{base_url}/api/v1/session", headers={**CLIENT_HEADERS, "X-Forwarded-For": "10.1.2.3"}
    )
    assert proxied.status_code == 401
    assert "token" not in proxied.json()
    assert httpx.get(f"{base_url}/api/v1/session").status_code == 403


def test_commands_are_listed_with_titles_in_both_languages(base_url: str) -> None:
    listed = httpx.get(f"{base_url}/api/v1/commands", headers=ADDIN).json()
    names = {c["name"]: c for c in listed["commands"]}
    assert {"sync", "contract", "campaign", "import", "settings"} <= set(names)
    assert names["sync"]["title"] == {"en": "Sync mail", "zh": "同步邮件"}
    assert names["contract"]["needs_selection"] is True


def test_the_published_json_schema_is_current() -> None:
    published = json.loads((ROOT / "docs" / "protocol.schema.json").read_text(encoding="utf-8"))
    assert published == json_schema(), (
        "run: python -m addin.remote.protocol > docs/protocol.schema.json"
    )
