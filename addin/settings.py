"""Shared settings kept in the workbook's Settings table (``docs/design.md``).

What everybody who opens the workbook shares — the company's internal domains, the addresses
whose mail is never recorded, how soon to follow up — lives in a Settings sheet with one row per
setting, so a scheduled sync, the ribbon and a colleague's command line all use the same values.
Secrets never do: passwords and tokens come from the environment, the keyring or a prompt.

A setting is found by its key (``internal_domains``) or its label in either language
(``Internal domains``, ``内部域名``), ignoring case, spaces and punctuation. List settings take
several values in one cell, separated by ``;``, ``,`` or new lines. A workbook without a
Settings table simply has no settings; options on the command line add to the lists and win
over single values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import ValueProblem
from .schema import Lang, normalize_label
from .workbook import Book


@dataclass(frozen=True)
class Setting:
    """A setting xlcrm knows: its key, labels, what it is for, and its kind."""

    key: str
    en: str
    zh: str
    help_en: str
    help_zh: str
    kind: str = "list"  # "list" (several values), "int" or "text"

    def label(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en

    def help(self, lang: Lang) -> str:
        return self.help_zh if lang == "zh" else self.help_en


KNOWN: tuple[Setting, ...] = (
    Setting(
        "mailbox",
        "Mailbox",
        "邮箱",
        "The mailbox the ribbon's Sync mail reads, e.g. imaps://sales@corp.cn@imap.exmail.qq.com "
        "(no password here: the xlcrm service keeps it).",
        "功能区“同步邮件”读取的邮箱，例如 imaps://sales@corp.cn@imap.exmail.qq.com"
        "（不要写密码：密码由 xlcrm 服务保管）。",
        kind="text",
    ),
    Setting(
        "support_mailbox",
        "Support mailbox",
        "客服邮箱",
        "The support mailbox whose new threads become tickets, e.g. imaps://support@corp.cn@host.",
        "新邮件会话自动生成工单的客服邮箱，例如 imaps://support@corp.cn@host。",
        kind="text",
    ),
    Setting(
        "transport",
        "Outgoing mail",
        "发信服务器",
        "How campaigns and notices are sent, e.g. smtps://sales@corp.cn@smtp.exmail.qq.com, "
        "or the mailbox's own ews:// or graph:// URL.",
        "群发和通知邮件的发送方式，例如 smtps://sales@corp.cn@smtp.exmail.qq.com，"
        "或邮箱本身的 ews:// / graph:// 地址。",
        kind="text",
    ),
    Setting(
        "internal_domains",
        "Internal domains",
        "内部域名",
        "Our company's mail domains (;-separated). Mail among them only is not recorded.",
        "本公司的邮箱域名，用 ; 分隔。只在内部往来的邮件不记录。",
    ),
    Setting(
        "never_log",
        "Never log",
        "不记录邮件",
        "Addresses or domains whose mail is never recorded (lawyers, HR, private).",
        "这些地址或域名的邮件一律不记录（律师、人事、私人）。",
    ),
    Setting(
        "follow_up_days",
        "Follow-up days",
        "跟进天数",
        "After our mail on an open deal, follow up this many days later (default 3).",
        "给进行中的商机发邮件后，几天后跟进（默认 3 天）。",
        kind="int",
    ),
    # The seller in contracts and the sender of campaigns: templates use them as company.name…
    Setting(
        "company_name",
        "Company name",
        "公司名称",
        "Our company's legal name, as contracts name the seller.",
        "本公司全称，合同中的卖方名称。",
        kind="text",
    ),
    Setting(
        "company_address",
        "Company address",
        "公司地址",
        "Registered address, for contracts and e-mail footers.",
        "注册地址，用于合同和邮件页脚。",
        kind="text",
    ),
    Setting(
        "company_phone",
        "Company phone",
        "公司电话",
        "Main phone number.",
        "公司总机电话。",
        kind="text",
    ),
    Setting(
        "company_email",
        "Company e-mail",
        "公司邮箱",
        "General e-mail address shown in contracts.",
        "合同中显示的公司邮箱。",
        kind="text",
    ),
    Setting(
        "company_website",
        "Company website",
        "公司网址",
        "Website shown in e-mails.",
        "邮件中显示的网址。",
        kind="text",
    ),
    Setting(
        "company_tax_id",
        "Tax ID",
        "统一社会信用代码",
        "Tax registration number (统一社会信用代码).",
        "统一社会信用代码（税号）。",
        kind="text",
    ),
    Setting(
        "company_bank",
        "Bank",
        "开户银行",
        "The bank where customers pay (contracts).",
        "收款开户银行（用于合同）。",
        kind="text",
    ),
    Setting(
        "company_bank_account",
        "Bank account",
        "银行账号",
        "The account customers pay into (contracts).",
        "收款银行账号（用于合同）。",
        kind="text",
    ),
    Setting(
        "company_representative",
        "Legal representative",
        "法定代表人",
        "Who signs contracts for the company.",
        "代表公司签署合同的人。",
        kind="text",
    ),
    Setting(
        "contract_no_format",
        "Contract number format",
        "合同编号格式",
        "How contract numbers are made: {year}, {month}, {seq:04} (default CT-{year}-{seq:04}).",
        "合同编号规则：{year} 年、{month} 月、{seq:04} 流水号（默认 CT-{year}-{seq:04}）。",
        kind="text",
    ),
    Setting(
        "sender",
        "Campaign sender",
        "群发发件人",
        "From address of campaign e-mails, e.g. 星河软件 <sales@example.cn>.",
        "群发邮件的发件人，例如 星河软件 <sales@example.cn>。",
        kind="text",
    ),
    Setting(
        "unsubscribe_url",
        "Unsubscribe URL",
        "退订网址",
        "Optional one-click unsubscribe page; {token} is replaced per recipient.",
        "可选的一键退订网址，{token} 会替换为收件人的退订码。",
        kind="text",
    ),
    Setting(
        "send_per_minute",
        "Messages per minute",
        "每分钟发送上限",
        "Campaign sending limit per minute (Exchange Online allows 30).",
        "群发每分钟最多发送几封（Exchange Online 限 30 封）。",
        kind="int",
    ),
    Setting(
        "send_per_day",
        "Messages per day",
        "每日发送上限",
        "Campaign sending limit per day, across campaigns.",
        "所有群发每天最多发送几封。",
        kind="int",
    ),
    Setting(
        "sending_hours",
        "Sending hours",
        "发送时段",
        "Campaigns send only between these hours, e.g. 09:00-18:00.",
        "群发只在此时段内发送，例如 09:00-18:00。",
        kind="text",
    ),
    # -- dedupe --
    Setting(
        "phone_region",
        "Phone region",
        "电话默认地区",
        "Country of phone numbers written without a country code, e.g. CN, HK, US (default CN).",
        "未写国家代码的电话号码所属地区，例如 CN、HK、US（默认 CN）。",
        kind="text",
    ),
    # -- pipeline --
    Setting(
        "team",
        "Team",
        "团队成员",
        "Owners' addresses for notices and reminders: 王伟 <wang.wei@example.cn>; Li Na <li.na@…>",
        "负责人的邮箱，用于通知和提醒，例如：王伟 <wang.wei@example.cn>; Li Na <li.na@example.com>",
    ),
    Setting(
        "handoff_to",
        "Hand-off to",
        "订单交接邮箱",
        "Who gets the order hand-off e-mail when a deal is won (warehouse, finance), ;-separated.",
        "赢单后接收订单交接邮件的地址（仓库、财务），用 ; 分隔。",
    ),
    Setting(
        "notify_sender",
        "Notification sender",
        "通知发件人",
        "From address of notices and reminders (default: the campaign sender).",
        "通知和提醒邮件的发件人（默认与群发发件人相同）。",
        kind="text",
    ),
    Setting(
        "idle_days",
        "Idle days",
        "停滞天数",
        "A deal with no activity for this many days is idle (default 14; or per stage in Stages).",
        "商机超过几天没有任何互动即为停滞（默认 14 天；销售阶段表可按阶段设置）。",
        kind="int",
    ),
    Setting(
        "no_contact_days",
        "No-contact days",
        "未联系天数",
        "Remind owners of A-tier customers not contacted for this many days (default 30).",
        "A 级客户超过几天未联系时提醒负责人（默认 30 天）。",
        kind="int",
    ),
    # -- tickets --
    Setting(
        "support_team",
        "Support team",
        "客服团队",
        "Who handles tickets in turn (round-robin) when no rule or customer owner decides, "
        "e.g. 张三; 李四.",
        "没有规则或客户负责人时，工单按顺序轮流分派给这些人，例如：张三; 李四。",
    ),
    Setting(
        "escalate_to",
        "Escalate overdue tickets to",
        "工单超时升级给",
        "Who is e-mailed once when a ticket passes its due time, unless the SLA table names "
        "someone: a name from the team setting or an address.",
        "工单超过截止时间仍未解决时通知的人（SLA 表未指定时）：团队设置中的姓名或邮箱地址。",
        kind="text",
    ),
    Setting(
        "support_sender",
        "Support sender",
        "客服发件人",
        "From address of satisfaction surveys: the support mailbox, so that answers come back "
        "to it, e.g. 星河客服 <support@example.cn>.",
        "满意度调查邮件的发件人，应为客服邮箱，以便客户回复能同步回来，"
        "例如：星河客服 <support@example.cn>。",
        kind="text",
    ),
    # -- report --
    Setting(
        "abc_a_share",
        "ABC: A share (%)",
        "ABC：A 类收入占比(%)",
        "A customers are the top ones making this share of the last 12 months' won revenue "
        "(default 80).",
        "A 类客户：近 12 个月赢单收入累计占比达到该值的头部客户（默认 80）。",
        kind="int",
    ),
    Setting(
        "abc_b_share",
        "ABC: A+B share (%)",
        "ABC：A+B 类收入占比(%)",
        "B customers are the next ones up to this cumulative share (default 95); the rest are C.",
        "B 类客户：累计占比到该值为止的后续客户（默认 95），其余为 C 类。",
        kind="int",
    ),
    Setting(
        "report_currency",
        "Report currency",
        "报表币种",
        "The currency of the dashboard's amounts (default: the one most deals use).",
        "仪表盘金额的币种（默认：商机中最常用的币种）。",
        kind="text",
    ),
    Setting(
        "exchange_rates",
        "Exchange rates",
        "汇率",
        "Rates into the report currency, e.g. USD=7.1; EUR=7.8. Deals in a currency without a "
        "rate are left out of the dashboard's amounts.",
        "折算为报表币种的汇率，例如 USD=7.1; EUR=7.8。没有汇率的币种不计入仪表盘金额。",
    ),
)

_SPLIT = re.compile(r"[;,；，、\r\n]+")


def _index() -> dict[str, Setting]:
    index = {}
    for setting in KNOWN:
        for name in (setting.key, setting.en, setting.zh):
            index[normalize_label(name)] = setting
    return index


_BY_LABEL = _index()


class Settings(Mapping[str, str]):
    """The Settings table's values by canonical key (unknown rows under their own name)."""

    def __init__(self, values: Mapping[str, str], where: Mapping[str, str] | None = None) -> None:
        self._values = dict(values)
        self._where = dict(where or {})

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def list(self, key: str) -> tuple[str, ...]:
        """A list setting's values, in order, without blanks."""
        text = self._values.get(key, "")
        return tuple(v.strip() for v in _SPLIT.split(text) if v.strip())

    def text(self, key: str) -> str:
        """A single-value setting, stripped ("" when empty or absent)."""
        return self._values.get(key, "").strip()

    def where(self, key: str) -> str:
        """The cell that holds ``key``'s value, or the Settings table when it has no row."""
        return self._where.get(key, "Settings")

    def int(self, key: str) -> int | None:
        """A whole-number setting, None when empty; an error naming the cell otherwise."""
        text = self._values.get(key, "").strip()
        if not text:
            return None
        try:
            return int(float(text))
        except ValueError:
            raise ValueProblem(
                self._where.get(key), f"{text!r} is not a whole number", "write a number such as 3"
            ) from None


