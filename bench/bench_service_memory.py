#!/usr/bin/env python
"""Benchmark: the service's memory for its largest legitimate request, and under attack.

Issue #13's bound: **no single request may take ``xlcrm serve`` past about 300 MB** of
resident memory. The anchor is that figure; the ratios printed are peak RSS / 300 MB.

The legitimate request is the largest the add-in sends: the first Sync mail (200 new messages)
of the 100,000-customer, 300,000-interaction workbook (``bigcrm.py``), posted by the add-in's
protocol as ``tests/addin_client.py`` speaks it (gzip over 64 KB, as ``client.js``) to a real
``xlcrm serve --no-tls`` in a subprocess. Then the attacks, each on a fresh peak: a gzip bomb
(1 GB of JSON in 1 MB), a body nested 100,000 deep, and the densest JSON under the size limit
(``[{},{},…]``, the most Python objects per byte). The peak is the kernel's own high-water
mark (``VmHWM``), reset between requests through ``/proc/PID/clear_refs``.

    python bench/bench_service_memory.py                    # 100,000 customers
    python bench/bench_service_memory.py --customers 10000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
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
from addin_client import AddinClient, free_port  # noqa: E402
from maildirs import T0, Mail, mail  # noqa: E402
from officehost import OfficeHost  # noqa: E402

from addin.service.body import MAX_BODY, MAX_VALUES  # noqa: E402
from addin.settings import write_settings  # noqa: E402
from addin.workbook import open_book  # noqa: E402

TARGET = 300 * 1024 * 1024


def status(pid: int, field: str) -> int:
    """A ``/proc/PID/status`` figure in bytes (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def start_service(folder: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    port = free_port()
    home = folder / "home"
    env = {**os.environ, "XLCRM_HOME": str(home), "HOME": str(home)}
    env.pop("XLCRM_SERVICE_TOKEN", None)
    xlcrm = str(Path(sys.executable).with_name("xlcrm"))
    process = subprocess.Popen([xlcrm, "serve", "--no-tls", "--port", str(port)], env=env)
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


def first_tables(host: OfficeHost, client: AddinClient) -> dict[str, Any]:
    """The tables the first sync's record call posted (the plan asks for the same again)."""
    plan = client.post("/api/v1/plan", host.request("sync", {"phase": "record"}))
    return host.read(plan.get("reads", {}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--no-attacks", action="store_true", help="the legitimate request only")
    args = parser.parse_args(argv)

    source = bigcrm.cached_book(args.customers, args.customers // 2, args.customers * 3, lang="zh")
    rows: list[tuple[str, int, int, str]] = []
    with tempfile.TemporaryDirectory(prefix="xlcrm-bench-memory-") as tmp:
        folder = Path(tmp)
        path = folder / "crm.xlsx"
        shutil.copyfile(source, path)
        box = Mail(folder / "mail", "sales@ours.cn")
        with open_book(path) as book:
            customers = [r for _, r in zip(range(200), book.table("customers").rows())]
            write_settings(book, {"mailbox": box.url})
        for n, row in enumerate(customers):
            address = str(row.get("email") or f"nobody{n}@example.org").split(";")[0]
            box.receive(
                mail(
                    address,
                    "sales@ours.cn",
                    f"询价 {n}",
                    ident=f"b{n}@bench",
                    at=T0 + dt.timedelta(minutes=n),
                )
            )
        print(f"loading {path.name} into the Office host stand-in …", flush=True)
        host = OfficeHost.from_large_xlsx(path)

        process, base, token = start_service(folder)
        try:
            pid = process.pid
            idle = status(pid, "VmRSS")
            client = AddinClient(base, host, token=token)
            reset_peak(pid)
            started = time.perf_counter()
            first = client.run("sync")
            took = time.perf_counter() - started
            assert first.answers[-1]["status"] == "done", first.answers[-1]
            legit = status(pid, "VmHWM")
            record = json.dumps(
                {**host.request("sync", {"phase": "record"}), "tables": first_tables(host, client)},
                ensure_ascii=False,
            ).encode()
            values = record.count(b",") + record.count(b"[") + record.count(b"{")
            rows.append(
                (
                    f"first Sync mail, {args.customers:,} customers",
                    200,
                    legit,
                    f"{first.sent_bytes / 1e6:.1f} MB sent in {took:.1f} s; the record "
                    f"request is {len(record) / 1e6:.1f} MB of JSON, {values:,} values",
                )
            )

            headers = {
                "X-Xlcrm-Client": "bench",
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
            }
            attacks: list[tuple[str, bytes, dict[str, str]]] = [
                ("gzip bomb, 1 GB inflated", gzip_bomb(1024**3), {"Content-Encoding": "gzip"}),
                ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, {}),
                (
                    "[{},{},…] up to the byte limit",
                    b"[" + b"{}," * ((MAX_BODY - 8) // 3) + b"{}]",
                    {},
                ),
                (
                    '["ab",…] up to the byte limit',
                    b"[" + b'"ab",' * ((MAX_BODY - 8) // 5) + b'"ab"]',
                    {},
                ),
                (
                    '["ab",…] just under the value limit (admitted, then refused as no request)',
                    b"[" + b'"ab",' * (MAX_VALUES - 2) + b'"ab"]',
                    {},
                ),
            ]
            for name, body, extra in [] if args.no_attacks else attacks:
                reset_peak(pid)
                answer = httpx.post(
                    f"{base}/api/v1/run", content=body, headers={**headers, **extra}, timeout=300
                )
                peak = status(pid, "VmHWM")
                alive = httpx.get(f"{base}/api/v1/health").status_code == 200
                what = answer.json().get("error", {}).get("what", "")
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

    print(f"\nxlcrm serve's memory (idle {idle / 2**20:.0f} MB); anchor 300 MB")
    print("| request | HTTP | peak RSS | ratio | notes |\n| --- | --- | --- | --- | --- |")
    for name, code, peak, notes in rows:
        print(f"| {name} | {code} | {peak / 2**20:.0f} MB | {peak / TARGET:.2f} | {notes} |")
    worst = max(peak for _, _, peak, _ in rows)
    print("bound " + ("met" if worst < TARGET else "NOT met"))
    print(json.dumps({"idle_mb": round(idle / 2**20), "rows": rows}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
