"""Unsubscribing: a token per recipient, the links and headers that carry it, finding it again.

Every campaign message lets its reader leave the list in one step, in the body (the template's
``{{ unsubscribe_url }}``) and in the ``List-Unsubscribe`` header that Gmail, Outlook.com and
Apple Mail show as a button (RFC 2369; one-click POST per RFC 8058 when there is an https page).
Without an unsubscribe page the link is a ``mailto:`` back to the sender with the subject
``unsubscribe C0042-k3jq…``: the reply lands in the mailbox xlcrm syncs, and the sync finds the
token (:func:`find_token`) or the request (:func:`is_unsubscribe_request`) and marks the customer.

The token is the customer id and ten characters of an HMAC of it keyed with the workbook's salt:
readable in a support conversation, and not guessable, so nobody can unsubscribe someone else by
writing a neighbour's id. Map a found token back by computing :func:`make_token` for each
customer (which also checks it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

# The workbook state (``_xlcrm``) key of the secret tokens are made with: written by the first
# campaign sent from a workbook, read by sync to tell whose unsubscribe request a token is.
SALT_STATE_KEY = "campaign_salt"
TOKEN_CODE_LENGTH = 10
_PREFIX_LENGTH = 16
# A token: an id part with at least one digit (so ordinary hyphenated words never match), then
# ten base32 characters.
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9])(?=[A-Za-z]*[0-9])([A-Za-z0-9]{1,16})-([a-z2-7]{10})(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_AFTER_KEYWORD = re.compile(r"(?:unsubscribe|退订)\W{0,3}" + _TOKEN.pattern, re.IGNORECASE)
# Characters a URL may keep in a header; anything else (spaces, Chinese, commas, which separate
# the header's entries) is percent-encoded.
_URL_SAFE = ":/?#[]@!$&'()*+;=%~-._"
_KEYWORDS = re.compile(r"unsubscribe|退订|取消订阅", re.IGNORECASE)
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|回复|答复|转发)\s*[:：]\s*)*", re.IGNORECASE)
_TD = re.compile(r"^[\W_]*(?:回复|回)?\s*td[\W_]*$", re.IGNORECASE)  # "TD", "td。", "回复TD"
# Where a reply's own text ends and the quoted original begins (Outlook, Gmail, Foxmail, QQ).
_QUOTE_START = re.compile(
    r"^(>|On .+wrote:?$|在.+写道[:：]?$|-{2,}.*(original message|原始邮件|forwarded)|"
    r"_{5,}|(from|发件人|寄件者)\s*[:：])",
    re.IGNORECASE,
)
BODY_LINES = 5


@dataclass(frozen=True)
class Unsubscribe:
    """How one recipient unsubscribes: their token, our mailbox, and the https page if any."""

    token: str
    mailto: str  # the bare address replies go to (sales@example.cn)
    url: str | None = None

    def __post_init__(self) -> None:
        if not self.token or not self.mailto or "@" not in self.mailto:
            raise ValueError(f"unsubscribe needs a token and an address, not {self.mailto!r}")
        if self.url is not None:
            url = quote(self.url.strip(), safe=_URL_SAFE)
            if urlsplit(url).scheme.lower() not in ("https", "http"):
                raise ValueError(f"the unsubscribe page must be an https:// URL, not {url!r}")
            object.__setattr__(self, "url", url)

    @property
    def mailto_url(self) -> str:
        """``mailto:sales@example.cn?subject=unsubscribe%20C0042-…`` (RFC 6068)."""
        subject = quote(f"unsubscribe {self.token}", safe="")
        return f"mailto:{quote(self.mailto.strip(), safe='@+')}?subject={subject}"

    @property
    def link(self) -> str:
        """The link a message shows (the template's ``unsubscribe_url``): the page, else mail."""
        return self.url or self.mailto_url

    @property
    def one_click(self) -> bool:
        """RFC 8058 one-click unsubscribing needs an https page that accepts a POST."""
        return self.url is not None and self.url.lower().startswith("https://")

    @property
    def header(self) -> str:
        """The ``List-Unsubscribe`` value: the mailto, then the page when there is one."""
        entries = [self.mailto_url] + ([self.url] if self.url else [])
        return ", ".join(f"<{entry}>" for entry in entries)


def make_token(customer_id: str, salt: str) -> str:
    """``C0042-k3jqx7hm2a``: the customer id (letters and digits) and a keyed hash of it."""
    if not salt:
        raise ValueError("an unsubscribe token needs the workbook's salt")
    key = customer_id.strip()
    digest = hmac.new(salt.encode(), key.encode(), hashlib.sha256).digest()
    code = base64.b32encode(digest).decode("ascii").lower()[:TOKEN_CODE_LENGTH]
    prefix = re.sub(r"[^A-Za-z0-9]", "", key)[:_PREFIX_LENGTH]
    if not re.search(r"[0-9]", prefix):  # ids without digits: a short number from the hash
        prefix = f"u{int.from_bytes(digest[-4:], 'big') % 10000:04d}"
    return f"{prefix}-{code}"


def find_token(text: str) -> str | None:
    """The unsubscribe token in a subject or body (also inside an encoded mailto link): the one
    after "unsubscribe" when there is one, else the first that looks like a token."""
    text = unquote(text or "")
    match = _AFTER_KEYWORD.search(text) or _TOKEN.search(text)
    return f"{match[1]}-{match[2].lower()}" if match else None


def is_unsubscribe_request(subject: str, body: str) -> bool:
    """Whether a reply asks to stop the mail: "unsubscribe", "退订", "取消订阅" or a bare "TD"
    in the subject or in the first lines the person wrote (not in the quoted original, whose
    footer says "退订" too)."""
    lines = [_REPLY_PREFIX.sub("", subject or "")]
    for line in (body or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if _QUOTE_START.match(line) or len(lines) > BODY_LINES:
            break
        lines.append(line)
    return any(_KEYWORDS.search(line) or _TD.match(line) for line in lines)
