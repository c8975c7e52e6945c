"""A plain-text body from an HTML body, for the text/plain half of every campaign message.

Spam filters score HTML-only mail down, some readers (and every screen reader in plain-text
mode) only see the text part, and a template author should not have to write each message
twice. So a template without its own ``.txt`` gets this rendering of its HTML: what a person
reading the HTML would see, as text.

- Paragraphs, headings, lists and tables are separated by blank lines; ``<br>`` is a new line.
- Lists read ``- item`` and ``1. item``, nested ones indented under their item.
- Links read ``text <url>``: only the URL when the text already is it, only the address for a
  plain ``mailto:`` link whose text is the address. Images read as their alt text.
- A table marked ``role="presentation"`` (how email layouts mark theirs) is only layout: each
  cell's content is its own block. Other tables are data: a row of one-line cells becomes one
  line, the cells separated by `` | ``.
- Nothing hidden is read: ``<head>``, ``<style>``, ``<script>``, ``display:none`` (the preheader),
  ``mso-hide:all``, ``hidden`` and ``aria-hidden="true"`` (hidden from screen readers too).
- Whitespace collapses as a browser collapses it, and a line break between two Chinese
  characters disappears (CSS Text 3), so a Chinese paragraph written over several source lines
  does not read with stray spaces. Entities are decoded; zero-width padding is dropped.
- Lines wrap at spaces to 76 columns, a Chinese character counting two (an English sentence
  naming 星河软件 still wraps). Lines that are mostly Chinese, Japanese or Korean do not: Chinese
  plain-text mail is conventionally unwrapped and clients wrap it to the window, while a hard
  break every 38 characters reads raggedly on a phone. Words (and URLs) are never cut.

Only the standard library's :mod:`html.parser` is used (html2text is GPL; xlcrm is MIT). Sync's
:func:`sync.message.html.html_to_text` is a different tool: a fast tokenizer for summarising
thousands of received messages, which drops links, lists and layout that a reader needs here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import unquote

from ..textwidth import display_width, is_wide

WIDTH = 76
NBSP = "\xa0"
_BR = "\ue000"  # a private-use character standing for a hard line break until lines are cut


def _words(text: str) -> list[str]:
    return text.split()


VOID = frozenset(
    _words("area base br col embed hr img input link meta param source track wbr basefont frame")
)
SKIPPED = frozenset(_words("head style script template title svg math object iframe"))
BLOCK_GAP = {  # block elements and the gap around them: 2 is a blank line, 1 a new line
    **dict.fromkeys(_words("p h1 h2 h3 h4 h5 h6 blockquote pre hr table dl figure"), 2),
    **dict.fromkeys(
        _words(
            "div section article header footer main nav aside center address form "
            "fieldset details summary dt dd figcaption caption tr"
        ),
        1,
    ),
}
# An open element closed implicitly when another starts, as the HTML parsing rules do.
IMPLIED_END = {
    "li": ("li",),
    "dt": ("dt", "dd"),
    "dd": ("dt", "dd"),
    "tr": ("tr", "td", "th"),
    "td": ("td", "th"),
    "th": ("td", "th"),
    "option": ("option",),
}
IMPLIED_END_BOUNDARY = frozenset(_words("ul ol dl table tbody thead tfoot select"))
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u034f\u00ad"))
_SPACES = re.compile(r"[ \t\n\r\f]+")
_HIDING = ("display:none", "visibility:hidden", "mso-hide:all")
_NO_SPACE = re.compile(r"\s+")


@dataclass
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    def elements(self, *tags: str) -> Iterator[Node]:
        """Child elements with one of ``tags``, looking through thead/tbody/tfoot."""
        for child in self.children:
            if not isinstance(child, Node):
                continue
            if child.tag in tags:
                yield child
            elif child.tag in ("thead", "tbody", "tfoot"):
                yield from child.elements(*tags)


class _TreeBuilder(HTMLParser):
    """Just enough of HTML's tree construction for email bodies (which are forgiving HTML)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in IMPLIED_END:
            self._close_implied(IMPLIED_END[tag])
        elif tag == "p" or BLOCK_GAP.get(tag) or tag in ("ul", "ol"):
            self._close_open_paragraph()
        node = Node(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "br":  # browsers read a stray </br> as <br>
            self.stack[-1].children.append(Node("br"))
            return
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)

    def _close_implied(self, tags: tuple[str, ...]) -> None:
        """Close the outermost open ``tags`` element inside the current list or table (a new
        ``<tr>`` closes the open row, and with it the open cell)."""
        close = None
        for depth in range(len(self.stack) - 1, 0, -1):
            open_tag = self.stack[depth].tag
            if open_tag in IMPLIED_END_BOUNDARY:
                break
            if open_tag in tags:
                close = depth
        if close is not None:
            del self.stack[close:]

    def _close_open_paragraph(self) -> None:
        if self.stack[-1].tag == "p":
            self.stack.pop()


