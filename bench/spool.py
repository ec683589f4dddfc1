"""Spool append throughput per fsync policy, as ratios vs ``never`` measured in the same run.

Each append is one batch of 512 records of ~1 KB (the pipeline's default batch), acked right after
as the writer would once ClickHouse took it. Usage: python bench/spool.py [--batches N] [--dir PATH]
(the directory should be on the disk the spool will use: tmpfs makes every fsync free).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from collector._spool import FsyncPolicy, Spool, SpoolConfig

POLICIES: tuple[FsyncPolicy, ...] = ("never", "interval", "batch", "always")


def run(policy: FsyncPolicy, base: Path, batches: list[list[bytes]]) -> tuple[float, float]:
    directory = Path(tempfile.mkdtemp(prefix=f"spool-bench-{policy}-", dir=base))
    try:
        config = SpoolConfig(directory, fsync=policy, fsync_interval_ms=200)
        spool = Spool(config)
        start = time.perf_counter()
        for records in batches:
            spool.ack(spool.append(records))
        spool.close()
        elapsed = time.perf_counter() - start
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    total_bytes = sum(len(r) for records in batches for r in records)
    return len(batches) / elapsed, total_bytes / elapsed / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    batches = [[os.urandom(512) + b"x" * 512 for _ in range(512)] for _ in range(args.batches)]
    print(f"spool append+ack, {args.batches} batches of 512 x 1 KiB records, in {args.dir}")
    results = {policy: run(policy, args.dir, batches) for policy in POLICIES}
    base_rate, _ = results["never"]
    print(f"{'policy':<9} {'appends/s':>10} {'MB/s':>8} {'vs never':>9}")
    for policy, (rate, mbps) in results.items():
        print(f"{policy:<9} {rate:>10.1f} {mbps:>8.1f} {rate / base_rate:>8.2f}x")


if __name__ == "__main__":
    main()
