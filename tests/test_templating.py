"""The template environment: filters (大写金额, money, dates, greetings), strict fields with
messages that name them, the sandbox, contexts built from a real workbook, and --where."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from books import blank_workbook, built_once
from jinja2 import UndefinedError
from jinja2.exceptions import SecurityError

from addin.campaigns.select import compile_where
from addin.contracts.numbering import ContractNumbers
from addin.errors import UsageError, ValueProblem
from addin.settings import write_settings
from addin.templating import CrmData, Record, TemplateEnvironment, render_problems
from addin.templating.filters import TemplateValueError, cn_upper
from addin.workbook import open_book


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("1234567.89", "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
        (100000, "壹拾万元整"),
        (1234567.89, "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),  # a float cell, no binary noise
        (Decimal("1000.05"), "壹仟元零伍分"),
        (Decimal("1010.05"), "壹仟零壹拾元零伍分"),
        ("0.5", "伍角"),
        (0, "零元整"),
        ("¥1,000", "壹仟元整"),
        (Decimal("2.005"), "贰元零壹分"),  # rounded half up to the fen
    ],
)
def test_cn_upper_writes_amounts_as_banks_and_contracts_do(amount: object, words: str) -> None:
    assert cn_upper(amount) == words


@pytest.mark.parametrize("bad", ["abc", True, "1e400x"])
def test_cn_upper_rejects_what_is_not_an_amount(bad: object) -> None:
    with pytest.raises(TemplateValueError, match="cn_upper needs a number"):
        cn_upper(bad)


def test_cn_upper_refuses_amounts_beyond_a_trillion() -> None:
    with pytest.raises(TemplateValueError, match="too large"):
        cn_upper(Decimal("1000000000000"))


def render(lang: str, source: str, **context: object) -> str:
    return TemplateEnvironment(lang).from_string(source).render(**context)  # type: ignore[arg-type]


def test_money_dates_and_greetings_follow_the_template_language() -> None:
    day = dt.date(2026, 11, 22)
    customer = Record("customer", {"name": "王伟"})
    zh = "{{ c | salutation }}：{{ 1234567.891 | money }} {{ 99 | money('USD') }} {{ d | date }}"
    assert (
        render("zh", zh, c=customer, d=day) == "尊敬的王伟：¥1,234,567.89 US$99.00 2026年11月22日"
    )
    en = "{{ c | salutation }}, {{ 1234.5 | money }} {{ d | date }} {{ d | date('yyyy-MM-dd') }}"
    assert (
        render("en", en, c=customer, d=day) == "Dear 王伟, CN¥1,234.50 November 22, 2026 2026-11-22"
    )
    nameless = Record("customer", {"name": None}, ["name"])
    assert render("zh", "{{ c | salutation }}", c=nameless) == "尊敬的客户"
    assert render("en", "{{ 0.35 | percent }} {{ 1234 | number(0) }}") == "35% 1,234"
    # Currency cells say RMB or 人民币 as often as CNY.
    assert render(
        "zh", "{{ 5 | money('人民币') }} {{ 5 | money('rmb') }} {{ 5 | money('美元') }}"
    ) == ("¥5.00 ¥5.00 US$5.00")


def test_an_empty_field_is_an_error_that_names_it() -> None:
    customer = Record("customer", {"name": "Li", "email": None}, ["name", "email", "phone"])
    with pytest.raises(UndefinedError, match=r"^customer\.email is empty$"):
        render("en", "{{ customer.email }}", customer=customer)
    with pytest.raises(UndefinedError, match=r"customer has no field 'emial' \(its fields: "):
        render("en", "{{ customer.emial }}", customer=customer)
    with pytest.raises(UndefinedError, match="contract_no is not available in this template"):
        render("en", "{{ contract_no }}")
    # A filter hands a missing value on: the error is about the field, not the filter.
    with pytest.raises(UndefinedError, match=r"^deal\.amount is empty$"):
        render("zh", "{{ deal.amount | cn_upper }}", deal=Record("deal", {}, ["amount"]))


def test_optional_fields_are_written_the_jinja_way() -> None:
    customer = Record("customer", {"name": "Li"}, ["name", "phone"])
    source = "{% if customer.phone is defined %}T{% endif %}{{ customer.phone | default('-') }}"
    assert render("en", source, customer=customer) == "-"


def test_values_are_escaped_and_the_sandbox_holds() -> None:
    assert render("en", "{{ x }}", x="A&B <Ltd>") == "A&amp;B &lt;Ltd&gt;"
    with pytest.raises(SecurityError):
        render("en", "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(SecurityError):
        render("en", "{% set l = [] %}{{ l.append(1) }}")
    with pytest.raises(SecurityError):
        render("en", "{{ '{0.__class__}'.format(1) }}")


def test_collecting_reports_every_problem_of_a_row_at_once() -> None:
    env = TemplateEnvironment("zh")
    template = env.from_string(
        "{{ customer.company }} {{ customer.email }} {{ deal.amount | cn_upper }}"
        "{% for line in lines %}{{ line.sku }}{% endfor %}{{ ''.__class__ }}"
    )
    context = {
        "customer": Record("customer", {}, ["company", "email"]),
        "deal": Record("deal", {"amount": 10}),
        "lines": [Record("line", {"sku": None}, ["sku"])],
    }
    assert render_problems(lambda c: template.render(c), "Deals!D0042", context) == [
        "customer.company is empty",
        "customer.email is empty",
        "line.sku is empty",
        "the template tried something not allowed: access to attribute '__class__' of "
        "'str' object is unsafe.",
    ]
    # Outside the collecting pass the same template is strict again.
    with pytest.raises(UndefinedError):
        template.render(context)


@pytest.fixture
def book_path(tmp_path: Path) -> Path:
    return _book_path(tmp_path / "crm.xlsx")


@built_once
def _book_path(path: Path) -> Path:
    blank_workbook(path, "zh")
    with open_book(path) as book:
        write_settings(book, {"company_name": "上海星河软件有限公司"})
        book.table("products").insert_all(
            [
                {
                    "sku": "SAAS-STD",
                    "name": "星河CRM 标准版",
                    "unit_price": 1200,
                    "unit": "用户/年",
                },
                {"sku": "TRAIN", "name": "实施培训", "unit_price": 5000, "unit": "天"},
            ]
        )
        book.table("customers").insert_all(
            [
                {
                    "name": "王伟",
                    "company": "杭州云帆科技有限公司",
                    "email": "wang@yunfan.cn; w@x.cn",
                },
                {"name": "Li", "company": None, "email": None, "tier": "A", "region": "华东"},
            ]
        )
        book.table("deals").insert_all(
            [
                {
                    "customer_id": "C0001",
                    "title": "CRM 年费",
                    "stage": "Won",
                    "amount": 36000,
                    "product": "SAAS-STD",
                },
                {
                    "customer_id": "C0001",
                    "title": "扩容",
                    "stage": "Proposal",
                    "amount": 22000,
                    "product": "SAAS-STD x 10; TRAIN×2",
                    "owner": "赵敏",
                },
                {"customer_id": "C0002", "title": "咨询", "stage": "Lead", "amount": 8000.5},
                {"customer_id": "C0002", "title": "?", "stage": "Lead", "product": "NOPE"},
            ]
        )
    return path


def test_contexts_come_from_the_workbook(book_path: Path) -> None:
    with open_book(book_path) as book:
        data = CrmData(book, today=dt.date(2026, 11, 22))
    won = data.contract_context("D0001", "CT-2026-0001")
    assert won.where == "商机!D0001" and won.problems == []
    context = won.context
    assert context["customer"]["email"] == "wang@yunfan.cn"
    assert context["customer"]["emails"] == ["wang@yunfan.cn", "w@x.cn"]
    assert context["company"]["name"] == "上海星河软件有限公司"
    # One SKU, no quantity: as many seats as the amount buys.
    [line] = context["lines"]
    assert (line["quantity"], line["unit_price"], line["amount"]) == (30, 1200, Decimal("36000.00"))
    assert context["total"] == 36000 and context["contract_no"] == "CT-2026-0001"
    two = data.contract_context("D0002", None).context
    assert [(x["sku"], x["quantity"], x["amount"]) for x in two["lines"]] == [
        ("SAAS-STD", 10, Decimal("12000.00")),
        ("TRAIN", 2, Decimal("10000.00")),
    ]
    assert two["owner"]["name"] == "赵敏"
    # No product: one line, the deal's title at its amount.
    [only] = data.contract_context("D0003", None).context["lines"]
    assert (only["name"], only["amount"]) == ("咨询", Decimal("8000.5"))
    unknown = data.contract_context("D0004", None)
    assert unknown.problems == []  # only a template that uses the line has a problem
    env = TemplateEnvironment("zh")
    lines = env.from_string("{% for x in lines %}{{ x.sku }} {{ x.name }}{% endfor %}")
    assert render_problems(lines.render, unknown.where, unknown.context) == [
        "product 'NOPE' is not in the Products table"
    ]
    # A campaign's deal is the customer's latest open one.
    assert data.campaign_context("C0001").context["deal"]["id"] == "D0002"
    assert "deal" in data.campaign_context("C0002").context
    company = data.company()
    problems = render_problems(
        env.from_string("{{ company.bank }}").render, "x", {"company": company}
    )
    assert problems == ["company.bank is empty (fill Bank / 开户银行 in the Settings table)"]


def test_where_selects_by_meaning_in_either_language(book_path: Path) -> None:
    with open_book(book_path) as book:
        rows = list(book.table("customers").rows())
        columns = book.table("customers").columns
    pick = compile_where('tier == "A" and region == "华东"', columns)
    assert [r["id"] for r in rows if pick(r)] == ["C0002"]
    active = compile_where('status == "活跃" or status == "Lead"', columns)
    assert [r["id"] for r in rows if active(r)] == []
    everybody = compile_where(None, columns)
    assert all(everybody(r) for r in rows)
    no_tags = compile_where('"vip" in tags', columns)
    assert not any(no_tags(r) for r in rows)
    with pytest.raises(UsageError, match="--where: at 1: unknown column 'regoin'") as error:
        compile_where('regoin == "华东"', columns)
    assert "(columns: id, name" in str(error.value)
    assert "did you mean region?" in str(error.value)
    with pytest.raises(UsageError, match="at 16: expected a value after 'and', found the end"):
        compile_where('tier == "A" and', columns)
    # No attribute access, no calls: the filter language has no way to reach Python objects.
    with pytest.raises(UsageError, match=r"at 5: unexpected character '\.'"):
        compile_where("name.__class__", columns)
    with pytest.raises(UsageError, match="at 1: cycler is not a function"):
        compile_where("cycler()", columns)


def test_contract_numbers_follow_the_format_and_are_never_reused() -> None:
    state: dict[str, str] = {}
    day = dt.date(2026, 3, 9)
    numbers = ContractNumbers("", day, ["CT-2026-0007", "CT-2025-0099", None, "junk"], state)
    assert [numbers.next(), numbers.next()] == ["CT-2026-0008", "CT-2026-0009"]
    # The deal holding 0009 was deleted: the state still remembers it.
    again = ContractNumbers("", day, ["CT-2026-0007"], state)
    assert again.next() == "CT-2026-0010"
    monthly = ContractNumbers("HT{yy}{month}-{seq:03}", day, ["HT2603-041", "HT2602-100"], {})
    assert monthly.next() == "HT2603-042"
    with pytest.raises(ValueProblem, match=r"exactly one \{seq\}"):
        ContractNumbers("CT-{year}", day, [], {})
    with pytest.raises(ValueProblem, match="not usable"):
        ContractNumbers("CT-{seq}-{nope}", day, [], {})
