"""Normal forms of what people type into a customer row, so dirty duplicates compare equal.

Everything here is a pure function of one cell. The same customer entered twice rarely looks
the same twice: ``LI.NA@HuaXin.cn `` and ``mailto:li.na@huaxin.cn``; ``+86 138-0013-8000`` and
``１３８００１３８０００`` (full-width digits from a Chinese input method); ``上海华信科技有限公司``
and ``上海华信科技``; ``Acme Trading Co., Ltd.`` and ``ACME TRADING LIMITED``; ``Wang Wei`` and
``wei wang``. Matching (``match.py``) compares these normal forms, never the raw text, and keeps
the raw text for the evidence a person reads.

Values that cannot be valid (an address without a domain, a phone number one digit short) are
returned as problems rather than silently dropped: ``xlcrm dedupe`` reports them on the review
sheet.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import phonenumbers

from ..customers import (
    InvalidAddress,
    InvalidPhone,
    normalise_email,
    normalise_phone,
    split_emails,
    split_phones,
)

# -- text ---------------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_SPACES = re.compile(r"\s+")


def fold(text: object) -> str:
    """NFKC (full-width → half-width, ideographic space → space), case-folded, spaces collapsed."""
    if text is None:
        return ""
    out = unicodedata.normalize("NFKC", str(text)).casefold()
    return _SPACES.sub(" ", out).strip()


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds Chinese (or other CJK) characters: such names ignore spaces."""
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


# -- e-mail -------------------------------------------------------------------------------------

_MAILTO = re.compile(r"^mailto:", re.IGNORECASE)
# The common case, checked without email-validator (~0.1 ms a domain, and a customer list has
# about as many company domains as customers): an ASCII dot-atom local part at an ASCII host
# name with a letter TLD. Anything else, and the special-use names email-validator refuses
# (localhost, .local, .test…), takes the full check.
_PLAIN_ADDRESS = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
_SPECIAL_TLDS = frozenset(_words("arpa invalid local localhost onion test internal home lan"))


@dataclass(frozen=True)
class Invalid:
    """A value that cannot be right, as the person wrote it, and why."""

    kind: str  # "email" or "phone"
    value: str
    reason: str


def email_keys(cell: object) -> tuple[list[str], list[Invalid]]:
    """The addresses in an E-mail cell in comparable form, and the ones that cannot be valid.

    The key is the address as email-validator normalises it (domain lower-cased, IDNA),
    case-folded as a whole: mail systems treat the local part case-insensitively in practice.
    Full-width forms (``＠``, ``．``, full-width letters) are folded first, ``mailto:`` dropped.
    """
    if cell is None or cell == "":
        return [], []
    text = unicodedata.normalize("NFKC", str(cell))
    keys: list[str] = []
    bad: list[Invalid] = []
    for address in split_emails(text):
        address = _MAILTO.sub("", address).strip().strip(".;,")
        if not address:
            continue
        folded = address.casefold()
        if (
            len(folded) <= 254
            and _PLAIN_ADDRESS.fullmatch(folded)
            and folded.index("@") <= 64
            and folded.rpartition(".")[2] not in _SPECIAL_TLDS
        ):
            key = folded
        else:
            try:
                key = normalise_email(address).casefold()
            except InvalidAddress as exc:
                bad.append(Invalid("email", address, str(exc)))
                continue
        if key not in keys:
            keys.append(key)
    return keys, bad


def domain_of(key: str) -> str:
    return key[key.rfind("@") + 1 :]


# -- phone --------------------------------------------------------------------------------------


def supported_region(region: str) -> bool:
    return region.upper() in phonenumbers.SUPPORTED_REGIONS


@functools.lru_cache(maxsize=65536)
def phone_key(text: str, region: str) -> str | None:
    """A number in E.164 (``+8613800138000``, ``+861065529988 ext. 12``), None when invalid
    (read as :func:`addin.customers.normalise_phone` reads it; remembered, as the same
    switchboard number stands on many rows)."""
    try:
        return normalise_phone(text, region)
    except InvalidPhone:
        return None


def phone_keys(cell: object, region: str) -> tuple[list[str], list[Invalid]]:
    """The numbers in a Phone cell in E.164, and the ones that are not valid numbers."""
    if cell is None or cell == "":
        return [], []
    keys: list[str] = []
    bad: list[Invalid] = []
    for number in split_phones(str(cell)):
        key = phone_key(number, region)
        if key is None:
            bad.append(Invalid("phone", number, "not a valid number"))
        elif key not in keys:
            keys.append(key)
    return keys, bad


# -- company names ------------------------------------------------------------------------------

