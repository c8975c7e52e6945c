#!/usr/bin/env python
"""Benchmark: a large CRM workbook read and written through the file backend, against anchors.

Builds (once, then cached) a workbook with 100,000 customers and 300,000 interactions through
xlcrm's own API (``create_workbook``, one ``insert_all`` per table, ``save``), then measures:

(a) read   — ``open_book`` + ``rows()`` of Customers and Interactions + an e-mail → customer id
             index, against a bare python-calamine read of the same two sheets (the floor).
             Target: at most 1.5 × the floor.
(b) write  — ``open_book``, ``update`` 1,000 customers, ``upsert_all`` 1,000 interactions (500
             new, 500 existing), ``save``; against openpyxl ``load_workbook`` + the same cell
             changes + ``save``. Target: at least 5 × faster, and lossless (every part of the
             package outside the two changed sheets and their tables byte-identical; every cell
             of those sheets that was not changed still holding its value).

Every timed run is a fresh Python process (``_child``) that also reports its peak RSS, so runs
cannot warm each other's heaps and memory is measured per run. Usage and recorded results:
``bench/README.md``; ``python bench/bench_workbook.py --help``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import pickle
import platform
import posixpath
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fake_crm  # noqa: E402  (the bench folder is not a package)

DEFAULT_CACHE = HERE / ".cache"
READ_TARGET = 1.5  # ours / floor, at most
WRITE_TARGET = 5.0  # openpyxl / ours, at least
MB = 1024 * 1024


# ---------------------------------------------------------------------------------------------
# Child processes: one timed measurement each, result as one JSON line on stdout


def _peak_rss() -> int:
    """Peak resident set size of this process so far, in bytes.

    Linux: ``VmHWM`` of /proc/self/status. Not ``ru_maxrss``, which a child process inherits
    from its parent across fork and exec: a child started by a parent holding 1 GB would
    report at least 1 GB.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


def child_build(args: dict[str, Any]) -> dict[str, Any]:
    """Build the workbook through xlcrm's API: create, insert_all per table, save."""
    from addin.init import create_workbook
    from addin.workbook import open_book

    path = Path(args["path"])
    n_c, n_i, seed = args["customers"], args["interactions"], args["seed"]
    times: dict[str, float] = {}
    t = time.perf_counter()
    customers = [fake_crm.customer(n, seed) for n in range(1, n_c + 1)]
    interactions = [fake_crm.interaction(n, n_c, seed) for n in range(1, n_i + 1)]
    times["generate rows (not xlcrm)"] = time.perf_counter() - t
    base = _peak_rss()

    t0 = t = time.perf_counter()
    create_workbook(path, args["lang"])
    times["create_workbook"] = time.perf_counter() - t
    t = time.perf_counter()
    book = open_book(path, backups=0)
    table = book.table("customers")
    times["open_book + table()"] = time.perf_counter() - t
    t = time.perf_counter()
    table.insert_all(customers)
    times["customers.insert_all"] = time.perf_counter() - t
    t = time.perf_counter()
    book.table("interactions").insert_all(interactions)
    times["interactions.insert_all"] = time.perf_counter() - t
    t = time.perf_counter()
    book.save()
    times["save"] = time.perf_counter() - t
    book.close()
    times["total (xlcrm)"] = time.perf_counter() - t0
    return {"times": times, "rss_base": base, "rss_peak": _peak_rss()}


def child_floor(args: dict[str, Any]) -> dict[str, Any]:
    """The floor of (a): python-calamine reads the two sheets into Python lists, nothing more."""
    import python_calamine

    base = _peak_rss()
    cpu0 = time.process_time()
    t = time.perf_counter()
    wb = python_calamine.CalamineWorkbook.from_path(args["path"])
    sheets = [wb.get_sheet_by_name(name).to_python() for name in args["sheets"]]
    seconds = time.perf_counter() - t
    return {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu0,
        "rows": [len(s) - 1 for s in sheets],
        "rss_base": base,
        "rss_peak": _peak_rss(),
    }


