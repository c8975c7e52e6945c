"""Modified UTF-7, the encoding of IMAP folder names (RFC 3501 §5.1.3).

IMAP servers send ``已发送`` as ``&XfJT0ZAB-``: printable ASCII stands for itself (``&`` is
written ``&-``), anything else is UTF-16BE in base64 with ``,`` for ``/`` and no padding,
between ``&`` and ``-``. Dovecot also names Maildir++ folders on disk this way
(``.&XfJT0ZAB-``), while other servers and clients write the raw UTF-8 name (``.已发送``);
:func:`decode_folder_name` reads either.
"""

from __future__ import annotations

import base64
import binascii
import re

_RUN = re.compile(r"&([^-]*)-")
_B64 = re.compile(r"[A-Za-z0-9+,]*")


def encode_utf7(text: str) -> str:
    """``已发送`` → ``&XfJT0ZAB-``; ``R&D`` → ``R&-D``."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            data = "".join(run).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode("ascii").rstrip("=").replace("/", ","))
            out.append("-")
            run.clear()

    for char in text:
        if "\x20" <= char <= "\x7e":
            flush()
            out.append("&-" if char == "&" else char)
        else:
            run.append(char)
    flush()
    return "".join(out)


def decode_utf7(name: str) -> str:
    """``&XfJT0ZAB-`` → ``已发送``; raises ValueError when ``name`` is not modified UTF-7."""
    if not name.isascii():
        raise ValueError(f"not modified UTF-7 (has non-ASCII characters): {name!r}")
    out: list[str] = []
    pos = 0
    for match in _RUN.finditer(name):
        plain = name[pos : match.start()]
        if "&" in plain:
            raise ValueError(f"not modified UTF-7 ('&' without a closing '-'): {name!r}")
        out.append(plain)
        out.append(_decode_run(match.group(1), name))
        pos = match.end()
    rest = name[pos:]
    if "&" in rest:
        raise ValueError(f"not modified UTF-7 ('&' without a closing '-'): {name!r}")
    out.append(rest)
    return "".join(out)


def _decode_run(run: str, name: str) -> str:
    if not run:
        return "&"
    bad = ValueError(f"not modified UTF-7 (bad base64 run &{run}-): {name!r}")
    if not _B64.fullmatch(run) or len(run) % 4 == 1:
        raise bad
    padded = run.replace(",", "/") + "=" * (-len(run) % 4)
    try:
        data = base64.b64decode(padded, validate=True)
        if len(data) % 2:
            raise bad
        text = data.decode("utf-16-be")
    except (binascii.Error, UnicodeDecodeError):
        raise bad from None
    if base64.b64encode(data).decode("ascii").rstrip("=").replace("/", ",") != run:
        raise bad  # stray bits after the last character: not what an encoder writes
    return text


def decode_folder_name(name: str) -> str:
    """A folder name as found on disk or on a server: modified UTF-7 if it is, else as it is.

    A name that is not valid modified UTF-7 (it has raw UTF-8, or an ``&`` that starts no
    encoded run, like ``R&D``) is already the name a person reads.
    """
    if "&" not in name:
        return name
    try:
        return decode_utf7(name)
    except ValueError:
        return name
