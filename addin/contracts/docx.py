"""Word templates (.docx with Jinja tags inside), loaded and compiled once, rendered many times.

docxtpl renders a document by loading the template with python-docx, cleaning the XML of each
part so that tags Word split across runs become whole again, compiling that XML as a Jinja
template, rendering it and saving the whole package — for every document. Generating 500
contracts repeats the loading and compiling 500 times. :class:`WordTemplate` does docxtpl's
cleaning (its ``patch_xml``, so ``{%p %}``, ``{%tr %}`` and split tags mean exactly what they
mean in docxtpl) and the compiling once per part, in our sandboxed :class:`TemplateEnvironment`;
each :meth:`WordTemplate.render` then only renders the compiled parts and writes a new zip in
which every other entry holds the template's bytes (compressed once, when the template loads).

What docxtpl does after rendering and what we keep (see ``DocxTemplate.render_xml_part`` and
``resolve_listing`` in docxtpl/template.py):

- the newline it puts before each ``<w:p`` (so a template line is a paragraph, which is what
  an error's line number points at) is taken out again;
- line breaks and tabs in values become ``<w:br/>`` and ``<w:tab/>``, so a two-line address
  stays on two lines (``\\a`` and ``\\f`` for new paragraphs and pages, which only docxtpl's
  ``Listing`` produces, are not supported);
- ``{_{`` ``}_}`` ``{_%`` ``%_}`` become literal ``{{ }} {% %}``;
- characters XML cannot hold (NUL, escape…; from pasted or imported text) are dropped, a
  vertical tab or form feed becoming a line break, where docxtpl would write a damaged file;
- drawing ids (``wp:docPr``) are renumbered, since a picture inside a repeated row would
  otherwise repeat its id and Word would call the file damaged.

Not kept: ``{%tc %}`` column loops (docxtpl's ``fix_tables``), ``{% colspan %}``/``{% cellbg %}``
work as in docxtpl but nothing re-balances the table grid; rendering the document properties;
subdocuments, inline images, and ``RichText`` (they need a docxtpl object at render time).

Values are XML-escaped (the environment autoescapes), so a customer named ``A&B <Ltd>`` cannot
break the document; every rendered part is also parsed once before the file is written, and a
part that is not well-formed XML is an error naming the template, never a damaged file.
"""

from __future__ import annotations

import html
import io
import itertools
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import Template, meta
from jinja2.exceptions import TemplateSyntaxError
from lxml import etree

from ..errors import WorkbookError, XlcrmError
from ..templating import TemplateEnvironment
from ..templating.filters import for_language
from ..workbook.bounds import check_zip

_WORDML = "application/vnd.openxmlformats-officedocument.wordprocessingml."
# The parts whose text can hold tags, by content type: the body (of a .docx, .docm, .dotx or
# .dotm), headers, footers, footnotes and endnotes.
TEMPLATED: dict[str, str] = {
    _WORDML + "document.main+xml": "body",
    _WORDML + "template.main+xml": "body",
    "application/vnd.ms-word.document.macroEnabled.main+xml": "body",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml": "body",
    _WORDML + "header+xml": "header",
    _WORDML + "footer+xml": "footer",
    _WORDML + "footnotes+xml": "footnotes",
    _WORDML + "endnotes+xml": "endnotes",
}
_CONTENT_TYPES = "[Content_Types].xml"
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
_TAG_MARK = re.compile(r"\{[{%#]")
_PARAGRAPH = re.compile(r"<w:p([ >])")
# Inside a tag, XML entities Word wrote for characters typed in it (docxtpl undoes < > only).
_IN_TAG = re.compile(r"(?<=\{[{%])(.*?)(?=[}%]})")
_TAG_ENTITIES = re.compile(r"&(?:amp|quot|apos|#39|#34);")
_ENTITY_CHARS = {"&amp;": "&", "&quot;": '"', "&apos;": "'", "&#39;": "'", "&#34;": '"'}
# A run's text that a value put line breaks or tabs into.
_BROKEN_TEXT = re.compile(r"<w:t(?: [^>]*)?>([^<]*[\r\n\t][^<]*)</w:t>")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Characters XML 1.0 does not allow, even escaped (a value may bring them from pasted text).
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_T_OPEN = '<w:t xml:space="preserve">'
_DOC_PR_ID = re.compile(r'(<wp:docPr\b[^>]*?\bid=")\d+(")')
# Zip records: local file header, central directory entry, end of central directory.
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_ESCAPED_BRACES = (("{_{", "{{"), ("}_}", "}}"), ("{_%", "{%"), ("%_}", "%}"))