def child_ours_read(args: dict[str, Any]) -> dict[str, Any]:
    """(a) ours: open_book, every row of both tables as dicts, an e-mail → customer id index."""
    from addin.workbook import open_book

    base = _peak_rss()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    book = open_book(args["path"])
    try:
        customers = list(book.table("customers").rows())
        t1 = time.perf_counter()
        interactions = list(book.table("interactions").rows())
        t2 = time.perf_counter()
        by_email: dict[str, str] = {}
        for row in customers:
            for address in (row["email"] or "").split(";"):
                address = address.strip().lower()
                if address:
                    by_email.setdefault(address, row["id"])
        t3 = time.perf_counter()
    finally:
        book.close()
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu0,
        "split": {"customers": t1 - t0, "interactions": t2 - t1, "email index": t3 - t2},
        "rows": [len(customers), len(interactions)],
        "emails": len(by_email),
        "rss_base": base,
        "rss_peak": _peak_rss(),
    }


def child_ours_write(args: dict[str, Any]) -> dict[str, Any]:
    """(b) ours: open, update customers, upsert interactions, save (atomic, with backup)."""
    from addin.workbook import open_book

    with open(args["changes"], "rb") as f:
        changes = pickle.load(f)
    base = _peak_rss()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    book = open_book(args["path"])
    customers = book.table("customers")
    interactions = book.table("interactions")
    t1 = time.perf_counter()
    updated = sum(customers.update(pk, row) for pk, row in changes["customer_updates"])
    counts = interactions.upsert_all(changes["interaction_rows"], pk="id")
    t2 = time.perf_counter()
    book.save()
    t3 = time.perf_counter()
    book.close()
    return {
        "seconds": t3 - t0,
        "cpu_seconds": time.process_time() - cpu0,
        "split": {"open + read tables": t1 - t0, "update + upsert": t2 - t1, "save": t3 - t2},
        "customers_updated": updated,
        "upsert": {"inserted": counts.inserted, "updated": counts.updated},
        "rss_base": base,
        "rss_peak": _peak_rss(),
    }


def child_openpyxl_write(args: dict[str, Any]) -> dict[str, Any]:
    """(b) anchor: openpyxl load_workbook (normal mode: it has to save), same cells, save."""
    import copy

    import openpyxl
    from openpyxl.utils.cell import get_column_letter, range_boundaries

    with open(args["changes"], "rb") as f:
        changes = pickle.load(f)
    cells = changes["cells"]
    base = _peak_rss()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    wb = openpyxl.load_workbook(args["path"])
    t1 = time.perf_counter()

    def locate(ws: Any) -> tuple[dict[Any, int], dict[Any, int]]:
        """header → column number, id (first column) → row number."""
        columns = {c.value: c.column for c in ws[1]}
        first = ws.iter_rows(min_row=2, max_col=1, values_only=True)
        return columns, {v: r for r, (v,) in enumerate(first, start=2)}

    ws = wb[changes["sheets"]["customers"]]
    columns, rows = locate(ws)
    for pk, row in cells["customers"].items():
        for header, value in row.items():
            ws.cell(rows[pk], columns[header]).value = value
    ws = wb[changes["sheets"]["interactions"]]
    columns, rows = locate(ws)
    for pk, row in cells["interactions_update"].items():
        for header, value in row.items():
            ws.cell(rows[pk], columns[header]).value = value
    table = ws.tables[changes["table_names"]["interactions"]]
    c1, r1, c2, r2 = range_boundaries(table.ref)
    template = [ws.cell(r2, c)._style for c in range(c1, c2 + 1)]  # new rows look like the last
    for r, values in enumerate(cells["interactions_new"], start=r2 + 1):
        for j, value in enumerate(values):
            cell = ws.cell(r, c1 + j)
            cell.value = value
            cell._style = copy.copy(template[j])
    ref = (
        f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2 + len(cells['interactions_new'])}"
    )
    table.ref = ref
    if table.autoFilter is not None:
        table.autoFilter.ref = ref
    t2 = time.perf_counter()
    wb.save(args["path"])
    t3 = time.perf_counter()
    return {
        "seconds": t3 - t0,
        "cpu_seconds": time.process_time() - cpu0,
        "split": {"load_workbook": t1 - t0, "cell changes": t2 - t1, "save": t3 - t2},
        "rss_base": base,
        "rss_peak": _peak_rss(),
    }


