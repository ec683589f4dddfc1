"""A delivery retried across a sidecar restart is stored once (the ingest over a real pipeline).

The sidecar answers 200 only once a batch is durable; if it dies after that but before the
client reads the answer, the client sends the batch again to the restarted sidecar. That
sidecar must recognise the ids, whether the batch still waits in its spool or is in the store.
"""

from __future__ import annotations

import time

import pytest
from durable_testlib import FlakyStore, make_pipeline

from collector import Store
from collector._events import CapturedEvent, EventKind, TaskRef
from collector._sidecar._ingest import Ingest
from collector._sidecar._settings import SidecarSettings

TASK = TaskRef("acme", "corr-restart", "u-1", "team-1", "RoundRobinGroupChat")


def events(prefix: str, n: int, first_seq: int = 0) -> list[CapturedEvent]:
    return [
        CapturedEvent(0, TASK, first_seq + i, time.time_ns(), EventKind.PUBLISH, {"__type__": "TextMessage",
                      "content": f"step {i}"}, event_id=f"{prefix}-{i}")
        for i in range(n)
    ]  # fmt: skip


def stored(store: Store) -> tuple[int, int]:
    _, [(total, unique)] = store.query("SELECT count(), uniqExact(event_id) FROM events")
    return int(total), int(unique)


@pytest.mark.parametrize("window_s", [900.0, 0.0], ids=["seeded", "not-seeded"])
def test_restarted_ingest_knows_what_its_spool_and_store_hold(store: Store, redactor: object, window_s: float) -> None:
    flaky = FlakyStore(store)
    sidecar = SidecarSettings(ingest_dedup_window_s=window_s, ingest_ack_timeout_s=10)
    in_store, in_spool = events("stored", 5), events("spooled", 4, first_seq=5)

    first = make_pipeline(flaky, redactor)
    ingest = Ingest(first, first.settings, sidecar)
    assert ingest.accept(in_store) and first.flush(20)
    flaky.down = True  # the next batch is durable in the spool only
    assert ingest.accept(in_spool)
    first.shutdown(0.5)  # "crash": the spooled batch stays behind

    second = make_pipeline(flaky, redactor)
    try:
        restarted = Ingest(second, second.settings, sidecar)
        # The client never saw the answers: it sends both batches again.
        assert restarted.accept(in_store + in_spool)
        flaky.down = False
        assert second.flush(20)
    finally:
        second.shutdown(10)
    if window_s:
        assert restarted.seeded == 9
        assert restarted.duplicates == 9
        assert stored(store) == (9, 9)
    else:  # the contrast: without the seed, the retry is stored again (what this setting prevents)
        assert restarted.duplicates == 0
        total, unique = stored(store)
        assert unique == 9 and total > 9
