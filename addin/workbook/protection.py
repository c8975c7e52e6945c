"""What a workbook file says about being changed: a locked structure, a digital signature.

Adding the CRM tables means adding sheets. Excel itself refuses to add a sheet to a workbook
whose structure is locked (Review › Protect Workbook), so xlcrm refuses too rather than slip
sheets past the owner's lock. A digitally signed package (File › Info › Protect Workbook › Add a
Digital Signature: parts under ``_xmlsignatures/``) stays readable, but any change breaks the
signature, which Excel then reports as invalid; that is the owner's call, so it needs ``--force``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .xlsx.package import Package

_LOCK = re.compile(rb'<(?:\w+:)?workbookProtection\b[^>]*?\slockStructure="(?:1|true)"')
_SIGNATURE_REL = b"/package/2006/relationships/digital-signature/"


@dataclass(frozen=True)
class Protection:
    """The owner's marks on a workbook that xlcrm must respect before it adds sheets."""

    structure_locked: bool = False
    signed: bool = False


def package_protection(pkg: Package, workbook_part: str) -> Protection:
    """Read the lock from the workbook part and the signature from the package's parts."""
    locked = bool(_LOCK.search(pkg.read(workbook_part)))
    signed = any(n.lower().startswith("_xmlsignatures/") for n in pkg.names)
    if not signed and "_rels/.rels" in pkg:
        signed = _SIGNATURE_REL in pkg.read("_rels/.rels")
    return Protection(structure_locked=locked, signed=signed)
