#!/usr/bin/env python
"""Write the Word templates xlcrm ships: a sales contract and a quotation, in English and Chinese.

    python templates/contracts/make_templates.py      # rewrites the four .docx beside this file

The four files (``sales_contract.en.docx``, ``sales_contract.zh.docx``, ``quotation.en.docx``,
``quotation.zh.docx``) are committed; this script is how they were made, so a change to the
shipped wording is a reviewed change to this file, and rerunning it gives the same bytes (fixed
dates in the document properties and in the zip). To change the templates *for your company*,
do not edit these: copy one into a ``templates/contracts/`` folder beside your workbook, edit it
in Word, and give ``--template`` its name; xlcrm looks there before its own.

Editing a template in Word
==========================

A template is an ordinary Word document with Jinja tags typed into the text:

- ``{{ customer.company }}`` is replaced by a value. What there is: ``customer`` (name, company,
  email, phone, region…), ``deal`` (title, amount, currency, expected_close…), ``lines`` (the
  products sold: sku, name, quantity, unit, unit_price, amount), ``total``, ``company`` (your
  company, from the Settings table: name, address, phone, email, tax_id, bank, bank_account,
  representative), ``owner.name``, ``contract_no``, ``today``.
- Filters format values: ``{{ total | money }}`` (¥1,234.00), ``{{ total | cn_upper }}``
  (壹仟贰佰叁拾肆元整), ``{{ today | date }}`` (2026年3月1日 / March 1, 2026),
  ``{{ customer | salutation }}`` (尊敬的王伟 / Dear Wang Wei).
- An empty cell is an error, never a blank in a contract: generating stops and names the cell.
  A field that may be empty is written ``{{ customer.phone | default("") }}`` or
  ``{% if customer.phone is defined %}电话：{{ customer.phone }}{% endif %}``.
- ``{%p if … %}``, ``{%p else %}``, ``{%p endif %}`` alone in a paragraph keep or drop the
  paragraphs between them; the tag's own paragraph disappears from the result.
- ``{%tr for line in lines %}`` and ``{%tr endfor %}`` each alone in a table row repeat the row
  between them once per product line; their own rows disappear.
- Values that contain line breaks (an address on two lines) keep them.
- Quotations show ``valid_until`` when the context has one, else the date 30 days after
  ``today``; the first paragraph of each template sets ``cur``, the currency amounts are
  written in (the deal's, else CNY), and 大写金额 appears only for CNY.

Word stores text in *runs*, pieces of text with one formatting. A tag works only when Word has
kept it together, so:

- Type a tag in one go, and format it as a whole (make the whole ``{{ … }}`` bold, never half).
- To change a tag, select all of it, from ``{{`` to ``}}``, and retype it. Editing a few
  letters in the middle (or a spelling correction, or tracked changes) can leave the tag split
  into pieces Word formats differently; xlcrm then reports a template error that names the file
  and the line: retype that tag.
- Straight or curly quotes both work inside tags (Word's AutoCorrect makes them curly).
- Turn off "Track changes" while editing tags, and accept all changes before using the file.

Fonts: Chinese text is set in SimSun (宋体, titles in SimHei 黑体), the fonts every Chinese
Windows has; the font table also names them 宋体/黑体 with the GB2312 character set, so Word
in any language finds them. LibreOffice on Linux (PDF conversion) substitutes Noto Serif/Sans CJK
SC through fontconfig, because the text is marked as zh-CN.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from lxml import etree

HERE = Path(__file__).resolve().parent
FIXED = dt.datetime(2026, 1, 1, 0, 0, 0)  # document properties and zip entries: reruns are equal
ZIP_TIME = (2026, 1, 1, 0, 0, 0)
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

# Latin text font per language; East Asian text in every template uses SimSun (宋体).
LATIN = {"en": "Arial", "zh": "Times New Roman"}
SONG, HEI = "SimSun", "SimHei"
# What Word needs to find the Chinese fonts under either name (font table entries).
FONT_TABLE = {
    SONG: ("宋体", "02010600030101010101", "roman"),
    HEI: ("黑体", "02010609060101010101", "modern"),
}
GREY = RGBColor(0x59, 0x59, 0x59)
HEADER_FILL = "D9E2F3"
# The currency every amount is written in; the deal's, else CNY.
SET_CURRENCY = '{%p set cur = deal.currency | default("CNY") | trim | upper %}'
VALID_UNTIL = (
    "{% if valid_until is defined %}{{ valid_until | date }}"
    "{% else %}{{ today.fromordinal(today.toordinal() + 30) | date }}{% endif %}"
)

Runs = Sequence[str | tuple[str, str]]  # "text", or ("text", "b") for bold, "h" for 黑体 bold


# -- the document and its styles


def new_document(lang: str, title: str) -> DocxDocument:
    """An A4 document whose default fonts and language suit ``lang``."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.2)
    section.top_margin, section.bottom_margin = Cm(2.2), Cm(2.0)
    section.header_distance = section.footer_distance = Cm(1.0)
    _default_fonts(doc, lang)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5 if lang == "zh" else 10)
    normal.paragraph_format.space_after = Pt(3)
    normal.paragraph_format.line_spacing = 1.25
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = title, "xlcrm", "xlcrm"
    props.comments = "xlcrm template: see templates/contracts/make_templates.py"
    props.subject = props.keywords = props.category = ""
    props.created = props.modified = props.last_printed = FIXED
    props.revision = 1
    return doc


