#!/usr/bin/env python
"""Benchmark: the service's memory for its largest legitimate request, and under attack.

Issue #13's bound: **no single request may take ``xlcrm serve`` past about 300 MB** of
resident memory. The anchor is that figure; the ratios printed are peak RSS / 300 MB.

The legitimate requests are the largest the add-in sends: the first Sync mail (200 new
messages) of the 100,000-customer, 300,000-interaction workbook (``bigcrm.py``; its record
call reads the interactions its mail names), and Refresh dashboard of the largest workbook
the limits admit for it (30,000 customers), posted by the add-in's protocol as
``tests/addin_client.py`` speaks it (gzip over 64 KB, as ``client.js``) to a real ``xlcrm
serve --no-tls`` in a subprocess. Then the attacks, each on a fresh peak: a gzip bomb (1 GB of
JSON in 1 MB), a body nested 100,000 deep, and the densest bodies the limits refuse or admit.
The peak is the kernel's own high-water mark (``VmHWM``), reset between requests through
``/proc/PID/clear_refs``.

    python bench/bench_service_memory.py                    # 100,000 customers
    python bench/bench_service_memory.py --customers 10000 --dashboard 0
    python bench/bench_service_memory.py --commands 20000  # each whole-table command
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

import bigcrm  # noqa: E402
import httpx  # noqa: E402
from addin_client import AddinClient, ServiceFailed, free_port  # noqa: E402
from bench_addin import with_new_mail  # noqa: E402
from officehost import OfficeHost  # noqa: E402

from addin.service.body import MAX_BODY, MAX_OBJECTS, MAX_VALUES  # noqa: E402

TARGET = 300 * 1024 * 1024


def status(pid: int, field: str) -> int:
    """A ``/proc/PID/status`` figure in bytes (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def start_service(folder: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str, str]:
    """``xlcrm serve`` on a free loopback port; ``extra`` arguments as ``--mailbox URL``."""
    port = free_port()
    home = folder / "home"
    env = {**os.environ, "XLCRM_HOME": str(home), "HOME": str(home)}
    env.pop("XLCRM_SERVICE_TOKEN", None)
    xlcrm = str(Path(sys.executable).with_name("xlcrm"))
    process = subprocess.Popen([xlcrm, "serve", "--no-tls", "--port", str(port), *extra], env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/v1/health", timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("xlcrm serve did not start") from None
            time.sleep(0.1)
    return process, base, (home / "service-token").read_text().strip()


def gzip_bomb(inflated: int) -> bytes:
    """A JSON array of zeros, ``inflated`` bytes when inflated, compressed ~1000:1."""
    out = zlib.compressobj(9, zlib.DEFLATED, 31)
    piece = b"0," * (512 * 1024)
    parts = [out.compress(b"[")]
    for _ in range(inflated // len(piece)):
        parts.append(out.compress(piece))
    parts.append(out.compress(b"0]") + out.flush())
    return b"".join(parts)


class Recording(AddinClient):
    """The add-in's client, keeping the largest body it posted (the record call's)."""

    largest = b""

    def post(self, path: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data = json.dumps(body, ensure_ascii=False).encode()
        if len(data) > len(self.largest):
            self.largest = data
        return super().post(path, body, **kwargs)


def legit_row(customers: int, folder: Path) -> tuple[str, int, int, str]:
    """The first Sync mail of the big workbook, through the add-in's protocol."""
    source = bigcrm.cached_book(customers, customers // 2, customers * 3, lang="zh")
    folder.mkdir(parents=True)
    path, box = with_new_mail(source, folder)
    print(f"loading {path.name} into the Office host stand-in …", flush=True)
    host = OfficeHost.from_large_xlsx(path)
    process, base, token = start_service(folder, "--mailbox", box.url)
    try:
        client = Recording(base, host, token=token)
        reset_peak(process.pid)
        started = time.perf_counter()
        first = client.run("sync")
        took = time.perf_counter() - started
        assert first.answers[-1]["status"] == "done", first.answers[-1]
        legit = status(process.pid, "VmHWM")
        record = client.largest
    finally:
        process.terminate()
        process.wait(10)
    values = record.count(b",") + record.count(b"[") + record.count(b"{")
    return (
        f"first Sync mail, {customers:,} customers",
        200,
        legit,
        f"{first.sent_bytes / 1e6:.1f} MB sent in {took:.1f} s; the record request is "
        f"{len(record) / 1e6:.1f} MB of JSON, {values:,} values",
    )


def dashboard_row(customers: int, folder: Path) -> tuple[str, int, int, str]:
    """Refresh dashboard, which reads the columns it shows of every row of every table: the
    largest workbook whose request the limits admit."""
    source = bigcrm.cached_book(customers, customers // 2, customers * 3, lang="zh")
    folder.mkdir(parents=True)
    print(f"loading {source.name} into the Office host stand-in …", flush=True)
    host = OfficeHost.from_large_xlsx(source)
    process, base, token = start_service(folder)
    try:
        client = Recording(base, host, token=token)
        reset_peak(process.pid)
        done = client.run("report")
        assert done.answers[-1]["status"] == "done", done.answers[-1]
        peak = status(process.pid, "VmHWM")
    finally:
        process.terminate()
        process.wait(10)
    body = client.largest
    values = body.count(b",") + body.count(b"[") + body.count(b"{")
    return (
        f"Refresh dashboard, {customers:,} customers",
        200,
        peak,
        f"{len(body) / 1e6:.1f} MB of JSON, {values:,} values",
    )


# The ribbon's commands that read whole tables' columns, as the pane runs them.
COMMANDS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("campaign", {"step": "preview", "template": "emails/welcome", "name": "bench"}),
    ("rules", {}),
    ("report", {}),
    ("reminders", {}),
    ("dedupe", {}),
    ("dedupe", {"apply": True}),
)


def command_rows(customers: int, folder: Path) -> list[tuple[str, int, int, str]]:
    """Each command of :data:`COMMANDS` on one service, its peak reset before each: where a
    command's cell budget (``Command.max_cells``) lies, its answer is the 413 that names it."""
    source = bigcrm.cached_book(customers, customers // 2, customers * 3, lang="zh")
    folder.mkdir(parents=True)
    host = OfficeHost.from_large_xlsx(source)
    settings = host.sheets["设置"]
    for (row, column), value in list(settings.cells.items()):
        if column == 0 and value == "群发发件人":  # Campaign sender: a preview needs a From
            settings.put(row, 1, "Bench <bench@ours.cn>")
    process, base, token = start_service(folder)
    rows = []
    try:
        client = Recording(base, host, token=token)
        for command, options in COMMANDS:
            reset_peak(process.pid)
            client.largest = b""
            name = f"{command} {json.dumps(options) if options else ''}".strip()
            try:
                client.run(command, options)
                code, note = 200, f"{len(client.largest) / 1e6:.1f} MB posted"
            except ServiceFailed as failed:
                code, note = failed.status, failed.error.get("message", "")
            rows.append(
                (f"{name}, {customers:,} customers", code, status(process.pid, "VmHWM"), note)
            )
    finally:
        process.terminate()
        process.wait(10)
    return rows


def attack_rows(folder: Path) -> list[tuple[str, int, int, str]]:
    """Each attack on the same fresh service, its peak reset before each."""
    under = MAX_VALUES - 2  # values the densest bodies hold: just under the limit
    attacks: list[tuple[str, bytes, dict[str, str]]] = [
        ("gzip bomb, 1 GB inflated", gzip_bomb(1024**3), {"Content-Encoding": "gzip"}),
        ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, {}),
        ("[{},{},…] up to the byte limit", b"[" + b"{}," * ((MAX_BODY - 8) // 3) + b"{}]", {}),
        ('["ab",…] up to the byte limit', b"[" + b'"ab",' * ((MAX_BODY - 8) // 5) + b'"ab"]', {}),
        (
            '["ab",…] just under the value limit (admitted; not a request)',
            b"[" + b'"ab",' * under + b'"ab"]',
            {},
        ),
        (
            '["中文",…] just under the value limit (admitted; not a request)',
            b"[" + '"中文",'.encode() * min(under, (MAX_BODY - 16) // 9) + '"中文"]'.encode(),
            {},
        ),
        (
            "[[],[],…] just under the value limit (admitted; not a request)",
            b"[" + b"[]," * (MAX_VALUES // 2 - 2) + b"[]]",  # "[" and "," both count
            {},
        ),
        (
            '[{"a":0},…] just under the object limit (admitted; not a request)',
            b"[" + b'{"a":0},' * (MAX_OBJECTS - 1) + b'{"a":0}]',
            {},
        ),
        (
            "one string up to the byte limit, with an emoji (admitted; not a request)",
            '["😀'.encode() + b"x" * (MAX_BODY - 16) + b'"]',
            {},
        ),
    ]
    rows = []
    process, base, token = start_service(folder)
    headers = {
        "X-Xlcrm-Client": "bench",
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
    }
    try:
        rows.append(("idle", 0, status(process.pid, "VmRSS"), "after start-up"))
        for name, body, extra in attacks:
            reset_peak(process.pid)
            answer = httpx.post(
                f"{base}/api/v1/run", content=body, headers={**headers, **extra}, timeout=300
            )
            peak = status(process.pid, "VmHWM")
            alive = httpx.get(f"{base}/api/v1/health").status_code == 200
            what = answer.json().get("error", {}).get("message", "")
            rows.append(
                (
                    name,
                    answer.status_code,
                    peak,
                    f"{len(body) / 1e6:.1f} MB posted; {what}; "
                    f"{'still answers' if alive else 'DOWN'}",
                )
            )
    finally:
        process.terminate()
        process.wait(10)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--no-sync", action="store_true", help="the attacks only")
    parser.add_argument("--no-attacks", action="store_true", help="the legitimate requests only")
    parser.add_argument(
        "--dashboard",
        type=int,
        default=30_000,
        help="customers of the dashboard's workbook (0: leave it out)",
    )
    parser.add_argument(
        "--commands",
        type=int,
        default=0,
        metavar="CUSTOMERS",
        help="only the whole-table commands (campaign, rules, report, …) on a workbook this big",
    )
    args = parser.parse_args(argv)
    rows: list[tuple[str, int, int, str]] = []
    with tempfile.TemporaryDirectory(prefix="xlcrm-bench-memory-") as tmp:
        if args.commands:
            args.no_sync = args.no_attacks = True
            rows += command_rows(args.commands, Path(tmp) / "commands")
        if not args.no_sync:
            rows.append(legit_row(args.customers, Path(tmp) / "sync"))
            if args.dashboard:
                rows.append(dashboard_row(args.dashboard, Path(tmp) / "dashboard"))
        if not args.no_attacks:
            rows += attack_rows(Path(tmp) / "attacks")

    print("\nxlcrm serve's peak memory per request; anchor 300 MB")
    print("| request | HTTP | peak RSS | ratio | notes |\n| --- | --- | --- | --- | --- |")
    for name, code, peak, notes in rows:
        print(f"| {name} | {code} | {peak / 2**20:.0f} MB | {peak / TARGET:.2f} | {notes} |")
    over = [name for name, _, peak, _ in rows if peak >= TARGET]
    print("over the bound: " + (", ".join(over) if over else "none"))
    print(json.dumps({"rows": rows}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
