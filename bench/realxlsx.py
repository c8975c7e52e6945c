"""The real-workbook corpus check (issue 17): every file through the CRM's steps, then the package.

Each workbook of ``../shared/corpora/realxlsx`` (override: ``XLCRM_REALXLSX``) is copied to a
temporary folder and taken through what a new user does with a workbook they already have:

1. add the CRM tables (:func:`add_crm_tables`, the one place that says how);
2. import customers from a small CSV;
3. sync from a small local maildir;
4. ``report`` twice.

Then the saved package is checked by the packaging rules: a content type for every part, every
internal relationship resolving to a part, every XML part well-formed, and each of the user's
original parts byte-identical or changed only by insertion (a new ``<sheet>``, a relationship,
an override; a ``count`` attribute may change with them). A problem the original file already
had is not counted against xlcrm.

Outcome per file: ``ok``; ``refused`` (an ``XlcrmError``: its first line is the reason);
``damaged`` (a packaging rule broken by xlcrm); ``traceback`` (any other exception, or the worker
process dying). Files run in worker processes (``--jobs``, default 2) with a memory cap; a
sample is re-opened by LibreOffice (``--lo-sample``). Exit status 1 on any damaged file or
traceback, so ``.ci/run`` fails on them.

    .venv/bin/python bench/realxlsx.py [--jobs 2] [--lo-sample 12] [--verbose] [FILE...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from xml.etree import ElementTree as ET

ROOT = Path(__file__).resolve().parent.parent
CORPUS_ENV = "XLCRM_REALXLSX"
MEMORY_CAP = 3 * 1024**3  # per worker: a runaway read fails there, not on the machine
TODAY = dt.date(2026, 6, 30)
CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def corpus_dir() -> Path:
    """``$XLCRM_REALXLSX``, else ``../shared/corpora/realxlsx`` beside the checkout (or beside
    a folder holding it, as for a git worktree under ``wt/``)."""
    if os.environ.get(CORPUS_ENV):
        return Path(os.environ[CORPUS_ENV])
    for folder in ROOT.parents:
        candidate = folder / "shared" / "corpora" / "realxlsx"
        if candidate.is_dir():
            return candidate
    return ROOT.parent / "shared" / "corpora" / "realxlsx"


# -- the steps ----------------------------------------------------------------------------------


def add_crm_tables(path: Path) -> list[str]:
    """What ``xlcrm init BOOK`` does to a workbook the person already has: the CRM tables and
    Settings rows it lacks, as new sheets (``force``: a signed file is changed anyway, as a
    user who confirmed would)."""
    from addin.init import InitOptions, add_crm
    from addin.workbook import open_book

    with open_book(path) as book:
        report = add_crm(book, InitOptions(force=True))
    return [table for table, _, _ in report.tables]


CSV = (
    "Name,Company,Email,Phone,City\n"
    "王伟,华东贸易有限公司,wang.wei@huadong-trade.cn,+86 138 0013 8000,上海\n"
    "Anna Schmidt,Schmidt GmbH,anna@schmidt-gmbh.de,+49 30 1234567,Berlin\n"
    "Li Na,Pearl Imports,li.na@pearl-imports.hk,+852 2123 4567,Hong Kong\n"
)

MESSAGE = """\
From: {sender}
To: me@example.com
Subject: {subject}
Date: {date}
Message-ID: <{mid}@corpus.example>
Content-Type: text/plain; charset=utf-8

