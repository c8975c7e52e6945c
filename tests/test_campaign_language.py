"""What a recipient sees of plain-text templates and per-customer languages (issue 16), and of
a company name that ends with a period (issue 18, "Co., Ltd..").

Every message is the one that reached a real SMTP server (aiosmtpd on loopback, STARTTLS and
AUTH, the ``smtp`` fixture) or the .eml a preview wrote; contracts are real .docx files read
back with python-docx. The workbooks are real .xlsx files; one cell is written with openpyxl,
as Excel would leave it, because the Table API refuses the value it holds.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import shutil
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from books import crm_workbook
from pipeline_books import make_crm, set_stage
from pipeline_books import received as team_received
from servers.smtp import SmtpServer
from test_contract_templates import Shown

from addin.campaigns import CampaignOptions, CampaignReport
from addin.campaigns import run_campaign as run_campaign_on
from addin.campaigns.steps import list_templates, preview_campaign
from addin.cli.pipeline import run_rules_file
from addin.contracts.generate import ContractOptions, generate_contracts
from addin.pipeline import RunOptions
from addin.templating import TemplateEnvironment, TemplateProblems, builtin_root
from addin.workbook import open_book

USER = "sales@xinghe.example"
PASSWORD = "发信密码-2027"
SENDER = f"Xinghe Software <{USER}>"
SELLER = "Xinghe Software Co., Ltd."  # ends with a period, as most registered names do
NOW = dt.datetime(2027, 3, 1, 10, 0)
PINECREST = {
    "name": "Tom Reed",
    "company": "Pinecrest Apparel",
    "email": "tom@pinecrest.example",
    "owner": "Lina Chen",
}
HAN_JIE = {
    "name": "韩杰",
    "company": "杭州杰达贸易有限公司",
    "email": "hanjie@jieda.example.cn",
    "owner": "Lina Chen",
}
PLAIN_EN = """---
subject: "{{ customer.company }}: a short note"
reply_to: "Lina Chen <lina@xinghe.example>"
attachments: ["price-list.pdf"]
---
{{ customer | salutation }},

A short note from {{ company.name | end_sentence }}
Our new price list is attached.
"""
PLAIN_ZH = """---
subject: "{{ customer.company }}：简短通知"
reply_to: "Lina Chen <lina@xinghe.example>"
attachments: ["price-list.pdf"]
---
{{ customer | salutation }}：

