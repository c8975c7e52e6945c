"""Campaign e-mail templates, and the MIME message made for each recipient.

A template is a folder (``templates/emails/promotion/``) with ``en.html`` and/or ``zh.html``,
optionally ``en.txt``/``zh.txt`` and the images the HTML shows. A language with a ``.txt`` but
no ``.html`` is a plain-text template: the ``.txt`` then carries the front matter and the
message is a single ``text/plain`` body (many sales mails are plain on purpose). Each
``.html`` (or lone ``.txt``) starts with YAML front matter::

    ---
    subject: "{{ customer.company }}，{{ company.name }}春季优惠"
    preheader: "全线产品八五折，至4月30日"
    from: "星河软件 <sales@xinghe.example.cn>"      # optional, else --sender / Settings
    reply_to: "{{ owner.name }} <owner@xinghe.example.cn>"   # optional
    attachments: ["brochure.pdf", "{{ deal.contract_file }}"]  # optional
    ---
    <!doctype html> …

Every value is a Jinja template filled from the recipient's context (see ``templates/emails/
README.md``). The HTML is rendered with autoescaping; the subject, the header values, the
attachment paths and the ``.txt`` body are not HTML and are rendered without it, in the same
sandbox (``env.overlay(autoescape=False)`` keeps the sandboxed environment class).

:meth:`EmailTemplate.render` fills everything and checks what would make a bad message — a line
break in a header (header injection through a cell value), an attachment or image that does not
exist or lies outside the template's and the workbook's folders — so the campaign's preflight
reports it for every row before anything is sent. :func:`compose` turns the result into the
bytes of one message: text and HTML alternatives, CSS inlined for clients that drop ``<style>``,
the template's images embedded as ``cid:`` parts, attachments, and the unsubscribe headers.

:class:`TemplateFolder` holds every language a folder has and gives each recipient the version
of their context's ``lang`` (the customer's Language cell, else the workbook's): an English
workbook mails 韩杰 in Chinese when his row says so. A recipient whose language the folder lacks
is a preflight problem, except for the run's default language, which falls back to the other
version as a one-language folder always has.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html as htmllib
import io
import mimetypes
import re
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from email import encoders
from email.generator import BytesGenerator
from email.header import Header
from email.headerregistry import HeaderRegistry
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, getaddresses
from html.parser import HTMLParser
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote

import css_inline
import yaml
from jinja2 import (
    Environment,
    FileSystemLoader,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
)
from jinja2 import meta as jinja_meta
from markupsafe import escape

from ..errors import XlcrmError
from ..schema import Lang
from ..templating import TemplateEnvironment, TemplateValueError
from ..templating.locate import builtin_root
from ..unsubscribe import Unsubscribe
from .htmltext import html_to_text

KEYS = ("subject", "from", "reply_to", "attachments", "preheader")
_KEY_ALIASES = {"reply-to": "reply_to", "replyto": "reply_to", "sender": "from"}
_QUOTING_HINT = (
    'put values that start with {{ or contain ": " in quotes, e.g. '
    'subject: "{{ customer.company }}，{{ company.name }}春季优惠"'
)
_HEADER_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_BODY_TAG = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_IMG_SRC = re.compile(r'(<img\b[^>]*?\ssrc=")([^"]*)(")', re.IGNORECASE)
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})
PREHEADER = (
    '<div class="preheader" style="display:none;font-size:1px;line-height:1px;max-height:0;'
    'max-width:0;opacity:0;overflow:hidden;mso-hide:all;">{text}'
    + "&#847;&zwnj;&nbsp;" * 40  # keeps the body's first words out of the inbox preview
    + "</div>"
)
FOOTER: dict[str, tuple[str, str]] = {  # (html, text) added when a template has no unsubscribe link
    "zh": (
        '<p style="margin:24px auto;max-width:600px;font-size:12px;line-height:18px;'
        'color:#8a8f98;text-align:center;">如不希望再收到此类邮件，请'
        '<a href="{link}" style="color:#8a8f98;text-decoration:underline;">点击退订</a>。</p>',
        "如不希望再收到此类邮件，请退订：{link}",
    ),
    "en": (
        '<p style="margin:24px auto;max-width:600px;font-size:12px;line-height:18px;'
        "color:#8a8f98;text-align:center;\">Don't want these e-mails? "
        '<a href="{link}" style="color:#8a8f98;text-decoration:underline;">Unsubscribe</a>.</p>',
        "Don't want these e-mails? Unsubscribe: {link}",
    ),
}


CONTENT_LANGUAGE: dict[str, str] = {"en": "en", "zh": "zh-CN"}


class EmailTemplateError(XlcrmError):
    """A campaign template that cannot be used: unreadable, bad front matter, bad Jinja."""


_HEADERS = HeaderRegistry()  # parses address headers to check them (address_problem)


# -- templates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """One recipient's message before it is composed: what a preview shows."""

    subject: str
    html: str  # empty for a plain-text template
    own_text: str | None  # the .txt template's output; None: generated from the HTML
    attachments: tuple[Path, ...]
    sender: str | None  # from: in the front matter, overriding the campaign's sender
    reply_to: str | None
    lang: Lang
    template: Path  # the .html (or lone .txt) file, for error messages; images are beside it
    text_generated: bool = False

    @functools.cached_property
    def text(self) -> str:
        """The text/plain part: the .txt template's output, else generated from the HTML when
        first read — not in the preflight, which checks every message before the first one
        goes, but when the message is composed (on the outbox's thread, during the network
        waits)."""
        return self.own_text if self.own_text is not None else html_to_text(self.html)

    @property
    def size(self) -> int:
        """About how many characters this message keeps in memory, its text part included."""
        return len(self.html) + (
            len(self.own_text) if self.own_text is not None else len(self.html)
        )

    @property
    def folder(self) -> Path:
        return self.template.parent

    @property
    def text_only(self) -> bool:
        """A plain-text template's message: one text/plain body, no HTML alternative."""
        return not self.html


