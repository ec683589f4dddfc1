"""A restart that replays spooled, already-chained batches continues each chain instead of forking it."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

from durable_testlib import FlakyStore

from collector import AuditPipeline, AuditSettings, CapturedEvent, ClickHouseExporter, EventKind, Store, TaskRef
from collector._integrity import IntegritySettings, build_chain_processor, verify_store
from collector._records import RecordBuilder

_GSEQ = itertools.count(1)


def pipeline(store: Store, redactor: Any, tmp_path: Path, prefix: str) -> AuditPipeline:
    settings = AuditSettings(
        store_dsn=store.dsn, batch_interval_s=0.05, retry_initial_s=0.05, retry_max_s=0.2,
        spool_dir=str(tmp_path / "spool"),
    )  # fmt: skip
    integrity = IntegritySettings(checkpoint_every=4, checkpoint_interval_s=0, key_dir=str(tmp_path / "keys"))
    return AuditPipeline(
        exporter=ClickHouseExporter(store),
        builder=RecordBuilder(settings, redactor, prefix),
        settings=settings,
        processors=[build_chain_processor(integrity, store)],
    )


def submit(p: AuditPipeline, task: str, n: int) -> None:
    now = time.time_ns()
    for i in range(n):
        kind = EventKind.TASK_START if i == 0 else EventKind.SEND
        p.submit(CapturedEvent(next(_GSEQ), TaskRef("acme", task), i + 1, now + i, kind, {"content": f"step {i}"}))


def test_restart_with_spooled_chained_batches_keeps_one_chain(tmp_path: Path, redactor: Any) -> None:
    real = Store.open(f"chdb://{tmp_path / 'store'}")
    try:
        flaky = FlakyStore(real)
        flaky.down = True
        first = pipeline(flaky, redactor, tmp_path, "a")
        submit(first, "before-crash", 6)
        assert not first.flush(1.5)  # the store is down: chained, spooled, not stored
        assert first.shutdown(1.0)  # durable: in the spool for the next start
        assert real.query("SELECT count() FROM events")[1] == [(0,)]

        flaky.down = False
        second = pipeline(flaky, redactor, tmp_path, "b")  # replays the spool; a fresh chain processor
        submit(second, "after-restart", 5)
        assert second.flush(30)
        assert second.shutdown(10)

        _, rows = real.query("SELECT chain_seq, correlation_id FROM events WHERE tenant_id = 'acme' ORDER BY chain_seq")
        assert [r[0] for r in rows] == list(range(1, 12))  # one gap-free chain, no seq used twice
        assert {r[1] for r in rows[:6]} == {"before-crash"}
        report = verify_store(real, tenant="acme")
        assert report.ok, [f for t in report.tenants for f in t.findings]
    finally:
        real.close()
