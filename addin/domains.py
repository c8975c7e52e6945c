"""Mail domains: which belong to a public provider, and the domain of an address.

Linking mail to customers (:mod:`addin.mailsync`) and finding duplicate customers
(:mod:`addin.dedupe`) both ask whether a domain says anything about a company: on a public
provider's domain (qq.com, 163.com, gmail.com…) thousands of unrelated people share it, so it
does not.
"""

from __future__ import annotations

from .customers import email_key

# Consumer mail providers common among Chinese and international customers. A domain here is
# never used to guess a customer's company, and never becomes internal.
PUBLIC_DOMAINS = frozenset(
    {
        # China
        "qq.com", "vip.qq.com", "foxmail.com", "163.com", "vip.163.com", "126.com",
        "vip.126.com", "yeah.net", "188.com", "netease.com", "sina.com", "sina.cn",
        "vip.sina.com", "sohu.com", "vip.sohu.com", "aliyun.com", "139.com", "189.cn",
        "wo.cn", "tom.com", "21cn.com", "263.net", "outlook.cn", "live.cn", "hotmail.com.cn",
        "yahoo.com.cn", "yahoo.cn",
        # elsewhere
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
        "hotmail.co.uk", "hotmail.fr", "hotmail.de", "live.co.uk", "outlook.de", "outlook.fr",
        "yahoo.com", "yahoo.co.uk", "yahoo.co.jp", "yahoo.com.hk", "yahoo.com.tw", "ymail.com",
        "rocketmail.com", "icloud.com", "me.com", "mac.com", "aol.com", "proton.me",
        "protonmail.com", "pm.me", "gmx.de", "gmx.net", "gmx.com", "web.de", "t-online.de",
        "mail.ru", "yandex.ru", "yandex.com", "naver.com", "daum.net", "hanmail.net",
        "zoho.com", "fastmail.com", "hey.com", "mail.com", "orange.fr", "free.fr",
        "libero.it", "btinternet.com", "comcast.net", "verizon.net", "att.net",
    }
)  # fmt: skip


def domain_of(address: str) -> str:
    """The part after the last ``@``, folded like addresses are; "" when there is none."""
    return email_key(address).rpartition("@")[2]


def is_public(domain: str) -> bool:
    return domain in PUBLIC_DOMAINS
