"""An event being encoded by the snapshot stage is still seen by shutdown and flush.

The stage used to take an event off the queue, encode it, then put it on ready: while it was
being encoded it was in no queue, and the batcher's drain and exit checks (which read the queues)
let a shutdown or flush end without it. shutdown() returned True, nothing counted it lost, and it
was never stored. Encoding is slow for a large payload (a long TaskResult); here it is made slow.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from durable_testlib import make_pipeline, scalar, wait_for

import collector._snapshot_stage as stage_module
from collector import Store
from collector._events import CapturedEvent, EventKind, TaskRef

TASK = TaskRef("acme", "corr-race", "u-1", "team-1", "RoundRobinGroupChat")


@pytest.fixture
def slow_snapshots(monkeypatch: pytest.MonkeyPatch) -> None:
    real = stage_module.snapshot_event

    def slow(event: CapturedEvent, **kwargs: Any) -> CapturedEvent:
        time.sleep(0.5)  # as a large payload's JSON encoding takes
        return real(event, **kwargs)

    monkeypatch.setattr(stage_module, "snapshot_event", slow)


def _event() -> CapturedEvent:
    return CapturedEvent(1, TASK, 0, time.time_ns(), EventKind.PUBLISH, {"__type__": "TextMessage", "content": "hi"})


@pytest.mark.parametrize("ending", ["shutdown", "flush"])
def test_an_event_being_encoded_is_not_left_behind(
    tmp_path: Any, redactor: object, slow_snapshots: None, ending: str
) -> None:
    store = Store.open(f"chdb://{tmp_path / 'store'}")
    try:
        pipeline = make_pipeline(store, redactor, batch_interval_s=0.05)
        assert pipeline.submit(_event())
        time.sleep(0.1)  # the stage's thread (every 20 ms) is now encoding it
        if ending == "shutdown":
            assert pipeline.shutdown(10.0)
        else:
            assert pipeline.flush(10.0)
        assert scalar(store, "SELECT count() FROM events WHERE correlation_id = 'corr-race'") == 1
        stats = pipeline.stats()
        assert stats.accepted == 1 and stats.lost == 0
        if ending == "flush":
            assert wait_for(lambda: pipeline.shutdown(10.0), 15.0)
    finally:
        store.close()
