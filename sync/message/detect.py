"""Which charset unlabelled (or wrongly labelled) bytes are in: decode under each candidate
and score how much the text looks like something a person wrote.

Why scoring and not "the first codec that decodes": GB18030 decodes almost any byte string,
so trying it first turned Big5 (``純商業`` → ``坝穨``), Latin-1 (``Frösche`` → ``Fr鰏che``)
and Windows-1252 (``didn’t`` → ``didn抰``) into Chinese garbage. Every candidate decodes,
and the one whose characters are the common ones of its own script wins:

* Chinese (GB18030, Big5-HKSCS): the few hundred most frequent characters score highest,
  then the first level of GB2312 and Big5 (the common characters), then any other ideograph;
  kana, private-use and symbol rows score below zero: they are what a wrong double-byte
  reading lands on.
* Japanese (Shift_JIS, EUC-JP): kana highest, JIS level-1 kanji next.
* Korean (EUC-KR/UHC): the 2,350 KS X 1001 syllables.
* Single-byte (Windows-125x, KOI8-R): a letter next to a letter of its own script, in a
  plausible case pattern; accented Latin letters in runs of three or more, C1 control
  characters and stray symbols score below zero.
* UTF-8 with a few stray bytes: the valid sequences score, each stray byte costs.

Scores are per byte of non-ASCII input, so a two-byte ideograph and a one-byte letter weigh
alike. Only the first few hundred non-ASCII characters are scored: a charset does not change
half-way through a text, and long bodies must not cost more than they need.

charset-normalizer was measured against these rules on the shared real-mail corpus
(``bench/bench_charsets.py``); see ``bench/README.md`` for the figures and the choice.
"""

from __future__ import annotations

import codecs
import contextlib
import re
import unicodedata
from functools import lru_cache
from itertools import islice

# The candidates, in the order that breaks ties: Chinese first (this project's users), then
# the Western single-byte code page, then the rest.
CANDIDATES: tuple[str, ...] = (
    "gb18030",
    "big5hkscs",
    "cp1252",
    "cp932",
    "euc_jp",
    "cp949",
    "iso8859-15",
    "cp1250",
    "iso8859-2",
    "cp1251",
    "koi8-r",
    "cp1254",
    "cp1257",
    "cp1253",
    "cp1255",
    "cp1256",
)
_CHINESE = frozenset({"gb18030", "big5hkscs", "cp950"})
_JAPANESE = frozenset({"cp932", "euc_jp", "iso2022_jp", "shift_jis"})
_KOREAN = frozenset({"cp949", "euc_kr"})
_DOUBLE_BYTE = _CHINESE | _JAPANESE | _KOREAN
SAMPLE_CHARS = 200  # non-ASCII characters scored per candidate
_NON_ASCII = re.compile(r"[^\x00-\x7f]")

# The most frequent Chinese characters, simplified and traditional (general knowledge of the
# language, as in any frequency list): the strongest evidence that a reading is Chinese.
_TOP_HANZI = frozenset(
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下"
    "自之年过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部"
    "其些主样理心她本前开但因只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又"
    "关点正业外将两高间由问很最重并物手应战向头文体政美相见被利什二等产或新己制身果加西斯"
    "月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入"
    "几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件计管"
    "期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像"
    "难且权思王象完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今"
    "切院让识候带导争运笑飞风步改收根干造言联持组每济车亲极林服快办议往元英士证近失转夫令"
    "准布始怎呢存未远叫台单影具罗字爱击流备兵连调深商算质团集百需价花党华城石级整府离况亚"
    "请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企八功吗包片史委乎查轻易早"
    "曾除农找装广显吧阿李标谈吃图念六引历首医局突专费号尽另周较注语仅考落青随选列武红响虽"
    "推势参希古众构房半节土投某案黑维革划敌致陈律足态护七兴派孩验责营星够章音跟志底站严巴"
    "您邮件附谢客户订单报价款货样寄收送发票合同公司经理电话传真地址"
    "這個們來時國說會對發動產種後學實現過經進電裡麼兩體機當點從業開關還應樣與間數問題長門"
    "見幾頭氣東車馬書話讓給認邊條聲為無於動從來們樣當還開關將與業現實過經進電話說請謝謝"
    "郵件貨單報價訂戶寄樣發票合約公司經理傳真地址辦處總務員費買賣區際縣鄉雲陽陳張劉楊黃趙"
    # the common surnames: display names are mostly a surname and one or two characters
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
    "顾毛郝龚邵万钱严覃武戴莫孔向汤吳孫馬羅鄭謝許韓馮鄧蕭蔣葉蘇呂盧鍾譚陸賈韋鄒龍陶賀顧龔錢嚴湯"
)
_KANA = re.compile(r"[\u3040-\u30ff]")


