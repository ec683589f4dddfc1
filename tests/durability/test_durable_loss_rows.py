"""Loss rows riding in a batch the spool refuses are written with the new losses, not dropped.

Eight events are dropped for a full queue (a loss row waits in the ledger), then the batch that
carries that loss row and the two accepted events is refused by a full spool: the accepted two
become a second loss row, and the first must not vanish with its batch. The task's lost_events
counts each lost event once.

Loss rows the spool refused are inserted from memory; if shutdown gives up on a writer still
inserting them, it spools them, and the next start replays them: they must be stored once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import Any

from durable_testlib import FAST, make_pipeline, scalar, wait_for

from collector import AuditPipeline, AuditSettings, ClickHouseExporter, Store
from collector._events import CapturedEvent, EventKind, EventRecord, TaskRecord, TaskRef
from collector._records import RecordBuilder
from collector._store._exporter import ExportResult

TASK = TaskRef("acme", "corr-loss", "u-1", "team-1", "RoundRobinGroupChat")


def test_loss_rows_of_a_refused_batch_are_still_written(tmp_path: Any, redactor: object) -> None:
    store = Store.open(f"chdb://{tmp_path / 'store'}")
    try:
        pipeline = make_pipeline(
            store, redactor, queue_full_policy="drop", queue_max_events=2, batch_max_events=64,
            spool_max_bytes=8192, spool_segment_bytes=4096,
        )  # fmt: skip
        with pipeline._snapshots._consume:  # the batcher waits until all ten were offered: one batch
            payload = {"__type__": "M", "content": "q" * 5000}
            events = [CapturedEvent(i, TASK, i, time.time_ns(), EventKind.PUBLISH, payload) for i in range(10)]
            accepted = [pipeline.submit(event) for event in events]
        assert accepted.count(True) == 2
        assert pipeline.flush(20)
        stats = pipeline.stats()
        pipeline.shutdown(10)
        _, rows = store.query("SELECT payload FROM events WHERE kind = 'loss'")
        by_reason = {json.loads(r[0])["reason"]: json.loads(r[0])["lost"] for r in rows}
        assert stats.lost == 10
        assert by_reason == {"queue full": 8, "spool full": 2}
        assert scalar(store, "SELECT max(lost_events) FROM tasks FINAL WHERE correlation_id = 'corr-loss'") == 10
    finally:
        store.close()


class GatedExporter:
    """The real exporter behind switches that force one interleaving: the store down while the spool
    fills, one loss batch refused once (so the spooled batches go ahead of it), then held mid-insert."""

    def __init__(self, real: ClickHouseExporter) -> None:
        self.real = real
        self.down = True
        self.refuse_once: set[str] = set()
        self.hold: set[str] = set()
        self.entered = threading.Event()
        self.release = threading.Event()

    def export(
        self, events: Sequence[EventRecord], tasks: Sequence[TaskRecord], token: str, *, retry: bool = False
    ) -> ExportResult:
        if self.down:
            return ExportResult(False, "store down (test)", retryable=True)
        if token in self.refuse_once:
            self.refuse_once.discard(token)
            return ExportResult(False, "refused once (test)", retryable=False)
        if token in self.hold:
            self.entered.set()
            self.release.wait(30)
        return self.real.export(events, tasks, token, retry=retry)


def submit_and_drain(pipeline: AuditPipeline, seq: int) -> None:
    payload = {"__type__": "M", "content": "q" * 700}
    waiter = pipeline.submit_durable([CapturedEvent(seq, TASK, seq, time.time_ns(), EventKind.PUBLISH, payload)])
    assert waiter.done.wait(10)
    generation = pipeline._batcher.request_flush()  # its loss rows, if any, are spooled or held by then
    assert wait_for(lambda: pipeline._batcher.flushed(generation))


def test_loss_rows_the_writer_still_inserts_when_shutdown_spools_them_are_stored_once(
    tmp_path: Any, redactor: object
) -> None:
    small = {"batch_max_events": 1, "spool_max_bytes": 8192, "spool_segment_bytes": 4096}
    store = Store.open(f"chdb://{tmp_path / 'store'}")
    try:
        settings = AuditSettings(store_dsn=store.dsn, **{**FAST, **small})
        gated = GatedExporter(ClickHouseExporter(store))
        builder = RecordBuilder(settings, redactor, "t")  # type: ignore[arg-type]
        pipeline = AuditPipeline(exporter=gated, builder=builder, settings=settings)
        # The store is down: batches fill the spool until even a batch of loss rows does not fit,
        # and the writer holds that one in memory.
        for seq in range(40):
            submit_and_drain(pipeline, seq)
            if pipeline._writer.state().direct_pending:
                break
        [direct] = list(pipeline._writer._direct)
        gated.refuse_once.add(direct.token)
        gated.hold.add(direct.token)
        gated.down = False
        pipeline._writer.kick()
        # The spooled batches go in and free the spool; the loss batch is retried and held mid-insert.
        assert wait_for(lambda: gated.entered.is_set() and pipeline.stats().spool_pending_batches == 0)
        pipeline.shutdown(0.3)  # gives up on the writer and spools the loss batch it is inserting
        gated.release.set()
        pipeline._writer.thread.join(10)
        assert not pipeline._writer.thread.is_alive()
        lost = pipeline.stats().lost

        restarted = make_pipeline(store, redactor, **small)  # replays what the first one spooled
        assert restarted.flush(20)
        assert restarted.shutdown(10)
        _, rows = store.query("SELECT event_id, count() FROM events WHERE kind = 'loss' GROUP BY event_id")
        assert {e.event_id: dict(rows).get(e.event_id) for e in direct.events} == {e.event_id: 1 for e in direct.events}
        _, payloads = store.query("SELECT payload FROM events WHERE kind = 'loss'")
        assert sum(json.loads(p[0])["lost"] for p in payloads) == lost
        assert scalar(store, "SELECT max(lost_events) FROM tasks FINAL WHERE correlation_id = 'corr-loss'") == lost
    finally:
        store.close()