CHILDREN = {
    "build": child_build,
    "floor": child_floor,
    "ours-read": child_ours_read,
    "ours-write": child_ours_write,
    "openpyxl-write": child_openpyxl_write,
}


def run_child(kind: str, **args: Any) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return what it reported."""
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "_child", kind, json.dumps(args)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bench: the {kind} run failed (exit {proc.returncode})")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    report["load_after"] = os.getloadavg()[0]  # other processes on the machine skew wall time
    return report


# ---------------------------------------------------------------------------------------------
# The workbook, built once per set of parameters


def cached_workbook(opts: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    """The benchmark workbook (built if missing or --rebuild) and its build report."""
    version = metadata.version("xlcrm")
    key = (
        f"crm-{opts.lang}-c{opts.customers}-i{opts.interactions}-s{opts.seed}"
        f"-g{fake_crm.GENERATOR_VERSION}-x{version}"
    )
    cache = Path(opts.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{key}.xlsx"
    report_path = cache / f"{key}.build.json"
    if path.is_file() and report_path.is_file() and not opts.rebuild:
        report = json.loads(report_path.read_text())
        report["cached"] = True
        return path, report
    building = cache / f".building-{key}.xlsx"
    building.unlink(missing_ok=True)
    say(f"building {path.name} through xlcrm's API (create, insert_all, save)…")
    result = run_child(
        "build",
        path=str(building),
        customers=opts.customers,
        interactions=opts.interactions,
        lang=opts.lang,
        seed=opts.seed,
    )
    building.replace(path)
    report = {
        "times": result["times"],
        "rss_peak_mb": result["rss_peak"] / MB,
        "rss_rows_mb": result["rss_base"] / MB,  # the generated rows, before xlcrm starts
        "file_mb": path.stat().st_size / MB,
        "built": dt.datetime.now().isoformat(timespec="seconds"),
    }
    report_path.write_text(json.dumps(report, indent=2))
    report["cached"] = False
    return path, report


# ---------------------------------------------------------------------------------------------
# The change set for (b), identical for xlcrm and openpyxl


def make_changes(opts: argparse.Namespace) -> dict[str, Any]:
    """1,000 customer updates and 1,000 interaction upserts (half existing rows, half new).

    xlcrm gets what a caller would pass (canonical values, whole rows for the upsert); openpyxl
    gets the cells that change, in the sheet's own terms (headers, labels of the language).
    """
    from addin.schema import CUSTOMERS, INTERACTIONS
    from addin.workbook.values import cell_value

    rng = random.Random(opts.seed * 7 + 1)
    n_c, n_i, lang = opts.customers, opts.interactions, opts.lang
    n_updates = min(opts.changes, n_c)
    existing = min(opts.changes // 2, n_i)
    new = opts.changes - existing
    today = dt.date(2026, 3, 2)

    def header(spec: Any, key: str) -> str:
        return spec.column(key).header(lang)

    customer_updates = []
    cells_customers = {}
    for n in rng.sample(range(1, n_c + 1), n_updates):
        row = {"last_contact": today - dt.timedelta(days=n % 30), "notes": fake_crm.new_note(n)}
        customer_updates.append((fake_crm.customer_id(n), row))
        cells_customers[fake_crm.customer_id(n)] = {header(CUSTOMERS, k): v for k, v in row.items()}

    rows = []
    cells_update = {}
    for n in rng.sample(range(1, n_i + 1), existing):
        # The whole row, as a sync would pass it: two columns differ from what is stored.
        row = fake_crm.interaction(n, n_c, opts.seed)
        row["summary"] = fake_crm.new_summary(n)
        row["folder"] = "归档" if n % 2 else "Archive"
        rows.append(row)
        cells_update[row["id"]] = {header(INTERACTIONS, k): row[k] for k in ("summary", "folder")}
    cells_new = []
    for k in range(new):
        row = fake_crm.interaction(n_i + 1 + k, n_c, opts.seed)
        rows.append(row)
        cells_new.append([cell_value(c, row[c.key], lang) for c in INTERACTIONS.columns])
    rng.shuffle(rows)
    return {
        "customer_updates": customer_updates,
        "interaction_rows": rows,
        "new_ids": [fake_crm.interaction_id(n_i + 1 + k) for k in range(new)],
        "sheets": {
            "customers": CUSTOMERS.sheet_name(lang),
            "interactions": INTERACTIONS.sheet_name(lang),
        },
        "table_names": {"customers": CUSTOMERS.name, "interactions": INTERACTIONS.name},
        "cells": {
            "customers": cells_customers,
            "interactions_update": cells_update,
            "interactions_new": cells_new,
        },
    }


# ---------------------------------------------------------------------------------------------
# Checks: lossless package, untouched cells, changes visible through open_book

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _rels(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id → (type, resolved part name) of one part (read independently of xlcrm)."""
    folder, name = part.rpartition("/")[::2] if "/" in part else ("", part)
    rels = f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"
    if rels not in zf.namelist():
        return {}
    out = {}
    for rel in ET.fromstring(zf.read(rels)).iter(f"{_NS_PKG}Relationship"):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        if target.startswith("/"):
            resolved = target.lstrip("/")
        else:
            resolved = posixpath.normpath(f"{folder}/{target}" if folder else target)
        out[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], resolved)
    return out


