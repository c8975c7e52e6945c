"""Campaign messages: the shipped e-mail templates filled from a real workbook, composed into
MIME bytes, and read back the way a mail client reads them.

Every shipped template is rendered in both languages from a workbook made with
``create_workbook`` and filled through the Table API, through ``CrmData.campaign_context``,
:class:`EmailTemplate` and :func:`compose`; the bytes are parsed with the stdlib's modern parser
and the tests look at what a reader would see: the decoded subject and sender, the greeting, the
text part, the embedded logo, attachments, unsubscribe headers. Nothing is mocked.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import shutil
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from books import blank_workbook

from addin.campaigns.htmltext import html_to_text
from addin.campaigns.message import EmailTemplate, EmailTemplateError, Rendered, compose
from addin.settings import KNOWN
from addin.templating import CrmData, TemplateEnvironment, TemplateValueError, render_problems
from addin.templating.locate import builtin_root
from addin.unsubscribe import (
    Unsubscribe,
    find_token,
    is_unsubscribe_request,
    make_token,
)
from addin.workbook import open_book

EMAILS = builtin_root() / "emails"
SHIPPED = sorted(p.name for p in EMAILS.iterdir() if p.is_dir())
SENDER = "星河软件 <sales@xinghe.example.cn>"
TO = "王伟 <wang.wei@qiming.example.cn>"
MSGID = "<xlcrm.0123456789abcdef0123.c0001@xinghe.example.cn>"
DATE = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
SALT = "test-salt"
COMPANY = {
    "company_name": "星河软件",
    "company_address": "上海市浦东新区张江路 88 号",
    "company_phone": "021-5080 1234",
    "company_email": "sales@xinghe.example.cn",
    "company_website": "www.xinghe.example.cn",
}
CONTRACT = "contracts/星河软件服务合同-CT-2026-0001（盖章版）.pdf"


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Chinese CRM workbook: the seller's details, a product, customers and their deals."""
    path = blank_workbook(tmp_path_factory.mktemp("book") / "crm.xlsx", "zh")
    with open_book(path) as book:
        settings = book.table("settings")
        for key, value in COMPANY.items():
            label = next(s.zh for s in KNOWN if s.key == key)
            settings.update(label, {"value": value})
        book.table("products").insert_all(
            [{"sku": "CRM-STD", "name": "星河CRM 标准版", "unit_price": 1200, "unit": "套"}]
        )
        book.table("customers").insert_all(
            [
                {
                    "id": "C0001",
                    "name": "王伟",
                    "company": "上海启明科技有限公司",
                    "email": "wang.wei@qiming.example.cn",
                    "owner": "李娜",
                    "industry": "制造业",
                },
                {"id": "C0002", "email": "someone@example.cn"},  # no name, no company, no deal
                {
                    "id": "C0003",
                    "name": "赵敏",
                    "company": "启明科技\nBcc: attacker@evil.example",
                    "email": "zhao.min@qiming.example.cn",
                },
            ]
        )
        book.table("deals").insert_all(
            [
                {
                    "id": "D0001",
                    "customer_id": "C0001",
                    "title": "星河CRM 年度订阅",
                    "stage": "Won",
                    "amount": 36000,
                    "currency": "CNY",
                    "product": "CRM-STD",
                    "contract_no": "CT-2026-0001",
                    "contract_file": CONTRACT,
                    "created": dt.date(2026, 3, 1),
                }
            ]
        )
    contract = path.parent / CONTRACT
    contract.parent.mkdir()
    contract.write_bytes(b"%PDF-1.4\n% contract CT-2026-0001\n")
    return path


@pytest.fixture(scope="module")
def data(workbook: Path) -> Iterator[CrmData]:
    with open_book(workbook) as book:
        yield CrmData(book, today=dt.date(2026, 3, 2))


def unsubscribe(customer_id: str = "C0001", url: str | None = None) -> Unsubscribe:
    token = make_token(customer_id, SALT)
    return Unsubscribe(token, "sales@xinghe.example.cn", url.format(token=token) if url else None)


