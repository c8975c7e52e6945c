"""Contracts and quotations from Word templates: every shipped template in both languages,
filled from a real CRM workbook through WordTemplate, read back with python-docx as a person
would see it; strict fields, the sandbox, and template mistakes reported with the file."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from books import blank_workbook, built_once
from docx import Document
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from jinja2.exceptions import SecurityError, UndefinedError
from lxml import etree

from addin.contracts.docx import WordTemplate, WordTemplateError
from addin.errors import XlcrmError
from addin.schema import Lang
from addin.settings import KNOWN
from addin.templating import CrmData, TemplateEnvironment, builtin_root, render_problems
from addin.workbook import open_book

TODAY = dt.date(2026, 3, 1)
NUMBER = "HT-2026-0007"
BUYER = "A&B 上海贸易有限公司"
ADDRESS = "上海市浦东新区张江路88号\n星河大厦12楼"
SELLER = {
    "Company name": "星河软件（上海）有限公司",
    "Company address": ADDRESS,
    "Company phone": "021-5080 8888",
    "Company e-mail": "sales@xinghe.cn",
    "Tax ID": "91310115MA1K4XXXXX",
    "Bank": "招商银行上海张江支行",
    "Bank account": "1219 0888 8888 0001",
    "Legal representative": "陈星河",
}
TEMPLATES = ["sales_contract.en", "sales_contract.zh", "quotation.en", "quotation.zh"]
IN_WORDS = "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"


@built_once
def make_book(path: Path, *, bank: bool = True) -> Path:
    """A Chinese CRM workbook: the seller in Settings, two products, three deals."""
    blank_workbook(path, "zh")
    with open_book(path) as book:
        settings = book.table("settings")
        for label, value in SELLER.items():
            if bank or label not in ("Bank", "Bank account"):
                settings.update(_zh_label(label), {"value": value})
        book.table("products").insert_all(
            [
                {
                    "sku": "SAAS-STD",
                    "name": "星河CRM 标准版（年费）",
                    "unit_price": 1200,
                    "currency": "CNY",
                    "unit": "用户·年",
                },
                {"sku": "IMPL-PRO", "name": "实施与培训服务", "unit_price": 34567.89, "unit": "项"},
            ]
        )
        book.table("customers").insert_all(
            [
                {
                    "name": "王伟",
                    "company": BUYER,
                    "email": "wang.wei@ab.cn",
                    "phone": "13800138000",
                },
                {"name": "李娜", "email": "li.na@example.cn"},
            ]
        )
        book.table("deals").insert_all(
            [
                {
                    "customer_id": "C0001",
                    "title": "CRM 项目",
                    "stage": "Won",
                    "amount": 1234567.89,
                    "currency": "CNY",
                    "product": "SAAS-STD x 1000; IMPL-PRO",
                },
                {"customer_id": "C0001", "title": "年度维护服务", "stage": "Won", "amount": 100000},
                {"customer_id": "C0002", "title": "试用转正", "stage": "Won", "amount": 5000},
            ]
        )
    return path


def _zh_label(label: str) -> str:
    """A Settings row's label in the Chinese workbook, where rows are found by it."""
    return next(s.zh for s in KNOWN if s.en == label)


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> CrmData:
    path = make_book(tmp_path_factory.mktemp("book") / "crm.xlsx")
    with open_book(path) as book:
        return CrmData(book, today=TODAY)


def load(name: str) -> WordTemplate:
    """A shipped template, in its language's environment."""
    lang: Lang = "zh" if name.endswith(".zh") else "en"
    return WordTemplate(builtin_root() / "contracts" / f"{name}.docx", TemplateEnvironment(lang))


@pytest.fixture(scope="module")
def templates() -> dict[str, WordTemplate]:
    return {name: load(name) for name in TEMPLATES}


class Shown:
    """What Word shows of a generated document: paragraphs (table cells included, a line
    break as a new line), table rows, header and footer."""

    def __init__(self, data: bytes) -> None:
        doc = Document(io.BytesIO(data))
        self.paragraphs = [Paragraph(p, doc).text for p in doc.element.body.iter(qn("w:p"))]
        self.rows = [
            [cell.text for cell in row.cells] for table in doc.tables for row in table.rows
        ]
        self.footer = "\n".join(p.text for s in doc.sections for p in s.footer.paragraphs)
        self.header = "\n".join(p.text for s in doc.sections for p in s.header.paragraphs)
        self.text = "\n".join(self.paragraphs)


