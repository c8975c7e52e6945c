"""Byte-level edits to shared parts: a table's range, a new state sheet, recalculation.

Each function changes one attribute or adds one element and leaves every other byte of the part
as it was, so a workbook written by Excel or LibreOffice still looks like theirs afterwards.
"""

from __future__ import annotations

import posixpath
import re
from html import unescape
from xml.sax.saxutils import escape, quoteattr

from .package import PackageError
from .parts import CT_WORKSHEET, NS_MAIN, NS_REL, REL_WORKSHEET

_RESAVE = "open the workbook in Excel or LibreOffice and save it as an Excel Workbook (.xlsx)"
_TABLE_REF = re.compile(rb'(<(?:\w+:)?table\b[^>]*?\sref=")([^"]*)(")')
_FILTER_REF = re.compile(rb'(<(?:\w+:)?autoFilter\b[^>]*?\sref=")([^"]*)(")')


def set_table_ref(xml: bytes, ref: str) -> bytes:
    """Point a table part (and its autofilter) at a new range."""
    new = ref.encode()
    xml, n = _TABLE_REF.subn(lambda m: m.group(1) + new + m.group(3), xml, count=1)
    if n != 1:
        raise ValueError("table part has no ref attribute")
    return _FILTER_REF.sub(lambda m: m.group(1) + new + m.group(3), xml, count=1)


def _prefix_for(xml: bytes, namespace: str) -> bytes | None:
    """The prefix bound to ``namespace`` on the root element (b"" for the default)."""
    root = re.search(
        rb"<[\w:]+\b[^>]*>",
        xml[:4000] if b"?>" not in xml[:200] else xml[xml.index(b"?>") + 2 : 4000],
    )
    if root is None:
        return None
    for m in re.finditer(rb'xmlns(?::(\w+))?="([^"]*)"', root.group(0)):
        if m.group(2).decode() == namespace:
            return (m.group(1) + b":") if m.group(1) else b""
    return None


def add_sheet(
    workbook: bytes,
    rels: bytes,
    content_types: bytes,
    *,
    name: str,
    part: str,
    state: str,
    workbook_part: str = "xl/workbook.xml",
    first: bool = False,
) -> tuple[bytes, bytes, bytes]:
    """Register a new worksheet part in workbook.xml, its rels and [Content_Types].xml.

    The sheet goes last, so ``localSheetId`` indexes of existing defined names still hold;
    with ``first`` it goes first, and those indexes (and the active tab) move up by one.
    The relationship's target is relative to ``workbook_part``, wherever the package keeps it
    (``wtf/workbook.xml`` resolves ``worksheets/sheet1.xml`` to ``wtf/worksheets/…``).
    """
    ids = [int(x) for x in re.findall(rb'sheetId="(\d+)"', workbook)]
    sheet_id = max(ids, default=0) + 1
    rid = free_rid(rels)
    main = _prefix_for(workbook, NS_MAIN)
    if main is None:
        raise PackageError("workbook.xml does not use the SpreadsheetML namespace", _RESAVE)
    r_prefix = _prefix_for(workbook, NS_REL)
    rid_attr = f"{r_prefix.decode()[:-1]}:id" if r_prefix else "r:id"
    ns_decl = "" if r_prefix else f' xmlns:r="{NS_REL}"'
    element = (
        f'<{main.decode()}sheet{ns_decl} name={quoteattr(name)} sheetId="{sheet_id}" '
        f'state="{state}" {rid_attr}="{rid}"/>'
    ).encode()
    close = b"</" + main + b"sheets>"
    at = workbook.find(close)
    if at < 0:
        raise PackageError("workbook.xml has no <sheets> element", _RESAVE)
    if first:
        opening = re.search(rb"<" + re.escape(main) + rb"sheets\b[^>]*>", workbook)
        assert opening is not None
        at = opening.end()
        workbook = (
            _shift_sheet_indexes(workbook[:at]) + element + _shift_sheet_indexes(workbook[at:])
        )
    else:
        workbook = workbook[:at] + element + workbook[at:]

    rels = add_relationship(rels, rid, REL_WORKSHEET, relative_target(workbook_part, part))

    override = f'<Override PartName="/{escape(part)}" ContentType="{CT_WORKSHEET}"/>'.encode()
    at = content_types.rfind(b"</Types>")
    content_types = content_types[:at] + override + content_types[at:]
    return workbook, rels, content_types


def _shift_sheet_indexes(xml: bytes) -> bytes:
    """Sheet indexes one higher: a sheet was put before all the others."""

    def bump(m: re.Match[bytes]) -> bytes:
        return m.group(1) + str(int(m.group(2)) + 1).encode() + m.group(3)

    return re.sub(rb'(\s(?:localSheetId|activeTab|firstSheet)=")(\d+)(")', bump, xml)