def sheet_parts(path: Path, sheets: list[str]) -> set[str]:
    """The worksheet parts of ``sheets`` and the table parts on them."""
    with zipfile.ZipFile(path) as zf:
        workbook = next(t for kind, t in _rels(zf, "").values() if kind == "officeDocument")
        rels = _rels(zf, workbook)
        out = set()
        for sheet in ET.fromstring(zf.read(workbook)).iter(f"{_NS_MAIN}sheet"):
            if sheet.get("name") in sheets:
                part = rels[sheet.get(f"{_NS_REL}id", "")][1]
                out.add(part)
                out |= {t for kind, t in _rels(zf, part).values() if kind == "table"}
    return out


def compare_packages(before: Path, after: Path, allowed: set[str]) -> dict[str, Any]:
    """Part by part (decompressed bytes): which parts are identical, which changed."""
    with zipfile.ZipFile(before) as a, zipfile.ZipFile(after) as b:
        old, new = a.namelist(), b.namelist()
        infos = {i.filename: i for i in b.infolist()}
        identical, same_stored, expected, unexpected = [], 0, [], []
        for name in old:
            if name not in infos:
                continue
            if a.read(name) == b.read(name):
                identical.append(name)
                i, j = a.getinfo(name), infos[name]
                same_stored += (i.compress_type, i.compress_size, i.CRC) == (
                    j.compress_type,
                    j.compress_size,
                    j.CRC,
                )
            else:
                (expected if name in allowed else unexpected).append(name)
    return {
        "parts": len(old),
        "identical": len(identical),
        "identical_as_stored": same_stored,
        "changed_expected": expected,
        "changed_unexpected": unexpected,
        "missing": [n for n in old if n not in infos],
        "added": [n for n in new if n not in old],
        "order_kept": new[: len(old)] == old,
        "lossless": not unexpected and all(n in infos for n in old) and len(new) == len(old),
    }


