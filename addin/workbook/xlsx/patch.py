"""Byte-level edits to shared parts: a table's range, a new state sheet, recalculation.

Each function changes one attribute or adds one element and leaves every other byte of the part
as it was, so a workbook written by Excel or LibreOffice still looks like theirs afterwards.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

from .parts import CT_WORKSHEET, NS_MAIN, NS_REL, REL_WORKSHEET

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
    workbook: bytes, rels: bytes, content_types: bytes, *, name: str, part: str, state: str
) -> tuple[bytes, bytes, bytes]:
    """Register a new worksheet part in workbook.xml, its rels and [Content_Types].xml.

    The sheet goes last, so ``localSheetId`` indexes of existing defined names still hold.
    """
    ids = [int(x) for x in re.findall(rb'sheetId="(\d+)"', workbook)]
    sheet_id = max(ids, default=0) + 1
    rel_ids = set(re.findall(rb'Id="([^"]+)"', rels))
    n = 1
    while b"rIdXlcrm%d" % n in rel_ids:
        n += 1
    rid = f"rIdXlcrm{n}"
    main = _prefix_for(workbook, NS_MAIN)
    if main is None:
        raise ValueError("workbook.xml does not use the SpreadsheetML namespace")
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
        raise ValueError("workbook.xml has no <sheets> element")
    workbook = workbook[:at] + element + workbook[at:]

    target = part.split("/", 1)[1] if part.startswith("xl/") else "/" + part
    rel = (f'<Relationship Id="{rid}" Type="{REL_WORKSHEET}" Target="{escape(target)}"/>').encode()
    at = rels.rfind(b"</Relationships>")
    rels = rels[:at] + rel + rels[at:]

    override = f'<Override PartName="/{escape(part)}" ContentType="{CT_WORKSHEET}"/>'.encode()
    at = content_types.rfind(b"</Types>")
    content_types = content_types[:at] + override + content_types[at:]
    return workbook, rels, content_types


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