class WordTemplateError(XlcrmError):
    """A Word template that cannot be used: not a .docx, a tag Jinja cannot read, or a
    rendering that is not a valid document."""


@dataclass(frozen=True)
class _Member:
    """A zip entry ready to write: the template entry's name, time and attributes, its data
    compressed (once, at load, for the entries that are copied)."""

    name: bytes
    flags: int
    method: int
    dos_time: int
    dos_date: int
    create_system: int
    external_attr: int
    crc: int
    size: int
    data: bytes


@dataclass(frozen=True)
class _Entry:
    """One zip entry of the template: copied as it is, or made by its compiled template."""

    info: zipfile.ZipInfo
    member: _Member | None
    template: Template | None = None
    source: str = ""


class WordTemplate:
    """A .docx template read and compiled once; :meth:`render` makes one document per context.

    ``render`` raises the template's own errors (a missing field, a sandbox violation, a value a
    filter cannot format), so ``render_problems(template.render, where, context)`` collects
    them all for a preflight check.
    """

    def __init__(self, path: str | os.PathLike[str], env: TemplateEnvironment) -> None:
        self.path = Path(path)
        self.env = env
        entries = _read_package(self.path)
        templated = _templated_parts(self.path, dict(entries))
        self._entries = [self._entry(i, data, i.filename in templated) for i, data in entries]
        self._variables: set[str] | None = None

    @property
    def parts(self) -> list[str]:
        """The zip entries that hold tags and are rendered (``word/document.xml``, footers…)."""
        return [e.info.filename for e in self._entries if e.template is not None]

    def variables(self) -> set[str]:
        """The top-level names the template uses (``customer``, ``deal``…), as jinja2.meta finds
        them; environment globals (``range``, ``lang``) are left out.

        Names used only under ``is defined`` are listed too: this says what a context may
        need, not what it must have.
        """
        if self._variables is None:
            names: set[str] = set()
            for entry in self._entries:
                if entry.template is not None:
                    names |= meta.find_undeclared_variables(self.env.parse(entry.source))
            self._variables = names - set(self.env.globals)
        return set(self._variables)

    def render(self, context: Mapping[str, Any]) -> bytes:
        """The filled-in document, as the bytes of a .docx."""
        members = []
        for entry in self._entries:
            if entry.member is not None:
                members.append(entry.member)
            else:
                members.append(_member(entry.info, self._render_part(entry, context)))
        return _zip(members)

    # -- loading

    def _entry(self, info: zipfile.ZipInfo, data: bytes, templated: bool) -> _Entry:
        if not templated:
            return _Entry(info, _member(info, data))
        xml = _xml_text(self.path, info.filename, data)
        if not _TAG_MARK.search(xml):
            return _Entry(info, _member(info, data))
        source = _prepare(xml)
        return _Entry(info, None, self._compile(info.filename, source), source)

    def _compile(self, part: str, source: str) -> Template:
        name = f"{self.path.name}:{part}"
        try:
            code = self.env.compile(source, name=name, filename=str(self.path))
        except TemplateSyntaxError as error:
            raise self._syntax_error(part, source, error) from None
        return self.env.template_class.from_code(self.env, code, self.env.make_globals(None))

    def _syntax_error(
        self, part: str, source: str, error: TemplateSyntaxError
    ) -> WordTemplateError:
        lineno = error.lineno or 1
        lines = source.splitlines()
        text = _visible(lines[lineno - 1]) if 0 < lineno <= len(lines) else ""
        shown = f" “{_shorten(text)}”" if text else ""
        message = error.message or "syntax error"
        if message.startswith("No filter named"):
            ours = ", ".join(for_language(self.env.lang))
            hint = f"xlcrm's filters are {ours}; Jinja's own include default, upper, trim, round"
        else:
            hint = (
                "in Word, select the whole tag from {{ to }} (or {% to %}) and type it again in "
                "one go, so Word keeps it in one piece; check that each {{ has its }}, and each "
                "{% if %} / {% for %} its {% endif %} / {% endfor %}"
            )
        return WordTemplateError(
            str(self.path),
            f"template error in the {_part_label(part)} ({part}) at line {lineno}, the "
            f"paragraph{shown}: {message}",
            hint,
        )

    # -- rendering

    def _render_part(self, entry: _Entry, context: Mapping[str, Any]) -> bytes:
        assert entry.template is not None
        xml = entry.template.render(context)
        xml = xml.replace("\n<w:p ", "<w:p ").replace("\n<w:p>", "<w:p>")
        if _NOT_XML.search(xml):
            xml = _NOT_XML.sub(lambda m: "\n" if m[0] in "\v\f" else "", xml)
        if "\n" in xml or "\r" in xml or "\t" in xml:
            xml = _BROKEN_TEXT.sub(_breaks, xml)
        if "{_" in xml or "_}" in xml:
            for escaped, brace in _ESCAPED_BRACES:
                xml = xml.replace(escaped, brace)
        if "<wp:docPr" in xml:
            ids = itertools.count(1001)
            xml = _DOC_PR_ID.sub(lambda m: f"{m[1]}{next(ids)}{m[2]}", xml)
        data = _DECLARATION + xml.encode("utf-8")
        try:
            etree.fromstring(data)
        except etree.XMLSyntaxError as error:
            raise WordTemplateError(
                str(self.path),
                f"the filled-in {_part_label(entry.info.filename)} is not a valid Word "
                f"document ({error})",
                "a tag probably sits inside Word's own markup (a field, a text box, a hyperlink "
                "address); move it into ordinary text, or retype it",
            ) from None
        return data