{body}
"""


def write_inputs(folder: Path) -> tuple[Path, Path]:
    csv = folder / "customers.csv"
    csv.write_text(CSV, encoding="utf-8")
    maildir = folder / "mail"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    messages = [
        ("wang.wei@huadong-trade.cn", "报价请求", "Mon, 01 Jun 2026 09:00:00 +0800", "q1"),
        ("anna@schmidt-gmbh.de", "Order 4711", "Tue, 02 Jun 2026 10:00:00 +0200", "q2"),
        ("stranger@unknown.example", "Hello", "Wed, 03 Jun 2026 11:00:00 +0000", "q3"),
    ]
    for n, (sender, subject, date, mid) in enumerate(messages):
        text = MESSAGE.format(sender=sender, subject=subject, date=date, mid=mid, body="Hi")
        (maildir / "cur" / f"{1780000000 + n}.{mid}.host:2,S").write_text(text, encoding="utf-8")
    return csv, maildir


def run_steps(path: Path, csv: Path, maildir: Path) -> None:
    from addin.importing import import_file
    from addin.mailsync import SyncOptions, sync_mailbox
    from addin.report import refresh_report
    from addin.workbook import open_book
    from sync.open import open_mailbox

    add_crm_tables(path)
    with open_book(path) as book:
        import_file(book, "customers", csv, today=TODAY)
    with open_book(path) as book:
        mailbox = open_mailbox(f"maildir:{maildir}", address="me@example.com")
        try:
            sync_mailbox(book, mailbox, SyncOptions(me=("me@example.com",)))
        finally:
            mailbox.close()
    for _ in range(2):
        now = dt.datetime.combine(TODAY, dt.time(12))
        with open_book(path) as book:
            refresh_report(book, today=TODAY, now=now)


# -- the package check --------------------------------------------------------------------------


def read_parts(data: bytes) -> dict[str, bytes]:
    """Every entry; a second entry of one name is kept as ``name (entry 2)``, so a save that
    silently drops it shows as a removed part."""
    parts: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for info in z.infolist():
            if info.filename.endswith("/"):
                continue
            name, n = info.filename, 1
            while name in parts:
                n += 1
                name = f"{info.filename} (entry {n})"
            parts[name] = z.read(info)
    return parts


def plain_bytes(path: Path, password: str | None) -> bytes:
    if password is None:
        return path.read_bytes()
    from addin.workbook import crypto

    return crypto.decrypt(path, password)


def problems(parts: dict[str, bytes]) -> set[str]:
    """What breaks the packaging rules in a package (one line each)."""
    out: set[str] = set()
    types = parts.get("[Content_Types].xml")
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}
    if types is None:
        out.add("no [Content_Types].xml")
    else:
        try:
            root = ET.fromstring(types)
            for el in root.iter(CT_NS + "Default"):
                defaults[el.get("Extension", "").lower()] = el.get("ContentType", "")
            for el in root.iter(CT_NS + "Override"):
                overrides[el.get("PartName", "").lstrip("/").lower()] = el.get("ContentType", "")
        except ET.ParseError as exc:
            out.add(f"[Content_Types].xml is not well-formed ({exc})")
    lower = {name.lower() for name in parts}
    for name, data in parts.items():
        if name == "[Content_Types].xml":
            continue
        ext = posixpath.splitext(name)[1].lstrip(".").lower()
        if name.lower() not in overrides and ext not in defaults:
            out.add(f"{name}: no content type")
        kind = overrides.get(name.lower()) or defaults.get(ext, "")
        if ext in ("xml", "rels", "vml") or kind.endswith("xml"):
            try:
                ET.fromstring(data)
            except ET.ParseError as exc:
                out.add(f"{name}: not well-formed XML ({exc})")
                continue
        if name.endswith(".rels"):
            folder, base = posixpath.split(name)
            source = posixpath.join(posixpath.dirname(folder), base[: -len(".rels")])
            try:
                rels = ET.fromstring(data)
            except ET.ParseError:
                continue
            for rel in rels.iter(REL_NS + "Relationship"):
                if rel.get("TargetMode") == "External":
                    continue
                target = rel.get("Target", "")
                target = target.split("#", 1)[0]
                if not target:
                    continue
                resolved = (
                    target.lstrip("/")
                    if target.startswith("/")
                    else posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
                )
                from urllib.parse import unquote

                if resolved.lower() not in lower and unquote(resolved).lower() not in lower:
                    out.add(f"{name}: {rel.get('Id')} -> {target} resolves to no part")
    return out


_EMPTY = re.compile(rb"<([\w:.-]+)([^<>]*?)\s*/>")
_VOLATILE = re.compile(rb'\s(?:count|uniqueCount|fullCalcOnLoad|ref|spans)="[^"]*"')


def inserted_only(old: bytes, new: bytes) -> bool:
    """``new`` is ``old`` with things inserted (counts and ranges may change along): walk
    both, matching common runs, and after each insertion find where ``old`` resumes."""
    if old == new:
        return True
    a, b = _normal(old), _normal(new)
    i = j = 0
    while i < len(a):
        n = _common(a, i, b, j)
        i, j = i + n, j + n
        if i == len(a):
            return True
        probe = a[i : i + 48]
        found = b.find(probe, j + 1)
        if found < 0:
            # Two insertions close together (a sheet, then a defined name right after
            # </sheets>) defeat the probe: decide it token by token instead.
            return _subsequence(_TOKEN.findall(a), _TOKEN.findall(b))
        j = found
    return True


_TOKEN = re.compile(rb"<[^>]*>|[^<]+")


def _subsequence(old: list[bytes], new: list[bytes]) -> bool:
    """Whether ``old``'s tags and texts all appear in ``new``, in order (greedy matching
    decides that exactly)."""
    tokens = iter(new)
    return all(any(token == seen for seen in tokens) for token in old)


def _normal(xml: bytes) -> bytes:
    """Without the attributes that change along with an insertion, and with empty elements
    spelled open-and-close, so filling ``<numFmts count="0"/>`` reads as an insertion."""
    xml = _VOLATILE.sub(b"", xml)
    return _EMPTY.sub(rb"<\1\2></\1>", xml)


def _common(a: bytes, i: int, b: bytes, j: int) -> int:
    """Length of the common prefix of a[i:] and b[j:] (binary search on slice equality)."""
    lo, hi = 0, min(len(a) - i, len(b) - j)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[i : i + mid] == b[j : j + mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


_SHEET = re.compile(rb'<(?:[\w.-]+:)?sheet\b[^>]*?\sname="([^"]*)"')  # names are unique
_SHEET_INDEX = re.compile(rb'\b(activeTab|firstSheet|localSheetId)="(\d+)"')


def renumbered(before: bytes, after: bytes) -> bytes:
    """``after`` (a workbook part) with its sheet indexes put back to ``before``'s numbering.

    A sheet inserted before others (the Dashboard goes first) moves every later sheet's
    index, and Excel's indexes must move with it: the tab the workbook opens on
    (``activeTab``, ``firstSheet``) and each print area or other sheet-local name
    (``localSheetId``). That is the insertion done right, not a change to the user's data, so
    the check maps each index of a sheet the user had back to its old place first."""
    old = _SHEET.findall(before)
    new = _SHEET.findall(after)
    if not old or old == new:
        return after
    place = {name: index for index, name in enumerate(old)}
    moved = {n: place[name] for n, name in enumerate(new) if name in place}

    def back(match: re.Match[bytes]) -> bytes:
        index = int(match[2])
        return b'%s="%d"' % (match[1], moved.get(index, index))

    return _SHEET_INDEX.sub(back, after)


def check_package(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    found = sorted(problems(after) - problems(before))
    for name, data in before.items():
        if name not in after:
            found.append(f"{name}: removed")
        elif not inserted_only(data, renumbered(data, after[name])):
            found.append(f"{name}: changed, not only by insertion")
    return found


# -- one file -----------------------------------------------------------------------------------


def passwords() -> dict[str, str]:
    path = corpus_dir() / "passwords.txt"
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            name, password = line.split("\t", 1)
            out[name.strip()] = password.strip()
    return out


def check_file(source: Path, password: str | None, keep: Path | None = None) -> dict[str, object]:
    """Run one workbook through the steps and the check; ``keep``: where to copy an ok result."""
    from addin.errors import XlcrmError

    with tempfile.TemporaryDirectory(prefix="xlcrm-realxlsx-") as tmp:
        folder = Path(tmp)
        csv, maildir = write_inputs(folder)
        book = folder / ("book" + source.suffix.lower())
        shutil.copyfile(source, book)
        if password is not None:
            os.environ["XLCRM_BOOK_PASSWORD"] = password
        else:
            os.environ.pop("XLCRM_BOOK_PASSWORD", None)
        try:
            run_steps(book, csv, maildir)
        except XlcrmError as exc:
            unchanged = book.read_bytes() == source.read_bytes()
            reason = str(exc).replace(str(book), source.name)
            return {
                "outcome": "refused" if unchanged else "damaged",
                "reason": reason if unchanged else f"refused after writing: {reason}",
            }
        except Exception:
            return {"outcome": "traceback", "reason": traceback.format_exc(limit=6)}
        try:
            before = read_parts(plain_bytes(source, password))
            after = read_parts(plain_bytes(book, password))
        except Exception as exc:
            return {"outcome": "damaged", "reason": f"the result is not a package: {exc}"}
        found = check_package(before, after)
        if found:
            return {"outcome": "damaged", "reason": "; ".join(found[:5])}
        if keep is not None:
            shutil.copyfile(book, keep)
        return {"outcome": "ok"}


def worker(files: list[str]) -> None:
    """Check ``files`` in this process, one JSON line per file (started by :func:`main`)."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    sys.path.insert(0, str(ROOT))
    secrets = passwords()
    for name in files:
        path = Path(name)
        started = time.perf_counter()
        print(json.dumps({"file": path.name, "start": True}), flush=True)
        result = check_file(path, secrets.get(path.name))
        result["file"] = path.name
        result["seconds"] = round(time.perf_counter() - started, 2)
        print(json.dumps(result, ensure_ascii=False), flush=True)