# Legal forms, longest first so 股份有限公司 goes before 有限公司. Stripped from the end only.
_CN_SUFFIXES = (
    "集团股份有限公司",
    "集团有限责任公司",
    "集团有限公司",
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "责任公司",
    "分公司",
    "总公司",
    "公司",
    "集团",
    "厂",
)
# English (and a few European) legal forms as words, after punctuation became spaces.
_EN_SUFFIXES = frozenset(
    _words(
        "co company corp corporation inc incorporated ltd limited llc llp plc gmbh ag kg sa sas "
        "sarl srl spa bv nv pte pty oy ab as group holdings"
    )
)
# Parenthesised places and legal notes: 华为技术(中国)有限公司, Acme (Shanghai) Co., Ltd.
_PARENS = re.compile(r"\((?:中国|china|hk|hong kong|[\u4e00-\u9fff]{2,3}|[a-z ]{3,12})\)")
_PUNCT = re.compile(r"[^\w\u3400-\u9fff]+")
# Big cities and provinces written before a Chinese company name: 上海华信 ~ 华信 is weaker
# evidence than an exact match, 上海华信 ~ 北京华信 is two companies (branches at most).
_CITIES = tuple(
    sorted(
        _words(
            "北京 上海 天津 重庆 深圳 广州 杭州 苏州 南京 成都 武汉 西安 宁波 东莞 佛山 厦门 "
            "青岛 大连 沈阳 长沙 郑州 济南 合肥 福州 无锡 昆明 哈尔滨 长春 石家庄 南昌 南宁 "
            "贵阳 太原 珠海 中山 温州 绍兴 嘉兴 常州 南通 烟台 香港 澳门 台北 "
            "广东 江苏 浙江 山东 福建 河北 河南 湖北 湖南 四川 安徽 辽宁 陕西 江西 广西 云南"
        ),
        key=len,
        reverse=True,
    )
)


# Legal forms that mean the same thing, by class: "Co., Ltd." and "Limited" are one form,
# "GmbH" and "LLC" are two companies (sister companies in two countries at most).
_FORM_CLASS = {
    "ltd": "ltd",
    "limited": "ltd",
    "co": "ltd",
    "company": "ltd",
    "inc": "inc",
    "incorporated": "inc",
    "corp": "inc",
    "corporation": "inc",
    "llc": "llc",
    "llp": "llp",
    "plc": "plc",
    "gmbh": "gmbh",
    "ag": "ag",
    "kg": "kg",
    "sa": "sa",
    "sas": "sa",
    "sarl": "sarl",
    "srl": "srl",
    "spa": "spa",
    "bv": "bv",
    "nv": "nv",
    "pte": "pte",
    "pty": "pty",
    "oy": "oy",
    "ab": "ab",
    "as": "as",
}


@dataclass(frozen=True)
class CompanyKey:
    """A company name without legal form, punctuation, case or width; and its city prefix."""

    full: str  # "上海华信科技", "acme trading"
    core: str  # without a leading city: "华信科技"
    city: str  # "上海", or "" when none was written
    form: str = ""  # the English legal form's class ("ltd", "gmbh"), "" when none was written


@functools.lru_cache(maxsize=65536)
def company_key(text: str) -> CompanyKey:
    """``上海华信科技有限公司`` → full ``上海华信科技``, core ``华信科技``, city ``上海``.

    ``ACME Trading Co., Ltd.`` → ``acme trading``; ``华信科技（上海）有限公司`` → city ``上海``.
    """
    name = fold(text)
    city = ""
    for m in _PARENS.finditer(name):
        inner = m[0][1:-1].strip()
        if inner in _CITIES:
            city = inner
    name = _PARENS.sub(" ", name)
    name = name.replace("&", " ")
    words = [w for w in _PUNCT.sub(" ", name).split() if w]
    forms: list[str] = []
    while words and words[-1] in _EN_SUFFIXES and len(words) > 1:
        forms.append(words.pop())
    full = " ".join(words)
    changed = True
    while changed:
        changed = False
        for suffix in _CN_SUFFIXES:
            if full.endswith(suffix) and len(full) > len(suffix) + 1:
                full = full[: -len(suffix)].rstrip()
                changed = True
                break
    # The outermost English form ("Pte" of "Pte. Ltd."). Chinese forms are not compared: a
    # 字号 is registered once per place, so 有限公司 / 股份有限公司 is one company re-registered.
    classes = [_FORM_CLASS[f] for f in forms if f in _FORM_CLASS]
    form = classes[-1] if classes else ""
    if has_cjk(full):
        full = full.replace(" ", "")
    core = full
    for prefix in _CITIES:
        if core.startswith(prefix) and len(core) > len(prefix) + 1:
            city = city or prefix
            core = core[len(prefix) :]
            if core.startswith("市"):
                core = core[1:]
            break
    if city:
        full = city + core  # 华信科技(上海), 上海市华信科技 and 上海华信科技 are one name
    return CompanyKey(full, core, city, form)


# -- person names -------------------------------------------------------------------------------

_TITLES = frozenset(_words("mr mrs ms miss dr prof sir madam"))
_CN_TITLES = ("先生", "女士", "小姐", "老师", "博士")


@functools.lru_cache(maxsize=65536)
def person_key(text: str) -> str:
    """A person's name for comparing: ``Wang  Wei`` and ``wei wang`` → ``wang wei``; ``王 伟``
    and ``王伟先生`` → ``王伟``. Latin names are sorted by word, since people write the family
    name first or last; Chinese names are compared without spaces."""
    name = fold(text)
    if has_cjk(name):
        name = _PUNCT.sub("", name)
        for title in _CN_TITLES:
            if name.endswith(title) and len(name) > len(title) + 1:
                name = name[: -len(title)]
        return name
    words = [w for w in _PUNCT.sub(" ", name).split() if w not in _TITLES]
    return " ".join(sorted(words))