@dataclass(frozen=True)
class _Compiled:
    subject: Template
    html: Template | None  # None for a plain-text template
    text: Template | None
    sender: Template | None
    reply_to: Template | None
    preheader: Template | None
    attachments: tuple[Template, ...]


@dataclass(frozen=True)
class EmailTemplate:
    """A campaign template folder, compiled for one language."""

    folder: Path
    lang: Lang  # the language of the file used (the other one when only that exists)
    path: Path  # the .html file, or the .txt of a plain-text template
    text_path: Path | None  # the hand-written .txt body, if any
    sender: str | None  # the front matter's from:, as written
    reply_to: str | None
    compiled: _Compiled

    @classmethod
    def load(cls, folder: Path, lang: Lang, env: TemplateEnvironment) -> EmailTemplate:
        """Read and compile ``folder``'s template in ``lang`` (or its other language)."""
        folder = Path(folder)
        path, lang = _find_body(folder, lang)
        text_only = path.suffix == ".txt"
        html_env = _with_layouts(_environment_for(env, lang), folder)
        text_env = html_env.overlay(autoescape=False)
        source = _read(path)
        meta, lines, body, body_line = _front_matter(source, path)
        subject = _text_value(meta, "subject", path, lines)
        if subject is None or not subject.strip():
            raise EmailTemplateError(
                str(path),
                "the front matter has no subject:",
                'add a line such as subject: "{{ company.name }}: news for {{ customer.company }}"',
            )
        if "\n" in subject.strip():
            raise EmailTemplateError(
                f"{path}:{lines['subject']}", "the subject must be one line", _QUOTING_HINT
            )
        sender = _text_value(meta, "from", path, lines)
        reply_to = _text_value(meta, "reply_to", path, lines)
        preheader = _text_value(meta, "preheader", path, lines)
        attachments = _attachment_values(meta, path, lines)
        text_file = folder / f"{lang}.txt"
        text_path = text_file if text_file.is_file() else None
        if text_only:  # the body after the front matter is the text; no HTML, no preheader
            text_source: str | None = body
            text_line = body_line
        else:
            text_source = _read(text_path) if text_path else None
            text_line = 1

        def front(env: Environment, key: str, value: str | None) -> Template | None:
            return None if value is None else _compile(env, value, path, lines[key], key)

        compiled = _Compiled(
            subject=_compile(text_env, subject, path, lines["subject"], "subject"),
            html=None if text_only else _compile(html_env, body, path, body_line, "body"),
            text=(
                _compile(text_env, text_source, text_path, text_line, "text")
                if text_source is not None and text_path is not None
                else None
            ),
            sender=front(text_env, "from", sender),
            reply_to=front(text_env, "reply_to", reply_to),
            preheader=None if text_only else front(html_env, "preheader", preheader),
            attachments=tuple(
                _compile(text_env, value, path, lines["attachments"], "attachments")
                for value in attachments
            ),
        )
        if not text_only:
            _check_layouts(html_env, body, path, body_line)
        return cls(folder, lang, path, text_path, sender, reply_to, compiled)

    def render(self, context: Mapping[str, Any], *, base_dir: Path | None = None) -> Rendered:
        """Fill the template for one recipient.

        Raises the template's errors (a missing field…), and :class:`TemplateValueError` for a
        message that must not be sent: a header with a line break, an attachment or image that
        is missing or outside the template folder and ``base_dir`` (the workbook's folder, where
        ``xlcrm contract`` keeps contracts). In the preflight's collecting mode the missing
        fields are recorded first and these checks are reported together at the end.
        """
        parts = self.compiled
        problems: list[str] = []
        subject = _header_value("subject", parts.subject.render(context), problems)
        if not subject and not problems:
            problems.append("the subject is empty")
        body = parts.html.render(context).lstrip() if parts.html is not None else ""
        if parts.preheader is not None:
            body = _with_preheader(body, parts.preheader.render(context).strip())
        if body:
            problems.extend(self._image_problems(body))
        text = None
        if parts.text is not None:
            text = parts.text.render(context).strip("\n").replace("\r\n", "\n") + "\n"
        sender = reply_to = None
        if parts.sender is not None:
            sender = _address_value("from", parts.sender.render(context), problems)
        if parts.reply_to is not None:
            reply_to = _address_value("reply_to", parts.reply_to.render(context), problems)
        attachments = []
        for template in parts.attachments:
            found = self._attachment(template.render(context).strip(), base_dir, problems)
            if found is not None and found not in attachments:
                attachments.append(found)
        if problems:
            raise TemplateValueError("; ".join(problems))
        return Rendered(
            subject=subject,
            html=body,
            own_text=text,
            attachments=tuple(attachments),
            sender=sender,
            reply_to=reply_to,
            lang=self.lang,
            template=self.path,
            text_generated=parts.text is None,
        )

    def _attachment(self, name: str, base_dir: Path | None, problems: list[str]) -> Path | None:
        if not name:  # an attachment the template made optional ({{ … | default("") }})
            return None
        roots = [self.folder] + ([Path(base_dir)] if base_dir is not None else [])
        given = Path(name.replace("\\", "/"))  # a path written on Windows
        candidates = [given] if given.is_absolute() else [root / given for root in roots]
        for candidate in candidates:
            if candidate.is_file():
                found = candidate.resolve()
                if any(found.is_relative_to(root.resolve()) for root in roots):
                    return found
                problems.append(
                    f"attachment {name!r} is outside the template's and the workbook's folders "
                    "(move it into the workbook's folder)"
                )
                return None
        where = " or ".join(str(root) for root in roots)
        problems.append(f"attachment {name!r} does not exist (looked in {where})")
        return None

    def _image_problems(self, body: str) -> list[str]:
        problems = []
        for src in dict.fromkeys(image_sources(body)):
            try:
                local_image(self.folder, src)
            except ValueError as error:
                problems.append(str(error))
        return problems