@lru_cache(maxsize=1)
def _levels() -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    """The common characters of each script, as its national standard ranks them: GB2312
    level 1 (3,755 hanzi), Big5 level 1 (5,401), JIS level-1 kanji (2,965), KS X 1001
    hangul (2,350)."""

    def table(codec: str, leads: range, trails: list[int]) -> set[str]:
        found: set[str] = set()
        for lead in leads:
            for trail in trails:
                with contextlib.suppress(UnicodeDecodeError):
                    found.add(bytes((lead, trail)).decode(codec))
        return found

    high = list(range(0xA1, 0xFF))
    big5_trails = list(range(0x40, 0x7F)) + high
    simplified = table("gb2312", range(0xB0, 0xD8), high)
    traditional = table("big5", range(0xA4, 0xC7), big5_trails)
    kanji = table("euc_jp", range(0xB0, 0xD0), high)
    hangul = table("euc_kr", range(0xB0, 0xC9), high)
    return frozenset(simplified), frozenset(traditional), frozenset(kanji), frozenset(hangul)


def _cjk_value(char: str, family: str) -> float:
    """How likely ``char`` is in text of a CJK family: "zh" (simplified, as GB18030 holds
    it), "zh-tw" (traditional, as Big5 does), "ja" or "ko"."""
    simplified, traditional, kanji, hangul = _levels()
    o = ord(char)
    if 0x4E00 <= o <= 0x9FFF:  # unified ideographs
        if family == "zh":
            return 1.0 if char in _TOP_HANZI else 0.8 if char in simplified else 0.2
        if family == "zh-tw":
            return 1.0 if char in _TOP_HANZI else 0.8 if char in traditional else 0.2
        if family == "ja":
            return 0.8 if char in kanji else 0.2
        return 0.2  # hanja: rare in today's Korean
    if 0x3040 <= o <= 0x30FF:  # kana
        return 1.0 if family == "ja" else -0.5
    if 0xAC00 <= o <= 0xD7A3:  # hangul syllables
        if family == "ko":
            return 1.0 if char in hangul else 0.2
        return -1.0
    if 0x3000 <= o <= 0x303F:  # CJK punctuation
        return 0.9
    if 0xFF01 <= o <= 0xFF60:  # full-width ASCII forms
        return 0.7
    if 0xFF61 <= o <= 0xFF9F:  # half-width katakana
        return 0.3 if family == "ja" else -0.5
    if char in "“”‘’…—·•×÷°":  # the punctuation Chinese and Japanese fonts share
        return 0.6
    if 0xE000 <= o <= 0xF8FF or char == "\ufffd":  # private use: a wrong reading
        return -3.0
    return -0.5  # box drawing, Greek, Cyrillic, pinyin rows: rarely text


# Accented Latin letters that the languages using them write often; others (þ ý ð, Ì Ò…)
# are what a wrong code page produces.
_COMMON_LATIN = frozenset(
    "éèàçüöäßñáíóúãõâêôøåæîïëûùìòýœÉÈÀÇÜÖÄÑÁÍÓÚÃÕÂÊÔØÅÆÎÌÒÙÝ"
    "ıışğİŞĞ"  # Turkish
    "ðþÐÞ"  # Icelandic (scored a shade lower below: Turkish ğ ş is the likelier reading)
    "łśćżźńąęčšžřěůőűťďľĺŁŚĆŻŹŃĄĘČŠŽŘĚŮŐŰ"  # Central European
    "āēīūģķļņėįųĀĒĪŪĢĶĻŅĖĮŲ"  # Baltic
)
_TYPOGRAPHY = frozenset("’‘“”–—…•€™«»°·¡¿©®\u00a0§£¥´")
_ICELANDIC = frozenset("ðþÐÞ")
# Cyrillic letters of Serbian, Macedonian and Ukrainian: where a double-byte text read as
# Windows-1251 lands on most often, as its symbol rows hold them.
_RARE_CYRILLIC = frozenset("ђѓєѕіїјљњћќўџґЂЃЄЅІЇЈЉЊЋЌЎЏҐ")


