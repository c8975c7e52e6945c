"""The evidence for a pair, in the workbook's language, as a person reviewing it reads it.

``same e-mail li.na@x.cn; company 90% alike: "上海华信科技有限公司" ~ "华信科技"; suggest
keeping C0003: more activity (12 linked rows vs 2)`` — or the same in Chinese. The words are
made here from the structured :class:`~addin.dedupe.match.Reason` list, so matching never
deals in text and both languages say exactly the same thing.
"""

from __future__ import annotations

from ..schema import Lang
from .match import Pair, Reason
from .normalize import Invalid

_EN = {
    "email": "same e-mail {0}",
    "phone": "same phone {0}",
    "name": 'name {0}% alike: "{1}" ~ "{2}"',
    "same_name": 'same name "{1}"',
    "company": 'company {0}% alike: "{1}" ~ "{2}"',
    "same_company": 'same company "{1}"',
    "domain": "same company domain {0}",
    "cities": "different cities {0} / {1}",
    "forms": "different legal forms",
    "names_differ": 'but names differ: "{0}" / "{1}"',
    "companies_differ": 'but companies differ: "{0}" / "{1}"',
    "keep_linked": "suggest keeping {0}: more activity ({1} linked rows vs {2})",
    "keep_complete": "suggest keeping {0}: more complete ({1} fields filled vs {2})",
    "keep_older": "suggest keeping {0}: older (created {1})",
    "keep_first": "suggest keeping {0}: the older id",
    "invalid_email": "invalid e-mail '{0}' ({1})",
    "invalid_phone": "invalid phone '{0}'",
}
_ZH = {
    "email": "相同邮箱 {0}",
    "phone": "相同电话 {0}",
    "name": "姓名相似 {0}%：“{1}” ~ “{2}”",
    "same_name": "同名“{1}”",
    "company": "公司相似 {0}%：“{1}” ~ “{2}”",
    "same_company": "同一公司“{1}”",
    "domain": "相同企业域名 {0}",
    "cities": "城市不同 {0} / {1}",
    "forms": "公司类型不同",
    "names_differ": "但姓名不同：“{0}” / “{1}”",
    "companies_differ": "但公司不同：“{0}” / “{1}”",
    "keep_linked": "建议保留 {0}：往来更多（{1} 条关联记录，对方 {2} 条）",
    "keep_complete": "建议保留 {0}：资料更全（{1} 项已填，对方 {2} 项）",
    "keep_older": "建议保留 {0}：建档更早（{1}）",
    "keep_first": "建议保留 {0}：编号更早",
    "invalid_email": "无效邮箱“{0}”",
    "invalid_phone": "无效电话“{0}”",
}
_SEPARATOR = {"en": "; ", "zh": "；"}


def _say(reason: Reason, lang: Lang) -> str:
    words = _ZH if lang == "zh" else _EN
    kind = reason.kind
    values = reason.values
    if kind in ("name", "company") and values[0] == 100 and values[1] == values[2]:
        kind = "same_" + kind
    return words[kind].format(*values)


def pair_evidence(pair: Pair, lang: Lang) -> str:
    """All the reasons for ``pair``, then the suggested survivor."""
    parts = [_say(r, lang) for r in [*pair.reasons, pair.why_keep]]
    return _SEPARATOR[lang].join(parts)


def invalid_evidence(bad: Invalid, lang: Lang) -> str:
    """``invalid phone '1380013'`` / ``无效电话“1380013”``."""
    kind = "invalid_email" if bad.kind == "email" else "invalid_phone"
    return _say(Reason(kind, (bad.value, bad.reason)), lang)
