"""The shipped e-mail templates share one HTML shell per language (templates/emails/
layout-en.html, layout-zh.html) through ``{% extends %}``.

Every shipped template is rendered, in both languages, for a customer of the Chinese workbook
tests/test_campaign_message.py builds; what a customer receives must keep the shell's
structure: the same tags in the same order around the message's own content, the document's
language, the logo, the company's details and the unsubscribe link. A copy of a shipped
folder keeps working, a folder may bring its own layout, and a missing layout is reported
when the template is loaded, naming the file and line.
"""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import test_campaign_message as campaign
from test_campaign_message import EMAILS, SHIPPED, context, load, unsubscribe

from addin.campaigns.message import EmailTemplateError
from addin.templating import CrmData

# The Chinese workbook and its CrmData (module-scoped fixtures of the campaign message tests).
workbook = campaign.workbook
data = campaign.data


class _Tags(HTMLParser):
    """The document's element structure: ("start", tag, attributes we check) and ("end", tag)."""

    KEPT = ("class", "lang", "src", "role", "width")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[str, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kept = tuple(f"{k}={v}" for k, v in attrs if k in self.KEPT)
        self.events.append(("start", tag, *kept))

    def handle_endtag(self, tag: str) -> None:
        self.events.append(("end", tag))


def tags(html: str) -> list[tuple[str, ...]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.events


def shell(html: str) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """The tags before the message's own content (after <title>'s text) and after it."""
    head, rest = html.split('<td class="content">', 1)
    _content, tail = rest.split('<td class="footer">', 1)
    return tags(head + '<td class="content">'), tags('<td class="footer">' + tail)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_shipped_template_has_the_layouts_structure(data: CrmData, lang: str) -> None:
    rendered = {
        name: load(EMAILS / name, lang).render(context(data, "C0001")).html for name in SHIPPED
    }
    shells = {name: shell(html) for name, html in rendered.items()}
    first = shells[SHIPPED[0]]
    assert all(s == first for s in shells.values()), "the shell differs between templates"
    head, tail = first
    html_tag = next(e for e in head if e[:2] == ("start", "html"))
    assert html_tag[2] == ("lang=zh-CN" if lang == "zh" else "lang=en")
    assert ("start", "img", "src=logo.png", "width=40") in head
    assert [e for e in head if e[1] in ("head", "style", "body")] == [
        ("start", "head"),
        ("start", "style"),
        ("end", "style"),
        ("end", "head"),
        ("start", "body"),
    ]
    assert tail[-2:] == [("end", "body"), ("end", "html")]
    for name, html in rendered.items():
        # The content sits between the header and the footer, each template's own.
        assert html.count('<td class="content">') == 1 and html.count("<title>") == 1, name
        title = html.split("<title>", 1)[1].split("</title>", 1)[0]
        assert title.strip() and "{" not in title, name
        footer = html.split('<td class="footer">', 1)[1]
        assert "星河软件" in footer and "sales@xinghe.example.cn" in footer, name
        assert "https://www.xinghe.example.cn" in footer, name
        assert unsubscribe().link in footer, name
        assert ("退订" if lang == "zh" else "Unsubscribe") in footer, name


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_copied_shipped_folder_renders_as_the_shipped_one(
    data: CrmData, tmp_path: Path, lang: str
) -> None:
    """A user's copy holds only its own files; the shared layout is found among the shipped."""
    copy = Path(shutil.copytree(EMAILS / "welcome", tmp_path / "my-welcome"))
    assert not list(copy.glob("layout-*.html"))
    ctx = context(data, "C0001")
    assert load(copy, lang).render(ctx).html == load(EMAILS / "welcome", lang).render(ctx).html


def test_a_folder_may_bring_its_own_layout(data: CrmData, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(EMAILS / "promotion", tmp_path / "promotion"))
    (folder / "layout-zh.html").write_text(
        "<html lang='zh-CN'><head><title>{% block title %}{% endblock %}</title></head>"
        "<body><div class='mine'>{% block content %}{% endblock %}</div>"
        "<a href='{{ unsubscribe_url }}'>退订</a></body></html>\n",
        encoding="utf-8",
    )
    html = load(folder, "zh").render(context(data, "C0001")).html
    assert "<div class='mine'>" in html and '<td class="footer">' not in html
    assert "上海启明科技有限公司" in html and unsubscribe().link in html


def test_a_missing_layout_is_reported_with_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "offer"
    folder.mkdir()
    (folder / "en.html").write_text(
        '---\nsubject: "News"\n---\n{% extends "layout-fr.html" %}\n'
        "{% block content %}<p>Hello</p>{% endblock %}\n",
        encoding="utf-8",
    )
    with pytest.raises(EmailTemplateError) as error:
        load(folder, "en")
    assert str(error.value).startswith(
        f"{folder / 'en.html'}:4: the layout 'layout-fr.html' was not found"
    )


def test_a_layout_outside_the_template_folders_is_refused(tmp_path: Path) -> None:
    """Jinja's loader takes no ``..``: a template cannot pull in other files of the computer."""
    (tmp_path / "secret.html").write_text("secret", encoding="utf-8")
    folder = tmp_path / "offer"
    folder.mkdir()
    (folder / "en.html").write_text(
        '---\nsubject: "News"\n---\n{% extends "../secret.html" %}\n', encoding="utf-8"
    )
    with pytest.raises(EmailTemplateError, match=r"the layout '\.\./secret\.html' was not found"):
        load(folder, "en")
