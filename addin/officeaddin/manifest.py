"""The add-in's XML manifest: what Excel reads to put the CRM tab on the ribbon.

This is the classic XML manifest (``OfficeApp xsi:type="TaskPaneApp"``), which Excel on
Windows, on the Mac and on the web all load, by sideloading or central deployment. Element
order follows Microsoft's schemas (``OfficeAppManifestV1_1.xsd`` and
``TaskPaneAppVersionOverridesV1_0.xsd``): Office rejects a manifest whose elements are out of
order, so the builder writes them in schema order rather than whatever order is convenient.

Every ``xsi:type`` value is a name in the default namespace of the element it sits on, so the
``VersionOverrides`` subtree declares the overrides namespace as its default, as Microsoft's
samples do; the tree is built with lxml, which keeps those declarations where they are put.
"""

from __future__ import annotations

import re
import urllib.parse
import uuid

from lxml import etree

from .. import __version__
from ..errors import UsageError
from .ribbon import BUTTON_ICON_SIZES, GROUPS, Group, icon_file

NS = "http://schemas.microsoft.com/office/appforoffice/1.1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
BT = "http://schemas.microsoft.com/office/officeappbasictypes/1.0"
OV = "http://schemas.microsoft.com/office/taskpaneappversionoverrides"

TAB_ID = "xlcrm.Tab"
TASKPANE_ID = "xlcrm.pane"
DEFAULT_LOCALE = "en-US"
OTHER_LOCALE = "zh-CN"

# The Office JavaScript API the add-in needs, as the lowest ExcelApi requirement set that has
# everything it calls unconditionally: Excel.run, tables and charts come with 1.1,
# getUsedRange(valuesOnly) and Table.worksheet with 1.2, getUsedRangeOrNullObject with 1.4. The
# newer calls are feature-detected (addin/web/js/requirements.js): the selection's several
# blocks (getSelectedRanges, 1.9; else the single block), drop-down lists on new tables
# (DataValidation, 1.8; else none, with a warning), rows written under a table (Table.resize,
# 1.13; else rows.add) and a new column in a table (1.13; else a clear error).
# tests/test_office_api.py holds the table of every call and checks this value against it.
EXCEL_API_MIN = "1.4"

# Office's limits (OfficeAppBasicTypesV1_0.xsd): ShortString, LongString, URL, ReferenceId.
SHORT_MAX, LONG_MAX, URL_MAX, RESID_MAX = 125, 250, 2048, 32
_VERSION = re.compile(r"[0-9]{1,5}(\.[0-9]{1,5}){0,3}")

DISPLAY_NAME = ("xlcrm", "xlcrm 客户管理")
DESCRIPTION = (
    "A CRM in your workbook: customers, deals, mail sync, contracts and campaigns, "
    "on a CRM tab in Excel.",
    "在 Excel 工作簿中管理客户：客户、商机、邮件同步、合同和营销活动，都在“客户管理”选项卡上。",
)
TAB_LABEL = ("CRM", "客户管理")
GET_STARTED = (
    ("xlcrm is ready", "xlcrm 已就绪"),
    (
        "Open the CRM tab to sync mail, generate contracts, send campaigns and keep one "
        "clean record per customer.",
        "打开“客户管理”选项卡，即可同步邮件、生成合同、发送营销邮件，并让每位客户只有一条干净的记录。",
    ),
)


def check_base_url(base_url: str) -> str:
    """The service's URL without a trailing slash; a clear error unless it is ``https://host``.

    Office loads add-in pages over HTTPS only, and a query or fragment in the base would end
    up in the middle of every page's URL.
    """
    where = f"--url {base_url}"
    try:
        parsed = urllib.parse.urlsplit(base_url.strip())
        parsed.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        raise UsageError(where, f"not a URL: {exc}", "write it as https://HOST[:PORT]") from exc
    if parsed.scheme.lower() != "https":
        raise UsageError(
            where,
            "Office loads add-ins over HTTPS only, so the service's URL must start with https://",
            "use https://localhost:8443 for a service on this computer",
        )
    if not parsed.hostname:
        raise UsageError(where, "the URL has no host name", "write it as https://HOST[:PORT]")
    if parsed.query or parsed.fragment or parsed.username or parsed.password:
        raise UsageError(
            where,
            "the service's URL cannot carry a query, a fragment or a user name",
            "give only https://HOST[:PORT][/PATH]; an access token goes in the task pane's "
            "Settings, never in the manifest",
        )
    return urllib.parse.urlunsplit(("https", parsed.netloc, parsed.path.rstrip("/"), "", ""))


