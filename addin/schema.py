"""The CRM tables: canonical column keys, types, allowed values and header aliases.

This is the one place that says what a CRM workbook contains (``docs/design.md``, "The
workbook contract"). Code everywhere else speaks canonical keys (``customer_id``, ``stage``);
the workbook may say ``Customer ID``, ``客户编号`` or ``customer id`` — :func:`match_header`
maps any of them, ignoring case, spaces, punctuation and full-width forms.

Choice columns store a *canonical value* (``"Won"``) in Python and the label of the workbook's
language in the sheet (``"Won"`` or ``"赢单"``); reading accepts either.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["text", "integer", "number", "date", "datetime", "bool", "choice"]
Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("en", "zh")


@dataclass(frozen=True)
class Choice:
    """One allowed value of a choice column, with its label in each language."""

    value: str
    zh: str
    aliases: tuple[str, ...] = ()

    def label(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.value


@dataclass(frozen=True)
class Column:
    """A canonical column: key, type, headers in both languages, aliases, display hints."""

    key: str
    type: ColumnType
    en: str
    zh: str
    aliases: tuple[str, ...] = ()
    choices: tuple[Choice, ...] = ()
    width: float = 14
    number_format: str | None = None

    def header(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en

    def choice_for(self, value: object) -> Choice | None:
        """The choice that ``value`` names (canonical value, either label, or an alias)."""
        if not isinstance(value, str):
            return None
        return _choice_index(self).get(normalize_label(value))


@dataclass(frozen=True)
class TableSpec:
    """A CRM table: its stable ASCII table name, sheet names, key and columns."""

    key: str
    name: str
    zh: str
    pk: tuple[str, ...]
    columns: tuple[Column, ...]
    id_prefix: str | None = None
    id_digits: int = 4
    aliases: tuple[str, ...] = ()
    by_key: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {c.key: c for c in self.columns})

    def sheet_name(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.name

    def column(self, key: str) -> Column:
        return self.by_key[key]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)


_FULLWIDTH = str.maketrans({"\u3000": " "})
_NOISE = re.compile(r"[\s_\-./:：()（）#＃*]+")


def normalize_label(text: str) -> str:
    """Fold a header or label for matching: NFKC (full-width → half-width), case, punctuation."""
    text = unicodedata.normalize("NFKC", text.translate(_FULLWIDTH)).casefold()
    return _NOISE.sub("", text)


_CHOICE_CACHE: dict[int, dict[str, Choice]] = {}


def _choice_index(column: Column) -> dict[str, Choice]:
    index = _CHOICE_CACHE.get(id(column))
    if index is None:
        index = {}
        for choice in column.choices:
            for name in (choice.value, choice.zh, *choice.aliases):
                index.setdefault(normalize_label(name), choice)
        _CHOICE_CACHE[id(column)] = index
    return index


def _c(
    key: str,
    type_: ColumnType,
    en: str,
    zh: str,
    *aliases: str,
    choices: Iterable[Choice] = (),
    width: float = 14,
    number_format: str | None = None,
) -> Column:
    return Column(key, type_, en, zh, tuple(aliases), tuple(choices), width, number_format)


DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0%"

CUSTOMER_STATUS = (
    Choice("Lead", "潜在", ("prospect", "潜在客户", "线索")),
    Choice("Active", "活跃", ("customer", "active customer", "正式客户", "合作中")),
    Choice("Inactive", "休眠", ("dormant", "沉睡")),
    Choice("Churned", "流失", ("lost", "lost customer", "已流失")),
)
TIERS = (Choice("A", "A"), Choice("B", "B"), Choice("C", "C"))
STAGES = (
    Choice("Lead", "线索", ("new",)),
    Choice("Qualified", "已确认", ("qualification", "需求确认")),
    Choice("Proposal", "方案", ("quote", "quotation", "报价", "方案报价")),
    Choice("Negotiation", "谈判", ("商务谈判",)),
    Choice("Won", "赢单", ("closed won", "成交", "已成交")),
    Choice("Lost", "输单", ("closed lost", "丢单", "失败")),
)
INTERACTION_KINDS = (
    Choice("email", "邮件", ("e-mail", "mail")),
    Choice("call", "电话", ("phone", "phone call")),
    Choice("meeting", "会议", ("visit", "拜访", "会面")),
    Choice("note", "备注", ("memo",)),
    Choice("document", "文档", ("contract", "合同")),
    Choice("ticket", "工单", ("support",)),
    Choice("stage", "阶段变更", ("stage change",)),
)
DIRECTIONS = (
    Choice("in", "收", ("inbound", "incoming", "received", "收到", "来信")),
    Choice("out", "发", ("outbound", "outgoing", "sent", "发出", "去信")),
)
TICKET_TYPES = (
    Choice("question", "咨询", ("inquiry", "enquiry", "问题")),
    Choice("complaint", "投诉"),
    Choice("failure", "故障", ("fault", "incident", "bug")),
    Choice("request", "需求", ("service request", "申请")),
    Choice("feedback", "反馈", ("suggestion", "建议")),
)
PRIORITIES = (
    Choice("low", "低"),
    Choice("normal", "中", ("medium", "普通")),
    Choice("high", "高"),
    Choice("urgent", "紧急", ("critical", "p1")),
)
TICKET_STATUS = (
    Choice("open", "待处理", ("new", "新建")),
    Choice("pending", "处理中", ("in progress", "waiting", "等待")),
    Choice("resolved", "已解决", ("solved", "done")),
    Choice("closed", "已关闭", ("关闭",)),
)
SEND_STATUS = (
    Choice("queued", "排队"),
    Choice("sending", "发送中"),
    Choice("sent", "已发送"),
    Choice("draft", "草稿", ("drafted", "saved as draft")),
    Choice("failed", "失败"),
    Choice("skipped", "跳过"),
    Choice("bounced", "退信"),
    Choice("replied", "已回复"),
)

D = DATE_FORMAT
DT = DATETIME_FORMAT
# A customer's language: which version of a template they are mailed (campaigns) or sent
# (contracts). Empty means the workbook's language.
LANGUAGES = (
    Choice(
        "English",
        "英文",
        ("en", "eng", "english", "英语", "en-us", "en-gb", "英文版"),
    ),
    Choice(
        "Chinese",
        "中文",
        (
            "zh",
            "chinese",
            "汉语",
            "简体中文",
            "中文简体",
            "繁体中文",
            "繁體中文",
            "zh-cn",
            "zh-hans",
            "zh-tw",
            "zh-hant",
            "zh-hk",
            "普通话",
            "华语",
            "中文版",
            "cn",
        ),
    ),
)
LANGUAGE_CODES: dict[str, Lang] = {"English": "en", "Chinese": "zh"}


def language_code(value: object) -> Lang | None:
    """The template language a Language cell names (``English``, ``英文``, ``zh``, ``中文``…),
    None for an empty cell or one that names no language xlcrm writes in."""
    if not isinstance(value, str) or not value.strip():
        return None
    choice = _choice_index(CUSTOMERS.column("language")).get(normalize_label(value))
    return LANGUAGE_CODES.get(choice.value) if choice is not None else None


CUSTOMERS = TableSpec(
    key="customers",
    name="Customers",
    zh="客户",
    pk=("id",),
    id_prefix="C",
    aliases=("customer", "clients", "contacts", "客户表", "客户信息", "客户资料", "联系人"),
    columns=(
        _c("id", "text", "ID", "客户编号", "customer id", "客户id", "编号", width=10),
        _c(
            "name",
            "text",
            "Name",
            "姓名",
            "contact",
            "contact name",
            "full name",
            "联系人",
            "名字",
            "客户名称",
            width=18,
        ),
        _c(
            "company",
            "text",
            "Company",
            "公司",
            "organization",
            "organisation",
            "account",
            "公司名称",
            "单位",
            "企业",
            "企业名称",
            width=28,
        ),
        _c(
            "email",
            "text",
            "Email",
            "邮箱",
            "e-mail",
            "email address",
            "mail",
            "电子邮件",
            "邮件地址",
            "电子邮箱",
            width=28,
        ),
        _c(
            "phone",
            "text",
            "Phone",
            "电话",
            "telephone",
            "tel",
            "mobile",
            "cell",
            "手机",
            "联系电话",
            "手机号",
            "电话号码",
            width=18,
        ),
        _c(
            "owner",
            "text",
            "Owner",
            "负责人",
            "account owner",
            "sales rep",
            "salesperson",
            "销售",
            "业务员",
            "归属销售",
            width=12,
        ),
        _c("region", "text", "Region", "地区", "area", "territory", "区域", "省份", width=10),
        _c("industry", "text", "Industry", "行业", "sector", "所属行业", width=14),
        _c("source", "text", "Source", "来源", "lead source", "channel", "客户来源", "渠道"),
        _c(
            "status",
            "choice",
            "Status",
            "状态",
            "customer status",
            "客户状态",
            choices=CUSTOMER_STATUS,
            width=10,
        ),
        _c(
            "tier",
            "choice",
            "Tier",
            "等级",
            "level",
            "grade",
            "class",
            "客户等级",
            "级别",
            choices=TIERS,
            width=7,
        ),
        _c("tags", "text", "Tags", "标签", "labels", width=16),
        _c(
            "unsubscribed",
            "bool",
            "Unsubscribed",
            "退订",
            "opt out",
            "opted out",
            "已退订",
            width=8,
        ),
        _c(
            "created",
            "date",
            "Created",
            "创建日期",
            "created at",
            "date created",
            "创建时间",
            width=12,
            number_format=D,
        ),
        _c(
            "updated",
            "date",
            "Updated",
            "更新日期",
            "updated at",
            "modified",
            "更新时间",
            width=12,
            number_format=D,
        ),
        _c(
            "last_contact",
            "date",
            "Last contact",
            "最近联系",
            "last contacted",
            "last contact date",
            "最后联系",
            "最近联系日期",
            width=12,
            number_format=D,
        ),
        _c(
            "notes",
            "text",
            "Notes",
            "备注",
            "note",
            "comments",
            "remark",
            "remarks",
            "说明",
            width=30,
        ),
        # Addresses a delivery failure came back from (mailbox sync); campaigns skip them.
        _c(
            "bounced",
            "text",
            "Bounced",
            "退信邮箱",
            "bounced email",
            "bounced emails",
            "invalid email",
            "退信",
            "无效邮箱",
            width=20,
        ),
        # Value segment written by ``xlcrm report`` (RFM: "Champions", "At risk"…).
        _c("segment", "text", "Segment", "客户分群", "value segment", "rfm", "分群", width=14),
        # Set by ``xlcrm dedupe --apply`` on the record merged away: its id lives on here.
        _c(
            "merged_into",
            "text",
            "Merged into",
            "已合并到",
            "merged to",
            "duplicate of",
            "合并到",
            width=12,
        ),
        # The language to write to this customer in (campaign e-mails, contracts); empty means
        # the workbook's. Optional: a workbook without the column mails everyone in its own.
        _c(
            "language",
            "choice",
            "Language",
            "语言",
            "lang",
            "preferred language",
            "mail language",
            "客户语言",
            "沟通语言",
            "语种",
            choices=LANGUAGES,
            width=10,
        ),
    ),
)

DEALS = TableSpec(
    key="deals",
    name="Deals",
    zh="商机",
    pk=("id",),
    id_prefix="D",
    aliases=("deal", "opportunities", "opportunity", "pipeline", "商机表", "销售机会", "订单"),
    columns=(
        _c("id", "text", "ID", "商机编号", "deal id", "编号", width=10),
        _c("customer_id", "text", "Customer ID", "客户编号", "customer", "客户id", width=12),
        _c(
            "title",
            "text",
            "Title",
            "商机名称",
            "deal",
            "deal name",
            "name",
            "名称",
            "标题",
            width=28,
        ),
        _c("stage", "choice", "Stage", "阶段", "deal stage", "销售阶段", choices=STAGES, width=12),
        _c(
            "amount",
            "number",
            "Amount",
            "金额",
            "value",
            "deal value",
            "合同金额",
            "预计金额",
            width=14,
            number_format=MONEY_FORMAT,
        ),
        _c("currency", "text", "Currency", "币种", "货币", width=9),
        _c(
            "probability",
            "number",
            "Probability",
            "赢率",
            "win probability",
            "成交概率",
            "可能性",
            width=10,
            number_format=PERCENT_FORMAT,
        ),
        _c("product", "text", "Product", "产品", "sku", "product sku", width=14),
        _c("owner", "text", "Owner", "负责人", "sales rep", "销售", "业务员", width=12),
        _c(
            "expected_close",
            "date",
            "Expected close",
            "预计成交",
            "close date",
            "expected close date",
            "预计成交日期",
            width=13,
            number_format=D,
        ),
        _c(
            "next_follow_up",
            "date",
            "Next follow-up",
            "下次跟进",
            "follow up",
            "next followup",
            "下次跟进日期",
            "跟进日期",
            width=13,
            number_format=D,
        ),
        _c(
            "created",
            "date",
            "Created",
            "创建日期",
            "created at",
            "创建时间",
            width=12,
            number_format=D,
        ),
        _c(
            "closed",
            "date",
            "Closed",
            "成交日期",
            "closed at",
            "close",
            "关闭日期",
            width=12,
            number_format=D,
        ),
        _c(
            "contract_no",
            "text",
            "Contract no.",
            "合同编号",
            "contract number",
            "contract",
            width=14,
        ),
        _c("contract_file", "text", "Contract file", "合同文件", "contract path", width=24),
        _c("notes", "text", "Notes", "备注", "note", "remarks", "说明", width=30),
    ),
)

INTERACTIONS = TableSpec(
    key="interactions",
    name="Interactions",
    zh="互动记录",
    pk=("id",),
    id_prefix="I",
    id_digits=6,
    aliases=(
        "interaction",
        "activities",
        "activity",
        "history",
        "log",
        "互动",
        "跟进记录",
        "联系记录",
    ),
    columns=(
        _c("id", "text", "ID", "编号", "interaction id", width=10),
        _c("customer_id", "text", "Customer ID", "客户编号", "customer", "客户id", width=12),
        _c("deal_id", "text", "Deal ID", "商机编号", "deal", "商机id", width=10),
        _c("ticket_id", "text", "Ticket ID", "工单编号", "ticket", "工单id", width=10),
        _c(
            "kind",
            "choice",
            "Kind",
            "类型",
            "type",
            "activity type",
            "方式",
            choices=INTERACTION_KINDS,
            width=9,
        ),
        _c(
            "direction",
            "choice",
            "Direction",
            "方向",
            "in out",
            "收发",
            choices=DIRECTIONS,
            width=8,
        ),
        _c(
            "at",
            "datetime",
            "At",
            "时间",
            "date",
            "time",
            "datetime",
            "when",
            "日期",
            width=17,
            number_format=DT,
        ),
        _c("from", "text", "From", "发件人", "sender", width=26),
        _c("to", "text", "To", "收件人", "recipients", "recipient", width=26),
        _c("subject", "text", "Subject", "主题", "title", "标题", width=36),
        _c("summary", "text", "Summary", "摘要", "body", "content", "内容", width=50),
        _c("message_id", "text", "Message-ID", "邮件ID", "message id", "msgid", width=20),
        _c("thread_id", "text", "Thread ID", "会话ID", "conversation id", "thread", width=20),
        _c("mailbox", "text", "Mailbox", "邮箱账户", "account", width=18),
        _c("folder", "text", "Folder", "文件夹", "mail folder", width=12),
        _c("attachments", "text", "Attachments", "附件", "files", width=20),
    ),
)

TICKETS = TableSpec(
    key="tickets",
    name="Tickets",
    zh="工单",
    pk=("id",),
    id_prefix="T",
    aliases=("ticket", "cases", "support", "service requests", "服务工单", "客服工单", "售后"),
    columns=(
        _c("id", "text", "ID", "工单编号", "ticket id", "编号", width=10),
        _c("customer_id", "text", "Customer ID", "客户编号", "customer", "客户id", width=12),
        _c(
            "type",
            "choice",
            "Type",
            "类型",
            "ticket type",
            "问题类型",
            choices=TICKET_TYPES,
            width=11,
        ),
        _c(
            "priority",
            "choice",
            "Priority",
            "优先级",
            "urgency",
            "紧急程度",
            choices=PRIORITIES,
            width=9,
        ),
        _c(
            "status",
            "choice",
            "Status",
            "状态",
            "ticket status",
            "处理状态",
            choices=TICKET_STATUS,
            width=10,
        ),
        _c("assignee", "text", "Assignee", "处理人", "assigned to", "owner", "负责人", width=12),
        _c(
            "opened",
            "datetime",
            "Opened",
            "创建时间",
            "created",
            "opened at",
            "提交时间",
            width=17,
            number_format=DT,
        ),
        _c(
            "due",
            "datetime",
            "Due",
            "截止时间",
            "due date",
            "deadline",
            "期限",
            width=17,
            number_format=DT,
        ),
        _c(
            "resolved",
            "datetime",
            "Resolved",
            "解决时间",
            "resolved at",
            "closed",
            width=17,
            number_format=DT,
        ),
        _c("satisfaction", "integer", "Satisfaction", "满意度", "csat", "rating", "评分", width=10),
        _c("subject", "text", "Subject", "主题", "title", "标题", width=36),
        _c("description", "text", "Description", "描述", "details", "问题描述", "内容", width=50),
        _c("message_id", "text", "Message-ID", "邮件ID", "message id", width=20),
        _c("thread_id", "text", "Thread ID", "会话ID", "conversation id", "thread", width=20),
        _c(
            "escalated",
            "datetime",
            "Escalated",
            "已升级",
            "escalated at",
            "升级时间",
            width=17,
            number_format=DT,
        ),
    ),
)

PRODUCTS = TableSpec(
    key="products",
    name="Products",
    zh="产品",
    pk=("sku",),
    aliases=("product", "catalog", "catalogue", "price list", "产品表", "价目表", "商品"),
    columns=(
        _c(
            "sku",
            "text",
            "SKU",
            "产品编号",
            "product code",
            "code",
            "item",
            "货号",
            "编号",
            width=12,
        ),
        _c("name", "text", "Name", "产品名称", "product", "product name", "名称", width=30),
        _c(
            "unit_price",
            "number",
            "Unit price",
            "单价",
            "price",
            "list price",
            "价格",
            width=12,
            number_format=MONEY_FORMAT,
        ),
        _c("currency", "text", "Currency", "币种", "货币", width=9),
        _c("unit", "text", "Unit", "单位", "uom", "计量单位", width=8),
    ),
)

SENDS = TableSpec(
    key="sends",
    name="Sends",
    zh="发送记录",
    pk=("campaign", "customer_id"),
    aliases=("send", "campaign sends", "mailings", "发送", "群发记录"),
    columns=(
        _c("campaign", "text", "Campaign", "活动", "campaign name", "营销活动", width=18),
        _c("customer_id", "text", "Customer ID", "客户编号", "customer", "客户id", width=12),
        _c("email", "text", "Email", "邮箱", "e-mail", "address", width=28),
        _c(
            "status",
            "choice",
            "Status",
            "状态",
            "send status",
            "发送状态",
            choices=SEND_STATUS,
            width=10,
        ),
        _c("message_id", "text", "Message-ID", "邮件ID", "message id", width=30),
        _c("sent_at", "datetime", "Sent at", "发送时间", "sent", width=17, number_format=DT),
        _c("error", "text", "Error", "错误", "error message", "失败原因", width=40),
    ),
)

# Shared, non-secret settings (addin/settings.py): one row per setting. Never a password.
SETTINGS = TableSpec(
    key="settings",
    name="Settings",
    zh="设置",
    pk=("key",),
    aliases=("setting", "options", "config", "configuration", "配置", "参数设置"),
    columns=(
        _c("key", "text", "Setting", "设置项", "name", "option", "参数", "名称", width=24),
        _c("value", "text", "Value", "值", "设置值", "内容", width=40),
        _c("notes", "text", "Notes", "说明", "description", "备注", width=60),
    ),
)

# -- Workflow configuration: data in the workbook, edited by people, read by xlcrm -------------

RULE_ACTIONS = (
    Choice("contract", "生成合同", ("generate contract", "合同")),
    Choice("follow_up", "设置跟进", ("follow up", "follow-up", "next follow-up", "跟进")),
    Choice("notify_owner", "通知负责人", ("email owner", "e-mail owner", "notify", "通知")),
    Choice("handoff", "订单交接", ("hand-off", "hand off", "order hand-off", "交接")),
)
DECISIONS = (
    Choice("merge", "合并", ("yes", "y", "是", "x", "✓")),
    Choice("separate", "不合并", ("no", "n", "keep", "keep both", "否", "不是")),
)
REVIEW_STATUS = (
    Choice("open", "待处理", ("new",)),
    Choice("merged", "已合并", ("done",)),
    Choice("separate", "非重复", ("kept", "not duplicate")),
    Choice("gone", "已失效", ("stale", "obsolete")),
)

# Stage probabilities for the weighted forecast and how long a deal may sit in a stage.
STAGE_TABLE = TableSpec(
    key="stages",
    name="Stages",
    zh="销售阶段",
    pk=("stage",),
    aliases=("stage", "pipeline", "pipeline stages", "阶段", "阶段设置"),
    columns=(
        _c("stage", "choice", "Stage", "阶段", "deal stage", choices=STAGES, width=14),
        _c(
            "probability",
            "number",
            "Probability",
            "赢单概率",
            "win probability",
            "概率",
            "可能性",
            width=12,
            number_format=PERCENT_FORMAT,
        ),
        _c("order", "integer", "Order", "顺序", "sort order", "排序", width=8),
        _c("idle_days", "integer", "Idle days", "停滞天数", "max idle days", "停留天数", width=10),
        _c("notes", "text", "Notes", "说明", "description", "备注", width=40),
    ),
)

# Automation: when a deal enters a stage, do an action once (``xlcrm run``).
RULES = TableSpec(
    key="rules",
    name="Rules",
    zh="自动规则",
    pk=("id",),
    id_prefix="R",
    id_digits=3,
    aliases=("rule", "automation", "automations", "workflow rules", "规则", "自动化"),
    columns=(
        _c("id", "text", "ID", "规则编号", "rule id", "编号", width=8),
        _c("enabled", "bool", "Enabled", "启用", "active", "on", "是否启用", width=9),
        _c(
            "stage",
            "choice",
            "When stage",
            "进入阶段",
            "stage",
            "on stage",
            "when deal enters",
            "阶段",
            choices=STAGES,
            width=12,
        ),
        _c(
            "action",
            "choice",
            "Action",
            "动作",
            "do",
            "then",
            "执行",
            choices=RULE_ACTIONS,
            width=14,
        ),
        _c(
            "argument",
            "text",
            "Argument",
            "参数",
            "parameter",
            "value",
            "template",
            "address",
            "days",
            width=30,
        ),
        _c("notes", "text", "Notes", "说明", "description", "备注", width=40),
    ),
)

# Service levels per ticket priority: response and resolution times, and who hears of a breach.
SLA = TableSpec(
    key="sla",
    name="SLA",
    zh="服务时限",
    pk=("priority",),
    aliases=("service levels", "service level", "sla table", "服务等级", "时限"),
    columns=(
        _c("priority", "choice", "Priority", "优先级", "urgency", choices=PRIORITIES, width=10),
        _c(
            "respond_hours",
            "number",
            "Respond within (h)",
            "响应时限(小时)",
            "response hours",
            "respond hours",
            "响应时限",
            width=14,
        ),
        _c(
            "resolve_hours",
            "number",
            "Resolve within (h)",
            "解决时限(小时)",
            "resolution hours",
            "resolve hours",
            "解决时限",
            width=14,
        ),
        _c(
            "escalate_to",
            "text",
            "Escalate to",
            "升级给",
            "escalation",
            "escalate",
            "升级对象",
            width=26,
        ),
        _c("notes", "text", "Notes", "说明", "description", "备注", width=40),
    ),
)

# Ticket classification and routing: keywords (either language) → type, priority, assignee.
TICKET_RULES = TableSpec(
    key="ticket_rules",
    name="TicketRules",
    zh="工单规则",
    pk=("id",),
    id_prefix="K",
    id_digits=3,
    aliases=("ticket rules", "classification", "routing", "分类规则", "派单规则"),
    columns=(
        _c("id", "text", "ID", "规则编号", "rule id", "编号", width=8),
        _c(
            "keywords",
            "text",
            "Keywords",
            "关键词",
            "keyword",
            "words",
            "matches",
            width=36,
        ),
        _c("type", "choice", "Type", "类型", "ticket type", choices=TICKET_TYPES, width=11),
        _c("priority", "choice", "Priority", "优先级", "urgency", choices=PRIORITIES, width=10),
        _c(
            "assignee",
            "text",
            "Assign to",
            "分派给",
            "assignee",
            "team",
            "处理人",
            "负责人",
            width=26,
        ),
        _c("notes", "text", "Notes", "说明", "description", "备注", width=40),
    ),
)

# Duplicate customers found by ``xlcrm dedupe``; a person decides, ``--apply`` merges.
DUPLICATES = TableSpec(
    key="duplicates",
    name="Duplicates",
    zh="重复客户",
    pk=("id",),
    id_prefix="P",
    aliases=("duplicate", "dedupe", "duplicate review", "review", "查重", "重复"),
    columns=(
        _c("id", "text", "ID", "编号", "pair", "pair id", width=8),
        _c(
            "decision",
            "choice",
            "Merge?",
            "是否合并",
            "decision",
            "merge",
            "决定",
            choices=DECISIONS,
            width=10,
        ),
        _c("keep_id", "text", "Keep", "保留客户", "survivor", "keep id", "保留", width=10),
        _c("merge_id", "text", "Merge", "并入客户", "duplicate", "merge id", "合并", width=10),
        _c("keep_name", "text", "Keep: name", "保留：名称", "keep name", width=28),
        _c("merge_name", "text", "Merge: name", "并入：名称", "merge name", width=28),
        _c("score", "number", "Score", "相似度", "similarity", width=8, number_format="0"),
        _c("evidence", "text", "Evidence", "依据", "reason", "why", "原因", width=50),
        _c(
            "status",
            "choice",
            "Status",
            "状态",
            "review status",
            choices=REVIEW_STATUS,
            width=10,
        ),
        _c("found", "datetime", "Found", "发现时间", "found at", width=17, number_format=DT),
    ),
)

TABLES: dict[str, TableSpec] = {
    t.key: t
    for t in (
        CUSTOMERS,
        DEALS,
        INTERACTIONS,
        TICKETS,
        PRODUCTS,
        SENDS,
        SETTINGS,
        STAGE_TABLE,
        RULES,
        SLA,
        TICKET_RULES,
        DUPLICATES,
    )
}
# The tables every workbook has from ``xlcrm init``; the others appear when first used.
CORE_TABLES = ("customers", "deals", "interactions", "tickets", "products", "sends", "settings")

STATE_SHEET = "_xlcrm"
SCHEMA_VERSION = 1


def table_spec(name: str) -> TableSpec:
    """Find a table spec by key, table name, sheet name (en/zh) or alias."""
    wanted = normalize_label(name)
    for spec in TABLES.values():
        names = (spec.key, spec.name, spec.zh, *spec.aliases)
        if wanted in {normalize_label(n) for n in names}:
            return spec
    raise KeyError(name)


def match_header(spec: TableSpec, header: object) -> str | None:
    """The canonical key a header cell stands for in ``spec``, or None for a user column."""
    if not isinstance(header, str) or not header.strip():
        return None
    return _header_index(spec).get(normalize_label(header))


_HEADER_CACHE: dict[str, dict[str, str]] = {}


def _header_index(spec: TableSpec) -> dict[str, str]:
    index = _HEADER_CACHE.get(spec.key)
    if index is None:
        index = {}
        # Canonical keys and primary headers win over aliases when they collide
        # (e.g. "customer" is Deals' customer_id alias but never shadows a real header).
        for col in spec.columns:
            for name in (col.key, col.en, col.zh):
                index.setdefault(normalize_label(name), col.key)
        for col in spec.columns:
            for name in col.aliases:
                index.setdefault(normalize_label(name), col.key)
        _HEADER_CACHE[spec.key] = index
    return index


# -- how a new CRM sheet shows a column ---------------------------------------------------------

# Drop-down suggestions for a currency: the codes CRM users in China and abroad meet most. A
# warning, not a stop: any ISO 4217 code is still accepted (Settings: Exchange rates).
CURRENCY_CODES = ("CNY", "USD", "EUR", "HKD", "JPY", "GBP", "AUD", "CAD", "SGD", "KRW", "TWD")
YES_NO: dict[str, tuple[str, str]] = {"en": ("yes", "no"), "zh": ("是", "否")}
# A product drop-down lists the Products table's SKUs from its own sheet, down to this row.
PRODUCT_LIST_ROWS = 10_000


def column_width(column: Column, lang: Lang) -> float:
    """A new sheet's width for ``column``: its hint, or wider when its header (bold, with the
    filter arrow of an Excel Table beside it) would be cut — "Unsubscribed", "Direction"."""
    hint = column.width + (4 if lang == "zh" else 0)
    header = column.header(lang)
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in header)
    return float(max(hint, round(shown * 1.1) + 4))


def drop_down(column: Column, lang: Lang) -> list[str] | str | None:
    """What a new sheet's drop-down on ``column`` offers: labels, or a formula over another
    table's column (``'Products'!$A$2:$A$10001``, the SKUs), or None for no drop-down.

    Owner and Assignee get none: the workbook has no table of its people to list them from,
    and a fixed list of names would be wrong in every company but one.
    """
    if column.choices:
        return [c.label(lang) for c in column.choices]
    if column.type == "bool":
        return list(YES_NO[lang])
    if column.key == "currency":
        return list(CURRENCY_CODES)
    if column.key == "product":
        sku = [c.key for c in PRODUCTS.columns].index("sku")
        letter = chr(ord("A") + sku)
        sheet = PRODUCTS.sheet_name(lang).replace("'", "''")
        return f"'{sheet}'!${letter}$2:${letter}${PRODUCT_LIST_ROWS + 1}"
    return None


PRINT_WIDTH = 200  # characters of column width that print legibly on one landscape page


def print_one_page_wide(columns: Iterable[Column | None], lang: Lang) -> bool:
    """Whether a new sheet of ``columns`` prints one page wide (landscape): yes when that
    keeps the text legible (about half size or larger); a wider table prints across pages."""
    total = sum(column_width(c, lang) if c is not None else 14 for c in columns)
    return total <= PRINT_WIDTH
