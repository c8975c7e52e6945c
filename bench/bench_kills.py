#!/usr/bin/env python
"""Benchmark: how often a SIGKILL leaves a message "may have been delivered" that never left.

Issue 16's target for a campaign killed at random points and resumed, over SMTP (which keeps no
sent items to settle from): no customer mailed twice, and nothing undelivered left
"uncertain". The second can only fail in the instant between the sender's "handed over" record
and the final dot it guards, so it is a rate: this runs many kills to measure it.

``xlcrm campaign BOOK --send`` is started, killed a random few milliseconds after a random
message reached the server (aiosmtpd, which stores a message before its 250), and started
again, ``--kills`` times; a last run finishes the campaign. Then it counts:

* duplicates — customers who got the campaign twice (must be 0);
* uncertain — customers whose Sends row says "may have been delivered";
* undelivered — those of them the server never got (the target: 0).

``--against DIR`` runs the same kills, in the same run, against another checkout of xlcrm (a
``git worktree`` of an older commit), for comparison:

    python bench/bench_kills.py                      # 200 kills
    python bench/bench_kills.py --kills 500 --against ../xlcrm-before
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_campaign import PASSWORD, USER, bench_env, prepare, xlcrm_command  # noqa: E402
from servers.smtp import SmtpServer  # noqa: E402
from servers.tcp_cut import make_certificate  # noqa: E402

from addin.workbook import open_book  # noqa: E402

MAYBE = "may have been delivered"


def run_kills(code: Path, kills: int, seed: int) -> dict[str, int]:
    chance = random.Random(seed)
    customers = kills * 25  # a run sends a dozen or more in the milliseconds before its kill
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        certificate = make_certificate(folder / "tls")
        env = bench_env(
            XLCRM_PASSWORD=PASSWORD, PYTHONPATH=str(code), SSL_CERT_FILE=str(certificate.ca)
        )
        with SmtpServer(certificate, mode="starttls", users={USER: PASSWORD}) as server:
            book, template = prepare(folder, customers, server.port)
            url = f"smtp://{USER}@127.0.0.1:{server.port}"
            argv = xlcrm_command(book, str(template), "kills", url)

            def arrived() -> int:
                return len(server.messages)

            killed = 0
            started = time.perf_counter()
            for _ in range(kills):
                wanted = arrived() + chance.randint(0, 3)
                process = subprocess.Popen(
                    argv, cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
                )
                deadline = time.monotonic() + 60
                while arrived() < wanted and process.poll() is None:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.001)
                time.sleep(chance.uniform(0, 0.01))
                if process.poll() is None:
                    process.send_signal(signal.SIGKILL)
                    killed += 1
                _, err = process.communicate()
                if process.returncode not in (0, -signal.SIGKILL):
                    print(f"  a run ended by itself ({process.returncode}): {err[-300:]!r}")
            last = subprocess.run(argv, cwd=code, env=env, capture_output=True, text=True)
            if last.returncode not in (0, 1):
                sys.exit(f"the last run failed:\n{last.stderr[-2000:]}")
            seconds = time.perf_counter() - started
            got = Counter(a for m in server.messages for a in m.rcpt_tos)
        with open_book(book) as wb:
            rows = list(wb.table("sends").rows())
    uncertain = [r for r in rows if MAYBE in (r.get("error") or "")]
    return {
        "customers": customers,
        "killed": killed,
        "delivered": len(got),
        "duplicates": sum(1 for n in got.values() if n > 1),
        "uncertain": len(uncertain),
        "undelivered": sum(1 for r in uncertain if got[r["email"]] == 0),
        "never": customers - len(got) - sum(1 for r in uncertain if got[r["email"]] == 0),
        "seconds": round(seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--against", type=Path, help="another checkout of xlcrm, for comparison")
    parser.add_argument("--strict", action="store_true", help="exit 1 unless the target holds")
    args = parser.parse_args()
    runs = [("this checkout", ROOT)]
    if args.against:
        runs.append((f"{args.against}", args.against.resolve()))
    print(f"xlcrm campaign --send over SMTP (STARTTLS) on loopback, SIGKILLed {args.kills} times")
    print(f"{'':24}{'killed':>8}{'dupl.':>7}{'uncert.':>9}{'undeliv.':>10}{'unsent':>8}{'s':>6}")
    failed = False
    for name, code in runs:
        got = run_kills(code, args.kills, args.seed)
        print(
            f"{name[:24]:24}{got['killed']:8}{got['duplicates']:7}{got['uncertain']:9}"
            f"{got['undelivered']:10}{got['never']:8}{got['seconds']:6}"
        )
        if code == ROOT:
            failed = bool(got["duplicates"] or got["undelivered"] or got["never"])
    print("dupl.: customers mailed twice; uncert.: rows left 'may have been delivered'; undeliv.:")
    print("those the server never got (target 0); unsent: customers neither mailed nor uncertain")
    if args.strict and failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
