"""Just enough of ``styles.xml`` to write dates that look like dates.

A date is a number in a cell whose number format is a date format. New rows copy the style of
the row above, which normally already is one. When it is not (a plain sheet a user made, a
column that was General), xlcrm adds one cell format — a copy of the cell's own, with a
``yyyy-mm-dd`` number format — and touches ``styles.xml`` for nothing else.
"""

from __future__ import annotations

import re
from html import unescape

# Built-in number formats that are dates or times (ECMA-376 18.8.30, plus the CJK ones).
_BUILTIN_DATES = set(range(14, 23)) | set(range(27, 37)) | {45, 46, 47} | set(range(50, 59))
DATE_CODE = "yyyy-mm-dd"
DATETIME_CODE = "yyyy-mm-dd hh:mm"

_XF = re.compile(rb"<(\w+:)?xf\b[^>]*?(?:/>|>.*?</(?:\w+:)?xf>)", re.DOTALL)
_NUMFMT = re.compile(rb'<(?:\w+:)?numFmt\b[^>]*numFmtId="(\d+)"[^>]*formatCode="([^"]*)"')
_NUMFMT_ID = re.compile(rb'numFmtId="(\d+)"')
_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')


def is_date_code(code: str) -> bool:
    """Whether a number format code shows a date or time (quoted text and [colors] ignored)."""
    bare = _QUOTED.sub("", code).lower()
    return bool(re.search(r"[dmyhs]", bare)) and "general" not in bare