class TemplateFolder:
    """A template folder in every language it has; each recipient gets their own.

    :meth:`render` picks the version of the context's ``lang`` (the customer's language,
    :meth:`~addin.templating.CrmData.campaign_context`). Every version is compiled up front.
    The default language's errors stop the run at once, as before; another version's (a
    syntax error in ``zh.html``) are a problem of each recipient who would get it, so the
    preflight lists them before anything is sent, and a campaign nobody reads in Chinese is
    not stopped by its Chinese file. A recipient in a language the folder lacks is a problem
    too — unless it is ``default``, the run's language, which falls back to the other version
    as before (a company with only English templates can still run a Chinese workbook).
    """

    def __init__(
        self,
        folder: Path,
        default: Lang,
        versions: Mapping[Lang, EmailTemplate],
        broken: Mapping[Lang, EmailTemplateError] | None = None,
    ) -> None:
        self.folder = folder
        self.default = default
        self.versions = dict(versions)
        self.broken = dict(broken or {})
        self.primary = self.versions.get(default) or next(iter(self.versions.values()))

    @classmethod
    def load(cls, folder: Path, lang: Lang, env: TemplateEnvironment) -> TemplateFolder:
        folder = Path(folder)
        primary = EmailTemplate.load(folder, lang, env)  # raises for the run's own language
        versions: dict[Lang, EmailTemplate] = {primary.lang: primary}
        broken: dict[Lang, EmailTemplateError] = {}
        for code in template_languages(folder):
            if code not in versions:
                try:
                    versions[code] = EmailTemplate.load(folder, code, env)
                except EmailTemplateError as error:
                    broken[code] = error
        return cls(folder, lang, versions, broken)

    @property
    def sender(self) -> str | None:
        """The default language's ``from:``: the campaign's sender when nothing overrides it."""
        return self.primary.sender

    @property
    def lang(self) -> Lang:
        return self.primary.lang

    @property
    def path(self) -> Path:
        return self.primary.path

    def version(self, lang: Lang) -> EmailTemplate:
        """The template a recipient in ``lang`` gets; :class:`TemplateValueError` when the
        folder has no version in their language (and it is not the run's default)."""
        found = self.versions.get(lang)
        if found is not None:
            return found
        if lang in self.broken:  # one line, as the preflight lists it for each recipient
            error = self.broken[lang]
            hint = f" ({error.hint})" if error.hint else ""
            raise TemplateValueError(f"{error.where}: {error.message}{hint}")
        if lang == self.default:
            return self.primary
        name = {"zh": "Chinese (中文)", "en": "English"}[lang]
        raise TemplateValueError(
            f"the customer's language is {name} but the template {self.folder.name} has no "
            f"{lang}.html or {lang}.txt (add it to {self.folder}, or clear the customer's "
            "Language cell to mail them in the workbook's language)"
        )

    def render(self, context: Mapping[str, Any], *, base_dir: Path | None = None) -> Rendered:
        lang = context.get("lang")
        return self.version(lang if lang in ("en", "zh") else self.default).render(
            context, base_dir=base_dir
        )


