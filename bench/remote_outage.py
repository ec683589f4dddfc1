"""What the app pays while its sidecar is down: the remote hook pointed at a port nobody listens on.

The sidecar can be restarting, overloaded or gone. The hook must then keep costing the app what
it costs when the sidecar answers: its buffer fills (bounded, and overflow is counted, never
silent), but the message objects must not stay alive in the app while it waits, or every
garbage collection of the app rescans them and their memory grows with the outage.

Configurations, interleaved round by round (a fresh runtime per batch of concurrent teams):
  none     no intervention handler
  down     the remote hook, its sidecar unreachable for the whole run (connections refused,
           retried with backoff)

Prints per configuration the median wall time, the paired ratio to ``none``, and the time the
app's garbage collector spent per sample (``gc.callbacks``); then what the hook holds at the end:
events accepted, still buffered (as encoded rows) and counted lost.

    python bench/remote_outage.py [--rounds 11] [--teams 8] [--batches 4]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

from autogen_core import SingleThreadedAgentRuntime  # noqa: E402 - after the path set-up above

from collector import AuditHook  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from hook_overhead import Collections, free_port, paired_ratios, rotated, workload  # noqa: E402 - the same workload

logging.getLogger("autogen_core.events").setLevel(logging.ERROR)
logging.getLogger("collector").setLevel(logging.ERROR)  # one "delivery failed" line per retry otherwise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--teams", type=int, default=8)
    parser.add_argument("--batches", type=int, default=4)
    args = parser.parse_args()

    down_url = f"http://127.0.0.1:{free_port()}"  # a port nothing listens on: every POST is refused
    hook = AuditHook.from_env(sidecar_url=down_url, ingest_token="outage-bench-" + "0" * 20, capture_loggers=False)
    configs: dict[str, AuditHook | None] = {"none": None, "down": hook}
    clock = Collections()  # every generation
    times: dict[str, list[float]] = {name: [] for name in configs}
    gc_s: dict[str, list[float]] = {name: [] for name in configs}
    asyncio.run(workload(SingleThreadedAgentRuntime, None, args.teams, 1))  # warm-up: imports, caches
    for r in range(args.rounds):
        for name in rotated(list(configs), r):
            with_hook = configs[name]
            handlers = [with_hook] if with_hook is not None else []
            gc.collect()  # every sample starts from the same collector state
            before = clock.seconds
            times[name].append(
                asyncio.run(
                    workload(
                        lambda h=handlers: SingleThreadedAgentRuntime(intervention_handlers=h),  # type: ignore[misc]
                        with_hook,
                        args.teams,
                        args.batches,
                    )
                )
            )
            gc_s[name].append(clock.seconds - before)
    stats = hook.sink.stats()
    complete = asyncio.run(hook.aclose(0.5))  # nobody to deliver to: what is left is counted lost
    closed = hook.sink.stats()

    base = statistics.median(times["none"])
    print(f"workload: {args.teams * args.batches} team runs per sample, {args.rounds} interleaved rounds; "
          f"the sidecar at {down_url} is down for the whole run")  # fmt: skip
    print(f"{'config':<6} {'wall s':>8} {'ratio':>7} {'paired ratio (median, IQR)':>27} {'gc ms/sample':>13}")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:<6} {median:>8.3f} {median / base:>6.2f}x {paired_ratios(samples, times['none']):>27} "
              f"{statistics.median(gc_s[name]) * 1000:>13.1f}")  # fmt: skip
    held = stats.accepted - stats.acknowledged - stats.lost
    as_objects = len(getattr(hook.sink, "_queue", ()))  # the rest is encoded rows, untracked by the collector
    print(f"remote hook while down: accepted={stats.accepted} acknowledged={stats.acknowledged} held={held} "
          f"(as objects, not yet encoded: {as_objects}) lost={stats.lost} retries={stats.retries}")  # fmt: skip
    print(f"after close: lost={closed.lost} of accepted={closed.accepted} (counted, none silent), complete={complete}")


if __name__ == "__main__":
    main()
