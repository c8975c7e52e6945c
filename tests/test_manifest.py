"""The add-in manifest, checked the way Office reads it, and the files it points at.

Microsoft publishes the manifest's XML schemas only in its documentation (no npm or PyPI
package ships the .xsd files), so the rules Office enforces are checked here directly: the
element order of ``OfficeAppManifestV1_1.xsd`` and ``TaskPaneAppVersionOverridesV1_0.xsd``,
required elements, id and string lengths, resource references. Every URL must then be served
by the real ``xlcrm serve`` app: an icon or page that 404s shows up in Excel as a blank
button or an empty task pane, with no error anywhere.
"""

from __future__ import annotations

import re
import struct
import urllib.parse
import zlib
from pathlib import Path

import pytest
from lxml import etree

from addin.errors import UsageError
from addin.officeaddin import build_manifest
from addin.officeaddin.make_icons import all_icons, render
from addin.officeaddin.manifest import default_addin_id

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "addin" / "web"
NS = {
    "o": "http://schemas.microsoft.com/office/appforoffice/1.1",
    "ov": "http://schemas.microsoft.com/office/taskpaneappversionoverrides",
    "bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
XSI_TYPE = f"{{{NS['xsi']}}}type"
BASES = ("https://localhost:8443", "https://crm.example.cn/xlcrm")

# What a user sees on the ribbon: group → (en, zh), then button view → (en, zh), in order.
RIBBON = {
    ("Mail", "邮件"): {"sync": ("Sync mail", "同步邮件"), "campaign": ("Campaign", "营销活动")},
    ("Sales", "销售"): {
        "contract": ("Generate contract", "生成合同"),
        "reminders": ("Reminders", "跟进提醒"),
        "rules": ("Run rules", "运行规则"),
    },
    ("Data", "数据"): {
        "import": ("Import", "导入"),
        "dedupe": ("Clean duplicates", "客户去重"),
        "report": ("Refresh dashboard", "刷新仪表盘"),
    },
    ("Settings", "设置"): {"settings": ("Settings", "设置")},
}

# The schemas' sequences: an element's children, in the only order Office accepts them
# (``+`` may repeat, ``?`` is optional). Elements not listed here have no child elements
# to check, or only Override children.
SEQUENCES = {
    "o:OfficeApp": "o:Id o:Version o:ProviderName o:DefaultLocale o:DisplayName o:Description "
    "o:IconUrl? o:HighResolutionIconUrl? o:SupportUrl? o:AppDomains? o:Hosts? o:Requirements? "
    "o:DefaultSettings o:Permissions ov:VersionOverrides?",
    "o:Hosts": "o:Host+",
    "o:Requirements": "o:Sets",
    "o:Sets": "o:Set+",
    "o:DefaultSettings": "o:SourceLocation",
    "ov:VersionOverrides": "ov:Description? ov:Requirements? ov:Hosts ov:Resources",
    "ov:Hosts": "ov:Host+",
    "ov:Host": "ov:DesktopFormFactor",
    "ov:DesktopFormFactor": "ov:GetStarted? ov:FunctionFile ov:ExtensionPoint+",
    "ov:GetStarted": "ov:Title ov:Description ov:LearnMoreUrl",
    "ov:ExtensionPoint": "ov:OfficeTab? ov:CustomTab",
    "ov:CustomTab": "ov:Group+ ov:Label",
    "ov:Group": "ov:Label ov:Icon ov:Control+",
    "ov:Control": "ov:Label ov:Supertip ov:Icon ov:Action",
    "ov:Supertip": "ov:Title ov:Description",
    "ov:Icon": "bt:Image+",
    "ov:Action": "ov:TaskpaneId ov:SourceLocation",  # ShowTaskpane; ExecuteFunction: below
    "ov:Resources": "bt:Images bt:Urls bt:ShortStrings bt:LongStrings",
    "bt:Images": "bt:Image+",
    "bt:Urls": "bt:Url+",
    "bt:ShortStrings": "bt:String+",
    "bt:LongStrings": "bt:String+",
}


def qname(element: etree._Element) -> str:
    namespace, local = element.tag[1:].split("}")
    prefix = next(p for p, uri in NS.items() if uri == namespace)
    return f"{prefix}:{local}"


def parse(base: str = BASES[0], **kwargs: str) -> etree._Element:
    return etree.fromstring(build_manifest(base, **kwargs))


def resources(root: etree._Element, kind: str) -> dict[str, etree._Element]:
    return {e.get("id"): e for e in root.iterfind(f".//bt:{kind}/*", NS)}


def en_zh(element: etree._Element) -> tuple[str, str]:
    overrides = {o.get("Locale"): o.get("Value") for o in element if o.tag.endswith("Override")}
    return element.get("DefaultValue"), overrides.get("zh-CN")


def label(root: etree._Element, element: etree._Element) -> tuple[str, str]:
    resid = element.find("ov:Label", NS).get("resid")
    return en_zh(resources(root, "ShortStrings")[resid])


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def png_pixels(data: bytes) -> list[list[tuple[int, int, int, int]]]:
    """RGBA pixels of a PNG as make_icons writes it (8-bit RGBA, filter type 0)."""
    width, height, depth, kind = struct.unpack(">IIBB", data[16:26])
    assert (depth, kind) == (8, 6), "icons are 8-bit RGBA"
    idat, at = b"", 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        if data[at + 4 : at + 8] == b"IDAT":
            idat += data[at + 8 : at + 8 + length]
        at += 12 + length
    raw, stride = zlib.decompress(idat), 1 + 4 * width
    assert all(raw[r * stride] == 0 for r in range(height))
    return [
        [tuple(raw[r * stride + 1 + 4 * c : r * stride + 5 + 4 * c]) for c in range(width)]
        for r in range(height)
    ]


def web_file(base: str, url: str) -> Path:
    """The file under addin/web/ that ``xlcrm serve`` answers ``url`` with."""
    assert url.startswith(base + "/"), f"{url} is not under the service's URL {base}"
    return WEB / urllib.parse.urlsplit(url[len(base) + 1 :]).path


def all_urls(root: etree._Element) -> list[str]:
    return [v for v in root.xpath("//@DefaultValue") if v.startswith("https://")]


# -- the schema's rules ------------------------------------------------------------------


@pytest.mark.parametrize("base", BASES)
def test_elements_are_where_the_schema_wants_them(base: str) -> None:
    root = parse(base)
    assert qname(root) == "o:OfficeApp" and root.get(XSI_TYPE) == "TaskPaneApp"
    checked = 0
    for element in root.iter(etree.Element):
        rule = SEQUENCES.get(qname(element))
        if qname(element) == "ov:Action" and element.get(XSI_TYPE) == "ExecuteFunction":
            rule = "ov:FunctionName"
        if rule is None:
            continue
        checked += 1
        children = [qname(c) for c in element if isinstance(c.tag, str)]
        pattern = "".join(
            f"(?:{re.escape(item.rstrip('+?'))} ){item[-1] if item[-1] in '+?' else ''}"
            for item in rule.split()
        )
        assert re.fullmatch(pattern, "".join(f"{c} " for c in children)), (
            f"{qname(element)} has {children}, the schema wants {rule}"
        )
    assert checked > 40
    # xsi:type names resolve in the default namespace where they stand (Office reads them so)
    overrides = root.find("ov:VersionOverrides", NS)
    assert overrides.nsmap[None] == NS["ov"] and root.nsmap[None] == NS["o"]
    assert overrides.get(XSI_TYPE) == "VersionOverridesV1_0"
    assert root.find(".//ov:Host", NS).get(XSI_TYPE) == "Workbook"
    assert root.find(".//ov:ExtensionPoint", NS).get(XSI_TYPE) == "PrimaryCommandSurface"


def test_what_the_add_in_asks_of_excel() -> None:
    root = parse()
    assert root.findtext("o:Permissions", namespaces=NS) == "ReadWriteDocument"
    assert root.find("o:Hosts/o:Host", NS).get("Name") == "Workbook"
    sets = root.findall("o:Requirements/o:Sets/o:Set", NS)
    # What the JavaScript calls unconditionally needs (tests/test_office_api.py).
    assert [(s.get("Name"), s.get("MinVersion")) for s in sets] == [("ExcelApi", "1.4")]
    assert root.findtext("o:DefaultLocale", namespaces=NS) == "en-US"
    assert [d.text for d in root.iterfind("o:AppDomains/o:AppDomain", NS)] == [
        "https://localhost:8443"
    ]


def test_ids_are_unique_and_short_enough() -> None:
    root = parse()
    ui_ids = [e.get("id") for e in root.iterfind(".//ov:CustomTab", NS)]
    ui_ids += [e.get("id") for e in root.iterfind(".//ov:Group", NS)]
    ui_ids += [e.get("id") for e in root.iterfind(".//ov:Control", NS)]
    assert len(ui_ids) == len(set(ui_ids)) == 1 + 4 + 9
    assert all(0 < len(i) <= 125 for i in ui_ids)
    resource_ids = [e.get("id") for e in root.iterfind(".//ov:Resources/*/*", NS)]
    assert len(resource_ids) == len(set(resource_ids))
    assert all(0 < len(i) <= 32 for i in resource_ids), "Office allows 32 characters"


def test_every_reference_is_defined_and_every_resource_used() -> None:
    root = parse()
    kinds = {
        "Label": "ShortStrings",
        "Title": "ShortStrings",
        "Description": "LongStrings",
        "SourceLocation": "Urls",
        "FunctionFile": "Urls",
        "LearnMoreUrl": "Urls",
        "Image": "Images",
    }
    used: dict[str, set[str]] = {kind: set() for kind in kinds.values()}
    for element in root.iterfind(".//ov:Hosts//*[@resid]", NS):
        kind = kinds[etree.QName(element).localname]
        assert element.get("resid") in resources(root, kind), (
            f"{qname(element)} refers to {element.get('resid')}, not among the {kind}"
        )
        used[kind].add(element.get("resid"))
    for kind, ids in used.items():
        assert set(resources(root, kind)) == ids, f"unused {kind}"


def test_every_string_in_both_languages_within_office_limits() -> None:
    root = parse()
    strings = [(e, 125) for e in resources(root, "ShortStrings").values()]
    strings += [(e, 250) for e in resources(root, "LongStrings").values()]
    strings += [(root.find("o:DisplayName", NS), 125), (root.find("o:Description", NS), 250)]
    assert len(strings) > 20
    for element, limit in strings:
        en, zh = en_zh(element)
        assert en and zh, f"{element.get('id') or qname(element)} lacks a language"
        assert len(en) <= limit and len(zh) <= limit, (element.get("id"), en, zh)
        assert re.search(r"[\u4e00-\u9fff]", zh), f"not Chinese: {zh}"


def test_the_ribbon_a_user_sees() -> None:
    root = parse()
    tab = root.find(".//ov:CustomTab", NS)
    assert tab.get("id") == "xlcrm.Tab"
    assert label(root, tab) == ("CRM", "客户管理")
    seen = {
        label(root, group): {
            control.get("id").removeprefix("xlcrm."): label(root, control)
            for control in group.iterfind("ov:Control", NS)
        }
        for group in tab.iterfind("ov:Group", NS)
    }
    assert seen == RIBBON
    assert [list(v) for v in seen.values()] == [list(v) for v in RIBBON.values()]  # order
    assert en_zh(root.find("o:DisplayName", NS)) == ("xlcrm", "xlcrm 客户管理")


# The ribbon's one-click commands: the function Office calls in commands.html, and the view
# of the pane that shows the same command.
ONE_CLICK = {
    "sync": "syncMail",
    "reminders": "reminders",
    "rules": "runRules",
    "report": "refreshDashboard",
}


@pytest.mark.parametrize("base", BASES)
def test_every_button_runs_its_command_or_opens_its_view(base: str) -> None:
    """Sync mail, Refresh dashboard, Reminders and Run rules run at once (ExecuteFunction);
    every other button opens its view in the one task pane."""
    root = parse(base)
    urls = {k: e.get("DefaultValue") for k, e in resources(root, "Urls").items()}
    long_strings = resources(root, "LongStrings")
    controls = root.findall(".//ov:Control", NS)
    assert len(controls) == 9
    functions = {}
    for control in controls:
        view = control.get("id").removeprefix("xlcrm.")
        assert control.get(XSI_TYPE) == "Button"
        action = control.find("ov:Action", NS)
        if action.get(XSI_TYPE) == "ExecuteFunction":
            functions[view] = action.findtext("ov:FunctionName", namespaces=NS)
        else:
            assert action.get(XSI_TYPE) == "ShowTaskpane"
            assert action.findtext("ov:TaskpaneId", namespaces=NS) == "xlcrm.pane"
            source = action.find("ov:SourceLocation", NS).get("resid")
            assert urls[source] == f"{base}/taskpane.html?view={view}"
        tip = control.find("ov:Supertip/ov:Description", NS).get("resid")
        en, zh = en_zh(long_strings[tip])
        assert len(en) > 40 and len(zh) > 15, f"{view}: the supertip should say what it does"
    assert functions == ONE_CLICK
    # commands.js defines exactly these functions, each running that view's command.
    script = (WEB / "js" / "commands.js").read_text(encoding="utf-8")
    table = re.search(r"export const ONE_CLICK = \{([^}]*)\}", script)
    assert table, "commands.js has no ONE_CLICK table"
    pairs = dict(re.findall(r'(\w+): "(\w+)"', table.group(1)))
    assert pairs == {name: view for view, name in ONE_CLICK.items()}
    function_file = root.find(".//ov:FunctionFile", NS).get("resid")
    assert urls[function_file] == f"{base}/commands.html"
    assert root.find("o:SupportUrl", NS).get("DefaultValue") == f"{base}/help.html"
    assert root.find("o:DefaultSettings/o:SourceLocation", NS).get("DefaultValue") == (
        f"{base}/taskpane.html"
    )


# -- icons and pages ---------------------------------------------------------------------


@pytest.mark.parametrize("base", BASES)
def test_every_icon_exists_at_the_size_it_is_used(base: str) -> None:
    root = parse(base)
    images = {k: e.get("DefaultValue") for k, e in resources(root, "Images").items()}
    icons = root.findall(".//ov:Icon", NS)
    assert len(icons) == 4 + 9
    for icon in icons:
        sizes = []
        for image in icon.iterfind("bt:Image", NS):
            size = int(image.get("size"))
            sizes.append(size)
            path = web_file(base, images[image.get("resid")])
            assert png_size(path) == (size, size), path.name
        assert sorted(sizes) == [16, 32, 80], "Office requires 16, 32 and 80 px icons"
    for tag, size in (("IconUrl", 32), ("HighResolutionIconUrl", 64)):
        path = web_file(base, root.find(f"o:{tag}", NS).get("DefaultValue"))
        assert png_size(path) == (size, size)


def test_icons_are_pictures_with_rounded_corners() -> None:
    for name, size in all_icons():
        pixels = png_pixels((WEB / "icons" / f"{name}-{size}.png").read_bytes())
        assert pixels[0][0][3] == 0 and pixels[-1][-1][3] == 0, f"{name}-{size}: square corners"
        assert pixels[size // 2][1][3] == 255, f"{name}-{size}: no background"
        colours = {p[:3] for row in pixels for p in row if p[3] == 255}
        assert (255, 255, 255) in colours and len(colours) >= 2, f"{name}-{size}: no glyph"
    assert len(all_icons()) == 9 * 3 + 5
    committed = {p.name for p in (WEB / "icons").glob("*.png")}
    assert committed == {f"{n}-{s}.png" for n, s in all_icons()}, "stray or missing icons"


@pytest.mark.parametrize(("name", "size"), [("sync", 16), ("contract", 32), ("xlcrm", 64)])
def test_committed_icons_are_what_make_icons_draws(name: str, size: int) -> None:
    assert (WEB / "icons" / f"{name}-{size}.png").read_bytes() == render(name, size), (
        "run python -m addin.officeaddin.make_icons and commit the icons"
    )


@pytest.mark.parametrize("base", BASES)
def test_every_url_is_a_file_of_the_web_folder(base: str) -> None:
    root = parse(base)
    urls = all_urls(root)
    assert len(urls) > 30
    for url in urls:
        assert web_file(base, url).is_file(), f"{url}: nothing under addin/web/ to serve"


def test_every_url_is_served_by_xlcrm_serve() -> None:
    """GET every URL of the manifest from the service's app, in process."""
    from starlette.testclient import TestClient

    from addin.service import create_app

    base = "https://localhost:8443"
    types = {".png": "image/png", ".html": "text/html"}
    with TestClient(create_app(), base_url=base) as client:
        for url in sorted(set(all_urls(parse(base)))):
            response = client.get(url)
            assert response.status_code == 200, url
            suffix = Path(urllib.parse.urlsplit(url).path).suffix
            assert response.headers["content-type"].startswith(types[suffix]), url


def test_help_page_stands_alone_in_both_languages() -> None:
    html = (WEB / "help.html").read_text(encoding="utf-8")
    etree.fromstring(html.encode(), etree.HTMLParser(recover=False))
    assert '<meta charset="utf-8">' in html
    assert 'lang="en"' in html and 'lang="zh-CN"' in html
    for phrase in ("xlcrm addin setup", "xlcrm serve", "Upload My Add-in", "客户管理", "证书"):
        assert phrase in html, phrase
    # No external resource: the page must show when the service is all there is.
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", html)
    assert not re.search(r"@import|url\(", html)


# -- ids and bad input -------------------------------------------------------------------


def test_the_id_is_stable_for_a_url_and_can_be_given() -> None:
    assert default_addin_id(BASES[0]) == default_addin_id(BASES[0] + "/")
    assert default_addin_id(BASES[0]) != default_addin_id(BASES[1])
    assert parse().findtext("o:Id", namespaces=NS) == default_addin_id(BASES[0])
    given = "0b3f6c8e-2a51-4c8e-9f00-5d7a1e2b3c4d"
    root = parse(addin_id=given.upper(), version="2.3.4.5", provider="华东贸易 & <Co>")
    assert root.findtext("o:Id", namespaces=NS) == given
    assert root.findtext("o:Version", namespaces=NS) == "2.3.4.5"
    assert root.findtext("o:ProviderName", namespaces=NS) == "华东贸易 & <Co>"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_url": "http://localhost:8443"}, "Office loads add-ins over HTTPS only"),
        ({"base_url": "https://"}, "the URL has no host name"),
        ({"base_url": "https://h/?token=x"}, "cannot carry a query"),
        ({"base_url": "https://h:port"}, "not a URL"),
        ({"base_url": BASES[0], "addin_id": "xlcrm"}, "not a GUID"),
        ({"base_url": BASES[0], "version": "0.1.0-dev"}, "is not 1 to 4 numbers"),
    ],
)
def test_bad_input_says_what_is_wrong(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        build_manifest(**kwargs)
