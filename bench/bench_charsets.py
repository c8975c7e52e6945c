#!/usr/bin/env python
"""Charset detection on real mail: our rules against charset-normalizer, on the same samples.

The samples come from the shared real-mail corpus (``../shared/corpora/realmail`` or
``$XLCRM_REALMAIL``; read in place, never copied). A sample is a piece of text whose sender
labelled it and whose bytes decode cleanly under that label: the body of a text part (after
its transfer encoding) and the bytes of an RFC 2047 encoded-word in Subject/From/To. The
label is the answer; each detector sees the bytes *without* it and is right when its text is
the labelled text, character for character (ISO-8859-1 read as Windows-1252, as WHATWG says).
The corpus's Japanese is mostly 7-bit ISO-2022-JP, so each such sample is also re-encoded
as Shift_JIS and EUC-JP (kinds marked ``*``): real Japanese text, in the 8-bit charsets
Japanese mail also arrives in.

Printed per kind (body / header word) and per script family, with the time each detector
takes. Samples are deduplicated by their bytes; ASCII-only ones are left out (nothing to
detect). Mislabelled mail exists in the corpus too, so neither detector can reach 100 %.

    python bench/bench_charsets.py
"""

from __future__ import annotations

import argparse
import binascii
import email
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from email.message import Message
from email.policy import compat32
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from bench.realmail_corpus import corpus_dir, messages
from sync.message.charsets import codec_for
from sync.message.detect import CANDIDATES, decode_strict, detect, score

_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?]*)\?=")
FAMILY = {
    "utf-8": "UTF-8",
    "gb18030": "Chinese",
    "big5hkscs": "Chinese",
    "cp950": "Chinese",
    "big5": "Chinese",
    "cp932": "Japanese",
    "shift_jis": "Japanese",
    "euc_jp": "Japanese",
    "iso2022_jp": "Japanese",
    "cp949": "Korean",
    "euc_kr": "Korean",
    "iso2022_kr": "Korean",
}


def family(codec: str) -> str:
    if codec in FAMILY:
        return FAMILY[codec]
    if codec in ("cp1251", "koi8-r", "koi8-u", "iso8859-5", "cp866"):
        return "Cyrillic"
    return "single-byte other"


def samples(limit_body: int) -> list[tuple[str, str, bytes, str]]:
    """(kind, codec, bytes, text) for every labelled, cleanly decoding, non-ASCII sample."""
    found: dict[bytes, tuple[str, str, bytes, str]] = {}

    def add(kind: str, label: str, data: bytes) -> None:
        if data in found or (data.isascii() and not label.lower().startswith("iso-2022")):
            return
        codec = codec_for(label)[0]
        if codec is None:
            return
        text = decode_strict(data, codec)
        if text is None or any("\x80" <= c <= "\x9f" for c in text):
            return
        if (
            codec not in ("utf-8", "gb18030")
            and not data.isascii()
            and decode_strict(data, "utf-8") is not None
        ):
            return  # valid UTF-8 under another label: the label is what is wrong
        found[data] = (kind, codec, data, text)
        if codec == "iso2022_jp":  # the corpus's Japanese is 7-bit: the same text in 8 bits
            for other in ("cp932", "euc_jp"):
                with contextlib.suppress(UnicodeEncodeError):
                    found[text.encode(other)] = (kind + "*", other, text.encode(other), text)

    for _, raw in messages(corpus_dir()):
        message = email.message_from_bytes(raw, policy=compat32)
        for part in message.walk():
            if not isinstance(part, Message):
                continue
            for name in ("subject", "from", "to"):
                for value in part.get_all(name) or []:
                    if not isinstance(value, str):
                        continue
                    for label, encoding, text in _WORD.findall(value):
                        try:
                            if encoding in "bB":
                                data = binascii.a2b_base64(text.encode("ascii", "ignore"))
                            else:
                                data = binascii.a2b_qp(text.encode("ascii", "ignore"), header=True)
                        except (binascii.Error, ValueError):
                            continue
                        add("header", label, data)
            label = part.get_param("charset")
            if part.get_content_maintype() != "text" or not isinstance(label, str):
                continue
            try:
                payload = part.get_payload(decode=True)
            except Exception:
                continue
            if isinstance(payload, bytes) and payload:
                add("body", label, payload[:limit_body])
    return list(found.values())


def ours(data: bytes) -> str:
    return detect(data)[0]


def normalizer(data: bytes) -> str:
    import charset_normalizer

    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        return data.decode("utf-8", "replace")
    text = str(best)
    if best.encoding in ("latin_1", "iso8859_1", "ascii"):
        text = data.decode("cp1252", "replace")
    return text


DETECTORS: dict[str, Callable[[bytes], str]] = {"ours": ours, "charset-normalizer": normalizer}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--body-bytes", type=int, default=16_384, help="bytes of each body")
    parser.add_argument("--show", type=int, default=0, help="print up to N misses per detector")
    parser.add_argument("--scores", action="store_true", help="with --show: our scores per miss")
    args = parser.parse_args(argv)
    found = samples(args.body_bytes)
    by_codec = Counter(codec for _, codec, _, _ in found)
    print(f"{len(found):,} labelled non-ASCII samples from {corpus_dir()}")
    print("  labels: " + ", ".join(f"{c} {n}" for c, n in by_codec.most_common()))
    right: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    total: Counter[tuple[str, str]] = Counter()
    seconds: dict[str, float] = defaultdict(float)
    misses: dict[str, list[str]] = defaultdict(list)
    for kind, codec, data, text in found:
        key = (kind, family(codec))
        total[key] += 1
        for name, detector in DETECTORS.items():
            start = time.perf_counter()
            guess = detector(data)
            seconds[name] += time.perf_counter() - start
            if guess == text:
                right[name][key] += 1
            elif len(misses[name]) < args.show:
                at = next((i for i, (a, b) in enumerate(zip(text, guess)) if a != b), 0)
                at = max(0, at - 15)
                misses[name].append(
                    f"{kind} {codec}: {text[at : at + 40]!r} → {guess[at : at + 40]!r}"
                )
                if args.scores and name == "ours":
                    misses[name][-1] += "\n      " + " ".join(
                        f"{c}={score(decode_strict(data, c) or data.decode(c, 'replace'), c):.2f}"
                        for c in CANDIDATES
                    )
    names = list(DETECTORS)
    print(f"\n  {'kind':<8}{'script':<19}{'samples':>8}" + "".join(f"{n:>20}" for n in names))
    for key in sorted(total):
        n = total[key]
        cells = "".join(f"{right[d][key] / n:>19.1%} " for d in names)
        print(f"  {key[0]:<8}{key[1]:<19}{n:>8}{cells}")
    for kind in ("header", "body", "header*", "body*"):
        n = sum(v for k, v in total.items() if k[0] == kind)
        cells = "".join(
            f"{sum(v for k, v in right[d].items() if k[0] == kind) / max(n, 1):>19.1%} "
            for d in names
        )
        print(f"  {kind:<8}{'all':<19}{n:>8}{cells}")
    print("\n  time: " + ", ".join(f"{n} {seconds[n]:.2f} s" for n in names))
    for name in names:
        for line in misses[name]:
            print(f"  miss ({name}): {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
