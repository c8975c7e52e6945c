"""Where ``xlcrm addin setup`` keeps what it makes, and how ``xlcrm serve`` finds it.

Everything lives in the xlcrm home folder (``XLCRM_HOME``, else ``~/.xlcrm``): a home
folder stays on the computer, unlike a workbook, which is mailed around and must never hold
a key. The certificate authority's private key is written there and nowhere else.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import XlcrmError

HOME_ENV = "XLCRM_HOME"


def xlcrm_home() -> Path:
    """The xlcrm home folder: ``$XLCRM_HOME``, or ``.xlcrm`` in the user's home folder."""
    configured = os.environ.get(HOME_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".xlcrm"


@dataclass(frozen=True)
class HomeFiles:
    """The files of one xlcrm home folder, by what they are for."""

    home: Path

    @property
    def certs(self) -> Path:
        return self.home / "certs"

    @property
    def ca_cert(self) -> Path:
        """What people trust: ``.crt`` so Windows opens it and Debian's
        update-ca-certificates picks it up, PEM inside so every other tool reads it."""
        return self.certs / "xlcrm-ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.certs / "xlcrm-ca.key"

    @property
    def server_cert(self) -> Path:
        return self.certs / "server.crt"

    @property
    def server_key(self) -> Path:
        return self.certs / "server.key"

    @property
    def addin_id(self) -> Path:
        return self.home / "addin-id.txt"

    @property
    def manifest(self) -> Path:
        return self.home / "manifest.xml"

    @property
    def service_token(self) -> Path:
        """The per-install access token of the local service (mode 0600)."""
        return self.home / "service-token"


def server_ssl_paths(home: Path | None = None) -> tuple[Path, Path]:
    """``(certfile, keyfile)`` for the HTTPS service, as made by ``xlcrm addin setup``."""
    files = HomeFiles(home or xlcrm_home())
    missing = [p for p in (files.server_cert, files.server_key) if not p.is_file()]
    if missing:
        raise XlcrmError(
            str(missing[0]),
            "the service's certificate has not been made yet",
            f"run 'xlcrm addin setup --home {files.home}' once, then start 'xlcrm serve' again",
        )
    return files.server_cert, files.server_key


def write_file(path: Path, data: bytes, mode: int) -> None:
    """Write atomically (a half-written key would break the service), created with ``mode``
    from the start: a key is never readable by others, not even for a moment."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            if hasattr(os, "fchmod"):  # Windows has none: its files get the folder's ACL
                os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise XlcrmError(
            str(path), f"cannot write: {exc.strerror or exc}", "check the folder's permissions"
        ) from exc
