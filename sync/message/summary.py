"""The new text of a reply: quoted history, reply headers and signatures stripped."""

from __future__ import annotations

import re

from .headers import fold

SUMMARY_CHARS = 300  # summary length before "…"


# "-----Original Message-----", "------------------ 原始邮件 ------------------", "-- 转发 --"
_SEPARATOR = re.compile(r"^[-_=*]{2,}([^-_=*]{2,40})[-_=*]{2,}$")  # on a stripped line
_SEPARATOR_WORDS = re.compile(
    r"original|forwarded|reply message|原始|原邮件|转发|回复的|邮件原文", re.I
)
_HEADER_BLOCK_START = re.compile(r"^\*?(from|发件人|寄件者|发信人)\*?\s*[:：]", re.I)
_HEADER_BLOCK_NEXT = re.compile(
    r"^\*?(sent|date|to|subject|cc|发送时间|发件时间|日期|时间|收件人|主题|抄送)\*?\s*[:：]", re.I
)
# A line that is only one of these (and punctuation) starts a signature when little follows.
_SIGN_OFFS = (
    *[
        "此致",
        "此致敬礼",
        "敬礼",
        "致礼",
        "祝好",
        "祝商祺",
        "顺祝商祺",
        "顺颂商祺",
        "顺颂时祺",
        "顺祝",
        "商祺",
        "即颂商祺",
    ],
    *[
        "顺祝生意兴隆",
        "祝工作顺利",
        "祝一切顺利",
        "祝生意兴隆",
        "谢谢",
        "谢谢您",
        "多谢",
        "非常感谢",
        "感谢",
    ],
    *("best regards", "kind regards", "warm regards", "regards", "best", "best wishes"),
    *("thanks", "thank you", "many thanks", "cheers", "sincerely", "yours sincerely"),
    *("yours faithfully", "br"),
)
_SIGN_OFF_WORDS = "(?:{})[ \t\xa0,，.。!！~～]*".format(
    "|".join(sorted((re.escape(w).replace("\\ ", " ") for w in _SIGN_OFFS), key=len, reverse=True))
)
_SIGN_OFF_FIRST = "".join(sorted({c for w in _SIGN_OFFS for c in (w[0], w[0].upper())}))
_SIGN_OFF = re.compile(_SIGN_OFF_WORDS, re.I)
_MOBILE_SIGNATURE = re.compile(
    r"^(发自我的|来自我的|发自网易|发自\s*(iphone|ipad|android|华为|小米|手机)|sent from my |"
    r"sent from mail for |get outlook for |从我的.{1,20}发送$)",
    re.I,
)
# The start of any line that may end the new text or be skipped: quotes, separators, header
# blocks, "On …"/"…写道：", signature marks, sign-offs. A cheap filter: _quote_header and the
# checks in new_text decide.
# It is searched for in "\n" + text: the leading literal "\n" lets the regex engine jump from
# line to line instead of trying every position. Lines ending in "写道：" are found with
# str.find in new_text (they may start with anything).
_SPECIAL_LINE = re.compile(
    r"\n[ \t\xa0\u3000]*(?:[>＞]|[-_=*]{2}|(?:发件人|寄件者|发信人)[ \t]*[:：]|发自|来自|从我的"
    r"|(?i:from[ \t]*[:：]|on[ \t]|sent[ \t]+from|get[ \t]+outlook)"
    rf"|(?=[{_SIGN_OFF_FIRST}])(?i:{_SIGN_OFF_WORDS})(?=\n|\Z))"
)
_LOOKAHEAD_CHARS = 4000  # what _quote_header and _is_signature_start may look at
_LOOKAHEAD_LINES = 40
_SIGNATURE_TAIL = 8  # a sign-off is followed by at most this many lines (name, title, phone)