def _read_package(path: Path) -> list[tuple[zipfile.ZipInfo, bytes]]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise WordTemplateError(str(path), f"cannot read the template ({error.strerror})") from None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            # A ZIP bomb, a part lying about its size or two parts of one name are refused
            # before anything is unpacked (issue 13); zipfile itself never unpacks more than
            # a part's declared size and checks its CRC.
            check_zip(package.infolist(), str(path), kind="document")
            return [(info, package.read(info)) for info in package.infolist()]
    except WorkbookError as error:
        raise WordTemplateError(str(path), error.message, error.hint) from None
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, OSError, EOFError) as error:
        raise WordTemplateError(
            str(path),
            f"not a Word .docx file ({error})",
            "save it in Word as “Word Document (*.docx)”; old .doc files cannot be templates",
        ) from None


def _templated_parts(path: Path, entries: Mapping[zipfile.ZipInfo, bytes]) -> set[str]:
    """Zip names of the parts whose content type can hold tags."""
    data = next((d for i, d in entries.items() if i.filename == _CONTENT_TYPES), None)
    if data is None:
        raise WordTemplateError(str(path), "not a Word .docx file (no [Content_Types].xml)")
    try:
        root = etree.fromstring(data)
    except etree.XMLSyntaxError as error:
        raise WordTemplateError(str(path), f"damaged [Content_Types].xml ({error})") from None
    kinds = {
        o.get("PartName", "").lstrip("/"): TEMPLATED[o.get("ContentType", "")]
        for o in root
        if o.get("ContentType") in TEMPLATED
    }
    if "body" not in kinds.values():
        raise WordTemplateError(str(path), "not a Word document (it has no document body)")
    return set(kinds)