def _default_fonts(doc: DocxDocument, lang: str) -> None:
    """Fonts and language in the document defaults and the Normal style.

    The defaults of python-docx's template point at theme fonts, which win over named ones; they
    are replaced by named fonts. ``w:lang eastAsia="zh-CN"`` makes LibreOffice choose the
    Simplified Chinese faces (not the Japanese ones) of a CJK font; ``w:hint="eastAsia"`` in
    Chinese documents sets shared punctuation (“ ” — …) in the Chinese font, as Word does.
    """
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    for rpr in (defaults.find(qn("w:rPr")), doc.styles["Normal"].element.get_or_add_rPr()):
        set_fonts(rpr, LATIN[lang], SONG, hint=lang == "zh")
        for old in rpr.findall(qn("w:lang")):
            rpr.remove(old)
        language = OxmlElement("w:lang")
        language.set(qn("w:val"), "zh-CN" if lang == "zh" else "en-US")
        language.set(qn("w:eastAsia"), "zh-CN")
        rpr.append(language)


def set_fonts(rpr: etree._Element, latin: str, east_asia: str, *, hint: bool = False) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for name in list(fonts.attrib):
        del fonts.attrib[name]
    for slot in ("ascii", "hAnsi", "cs"):
        fonts.set(qn(f"w:{slot}"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    if hint:
        fonts.set(qn("w:hint"), "eastAsia")


# -- paragraphs


def para(
    doc: DocxDocument | _Cell,
    runs: Runs | str = (),
    *,
    align: str = "left",
    size: float | None = None,
    before: float = 0,
    after: float | None = None,
    indent: float = 0,
    keep: bool = False,
    grey: bool = False,
    paragraph: Paragraph | None = None,
) -> Paragraph:
    """A paragraph of runs. Every tag is inside one run, as Word must keep it."""
    p = paragraph if paragraph is not None else doc.add_paragraph()
    p.alignment = {
        "left": WD_ALIGN_PARAGRAPH.LEFT,
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
        "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
    }[align]
    fmt = p.paragraph_format
    fmt.space_before = Pt(before)
    if after is not None:
        fmt.space_after = Pt(after)
    if indent:
        fmt.first_line_indent = Pt(indent)
    fmt.keep_with_next = keep or None
    for item in [runs] if isinstance(runs, str) else runs:
        text, how = (item, "") if isinstance(item, str) else item
        run = p.add_run(text)
        run.bold = "b" in how or "h" in how or None
        if "h" in how:
            set_fonts(run._r.get_or_add_rPr(), run.font.name or "Arial", HEI)
        if size:
            run.font.size = Pt(size)
        if grey:
            run.font.color.rgb = GREY
    return p


def control(doc: DocxDocument, tag: str) -> Paragraph:
    """A paragraph holding only a ``{%p … %}`` tag: small and grey, so editors see it is not
    text (it disappears from generated documents)."""
    return para(doc, tag, size=8, after=0, grey=True)


def title(doc: DocxDocument, text: str, lang: str) -> None:
    para(doc, [(text, "h")], align="center", size=20 if lang == "zh" else 18, after=10)


def heading(doc: DocxDocument, text: str) -> None:
    para(doc, [(text, "h")], before=8, after=3, keep=True)


# -- tables


def table(doc: DocxDocument, widths: Sequence[float], rows: int, *, grid: bool) -> Table:
    """A table with fixed column widths (cm); ``grid`` draws every border."""
    t = doc.add_table(rows=rows, cols=len(widths))
    if grid:
        t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    for column, width in zip(t.columns, widths):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)
    return t


def fill(cell: _Cell, runs: Runs | str, *, align: str = "left", size: float | None = None) -> None:
    para(cell, runs, align=align, size=size, after=0, paragraph=cell.paragraphs[0])


def shade(cell: _Cell, color: str = HEADER_FILL) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), color)
    cell._tc.get_or_add_tcPr().append(shading)