def compare_cells(
    before: Path, after: Path, sheet: str, changed: dict[str, set[str]], added: set[str]
) -> tuple[int, list[str]]:
    """Every cell of ``sheet`` that was not meant to change still reads the same (calamine).

    ``changed``: row id → headers that were written; ``added``: ids of the new rows.
    Returns the number of cells compared and the problems found (at most a few).
    """
    import python_calamine

    def read(path: Path) -> list[list[Any]]:
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
        try:
            return wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        finally:
            wb.close()

    old, new = read(before), read(after)
    problems: list[str] = []
    if new[0][: len(old[0])] != old[0]:
        problems.append(f"{sheet}: the header row changed")
    headers = old[0]
    compared = 0
    for r in range(1, len(old)):
        o, n = old[r], new[r] if r < len(new) else []
        skip = {headers.index(h) for h in changed.get(o[0], ())}
        for j, value in enumerate(o):
            if j in skip:
                continue
            compared += 1
            got = n[j] if j < len(n) else None
            if got != value and len(problems) < 5:
                problems.append(f"{sheet} row {r + 1} col {j + 1}: {value!r} became {got!r}")
    extra = {row[0] for row in new[len(old) :] if any(v not in ("", None) for v in row)}
    if extra != added:
        problems.append(f"{sheet}: expected {len(added)} new rows, found {len(extra)}")
    return compared, problems


def verify_values(path: Path, changes: dict[str, Any], opts: argparse.Namespace) -> list[str]:
    """Read the saved workbook with open_book: row counts and every changed value."""
    from addin.workbook import open_book

    problems: list[str] = []
    book = open_book(path)
    try:
        customers, interactions = book.table("customers"), book.table("interactions")
        want_i = opts.interactions + len(changes["new_ids"])
        if len(customers) != opts.customers:
            problems.append(f"customers: {len(customers)} rows, expected {opts.customers}")
        if len(interactions) != want_i:
            problems.append(f"interactions: {len(interactions)} rows, expected {want_i}")
        checks = [(customers, pk, row) for pk, row in changes["customer_updates"]]
        checks += [(interactions, row["id"], row) for row in changes["interaction_rows"]]
        for table, pk, row in checks:
            got = table.get(pk)
            for key, value in row.items():
                if got[key] != value and len(problems) < 10:
                    problems.append(f"{table.name} {pk} {key}: {got[key]!r} != {value!r}")
    finally:
        book.close()
    return problems


# ---------------------------------------------------------------------------------------------
# Main


def say(text: str = "") -> None:
    print(text, flush=True)


def library_source() -> dict[str, Any]:
    """Where ``addin`` is imported from and, in a git checkout, its commit and whether the
    checkout has uncommitted changes (figures must name the code they measured)."""
    import addin

    folder = Path(addin.__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for source in sorted((folder / "addin").rglob("*.py")):
        digest.update(source.read_bytes())
    out: dict[str, Any] = {
        "path": str(folder),
        "sources_sha256": digest.hexdigest()[:12],  # tells apart uncommitted versions too
        "commit": None,
        "dirty": None,
    }
    try:
        git = ["git", "-C", str(folder)]
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True)
        if head.returncode == 0:
            status = subprocess.run(
                [*git, "status", "--porcelain", "--", "addin"], capture_output=True
            )
            out["commit"] = head.stdout.decode().strip()
            out["dirty"] = bool(status.stdout.strip())
    except OSError:
        pass
    return out


def environment() -> dict[str, Any]:
    cpu = platform.processor()
    with_info = Path("/proc/cpuinfo")
    if with_info.is_file():
        for line in with_info.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "xlcrm": metadata.version("xlcrm"),
        "python-calamine": metadata.version("python-calamine"),
        "openpyxl": metadata.version("openpyxl"),
        "library": library_source(),
    }


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return min(runs, key=lambda r: r["seconds"])


def _median(runs: list[dict[str, Any]]) -> float:
    return statistics.median(r["seconds"] for r in runs)


def _secs(runs: list[dict[str, Any]]) -> str:
    wall = " ".join(f"{r['seconds']:.2f}" for r in runs)
    cpu = " ".join(f"{r['cpu_seconds']:.2f}" for r in runs)
    return f"runs {wall} (CPU {cpu})"


