"""Soak: concurrent AgentChat teams for a set time while the store keeps going away and coming back.

Each round starts a fresh SingleThreadedAgentRuntime and runs --concurrency teams on it (real
AgentChat teams, replayed model output, real Presidio, real chdb, the durable spool). A thread takes
the store down for --outage-s out of every --period-s (inserts fail at the client boundary with a
clickhouse-connect OperationalError). The hook's methods are wrapped to time what each call costs
the runtime's dispatch loop; the figures compare calls made during an outage with calls made while
the store was up, in the same run. The LAST line is `produced=N stored=N duplicated=N lost=N`.

Usage: python bench/soak.py [--seconds 60] [--concurrency 4] [--outage-s 2] [--period-s 5] [--dir PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autogen_core import SingleThreadedAgentRuntime
from clickhouse_connect.driver.exceptions import OperationalError

from collector import AuditHook, AuditPipeline, AuditSettings, ClickHouseExporter, Store
from collector._demo import PERSONAS, build_team, task_text
from collector._records import RecordBuilder


class FlappingStore(Store):
    """The real store; inserts raise a transport error while ``down``."""

    def __init__(self, real: Store) -> None:
        self.__dict__.update(real.__dict__)
        self.down = False

    def insert(
        self,
        table: str,
        rows: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        settings: Mapping[str, Any] | None = None,
    ) -> Any:
        if self.down:
            raise OperationalError("Error HTTPConnectionPool(host='ch', port=8123): Connection refused")
        return super().insert(table, rows, column_names, settings)


def time_hook(hook: AuditHook, store: FlappingStore, samples: dict[bool, list[float]]) -> None:
    """Wrap on_send/on_publish/on_response: record each call's cost, keyed by 'store down?'."""
    for name in ("on_send", "on_publish", "on_response"):
        inner = getattr(hook, name)

        async def timed(*args: Any, _inner: Any = inner, **kwargs: Any) -> Any:
            t0 = time.perf_counter_ns()
            try:
                return await _inner(*args, **kwargs)
            finally:
                samples[store.down].append((time.perf_counter_ns() - t0) / 1000)

        setattr(hook, name, timed)


def flap(store: FlappingStore, outage_s: float, period_s: float, stop: threading.Event) -> None:
    while not stop.wait(max(0.0, period_s - outage_s)):
        store.down = True
        stop.wait(outage_s)
        store.down = False


async def _one(hook: AuditHook, runtime: SingleThreadedAgentRuntime, i: int) -> None:
    p = PERSONAS[i % len(PERSONAS)]
    team = build_team(runtime, p, abnormal=i % 5 == 3, broken_tool=i % 7 == 5)
    async with hook.task(team, tenant_id=f"tenant-{i % 4}", user_id=f"u{i % 11}") as task:
        task.record_result(await team.run(task=task_text(p)))


async def load(hook: AuditHook, seconds: float, concurrency: int) -> int:
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
        runtime.start()
        await asyncio.gather(*(_one(hook, runtime, n + k) for k in range(concurrency)))
        await runtime.stop_when_idle()
        n += concurrency
    return n


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--outage-s", type=float, default=2.0)
    ap.add_argument("--period-s", type=float, default=5.0)
    ap.add_argument("--dir", type=Path, default=None, help="where the store and spool go (default: a temp dir)")
    args = ap.parse_args()
    from redaction import Redactor

    base = args.dir or Path(tempfile.mkdtemp(prefix="audit-soak-"))
    real = Store.open(f"chdb://{base / 'store'}")
    store = FlappingStore(real)
    settings = AuditSettings(store_dsn=real.dsn, retry_initial_s=0.1, retry_max_s=2.0)
    pipeline = AuditPipeline(
        exporter=ClickHouseExporter(store), builder=RecordBuilder(settings, Redactor(), "soak"), settings=settings
    )
    hook = AuditHook(pipeline, settings)
    samples: dict[bool, list[float]] = {True: [], False: []}
    time_hook(hook, store, samples)
    stop = threading.Event()
    flapper = threading.Thread(target=flap, args=(store, args.outage_s, args.period_s, stop), daemon=True)
    flapper.start()
    peak_spool = [0]

    def watch() -> None:
        while not stop.wait(0.25):
            peak_spool[0] = max(peak_spool[0], pipeline.stats().spool_bytes)

    threading.Thread(target=watch, daemon=True).start()
    t0 = time.monotonic()
    tasks = asyncio.run(load(hook, args.seconds, args.concurrency))
    elapsed = time.monotonic() - t0
    stop.set()
    flapper.join()
    store.down = False
    durable = asyncio.run(hook.aclose(120.0))
    stats = pipeline.stats()
    _, rows = real.query("SELECT count(), uniqExact(event_id) FROM events WHERE kind != 'loss'")
    total, distinct = rows[0]
    real.close()
    up, down = samples[False], samples[True]
    print(f"tasks={tasks} in {elapsed:.1f}s ({stats.accepted / elapsed:.0f} events/s), concurrency={args.concurrency}")
    print(f"outage: {args.outage_s}s down every {args.period_s}s; insert failures={stats.export_failures}; "
          f"peak spool={peak_spool[0] / 1024:.0f} KiB; shutdown durable={durable}")  # fmt: skip
    print(f"hook cost per call, store up:   n={len(up)} p50={pct(up, .5):.1f}us p99={pct(up, .99):.1f}us "
          f"mean={statistics.fmean(up) if up else float('nan'):.1f}us")  # fmt: skip
    print(f"hook cost per call, store DOWN: n={len(down)} p50={pct(down, .5):.1f}us p99={pct(down, .99):.1f}us "
          f"mean={statistics.fmean(down) if down else float('nan'):.1f}us")  # fmt: skip
    if up and down:
        print(f"p99 during outage / p99 store up = {pct(down, 0.99) / pct(up, 0.99):.2f}x")
    print(f"produced={stats.accepted} stored={distinct} duplicated={total - distinct} lost={stats.accepted - distinct}")


if __name__ == "__main__":
    main()