def row_flag(row: object, name: str) -> None:
    """``w:tblHeader`` (repeat on each page) or ``w:cantSplit`` on a table row."""
    tr_pr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    tr_pr.append(OxmlElement(f"w:{name}"))


def money_of(value: str, what: str = "line.currency") -> str:
    return f"{{{{ {value} | money({what} | default(cur)) }}}}"


LINE_CELLS = [
    "{{ loop.index }}",
    '{{ line.sku | default("—") }}',
    "{{ line.name }}",
    "{{ line.quantity }}",
    '{{ line.unit | default("") }}',
    money_of("line.unit_price"),
    money_of("line.amount"),
]
LINE_ALIGNS = ["center", "left", "left", "right", "center", "right", "right"]
LINE_WIDTHS = [1.2, 2.3, 3.6, 1.4, 1.5, 2.8, 3.8]  # 16.6 cm, the text width
TABLE_SIZE = 9.5
HEADINGS = {
    "zh": ["序号", "产品编号", "产品名称", "数量", "单位", "单价", "金额"],
    "en": ["No.", "SKU", "Description", "Qty", "Unit", "Unit price", "Amount"],
}


def lines_table(doc: DocxDocument, lang: str, total_label: str) -> None:
    """Heading row, the row repeated per line between ``{%tr for %}`` and ``{%tr endfor %}``,
    and the total."""
    headings = HEADINGS[lang]
    t = table(doc, LINE_WIDTHS, 5, grid=True)
    head, start, line, end, total = t.rows
    row_flag(head, "tblHeader")
    for cell, text, align in zip(head.cells, headings, LINE_ALIGNS):
        fill(cell, [(text, "b")], align=align, size=TABLE_SIZE)
        shade(cell)
    fill(start.cells[0], "{%tr for line in lines %}")
    for cell, text, align in zip(line.cells, LINE_CELLS, LINE_ALIGNS):
        fill(cell, text, align=align, size=TABLE_SIZE)
    row_flag(line, "cantSplit")
    fill(end.cells[0], "{%tr endfor %}")
    label = total.cells[0].merge(total.cells[5])
    fill(label, [(total_label, "b")], align="right", size=TABLE_SIZE)
    fill(total.cells[6], [("{{ total | money(cur) }}", "b")], align="right", size=TABLE_SIZE)
    para(doc, "", after=2)


def details(doc: DocxDocument, rows: Sequence[tuple[str, Runs | str]], widths=(3.9, 12.7)) -> None:
    """Label–value pairs in a borderless table, so values on several lines stay aligned; a
    label that names a party starts a group, a little apart from the one before."""
    t = table(doc, widths, len(rows), grid=False)
    for n, (row, (label, value)) in enumerate(zip(t.rows, rows)):
        fill(row.cells[0], label)
        fill(row.cells[1], value)
        keep_together(row, last=n == len(rows) - 1)
        if n and not isinstance(value, str):
            for cell in row.cells:
                cell.paragraphs[0].paragraph_format.space_before = Pt(6)


