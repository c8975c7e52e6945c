"""``xlcrm addin setup`` as a library function: certificates, add-in id and manifest.

Running it again is safe and cheap: what is still good is kept (so nobody has to trust a new
authority), and the manifest is written again for the URL given, under the same add-in id, so
Excel updates the installed add-in instead of showing a second one.
"""

from __future__ import annotations

import urllib.parse
import uuid
from pathlib import Path

from ..errors import UsageError, XlcrmError
from .certs import LOOPBACK, ensure_certificates
from .home import HomeFiles, write_file, xlcrm_home
from .instructions import Made
from .manifest import build_manifest, check_base_url
from .token import install_token

DEFAULT_URL = "https://localhost:8443"


def addin_id(files: HomeFiles) -> str:
    """The add-in's id, made once and kept in the home folder (even by ``--force``)."""
    try:
        text = files.addin_id.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise XlcrmError(str(files.addin_id), f"cannot read the add-in id: {exc}") from exc
    if text:
        try:
            return str(uuid.UUID(text))
        except ValueError as exc:
            raise XlcrmError(
                str(files.addin_id),
                f"not an add-in id (a GUID): {text[:60]!r}",
                "delete the file to make a new id; Excel will then show the add-in as a new one",
            ) from exc
    made = str(uuid.uuid4())
    write_file(files.addin_id, f"{made}\n".encode("ascii"), 0o644)
    return made


def setup(
    url: str = DEFAULT_URL,
    *,
    home: Path | None = None,
    out: Path | None = None,
    force: bool = False,
) -> Made:
    """Make (or keep) the certificates for ``url``'s host, the local service's access
    token, and write its manifest."""
    base = check_base_url(url)
    parsed = urllib.parse.urlsplit(base)
    host = parsed.hostname or ""
    files = HomeFiles((home or xlcrm_home()).expanduser().absolute())
    if files.home.exists() and not files.home.is_dir():
        raise UsageError(f"--home {files.home}", "is a file, not a folder")
    certs = ensure_certificates(files, host, force=force)
    ident = addin_id(files)
    install_token(files.home)  # the local service's access token (docs/security.md)
    manifest = build_manifest(base, addin_id=ident)
    write_file(files.manifest, manifest, 0o644)
    copies: tuple[Path, ...] = ()
    if out is not None:
        target = out / "manifest.xml" if out.is_dir() else out
        write_file(target.absolute(), manifest, 0o644)
        copies = (target.absolute(),)
    return Made(
        url=base,
        host=host,
        port=parsed.port or 443,
        loopback=host.lower() in LOOPBACK,
        files=files,
        certs=certs,
        addin_id=ident,
        copies=copies,
    )
