"""What the on-disk claims ledger (issue 13) costs a campaign batch sent through the service.

``xlcrm serve`` records each batch's claim token in :class:`FileClaimLedger` (flock, read,
append, fsync) before sending, so that a replayed send call is ``stale`` on every worker. The
anchor is the in-process :class:`ClaimLedger` it replaces as the guard (one dict under a lock),
in the same run; the figure that matters is the cost per *batch* (25 messages) next to the time
one batch takes to send (tens of milliseconds to seconds over a real SMTP server).

    python bench/bench_claims.py [--batches 2000] [--folder DIR]

``--folder`` puts the ledger on the disk the service's state folder would be on (the default is
a temporary folder, often tmpfs, where fsync is nearly free).
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from addin.campaigns.batches import ClaimLedger, FileClaimLedger


def per_spend(ledger: ClaimLedger | FileClaimLedger, tokens: list[str]) -> float:
    """Seconds per spend, the whole campaign's tokens in one file (the worst case: each spend
    reads all the earlier ones)."""
    start = time.perf_counter()
    for token in tokens:
        assert ledger.spend(token, "bench")
    return (time.perf_counter() - start) / len(tokens)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=2000, help="batches in the campaign")
    parser.add_argument("--folder", type=Path, help="where the ledger goes (default: a temp dir)")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the median is printed")
    args = parser.parse_args()
    memory, disk = [], []
    for _ in range(args.repeat):
        tokens = [secrets.token_urlsafe(24) for _ in range(args.batches)]
        memory.append(per_spend(ClaimLedger(), tokens))
        with tempfile.TemporaryDirectory(dir=args.folder) as tmp:
            disk.append(per_spend(FileClaimLedger(Path(tmp)), tokens))
    anchor, ours = statistics.median(memory), statistics.median(disk)
    print(f"{args.batches} batches ({args.batches * 25} messages), median of {args.repeat}")
    print(f"  anchor  ClaimLedger (memory)  {anchor * 1e6:10.1f} µs per batch")
    print(f"  ours    FileClaimLedger       {ours * 1e6:10.1f} µs per batch")
    print(f"  ratio   {ours / anchor:.0f} x the anchor; {ours * 1e3 / 25:.3f} ms per message")


if __name__ == "__main__":
    main()