def context(data: CrmData, customer_id: str, unsub: Unsubscribe | None = None) -> dict[str, Any]:
    unsub = unsub or unsubscribe(customer_id)
    return data.campaign_context(
        customer_id, campaign="spring-2026", unsubscribe_url=unsub.link
    ).context


def load(folder: Path, lang: str) -> EmailTemplate:
    return EmailTemplate.load(folder, lang, TemplateEnvironment(lang))  # type: ignore[arg-type]


def send(
    rendered: Rendered, unsub: Unsubscribe | None, **headers: str
) -> tuple[bytes, EmailMessage]:
    raw = compose(
        rendered,
        sender=SENDER,
        to=TO,
        message_id=MSGID,
        date=DATE,
        unsubscribe=unsub,
        headers=headers,
    )
    return raw, email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def text_of(message: EmailMessage) -> str:
    """The text part as a client shows it (line ends are CRLF inside a base64 body)."""
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]


def header_block(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


# -- every shipped template, both languages ---------------------------------------------------


def test_the_shipped_templates_have_both_languages_a_logo_and_some_text_bodies() -> None:
    assert SHIPPED == ["follow-up", "promotion", "renewal", "welcome"]
    for name in SHIPPED:
        folder = EMAILS / name
        assert (folder / "en.html").is_file() and (folder / "zh.html").is_file()
        assert (folder / "logo.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert (folder / "logo.png").stat().st_size < 4096
    assert (
        sum(
            (EMAILS / n / "zh.txt").is_file() and (EMAILS / n / "en.txt").is_file() for n in SHIPPED
        )
        >= 2
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_template_makes_a_message_a_client_shows_right(
    data: CrmData, name: str, lang: str
) -> None:
    template = load(EMAILS / name, lang)
    ctx = context(data, "C0001")
    assert render_problems(template.render, "Customers!C0001", ctx) == []
    unsub = unsubscribe()
    raw, message = send(template.render(ctx), unsub, **{"X-Campaign": "春季促销"})

    # Headers: encoded on the wire (RFC 2047), decoded by the client.
    head = header_block(raw)
    assert head.isascii() and b"=?utf-8?" in head
    assert "上海启明科技有限公司" in message["Subject"]
    assert "\n" not in message["Subject"]
    assert message["From"].addresses[0].display_name == "星河软件"
    assert message["From"].addresses[0].addr_spec == "sales@xinghe.example.cn"
    assert message["To"].addresses[0].display_name == "王伟"
    assert message["Message-ID"] == MSGID
    assert message["Date"].datetime == DATE
    assert message["X-Campaign"] == "春季促销"
    assert message["Precedence"] == "bulk"
    assert "Auto-Submitted" not in message
    assert message["List-Unsubscribe"] == f"<{unsub.mailto_url}>"
    assert "List-Unsubscribe-Post" not in message
    assert re.search(rb"(?<!\r)\n", raw) is None  # CRLF throughout

    # Structure: text and HTML alternatives, the logo inside multipart/related.
    assert message.get_content_type() == "multipart/alternative"
    types = [part.get_content_type() for part in message.walk()]
    assert types == [
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
    ]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            assert part["Content-Transfer-Encoding"] in ("base64", "quoted-printable")

    greeting = "尊敬的王伟：" if lang == "zh" else "Dear 王伟,"
    text = text_of(message)
    assert text.startswith(greeting) or f"\n{greeting}\n" in text
    assert not re.search(r"<(p|td|table|br|a|div|span)\b", text)
    assert "{{" not in text and "{%" not in text
    assert unsub.link in text
    assert text.count(unsub.link) == 1  # the template's own footer: nothing added
    assert "星河软件" in text and "021-5080 1234" in text

    markup = html_of(message)
    assert greeting in markup
    assert re.search(r'<p [^>]*style="[^"]*font-size', markup)  # CSS inlined
    assert "@media" in markup  # and the <style> kept for phones
    assert f'href="{unsub.link}"' in markup
    assert ">退订</a>" in markup if lang == "zh" else ">Unsubscribe</a>" in markup
    image = next(p for p in message.walk() if p.get_content_type() == "image/png")
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in markup and 'src="logo.png"' not in markup
    assert image.get_content() == (EMAILS / name / "logo.png").read_bytes()
    assert image.get_content_disposition() == "inline"

    if name == "renewal":
        amount = "¥36,000.00"
        assert "CT-2026-0001" in text and amount in text and amount in markup
    if not (EMAILS / name / f"{lang}.txt").is_file():  # generated: links read "text <url>"
        assert re.search(rf"(退订|Unsubscribe)\s<{re.escape(unsub.link)}>", text)
        assert "www.xinghe.example.cn" in text and "<www." not in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_same_recipient_gets_the_same_bytes(data: CrmData, lang: str) -> None:
    """Resumed runs and Sends rows rely on a message being reproducible (the Content-IDs too)."""
    template = load(EMAILS / "promotion", lang)
    first, _ = send(template.render(context(data, "C0001")), unsubscribe())
    again, _ = send(template.render(context(data, "C0001")), unsubscribe())
    strip = re.compile(rb"=+\d+==")  # only MIME boundaries are random
    assert strip.sub(b"", first) == strip.sub(b"", again)


# -- preflight: what is wrong with a row, before anything is sent ------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", SHIPPED)
def test_a_customer_without_company_is_a_problem_not_a_blank(
    data: CrmData, name: str, lang: str
) -> None:
    template = load(EMAILS / name, lang)
    problems = render_problems(template.render, "客户!C0002", context(data, "C0002"))
    assert "customer.company is empty" in problems
    if name == "renewal":  # the one template that is all about the deal
        assert "deal is not available in this template" in problems
    else:
        assert not any("deal" in p for p in problems)
    with pytest.raises(Exception, match=r"customer\.company is empty"):
        template.render(context(data, "C0002"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_line_break_from_a_cell_cannot_inject_headers(data: CrmData, lang: str) -> None:
    template = load(EMAILS / "promotion", lang)
    problems = render_problems(template.render, "客户!C0003", context(data, "C0003"))
    assert len(problems) == 1
    assert problems[0].startswith("the subject contains a line break or control character after")
    assert "启明科技" in problems[0]
    with pytest.raises(TemplateValueError, match="subject contains a line break"):
        template.render(context(data, "C0003"))


def write_template(folder: Path, html: str, lang: str = "zh", text: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{lang}.html").write_text(html, encoding="utf-8")
    if text is not None:
        (folder / f"{lang}.txt").write_text(text, encoding="utf-8")
    return folder


SIMPLE = """---
subject: "{{ customer.company }}，您好"
---
<html><head><style>p { color: #333333; }</style></head>
<body><p>{{ customer | salutation }}：</p><p>您好！</p>BODY</body></html>
"""


@pytest.mark.parametrize(
    ("where", "code"),
    [
        ("body", "{{ customer.__class__.__mro__ }}"),
        ("body", "{{ ''.__class__.__subclasses__() }}"),
        ("body", "{{ customer.clear() }}"),
        ("subject", "{{ ().__class__ }}"),
        ("text", "{{ lines.append(1) }}"),
    ],
)
def test_the_sandbox_holds_in_every_part_of_a_template(
    data: CrmData, tmp_path: Path, where: str, code: str
) -> None:
    html = SIMPLE.replace("BODY", code if where == "body" else "")
    if where == "subject":
        html = html.replace("，您好", "，您好" + code)
    folder = write_template(tmp_path / "evil", html, text=code if where == "text" else None)
    template = load(folder, "zh")
    problems = render_problems(template.render, "客户!C0001", context(data, "C0001"))
    assert problems and all("not allowed" in p for p in problems), problems


def test_the_text_body_and_subject_are_not_html_escaped(data: CrmData, tmp_path: Path) -> None:
    html = SIMPLE.replace("{{ customer.company }}，您好", "{{ customer.company }} & {{ x }}")
    folder = write_template(tmp_path / "t", html, text="{{ x }} & {{ customer.company }}\n")
    rendered = load(folder, "zh").render({**context(data, "C0001"), "x": "<A&B>"})
    assert rendered.subject == "上海启明科技有限公司 & <A&B>"
    assert rendered.text == "<A&B> & 上海启明科技有限公司\n"
    html = load(write_template(tmp_path / "h", SIMPLE.replace("BODY", "{{ x }}")), "zh")
    assert "&lt;A&amp;B&gt;" in html.render({**context(data, "C0001"), "x": "<A&B>"}).html


# -- template files that cannot be used --------------------------------------------------------


@pytest.mark.parametrize(
    ("front", "line", "message"),
    [
        ("subject: {{ customer.company }}，您好\n", 2, "the front matter is not valid YAML"),
        ('subject: "ok"\nfrom: a: b\n', 3, "the front matter is not valid YAML"),
        ('subject: "ok"\nsubjet: "typo"\n', 3, "unknown front matter key 'subjet'"),
        ('subject: "{{ customer.company "\n', 2, "template syntax error in the subject"),
        ('subject: "ok"\nattachments: {a: 1}\n', 3, "attachments: must be a list"),
        ("subject: |\n  two\n  lines\n", 2, "the subject must be one line"),
    ],
)
def test_a_bad_front_matter_names_the_file_and_line(
    tmp_path: Path, front: str, line: int, message: str
) -> None:
    folder = write_template(tmp_path / "bad", f"---\n{front}---\n<p>hi</p>\n")
    with pytest.raises(EmailTemplateError) as caught:
        load(folder, "zh")
    assert str(caught.value).startswith(f"{folder / 'zh.html'}:{line}: {message}")


def test_a_template_without_subject_or_front_matter_names_the_file(tmp_path: Path) -> None:
    folder = write_template(tmp_path / "nosubject", '---\nfrom: "a@b.cn"\n---\n<p>hi</p>\n')
    with pytest.raises(EmailTemplateError, match=r"zh\.html: the front matter has no subject:"):
        load(folder, "zh")
    folder = write_template(tmp_path / "plain", "<p>hi</p>\n")
    with pytest.raises(EmailTemplateError, match=r"zh\.html:1: the file must start with front"):
        load(folder, "zh")


def test_a_jinja_error_in_the_body_names_its_line_in_the_file(tmp_path: Path) -> None:
    html = '---\nsubject: "hi"\n---\n<p>one</p>\n<p>{% if customer.name %}two</p>\n'
    folder = write_template(tmp_path / "syntax", html)
    with pytest.raises(EmailTemplateError) as caught:
        load(folder, "zh")
    assert str(caught.value).startswith(
        f"{folder / 'zh.html'}:5: template syntax error in the body"
    )


def test_a_template_in_gbk_says_to_save_it_as_utf8(tmp_path: Path) -> None:
    folder = tmp_path / "gbk"
    folder.mkdir()
    (folder / "zh.html").write_bytes('---\nsubject: "您好"\n---\n<p>您好</p>\n'.encode("gbk"))
    with pytest.raises(EmailTemplateError, match="not UTF-8") as caught:
        load(folder, "zh")
    assert "save it as UTF-8" in str(caught.value)


def test_a_template_in_one_language_serves_both_and_none_is_an_error(
    data: CrmData, tmp_path: Path
) -> None:
    english = SIMPLE.replace("您好", "hello").replace("：", ",")
    folder = write_template(tmp_path / "only-en", english, lang="en")
    template = load(folder, "zh")
    assert template.lang == "en" and template.path.name == "en.html"
    assert "Dear 王伟," in template.render(context(data, "C0001")).text
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("")
    with pytest.raises(
        EmailTemplateError, match=r"no zh\.html or zh\.txt \(nor en\.html or en\.txt\).*notes\.txt"
    ):
        load(empty, "zh")


# -- unsubscribe links and headers --------------------------------------------------------------


def test_an_https_unsubscribe_page_gets_one_click_headers(data: CrmData) -> None:
    unsub = unsubscribe(url="https://xinghe.example.cn/unsubscribe?t={token}&c=spring-2026,a")
    assert unsub.link == unsub.url and unsub.url.endswith("&c=spring-2026%2Ca")
    template = load(EMAILS / "promotion", "zh")
    raw, message = send(template.render(context(data, "C0001", unsub)), unsub)
    assert message["List-Unsubscribe"] == f"<{unsub.mailto_url}>, <{unsub.url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    lines = re.search(rb"List-Unsubscribe: .*?\r\n(?=\S)", raw, re.S)[0]  # type: ignore[index]
    assert b"=?" not in lines  # never RFC 2047 encoded, however long
    markup = html_of(message)
    assert markup.count(unsub.url.replace("&", "&amp;")) == 1  # no footer added
    assert f"退订 <{unsub.url}>" in text_of(message)


def test_http_unsubscribe_pages_are_listed_but_not_one_click() -> None:
    unsub = Unsubscribe("C0001-abcdefghij", "sales@xinghe.example.cn", "http://127.0.0.1:8080/u")
    assert not unsub.one_click and unsub.header.endswith("<http://127.0.0.1:8080/u>")
    with pytest.raises(ValueError, match="https"):
        Unsubscribe("C0001-abcdefghij", "sales@xinghe.example.cn", "ftp://x/u")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_template_that_forgot_the_unsubscribe_link_gets_a_footer(
    data: CrmData, tmp_path: Path, lang: str
) -> None:
    html = SIMPLE if lang == "zh" else SIMPLE.replace("您好", "hello")
    folder = write_template(tmp_path / "forgot", html.replace("BODY", ""), lang=lang)
    unsub = unsubscribe()
    _, message = send(load(folder, lang).render(context(data, "C0001")), unsub)
    words = ("点击退订", "请退订：") if lang == "zh" else ("Unsubscribe</a>", "Unsubscribe: ")
    markup = html_of(message)
    assert words[0] in markup and f'href="{unsub.mailto_url}"' in markup
    assert markup.index(words[0]) < markup.index("</body>")
    assert text_of(message).rstrip().endswith(f"{words[1]}{unsub.mailto_url}")
    assert message["List-Unsubscribe"] == f"<{unsub.mailto_url}>"


def test_without_unsubscribe_there_are_no_list_headers(data: CrmData) -> None:
    _, message = send(load(EMAILS / "welcome", "zh").render(context(data, "C0001")), None)
    assert "List-Unsubscribe" not in message and "List-Unsubscribe-Post" not in message


def test_tokens_are_short_readable_keyed_and_found_again() -> None:
    token = make_token("C0042", SALT)
    assert re.fullmatch(r"C0042-[a-z2-7]{10}", token)
    assert make_token("C0042", SALT) == token != make_token("C0042", "other-salt")
    assert make_token("C0043", SALT) != token
    assert re.fullmatch(r"u\d{4}-[a-z2-7]{10}", make_token("客户甲", SALT))
    with pytest.raises(ValueError):
        make_token("C0042", "")
    unsub = Unsubscribe(token, "sales@xinghe.example.cn")
    assert unsub.mailto_url == f"mailto:sales@xinghe.example.cn?subject=unsubscribe%20{token}"
    assert unsub.link == unsub.mailto_url
    assert find_token(f"Re: unsubscribe {token}") == token
    assert find_token(f"> 请点击退订 <{unsub.mailto_url}>") == token
    assert find_token(f"RE: UNSUBSCRIBE {token.upper()}") == token
    assert find_token("a well-documented, award-winning product") is None
    assert find_token(f"covid19-vaccinated staff. unsubscribe {token}") == token
    assert find_token("") is None


@pytest.mark.parametrize(
    ("subject", "body", "wanted"),
    [
        ("退订", "", True),
        ("Re: 星河软件春季优惠", "TD", True),
        ("回复：星河软件春季优惠", "td。\n\n发件人：星河软件", True),
        ("Re: spring offer", "Please unsubscribe me.\nThanks", True),
        ("Re: spring offer", "请帮我取消订阅，谢谢", True),
        ("Unsubscribe C0042-abcdefghij", "", True),
        ("Re: 星河软件春季优惠", "谢谢，我们考虑一下。\n\n-----原始邮件-----\n…点击退订", False),
        ("Re: spring offer", "Sounds good.\n\nOn Mon, Mar 2 Sales wrote:\n> Unsubscribe", False),
        ("Re: TD Bank account", "Our TD account number is below.", False),
    ],
)
def test_unsubscribe_requests_are_recognised_in_what_the_person_wrote(
    subject: str, body: str, wanted: bool
) -> None:
    assert is_unsubscribe_request(subject, body) is wanted


# -- attachments and images ---------------------------------------------------------------------


def renewal_with(tmp_path: Path, attachments: str) -> Path:
    folder = tmp_path / "renewal"
    shutil.copytree(EMAILS / "renewal", folder)
    for lang in ("zh", "en"):
        path = folder / f"{lang}.html"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("---\n", f"---\nattachments: {attachments}\n", 1), "utf-8")
    return folder


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_attachments_with_chinese_names_reach_the_client_intact(
    data: CrmData, workbook: Path, tmp_path: Path, lang: str
) -> None:
    folder = renewal_with(tmp_path, '["{{ deal.contract_file }}", "价格表 2026.pdf"]')
    (folder / "价格表 2026.pdf").write_bytes(b"%PDF-1.4\n% prices\n")
    template = load(folder, lang)
    rendered = template.render(context(data, "C0001"), base_dir=workbook.parent)
    raw, message = send(rendered, unsubscribe())
    assert message.get_content_type() == "multipart/mixed"
    files = {a.get_filename(): a.get_content() for a in message.iter_attachments()}
    assert files == {
        "星河软件服务合同-CT-2026-0001（盖章版）.pdf": (workbook.parent / CONTRACT).read_bytes(),
        "价格表 2026.pdf": b"%PDF-1.4\n% prices\n",
    }
    assert b"filename*=utf-8''%E6%98%9F" in raw  # RFC 2231, as Outlook and Foxmail read it
    assert all(a.get_content_type() == "application/pdf" for a in message.iter_attachments())
    assert message.get_body(("html",)) is not None and "CT-2026-0001" in text_of(message)


def test_an_attachment_that_is_missing_or_outside_the_folders_is_a_problem(
    data: CrmData, workbook: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("not for customers")
    folder = renewal_with(tmp_path, f'["gone.pdf", "../secret.txt", "{outside}"]')
    template = load(folder, "zh")
    ctx = context(data, "C0001")
    problems = render_problems(lambda c: template.render(c, base_dir=workbook.parent), "w", ctx)
    assert len(problems) == 1
    assert "attachment 'gone.pdf' does not exist (looked in" in problems[0]
    assert (
        "attachment '../secret.txt' is outside the template's and the workbook's folders"
        in (problems[0])
    )
    assert f"attachment '{outside}' is outside" in problems[0]


def test_an_empty_attachment_value_is_skipped(data: CrmData, tmp_path: Path) -> None:
    folder = renewal_with(tmp_path, "[\"{{ customer.fax | default('') }}\"]")
    rendered = load(folder, "zh").render(context(data, "C0001"))
    assert rendered.attachments == ()


def test_local_images_are_embedded_remote_ones_left_and_missing_ones_reported(
    data: CrmData, tmp_path: Path
) -> None:
    body = (
        '<img src="logo.png" alt="">'
        '<img src="images/banner%20spring.png?v=2" alt="春季">'
        '<img src="https://cdn.example.cn/x.png" alt="">'
        '<img src="logo.png" alt="again">'
    )
    folder = write_template(tmp_path / "pics", SIMPLE.replace("BODY", body))
    shutil.copy(EMAILS / "welcome" / "logo.png", folder / "logo.png")
    (folder / "images").mkdir()
    (folder / "images" / "banner spring.png").write_bytes(b"\x89PNG\r\n\x1a\nbanner")
    _, message = send(load(folder, "zh").render(context(data, "C0001")), unsubscribe())
    parts = [p for p in message.walk() if p.get_content_maintype() == "image"]
    assert [p.get_filename() for p in parts] == ["logo.png", "banner spring.png"]
    markup = html_of(message)
    for part in parts:
        assert markup.count(f'src="cid:{part["Content-ID"].strip("<>")}"') == (
            2 if part.get_filename() == "logo.png" else 1
        )
    assert 'src="https://cdn.example.cn/x.png"' in markup

    missing = SIMPLE.replace("BODY", '<img src="banner.png"><img src="../welcome/logo.png">')
    template = load(write_template(tmp_path / "nopics", missing), "zh")
    problems = render_problems(template.render, "w", context(data, "C0001"))
    assert problems == [
        f"the image 'banner.png' is not in the template folder {tmp_path / 'nopics'}; "
        "the image '../welcome/logo.png' is outside the template folder"
    ]


def test_a_from_override_in_the_front_matter_wins_and_is_checked(
    data: CrmData, tmp_path: Path
) -> None:
    html = SIMPLE.replace(
        "---\nsubject",
        '---\nfrom: "{{ owner.name }} <lina@xinghe.example.cn>"\n'
        'reply_to: "not an address"\nsubject',
    )
    template = load(write_template(tmp_path / "from", html), "zh")
    assert template.sender == "{{ owner.name }} <lina@xinghe.example.cn>"
    problems = render_problems(template.render, "w", context(data, "C0001"))
    assert problems == [
        "reply_to: 'not an address' is not an e-mail address (write Name <name@domain>)"
    ]
    fixed = load(
        write_template(
            tmp_path / "from2", html.replace("not an address", "客服 <service@xinghe.example.cn>")
        ),
        "zh",
    )
    _, message = send(fixed.render(context(data, "C0001")), None)
    assert message["From"].addresses[0].display_name == "李娜"
    assert message["Reply-To"].addresses[0].display_name == "客服"


# -- html_to_text ----------------------------------------------------------------------------


def test_html_to_text_reads_lists_nested_and_numbered() -> None:
    html = (
        "<p>Agenda:</p><ul><li>Intro<ul><li>Who we are</li><li>What we do</li></ul></li>"
        "<li>Pricing</li></ul>"
        "<ol start='3'><li>Third<br>with a second line</li><li>Fourth</li></ol>"
    )
    assert html_to_text(html) == (
        "Agenda:\n\n- Intro\n  - Who we are\n  - What we do\n- Pricing\n\n"
        "3. Third\n   with a second line\n4. Fourth\n"
    )


def test_html_to_text_reads_layout_tables_as_blocks_and_data_tables_as_rows() -> None:
    html = """
    <table role="presentation" width="100%"><tr><td>
      <table role="presentation"><tr><td><img src="logo.png" alt=""></td>
        <td>星河软件</td></tr></table>
    </td></tr><tr><td>&nbsp;</td></tr><tr><td><p>正文第一段。</p><p>正文第二段。</p></td></tr>
    <tr><td><table><tr><th>产品</th><th>数量</th></tr>
      <tr><td>星河CRM</td><td>30 套</td></tr></table>
    </td></tr></table>"""
    assert html_to_text(html) == (
        "星河软件\n\n正文第一段。\n\n正文第二段。\n\n产品 | 数量\n星河CRM | 30 套\n"
    )


def test_html_to_text_closes_cells_rows_and_items_the_way_browsers_do() -> None:
    html = "<table><tr><td>a<td>b<tr><td>c<td><b>d</table><ul><li>one<li><i>two</i><li>three</ul>"
    assert html_to_text(html) == "a | b\nc | d\n\n- one\n- two\n- three\n"


def test_html_to_text_joins_chinese_lines_and_does_not_wrap_them() -> None:
    sentence = "感谢贵公司长期以来对星河软件的支持与信任。" * 6
    html = f"<p>您好！\n    我们特推出\n    春季优惠。</p><p>{sentence}</p><p>共 30 天 有效</p>"
    assert html_to_text(html) == f"您好！我们特推出春季优惠。\n\n{sentence}\n\n共 30 天 有效\n"


def test_html_to_text_wraps_latin_text_at_76_columns_without_breaking_urls() -> None:
    url = "https://www.xinghe.example.cn/offers/spring-2026?utm_source=email&utm_campaign=spring"
    html = (
        "<p>"
        + "Thank you for being a valued customer of 星河软件. " * 4
        + f"<a href='{url}'>See the offer</a></p>"
    )
    lines = html_to_text(html).splitlines()
    assert len(lines) > 2
    assert all(len(line.encode("gbk")) <= 76 for line in lines if url not in line)
    assert lines[-1].endswith(f"<{url}>") and url in lines[-1]


def test_html_to_text_decodes_entities_and_drops_hidden_parts() -> None:
    html = """<html><head><title>Not shown</title><style>p { color: red; }</style>
    <script>var x = "<p>no</p>";</script></head><body>
    <div class="preheader" style="display: none; max-height: 0;">Preview&zwnj;&nbsp;&zwnj;</div>
    <span style="mso-hide: all">outlook only</span><span aria-hidden="true">decoration</span>
    <div hidden>hidden</div><!-- a comment --><!--[if mso]><p>mso</p><![endif]-->
    <p>Fish &amp; chips &lt;tag&gt; caf&eacute; &#x4e2d;&#25991; &quot;q&quot;&nbsp;&mdash; ok</p>
    </body></html>"""
    assert html_to_text(html) == 'Fish & chips <tag> café 中文 "q" — ok\n'


@pytest.mark.parametrize(
    ("link", "text"),
    [
        ('<a href="https://x.cn/a">See more</a>', "See more <https://x.cn/a>"),
        ('<a href="https://www.x.cn/">https://www.x.cn/</a>', "https://www.x.cn/"),
        ('<a href="https://www.x.cn">www.x.cn</a>', "www.x.cn"),
        ('<a href="mailto:sales@x.cn">sales@x.cn</a>', "sales@x.cn"),
        ('<a href="mailto:sales@x.cn">Write to us</a>', "Write to us <sales@x.cn>"),
        (
            '<a href="mailto:sales@x.cn?subject=unsubscribe%20C1-abcdefghij">退订</a>',
            "退订 <mailto:sales@x.cn?subject=unsubscribe%20C1-abcdefghij>",
        ),
        ('<a href="tel:+862150801234">+862150801234</a>', "+862150801234"),
        ('<a href="#top">Top</a>', "Top"),
        (
            '<a href="https://x.cn/logo"><img src="logo.png" alt="星河软件"></a>',
            "星河软件 <https://x.cn/logo>",
        ),
        ('<a href="https://x.cn/only"><img src="logo.png" alt=""></a>', "https://x.cn/only"),
    ],
)
def test_html_to_text_writes_links_once(link: str, text: str) -> None:
    assert html_to_text(f"<p>{link}</p>") == text + "\n"


def test_html_to_text_keeps_preformatted_text_and_quotes() -> None:
    html = "<pre>  a  b\n c</pre><blockquote><p>quoted</p><p>twice</p></blockquote><hr><p>end</p>"
    assert (
        html_to_text(html) == "  a  b\n c\n\n> quoted\n>\n> twice\n\n--------------------\n\nend\n"
    )


@pytest.mark.parametrize(
    "value",
    [
        "zhang.wei@huadong.example.cn",
        "张伟 <zhang.wei@huadong.example.cn>",
        "  Li   Lei <li.lei@customer.cn>",
        "O'Brien-Smith <ob+news@example.co.uk>",
        "Müller<mueller@example.de>",
        "<only@example.cn>",
        '"Lei, Li" <li@example.cn>',  # quotes: the full parser
        "=?utf-8?b?5byg5LiJ?= <zhang@example.cn>",  # an encoded word: the full parser
        "a@example.cn, 李 <li@example.cn>",  # two addresses: the full parser
    ],
)
def test_address_headers_read_the_same_with_or_without_the_full_parser(value: str) -> None:
    """A plain ``Name <address>`` skips the header parser (issue 16: a campaign's To is one,
    every message); the header written is the one the full parse gives."""
    from email.utils import formataddr, getaddresses

    from addin.campaigns.message import _address

    expected = ", ".join(formataddr(p, charset="utf-8") for p in getaddresses([value]))
    assert _address(value, "To") == expected


@pytest.mark.parametrize(
    "value",
    ["not-an-address", "Li <li@>", "a@b.cn\r\nBcc: x@y.cn", "Li Jr. <li@example.cn>"],
)
def test_a_bad_address_header_is_refused_either_way(value: str) -> None:
    """What the full parser refuses (an unquoted period in a name is obsolete syntax) is
    never taken by the plain path."""
    from addin.campaigns.message import _address
    from addin.errors import XlcrmError

    with pytest.raises(XlcrmError, match="is not an e-mail address"):
        _address(value, "To")
