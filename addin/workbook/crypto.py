"""Password-protected workbooks (Excel's "Encrypt with Password"), via msoffcrypto-tool.

The password comes from ``XLCRM_BOOK_PASSWORD`` or a prompt on a terminal — never from a
file or the command line, where it would end up in shell history. The decrypted package only
ever lives in memory; saving encrypts it again with the same password (ECMA-376 agile
encryption, what current Excel writes).
"""

from __future__ import annotations

import getpass
import io
import os
import sys
from pathlib import Path

from ..errors import WorkbookError

PASSWORD_ENV = "XLCRM_BOOK_PASSWORD"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def is_encrypted(path: Path) -> bool:
    """An encrypted .xlsx is an OLE compound file holding an ``EncryptionInfo`` stream.

    An old Excel 97-2003 .xls is an OLE file too, without that stream: that is a format
    xlcrm does not write, and it says so instead of asking for a password.
    """
    with path.open("rb") as f:
        if f.read(8) != _OLE_MAGIC:
            return False
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            encrypted = ole.exists("EncryptionInfo") and ole.exists("EncryptedPackage")
    except OSError:
        encrypted = False
    if not encrypted:
        raise WorkbookError(
            str(path),
            "this is an Excel 97-2003 (.xls) or other non-.xlsx file",
            "open it in Excel or LibreOffice and save it as an Excel Workbook (.xlsx)",
        )
    return True


def book_password(path: Path) -> str:
    password = os.environ.get(PASSWORD_ENV)
    if password:
        return password
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(f"Password for {path.name}: ")
    raise WorkbookError(
        str(path),
        "the workbook is password-protected",
        f"set {PASSWORD_ENV} in the environment, or run the command in a terminal to be asked",
    )


def decrypt(path: Path, password: str) -> bytes:
    import msoffcrypto
    from msoffcrypto import exceptions

    with path.open("rb") as f:
        try:
            office = msoffcrypto.OfficeFile(f)
            office.load_key(password=password)
            out = io.BytesIO()
            office.decrypt(out)
        except exceptions.InvalidKeyError:
            raise WorkbookError(
                str(path),
                "wrong password for the workbook",
                f"check {PASSWORD_ENV} (or what you typed)",
            ) from None
        except (exceptions.FileFormatError, exceptions.DecryptionError) as exc:
            raise WorkbookError(
                str(path),
                f"cannot decrypt the workbook ({exc})",
                "only Excel's 'Encrypt with Password' (.xlsx) is supported",
            ) from None
    return out.getvalue()


def encrypt(plain: bytes, password: str) -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(plain)).encrypt(password, out)
    return out.getvalue()