def template_languages(folder: Path) -> list[Lang]:
    """The languages ``folder`` has a template in (an ``.html``, or a plain-text ``.txt``)."""
    codes: list[Lang] = ["en", "zh"]
    return [c for c in codes if (folder / f"{c}.html").is_file() or (folder / f"{c}.txt").is_file()]


def template_subject(folder: Path, lang: Lang) -> str:
    """The subject of ``folder``'s template in ``lang`` as written (unfilled), for a list of
    templates to choose from. Raises :class:`EmailTemplateError` like :meth:`EmailTemplate.load`."""
    path, _ = _find_body(Path(folder), lang)
    meta, lines, _, _ = _front_matter(_read(path), path)
    return (_text_value(meta, "subject", path, lines) or "").strip()


def _find_body(folder: Path, lang: Lang) -> tuple[Path, Lang]:
    """The file that starts ``folder``'s template in ``lang`` (else in the other language):
    its ``.html``, or its ``.txt`` when the language is plain text only."""
    if not folder.is_dir():
        raise EmailTemplateError(str(folder), "no such template folder")
    other: Lang = "zh" if lang == "en" else "en"
    for candidate in (lang, other):
        for suffix in (".html", ".txt"):
            path = folder / f"{candidate}{suffix}"
            if path.is_file():
                return path, candidate
    present = ", ".join(sorted(p.name for p in folder.iterdir())) or "nothing"
    raise EmailTemplateError(
        str(folder),
        f"no {lang}.html or {lang}.txt (nor {other}.html or {other}.txt) in the template "
        f"folder (it holds: {present})",
        "an e-mail template folder needs en.html or zh.html, or en.txt or zh.txt for plain "
        "text; see templates/emails/README.md",
    )


def _with_layouts(env: TemplateEnvironment, folder: Path) -> Environment:
    """``env`` able to ``{% extends "layout-en.html" %}``: a layout is found in the template's
    own folder, else beside the shipped templates (their shared HTML shell, so a copied shipped
    template keeps working). Jinja's loader refuses names with ``..`` or absolute paths."""
    return env.overlay(loader=FileSystemLoader([str(folder), str(builtin_root() / "emails")]))