def run_batch(files: list[Path]) -> list[dict[str, object]]:
    """Run a batch in a worker process; a file that kills the worker is a ``traceback`` and
    the rest of the batch goes on in a new one."""
    results: list[dict[str, object]] = []
    todo = [str(f) for f in files]
    while todo:
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", *todo],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        current = None
        for line in proc.stdout.splitlines():
            if not line.startswith("{"):
                continue
            item = json.loads(line)
            if item.get("start"):
                current = item["file"]
            else:
                results.append(item)
                current = None
        done = {r["file"] for r in results}
        todo = [f for f in todo if Path(f).name not in done]
        if current is not None:
            tail = proc.stderr.strip().splitlines()[-3:]
            results.append(
                {
                    "file": current,
                    "outcome": "traceback",
                    "reason": f"the process died (exit {proc.returncode}): " + " | ".join(tail),
                }
            )
            todo = [f for f in todo if Path(f).name != current]
        elif proc.returncode != 0 and todo:
            raise SystemExit(f"worker failed: {proc.stderr[-2000:]}")
    return results


def libreoffice_reopens(files: list[Path]) -> dict[str, str]:
    """Convert each saved workbook with LibreOffice; what it could not open."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return {f.name: "LibreOffice is not installed" for f in files}
    failed = {}
    with tempfile.TemporaryDirectory(prefix="xlcrm-lo-") as tmp:
        profile = Path(tmp) / "profile"
        for f in files:
            out = Path(tmp) / "out"
            proc = subprocess.run(
                [
                    soffice,
                    f"-env:UserInstallation=file://{profile}",
                    "--headless",
                    "--convert-to",
                    "csv",
                    "--outdir",
                    str(out),
                    str(f),
                ],
                capture_output=True,
                text=True,
                timeout=120,
            )
            if not (out / (f.stem + ".csv")).is_file():
                failed[f.name] = (proc.stderr or proc.stdout).strip()[-300:] or "no output"
            shutil.rmtree(out, ignore_errors=True)
    return failed


def lo_sample(files: list[Path], results: dict[str, dict[str, object]], n: int) -> dict[str, str]:
    """Re-run ``n`` evenly spread ok files, keep their results, and let LibreOffice open them."""
    ok = [f for f in files if results.get(f.name, {}).get("outcome") == "ok"]
    if n <= 0 or not ok:
        return {}
    step = max(1, len(ok) // n)
    sample = ok[::step][:n]
    secrets = passwords()
    kept_dir = Path(tempfile.mkdtemp(prefix="xlcrm-lo-sample-"))
    try:
        saved = []
        for f in sample:
            if f.name in secrets:
                continue  # LibreOffice would ask for the password
            target = kept_dir / f.name
            if check_file(f, None, keep=target)["outcome"] == "ok":
                saved.append(target)
        return libreoffice_reopens(saved) | {"(sampled)": str(len(saved))}
    finally:
        shutil.rmtree(kept_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("files", nargs="*", type=Path, help="default: the whole corpus")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--lo-sample", type=int, default=12)
    parser.add_argument("--verbose", action="store_true", help="one line per file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker([str(f) for f in args.files])
        return 0
    sys.path.insert(0, str(ROOT))
    files = args.files or sorted(
        p
        for p in corpus_dir().iterdir()
        if p.suffix.lower() in (".xlsx", ".xlsm", ".xltx", ".xltm")
    )
    if not files:
        print(f"no workbooks in {corpus_dir()} (set {CORPUS_ENV})", file=sys.stderr)
        return 2
    started = time.perf_counter()
    batches = [files[i :: args.jobs * 4] for i in range(args.jobs * 4)]
    with ThreadPoolExecutor(args.jobs) as pool:
        results = {r["file"]: r for batch in pool.map(run_batch, batches) for r in batch}
    elapsed = time.perf_counter() - started
    counts = Counter(str(r["outcome"]) for r in results.values())
    for outcome in ("refused", "damaged", "traceback"):
        for name in sorted(n for n, r in results.items() if r["outcome"] == outcome):
            reason = str(results[name].get("reason", "")).strip()
            if outcome != "traceback":
                reason = (
                    reason.splitlines()[0]
                    if outcome == "damaged"
                    else " / ".join(line.strip() for line in reason.splitlines())
                )
            print(f"{outcome:<9} {name}: {reason}")
    if args.verbose:
        for name in sorted(n for n, r in results.items() if r["outcome"] == "ok"):
            print(f"ok        {name} ({results[name].get('seconds')} s)")
    lo_failed = lo_sample(files, results, args.lo_sample)
    sampled = lo_failed.pop("(sampled)", "0")
    for name, why in lo_failed.items():
        print(f"damaged   {name}: LibreOffice cannot open the result ({why})")
        counts["damaged"] += 1
        counts["ok"] -= 1
    print(
        f"\n{len(results)} workbooks in {elapsed:.0f} s ({args.jobs} jobs): "
        + ", ".join(f"{counts[k]} {k}" for k in ("ok", "refused", "damaged", "traceback"))
        + f"; LibreOffice re-opened {int(sampled) - len(lo_failed)} of {sampled} sampled"
    )
    return 1 if counts["damaged"] or counts["traceback"] else 0


if __name__ == "__main__":
    sys.exit(main())