def render(crm: CrmData, template: WordTemplate, deal: str = "D0001") -> Shown:
    built = crm.contract_context(deal, NUMBER)
    assert built.problems == []
    return Shown(template.render(built.context))


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_shipped_template_shows_the_buyer_lines_total_and_number(
    crm: CrmData, templates: dict[str, WordTemplate], name: str
) -> None:
    shown = render(crm, templates[name])
    zh = name.endswith(".zh")
    money = "¥" if zh else "CN¥"
    assert BUYER in shown.paragraphs  # the buyer's cell, with its & intact
    assert "王伟" in shown.text
    assert "星河软件（上海）有限公司" in shown.header
    lines = [row for row in shown.rows if row[1] in ("SAAS-STD", "IMPL-PRO")]
    saas = ["1", "SAAS-STD", "星河CRM 标准版（年费）", "1000", "用户·年", f"{money}1,200.00"]
    impl = ["2", "IMPL-PRO", "实施与培训服务", "1", "项", f"{money}34,567.89"]
    assert lines == [[*saas, f"{money}1,200,000.00"], [*impl, f"{money}34,567.89"]]
    total_row = next(row for row in shown.rows if row[-1] == f"{money}1,234,567.89")
    assert total_row[0] == ("合计" if zh else "Total")
    assert NUMBER in shown.text
    assert NUMBER in shown.footer
    assert ("第 1 页 / 共 1 页" if zh else "Page 1 of 1") in shown.footer  # field's last value
    assert not any("{{" in p or "{%" in p for p in [*shown.paragraphs, shown.footer])


@pytest.mark.parametrize("name", ["sales_contract.zh", "quotation.zh", "sales_contract.en"])
def test_the_total_in_chinese_capitals(
    crm: CrmData, templates: dict[str, WordTemplate], name: str
) -> None:
    shown = render(crm, templates[name])
    if name.endswith(".zh"):
        label = "合同总金额" if name.startswith("sales") else "报价总金额"
        assert f"{label}：人民币 {IN_WORDS}（¥1,234,567.89）" in shown.paragraphs
        assert "壹拾万元整" in render(crm, templates[name], "D0002").text
    else:
        assert f"Amount in words (RMB): {IN_WORDS}" in shown.paragraphs
        assert "Amount in words (RMB): 壹拾万元整" in render(crm, templates[name], "D0002").text


@pytest.mark.parametrize("name", ["sales_contract.zh", "sales_contract.en"])
def test_contracts_show_the_seller_address_on_its_lines_and_the_bank(
    crm: CrmData, templates: dict[str, WordTemplate], name: str
) -> None:
    shown = render(crm, templates[name])
    assert ADDRESS in shown.paragraphs  # the new line became a line break in the same cell
    for value in ("91310115MA1K4XXXXX", "招商银行上海张江支行", "1219 0888 8888 0001", "陈星河"):
        assert value in shown.paragraphs
    if name.endswith(".zh"):
        assert "签订日期：2026年3月1日" in shown.paragraphs
        assert any("提交甲方所在地人民法院诉讼解决" in p for p in shown.paragraphs)
        assert "3. 本合同一式两份，甲、乙双方各执一份，具有同等法律效力。" in shown.paragraphs
    else:
        assert "Date: March 1, 2026" in shown.paragraphs


def test_a_line_without_a_product_is_the_deal_title(
    crm: CrmData, templates: dict[str, WordTemplate]
) -> None:
    shown = render(crm, templates["sales_contract.zh"], "D0002")
    assert ["1", "—", "年度维护服务", "1", "", "¥100,000.00", "¥100,000.00"] in shown.rows


def test_quotations_say_until_when_they_are_valid(
    crm: CrmData, templates: dict[str, WordTemplate]
) -> None:
    built = crm.contract_context("D0001", NUMBER)
    zh = Shown(templates["quotation.zh"].render(built.context))
    assert ["项目名称", "CRM 项目", "有效期至", "2026年3月31日"] in zh.rows  # 30 days by default
    en = Shown(templates["quotation.en"].render({**built.context, "valid_until": TODAY}))
    assert ["Project", "CRM 项目", "Valid until", "March 1, 2026"] in en.rows
    assert "Dear 王伟," in en.paragraphs


def test_names_a_template_uses(templates: dict[str, WordTemplate]) -> None:
    contract = {"company", "contract_no", "customer", "deal", "lines", "today", "total"}
    assert templates["sales_contract.zh"].variables() == contract
    assert templates["quotation.en"].variables() == contract | {"owner", "valid_until"}


def test_only_the_parts_with_tags_change(crm: CrmData, templates: dict[str, WordTemplate]) -> None:
    template = templates["sales_contract.zh"]
    data = template.render(crm.contract_context("D0001", NUMBER).context)
    with zipfile.ZipFile(template.path) as before, zipfile.ZipFile(io.BytesIO(data)) as after:
        assert after.namelist() == before.namelist()
        assert after.testzip() is None
        changed = [n for n in before.namelist() if before.read(n) != after.read(n)]
    assert sorted(changed) == sorted(template.parts)
    assert "word/document.xml" in changed and "word/footer1.xml" in changed