{{ company.name }}的新价目表见附件。
"""
ONLY_EN = """---
subject: "{{ customer.company }}: the spring offer"
---
<html><body><p>{{ customer | salutation }},</p><p>Spring offer.</p></body></html>
"""


@pytest.fixture
def smtp_login() -> tuple[str, str]:
    return USER, PASSWORD


def smtp_url(server: SmtpServer) -> str:
    return f"smtp://{USER}@127.0.0.1:{server.port}"


def make_book(path: Path, lang: str, *customers: dict[str, str], seller: str = SELLER) -> Path:
    deals = [
        {
            "customer_id": f"C{n:04d}",
            "title": "CRM Annual" if lang == "en" else "CRM 年度订阅",
            "stage": "Won",
            "amount": 36000,
            "currency": "CNY",
            "owner": "Lina Chen",
            "expected_close": dt.date(2027, 2, 1),
        }
        for n in range(1, len(customers) + 1)
    ]
    settings = {
        "company_name": seller,
        "sender": SENDER,
        "company_address": "88 Zhangjiang Road, Shanghai",
        "company_phone": "021-5080 8888",
        "company_email": USER,
        "company_tax_id": "91310115MA1K4XXXXX",
        "company_bank": "China Merchants Bank",
        "company_bank_account": "1219 0888 8888 0001",
        "company_representative": "Chen Xinghe",
    }
    return crm_workbook(path, lang, settings, customers=customers, deals=deals)


def run_campaign(path: Path, options: CampaignOptions) -> CampaignReport:
    with open_book(path) as book:
        return run_campaign_on(book, options)


def options(template: Path | str, **changes: object) -> CampaignOptions:
    base = CampaignOptions(template=str(template), name="spring", backoff=0.01, now=lambda: NOW)
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def received(server: SmtpServer) -> dict[str, EmailMessage]:
    """Each recipient's message as their mail program parses it."""
    out = {}
    for sent in server.messages:
        message = email.message_from_bytes(sent.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        (to,) = sent.rcpt_tos
        out[to] = message
    return out


def body(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    return part.get_content() if part is not None else ""


def content_types(message: EmailMessage) -> list[str]:
    return [part.get_content_type() for part in message.walk()]


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    """A plain-text template in both languages, with an attachment."""
    folder = tmp_path / "note"
    folder.mkdir()
    (folder / "en.txt").write_text(PLAIN_EN, encoding="utf-8")
    (folder / "zh.txt").write_text(PLAIN_ZH, encoding="utf-8")
    (folder / "price-list.pdf").write_bytes(b"%PDF-1.4\n% price list\n")
    return folder


# -- plain-text templates -------------------------------------------------------------------


def test_a_plain_text_template_sends_text_plain_in_each_customers_language(
    tmp_path: Path, plain: Path, smtp: SmtpServer
) -> None:
    book = make_book(tmp_path / "crm.xlsx", "en", PINECREST, {**HAN_JIE, "language": "中文"})
    report = run_campaign(book, options(plain, mode="send", transport=smtp_url(smtp)))
    assert report.sent == 2 and not report.problems
    assert report.lines()[1:3] == [
        "  sent 2 message(s)",
        "  in the customers' languages: English 1, Chinese 1",
    ]
    got = received(smtp)

    english = got["tom@pinecrest.example"]
    assert content_types(english) == ["multipart/mixed", "text/plain", "application/pdf"]
    assert english["Subject"] == "Pinecrest Apparel: a short note"
    assert english["Reply-To"] == "Lina Chen <lina@xinghe.example>"
    assert english["Content-Language"] == "en"
    text = body(english, "plain")
    assert text.startswith("Dear Tom Reed,\n\nA short note from Xinghe Software Co., Ltd.\n")
    assert "Don't want these e-mails? Unsubscribe: " in text  # the footer, in the text
    assert english["List-Unsubscribe"].startswith(f"<mailto:{USER}?subject=unsubscribe%20C0001-")
    (attachment,) = english.iter_attachments()
    assert attachment.get_filename() == "price-list.pdf"

    chinese = got["hanjie@jieda.example.cn"]
    assert "text/html" not in content_types(chinese)
    assert chinese["Subject"] == "杭州杰达贸易有限公司：简短通知"
    assert chinese["Content-Language"] == "zh-CN"
    text = body(chinese, "plain")
    assert text.startswith("尊敬的韩杰：\n\nXinghe Software Co., Ltd.的新价目表见附件。\n")
    assert "如不希望再收到此类邮件，请退订：" in text
    assert chinese["List-Unsubscribe"].startswith(f"<mailto:{USER}?subject=unsubscribe%20C0002-")


def test_a_plain_text_template_without_attachments_is_one_text_plain_body(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "en.txt").write_text(
        PLAIN_EN.replace('attachments: ["price-list.pdf"]\n', ""), encoding="utf-8"
    )
    book = make_book(tmp_path / "crm.xlsx", "zh", PINECREST)  # a Chinese workbook: en.txt only
    report = run_campaign(book, options(folder, mode="send", transport=smtp_url(smtp)))
    assert report.sent == 1
    message = received(smtp)["tom@pinecrest.example"]
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message["Content-Language"] == "en"
    assert message.get_content().startswith("Dear Tom Reed,\n\nA short note from Xinghe")


def test_the_preview_shows_a_plain_text_message_in_both_languages(
    tmp_path: Path, plain: Path
) -> None:
    book = make_book(
        tmp_path / "crm.xlsx",
        "en",
        PINECREST,
        {**PINECREST, "name": "Ann Lee", "email": "ann@pinecrest.example"},
        {**HAN_JIE, "language": "Chinese"},
    )
    report = run_campaign(book, options(plain, preview_count=2))
    assert "  in the customers' languages: English 2, Chinese 1" in report.lines()
    # two samples of three: the first English recipient and the first Chinese one
    assert [p.name.split(" ")[1] for p in report.preview_files] == ["C0001", "C0003"]
    first, second = (
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in report.preview_files
    )
    assert first.get_body(("html",)) is None and second.get_body(("html",)) is None
    assert second["Content-Language"] == "zh-CN"
    assert report.preview_index is not None
    index = report.preview_index.read_text(encoding="utf-8")
    assert "<b>Language:</b> zh-CN (plain text)" in index
    assert "尊敬的韩杰" in index and "&lt;pre" in index  # the text, shown in the card's frame

    with open_book(book) as wb:  # the ribbon's preview: the same messages as data
        preview = preview_campaign(wb, options(plain), samples=2)
    assert [(s.customer_id, s.lang, s.html) for s in preview.samples] == [
        ("C0001", "en", None),
        ("C0003", "zh-CN", None),
    ]
    assert preview.samples[1].text is not None and preview.samples[1].text.startswith("尊敬的韩杰")


def test_the_ribbon_lists_a_plain_text_template(tmp_path: Path, plain: Path) -> None:
    listed = {t["name"]: t for t in list_templates("zh", near=(tmp_path,))}
    assert listed["note"] == {
        "name": "note",
        "kind": "own",
        "subject": "{{ customer.company }}：简短通知",
    }


# -- the customer's language ------------------------------------------------------------------


@pytest.mark.parametrize("workbook_lang", ["en", "zh"])
def test_each_customer_is_mailed_in_their_language_else_the_workbooks(
    tmp_path: Path, smtp: SmtpServer, workbook_lang: str
) -> None:
    """An English workbook mails 韩杰 in Chinese when his row says so; a Chinese one mails
    Pinecrest Apparel in English. The other customer has no language: the workbook's."""
    if workbook_lang == "en":
        customers = (PINECREST, {**HAN_JIE, "language": "中文"})
    else:
        customers = ({**PINECREST, "language": "English"}, HAN_JIE)
    book = make_book(tmp_path / "crm.xlsx", workbook_lang, *customers)
    promotion = builtin_root() / "emails" / "promotion"
    report = run_campaign(book, options(promotion, mode="send", transport=smtp_url(smtp)))
    assert report.sent == 2 and not report.problems
    got = received(smtp)

    english = got["tom@pinecrest.example"]
    assert english["Content-Language"] == "en"
    assert english["Subject"] == f"Pinecrest Apparel, our spring offer from {SELLER}"
    html, text = body(english, "html"), body(english, "plain")
    assert '<html lang="en" ' in html
    assert "Dear Tom Reed," in text
    words = " ".join(text.split())  # the text is wrapped at 78 columns
    assert f"valued customer of {SELLER} To welcome" in words  # issue 18: one period
    assert "Ltd.." not in html and "Ltd.." not in text

    chinese = got["hanjie@jieda.example.cn"]
    assert chinese["Content-Language"] == "zh-CN"
    assert chinese["Subject"] == f"杭州杰达贸易有限公司，{SELLER}春季优惠"
    assert "尊敬的韩杰" in body(chinese, "plain")
    assert '<html lang="zh-CN" ' in body(chinese, "html")


def test_a_language_the_template_lacks_is_a_problem_before_anything_is_sent(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    folder = tmp_path / "spring"
    folder.mkdir()
    (folder / "en.html").write_text(ONLY_EN, encoding="utf-8")
    book = make_book(tmp_path / "crm.xlsx", "en", PINECREST, {**HAN_JIE, "language": "中文"})
    before = book.read_bytes()
    with pytest.raises(TemplateProblems) as error:
        run_campaign(book, options(folder, mode="send", transport=smtp_url(smtp)))
    assert (
        "Customers!C0002: the customer's language is Chinese (中文) but the template spring has "
        f"no zh.html or zh.txt (add it to {folder}, or clear the customer's Language cell"
    ) in str(error.value)
    assert "nothing was sent" in str(error.value)
    assert smtp.messages == [] and book.read_bytes() == before

    preview = run_campaign(book, options(folder))  # the preview lists it too
    assert [p.where for p in preview.problems] == ["Customers!C0002"]
    assert preview.ready == 1


def test_a_broken_version_is_a_problem_of_those_who_would_get_it(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    """zh.html has a syntax error: the English workbook's Chinese customer is listed before
    anything is sent; a campaign with no Chinese reader is not stopped by it."""
    folder = tmp_path / "spring"
    folder.mkdir()
    (folder / "en.html").write_text(ONLY_EN, encoding="utf-8")
    broken = ONLY_EN.replace("<p>Spring offer.</p>", "{% if customer.tier %}<p>春季优惠</p>")
    (folder / "zh.html").write_text(broken, encoding="utf-8")
    book = make_book(tmp_path / "crm.xlsx", "en", PINECREST, {**HAN_JIE, "language": "中文"})
    with pytest.raises(TemplateProblems) as error:
        run_campaign(book, options(folder, mode="send", transport=smtp_url(smtp)))
    (problem,) = error.value.problems
    assert problem.where == "Customers!C0002"
    assert problem.message.startswith(f"{folder / 'zh.html'}:4: template syntax error in the body")
    assert smtp.messages == []

    english_only = make_book(tmp_path / "english.xlsx", "en", PINECREST)
    report = run_campaign(english_only, options(folder, mode="send", transport=smtp_url(smtp)))
    assert report.sent == 1 and list(received(smtp)) == ["tom@pinecrest.example"]


def test_a_one_language_template_still_serves_a_workbook_in_the_other(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    """No customer asks for a language: a Chinese workbook's English-only template is used."""
    folder = tmp_path / "spring"
    folder.mkdir()
    (folder / "en.html").write_text(ONLY_EN, encoding="utf-8")
    book = make_book(tmp_path / "crm.xlsx", "zh", PINECREST)
    report = run_campaign(book, options(folder, mode="send", transport=smtp_url(smtp)))
    assert report.sent == 1
    message = received(smtp)["tom@pinecrest.example"]
    assert message["Content-Language"] == "en" and "Dear Tom Reed," in body(message, "plain")


def test_a_language_cell_xlcrm_cannot_write_in_is_reported(tmp_path: Path, plain: Path) -> None:
    book = make_book(tmp_path / "crm.xlsx", "en", PINECREST, HAN_JIE)
    workbook = openpyxl.load_workbook(book)
    sheet = workbook["Customers"]
    headers = [cell.value for cell in sheet[1]]
    sheet.cell(row=3, column=headers.index("Language") + 1, value="Français")
    workbook.save(book)
    report = run_campaign(book, options(plain))
    assert [str(p) for p in report.problems] == [
        "Customers!C0002: customer.language 'Français' is not a language xlcrm writes in "
        "(write English or 中文, or leave it empty for the workbook's language)"
    ]


def test_the_language_column_reads_labels_in_either_language(tmp_path: Path) -> None:
    book = make_book(
        tmp_path / "crm.xlsx",
        "zh",
        {**PINECREST, "language": "英文"},
        {**HAN_JIE, "language": "zh-CN"},
    )
    workbook = openpyxl.load_workbook(book)
    sheet = workbook["客户"]
    headers = [cell.value for cell in sheet[1]]
    column = headers.index("语言") + 1
    assert [sheet.cell(row=r, column=column).value for r in (2, 3)] == ["英文", "中文"]
    checks = [dv for dv in sheet.data_validations.dataValidation if dv.type == "list"]
    letter = openpyxl.utils.get_column_letter(column)
    assert any(dv.formula1 == '"英文,中文"' and letter in str(dv.sqref) for dv in checks), (
        "the Language column offers a drop-down"
    )
    with open_book(book) as wb:
        assert [r["language"] for r in wb.table("customers").rows()] == ["English", "Chinese"]


# -- contracts --------------------------------------------------------------------------------


def test_each_contract_is_written_in_its_customers_language(tmp_path: Path) -> None:
    (tmp_path / "book").mkdir()
    book = make_book(
        tmp_path / "book" / "crm.xlsx", "en", PINECREST, {**HAN_JIE, "language": "中文"}
    )
    with open_book(book) as wb:
        report = generate_contracts(
            wb,
            ContractOptions(deal_ids=("D0001", "D0002"), today=NOW.date(), now=lambda: NOW),
            base_dir=tmp_path / "book",
        )
    english, chinese = (Shown(g.files[0].read_bytes()) for g in report.generated)
    assert "SALES CONTRACT" in english.text and "Pinecrest Apparel" in english.text
    assert "销 售 合 同" in chinese.text and "杭州杰达贸易有限公司" in chinese.text
    with open_book(book) as wb:
        logged = {
            r["deal_id"]: r["summary"]
            for r in wb.table("interactions").rows()
            if r["kind"] == "document"
        }
    assert logged == {
        "D0001": "Generated from sales_contract.en.docx",
        "D0002": "Generated from sales_contract.zh.docx",
    }


def test_a_contract_template_without_the_customers_language_is_a_problem(
    tmp_path: Path,
) -> None:
    (tmp_path / "book" / "templates" / "contracts").mkdir(parents=True)
    shutil.copy(
        builtin_root() / "contracts" / "sales_contract.en.docx",
        tmp_path / "book" / "templates" / "contracts" / "ours.en.docx",
    )
    book = make_book(
        tmp_path / "book" / "crm.xlsx", "en", PINECREST, {**HAN_JIE, "language": "中文"}
    )
    with open_book(book) as wb, pytest.raises(TemplateProblems) as error:
        generate_contracts(
            wb,
            ContractOptions(
                deal_ids=("D0001", "D0002"),
                template="contracts/ours",
                today=NOW.date(),
                now=lambda: NOW,
            ),
            base_dir=tmp_path / "book",
            templates_near=(tmp_path / "book" / "templates",),
        )
    assert str(error.value).splitlines()[1].strip() == (
        "Deals!D0002: the customer's language is Chinese (中文) but there is no ours.zh.docx "
        "beside ours.en.docx (add it, or clear the customer's Language cell to write the "
        "contract in the workbook's language)"
    )
    assert not (tmp_path / "book" / "contracts").exists()


# -- "Co., Ltd.." -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("Acme Co., Ltd.", "Acme Co., Ltd."),
        ("Acme Co., Ltd", "Acme Co., Ltd."),
        ("A&B (HK) Ltd.)", "A&amp;B (HK) Ltd.)"),
        ("Really?", "Really?"),
        ("星河软件有限公司", "星河软件有限公司."),
    ],
)
def test_end_sentence_adds_a_period_only_when_there_is_none(value: str, shown: str) -> None:
    env = TemplateEnvironment("en")
    assert env.from_string("{{ name | end_sentence }}").render(name=value) == shown
    block = "{% filter end_sentence %}<b>{{ name }}</b>{% endfilter %}"
    assert env.from_string(block).render(name="Acme Co., Ltd.") == "<b>Acme Co., Ltd.</b>"
    assert env.from_string(block).render(name="Acme") == "<b>Acme</b>."


@pytest.mark.parametrize("name", ["promotion", "renewal", "welcome", "follow-up"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_shipped_template_doubles_the_period_of_a_company_name(
    tmp_path: Path, name: str, lang: str
) -> None:
    customer = {**PINECREST, "company": "Pinecrest Apparel Co., Ltd.", "name": "T. Reed Jr."}
    book = make_book(tmp_path / "crm.xlsx", lang, customer)
    report = run_campaign(book, options(builtin_root() / "emails" / name, preview_count=1))
    assert not report.problems
    (eml,) = report.preview_files
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    seen = [message["Subject"], body(message, "plain"), body(message, "html")]
    assert SELLER in seen[1]
    assert not any(".." in part.replace("...", "") for part in seen), name


# -- the team's own mail keeps the workbook's language -----------------------------------------


def test_rules_write_the_contract_in_the_customers_language_and_tell_the_team_in_the_workbooks(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    """A Chinese workbook whose customers C0001 and C0002 read English: the contract a rule
    writes for C0001's won deal is the English one; the hand-off to finance and the notice to
    the deal's owner — people in the company — stay Chinese."""
    book = make_crm(tmp_path / "客户管理.xlsx", "zh")
    with open_book(book) as wb:
        for customer in ("C0001", "C0002"):
            wb.table("customers").update(customer, {"language": "英文"})
    start = dt.datetime(2026, 3, 2, 9, 0)
    run_rules_file(book, RunOptions(now=lambda: start))
    set_stage(book, D0001="赢单", D0002="谈判")
    later = start + dt.timedelta(days=1)
    run_rules_file(book, RunOptions(now=lambda: later, send=True, transport=smtp_url(smtp)))
    with open_book(book) as wb:
        deal = wb.table("deals").get("D0001")
    contract = Shown((book.parent / deal["contract_file"]).read_bytes())
    assert "SALES CONTRACT" in contract.text and "销 售 合 同" not in contract.text
    owner, handoff = team_received(smtp)
    assert owner["Subject"] == "商机 D0002 进入谈判阶段：ERP rollout — Northwind Traders"
    assert handoff["Subject"] == "订单交接：D0001 A&B 上海贸易有限公司 合同 CT-2026-0001"