def keep_together(row: object, *, last: bool) -> None:
    """Rows that stay on one page with the next (a block of bank details is never split)."""
    row_flag(row, "cantSplit")
    if not last:
        for cell in row.cells:  # type: ignore[attr-defined]
            cell.paragraphs[0].paragraph_format.keep_with_next = True


def signatures(doc: DocxDocument, left: Sequence[Runs | str], right: Sequence[Runs | str]) -> None:
    """The parties' signature blocks side by side, on one page."""
    para(doc, "", after=6, keep=True)
    t = table(doc, (8.3, 8.3), len(left), grid=False)
    for n, (row, a, b) in enumerate(zip(t.rows, left, right)):
        keep_together(row, last=n == len(left) - 1)
        fill(row.cells[0], a)
        fill(row.cells[1], b)
        for cell in row.cells:
            cell.paragraphs[0].paragraph_format.space_after = Pt(8)


# -- header and footer


def field_runs(p: Paragraph, code: str, shown: str, size: float) -> None:
    """A Word field (PAGE, NUMPAGES): begin, instruction, separator, shown value, end."""

    def char(kind: str) -> None:
        run = p.add_run()
        run.font.size = Pt(size)
        mark = OxmlElement("w:fldChar")
        mark.set(qn("w:fldCharType"), kind)
        run._r.append(mark)

    char("begin")
    run = p.add_run()
    run.font.size = Pt(size)
    instruction = OxmlElement("w:instrText")
    instruction.set(qn("xml:space"), "preserve")
    instruction.text = f" {code} "
    run._r.append(instruction)
    char("separate")
    p.add_run(shown).font.size = Pt(size)
    char("end")


def header_footer(doc: DocxDocument, number_label: str, page: tuple[str, str, str]) -> None:
    """The seller's name at the top right; the document number and page x of y at the bottom."""
    section = doc.sections[0]
    para(
        section.header,
        "{{ company.name }}",
        align="right",
        size=8,
        grey=True,
        paragraph=section.header.paragraphs[0],
    )
    footer = section.footer.paragraphs[0]
    text = f"{number_label}{{{{ contract_no }}}}    "
    para(section.footer, text, align="center", size=8, paragraph=footer)
    before, middle, after = page
    footer.add_run(before).font.size = Pt(8)
    field_runs(footer, "PAGE", "1", 8)
    footer.add_run(middle).font.size = Pt(8)
    field_runs(footer, "NUMPAGES", "1", 8)
    footer.add_run(after).font.size = Pt(8)


# -- the four documents


def amount_in_words_zh(doc: DocxDocument, label: str) -> None:
    """人民币大写 for CNY; other currencies in figures with their code."""
    control(doc, '{%p if cur == "CNY" %}')
    para(doc, [(f"{label}：人民币 {{{{ total | cn_upper }}}}（{{{{ total | money }}}}）", "b")])
    control(doc, "{%p else %}")
    para(doc, [(f"{label}：{{{{ total | money(cur) }}}}（币种：{{{{ cur }}}}）", "b")])
    control(doc, "{%p endif %}")


def bank_lines_zh(doc: DocxDocument) -> None:
    details(
        doc,
        [
            ("户　　名：", "{{ company.name }}"),
            ("开户银行：", "{{ company.bank }}"),
            ("账　　号：", "{{ company.bank_account }}"),
        ],
        widths=(2.6, 14.0),
    )


def bank_lines_en(doc: DocxDocument) -> None:
    details(
        doc,
        [
            ("Account name:", "{{ company.name }}"),
            ("Bank:", "{{ company.bank }}"),
            ("Account No.:", "{{ company.bank_account }}"),
        ],
        widths=(3.4, 13.2),
    )


def clauses(doc: DocxDocument, items: Sequence[tuple[str, Sequence[str]]], lang: str) -> None:
    for head, texts in items:
        heading(doc, head)
        for text in texts:
            para(doc, text, align="justify", indent=21 if lang == "zh" else 0)