def _split(run: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in run["split"].items())


def _mb(run: dict[str, Any]) -> str:
    grew = (run["rss_peak"] - run["rss_base"]) / MB
    return f"peak RSS {run['rss_peak'] / MB:,.0f} MB (+{grew:,.0f})"


def bench_read(opts: argparse.Namespace, path: Path, sheets: list[str]) -> dict[str, Any]:
    path.read_bytes()  # the page cache holds the file for every run, first or last
    floor: list[dict[str, Any]] = []
    ours: list[dict[str, Any]] = []
    for _ in range(opts.repeat):  # interleaved, so drift on the machine hits both sides
        floor.append(run_child("floor", path=str(path), sheets=sheets))
        ours.append(run_child("ours-read", path=str(path)))
    best_floor, best_ours = _best(floor), _best(ours)
    ratio = best_ours["seconds"] / best_floor["seconds"]
    cpu_ratio = min(r["cpu_seconds"] for r in ours) / min(r["cpu_seconds"] for r in floor)
    median_ratio = _median(ours) / _median(floor)
    peak_floor = max(r["rss_peak"] for r in floor)
    peak_ours = max(r["rss_peak"] for r in ours)
    same_rows = all(r["rows"] == floor[0]["rows"] for r in floor + ours)
    say("(a) read Customers + Interactions into Python")
    say(
        f"    floor  python-calamine to_python    best {best_floor['seconds']:7.2f} s   "
        f"{_secs(floor)}   {_mb(best_floor)}"
    )
    say(
        f"    ours   open_book+rows()+email index best {best_ours['seconds']:7.2f} s   "
        f"{_secs(ours)}   {_mb(best_ours)}"
    )
    say(f"           ({_split(best_ours)}; {best_ours['emails']:,} addresses)")
    say(
        f"    ratio  {ratio:.2f}x (CPU time {cpu_ratio:.2f}x, medians {median_ratio:.2f}x)   "
        f"target <= {READ_TARGET}x   "
        f"{'PASS' if ratio <= READ_TARGET else 'FAIL'}"
    )
    say(
        f"    memory peak RSS ours {peak_ours / MB:,.0f} MB vs floor {peak_floor / MB:,.0f} MB "
        f"({peak_ours / peak_floor:.2f}x)"
    )
    if not same_rows:
        say(f"    ROWS DIFFER: floor {floor[0]['rows']} vs ours {[r['rows'] for r in ours]}")
    return {
        "floor": floor,
        "ours": ours,
        "floor_best_s": best_floor["seconds"],
        "ours_best_s": best_ours["seconds"],
        "ratio": ratio,
        "cpu_ratio": cpu_ratio,
        "median_ratio": median_ratio,
        "target": READ_TARGET,
        "pass": ratio <= READ_TARGET,
        "rows_match": same_rows,
        "peak_rss_mb": {"floor": peak_floor / MB, "ours": peak_ours / MB},
    }