def set_print_area(workbook: bytes, sheet: str, ref: str | None) -> bytes:
    """workbook.xml with the print area of ``sheet`` (by name) set to ``ref`` (A1, no ``$``),
    or removed when ``ref`` is None. Excel keeps a print area as the defined name
    ``_xlnm.Print_Area`` local to the sheet (by its index among the ``<sheet>`` elements)."""
    main = _prefix_for(workbook, NS_MAIN) or b""
    names = [
        unescape(n.decode())
        for n in re.findall(rb"<" + re.escape(main) + rb'sheet\b[^>]*?\sname="([^"]*)"', workbook)
    ]
    if sheet not in names:
        raise PackageError(f"workbook.xml has no sheet {sheet!r}", _RESAVE)
    index = names.index(sheet)
    old = re.compile(
        rb"<"
        + re.escape(main)
        + rb'definedName\b(?=[^>]*name="_xlnm\.Print_Area")(?=[^>]*localSheetId="'
        + str(index).encode()
        + rb'")[^>]*>.*?</'
        + re.escape(main)
        + rb"definedName>",
        re.S,
    )
    workbook = old.sub(b"", workbook)
    if ref is None:
        return workbook
    quoted = "'" + sheet.replace("'", "''") + "'"
    first, _, last = ref.partition(":")
    absolute = ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", p) for p in (first, last or first))
    element = (
        f'<{main.decode()}definedName name="_xlnm.Print_Area" localSheetId="{index}">'
        f"{escape(quoted)}!{absolute}</{main.decode()}definedName>"
    ).encode()
    m = re.search(rb"<" + re.escape(main) + rb"definedNames\b[^>]*?(/?)>", workbook)
    if m and not m.group(1):
        at = m.end()
        return workbook[:at] + element + workbook[at:]
    block = b"<%sdefinedNames>%s</%sdefinedNames>" % (main, element, main)
    if m:  # <definedNames/>
        return workbook[: m.start()] + block + workbook[m.end() :]
    # definedNames follows sheets, functionGroups and externalReferences (CT_Workbook).
    for tag in (b"externalReferences", b"functionGroups", b"sheets"):
        close = re.search(rb"</" + re.escape(main) + tag + rb">", workbook)
        if close:
            return workbook[: close.end()] + block + workbook[close.end() :]
    raise PackageError("workbook.xml has no <sheets> element", _RESAVE)


def relative_target(source_part: str, part: str) -> str:
    """A relationship target from ``source_part`` to ``part``, as Excel writes them."""
    return posixpath.relpath(part, posixpath.dirname(source_part) or ".")


def free_rid(rels: bytes) -> str:
    ids = set(re.findall(rb'Id="([^"]+)"', rels))
    n = 1
    while b"rIdXlcrm%d" % n in ids:
        n += 1
    return f"rIdXlcrm{n}"


def add_relationship(rels: bytes, rid: str, kind: str, target: str) -> bytes:
    """``rels`` with one more relationship, inserted before its closing tag."""
    m = re.search(rb"</(\w+:)?Relationships>\s*$", rels)
    if m is None:
        raise PackageError("a relationships part has no closing </Relationships>", _RESAVE)
    prefix = (m.group(1) or b"").decode()
    rel = f'<{prefix}Relationship Id="{rid}" Type="{kind}" Target="{escape(target)}"/>'
    return rels[: m.start()] + rel.encode() + rels[m.start() :]


# Elements that follow <calcPr> in CT_Workbook, in schema order.
_AFTER_CALCPR = (
    b"oleSize",
    b"customWorkbookViews",
    b"pivotCaches",
    b"smartTagPr",
    b"smartTagTypes",
    b"webPublishing",
    b"fileRecoveryPr",
    b"webPublishObjects",
    b"extLst",
)


def request_full_calc(workbook: bytes) -> bytes:
    """Ask Excel to recalculate on open (new rows carry formulas without cached values)."""
    m = re.search(rb"<(\w+:)?calcPr\b([^>]*?)(/?)>", workbook)
    if m:
        if b"fullCalcOnLoad=" in m.group(2):
            return re.sub(rb'fullCalcOnLoad="[^"]*"', b'fullCalcOnLoad="1"', workbook, count=1)
        at = m.start(2)
        return workbook[:at] + b' fullCalcOnLoad="1"' + workbook[at:]
    main = _prefix_for(workbook, NS_MAIN) or b""
    element = b"<" + main + b'calcPr fullCalcOnLoad="1"/>'
    for name in _AFTER_CALCPR:
        at = workbook.find(b"<" + main + name)
        if at >= 0:
            return workbook[:at] + element + workbook[at:]
    at = workbook.rfind(b"</" + main + b"workbook>")
    return workbook[:at] + element + workbook[at:]


def state_sheet_xml(items: dict[str, str], chunk: int = 32_000) -> bytes:
    """The ``_xlcrm`` sheet: one key per row, long values split over the following cells."""
    from ..cells import cell_ref

    rows = [
        '<row r="1"><c r="A1" t="inlineStr"><is><t>key</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>value</t></is></c></row>'
    ]
    for i, (key, value) in enumerate(sorted(items.items()), start=2):
        cells = [f'<c r="A{i}" t="inlineStr"><is><t>{escape(key)}</t></is></c>']
        parts = [value[k : k + chunk] for k in range(0, len(value), chunk)] or [""]
        for j, piece in enumerate(parts, start=1):
            cells.append(
                f'<c r="{cell_ref(i, j)}" t="inlineStr"><is><t xml:space="preserve">'
                f"{escape(piece)}</t></is></c>"
            )
        rows.append(f'<row r="{i}">{"".join(cells)}</row>')
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{NS_MAIN}"><sheetData>{"".join(rows)}</sheetData></worksheet>'
    ).encode()