def read_settings(book: Book) -> Settings:
    """The workbook's settings; empty when it has no Settings table."""
    if not book.has_table("settings"):
        return Settings({})
    table = book.table("settings")
    values: dict[str, str] = {}
    where: dict[str, str] = {}
    for row in table.rows():
        name, value = row.get("key"), row.get("value")
        if not isinstance(name, str) or not name.strip():
            continue
        known = _BY_LABEL.get(normalize_label(name))
        key = known.key if known else name.strip()
        values[key] = "" if value is None else str(value)
        where[key] = table.where_of(row["key"], "value")
    return Settings(values, where)


def default_rows(lang: Lang) -> list[dict[str, str]]:
    """The rows a new workbook's Settings table starts with: every known setting, empty."""
    return [{"key": s.label(lang), "value": "", "notes": s.help(lang)} for s in KNOWN]


def write_settings(book: Book, values: Mapping[str, str]) -> None:
    """Set settings by key (unsaved): the row with the key or either label is updated, a
    missing one is added under the label of the workbook's language."""
    table = book.table("settings")
    rows = {}
    for row in table.rows():
        name = row.get("key")
        if isinstance(name, str) and name.strip():
            known = _BY_LABEL.get(normalize_label(name))
            rows[known.key if known else name.strip()] = name
    by_key = {s.key: s for s in KNOWN}
    for key, value in values.items():
        if key in rows:
            table.update(rows[key], {"value": value})
        else:
            setting = by_key.get(key)
            label = setting.label(book.lang) if setting else key
            notes = setting.help(book.lang) if setting else None
            table.insert({"key": label, "value": value, "notes": notes})


def missing_rows(book: Book) -> list[dict[str, str]]:
    """The rows of :func:`default_rows` whose setting the Settings table has under no label
    (the settings added by newer xlcrm versions, or rows someone deleted)."""
    have = set()
    for row in book.table("settings").rows():
        name = row.get("key")
        if isinstance(name, str) and name.strip():
            known = _BY_LABEL.get(normalize_label(name))
            have.add(known.key if known else name.strip())
    lang = book.lang
    return [
        {"key": s.label(lang), "value": "", "notes": s.help(lang)}
        for s in KNOWN
        if s.key not in have
    ]
