"""Where the hook's cost goes, in instructions: a deterministic complement to the wall-time benches.

Wall time on a shared VM drifts by more than the effects measured here, so this script runs the
same team workload under valgrind's callgrind (Debian package `valgrind`), which counts executed
instructions per thread, the same count on every run for the same inputs (PYTHONHASHSEED is
fixed). It does not see cache misses or GIL hand-offs, so it complements, not replaces, the
wall-time figures of bench/hook_overhead.py and bench/remote_overhead.py.

Configurations (each in its own process under callgrind; counting covers the timed workload only):
  none     no intervention handler
  empty    a handler that does nothing: AutoGen's own cost of having any handler
  capture  our hook into the in-process pipeline, held: nothing but the hook and its capture log
           runs in the timed section (the pipeline drains after it)
  snapshot the same with the snapshot stage on (capture log replayed, payloads to JSON text every
           20 ms), as in production
  remote   our hook shipping to a null receiver (the app-side cost of remote mode)

Prints per configuration the instructions of the app's main thread (the dispatch loop) and of all
threads, as ratios to `none`.

    python bench/instructions.py [--batches 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ("none", "empty", "capture", "snapshot", "remote")


def child(config: str, batches: int) -> None:
    """Runs inside callgrind: warm up, switch instrumentation on, run the workload, switch it off."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from autogen_core import DefaultInterventionHandler, SingleThreadedAgentRuntime
    from hook_overhead import free_port, held_settings, workload

    from collector import AuditHook, Store, build_pipeline

    hook: AuditHook | None = None
    handler: Any = None
    receiver = None
    if config == "empty":
        handler = DefaultInterventionHandler()
    elif config in ("capture", "snapshot"):
        from redaction import Redactor

        store = Store.open(f"chdb://{tempfile.mkdtemp(prefix='instr-bench-')}/store")
        held = held_settings(store.dsn, snapshot=config == "snapshot")
        hook = handler = AuditHook(build_pipeline(held, store=store, redactor=Redactor()), held)
    elif config == "remote":
        port = free_port()
        receiver = subprocess.Popen([sys.executable, str(ROOT / "bench" / "_otlp_sink.py"), str(port)])
        time.sleep(2)
        hook = handler = AuditHook.from_env(
            sidecar_url=f"http://127.0.0.1:{port}", ingest_token="bench-token-" + "0" * 16, capture_loggers=False
        )

    def make_runtime() -> SingleThreadedAgentRuntime:
        return SingleThreadedAgentRuntime(intervention_handlers=[handler] if handler is not None else None)

    asyncio.run(workload(make_runtime, hook, 8, 1))  # warm-up: imports, caches
    subprocess.run(["callgrind_control", "--instr=on", str(os.getpid())], capture_output=True, check=False)
    asyncio.run(workload(make_runtime, hook, 8, batches))
    if config == "remote" and hook is not None:
        hook.flush(600)  # the sender's work for these events is part of the app's cost
    subprocess.run(["callgrind_control", "--instr=off", str(os.getpid())], capture_output=True, check=False)
    if receiver is not None:
        receiver.kill()
    os._exit(0)  # skip teardown: nothing after the workload is counted, and chdb's exit is slow under valgrind


def measure(config: str, batches: int, out_dir: Path) -> tuple[int, int]:
    """(main-thread instructions, all-thread instructions) of one configuration."""
    env = dict(os.environ, PYTHONHASHSEED="0", TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS="")
    subprocess.run(
        ["valgrind", "--tool=callgrind", "--separate-threads=yes", "--instr-atstart=no",
         f"--callgrind-out-file={out_dir}/cg.{config}.%p", sys.executable, __file__, "--child", config,
         "--batches", str(batches)],
        env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    per_thread: dict[int, int] = {}
    for path in out_dir.glob(f"cg.{config}.*-*"):
        match = re.search(r"^totals: (\d+)", path.read_text(errors="replace"), re.MULTILINE)
        per_thread[int(path.name.rsplit("-", 1)[1])] = int(match.group(1)) if match else 0
    return per_thread.get(1, 0), sum(per_thread.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--child", choices=CONFIGS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.batches)
        return
    out_dir = Path(tempfile.mkdtemp(prefix="callgrind-"))
    counts = {config: measure(config, args.batches, out_dir) for config in CONFIGS}
    base_main, base_all = counts["none"]
    print(f"workload: {8 * args.batches} RoundRobinGroupChat runs (8 concurrent x {args.batches} fresh runtimes), "
          "instructions counted by callgrind")  # fmt: skip
    print(f"{'config':<8} {'main thread':>14} {'ratio':>7} {'all threads':>14} {'ratio':>7}")
    for config, (main_thread, all_threads) in counts.items():
        print(f"{config:<8} {main_thread:>14,} {main_thread / base_main:>6.3f}x {all_threads:>14,} "
              f"{all_threads / base_all:>6.3f}x")  # fmt: skip


if __name__ == "__main__":
    main()
