"""SQL bench: seed 1M events over 10k tasks into a fresh chdb store, then time every view.

    /work/venv/bin/python bench/sql.py [--events 1000000] [--tasks 10000] [--runs 15]

Prints, per view, the median and p95 wall time of a representative query (target: p95 under
500 ms) and its ratio to a baseline full scan of ``events`` run in the same process, then the
compressed and uncompressed storage bytes per event read from ``system.parts``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._seed_store import seed_store
from collector._store._client import Store

BASELINE = "SELECT count(), sum(duration_ms), uniqExact(correlation_id) FROM events"
VIEW_QUERIES = {
    "v_task_summary_daily": "SELECT * FROM v_task_summary_daily ORDER BY tenant_id, day",
    "v_abnormal_stops": "SELECT * FROM v_abnormal_stops WHERE abnormal = 1 ORDER BY tasks DESC LIMIT 100",
    "v_llm_calls": "SELECT model, quantile(0.95)(duration_ms), sum(total_tokens) FROM v_llm_calls "
    "WHERE ts >= now() - INTERVAL 7 DAY GROUP BY model",
    "v_llm_usage_daily": "SELECT * FROM v_llm_usage_daily ORDER BY tenant_id, day, model",
    "v_tool_calls": "SELECT tenant_id, correlation_id, tool_name, count() AS failures FROM v_tool_calls "
    "WHERE is_error = 1 GROUP BY tenant_id, correlation_id, tool_name HAVING failures >= 3",
    "v_tool_stats_daily": "SELECT * FROM v_tool_stats_daily ORDER BY tenant_id, day, tool_name",
    "v_runtime_errors": "SELECT * FROM v_runtime_errors ORDER BY ts DESC LIMIT 100",
    "v_pipeline_health": "SELECT * FROM v_pipeline_health WHERE hour >= now() - INTERVAL 1 DAY",
}


def timed(store: Store, sql: str, runs: int) -> list[float]:
    store.query(sql)  # warm-up: first touch of the parts and marks
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        store.query(sql)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sql-") as tmp:
        store = Store.open(f"chdb://{tmp}/store")
        try:
            start = time.perf_counter()
            summary = seed_store(store, events=args.events, tasks=args.tasks)
            seed_s = time.perf_counter() - start
            print(f"seeded {summary.events} events / {summary.tasks} tasks in {seed_s:.1f} s "
                  f"({summary.events / seed_s:,.0f} events/s through Store.insert)")  # fmt: skip
            store.command("OPTIMIZE TABLE events FINAL")  # measure the steady state, not fresh parts
            store.command("OPTIMIZE TABLE tasks FINAL")
            base = statistics.median(timed(store, BASELINE, args.runs))
            print(f"baseline full scan of events: median {base:.1f} ms")
            print(f"{'view':<22} {'median ms':>10} {'p95 ms':>8} {'x baseline':>11}  target p95 < 500 ms")
            worst = 0.0
            for view, sql in VIEW_QUERIES.items():
                samples = timed(store, sql, args.runs)
                median, high = statistics.median(samples), p95(samples)
                worst = max(worst, high)
                verdict = "ok" if high < 500 else "SLOW"
                print(f"{view:<22} {median:>10.1f} {high:>8.1f} {median / base:>10.2f}x  {verdict}")
            _, rows = store.query(
                "SELECT sum(rows), sum(data_compressed_bytes), sum(data_uncompressed_bytes) "
                "FROM system.parts WHERE active AND database = currentDatabase() AND table = 'events'"
            )
            rows_n, compressed, uncompressed = rows[0]
            ratio = uncompressed / compressed
            print(f"storage: {compressed / rows_n:.1f} bytes/event compressed, "
                  f"{uncompressed / rows_n:.1f} uncompressed (ratio {ratio:.1f}x)")  # fmt: skip
            print(f"worst view p95: {worst:.1f} ms ({'within' if worst < 500 else 'OVER'} the 500 ms target)")
        finally:
            store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
