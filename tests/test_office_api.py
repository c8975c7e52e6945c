"""Every Office.js API the add-in's JavaScript calls, against the Excel that the manifest admits.

The manifest's ``<Set Name="ExcelApi" MinVersion=…>`` decides which Excel versions install the
add-in; an API newer than that set fails at run time on exactly those versions (Excel 2019,
Excel 2016 for Mac), where nobody here runs the pane. So this test keeps the table
``EXCEL_API`` of every Excel object member the JavaScript uses (property, method, or a path in a
``load("…")`` string) and which Excel classes it is used on, and checks it three ways:

* against the JavaScript: every member name in the files that talk to the workbook that is also
  an Excel API member name must be in the table (or in ``NOT_EXCEL``, saying what it is
  instead), and every entry must still be used — a new call without an entry fails;
* against Microsoft's typings (``@types/office-js``, installed with the JavaScript tests in
  tests/js), whose ``[Api set: ExcelApi 1.9]`` remarks give each member's requirement set;
* against the manifest: the highest set of the members called unconditionally is exactly the
  manifest's minimum, and each newer one is in ``OPTIONAL`` — used only behind
  ``supports(OPTIONAL.…)`` (addin/web/js/requirements.js, ``Office.context.requirements.
  isSetSupported``) with the set requirements.js names for it.

Desktop Excel cannot run here; the typings are Microsoft's own statement of each set.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from conftest import missing
from lxml import etree

from addin.officeaddin.manifest import EXCEL_API_MIN, build_manifest

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "addin" / "web" / "js"
TYPINGS = ROOT / "tests" / "js" / "node_modules" / "@types" / "office-js" / "index.d.ts"

# Member name → the Excel classes the JavaScript uses it on. (The selection's address and
# worksheet are also read on a RangeAreas, ExcelApi 1.9, which only getSelectedRanges gives:
# covered by its detection below.)
EXCEL_API: dict[str, tuple[str, ...]] = {
    "activate": ("Worksheet",),
    "add": (
        "WorksheetCollection",
        "TableCollection",
        "TableRowCollection",
        "ChartCollection",
        "PageBreakCollection",
    ),
    "address": ("Range",),
    "bold": ("RangeFont",),
    "bottomMargin": ("PageLayout",),
    "charts": ("Worksheet",),
    "clear": ("Range",),
    "columnWidth": ("RangeFormat",),
    "dataValidation": ("Range",),
    "delete": ("Worksheet", "Table", "TableRow", "Chart"),
    "errorAlert": ("DataValidation",),
    "font": ("RangeFormat",),
    "format": ("Range",),
    "formulas": ("Range",),
    "getHeaderRowRange": ("Table",),
    "getItem": ("WorksheetCollection", "TableCollection"),
    "getItemAt": ("TableRowCollection",),
    "getLastRow": ("Range",),
    "getRange": ("Worksheet", "Table"),
    "getRow": ("Range",),
    "getSelectedRange": ("Workbook",),
    "getSelectedRanges": ("Workbook",),
    "getUsedRange": ("Worksheet",),
    "getUsedRangeOrNullObject": ("Worksheet", "Range"),
    "height": ("Chart",),
    "horizontalAlignment": ("RangeFormat",),
    "horizontalPageBreaks": ("Worksheet",),
    "indentLevel": ("RangeFormat",),
    "items": ("WorksheetCollection", "TableCollection", "ChartCollection"),
    "leftMargin": ("PageLayout",),
    "load": ("Range", "Worksheet", "WorksheetCollection", "TableCollection", "ChartCollection"),
    "name": ("Worksheet", "Table", "Chart"),
    "numberFormat": ("Range",),
    "orientation": ("PageLayout",),
    "pageLayout": ("Worksheet",),
    "position": ("Worksheet",),
    "resize": ("Table",),
    "rightMargin": ("PageLayout",),
    "rowHeight": ("RangeFormat",),
    "rows": ("Table",),
    "rule": ("DataValidation",),
    "setPosition": ("Chart",),
    "setPrintArea": ("PageLayout",),
    "size": ("RangeFont",),
    "tables": ("Workbook", "Worksheet"),
    "text": ("ChartTitle",),
    "title": ("Chart",),
    "topMargin": ("PageLayout",),
    "values": ("Range",),
    "visibility": ("Worksheet",),
    "width": ("Chart",),
    "workbook": ("RequestContext",),
    "worksheet": ("Table", "Range"),
    "worksheets": ("Workbook",),
    "wrapText": ("RangeFormat",),
    "zoom": ("PageLayout",),
}

# Member names that are Excel API names too, but that the JavaScript uses on its own objects
# or on JavaScript's built-ins: what they are here.
NOT_EXCEL: dict[str, str] = {
    "base": "a local variable's field (the applied ids)",
    "columns": "plan.read.columns: the service's read plan",
    "context": "Excel.RequestContext itself, passed around (a variable named context)",
    "filter": "Array.prototype.filter",
    "layout": "the page layout held in a local variable; requirements.js's OPTIONAL.layout",
    "horizontal": "a format action's horizontal alignment field",
    "find": "Array.prototype.find",
    "fill": "Array.prototype.fill",
    "index": "an action's index in its list",
    "key": "a storage event's key",
    "level": "a message action's level",
    "max": "Math.max",
    "message": "an Error's message",
    "min": "Math.min",
    "now": "Date.now",
    "replace": "an add_sheet action's replace flag / String.prototype.replace",
    "series": "a chart action's series field",
    "set": "Map.prototype.set / URLSearchParams.set",
    "shape": "the texts' shape() message",
    "sheet": "an action's or a status's sheet field",
    "sheets": "the inventory's sheets (a load result held in a plain object)",
    "sort": "Array.prototype.sort",
    "source": "a chart action's source address",
    "split": "String.prototype.split",
    "state": "the inspected state kept by excel-apply.js",
    "trim": "String.prototype.trim (a row filter's id cells)",
    "type": "an action's type",
    "value": "a dialog result's value (Office.AsyncResult)",
}

# Members newer than the manifest's minimum, each used only behind supports(OPTIONAL.<key>):
# member → (key in requirements.js's OPTIONAL, the set it needs).
OPTIONAL: dict[str, tuple[str, str]] = {
    "getSelectedRanges": ("selection", "1.9"),
    "dataValidation": ("dropdowns", "1.8"),
    "errorAlert": ("dropdowns", "1.8"),
    "rule": ("dropdowns", "1.8"),
    "resize": ("resize", "1.13"),
    "pageLayout": ("layout", "1.9"),
    "horizontalPageBreaks": ("layout", "1.9"),
    "indentLevel": ("layout", "1.9"),
    "orientation": ("layout", "1.9"),
    "zoom": ("layout", "1.9"),
    "leftMargin": ("layout", "1.9"),
    "rightMargin": ("layout", "1.9"),
    "topMargin": ("layout", "1.9"),
    "bottomMargin": ("layout", "1.9"),
    "setPrintArea": ("layout", "1.9"),
}

# A member whose use on one class is newer than the minimum, made only behind a detection
# that another OPTIONAL member of the same call already needs: (class, member) → (key, set).
# (PageBreakCollection.add runs on ws.horizontalPageBreaks, itself OPTIONAL "layout".)
OPTIONAL_ON: dict[tuple[str, str], tuple[str, str]] = {
    ("PageBreakCollection", "add"): ("layout", "1.9"),
}

# Office's common API (the Office namespace), with the requirement set each needs beyond the
# host's own; those with a set are feature-detected (typeof … === "function") where called.
OFFICE_COMMON: dict[str, str | None] = {
    "onReady": None,
    "context.displayLanguage": None,
    "context.document.url": None,
    "context.requirements.isSetSupported": None,
    "context.ui.displayDialogAsync": "DialogApi 1.1",
    "actions.associate": "SharedRuntime 1.1",
}


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


@cache
def typings() -> dict[tuple[str, str], str]:
    """(class, member) → its ExcelApi set, from @types/office-js ("1.1" where none is said:
    the load/set/toJSON members every object has had since 1.1)."""
    if not TYPINGS.is_file():
        missing(f"{TYPINGS} is missing: cd tests/js && npm ci")
    lines = TYPINGS.read_text(encoding="utf-8").splitlines()
    start = lines.index("declare namespace Excel {")
    sets: dict[tuple[str, str], str] = {}
    cls, last = None, None
    for line in lines[start + 1 :]:
        if line.startswith("}"):
            break
        if m := re.match(r"    (?:export )?(?:class|interface) (\w+)", line):
            cls, last = m.group(1), None
            continue
        if m := re.search(r"\[Api set: ExcelApi (\d+\.\d+)", line):
            last = m.group(1)
            continue
        m = re.match(r"        (?:readonly )?(?:set |get )?(\w+)\??[(:<]", line)
        if m and cls:
            known = sets.get((cls, m.group(1)))
            # Overloads: the member needs its lowest set (a newer overload is a new signature).
            found = last or "1.1"
            if known is None or version(found) < version(known):
                sets[(cls, m.group(1))] = found
            last = None
    return sets


def excel_member_names() -> set[str]:
    return {member for _, member in typings()}


def workbook_files() -> list[Path]:
    """The JavaScript files that talk to the workbook (an Excel.RequestContext)."""
    return [
        path
        for path in sorted(JS.rglob("*.js"))
        if re.search(r"context\.(sync\(|workbook)", path.read_text(encoding="utf-8"))
    ]


def members_used(path: Path) -> set[str]:
    """`.name` accesses in code, and the property paths of load("a,b/c") strings."""
    text = re.sub(r"//[^\n]*", "", path.read_text(encoding="utf-8"))
    loads = re.findall(r"\.load\(\"([^\"]*)\"\)", text)
    names = {part for arg in loads for part in re.split(r"[,/]", arg) if part}
    code = re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', text)
    names |= set(re.findall(r"\.([A-Za-z_]\w*)\b", code))
    return names


def test_the_files_that_talk_to_the_workbook() -> None:
    names = [p.name for p in workbook_files()]
    assert {"excel-read.js", "excel-apply.js", "commands.js"} <= set(names), names


def test_every_excel_member_the_javascript_uses_is_in_the_table() -> None:
    used: set[str] = set()
    for path in workbook_files():
        used |= members_used(path)
    excel = excel_member_names()
    unlisted = sorted((used & excel) - set(EXCEL_API) - set(NOT_EXCEL))
    assert unlisted == [], (
        f"Office.js members used without an entry in EXCEL_API (or NOT_EXCEL): {unlisted}"
    )
    stale = sorted((set(EXCEL_API) | set(NOT_EXCEL)) - used)
    assert stale == [], f"entries no JavaScript uses any more: {stale}"
    assert not set(EXCEL_API) & set(NOT_EXCEL)


@pytest.mark.parametrize("member", sorted(EXCEL_API))
def test_each_entry_is_an_excel_api_member(member: str) -> None:
    for cls in EXCEL_API[member]:
        assert (cls, member) in typings(), f"Excel.{cls} has no member {member}"


def requirement(member: str) -> str:
    """The set a member needs where the JavaScript uses it unconditionally."""
    classes = [cls for cls in EXCEL_API[member] if (cls, member) not in OPTIONAL_ON]
    return max((typings()[(cls, member)] for cls in classes), key=version)


def test_class_level_exceptions_need_what_they_say() -> None:
    requirements = (JS / "requirements.js").read_text(encoding="utf-8")
    declared = dict(re.findall(r'^\s+(\w+): "(\d+\.\d+)",', requirements, re.M))
    for (cls, member), (key, wanted) in OPTIONAL_ON.items():
        assert cls in EXCEL_API[member]
        assert typings()[(cls, member)] == wanted
        assert declared.get(key) == wanted


def test_the_manifest_asks_for_exactly_what_the_unconditional_calls_need() -> None:
    needed = {m: requirement(m) for m in EXCEL_API if m not in OPTIONAL}
    top = max(needed.values(), key=version)
    assert top == EXCEL_API_MIN, (
        f"the manifest asks for ExcelApi {EXCEL_API_MIN}, the calls need {top}: "
        f"{sorted(m for m, v in needed.items() if v == top)}"
    )
    root = etree.fromstring(build_manifest("https://localhost:8443"))
    ns = {"o": "http://schemas.microsoft.com/office/appforoffice/1.1"}
    sets = root.findall("o:Requirements/o:Sets/o:Set", ns)
    assert [(s.get("Name"), s.get("MinVersion")) for s in sets] == [("ExcelApi", EXCEL_API_MIN)]


def test_newer_members_are_feature_detected() -> None:
    requirements = (JS / "requirements.js").read_text(encoding="utf-8")
    declared = dict(re.findall(r'^\s+(\w+): "(\d+\.\d+)",', requirements, re.M))
    for member, (key, wanted) in OPTIONAL.items():
        assert requirement(member) == wanted, f"{member} needs ExcelApi {requirement(member)}"
        assert version(wanted) > version(EXCEL_API_MIN), f"{member} needs no detection"
        assert declared.get(key) == wanted, f"requirements.js OPTIONAL.{key} is not {wanted}"
        # Every file that uses the member asks supports(OPTIONAL.key) first.
        for path in workbook_files():
            text = re.sub(r"//[^\n]*", "", path.read_text(encoding="utf-8"))
            if member in members_used(path):
                assert f"supports(OPTIONAL.{key})" in text, (
                    f"{path.name} uses {member} (ExcelApi {wanted}) without "
                    f"supports(OPTIONAL.{key})"
                )


def test_office_common_api_is_listed() -> None:
    """Office.* paths (onReady, the display language, dialogs): listed, and the ones with a
    requirement set of their own are called only after a typeof check."""
    for path in sorted(JS.rglob("*.js")):
        text = re.sub(r"//[^\n]*", "", path.read_text(encoding="utf-8"))
        for chain in re.findall(r"\b[Oo]ffice((?:\??\.\w+)+)", text):
            name = chain.replace("?", "").lstrip(".")
            if name == "js" or name.startswith("js."):
                continue  # "office.js" in a comment-free string
            assert any(name == k or k.startswith(name + ".") for k in OFFICE_COMMON), (
                f"{path.name}: Office.{name} is not in OFFICE_COMMON"
            )
            needs = OFFICE_COMMON.get(name)
            last = name.split(".")[-1]
            if needs and f".{last}(" in text:
                assert re.search(rf'typeof [\w?.]*\b{last} [!=]== "function"', text), (
                    f"{path.name} calls Office.{name} ({needs}) without checking it exists"
                )
