"""What the CRM tab shows: its groups and buttons, in English and Chinese.

One table feeds the manifest (labels, tooltips, icon files) and the icon script, so a button
cannot be added to the ribbon without its icon, nor renamed in one language only. A button
either runs its command at once (``function``: an ExecuteFunction of the function file
``commands.html``, whose ``js/commands.js`` runs it and reports the result) or opens the one
task pane at a view (``taskpane.html?view=campaign``). Every view, the one-click commands' too,
stays reachable from the pane's own navigation.
"""

from __future__ import annotations

from dataclasses import dataclass

# The sizes Office asks for: 16, 32 and 80 px are mandatory for every ribbon icon (the
# others are picked by scaling); the add-in's own icon is 32 px (IconUrl) and 64 px
# (HighResolutionIconUrl), and 128 px is what AppSource and the admin center show.
BUTTON_ICON_SIZES = (16, 32, 80)
APP_ICON_SIZES = (16, 32, 64, 80, 128)


@dataclass(frozen=True)
class Button:
    """A ribbon button: the task pane ``view`` it opens (or whose command it runs) and its words
    in both languages. ``function`` names the function in ``js/commands.js`` that runs the
    command in one click; without it the button opens the pane."""

    view: str
    en: str
    zh: str
    tip_en: str
    tip_zh: str
    function: str | None = None


@dataclass(frozen=True)
class Group:
    """A group of buttons on the CRM tab; its icon (shown when Excel collapses the group on a
    narrow window) is its first button's."""

    key: str
    en: str
    zh: str
    buttons: tuple[Button, ...]


GROUPS: tuple[Group, ...] = (
    Group(
        "Mail",
        "Mail",
        "邮件",
        (
            Button(
                "sync",
                "Sync mail",
                "同步邮件",
                "One click: read new mail from your mailbox and record each message as an "
                "interaction with its customer. Nothing on the mail server is changed.",
                "一键完成：从邮箱读取新邮件，并作为往来记录归到对应客户名下。不会改动邮件服务器上的任何邮件。",
                function="syncMail",
            ),
            Button(
                "campaign",
                "Campaign",
                "营销活动",
                "Send a personalised e-mail to a segment of customers, each at most once. "
                "A dry run shows what would go before anything is sent.",
                "向一组客户发送个性化邮件，每人最多一封。正式发送前先预览将要发出的邮件。",
            ),
        ),
    ),
    Group(
        "Sales",
        "Sales",
        "销售",
        (
            Button(
                "contract",
                "Generate contract",
                "生成合同",
                "Fill the contract template for the selected deals and download the Word "
                "document. A missing field is reported, never left blank.",
                "为选中的商机套用合同模板，生成并下载 Word 合同。缺少的字段会报错，绝不留空。",
            ),
            Button(
                "reminders",
                "Reminders",
                "跟进提醒",
                "One click: list the deals and customers that are due for a follow-up on the "
                "Reminders sheet, per owner.",
                "一键完成：在“提醒”表中按负责人列出需要跟进的商机和客户。",
                function="reminders",
            ),
            Button(
                "rules",
                "Run rules",
                "运行规则",
                "One click: record stage changes and apply the Rules sheet — follow-up dates, "
                "contracts to download. E-mail notices are listed, and sent by xlcrm run --send.",
                "一键完成：记录阶段变化并执行“自动规则”表：设置跟进日期、生成可下载的合同。"
                "邮件通知只列出，由 xlcrm run --send 发送。",
                function="runRules",
            ),
        ),
    ),
    Group(
        "Data",
        "Data",
        "数据",
        (
            Button(
                "import",
                "Import",
                "导入",
                "Add or update customers, deals or products from a CSV or Excel file. Every "
                "row is checked first; nothing is written while a row has a problem.",
                "从 CSV 或 Excel 文件导入或更新客户、商机或产品。先逐行检查，有问题的行不会写入。",
            ),
            Button(
                "dedupe",
                "Clean duplicates",
                "客户去重",
                "Find customers entered more than once and merge each group into one record "
                "after you have reviewed it.",
                "找出重复录入的客户，经您确认后把每组合并为一条记录。",
            ),
            Button(
                "report",
                "Refresh dashboard",
                "刷新仪表盘",
                "One click: rebuild the dashboard sheet with revenue, conversion and pipeline "
                "figures and charts by owner, region and product.",
                "一键完成：重新生成仪表盘工作表，按负责人、地区和产品统计收入、转化率和销售漏斗，并附图表。",
                function="refreshDashboard",
            ),
        ),
    ),
    Group(
        "Settings",
        "Settings",
        "设置",
        (
            Button(
                "settings",
                "Settings",
                "设置",
                "Connect to the xlcrm service, enter its access token and your mailbox, and "
                "check that the workbook has the CRM tables.",
                "连接 xlcrm 服务，填写访问令牌和您的邮箱，并检查工作簿中是否有客户管理所需的表格。",
            ),
        ),
    ),
)

VIEWS: tuple[str, ...] = tuple(button.view for group in GROUPS for button in group.buttons)
# The one-click commands: function name in js/commands.js → the service command it runs.
FUNCTIONS: dict[str, str] = {
    button.function: button.view for group in GROUPS for button in group.buttons if button.function
}


def icon_file(name: str, size: int) -> str:
    """The icon's path under the web root: ``icons/<view or xlcrm>-<size>.png``."""
    return f"icons/{name}-{size}.png"