def _check_layouts(env: Environment, body: str, path: Path, line: int) -> None:
    """A layout the body extends or includes exists (else a render would fail on each row)."""
    for name in jinja_meta.find_referenced_templates(env.parse(body)):
        if name is None:  # a name computed while rendering: Jinja checks it then
            continue
        try:
            env.get_template(name)
        except TemplateNotFound:
            raise EmailTemplateError(
                f"{path}:{line}",
                f"the layout {name!r} was not found",
                "put it in the template folder, or extend a shipped one: "
                "layout-en.html or layout-zh.html",
            ) from None


def _environment_for(env: TemplateEnvironment, lang: Lang) -> TemplateEnvironment:
    """``env`` itself, or one like it for the template's language, escaping HTML either way."""
    if env.lang != lang:
        other = TemplateEnvironment(lang)
        other.globals.update((k, v) for k, v in env.globals.items() if k != "lang")
        env = other
    if env.autoescape is not True:
        env = env.overlay(autoescape=True)  # type: ignore[assignment]
    return env


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as error:
        raise EmailTemplateError(
            str(path),
            f"the file is not UTF-8 text (byte {error.start})",
            "save it as UTF-8 (Notepad: Save As → Encoding: UTF-8)",
        ) from None
    except OSError as error:
        raise EmailTemplateError(str(path), f"cannot read the file: {error.strerror}") from None


def _front_matter(source: str, path: Path) -> tuple[dict[str, Any], dict[str, int], str, int]:
    """The front matter's values, the file line of each key, the body and its first line."""
    lines = source.split("\n")
    if not lines or lines[0].strip() != "---":
        raise EmailTemplateError(
            f"{path}:1",
            "the file must start with front matter: a --- line, subject: …, and another ---",
            'e.g.\n    ---\n    subject: "{{ company.name }} news"\n    ---',
        )
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        raise EmailTemplateError(f"{path}:1", "the front matter has no closing --- line")
    text = "\n".join(lines[1:end])
    try:
        meta = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(error, "problem", None) or str(error)
        raise EmailTemplateError(
            f"{path}:{line}", f"the front matter is not valid YAML: {problem}", _QUOTING_HINT
        ) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise EmailTemplateError(
            f"{path}:2", "the front matter must be key: value lines", _QUOTING_HINT
        )
    positions = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            positions[str(key_node.value)] = key_node.start_mark.line + 2
    found: dict[str, Any] = {}
    where: dict[str, int] = {}
    for key, value in meta.items():
        name = _KEY_ALIASES.get(str(key).strip().lower(), str(key).strip().lower())
        if name not in KEYS:
            raise EmailTemplateError(
                f"{path}:{positions.get(str(key), 2)}",
                f"unknown front matter key {key!r}",
                f"the keys are: {', '.join(KEYS)}",
            )
        found[name] = value
        where[name] = positions.get(str(key), 2)
    return found, where, "\n".join(lines[end + 1 :]), end + 2


def _text_value(meta: dict[str, Any], key: str, path: Path, lines: dict[str, int]) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise EmailTemplateError(
            f"{path}:{lines[key]}",
            f"{key}: must be text, not {type(value).__name__}",
            _QUOTING_HINT,
        )
    return value


def _attachment_values(meta: dict[str, Any], path: Path, lines: dict[str, int]) -> list[str]:
    value = meta.get("attachments")
    if value is None:
        return []
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise EmailTemplateError(
            f"{path}:{lines['attachments']}",
            "attachments: must be a list of file paths",
            'e.g. attachments: ["brochure.pdf", "{{ deal.contract_file }}"]',
        )
    return values


def _compile(env: Environment, source: str, path: Path, line: int, what: str) -> Template:
    """Compile with Jinja's line numbers matching the file (the source is padded to ``line``)."""
    padded = "\n" * (line - 1) + source
    try:
        code = env.compile(padded, name=f"{path.parent.name}/{path.name}", filename=str(path))
    except TemplateSyntaxError as error:
        raise EmailTemplateError(
            f"{path}:{error.lineno}",
            f"template syntax error in the {what}: {error.message}",
            "check the {{ … }} and {% … %} tags on that line (every {% if %} needs {% endif %})",
        ) from None
    return env.template_class.from_code(env, code, env.make_globals(None))


