"""Loss rows riding in a batch the spool refuses are written with the new losses, not dropped.

Eight events are dropped for a full queue (a loss row waits in the ledger), then the batch that
carries that loss row and the two accepted events is refused by a full spool: the accepted two
become a second loss row, and the first must not vanish with its batch. The task's lost_events
counts each lost event once.
"""

from __future__ import annotations

import json
import time
from typing import Any

from durable_testlib import make_pipeline, scalar

from collector import Store
from collector._events import CapturedEvent, EventKind, TaskRef

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