def write_docx(path: Path, *paragraphs: str | list[str]) -> Path:
    """A template made with python-docx; a list is one paragraph of several runs, each bold
    in turn, the way Word splits a tag someone edited halfway."""
    doc = Document()
    for text in paragraphs:
        p = doc.add_paragraph()
        for n, run in enumerate([text] if isinstance(text, str) else text):
            p.add_run(run).bold = n % 2 == 1
    doc.save(path)
    return path


def test_values_are_escaped_and_line_breaks_kept(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "t.docx", "Buyer: {{ name }}", "Address: {{ address }}")
    template = WordTemplate(path, TemplateEnvironment("en"))
    name = "A&B <Ltd> \"Q\" 'S' ]]> &amp;"
    address = "Line 1\nLine 2\r\nLine 3\tTabbed\vLine 4\x00\x1b"  # \v: Word's own line break
    data = template.render({"name": name, "address": address})
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        etree.fromstring(package.read("word/document.xml"))  # well-formed
    shown = Shown(data)
    assert shown.paragraphs == [
        f"Buyer: {name}",
        "Address: Line 1\nLine 2\nLine 3\tTabbed\nLine 4",
    ]


def test_a_tag_split_across_runs_by_word_still_works(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "t.docx", ["No. {{ contr", "act_no", " }} for ", "{{ name }}"])
    template = WordTemplate(path, TemplateEnvironment("zh"))
    assert Shown(template.render({"contract_no": "HT-1", "name": "王伟"})).paragraphs == [
        "No. HT-1 for 王伟"
    ]


def test_curly_quotes_typed_by_word_work_inside_tags(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "t.docx", "Phone: {{ phone | default(“none”) }}")
    template = WordTemplate(path, TemplateEnvironment("en"))
    assert Shown(template.render({})).paragraphs == ["Phone: none"]


def test_an_empty_field_is_listed_by_preflight_and_stops_rendering(
    crm: CrmData, templates: dict[str, WordTemplate]
) -> None:
    built = crm.contract_context("D0003", NUMBER)  # the customer has no company
    for name in TEMPLATES:
        template = templates[name]
        assert render_problems(template.render, built.where, built.context) == [
            "customer.company is empty"
        ], name
        with pytest.raises(UndefinedError, match=r"^customer\.company is empty$"):
            template.render(built.context)


def test_a_contract_needs_the_seller_bank_a_quotation_does_not(tmp_path: Path) -> None:
    path = make_book(tmp_path / "crm.xlsx", bank=False)
    with open_book(path) as book:
        built = CrmData(book, today=TODAY).contract_context("D0001", NUMBER)
    for name in TEMPLATES:
        template = load(name)
        problems = render_problems(template.render, built.where, built.context)
        if name.startswith("quotation"):
            assert problems == []
            continue
        assert problems == [
            "company.bank is empty (fill Bank / 开户银行 in the Settings table)",
            "company.bank_account is empty (fill Bank account / 银行账号 in the Settings table)",
        ]
        with pytest.raises(UndefinedError, match=r"^company\.bank is empty"):
            template.render(built.context)


def test_a_sandbox_escape_is_not_allowed(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "evil.docx", "{{ ''.__class__.__mro__ }}")
    template = WordTemplate(path, TemplateEnvironment("en"))
    assert render_problems(template.render, "Deals!D0001", {}) == [
        "the template tried something not allowed: "
        "access to attribute '__class__' of 'str' object is unsafe."
    ]
    with pytest.raises(SecurityError):
        template.render({})


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [
        (
            ["Dear {{ customer.name }},", "合同编号：{{ contract_no }"],
            "at line 2, the paragraph “合同编号：{{ contract_no }”: unexpected '}'",
        ),
        (
            ["{% if customer.phone is defined %}", "Phone"],
            "Jinja was looking for the following tags: 'elif' or 'else' or 'endif'",
        ),
        (["Total: {{ total | mony }}"], "No filter named 'mony'"),
    ],
)
def test_a_template_syntax_error_names_the_file_and_line(
    tmp_path: Path, paragraphs: list[str], expected: str
) -> None:
    path = write_docx(tmp_path / "我的合同.docx", *paragraphs)
    with pytest.raises(WordTemplateError) as caught:
        WordTemplate(path, TemplateEnvironment("zh"))
    text = str(caught.value)
    assert text.startswith(f"{path}: template error in the body (word/document.xml)")
    assert expected in text
    assert "hint: " in text
    assert isinstance(caught.value, XlcrmError)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0 an old .doc"), "not a Word .docx file"),
        (lambda p: None, "cannot read the template"),
    ],
)
def test_a_file_that_is_not_a_docx(
    tmp_path: Path, make: Callable[[Path], None], expected: str
) -> None:
    path = tmp_path / "old.docx"
    make(path)
    with pytest.raises(WordTemplateError, match=expected):
        WordTemplate(path, TemplateEnvironment("en"))