def _single_byte_score(text: str, positions: list[int]) -> float:
    """Sum of per-character values of the non-ASCII characters at ``positions``."""
    total = 0.0
    end = len(text)
    for i in positions:
        char = text[i]
        prev = text[i - 1] if i else " "
        nxt = text[i + 1] if i + 1 < end else " "
        if char in _TYPOGRAPHY:
            # between ASCII or at a word's edge: typography; between 8-bit letters: a
            # double-byte text read one byte at a time
            if prev.isalpha() and nxt.isalpha() and not prev.isascii():
                total -= 0.3
            else:
                total += 1.0 if prev.isascii() and nxt.isascii() else 0.8
            continue
        if not char.isalpha():
            total += -2.0 if unicodedata.category(char) == "Cc" else -0.4
            continue
        o = ord(char)
        if o < 0x250:  # Latin
            value = (0.95 if char in _ICELANDIC else 1.0) if char in _COMMON_LATIN else 0.4
            if (prev.isascii() and prev.isalpha()) or (nxt.isascii() and nxt.isalpha()):
                total += value
            elif not prev.isascii() and not nxt.isascii() and prev.isalpha() and nxt.isalpha():
                total -= 0.3  # three accented letters in a row: rare in any Latin language
            else:
                total += value * 0.5
            if char.isupper() and prev.isalpha() and prev.islower():
                total -= 1.0
            elif char.islower() and nxt.isupper():
                total -= 1.0  # "żContraseńa": case does not change inside a word
            continue
        # Cyrillic, Greek, Hebrew, Arabic: words of letters of one script
        if (prev.isascii() and prev.isalpha()) or (nxt.isascii() and nxt.isalpha()):
            total -= 0.5
        elif not prev.isalpha() and not nxt.isalpha():
            total += 0.3  # a one-letter word: possible, but weak evidence
        elif char.isupper() and prev.isalpha():
            total += -1.0 if prev.islower() else 0.5
        else:
            total += 0.3 if char in _RARE_CYRILLIC else 1.0
    return total


def score(text: str, codec: str) -> float:
    """How plausible ``text`` is as ``codec``'s reading of some bytes, per non-ASCII byte."""
    positions = [m.start() for m in islice(_NON_ASCII.finditer(text), SAMPLE_CHARS)]
    if not positions:
        return 0.0
    if codec == "utf-8":  # only reached with stray bytes: valid sequences are evidence
        good = sum(len(text[i].encode("utf-8")) for i in positions if text[i] != "\ufffd")
        bad = sum(1 for i in positions if text[i] == "\ufffd")
        return (good - 3.0 * bad) / (good + bad)
    if codec in _CHINESE or codec in _JAPANESE or codec in _KOREAN:
        if codec in _CHINESE:
            family = "zh" if codec == "gb18030" else "zh-tw"
        else:
            family = "ja" if codec in _JAPANESE else "ko"
        total = 0.0
        weight = 0
        end = len(text)
        for i in positions:
            char = text[i]
            width = 1 if 0xFF61 <= ord(char) <= 0xFF9F or char == "\ufffd" else 2
            value = _cjk_value(char, family)
            prev = text[i - 1] if i else " "
            nxt = text[i + 1] if i + 1 < end else " "
            if prev.isascii() and nxt.isascii() and (prev.isalpha() or nxt.isalpha()):
                # one ideograph alone against a Latin letter: a double-byte reading of a
                # Western text that swallowed the letter after an accent or a no-break space
                value = min(value, 0.0) - 0.3
            total += value * width
            weight += width
        return total / weight
    return _single_byte_score(text, positions) / len(positions)


