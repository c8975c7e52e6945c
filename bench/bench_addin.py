#!/usr/bin/env python
"""Benchmark: the ribbon's Sync mail on a 100,000-customer workbook when there is no new mail.

Issue #5's targets, for one Sync mail with nothing new: **under 5 MB sent** by the client and
**under 300 ms of service time per call**. The anchors are those two figures; the ratios
printed are measured / target (below 1.0 meets it).

The client is the add-in's protocol as ``tests/addin_client.py`` speaks it (inventory → plan →
the asked columns → run → actions), over real HTTP to a real uvicorn on loopback, on the
bench's cached 100,000-customer, 300,000-interaction workbook (``bigcrm.py``) loaded into the
Office host stand-in. A Maildir of 200 messages is synced once first (that run reads the big
tables: its bytes are printed too, raw and gzip-compressed as the client sends them), then Sync
mail is pressed ``--repeat`` times with nothing new. Service time is measured inside the
server, from the request's first byte to the answer's last, by an ASGI wrapper.

    python bench/bench_addin.py                     # 100,000 customers
    python bench/bench_addin.py --customers 10000 --repeat 5 --strict
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

import bigcrm  # noqa: E402
import uvicorn  # noqa: E402
from addin_client import TOKEN, AddinClient, free_port  # noqa: E402
from maildirs import T0, Mail, mail  # noqa: E402
from officehost import OfficeHost  # noqa: E402

from addin.service import ServiceConfig, create_app  # noqa: E402
from addin.service.commands import mailbox_key  # noqa: E402
from addin.settings import write_settings  # noqa: E402
from addin.workbook import open_book  # noqa: E402

TARGET_BYTES = 5 * 1024 * 1024
TARGET_SECONDS = 0.300


class Timed:
    """ASGI wrapper recording each API call's service time."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.times: list[tuple[str, float]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        start = time.perf_counter()
        await self.app(scope, receive, send)
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            self.times.append((scope["path"], time.perf_counter() - start))


def with_new_mail(source: Path, folder: Path, count: int = 200) -> tuple[Path, Mail]:
    """A copy of the big workbook in ``folder``, and a Maildir holding ``count`` new messages
    from its first customers, named in its Settings: what the first Sync mail finds."""
    path = folder / "crm.xlsx"
    shutil.copyfile(source, path)
    box = Mail(folder / "mail", "sales@ours.cn")
    with open_book(path) as book:
        customers = [r for _, r in zip(range(count), book.table("customers").rows())]
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
    return path, box


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    source = bigcrm.cached_book(args.customers, args.customers // 2, args.customers * 3, lang="zh")
    with tempfile.TemporaryDirectory(prefix="xlcrm-bench-addin-") as tmp:
        folder = Path(tmp)
        path, box = with_new_mail(source, folder)
        print(f"loading {path.name} into the Office host stand-in …", flush=True)
        host = OfficeHost.from_large_xlsx(path)

        # Set up for that mailbox, as `xlcrm serve --mailbox URL` is (docs/secrets.md).
        config = ServiceConfig(token=TOKEN, mailboxes=(mailbox_key(box.url),))
        app = Timed(create_app(config))
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        try:
            client = AddinClient(f"http://127.0.0.1:{port}", host)
            first = client.run("sync")
            first_bytes = first.sent_bytes
            record_request = _record_size(host)
            app.times.clear()
            runs = []
            for _ in range(args.repeat):
                exchange = client.run("sync")
                assert exchange.answers[-1]["status"] == "done"
                assert "no new mail" in exchange.result["summary"], exchange.result
                runs.append(exchange.sent_bytes)
        finally:
            server.should_exit = True
            thread.join(10)

    calls = [t for _, t in app.times]
    sent = max(runs)
    median = statistics.median(calls)
    worst = max(calls)
    print(f"\nSync mail on {args.customers:,} customers, no new mail ({args.repeat} runs)")
    print(
        f"  first sync (200 messages recorded): {first_bytes / 1e6:.2f} MB sent "
        f"({record_request['raw'] / 1e6:.1f} MB of tables as JSON, "
        f"{record_request['gzip'] / 1e6:.2f} MB gzip-compressed as the client sends them)"
    )
    print(
        f"  sent per Sync mail: {sent / 1024:.1f} KB  target 5 MB  ratio {sent / TARGET_BYTES:.4f}"
    )
    print(
        f"  service time per call: median {median * 1000:.1f} ms, worst {worst * 1000:.1f} ms"
        f" over {len(calls)} calls  target 300 ms  ratio {worst / TARGET_SECONDS:.3f}"
    )
    met = sent < TARGET_BYTES and worst < TARGET_SECONDS
    print("  targets " + ("met" if met else "NOT met"))
    result = {
        "customers": args.customers,
        "first_sync_bytes": first_bytes,
        "record_tables_json": record_request["raw"],
        "record_tables_gzip": record_request["gzip"],
        "sent_bytes": sent,
        "service_ms_median": round(median * 1000, 1),
        "service_ms_worst": round(worst * 1000, 1),
    }
    print(json.dumps(result))
    return 0 if met or not args.strict else 1


def _record_size(host: OfficeHost) -> dict[str, int]:
    """What the record phase of a sync with new mail posts: its tables, raw and gzipped."""
    from addin.remote import RemoteBook, plan_reads
    from addin.remote.protocol import PlanRequest
    from addin.service.commands import COMMANDS

    request = host.request("sync", {"phase": "record"})
    book = RemoteBook(PlanRequest.model_validate(request))
    options = COMMANDS["sync"].parse({"phase": "record"})
    reads = {
        k: v.model_dump() for k, v in plan_reads(book, COMMANDS["sync"].needs(options)).items()
    }
    body = json.dumps({**request, "tables": host.read(reads)}, ensure_ascii=False).encode()
    return {"raw": len(body), "gzip": len(gzip.compress(body, 6))}


if __name__ == "__main__":
    sys.exit(main())