def sales_contract_zh() -> DocxDocument:
    doc = new_document("zh", "销售合同")
    control(doc, SET_CURRENCY)
    title(doc, "销 售 合 同", "zh")
    para(doc, "合同编号：{{ contract_no }}", align="right", after=0)
    para(doc, "签订日期：{{ today | date }}", align="right", after=8)
    details(
        doc,
        [
            ("甲方（需方）：", [("{{ customer.company }}", "b")]),
            ("联 系 人：", "{{ customer.name }}"),
            ("电　　话：", '{{ customer.phone | default("") }}'),
            ("电子邮箱：", '{{ customer.email | default("") }}'),
            ("乙方（供方）：", [("{{ company.name }}", "b")]),
            ("统一社会信用代码：", "{{ company.tax_id }}"),
            ("地　　址：", "{{ company.address }}"),
            ("电　　话：", '{{ company.phone | default("") }}'),
            ("电子邮箱：", '{{ company.email | default("") }}'),
        ],
    )
    para(
        doc,
        "甲、乙双方根据《中华人民共和国民法典》及有关法律法规的规定，本着平等自愿、诚实信用的"
        "原则，经友好协商，就甲方向乙方购买下列产品事宜达成如下协议，以资共同遵守：",
        align="justify",
        before=6,
        indent=21,
    )
    heading(doc, "一、产品名称、数量及价格")
    lines_table(doc, "zh", "合计")
    amount_in_words_zh(doc, "合同总金额")
    para(doc, "上述价格包含产品价款、包装费及运至交货地点的运输费用。", indent=21)
    clauses(
        doc,
        [
            (
                "二、付款方式",
                [
                    "1. 本合同签订之日起五个工作日内，甲方向乙方支付合同总金额的30%作为预付款；"
                    "产品验收合格之日起十个工作日内，甲方向乙方支付合同总金额的70%。",
                    "2. 乙方应在甲方每次付款前向甲方开具等额的合法有效发票。",
                    "3. 甲方应将款项汇入乙方以下账户，乙方变更收款账户须事先书面通知甲方：",
                ],
            )
        ],
        "zh",
    )
    bank_lines_zh(doc)
    clauses(
        doc,
        [
            (
                "三、交货",
                [
                    "1. 交货期限：乙方收到甲方预付款之日起十五个工作日内交货。",
                    "2. 交货地点：甲方指定地点。运输及保险费用由乙方承担，产品毁损、灭失的风险"
                    "自交付甲方时转移至甲方。",
                ],
            ),
            (
                "四、验收",
                [
                    "甲方应在收货之日起七个工作日内按本合同约定进行验收。如有质量或数量异议，"
                    "甲方应在上述期限内书面通知乙方；逾期未提出异议的，视为验收合格。",
                ],
            ),
            (
                "五、质量保证",
                [
                    "乙方保证所供产品为全新合格产品，符合国家有关标准及本合同约定。质保期为验收"
                    "合格之日起十二个月；质保期内非因甲方使用不当造成的质量问题，乙方负责免费"
                    "维修或更换。",
                ],
            ),
            (
                "六、违约责任",
                [
                    "1. 甲方逾期付款的，每逾期一日，应按逾期付款金额的万分之五向乙方支付违约金。",
                    "2. 乙方逾期交货的，每逾期一日，应按逾期交货部分货款的万分之五向甲方支付"
                    "违约金，违约金总额不超过合同总金额的百分之五。",
                ],
            ),
            (
                "七、争议解决",
                [
                    "本合同的订立、效力、解释、履行及争议解决均适用中华人民共和国法律。因本合同"
                    "引起的或与本合同有关的任何争议，双方应友好协商解决；协商不成的，任何一方均可"
                    "提交甲方所在地人民法院诉讼解决。",
                ],
            ),
            (
                "八、其他",
                [
                    "1. 本合同自双方法定代表人或授权代表签字并加盖公章或合同专用章之日起生效。",
                    "2. 本合同未尽事宜，双方可另行签订补充协议，补充协议与本合同具有同等法律效力。",
                    "3. 本合同一式两份，甲、乙双方各执一份，具有同等法律效力。",
                ],
            ),
        ],
        "zh",
    )
    para(doc, "（以下无正文）", align="center", before=6)
    signatures(
        doc,
        [
            "甲方（需方）：（盖章）",
            [("{{ customer.company }}", "b")],
            "法定代表人或授权代表（签字）：",
            "",
            "日期：　　　　年　　月　　日",
        ],
        [
            "乙方（供方）：（盖章）",
            [("{{ company.name }}", "b")],
            "法定代表人或授权代表（签字）：",
            '{{ company.representative | default("") }}',
            "日期：　　　　年　　月　　日",
        ],
    )
    header_footer(doc, "合同编号：", ("第 ", " 页 / 共 ", " 页"))
    return doc