def default_addin_id(base_url: str) -> str:
    """The same id for every manifest of one service URL, so a manifest made again (or on
    another computer) for that service updates the installed add-in rather than adding a
    second copy. ``xlcrm addin setup`` stores its own id instead, kept when the URL changes."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, check_base_url(base_url)))


def build_manifest(
    base_url: str,
    *,
    addin_id: str | None = None,
    version: str = __version__,
    provider: str = "xlcrm",
) -> bytes:
    """The manifest (UTF-8 XML) of the add-in served from ``base_url``.

    ``base_url`` is where ``xlcrm serve`` serves ``addin/web/`` (``https://localhost:8443``,
    or ``https://crm.example.cn/xlcrm`` behind a proxy); every page and icon is under it.
    ``addin_id`` is a GUID; the version must be numbers with at most four parts.
    """
    base = check_base_url(base_url)
    addin_id = addin_id or default_addin_id(base)
    try:
        addin_id = str(uuid.UUID(addin_id))
    except ValueError as exc:
        raise UsageError("add-in id", f"not a GUID: {addin_id!r}") from exc
    if not _VERSION.fullmatch(version):
        raise UsageError(
            "add-in version", f"{version!r} is not 1 to 4 numbers separated by dots (1.0.0.0)"
        )
    if not provider.strip() or len(provider) > SHORT_MAX:
        raise UsageError("provider name", f"must be 1 to {SHORT_MAX} characters: {provider!r}")
    return _Builder(base).build(addin_id, version, provider.strip())


class _Builder:
    """Writes one manifest, collecting the resources its ribbon elements refer to."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.images: dict[str, str] = {}
        self.urls: dict[str, str] = {}
        self.short: dict[str, tuple[str, str]] = {}
        self.long: dict[str, tuple[str, str]] = {}

    def url(self, path: str) -> str:
        url = f"{self.base}/{path}"
        if len(url) > URL_MAX:
            raise UsageError(f"--url {self.base}", f"URLs longer than {URL_MAX} characters")
        return url

    # -- the classic part: what every Office version reads ---------------------------------

    def build(self, addin_id: str, version: str, provider: str) -> bytes:
        root = etree.Element(f"{{{NS}}}OfficeApp", nsmap={None: NS, "xsi": XSI, "bt": BT})
        root.set(f"{{{XSI}}}type", "TaskPaneApp")
        _text(root, "Id", addin_id)
        _text(root, "Version", version)
        _text(root, "ProviderName", provider)
        _text(root, "DefaultLocale", DEFAULT_LOCALE)
        _localized(root, "DisplayName", DISPLAY_NAME)
        _localized(root, "Description", DESCRIPTION)
        for tag, path in (
            ("IconUrl", icon_file("xlcrm", 32)),
            ("HighResolutionIconUrl", icon_file("xlcrm", 64)),
            ("SupportUrl", "help.html"),
        ):
            etree.SubElement(root, f"{{{NS}}}{tag}", DefaultValue=self.url(path))
        domains = etree.SubElement(root, f"{{{NS}}}AppDomains")
        _text(domains, "AppDomain", _origin(self.base))
        hosts = etree.SubElement(root, f"{{{NS}}}Hosts")
        etree.SubElement(hosts, f"{{{NS}}}Host", Name="Workbook")
        requirements = etree.SubElement(root, f"{{{NS}}}Requirements")
        requirements.append(
            etree.Comment(
                f" ExcelApi {EXCEL_API_MIN}: Excel.run, tables and charts (1.1), "
                "getUsedRange(valuesOnly) (1.2), getUsedRangeOrNullObject (1.4); newer APIs are "
                "feature-detected "
            )
        )
        sets = etree.SubElement(requirements, f"{{{NS}}}Sets", DefaultMinVersion="1.1")
        etree.SubElement(sets, f"{{{NS}}}Set", Name="ExcelApi", MinVersion=EXCEL_API_MIN)
        settings = etree.SubElement(root, f"{{{NS}}}DefaultSettings")
        etree.SubElement(
            settings, f"{{{NS}}}SourceLocation", DefaultValue=self.url("taskpane.html")
        )
        _text(root, "Permissions", "ReadWriteDocument")
        root.append(self.version_overrides())
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)

    # -- VersionOverrides: the ribbon, for Office versions that have add-in commands --------

    def version_overrides(self) -> etree._Element:
        overrides = etree.Element(f"{{{OV}}}VersionOverrides", nsmap={None: OV, "bt": BT})
        overrides.set(f"{{{XSI}}}type", "VersionOverridesV1_0")
        hosts = etree.SubElement(overrides, f"{{{OV}}}Hosts")
        host = etree.SubElement(hosts, f"{{{OV}}}Host")
        host.set(f"{{{XSI}}}type", "Workbook")
        desktop = etree.SubElement(host, f"{{{OV}}}DesktopFormFactor")
        started = etree.SubElement(desktop, f"{{{OV}}}GetStarted")
        self.ref(started, "Title", "GetStarted.Title", short=GET_STARTED[0])
        self.ref(started, "Description", "GetStarted.Text", long=GET_STARTED[1])
        self.ref(started, "LearnMoreUrl", "Help.Url", url="help.html")
        self.ref(desktop, "FunctionFile", "Commands.Url", url="commands.html")
        point = etree.SubElement(desktop, f"{{{OV}}}ExtensionPoint")
        point.set(f"{{{XSI}}}type", "PrimaryCommandSurface")
        tab = etree.SubElement(point, f"{{{OV}}}CustomTab", id=TAB_ID)
        for group in GROUPS:
            self.group(tab, group)
        self.ref(tab, "Label", "Tab.Label", short=TAB_LABEL)
        overrides.append(self.resources())
        return overrides

    def group(self, tab: etree._Element, group: Group) -> None:
        element = etree.SubElement(tab, f"{{{OV}}}Group", id=f"xlcrm.{group.key}")
        self.ref(element, "Label", f"{group.key}.Group", short=(group.en, group.zh))
        self.icon(element, group.buttons[0].view)
        for button in group.buttons:
            control = etree.SubElement(element, f"{{{OV}}}Control", id=f"xlcrm.{button.view}")
            control.set(f"{{{XSI}}}type", "Button")
            label = f"{button.view}.Label"
            self.ref(control, "Label", label, short=(button.en, button.zh))
            supertip = etree.SubElement(control, f"{{{OV}}}Supertip")
            self.ref(supertip, "Title", label, short=(button.en, button.zh))
            self.ref(
                supertip, "Description", f"{button.view}.Tip", long=(button.tip_en, button.tip_zh)
            )
            self.icon(control, button.view)
            action = etree.SubElement(control, f"{{{OV}}}Action")
            if button.function:
                # One click: Office loads the FunctionFile (commands.html) and calls the
                # function, which runs the command and reports the result (js/commands.js).
                action.set(f"{{{XSI}}}type", "ExecuteFunction")
                _text(action, "FunctionName", button.function, OV)
                continue
            action.set(f"{{{XSI}}}type", "ShowTaskpane")
            _text(action, "TaskpaneId", TASKPANE_ID, OV)
            self.ref(
                action,
                "SourceLocation",
                f"{button.view}.Url",
                url=f"taskpane.html?view={button.view}",
            )

    def icon(self, parent: etree._Element, name: str) -> None:
        icon = etree.SubElement(parent, f"{{{OV}}}Icon")
        for size in BUTTON_ICON_SIZES:
            resid = f"{name}.Icon{size}"
            self.images[resid] = self.url(icon_file(name, size))
            etree.SubElement(icon, f"{{{BT}}}Image", size=str(size), resid=resid)

    def ref(
        self,
        parent: etree._Element,
        tag: str,
        resid: str,
        *,
        short: tuple[str, str] | None = None,
        long: tuple[str, str] | None = None,
        url: str | None = None,
    ) -> None:
        """A ``<tag resid=…/>`` and the resource it names (the same resid twice must mean the
        same thing: a label doubles as its supertip's title)."""
        tables: list[tuple[dict, object]] = [(self.short, short), (self.long, long)]
        tables.append((self.urls, None if url is None else self.url(url)))
        for table, value in tables:
            if value is not None and table.setdefault(resid, value) != value:
                raise AssertionError(f"resource {resid} is defined twice, differently")
        etree.SubElement(parent, f"{{{OV}}}{tag}", resid=resid)

    def resources(self) -> etree._Element:
        resources = etree.Element(f"{{{OV}}}Resources")
        images = etree.SubElement(resources, f"{{{BT}}}Images")
        for resid, url in self.images.items():
            etree.SubElement(images, f"{{{BT}}}Image", id=resid, DefaultValue=url)
        urls = etree.SubElement(resources, f"{{{BT}}}Urls")
        for resid, url in self.urls.items():
            etree.SubElement(urls, f"{{{BT}}}Url", id=resid, DefaultValue=url)
        for tag, table in (("ShortStrings", self.short), ("LongStrings", self.long)):
            strings = etree.SubElement(resources, f"{{{BT}}}{tag}")
            for resid, (en, zh) in table.items():
                string = etree.SubElement(strings, f"{{{BT}}}String", id=resid, DefaultValue=en)
                etree.SubElement(string, f"{{{BT}}}Override", Locale=OTHER_LOCALE, Value=zh)
        return resources


def _text(parent: etree._Element, tag: str, text: str, ns: str = NS) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{tag}")
    element.text = text
    return element


def _localized(parent: etree._Element, tag: str, values: tuple[str, str]) -> None:
    """``<Tag DefaultValue="en"><Override Locale="zh-CN" Value="zh"/></Tag>``."""
    element = etree.SubElement(parent, f"{{{NS}}}{tag}", DefaultValue=values[0])
    etree.SubElement(element, f"{{{NS}}}Override", Locale=OTHER_LOCALE, Value=values[1])


def _origin(base: str) -> str:
    parsed = urllib.parse.urlsplit(base)
    return f"{parsed.scheme}://{parsed.netloc}"