def _quote_header(lines: list[str], i: int) -> str | None:
    """What kind of reply/forward header starts at line ``i``: "cut", "wrote" or None.

    "cut": everything below is the old message (Outlook and QQ top-posting). "wrote": an
    "On … wrote:" / "在…写道：" line, which may introduce ">"-quoted lines with answers between.
    """
    line = lines[i].strip()
    if not line or len(line) > 300:
        return None
    if line[0] in "-_=*":
        separator = _SEPARATOR.match(line)
        if separator and _SEPARATOR_WORDS.search(separator.group(1)):
            return "cut"
    if _HEADER_BLOCK_START.match(line):
        for j in range(i + 1, min(i + 5, len(lines))):
            if _HEADER_BLOCK_NEXT.match(lines[j].strip()):
                return "cut"
        return None
    if line.endswith(("写道：", "写道:")) and (line[0] == "在" or "于" in line or "@" in line):
        return "wrote"
    if line[:3].lower() == "on ":
        if line.endswith("wrote:"):
            return "wrote"
        if i + 1 < len(lines) and lines[i + 1].rstrip().endswith("wrote:"):
            return "wrote"
    return None


def _is_signature_start(lines: list[str], i: int) -> bool:
    """A sign-off ("此致", "谢谢", "Best regards") with only a short block after it."""
    tail = 0
    for j in range(i + 1, len(lines)):
        line = lines[j].strip()
        if not line:
            continue
        if line[0] == ">" or _quote_header(lines, j):
            break
        tail += 1
        if tail > _SIGNATURE_TAIL:
            return False
    return True


def new_text(text: str, limit: int = SUMMARY_CHARS + 100) -> str:
    """The part of a body its author just wrote, whitespace folded: no quoted replies, no
    signature.

    Stops at quote headers (Outlook's "-----Original Message-----" and From:/Sent: blocks,
    QQ's "原始邮件", "On … wrote:", "在…写道："), skips ">" lines, and drops a signature after
    "-- ", a sign-off or a "Sent from my iPhone" line. Reads about ``limit`` characters.

    Regular-expression and substring searches find the next line that could matter; the
    ordinary lines before it are taken whole, so the Python-level work is per special line,
    not per line.
    """
    body = "\n" + text  # positions below are in body; a line starts after its "\n"
    kept: list[str] = []
    size = 0
    pos, end = 0, len(body)
    while pos < end and size < limit:
        special = _SPECIAL_LINE.search(body, pos)
        stop = special.start() if special else end
        wrote = body.find("写道", pos, stop)
        if wrote >= 0:
            stop = body.rfind("\n", pos, wrote)
        if stop > pos:
            chunk = body[pos : min(stop, pos + limit)]
            if not chunk.isspace():
                kept.append(chunk)
                size += len(chunk)
        if stop >= end or size >= limit:
            break
        line_end = body.find("\n", stop + 1)
        if line_end < 0:
            line_end = end
        pos = line_end
        line = body[stop + 1 : line_end].strip()
        if not line or line[0] in ">＞":
            continue
        lines = body[stop + 1 : stop + _LOOKAHEAD_CHARS].split("\n", _LOOKAHEAD_LINES)
        kind = _quote_header(lines, 0)
        if kind == "cut":
            break
        if kind == "wrote":
            if line[-1] not in ":：":  # "On …" wrapped onto two lines
                wrapped_end = body.find("\n", pos + 1)
                pos = end if wrapped_end < 0 else wrapped_end
            following = body[pos : pos + 200].lstrip()
            if following[:1] in (">", "＞"):
                continue  # inline answers follow: keep reading between the quotes
            break
        if line == "--" or _MOBILE_SIGNATURE.match(line):
            break
        if size and _SIGN_OFF.fullmatch(line) and _is_signature_start(lines, 0):
            break
        kept.append(line)
        size += len(line)
    return fold(" ".join(kept))


def summary(text: str) -> str:
    """The first ``SUMMARY_CHARS`` characters of the new text, cut at a space when one is
    near (Western text), with "…" when something was cut."""
    summary = new_text(text)
    if len(summary) <= SUMMARY_CHARS:
        return summary
    cut = summary[:SUMMARY_CHARS]
    space = cut.rfind(" ", SUMMARY_CHARS - 40)
    return (cut[:space] if space > 0 else cut).rstrip() + "…"