def sales_contract_en() -> DocxDocument:
    doc = new_document("en", "Sales Contract")
    control(doc, SET_CURRENCY)
    title(doc, "SALES CONTRACT", "en")
    para(doc, "Contract No.: {{ contract_no }}", align="right", after=0)
    para(doc, "Date: {{ today | date }}", align="right", after=8)
    details(
        doc,
        [
            ("Buyer:", [("{{ customer.company }}", "b")]),
            ("Contact:", "{{ customer.name }}"),
            ("Phone:", '{{ customer.phone | default("") }}'),
            ("E-mail:", '{{ customer.email | default("") }}'),
            ("Seller:", [("{{ company.name }}", "b")]),
            ("Address:", "{{ company.address }}"),
            ("Tax ID:", '{{ company.tax_id | default("") }}'),
            ("Phone:", '{{ company.phone | default("") }}'),
            ("E-mail:", '{{ company.email | default("") }}'),
        ],
        widths=(2.6, 14.0),
    )
    para(
        doc,
        "The Buyer and the Seller, after friendly negotiation, agree that the Seller sells and "
        "the Buyer buys the goods below on the following terms:",
        align="justify",
        before=6,
    )
    heading(doc, "1. Goods and Price")
    lines_table(doc, "en", "Total")
    para(doc, [("Total contract price: {{ total | money(cur) }}", "b")], after=0)
    control(doc, '{%p if cur == "CNY" %}')
    para(doc, "Amount in words (RMB): {{ total | cn_upper }}")
    control(doc, "{%p endif %}")
    para(doc, "The price includes packing and transport to the place of delivery.")
    clauses(
        doc,
        [
            (
                "2. Payment",
                [
                    "2.1 The Buyer pays 30% of the total contract price within five (5) working "
                    "days after this Contract is signed, and the remaining 70% within ten (10) "
                    "working days after acceptance of the goods.",
                    "2.2 The Seller issues a valid invoice for each amount before it is paid.",
                    "2.3 Payments are made by bank transfer to the Seller's account below; the "
                    "Seller notifies any change of account in writing in advance:",
                ],
            )
        ],
        "en",
    )
    bank_lines_en(doc)
    clauses(
        doc,
        [
            (
                "3. Delivery",
                [
                    "The Seller delivers the goods within fifteen (15) working days after "
                    "receiving the advance payment, to the place the Buyer designates, at the "
                    "Seller's cost. Risk of loss passes to the Buyer on delivery.",
                ],
            ),
            (
                "4. Acceptance",
                [
                    "The Buyer inspects the goods within seven (7) working days after delivery "
                    "and notifies the Seller in writing of any defect or shortage within that "
                    "period; otherwise the goods are deemed accepted.",
                ],
            ),
            (
                "5. Warranty",
                [
                    "The Seller warrants that the goods are new and conform to the applicable "
                    "standards and this Contract for twelve (12) months after acceptance. During "
                    "this period the Seller repairs or replaces free of charge any goods that "
                    "fail other than through the Buyer's misuse.",
                ],
            ),
            (
                "6. Liability for Breach",
                [
                    "If the Buyer pays late, it pays 0.05% of the overdue amount for each day of "
                    "delay. If the Seller delivers late, it pays 0.05% of the price of the goods "
                    "delivered late for each day of delay, up to 5% of the total contract price.",
                ],
            ),
            (
                "7. Governing Law and Disputes",
                [
                    "This Contract is governed by the laws of the People's Republic of China. "
                    "Any dispute arising from or in connection with this Contract shall be "
                    "settled by friendly negotiation; failing that, either party may bring it "
                    "before the people's court of the place where the Buyer is located.",
                ],
            ),
            (
                "8. Miscellaneous",
                [
                    "This Contract takes effect when signed and sealed by both parties. "
                    "Amendments are valid only in writing signed by both parties. This Contract "
                    "is made in two (2) originals, one for each party, with equal legal effect.",
                ],
            ),
        ],
        "en",
    )
    para(doc, "(No text below.)", align="center", before=6)
    signatures(
        doc,
        [
            [("For the Buyer", "b")],
            "{{ customer.company }}",
            "Authorised signature and seal:",
            "",
            "Date:",
        ],
        [
            [("For the Seller", "b")],
            "{{ company.name }}",
            "Authorised signature and seal:",
            '{{ company.representative | default("") }}',
            "Date:",
        ],
    )
    header_footer(doc, "Contract No. ", ("Page ", " of ", ""))
    return doc