def _header_value(what: str, value: str, problems: list[str]) -> str:
    """One header line, or a problem: a line break from a cell would inject headers."""
    value = value.strip().replace("\t", " ")
    bad = _HEADER_CONTROL.search(value)
    if bad:
        before = value[: bad.start()][-30:]
        problems.append(
            f"the {what} contains a line break or control character after {before!r}; "
            "a mail header must be one line (remove it from the cell)"
        )
        return _HEADER_CONTROL.sub(" ", value)
    return value


def _address_value(what: str, value: str, problems: list[str]) -> str | None:
    value = _header_value(what, value, problems)
    if not value:
        return None
    if address_problem(value):
        problems.append(f"{what}: {value!r} is not an e-mail address (write Name <name@domain>)")
    return value


@functools.lru_cache(maxsize=256)  # a campaign checks its one sender for every message
def address_problem(value: str) -> bool:
    """Whether ``value`` is not a list of well-formed addresses (``星河软件 <sales@x.cn>``)."""
    header = _HEADERS("to", value)
    addresses = header.addresses  # type: ignore[attr-defined]
    return bool(header.defects) or not addresses or any(not a.domain for a in addresses)


def _with_preheader(body: str, text: str) -> str:
    if not text:
        return body
    hidden = PREHEADER.format(text=text)
    match = _BODY_TAG.search(body)
    return body[: match.end()] + hidden + body[match.end() :] if match else hidden + body


# -- images ------------------------------------------------------------------------------------


class _ImageSources(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            src = dict(attrs).get("src")
            if src and src.strip():
                self.sources.append(src.strip())


_IMG_TAG = re.compile(r"<img", re.IGNORECASE)


def image_sources(html: str) -> list[str]:
    """Every ``<img src>`` of ``html``, in order."""
    if not _IMG_TAG.search(html):  # no image tag at all: no need to parse (most messages)
        return []
    parser = _ImageSources()
    parser.feed(html)
    parser.close()
    return parser.sources


def local_image(folder: Path, src: str) -> Path | None:
    """The file a relative ``src`` names in the template folder; None for a remote image.

    Raises ValueError when the file does not exist or the path leaves the folder (a template
    must not be able to mail the sender's other files).
    """
    src = src.strip()
    if not src or src.startswith("//") or _SCHEME.match(src):
        return None  # https:, cid:, data: — left as they are
    relative = unquote(src.split("#", 1)[0].split("?", 1)[0])
    root = folder.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"the image {src!r} is outside the template folder")
    if not path.is_file():
        raise ValueError(f"the image {src!r} is not in the template folder {folder}")
    return path


@dataclass(frozen=True)
class _Image:
    cid: str
    path: Path
    data: bytes


def _embed_images(html: str, folder: Path) -> tuple[str, list[_Image]]:
    """``html`` with each local ``<img src>`` pointing at a ``cid:`` part, and those parts.

    ``html`` is css_inline's serialisation, which always double-quotes attributes.
    """
    images: dict[Path, _Image] = {}

    def replace(match: re.Match[str]) -> str:
        src = htmllib.unescape(match[2])
        try:
            path = local_image(folder, src)
        except ValueError as error:
            raise XlcrmError(str(folder), str(error)) from None
        if path is None:
            return match[0]
        if path not in images:
            data = path.read_bytes()
            stem = re.sub(r"[^A-Za-z0-9_-]", "", path.stem)[:32] or "image"
            cid = f"{stem}.{hashlib.sha256(data).hexdigest()[:16]}@xlcrm"
            images[path] = _Image(cid, path, data)
        return f"{match[1]}cid:{images[path].cid}{match[3]}"

    return _IMG_SRC.sub(replace, html), list(images.values())


# -- composing ---------------------------------------------------------------------------------


def has_link(body: str, link: str) -> bool:
    """Whether ``body`` contains ``link``, as written or HTML-escaped."""
    return any(form in body for form in (link, str(escape(link)), link.replace("&", "&amp;")))


def with_unsubscribe_footer(html: str, text: str, link: str, lang: Lang) -> tuple[str, str]:
    """The bodies with a small unsubscribe line added where the template forgot the link
    (no HTML is added to a plain-text template's empty HTML)."""
    footer_html, footer_text = FOOTER.get(lang, FOOTER["en"])
    if html and not has_link(html, link):
        block = footer_html.format(link=escape(link))
        end = html.lower().rfind("</body>")
        html = html[:end] + block + html[end:] if end >= 0 else html + block
    if link not in text:
        text = text.rstrip("\n") + "\n\n" + footer_text.format(link=link) + "\n"
    return html, text


