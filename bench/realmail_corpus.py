"""Where the shared real-mail corpus is, and its messages, for the benches that read it.

The corpus (``../shared/corpora/realmail`` beside the repository, or ``$XLCRM_REALMAIL``) is
other people's mail: it is read from there and never copied into the project.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT.parent / "shared" / "corpora" / "realmail"


def corpus_dir() -> Path:
    """The corpus folder: ``$XLCRM_REALMAIL`` when set, else ``../shared/corpora/realmail``."""
    return Path(os.environ.get("XLCRM_REALMAIL") or DEFAULT)


def messages(folder: Path | None = None) -> Iterator[tuple[dict[str, object], bytes]]:
    """Each (manifest entry, raw bytes), in manifest order.

    Raises SystemExit with a hint when the corpus is not there: the benches are run by hand
    and by ``.ci/run``, where a missing corpus is a setup mistake worth saying plainly.
    """
    folder = folder or corpus_dir()
    manifest = folder / "manifest.jsonl"
    if not manifest.is_file():
        raise SystemExit(
            f"real-mail corpus not found at {folder} (no manifest.jsonl); "
            "set XLCRM_REALMAIL to the folder that holds it"
        )
    with manifest.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                entry = json.loads(line)
                yield entry, (folder / "messages" / entry["file"]).read_bytes()