def quotation_zh() -> DocxDocument:
    doc = new_document("zh", "报价单")
    control(doc, SET_CURRENCY)
    title(doc, "报 价 单", "zh")
    quote_parties(
        doc,
        [
            ("报价单号", "{{ contract_no }}", "报价日期", "{{ today | date }}"),
            ("项目名称", '{{ deal.title | default("") }}', "有效期至", VALID_UNTIL),
            ("客户名称", "{{ customer.company }}", "报价单位", "{{ company.name }}"),
            ("联 系 人", "{{ customer.name }}", "联 系 人", '{{ owner.name | default("") }}'),
            (
                "电　　话",
                '{{ customer.phone | default("") }}',
                "电　　话",
                '{{ company.phone | default("") }}',
            ),
            (
                "电子邮箱",
                '{{ customer.email | default("") }}',
                "电子邮箱",
                '{{ company.email | default("") }}',
            ),
        ],
    )
    para(doc, "{{ customer | salutation }}：", before=8)
    para(doc, "感谢贵司对我司产品与服务的关注！现将报价呈上，敬请审阅：", indent=21)
    lines_table(doc, "zh", "合计")
    amount_in_words_zh(doc, "报价总金额")
    heading(doc, "报价说明")
    for text in (
        "1. 本报价在上述有效期内有效，逾期请与我司重新确认。",
        "2. 付款方式：合同签订之日起五个工作日内支付合同总金额的30%作为预付款，"
        "验收合格之日起十个工作日内支付余款。",
        "3. 交货期：收到预付款之日起十五个工作日内交货，运费由我司承担。",
        "4. 质保期：验收合格之日起十二个月。",
        "5. 本报价单不构成合同，最终以双方签订的销售合同为准。",
    ):
        para(doc, text, align="justify")
    control(doc, "{%p if company.bank is defined and company.bank_account is defined %}")
    para(doc, "收款账户：", before=4)
    bank_lines_zh(doc)
    control(doc, "{%p endif %}")
    signatures(
        doc,
        ["报价单位（盖章）：", [("{{ company.name }}", "b")], "日期：{{ today | date }}"],
        [
            "客户确认（签字盖章）：",
            [("{{ customer.company }}", "b")],
            "日期：　　　　年　　月　　日",
        ],
    )
    header_footer(doc, "报价单号：", ("第 ", " 页 / 共 ", " 页"))
    return doc