def inline_css(html: str, where: Path) -> str:
    """CSS rules moved into style attributes (Outlook and many webmails ignore ``<style>``);
    the ``<style>`` block stays for clients that honour its media queries. Never fetches."""
    try:
        return _INLINER.inline(html)
    except ValueError as error:
        raise XlcrmError(str(where), f"cannot inline the template's CSS: {error}") from None


def compose(
    rendered: Rendered,
    *,
    sender: str,
    to: str,
    message_id: str,
    date: dt.datetime,
    unsubscribe: Unsubscribe | None,
    headers: Mapping[str, str] = _NO_HEADERS,
) -> bytes:
    """The bytes of one campaign message (CRLF line ends), ready for SMTP or a drafts folder.

    ``multipart/mixed`` (when there are attachments) of ``multipart/alternative``: the text
    body, then the HTML in ``multipart/related`` with the template's images as ``cid:`` parts.
    A plain-text template's message has the text body alone where the alternative would be.
    """
    html, text = rendered.html, rendered.text
    if unsubscribe is not None:
        html, text = with_unsubscribe_footer(html, text, unsubscribe.link, rendered.lang)

    # Built with the compat32 classes, not EmailMessage: the modern policy parses every
    # header it is given back into objects, which made composing the slowest step of a
    # campaign (bench/bench_campaign.py). The message is the same; tests parse it back.
    alternative: MIMEBase
    if rendered.text_only:
        alternative = _text_part(text, "plain")
    else:
        html, images = _embed_images(inline_css(html, rendered.template), rendered.folder)
        alternative = MIMEMultipart("alternative")
        alternative.attach(_text_part(text, "plain"))
        html_part = _text_part(html, "html")
        if images:
            related = MIMEMultipart("related")
            related.attach(html_part)
            for image in images:
                related.attach(_file_part(image.path, image.data, "inline", cid=image.cid))
            alternative.attach(related)
        else:
            alternative.attach(html_part)
    msg: MIMEBase
    if rendered.attachments:
        msg = MIMEMultipart("mixed")
        msg.attach(alternative)
        for path in rendered.attachments:
            msg.attach(_file_part(path, path.read_bytes(), "attachment"))
    else:
        msg = alternative
    for part in msg.walk():
        if part is not msg:
            del part["MIME-Version"]  # the stdlib repeats it on every part; once is the rule
        if part.is_multipart():
            part.set_boundary(_boundary())
    top: list[tuple[str, Any]] = [
        ("From", _address(rendered.sender or sender, "From")),
        ("To", _address(to, "To")),
    ]
    if rendered.reply_to:
        top.append(("Reply-To", _address(rendered.reply_to, "Reply-To")))
    top += [
        ("Subject", _unstructured(rendered.subject, "Subject")),
        ("Date", format_datetime(date if date.tzinfo is not None else date.astimezone())),
        ("Message-ID", message_id if message_id.startswith("<") else f"<{message_id}>"),
        ("Content-Language", CONTENT_LANGUAGE[rendered.lang]),  # RFC 3282: screen readers,
        # translation offers and the preview's language column read it
    ]
    if unsubscribe is not None:
        top.append(("List-Unsubscribe", _BetweenEntries(unsubscribe.header)))
        if unsubscribe.one_click:
            top.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    top.append(("Precedence", "bulk"))  # out-of-office replies stay away from the mailbox
    for name, value in headers.items():
        if _HEADER_CONTROL.search(name + value) or not name.strip():
            raise XlcrmError(name, "a header must be one line")
        top = [(n, v) for n, v in top if n.lower() != name.lower()]
        top.append((name, _unstructured(value, name)))
    content = [(n, v) for n, v in msg.items()]  # MIME-Version and Content-Type, in that order
    for name in {n for n, _ in content}:
        del msg[name]
    for name, value in [*top, *content]:
        msg[name] = value
    out = io.BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=_WIRE).flatten(msg)
    return out.getvalue()


