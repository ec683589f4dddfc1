"""Integrity bench: ingest throughput with and without the hash chain, and verification speed.

    /work/venv/bin/python bench/integrity.py [--events 20000] [--rounds 3] [--presidio]

Ingest runs the real pipeline (serializer, record builder, exporter into embedded chdb) over the
same events twice per round, once plain and once with the chain processor (signing checkpoints
every 1000 events), alternating to share any drift; the best round of each is compared (target:
chained throughput within 10% of plain). By default the redactor is a pass-through so the chain's
cost is not hidden behind Presidio's; --presidio uses the real one (slower, smaller ratio).
Then `verify` recomputes every chained event and prints events/s, and one task's verdict time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collector import AuditPipeline, AuditSettings, CapturedEvent, ClickHouseExporter, EventKind, Store, TaskRef
from collector._integrity import IntegritySettings, build_chain_processor, verify_store, verify_task
from collector._records import RecordBuilder

TEXT = "Customer asked about order {i}: the parcel left the depot, tracking updated, refund not needed. " * 3


class PassThrough:
    """A redactor that changes nothing: isolates the cost of the chain from Presidio's."""

    class Outcome:
        def __init__(self, value: Any) -> None:
            self.value, self.status, self.counts, self.policy_version = value, "ok", {}, "bench"

    def redact_many(self, items: Any) -> list[Any]:
        return [self.Outcome(v) for _, v in items]


def ingest(store: Store, redactor: Any, prefix: str, n: int, chained: bool, key_dir: str) -> float:
    settings = AuditSettings(store_dsn=store.dsn, batch_max_events=512, queue_max_events=n + 10)
    processors = []
    chain = None
    if chained:
        chain = build_chain_processor(IntegritySettings(checkpoint_interval_s=0, key_dir=key_dir), store)
        processors.append(chain)
    pipeline = AuditPipeline(
        exporter=ClickHouseExporter(store),
        builder=RecordBuilder(settings, redactor, prefix),
        settings=settings,
        processors=processors,
    )
    events = []
    for i in range(n):
        ref = TaskRef(f"{prefix}-tenant-{i % 4}", f"{prefix}-task-{i // 25}")
        payload = {"content": TEXT.format(i=i), "source": "agent"}
        events.append(CapturedEvent(i + 1, ref, i % 25, time.time_ns(), EventKind.SEND, payload))
    start = time.perf_counter()
    for event in events:
        pipeline.submit(event)
    assert pipeline.flush(600)
    elapsed = time.perf_counter() - start
    pipeline.shutdown(10)
    if chain is not None:
        chain.close()
    assert pipeline.stats().written == n
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--presidio", action="store_true")
    args = parser.parse_args()
    if args.presidio:
        from redaction import Redactor

        redactor: Any = Redactor()
    else:
        redactor = PassThrough()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"chdb://{tmp}/store")
        plain, chained = [], []
        for r in range(args.rounds):
            plain.append(ingest(store, redactor, f"p{r}", args.events, False, tmp))
            chained.append(ingest(store, redactor, f"c{r}", args.events, True, tmp))
        best_plain, best_chained = max(plain), max(chained)
        print(
            f"redactor: {'presidio' if args.presidio else 'pass-through'}; {args.events} events x {args.rounds} rounds"
        )
        print(f"ingest plain:   {best_plain:10.0f} events/s (rounds: {', '.join(f'{x:.0f}' for x in plain)})")
        print(f"ingest chained: {best_chained:10.0f} events/s (rounds: {', '.join(f'{x:.0f}' for x in chained)})")
        print(f"ratio chained/plain: {best_chained / best_plain:.3f} (target >= 0.90)")

        start = time.perf_counter()
        reports = [verify_store(store, tenant=f"c{r}-tenant-{t}") for r in range(args.rounds) for t in range(4)]
        elapsed = time.perf_counter() - start
        chained_events = sum(t.events for report in reports for t in report.tenants)
        assert all(report.ok for report in reports)
        print(f"verify: {chained_events} events in {elapsed:.2f} s = {chained_events / elapsed:.0f} events/s "
              f"({sum(t.checkpoints for report in reports for t in report.tenants)} checkpoints)")  # fmt: skip
        start = time.perf_counter()
        verdict = verify_task(store, "c0-tenant-1", "c0-task-5")
        print(f"verify_task (UI badge): {verdict.status} in {(time.perf_counter() - start) * 1000:.1f} ms")
        store.close()


if __name__ == "__main__":
    main()
