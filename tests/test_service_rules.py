"""The ribbon's Run rules through a real ``xlcrm serve`` (uvicorn on loopback), as the Excel
client runs it (``AddinClient`` on an ``OfficeHost`` holding a real bilingual CRM workbook).

Stage history, follow-ups and the contracts' cells reach the workbook as the answer's actions;
the contracts come back as downloads (numbered and recorded as ``xlcrm run`` records them);
notices are listed and never sent — not even by a service started with a transport, whose
SMTP server (aiosmtpd on loopback) must receive nothing. A replayed answer changes nothing and
a second click applies no rule twice.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from addin_client import AddinClient, running_service
from docx import Document
from officehost import OfficeHost
from pipeline_books import make_crm, smtp_url
from servers.smtp import SmtpServer
from test_service import rows

from addin.service import ServiceConfig
from addin.workbook import open_book


@pytest.fixture
def service_with_transport(smtp: SmtpServer) -> Iterator[str]:
    """A service started as ``xlcrm serve --transport smtp://…``: it could send, and must not."""
    with running_service(ServiceConfig(transports=(smtp_url(smtp),))) as url:
        yield url


def won_today(path: Path) -> Path:
    """make_crm's workbook with D0001 won today (first seen closed, within 30 days: its rules
    apply) and D0002 at Proposal (its follow-up rule applies)."""
    with open_book(path) as book:
        deals = book.table("deals")
        deals.update("D0001", {"stage": "Won", "closed": dt.date.today()})
        deals.update("D0002", {"stage": "Proposal"})
    return path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_run_rules_from_the_ribbon(
    tmp_path: Path, service_with_transport: str, smtp: SmtpServer, lang: str
) -> None:
    host = OfficeHost.from_xlsx(won_today(make_crm(tmp_path / f"crm-{lang}.xlsx", lang)))
    client = AddinClient(service_with_transport, host)
    today = dt.date.today()

    exchange = client.run("rules")
    result = exchange.result
    answer = exchange.answers[-1]
    assert answer["status"] == "done"
    # Read only what the rules need of Interactions (no summaries, senders or bodies).
    assert {"rules", "deals", "interactions"} <= exchange.tables_read[-1]

    # Stage history: every deal's first stage recorded as a stage interaction.
    stages = [r for r in rows(host, "interactions") if r["kind"] == "stage"]
    assert sorted(r["deal_id"] for r in stages) == ["D0001", "D0002", "D0003", "D0004", "D0005"]
    assert result["stage_changes"] == 5

    # Follow-up: Proposal + 3 days, on the deal in the sheet.
    deals = {d["id"]: d for d in rows(host, "deals")}
    assert deals["D0002"]["next_follow_up"] == today + dt.timedelta(days=3)
    assert result["follow_ups"] == 1

    # The contract: numbered, recorded on the deal and as a document interaction, a download.
    number = f"CT-{today.year}-0001"
    [contract] = result["contracts"]
    assert contract["deal_id"] == "D0001" and contract["contract_no"] == number
    name = contract["file"]
    assert name.startswith(f"{number} A&B 上海贸易有限公司") and name.endswith(".docx")
    assert deals["D0001"]["contract_no"] == number
    assert deals["D0001"]["contract_file"] == f"contracts/{name}"
    [document] = [r for r in rows(host, "interactions") if r["kind"] == "document"]
    assert (document["deal_id"], document["attachments"]) == ("D0001", name)
    [download] = host.downloads
    assert download["name"] == name
    assert download["media_type"].endswith("wordprocessingml.document")
    text = "\n".join(
        p.text for p in Document(io.BytesIO(base64.b64decode(download["data"]))).paragraphs
    )
    assert number in text

    # Notices: the hand-off is listed as what would go, and nothing reached the SMTP server.
    assert [(n["rule"], n["deal_id"], n["action"]) for n in result["would_send"]] == [
        ("R002", "D0001", "handoff")
    ]
    assert "1 notice(s) would go" in result["summary"]
    assert "xlcrm run BOOK --send" in result["summary"]
    assert smtp.messages == []
    # The owner of D0003 (张强) is not in the team list: that rule waits, said with its cell
    # and its action as the Rules sheet names it in the workbook's language.
    action = "通知负责人" if lang == "zh" else "notify_owner"
    assert result["waiting_count"] == 1 and f"R004 {action}: " in result["waiting"][0]

    # The answer met again (a replayed response) changes nothing.
    before = copy.deepcopy((host.sheets, host.tables))
    assert host.apply(answer["actions"], answer["operation"]) is False
    assert (host.sheets, host.tables) == before
    assert len(host.downloads) == 1

    # A second click: no stage changed, no rule applies twice, no second contract.
    again = client.run("rules").result
    assert again["stage_changes"] == 0 and again["contracts"] == [] and again["follow_ups"] == 0
    assert [f for f in again["fired"] if f["status"] == "done"] == []
    assert len(host.downloads) == 1
    assert len([r for r in rows(host, "interactions") if r["kind"] == "stage"]) == 5
    # The hand-off has not fired (it was not sent): it is still what would go.
    assert [n["rule"] for n in again["would_send"]] == ["R002"]
    assert smtp.messages == []


def test_run_rules_with_a_template_the_service_lacks_names_the_cell(
    tmp_path: Path, service_with_transport: str
) -> None:
    """A contract rule naming a .docx beside the workbook: the service has no such folder and
    never looks at paths from a request, so the run stops before anything is done, naming
    the Rules cell."""
    path = won_today(make_crm(tmp_path / "crm.xlsx", "en"))
    with open_book(path) as book:
        book.table("rules").update("R001", {"argument": "../../etc/our_contract.docx"})
    host = OfficeHost.from_xlsx(path)
    before = copy.deepcopy((host.sheets, host.tables))
    from addin_client import ServiceFailed

    with pytest.raises(ServiceFailed) as failed:
        AddinClient(service_with_transport, host).run("rules")
    assert failed.value.status == 400
    error = failed.value.error
    assert error["where"].startswith("Rules!E")
    assert "our_contract.docx" in error["message"]
    assert (host.sheets, host.tables) == before and host.downloads == []


def test_a_book_without_a_file_never_sends_notices(tmp_path: Path, smtp: SmtpServer) -> None:
    """The library's guard under the service: ``run_rules`` on the Excel client's workbook
    (a RemoteBook, no file) asked to send refuses before anything happens, saying to use the
    file; without a contract sink it says it needs the file for the contracts."""
    from backends import RemoteBackend

    from addin.errors import UsageError
    from addin.pipeline import RunOptions, run_rules
    from addin.pipeline.sinks import DownloadSink

    path = won_today(make_crm(tmp_path / "crm.xlsx", "en"))
    backend = RemoteBackend()
    for options, words in (
        (RunOptions(send=True, transport=smtp_url(smtp), contracts=DownloadSink()), "sending"),
        (RunOptions(), "xlcrm run needs the workbook as a file"),
    ):
        book = backend.open(path)
        with pytest.raises(UsageError) as refused:
            run_rules(book, options)
        assert words in refused.value.message
        assert "on the .xlsx file" in (refused.value.hint or "")
    assert smtp.messages == []