class _Wire(type(compat32)):  # type: ignore[misc]  # email.policy.Compat32
    """compat32 on the wire (CRLF, lines folded at 78), with a short plain header written as
    it is: compat32 folds every header through :class:`email.header.Header`, ~40 µs each,
    fourteen a message, which for a one-line ASCII value gives back the value itself."""

    def fold_binary(self, name: str, value: Any) -> bytes:
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + 2 + len(value) <= (self.max_line_length or 78)
            and _PLAIN_VALUE.fullmatch(value)
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)  # type: ignore[no-any-return]


# Printable ASCII words separated by single spaces: what Header.encode returns unchanged.
_PLAIN_VALUE = re.compile(r"[!-~]+(?: [!-~]+)*")
_WIRE = _Wire(linesep="\r\n", max_line_length=78)


def _boundary() -> str:
    """A multipart boundary of the standard library's form, chosen without its check: every
    part is base64 (and part headers are ``Name: value`` lines), so no line of the content can
    start with ``--`` and no boundary can be mistaken. (Left to the generator, each boundary
    costs a regular expression compiled and run over the whole message to make sure: half a
    millisecond a message.)"""
    return f"==============={secrets.randbelow(sys.maxsize):019d}=="


_INLINER = css_inline.CSSInliner(keep_style_tags=True, load_remote_stylesheets=False)


def _text_part(body: str, subtype: str) -> MIMEText:
    """A UTF-8 body in base64: 7-bit safe, so no relay can mangle Chinese text."""
    return MIMEText(body, subtype, "utf-8")


def _file_part(path: Path, data: bytes, disposition: str, *, cid: str | None = None) -> MIMEBase:
    maintype, subtype = _mime_type(path)
    part = MIMEBase(maintype, subtype)
    part.set_payload(data)
    encoders.encode_base64(part)
    name = path.name
    if name.isascii():
        part.set_param("name", name)
        part.add_header("Content-Disposition", disposition, filename=name)
    else:  # RFC 2231 (filename*=utf-8''…), which Outlook, Foxmail and webmail decode
        part.set_param("name", ("utf-8", "", name))  # type: ignore[arg-type]  # RFC 2231 triple
        part.add_header("Content-Disposition", disposition, filename=("utf-8", "", name))
    if cid is not None:
        part.add_header("Content-ID", f"<{cid}>")
    return part


@functools.lru_cache(maxsize=256)  # the sender is the same for every message of a campaign
def _address(value: str, name: str) -> str:
    """An address header with display names RFC 2047-encoded (星河软件 <sales@…>)."""
    plain = _PLAIN_ADDRESS.fullmatch(value)
    if plain is not None:  # what a campaign's To is: no need to parse what is plainly valid
        display = " ".join((plain["name"] or "").split())
        return formataddr((display, plain["address"]), charset="utf-8")
    if _HEADER_CONTROL.search(value) or address_problem(value):
        raise XlcrmError(name, f"{value!r} is not an e-mail address", "write Name <name@domain>")
    pairs = getaddresses([value])
    return ", ".join(formataddr(pair, charset="utf-8") for pair in pairs)


# ``name@example.cn`` or ``Any Name <name@example.cn>``: a dot-atom local part, an ASCII
# domain of two labels or more, a display name without quotes, specials, periods (which the
# full parser reports as defects) or "=" (an encoded word). The rest is parsed in full.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(
    rf"(?:(?P<name>[^\x00-\x1f\x7f\"<>()\[\]\\,;:@.=]*)<)?"
    rf"(?P<address>{_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
    rf"(?(name)>)"
)


class _BetweenEntries:
    """A ``<…>, <…>`` header folded only between its entries and never RFC 2047-encoded: a
    URL split or encoded inside ``List-Unsubscribe`` is one no mail provider can follow."""

    def __init__(self, value: str) -> None:
        self.entries = re.split(r"(?<=>)\s*,\s*", value.strip())

    def encode(self, linesep: str = "\n", maxlinelen: int | None = None) -> str:
        return ("," + linesep + " ").join(self.entries)


def _unstructured(value: str, name: str) -> Header | str:
    if value.isascii():
        return value
    return Header(value, "utf-8", header_name=name)


def _mime_type(path: Path) -> tuple[str, str]:
    guessed, _ = mimetypes.guess_type(path.name)
    maintype, _, subtype = (guessed or "application/octet-stream").partition("/")
    return maintype, subtype