_WHATWG_1252 = "".join(
    bytes([b]).decode("cp1252", "strict") if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else chr(b)
    for b in range(256)
)


def decode_strict(data: bytes, codec: str) -> str | None:
    """``data`` in ``codec``, or None when it does not decode cleanly.

    ``cp1252`` is WHATWG's windows-1252 (the five holes read as the C1 controls of the same
    number, as browsers do), which is also what ISO-8859-1 and US-ASCII labels mean.
    """
    if codec == "cp1252":
        return codecs.charmap_decode(data, "strict", _WHATWG_1252)[0]
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def detect(data: bytes, hint: str | None = None) -> tuple[str, str]:
    """(text, codec) for non-ASCII bytes of unknown charset; never raises.

    Valid UTF-8 wins outright (multibyte UTF-8 is almost never valid by chance) and an
    ISO-2022-JP escape is unmistakable; otherwise every candidate is scored. ``hint`` (the
    codec the sender named, or the body's charset for a raw header) gets a small head start,
    enough to win a tie and no more.
    """
    if b"\x1b$" in data:
        text = decode_strict(data, "iso2022_jp")
        if text is not None:
            return text, "iso2022_jp"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    sample = _sample(data)
    high = len(_HIGH.findall(sample))
    # Double-byte text has most of its high bytes in pairs; Western text has them alone.
    # (Judged on 16 high bytes or more: a short header gets every candidate, it is cheap.)
    single = high >= 16 and 2 * len(_HIGH_PAIR.findall(sample)) < 0.3 * high
    best_codec, best = "", float("-inf")
    for codec in ("utf-8", *CANDIDATES):
        if single and codec in _DOUBLE_BYTE:
            continue
        if codec == "utf-8":
            if not _might_be_utf8(sample):
                continue
            text = sample.decode("utf-8", "replace")
        else:
            text = decode_strict(sample, codec) or sample.decode(codec, "replace")
        value = score(text, codec)
        if codec == hint:
            value += 0.1
        elif codec == "gb18030":
            value += 0.05  # this project's users: mainland Chinese mail is the likelier
        elif codec == "big5hkscs" and _no_big5_low_trails(sample):
            value -= 0.15
        if value > best:
            best_codec, best = codec, value
    best_text = decode_strict(data, best_codec) if best_codec != "utf-8" else None
    if best_text is None:
        best_text = data.decode(best_codec, "replace")
    return best_text, best_codec


SAMPLE_BYTES = 16_384  # bytes of a long text that the candidates are scored on


def _sample(data: bytes) -> bytes:
    """The lines of ``data`` around its first non-ASCII byte, about SAMPLE_BYTES of them:
    scoring a megabyte of mostly-ASCII text per candidate would cost more than the parse."""
    if len(data) <= SAMPLE_BYTES:
        return data
    first = _HIGH.search(data)
    at = first.start() if first else 0
    start = data.rfind(b"\n", 0, at) + 1
    end = data.find(b"\n", at + SAMPLE_BYTES)
    return data[start:] if end < 0 else data[start:end]


_DOUBLE_HIGH = re.compile(rb"[\x81-\xfe][\xa1-\xfe]")
_HIGH = re.compile(rb"[\x80-\xff]")
_HIGH_PAIR = re.compile(rb"[\x81-\xfe][\x80-\xfe]")


def _no_big5_low_trails(data: bytes) -> bool:
    """True when three or more double-byte characters all have a high second byte.

    About 40 % of Big5 characters have a second byte in 0x40-0x7E; GB2312 text never does.
    Three or more characters without one is GB text read as Big5 more often than not.
    """
    sample = data[:4096]
    pairs = len(_DOUBLE_HIGH.findall(sample))
    return pairs >= 3 and 2 * pairs >= len(_HIGH.findall(sample))


_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _might_be_utf8(data: bytes) -> bool:
    """At least two valid multibyte sequences: UTF-8 with stray bytes, worth scoring."""
    return len(_UTF8_SEQUENCE.findall(data, 0, 8192)) >= 2