def quotation_en() -> DocxDocument:
    doc = new_document("en", "Quotation")
    control(doc, SET_CURRENCY)
    title(doc, "QUOTATION", "en")
    quote_parties(
        doc,
        [
            ("Quotation No.", "{{ contract_no }}", "Date", "{{ today | date }}"),
            ("Project", '{{ deal.title | default("") }}', "Valid until", VALID_UNTIL),
            ("To", "{{ customer.company }}", "From", "{{ company.name }}"),
            ("Attn.", "{{ customer.name }}", "Contact", '{{ owner.name | default("") }}'),
            (
                "Phone",
                '{{ customer.phone | default("") }}',
                "Phone",
                '{{ company.phone | default("") }}',
            ),
            (
                "E-mail",
                '{{ customer.email | default("") }}',
                "E-mail",
                '{{ company.email | default("") }}',
            ),
        ],
    )
    para(doc, "{{ customer | salutation }},", before=8)
    para(doc, "Thank you for your interest in our products. We are pleased to quote as follows:")
    lines_table(doc, "en", "Total")
    para(doc, [("Total: {{ total | money(cur) }}", "b")])
    heading(doc, "Terms")
    for text in (
        "1. Validity: this quotation is valid until the date above.",
        "2. Payment: 30% within five (5) working days after the contract is signed, the balance "
        "within ten (10) working days after acceptance, by bank transfer.",
        "3. Delivery: within fifteen (15) working days after receipt of the advance payment, "
        "transport at our cost.",
        "4. Warranty: twelve (12) months from acceptance.",
        "5. This quotation is not a contract; the sales contract signed by both parties governs.",
    ):
        para(doc, text, align="justify")
    control(doc, "{%p if company.bank is defined and company.bank_account is defined %}")
    para(doc, "Bank details:", before=4)
    bank_lines_en(doc)
    control(doc, "{%p endif %}")
    signatures(
        doc,
        [[("For {{ company.name }}", "b")], "Signature:", "Date: {{ today | date }}"],
        [[("Accepted by {{ customer.company }}", "b")], "Signature and seal:", "Date:"],
    )
    header_footer(doc, "Quotation No. ", ("Page ", " of ", ""))
    return doc


def quote_parties(doc: DocxDocument, rows: Sequence[tuple[str, str, str, str]]) -> None:
    """The quotation's heading facts: four columns, labels shaded."""
    t = table(doc, (3.2, 5.1, 2.8, 5.5), len(rows), grid=True)
    for row, values in zip(t.rows, rows):
        for n, (cell, text) in enumerate(zip(row.cells, values)):
            fill(cell, [(text, "b")] if n % 2 == 0 else text)
            if n % 2 == 0:
                shade(cell)


TEMPLATES: dict[str, Callable[[], DocxDocument]] = {
    "sales_contract.en.docx": sales_contract_en,
    "sales_contract.zh.docx": sales_contract_zh,
    "quotation.en.docx": quotation_en,
    "quotation.zh.docx": quotation_zh,
}


# -- saving the same bytes every time


def package(doc: DocxDocument) -> bytes:
    """The .docx, with fixed zip times, the font table naming 宋体/黑体, no stale thumbnail."""
    raw = io.BytesIO()
    doc.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename == "docProps/thumbnail.jpeg":  # python-docx's, of another page
                continue
            data = src.read(info.filename)
            if info.filename == "_rels/.rels":
                data = _drop_thumbnail(data)
            elif info.filename == "word/fontTable.xml":
                data = _font_table(data)
            entry = zipfile.ZipInfo(info.filename, ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, data)
    return out.getvalue()


def _drop_thumbnail(data: bytes) -> bytes:
    root = etree.fromstring(data)
    for rel in list(root):
        if rel.get("Target") == "docProps/thumbnail.jpeg":
            root.remove(rel)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _font_table(data: bytes) -> bytes:
    root = etree.fromstring(data)
    for name, (alt, panose, family) in FONT_TABLE.items():
        font = etree.SubElement(root, f"{{{W}}}font", {f"{{{W}}}name": name})
        for tag, value in (
            ("altName", alt),
            ("panose1", panose),
            ("charset", "86"),  # GB2312
            ("family", family),
            ("pitch", "variable"),
        ):
            etree.SubElement(font, f"{{{W}}}{tag}", {f"{{{W}}}val": value})
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def main() -> None:
    for name, build in TEMPLATES.items():
        target = HERE / name
        data = package(build())
        if target.exists() and target.read_bytes() == data:
            print(f"{name}: unchanged")
            continue
        target.write_bytes(data)
        print(f"{name}: written ({len(data):,} bytes)")


if __name__ == "__main__":
    main()
