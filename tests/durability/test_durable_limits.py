"""Bounds: a full queue, a full spool, a full disk. Losses are counted, stored as loss rows, and
mark their task incomplete; the pipeline never crashes and keeps going."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from durable_testlib import FlakyStore, make_pipeline, scalar, wait_for
from spool_testlib import small_tmpfs

from collector import CapturedEvent, EventKind, Store, TaskRef


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    real = Store.open(f"chdb://{tmp_path / 'store'}")
    yield real
    real.close()


def _events(task: TaskRef, n: int, start: int = 0, size: int = 10) -> list[CapturedEvent]:
    now = time.time_ns()
    return [
        CapturedEvent(start + i, task, start + i, now + i, EventKind.CUSTOM, {"i": start + i, "pad": "x" * size})
        for i in range(n)
    ]


def _task_row(store: Store, correlation: str) -> tuple[int, int]:
    _, rows = store.query(
        "SELECT lost_events, abnormal FROM tasks FINAL WHERE correlation_id = {c:String}", parameters={"c": correlation}
    )
    return rows[0]


@pytest.mark.parametrize("policy", ["drop", "spill"])
def test_full_queue_never_blocks_and_records_the_loss(store: Store, redactor: object, policy: str) -> None:
    # A batcher that only wakes after 60 s: the queue (5) and the overflow (10, spill only) fill up.
    pipeline = make_pipeline(
        store, redactor, queue_max_events=5, overflow_max_events=10, queue_full_policy=policy,
        batch_interval_s=60.0, batch_max_events=1000,
    )  # fmt: skip
    task = TaskRef("acme", f"full-{policy}")
    t0 = time.perf_counter()
    accepted = [pipeline.submit(e) for e in _events(task, 50)]
    assert time.perf_counter() - t0 < 0.5  # never blocked
    kept = sum(accepted)
    # The first loss wakes the batcher, which then makes room; at least the bounds were accepted.
    assert 50 > kept >= 5 + (10 if policy == "spill" else 0)
    assert pipeline.shutdown(20.0)  # refused events were never accepted: the accepted ones are durable
    assert scalar(store, "SELECT count() FROM events WHERE kind != 'loss'") == kept
    lost = scalar(store, "SELECT sum(JSONExtractInt(payload, 'lost')) FROM events WHERE kind = 'loss'")
    assert lost == 50 - kept == pipeline.stats().lost
    assert _task_row(store, task.correlation_id) == (50 - kept, 1)
    assert f'audit_events_lost_total{{reason="queue_full"}} {50 - kept}.0' in pipeline.metrics.exposition().decode()


def test_spool_full_loses_the_batch_visibly_and_keeps_running(store: Store, redactor: object) -> None:
    flaky = FlakyStore(store)
    flaky.down = True  # nothing leaves the spool, so it fills
    pipeline = make_pipeline(flaky, redactor, spool_max_bytes=64 * 1024, spool_segment_bytes=16 * 1024)
    task = TaskRef("acme", "spool-full")
    ok = [pipeline.submit_batch_durable(_events(task, 10, start=i * 10, size=2000), 10.0) for i in range(8)]
    assert ok[0] and not all(ok)  # the first batches fit, later ones are refused
    stats = pipeline.stats()
    assert stats.lost_accepted > 0
    health = pipeline.health()
    assert not health.ready
    assert 'audit_spool_rejections_total{reason="spool_full"}' in pipeline.metrics.exposition().decode()
    flaky.down = False
    assert not pipeline.shutdown(30.0)  # accepted events were lost: shutdown says so
    stored = scalar(store, "SELECT count() FROM events WHERE kind != 'loss'")
    assert stored == 10 * sum(ok)
    assert _task_row(store, "spool-full") == (80 - stored, 1)


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path, "192k") as mount_point:
        yield mount_point


def test_disk_full_spool_records_the_loss_in_the_store(store: Store, redactor: object, small_fs: Path) -> None:
    flaky = FlakyStore(store)
    flaky.down = True
    pipeline = make_pipeline(
        flaky, redactor, spool_dir=str(small_fs / "spool"), spool_max_bytes=64 << 20, spool_segment_bytes=1 << 20
    )
    task = TaskRef("acme", "disk-full")
    results = []
    for i in range(30):
        results.append(pipeline.submit_batch_durable(_events(task, 5, start=i * 5, size=6000), 10.0))
    assert results[0] and not results[-1]
    assert pipeline.stats().lost_accepted > 0
    assert pipeline.submit(_events(task, 1, start=10_000)[0])  # still accepting: no crash
    exposition = pipeline.metrics.exposition().decode()
    assert 'audit_spool_rejections_total{reason="spool_write_error"}' in exposition
    flaky.down = False  # the store comes back: spooled batches and the in-memory loss rows go in
    assert wait_for(lambda: scalar(store, "SELECT count() FROM events WHERE kind = 'loss'") > 0)
    pipeline.shutdown(30.0)
    stored = scalar(store, "SELECT count() FROM events WHERE kind != 'loss'")
    lost_events, abnormal = _task_row(store, "disk-full")
    assert abnormal == 1 and lost_events == pipeline.stats().lost_accepted
    assert stored + lost_events == 151