def parse(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def is_hidden(node: Node) -> bool:
    """Not shown to a reader: skipped tags, hidden by style or attribute, the preheader."""
    if node.tag in SKIPPED or "hidden" in node.attrs:
        return True
    if node.attrs.get("aria-hidden", "").lower() == "true":
        return True
    style = node.attrs.get("style")
    if style and any(rule in _NO_SPACE.sub("", style.lower()) for rule in _HIDING):
        return True
    return "preheader" in node.attrs.get("class", "").lower().split()


def _collapse(text: str) -> str:
    def space(match: re.Match[str]) -> str:
        start, end = match.span()
        if "\n" not in match[0] or start == 0 or end == len(text):
            return " "
        return "" if is_wide(text[start - 1]) and is_wide(text[end]) else " "

    return _SPACES.sub(space, text)


def _wrap(line: str, width: int) -> list[str]:
    """``line`` cut at spaces into lines of at most ``width`` columns (wide characters count
    two); a line that is more than a fifth CJK stays whole, and so does a word (a URL)."""
    if display_width(line) <= width:
        return [line]
    if not line.isascii() and 5 * sum(map(is_wide, line)) > len(line):
        return [line]
    lines: list[str] = []
    current, used = "", 0
    for word in line.split(" "):
        size = display_width(word)
        if current and used + 1 + size > width:
            lines.append(current)
            current, used = word, size
        else:
            current, used = (f"{current} {word}", used + 1 + size) if current else (word, size)
    lines.append(current)
    return lines


class _Writer:
    """Output lines being built: inline text gathers until a block boundary cuts it into lines."""

    def __init__(self, width: int, pre: bool = False) -> None:
        self.width = max(width, 20)
        self.lines: list[str] = []
        self.inline: list[str] = []
        self.gap = 0
        self.pre = pre

    def text(self, text: str) -> None:
        if self.pre:
            text = text.replace(" ", NBSP).replace("\t", NBSP * 4).replace("\n", _BR)
        self.inline.append(text)

    def br(self) -> None:
        self.inline.append(_BR)

    def block(self, gap: int) -> None:
        self.flush()
        self.gap = max(self.gap, gap)

    def add_lines(self, lines: list[str], gap: int) -> None:
        """Lines already cut and indented (a list item, a table row), as one block."""
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if not lines:
            return
        self.block(gap)
        self._emit(lines)
        self.block(gap)

    def flush(self) -> None:
        text = "".join(self.inline).translate(_ZERO_WIDTH)
        self.inline = []
        raw = _collapse(text).split(_BR)
        lines: list[str] = []
        for part in raw:
            for line in _wrap(part.strip(" "), self.width):
                lines.append(line.replace(NBSP, " ").rstrip())
        while lines and not lines[-1]:
            lines.pop()
        while lines and not lines[0]:
            lines.pop(0)
        if lines:
            self._emit(lines)

    def _emit(self, lines: list[str]) -> None:
        if self.lines and self.gap >= 2 and self.lines[-1]:
            self.lines.append("")
        self.lines.extend(lines)
        self.gap = 0

    def result(self) -> list[str]:
        self.flush()
        out: list[str] = []
        for line in self.lines:
            if line or (out and out[-1]):
                out.append(line)
        while out and not out[-1]:
            out.pop()
        return out


class _Renderer:
    def __init__(self) -> None:
        self.list_depth = 0

    def render(self, node: Node, writer: _Writer) -> None:
        for child in node.children:
            if isinstance(child, str):
                writer.text(child)
            elif not is_hidden(child):
                self.element(child, writer)

    def sub(self, node: Node, width: int, pre: bool = False) -> list[str]:
        writer = _Writer(width, pre)
        self.render(node, writer)
        return writer.result()

    def element(self, node: Node, writer: _Writer) -> None:
        tag = node.tag
        if tag == "br":
            writer.br()
        elif tag == "img":
            writer.text(node.attrs.get("alt", "").strip())
        elif tag == "hr":
            writer.add_lines(["-" * 20], 2)
        elif tag == "a":
            self.link(node, writer)
        elif tag in ("ul", "ol"):
            self.items(node, writer)
        elif tag == "li":  # an item outside a list
            writer.add_lines(self.item(node, "- ", writer.width), 1)
        elif tag == "table":
            self.table(node, writer)
        elif tag == "blockquote":
            lines = self.sub(node, writer.width - 2)
            writer.add_lines([f"> {line}".rstrip() for line in lines], 2)
        elif tag == "pre":
            writer.add_lines(self.sub(node, writer.width, pre=True), 2)
        elif tag in ("td", "th"):  # a cell outside a table: its content, then a space
            self.render(node, writer)
            writer.text(" ")
        elif tag in BLOCK_GAP:
            writer.block(BLOCK_GAP[tag])
            self.render(node, writer)
            writer.block(BLOCK_GAP[tag])
        else:
            self.render(node, writer)

    def link(self, node: Node, writer: _Writer) -> None:
        lines = self.sub(node, writer.width)
        shown = " ".join(line.strip() for line in lines).strip()
        target = link_target(node.attrs.get("href", "").strip(), shown)
        if len(lines) > 1:  # a link around blocks (a button table): the URL on its own line
            writer.add_lines([*lines, f"<{target}>"] if target else lines, 1)
        elif target and shown:
            writer.text(f"{shown} <{target}>")
        else:
            writer.text(target or shown)

    def items(self, node: Node, writer: _Writer) -> None:
        ordered = node.tag == "ol"
        try:
            number = int(node.attrs.get("start", "1"))
        except ValueError:
            number = 1
        lines: list[str] = []
        self.list_depth += 1
        for child in node.children:
            if isinstance(child, str):
                if child.strip():
                    lines.extend(self.item(Node("li", children=[child]), "- ", writer.width))
                continue
            if is_hidden(child):
                continue
            if child.tag == "li":
                marker = f"{number}. " if ordered else "- "
                number += 1
                lines.extend(self.item(child, marker, writer.width))
            elif child.tag in ("ul", "ol"):  # a list directly inside a list: indent it
                inner = _Writer(writer.width - 2)
                self.items(child, inner)
                lines.extend(f"  {line}".rstrip() for line in inner.result())
        self.list_depth -= 1
        writer.add_lines(lines, 2 if self.list_depth == 0 else 1)

    def item(self, node: Node, marker: str, width: int) -> list[str]:
        body = self.sub(node, width - len(marker)) or [""]
        indent = " " * len(marker)
        return [marker + body[0]] + [f"{indent}{line}".rstrip() for line in body[1:]]

    def table(self, node: Node, writer: _Writer) -> None:
        layout = node.attrs.get("role", "").lower() in ("presentation", "none")
        blocks: list[tuple[list[str], int]] = []
        for caption in node.elements("caption"):
            blocks.append((self.sub(caption, writer.width), 1))
        for row in node.elements("tr"):
            if is_hidden(row):
                continue
            cells = [
                self.sub(c, writer.width) for c in row.elements("td", "th") if not is_hidden(c)
            ]
            cells = [c for c in cells if c]
            if not layout and len(cells) > 1 and all(len(c) == 1 for c in cells):
                blocks.append((([" | ".join(c[0] for c in cells)]), 1))
                continue
            blocks.extend((cell, 2 if layout or len(cell) > 1 else 1) for cell in cells)
        out: list[str] = []
        for lines, gap in blocks:
            if out and gap == 2:
                out.append("")
            out.extend(lines)
        writer.add_lines(out, 2)


def link_target(href: str, shown: str) -> str:
    """What to print after a link's text: nothing when the text already says it."""
    if not href or href.startswith(("#", "javascript:", "cid:", "data:")):
        return ""
    scheme = href.split(":", 1)[0].lower()
    if scheme in ("mailto", "tel"):
        address = unquote(href.split(":", 1)[1])
        if "?" not in address:  # a plain address: the address alone, once
            return "" if shown and address.lower() in shown.lower() else address
        return href
    if _same_url(href, shown):
        return ""
    return href


def _same_url(href: str, shown: str) -> bool:
    def bare(url: str) -> str:
        return re.sub(r"^[a-z]+://", "", url.strip().lower()).removeprefix("www.").rstrip("/")

    return bool(shown) and bare(href) == bare(shown)


def html_to_text(html: str) -> str:
    """The plain-text alternative of ``html``: what a reader of the HTML sees, as text."""
    writer = _Writer(WIDTH)
    _Renderer().render(parse(html), writer)
    lines = writer.result()
    return "\n".join(lines) + "\n" if lines else ""