def bench_write(
    opts: argparse.Namespace, path: Path, sheets: list[str], work: Path
) -> dict[str, Any]:
    changes = make_changes(opts)
    changes_path = work / "changes.pickle"
    with open(changes_path, "wb") as f:
        pickle.dump(changes, f)
    ours: list[dict[str, Any]] = []
    saved = work / "ours.xlsx"
    for _ in range(opts.repeat):
        shutil.copyfile(path, saved)  # a fresh copy of the same file for every run
        ours.append(run_child("ours-write", path=str(saved), changes=str(changes_path)))
    best = _best(ours)
    say(
        f"(b) update {len(changes['customer_updates']):,} customers + upsert "
        f"{len(changes['interaction_rows']):,} interactions "
        f"({len(changes['new_ids']):,} new), then save"
    )
    say(
        f"    ours     open_book/update/upsert_all/save  best {best['seconds']:7.2f} s   "
        f"{_secs(ours)}   {_mb(best)}"
    )
    say(f"             ({_split(best)}; upsert {best['upsert']})")

    # Lossless: the last saved copy against the original.
    allowed = sheet_parts(path, sheets)
    package = compare_packages(path, saved, allowed)
    changed_c = {pk: set(cells) for pk, cells in changes["cells"]["customers"].items()}
    changed_i = {pk: set(cells) for pk, cells in changes["cells"]["interactions_update"].items()}
    n_c, problems_c = compare_cells(path, saved, sheets[0], changed_c, set())
    n_i, problems_i = compare_cells(path, saved, sheets[1], changed_i, set(changes["new_ids"]))
    values = verify_values(saved, changes, opts)
    problems = problems_c + problems_i + values
    lossless = package["lossless"] and not problems_c and not problems_i
    say(
        f"    lossless: {package['identical']}/{package['parts']} parts byte-identical "
        f"({package['identical_as_stored']} with the same stored bytes' size and CRC); "
        f"changed: {', '.join(package['changed_expected']) or 'none'}"
    )
    if package["changed_unexpected"] or package["missing"] or package["added"]:
        say(
            f"    UNEXPECTED: changed {package['changed_unexpected']}, "
            f"missing {package['missing']}, added {package['added']}"
        )
    say(
        f"    untouched cells of the changed sheets: {n_c + n_i:,} compared, "
        f"{len(problems_c) + len(problems_i)} differ; open_book sees the changes: "
        f"{'yes' if not values else 'NO'}   {'PASS' if lossless and not values else 'FAIL'}"
    )
    for problem in problems:
        say(f"      {problem}")

    result: dict[str, Any] = {
        "changes": {
            "customers_updated": len(changes["customer_updates"]),
            "interactions_upserted": len(changes["interaction_rows"]),
            "interactions_new": len(changes["new_ids"]),
        },
        "ours": ours,
        "ours_best_s": best["seconds"],
        "package": package,
        "cells_compared": n_c + n_i,
        "problems": problems,
        "lossless": lossless,
        "changes_visible": not values,
    }
    if opts.openpyxl_repeat <= 0:
        say("    openpyxl skipped (--openpyxl-repeat 0)")
        return result
    anchor: list[dict[str, Any]] = []
    theirs = work / "openpyxl.xlsx"
    for _ in range(opts.openpyxl_repeat):
        shutil.copyfile(path, theirs)
        anchor.append(run_child("openpyxl-write", path=str(theirs), changes=str(changes_path)))
    best_anchor = _best(anchor)
    speedup = best_anchor["seconds"] / best["seconds"]
    cpu_speedup = min(r["cpu_seconds"] for r in anchor) / min(r["cpu_seconds"] for r in ours)
    their_package = compare_packages(path, theirs, allowed)
    their_values = verify_values(theirs, changes, opts)
    say(
        f"    openpyxl load_workbook/cells/save          best {best_anchor['seconds']:7.2f} s   "
        f"{_secs(anchor)}   {_mb(best_anchor)}"
    )
    say(f"             ({_split(best_anchor)})")
    say(
        f"             same changes visible through open_book: "
        f"{'yes' if not their_values else 'NO ' + '; '.join(their_values[:3])}; "
        f"{their_package['identical']}/{their_package['parts']} parts byte-identical, "
        f"{len(their_package['missing'])} dropped, {len(their_package['added'])} added"
    )
    say(
        f"    speedup {speedup:.1f}x (CPU time {cpu_speedup:.1f}x)   target >= {WRITE_TARGET}x   "
        f"{'PASS' if speedup >= WRITE_TARGET else 'FAIL'}"
    )
    result.update(
        openpyxl=anchor,
        openpyxl_best_s=best_anchor["seconds"],
        openpyxl_package=their_package,
        openpyxl_changes_visible=not their_values,
        speedup=speedup,
        cpu_speedup=cpu_speedup,
        target=WRITE_TARGET,
        **{"pass": speedup >= WRITE_TARGET},
    )
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Read and write a large CRM workbook with xlcrm, against python-calamine "
        "(read floor) and openpyxl (load-modify-save anchor).",
    )
    parser.add_argument("--customers", type=int, help="customers (default 100000; --quick 10000)")
    parser.add_argument(
        "--interactions", type=int, help="interactions (default 300000; --quick 30000)"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--changes", type=int, default=1000, help="rows changed per table in (b)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each xlcrm measurement")
    parser.add_argument(
        "--openpyxl-repeat", type=int, default=1, help="runs of openpyxl (0 skips it)"
    )
    parser.add_argument("--lang", choices=("en", "zh"), default="en", help="workbook language")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated rows")
    parser.add_argument("--rebuild", action="store_true", help="build the workbook again")
    parser.add_argument("--cache-dir", default=str(DEFAULT_CACHE), help="where workbooks are kept")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a speed target fails, too"
    )
    opts = parser.parse_args(argv)
    if opts.customers is None:
        opts.customers = 10_000 if opts.quick else 100_000
    if opts.interactions is None:
        opts.interactions = 30_000 if opts.quick else 300_000
    if opts.customers < 1 or opts.interactions < 1 or opts.repeat < 1 or opts.changes < 2:
        parser.error("sizes and --repeat must be positive, --changes at least 2")
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    from addin.schema import CUSTOMERS, INTERACTIONS

    env = environment()
    sheets = [CUSTOMERS.sheet_name(opts.lang), INTERACTIONS.sheet_name(opts.lang)]
    say(
        f"xlcrm workbook benchmark: {opts.customers:,} customers, {opts.interactions:,} "
        f"interactions, lang {opts.lang}, repeat {opts.repeat}"
    )
    say(
        f"  {env['date']}  Python {env['python']}  python-calamine {env['python-calamine']}  "
        f"openpyxl {env['openpyxl']}  xlcrm {env['xlcrm']}  {env['cpus']} CPUs ({env['cpu']})"
    )
    lib = env["library"]
    say(
        f"  library {lib['path']} (sources {lib['sources_sha256']})"
        + (
            f" at {lib['commit']}{' + uncommitted changes' if lib['dirty'] else ''}"
            if lib["commit"]
            else ""
        )
    )
    path, build = cached_workbook(opts)
    times = build["times"]
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in times.items() if k != "total (xlcrm)")
    say(
        f"build: {times['total (xlcrm)']:.1f} s through xlcrm ({steps}); "
        f"{build['file_mb']:.1f} MB; peak RSS {build['rss_peak_mb']:,.0f} MB "
        f"({build.get('rss_rows_mb', 0):,.0f} MB before xlcrm started: Python + generated rows)"
        + (f"  [cached, built {build['built']}]" if build["cached"] else "")
    )
    say(f"  {path}")
    results: dict[str, Any] = {
        "environment": env,
        "parameters": {
            k: getattr(opts, k)
            for k in ("customers", "interactions", "changes", "repeat", "openpyxl_repeat", "lang")
        },
        "workbook": str(path),
        "build": build,
    }
    results["read"] = bench_read(opts, path, sheets)
    with tempfile.TemporaryDirectory(prefix="run-", dir=opts.cache_dir) as work:
        results["write"] = bench_write(opts, path, sheets, Path(work))
    if opts.json:
        Path(opts.json).write_text(json.dumps(results, indent=2, default=str))
        say(f"results written to {opts.json}")
    if library_source() != env["library"]:
        say("WARNING: the library's checkout changed during the run; the figures mix versions")
    write = results["write"]
    correct = write["lossless"] and write["changes_visible"] and results["read"]["rows_match"]
    fast = results["read"]["pass"] and write.get("pass", True)
    return 0 if correct and (fast or not opts.strict) else 1


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "_child":
        report = CHILDREN[sys.argv[2]](json.loads(sys.argv[3]))
        print(json.dumps(report))
    else:
        sys.exit(main())
