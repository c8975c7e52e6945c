"""``xlcrm run`` and ``xlcrm forecast`` on real bilingual workbooks: stage history recorded as
interactions, rules applied exactly once per deal and stage across repeated runs, contracts
generated on Won, owner and hand-off e-mails that reach a real SMTP server (aiosmtpd on
loopback with STARTTLS and a login) once, dry runs that send nothing, bad rules named by
their cell, and the weighted forecast. Nothing is mocked.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from pipeline_books import (
    NOW,
    body,
    make_crm,
    received,
    rows,
    set_stage,
    smtp_url,
)
from servers.smtp import SmtpServer

from addin.cli import cli
from addin.cli.pipeline import run_rules_file
from addin.errors import WorkbookLockedError
from addin.pipeline import RuleProblems, RunOptions, forecast, read_stages
from addin.settings import write_settings
from addin.textwidth import display_width
from addin.workbook import open_book


def run(path: Path, day: int = 0, server: SmtpServer | None = None, **options: object):
    now = NOW + dt.timedelta(days=day)
    if server is not None:
        options.update(send=True, transport=smtp_url(server))
    return run_rules_file(path, RunOptions(now=lambda: now, **options))  # type: ignore[arg-type]


def history(path: Path, deal_id: str) -> list[str]:
    return [
        r["subject"]
        for r in rows(path, "interactions")
        if r["kind"] == "stage" and r["deal_id"] == deal_id
    ]


def test_rules_fire_once_per_deal_and_stage_across_runs(tmp_path: Path, smtp: SmtpServer) -> None:
    book = make_crm(tmp_path / "客户管理.xlsx", "zh")
    first = run(book, server=smtp)
    assert len(first.changes) == 5 and all(c.first_seen for c in first.changes)
    assert history(book, "D0001") == ["阶段：方案"]
    assert [(f.rule, f.deal_id, f.status) for f in first.fired] == [("R003", "D0001", "done")]
    deals = {d["id"]: d for d in rows(book, "deals")}
    assert deals["D0001"]["next_follow_up"] == dt.date(2026, 3, 5)  # Proposal: + 3 days
    # 张强 is not in the team list: the rule waits, it is not guessed or dropped.
    [waiting] = first.waiting
    assert waiting.startswith("商机!I4: R004 通知负责人: 负责人 张强 不在团队成员名单中（设置!B")
    # Won on 2025-12-01, long before xlcrm first saw it: no contract, no hand-off.
    assert first.not_applied == ["商机!D0004: 首次记录时已关闭（成交日期 2025-12-01），规则不执行"]
    assert smtp.messages == []

    set_stage(book, D0001="赢单", D0002="谈判")  # a person edits the Deals sheet
    second = run(book, day=1, server=smtp)
    assert [(c.deal_id, c.before, c.after) for c in second.changes] == [
        ("D0001", "Proposal", "Won"),
        ("D0002", "Qualified", "Negotiation"),
    ]
    assert sorted((f.rule, f.deal_id, f.status) for f in second.fired) == [
        ("R001", "D0001", "done"),
        ("R002", "D0001", "sent"),
        ("R004", "D0002", "sent"),
    ]
    assert history(book, "D0001") == ["阶段：方案", "阶段：方案 → 赢单"]
    deal = next(d for d in rows(book, "deals") if d["id"] == "D0001")
    assert deal["contract_no"] == "CT-2026-0001" and deal["closed"] == dt.date(2026, 3, 3)
    contract = book.parent / deal["contract_file"]
    assert contract.is_file() and contract.name.startswith("CT-2026-0001 A&B 上海贸易有限公司")
    owner, handoff = received(smtp)  # the owner's first, then the hand-off
    assert handoff["Subject"] == "订单交接：D0001 A&B 上海贸易有限公司 合同 CT-2026-0001"
    assert sorted(smtp.messages[1].rcpt_tos) == [
        "finance@xinghe.example",
        "warehouse@xinghe.example",
    ]
    text = body(handoff)
    assert "SAAS-STD  星河CRM 标准版（年费）" in text and "IMPL-PRO  实施与培训服务" in text
    assert "合计：¥46,567.89" in text and "合同编号: CT-2026-0001" in text
    assert "<td" in body(handoff, "html") and "¥34,567.89" in body(handoff, "html")
    assert owner["Subject"] == "商机 D0002 进入谈判阶段：ERP rollout — Northwind Traders"
    assert smtp.messages[0].rcpt_tos == ["li.na@xinghe.example"]
    assert body(owner).startswith("Li Na：\n\n商机 D0002「ERP rollout」（Northwind Traders）")
    logged = rows(book, "interactions")

    third = run(book, day=2, server=smtp)
    assert third.fired == [] and third.changes == [] and len(smtp.messages) == 2
    assert rows(book, "interactions") == logged
    assert third.already == 3  # R001 and R002 on D0001, R004 on D0002; D0003's still waits

    # D0001 goes back to negotiation (its first time there: the owner hears of it), then is
    # won again: no second contract, no second hand-off.
    set_stage(book, D0001="Negotiation")
    fourth = run(book, day=3, server=smtp)
    assert [(f.rule, f.deal_id, f.status) for f in fourth.fired] == [("R004", "D0001", "sent")]
    assert smtp.messages[2].rcpt_tos == ["wang.wei@xinghe.example"]
    set_stage(book, D0001="Won")
    fifth = run(book, day=4, server=smtp)
    assert fifth.fired == [] and len(smtp.messages) == 3
    assert history(book, "D0001") == [
        "阶段：方案",
        "阶段：方案 → 赢单",
        "阶段：赢单 → 谈判",
        "阶段：谈判 → 赢单",
    ]
    assert list((book.parent / "contracts").glob("*.docx")) == [contract]


def test_email_rules_wait_for_send_then_go_once(tmp_path: Path, smtp: SmtpServer) -> None:
    book = make_crm(tmp_path / "crm.xlsx", "en")
    run(book)
    set_stage(book, D0002="Negotiation")
    dry = run(book, day=1)
    assert [(f.rule, f.status, f.detail) for f in dry.fired] == [
        ("R004", "would send", "to li.na@xinghe.example")
    ]
    assert "dry run: no e-mail was sent; run with --send --transport URL to send" in dry.lines()
    assert smtp.messages == [] and not [
        r for r in rows(book, "interactions") if r["kind"] == "email"
    ]
    assert history(book, "D0002") == ["Stage: Qualified", "Stage: Qualified → Negotiation"]

    result = CliRunner().invoke(
        cli, ["run", str(book), "--send", "--transport", smtp_url(smtp), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [(f["rule"], f["deal_id"], f["status"]) for f in report["fired"]] == [
        ("R004", "D0002", "sent")
    ]
    [message] = received(smtp)
    assert message["Subject"] == "Deal D0002 is now in Negotiation: ERP rollout — Northwind Traders"
    assert body(message).startswith("Hello Li Na,\n\nDeal D0002 “ERP rollout” (Northwind Traders)")
    assert "Amount: $80,000.00\nStage: Negotiation\nOwner: Li Na\n" in body(message)
    [logged] = [r for r in rows(book, "interactions") if r["kind"] == "email"]
    assert (logged["deal_id"], logged["to"], logged["direction"]) == (
        "D0002",
        "li.na@xinghe.example",
        "out",
    )
    again = CliRunner().invoke(cli, ["run", str(book), "--send", "--transport", smtp_url(smtp)])
    assert again.exit_code == 0 and len(smtp.messages) == 1
    assert "rule(s) were applied to their deals by earlier runs" in again.output


def test_a_bad_rule_is_named_by_its_cell_and_nothing_is_done(tmp_path: Path) -> None:
    book = make_crm(tmp_path / "crm.xlsx", "en")
    with open_book(book) as wb:
        wb.table("rules").update("R003", {"argument": "abc"})
        wb.table("rules").update("R001", {"argument": "contracts/no_such_contract"})
    before = book.read_bytes()
    with pytest.raises(RuleProblems) as error:
        run(book)
    text = str(error.value)
    assert text.startswith("the Rules sheet has problems:\n  Rules!E2: no contract template")
    assert "  Rules!E4: 'abc' is not a number of days; write e.g. 3\n" in text
    assert book.read_bytes() == before
    with open_book(book) as wb:
        wb.table("rules").update("R001", {"argument": None})
    result = CliRunner().invoke(cli, ["run", str(book)])
    assert result.exit_code == 1
    assert result.output.startswith("xlcrm: Rules!E4: 'abc' is not a number of days; write e.g. 3")
    assert "hint: correct the Rules sheet" in result.output
    with open_book(book) as wb:  # a rule switched off is not checked
        wb.table("rules").update("R003", {"enabled": False})
    assert CliRunner().invoke(cli, ["run", str(book)]).exit_code == 0


def test_a_contract_with_empty_fields_waits_until_they_are_filled(tmp_path: Path) -> None:
    book = make_crm(tmp_path / "客户管理.xlsx", "zh")
    with open_book(book) as wb:
        write_settings(wb, {"company_bank": ""})
    run(book)
    set_stage(book, D0001="Won")
    report = run(book, day=1)
    assert [(f.rule, f.status) for f in report.fired] == [("R002", "would send")]
    [waiting] = [w for w in report.waiting if "D0001" in w]
    assert waiting.startswith("商机!D0001: R001 生成合同: company.bank is empty")
    assert not (book.parent / "contracts").exists() or not any(
        (book.parent / "contracts").iterdir()
    )
    with open_book(book) as wb:
        write_settings(wb, {"company_bank": "招商银行上海张江支行"})
    later = run(book, day=2)
    assert [(f.rule, f.status) for f in later.fired if f.rule == "R001"] == [("R001", "done")]
    [document] = [r for r in rows(book, "interactions") if r["kind"] == "document"]
    assert document["subject"] == "合同 CT-2026-0001"
    assert document["message_id"] == "rule-r001-d0001-won@xlcrm"


def test_a_deal_first_seen_recently_won_gets_its_contract(tmp_path: Path) -> None:
    book = make_crm(tmp_path / "crm.xlsx", "en")
    with open_book(book) as wb:
        wb.table("deals").update("D0004", {"closed": dt.date(2026, 2, 27)})
    report = run(book)
    assert ("R001", "D0004", "done") in [(f.rule, f.deal_id, f.status) for f in report.fired]
    assert next(d for d in rows(book, "deals") if d["id"] == "D0004")["contract_no"]


def test_a_rule_contract_is_removed_when_the_workbook_cannot_be_saved(tmp_path: Path) -> None:
    """The contract goes to the folder sink beside the workbook; when the save fails (the
    workbook is open in Excel) it is removed again and the next run writes it, same number."""
    book = make_crm(tmp_path / "crm.xlsx", "en")
    with open_book(book) as wb:
        wb.table("deals").update("D0004", {"closed": dt.date(2026, 2, 27)})
    lock = book.with_name("~$" + book.name)
    lock.write_text("someone")
    with pytest.raises(WorkbookLockedError):
        run(book)
    assert list((book.parent / "contracts").glob("*.docx")) == []
    lock.unlink()
    report = run(book)
    deal = next(d for d in rows(book, "deals") if d["id"] == "D0004")
    assert deal["contract_no"] == "CT-2026-0001"
    assert report.files == [book.parent / deal["contract_file"]]
    assert report.files[0].is_file()


def test_follow_up_keeps_a_date_a_person_set(tmp_path: Path) -> None:
    book = make_crm(tmp_path / "crm.xlsx", "en")
    with open_book(book) as wb:
        wb.table("deals").update("D0001", {"next_follow_up": dt.date(2026, 3, 10)})
    report = run(book)
    assert [(f.rule, f.detail) for f in report.fired] == [("R003", "kept 2026-03-10")]
    assert next(d for d in rows(book, "deals") if d["id"] == "D0001")["next_follow_up"] == dt.date(
        2026, 3, 10
    )


def test_forecast_weights_open_deals(tmp_path: Path) -> None:
    book = make_crm(tmp_path / "crm.xlsx", "en")
    with open_book(book) as wb:
        wb.table("stages").update("Proposal", {"probability": 0.5})
        wb.table("deals").insert(
            {"customer_id": "C0002", "title": "Add-on", "stage": "Lead", "currency": "USD"}
        )
        by_month = forecast(wb, "month")
        by_owner = forecast(wb, "owner")
        by_stage = forecast(wb, "stage")
    # D0001 Proposal 46,567.89 × 50% (the Stages sheet); D0002 Qualified 80,000 × 20%;
    # D0003 Negotiation 120,000 × 90% (its own Probability cell wins over 60%).
    assert [(r.group, r.currency, r.deals, r.amount, r.weighted) for r in by_month.rows] == [
        ("2026-03", "CNY", 2, 166567.89, 131283.95),
        ("2026-04", "USD", 1, 80000.0, 16000.0),
    ]
    assert [(r.group, r.weighted) for r in by_owner.rows] == [
        ("Li Na", 16000.0),
        ("张强", 108000.0),
        ("王伟", 23283.95),
    ]
    assert [(r.group, r.weighted) for r in by_stage.rows] == [
        ("Qualified", 16000.0),
        ("Proposal", 23283.95),
        ("Negotiation", 108000.0),
    ]
    assert by_month.skipped == ["Deals!E7: no amount"]
    # Chinese names take two columns on a terminal: the figures still line up.
    header, *table = by_owner.lines()[:4]
    amount_ends = display_width(header[: header.index("amount") + len("amount")])
    assert [display_width(line[: line.index(".") + 3]) for line in table] == [amount_ends] * 3
    result = CliRunner().invoke(cli, ["forecast", str(book), "--by", "stage", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["totals"] == [
        {"currency": "USD", "deals": 1, "amount": 80000.0, "weighted": 16000.0},
        {"currency": "CNY", "deals": 2, "amount": 166567.89, "weighted": 131283.95},
    ]


def test_a_workbook_without_stages_or_rules_uses_the_defaults(tmp_path: Path) -> None:
    book = make_crm(tmp_path / "客户管理.xlsx", "zh")
    workbook = openpyxl.load_workbook(book)
    del workbook["销售阶段"], workbook["自动规则"]
    workbook.save(book)
    with open_book(book) as wb:
        assert not wb.has_table("stages") and not wb.has_table("rules")
        stages = read_stages(wb)
        assert [(s, i.probability) for s, i in stages.items()][:4] == [
            ("Lead", 0.1),
            ("Qualified", 0.2),
            ("Proposal", 0.4),
            ("Negotiation", 0.6),
        ]
        assert [r.group for r in forecast(wb, "stage").rows] == ["已确认", "方案", "谈判"]
    report = run(book)
    assert len(report.changes) == 5 and report.fired == []
    assert history(book, "D0003") == ["阶段：谈判"]
    result = CliRunner().invoke(cli, ["forecast", str(book)])
    assert result.exit_code == 0 and "2026-03" in result.output