class Styles:
    def __init__(self, xml: bytes | None) -> None:
        self.xml = xml
        self.changed = False
        self._formats: dict[int, str] = {}
        self._xf_formats: list[int] = []
        self._cache: dict[tuple[int, bool], int] = {}
        self._own: dict[tuple[object, ...], int] = {}
        if xml is None:
            return
        for m in _NUMFMT.finditer(xml):
            self._formats[int(m.group(1))] = unescape(m.group(2).decode())
        span = self._cell_xfs_span()
        if span:
            for m in _XF.finditer(xml, *span):
                fid = _NUMFMT_ID.search(m.group(0))
                self._xf_formats.append(int(fid.group(1)) if fid else 0)

    def _cell_xfs_span(self) -> tuple[int, int] | None:
        assert self.xml is not None
        m = re.search(rb"<(\w+:)?cellXfs\b[^>]*>", self.xml)
        if not m:
            return None
        end = self.xml.find(b"</" + (m.group(1) or b"") + b"cellXfs>", m.end())
        return m.end(), end

    def is_date(self, style: int | None) -> bool:
        fid = self._xf_formats[style or 0] if (style or 0) < len(self._xf_formats) else 0
        if fid in _BUILTIN_DATES:
            return True
        code = self._formats.get(fid)
        return code is not None and bool(code) and is_date_code(code)

    def date_style(self, style: int | None, with_time: bool) -> int | None:
        """A style index showing a date (or date and time), derived from ``style``."""
        if self.xml is None or self.is_date(style):
            return style
        key = (style or 0, with_time)
        if key not in self._cache:
            self._cache[key] = self._add_xf(style or 0, DATETIME_CODE if with_time else DATE_CODE)
        return self._cache[key]

    def _format_id(self, code: str) -> int:
        for fid, existing in self._formats.items():
            if existing == code:
                return fid
        assert self.xml is not None
        fid = max([163, *self._formats]) + 1
        self._formats[fid] = code
        element = b'<numFmt numFmtId="%d" formatCode="%s"/>' % (fid, code.encode())
        m = re.search(rb"<(\w+:)?numFmts\b[^>]*?(/?)>", self.xml)
        if m and not m.group(2):
            prefix = m.group(1) or b""
            close = self.xml.find(b"</" + prefix + b"numFmts>", m.end())
            self.xml = (
                self.xml[:close]
                + element.replace(b"<numFmt", b"<" + prefix + b"numFmt")
                + self.xml[close:]
            )
            self.xml = _bump_count(self.xml, b"numFmts")
        else:
            root = re.search(rb"<(\w+:)?styleSheet\b[^>]*>", self.xml)
            assert root is not None
            prefix = root.group(1) or b""
            block = (
                b'<%snumFmts count="1">' % prefix
                + element.replace(b"<numFmt", b"<" + prefix + b"numFmt")
                + b"</%snumFmts>" % prefix
            )
            if m:  # an empty <numFmts/>
                self.xml = self.xml[: m.start()] + block + self.xml[m.end() :]
            else:
                self.xml = self.xml[: root.end()] + block + self.xml[root.end() :]
        return fid

    def _add_xf(self, base: int, code: str) -> int:
        fid = self._format_id(code)
        found = self._cell_xfs(base)
        if found is None:
            return base
        source, xfs, end = found
        clone = _NUMFMT_ID.sub(b'numFmtId="%d"' % fid, source, count=1)
        if b"numFmtId=" not in clone:
            clone = re.sub(
                rb"<(\w+:)?xf\b", lambda m: m.group(0) + b' numFmtId="%d"' % fid, clone, count=1
            )
        if b"applyNumberFormat=" in clone:
            clone = re.sub(rb'applyNumberFormat="[^"]*"', b'applyNumberFormat="1"', clone)
        else:
            clone = re.sub(
                rb"<(\w+:)?xf\b", lambda m: m.group(0) + b' applyNumberFormat="1"', clone, count=1
            )
        return self._append_xf(clone, xfs, end)

    def _cell_xfs(self, index: int) -> tuple[bytes, list[re.Match[bytes]], int] | None:
        """Cell format ``index`` (the first one when there is no such format) to copy from, all
        the cell formats, and where their list ends; None without a ``cellXfs`` list."""
        assert self.xml is not None
        span = self._cell_xfs_span()
        if span is None:
            return None
        xfs = list(_XF.finditer(self.xml, *span))
        source = xfs[index].group(0) if index < len(xfs) else xfs[0].group(0)
        return source, xfs, span[1]

    def _append_xf(self, clone: bytes, xfs: list[re.Match[bytes]], end: int) -> int:
        """Add a cell format — or reuse an identical one: a sheet refreshed every day must not
        grow ``styles.xml`` by a format each time (Excel stops at about 64,000)."""
        for index, existing in enumerate(xfs):
            if existing.group(0) == clone:
                return index
        assert self.xml is not None
        self.xml = self.xml[:end] + clone + self.xml[end:]
        self.xml = _bump_count(self.xml, b"cellXfs")
        fid = _NUMFMT_ID.search(clone)
        self._xf_formats.append(int(fid.group(1)) if fid else 0)
        self.changed = True
        return len(self._xf_formats) - 1

    def xf(
        self,
        number_format: str | None = None,
        *,
        bold: bool = False,
        size: float = 0,
        align: str | None = None,
        wrap: bool = False,
    ) -> int:
        """A cell format for xlcrm's own sheets: the default one, plus a number format, a
        bold or larger font, a horizontal alignment (``"right"``…) and wrapped text. Added
        to ``styles.xml`` once per combination and reused."""
        key = ("xf", number_format, bold, size, align, wrap)
        cached = self._own.get(key)
        if cached is not None:
            return cached
        if self.xml is None:
            return 0
        style = self._add_xf(0, number_format) if number_format else 0
        if bold or size:
            style = self._with_font(style, self._add_font(bold, size))
        if align or wrap:
            style = self._with_alignment(style, align, wrap)
        self._own[key] = style
        return style

    def _add_font(self, bold: bool, size: float) -> int:
        assert self.xml is not None
        m = re.search(rb"<(\w+:)?fonts\b[^>]*>", self.xml)
        if m is None:
            return 0
        prefix = m.group(1) or b""
        close = self.xml.find(b"</" + prefix + b"fonts>", m.end())
        first = re.search(
            rb"<(?:\w+:)?font\b[^>]*?(?:/>|>.*?</(?:\w+:)?font>)", self.xml[m.end() : close], re.S
        )
        body = b""
        if first is not None and not first.group(0).endswith(b"/>"):
            inner = first.group(0)[first.group(0).index(b">") + 1 : first.group(0).rindex(b"</")]
            body = re.sub(rb"<(?:\w+:)?(?:b|sz)\b[^>]*/>", b"", inner)
        if size:
            body = b'<%ssz val="%s"/>' % (prefix, str(size).encode()) + body
        if bold:
            body = b"<%sb/>" % prefix + body
        font = b"<%sfont>%s</%sfont>" % (prefix, body, prefix)
        fonts = re.findall(
            rb"<(?:\w+:)?font\b[^>]*?(?:/>|>.*?</(?:\w+:)?font>)", self.xml[m.end() : close], re.S
        )
        if font in fonts:
            return fonts.index(font)
        count = len(fonts)
        self.xml = self.xml[:close] + font + self.xml[close:]
        self.xml = _bump_count(self.xml, b"fonts")
        self.changed = True
        return count

    def _with_font(self, style: int, font: int) -> int:
        """A copy of cell format ``style`` using font ``font``."""
        found = self._cell_xfs(style)
        if found is None:
            return style
        source, xfs, end = found
        clone = re.sub(rb'\s(?:fontId|applyFont)="[^"]*"', b"", source)
        clone = re.sub(
            rb"<(\w+:)?xf\b",
            lambda m: m.group(0) + b' fontId="%d" applyFont="1"' % font,
            clone,
            count=1,
        )
        return self._append_xf(clone, xfs, end)

    def _with_alignment(self, style: int, horizontal: str | None, wrap: bool) -> int:
        """A copy of cell format ``style`` aligned ``horizontal`` and wrapping its text as
        asked (its other settings kept)."""
        found = self._cell_xfs(style)
        if found is None:
            return style
        source, xfs, end = found
        m = re.match(rb"<(\w+:)?xf\b", source)
        assert m is not None
        prefix = m.group(1) or b""
        indent = horizontal == "indent"  # left, one step in
        if indent:
            horizontal = "left"
        attrs = b' horizontal="%s"' % horizontal.encode() if horizontal else b""
        if indent:
            attrs += b' indent="1"'
        if wrap:
            attrs += b' vertical="bottom" wrapText="1"'
        element = b"<%salignment%s/>" % (prefix, attrs)
        clone = re.sub(rb'\sapplyAlignment="[^"]*"', b"", source)
        clone = clone[: m.end()] + b' applyAlignment="1"' + clone[m.end() :]
        clone = re.sub(rb"<(?:\w+:)?alignment\b[^>]*?(?:/>|>.*?</(?:\w+:)?alignment>)", b"", clone)
        if clone.endswith(b"/>"):
            clone = clone[:-2] + b">" + element + b"</" + prefix + b"xf>"
        else:
            at = clone.index(b">") + 1  # alignment is the xf's first child
            clone = clone[:at] + element + clone[at:]
        return self._append_xf(clone, xfs, end)


def _bump_count(xml: bytes, element: bytes) -> bytes:
    m = re.search(rb"<(?:\w+:)?" + element + rb'\b[^>]*?count="(\d+)"', xml)
    if not m:
        return xml
    return xml[: m.start(1)] + str(int(m.group(1)) + 1).encode() + xml[m.end(1) :]
