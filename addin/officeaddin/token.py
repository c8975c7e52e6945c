"""The per-install access token of a local ``xlcrm serve``.

Every API call carries a token, on localhost too: a web page the user happens to open can send
requests to 127.0.0.1, but it cannot read a file in the user's xlcrm home folder, nor (no CORS
is granted) the answer of ``/api/v1/session`` that hands the token to the add-in's own pages.
The token is made once, by ``xlcrm addin setup`` or the first ``xlcrm serve``, and kept readable
by its owner only; a shared service is given its own with ``--token-file`` or
``$XLCRM_SERVICE_TOKEN`` instead (``docs/security.md``).
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from ..errors import XlcrmError
from .home import HomeFiles, write_file, xlcrm_home


def install_token(home: Path | None = None) -> str:
    """The token in the xlcrm home folder, made now if there is none yet."""
    path = HomeFiles(home or xlcrm_home()).service_token
    try:
        with open(path, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            text = handle.read(4096).decode("ascii", "replace").strip()
    except FileNotFoundError:
        made = secrets.token_urlsafe(32)
        write_file(path, f"{made}\n".encode("ascii"), 0o600)
        return made
    except OSError as exc:
        raise XlcrmError(str(path), f"cannot read the service's token: {exc.strerror}") from exc
    if os.name != "nt" and stat.S_IMODE(mode) & 0o077:
        raise XlcrmError(
            str(path),
            "the service's token can be read by other users of this computer",
            f"run 'chmod 600 {path}', or delete the file to make a new token",
        )
    if len(text) < 16:
        raise XlcrmError(
            str(path),
            "the service's token is missing or too short",
            "delete the file; the next 'xlcrm serve' makes a new one",
        )
    return text