def _xml_text(path: Path, part: str, data: bytes) -> str:
    """The part's XML as docxtpl sees it: parsed and serialised again by lxml (no declaration,
    no pretty printing, one spelling of every entity)."""
    try:
        return etree.tostring(etree.fromstring(data), encoding="unicode")
    except etree.XMLSyntaxError as error:
        raise WordTemplateError(str(path), f"damaged part {part} ({error})") from None


def _prepare(xml: str) -> str:
    """docxtpl's cleaning, then what it adds before compiling: one line per paragraph."""
    # patch_xml is docxtpl's public method, though it is not in its documentation; it uses no
    # state of the object, so an unloaded DocxTemplate is enough.
    xml = DocxTemplate(io.BytesIO()).patch_xml(xml)
    xml = _IN_TAG.sub(lambda m: _TAG_ENTITIES.sub(lambda e: _ENTITY_CHARS[e[0]], m[0]), xml)
    # Line n of the source is the part's paragraph n (the first one shares line 1 with the
    # part's opening tags), which is what an error message can point at.
    return _PARAGRAPH.sub(r"\n<w:p\1", xml).replace("\n<w:p", "<w:p", 1)


def _breaks(match: re.Match[str]) -> str:
    """A run's text with line breaks and tabs as Word's ``<w:br/>`` and ``<w:tab/>``."""
    text = _LINE_BREAK.sub(f"</w:t><w:br/>{_T_OPEN}", match[1])
    text = text.replace("\t", f"</w:t><w:tab/>{_T_OPEN}")
    return f"{_T_OPEN}{text}</w:t>"


# -- writing the package


def _member(info: zipfile.ZipInfo, data: bytes) -> _Member:
    """``data`` under the name and attributes of the template's entry ``info``; deflated,
    unless the template stored it uncompressed."""
    stored = info.compress_type == zipfile.ZIP_STORED
    if stored:
        packed = data
    else:
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)  # raw deflate, as zip wants
        packed = compressor.compress(data) + compressor.flush()
    year, month, day, hour, minute, second = info.date_time
    name = info.filename.encode("utf-8")
    return _Member(
        name=name,
        flags=0 if name.isascii() else 0x800,  # bit 11: the name is UTF-8
        method=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED,
        dos_time=hour << 11 | minute << 5 | second // 2,
        dos_date=max(year - 1980, 0) << 9 | month << 5 | day,
        create_system=info.create_system,
        external_attr=info.external_attr,
        crc=zlib.crc32(data),
        size=len(data),
        data=packed,
    )


def _zip(members: Sequence[_Member]) -> bytes:
    """A zip archive of ``members``, in order (the [Content_Types].xml entry stays first).

    zipfile would compress the copied entries again for every document, which is most of the
    time a document takes; this writes their bytes compressed once. A Word document is far
    from the 4 GiB and 65,535 entries that would need zip64.
    """
    out = bytearray()
    directory = bytearray()
    for m in members:
        offset = len(out)
        out += _LOCAL.pack(
            b"PK\x03\x04", 20, 0, m.flags, m.method, m.dos_time, m.dos_date,
            m.crc, len(m.data), m.size, len(m.name), 0,
        )  # fmt: skip
        out += m.name
        out += m.data
        directory += _CENTRAL.pack(
            b"PK\x01\x02", 20, m.create_system, 20, 0, m.flags, m.method, m.dos_time,
            m.dos_date, m.crc, len(m.data), m.size, len(m.name), 0, 0, 0, 0,
            m.external_attr, offset,
        )  # fmt: skip
        directory += m.name
    if len(out) + len(directory) >= 1 << 32 or len(members) >= 1 << 16:
        raise ValueError("the document is too large for a zip without zip64")
    end = _END.pack(b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), len(out), 0)
    return bytes(out + directory + end)


def _part_label(part: str) -> str:
    stem = Path(part).stem.rstrip("0123456789")
    return {"document": "body", "footnotes": "footnotes", "endnotes": "endnotes"}.get(stem, stem)


def _visible(line: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", line)).strip()


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
