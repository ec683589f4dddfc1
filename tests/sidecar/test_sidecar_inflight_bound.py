"""The sidecar's memory of deliveries still on their way stays bounded while the spool refuses them.

Waiters of refused deliveries were kept until the client retried, and only durable ones were ever
forgotten: a long refusal (spool full) grew the map by every event received.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence

from collector import AuditSettings, CapturedEvent, EventKind, TaskRef
from collector._batcher import Waiter
from collector._sidecar._ingest import Ingest
from collector._sidecar._settings import SidecarSettings


class _RefusingSink:
    """Every delivery refused at once, as a full spool refuses it (the one fake: of our own sink)."""

    def submit_durable(self, events: Sequence[CapturedEvent]) -> Waiter:
        waiter = Waiter(len(events))
        waiter.ok = False
        waiter.done.set()
        return waiter

    def recent_event_ids(self, window_s: float, limit: int) -> list[str]:
        return []


def test_refused_deliveries_are_not_remembered_past_the_dedup_window() -> None:
    ingest = Ingest(_RefusingSink(), AuditSettings(), SidecarSettings(ingest_dedup_ids=1_000))
    ids = itertools.count()
    task = TaskRef("acme", "corr-refused")
    for _ in range(300):  # 30,000 events, each delivery refused
        batch = [
            CapturedEvent(0, task, n, time.time_ns(), EventKind.SEND, {"n": n}, event_id=f"app-{n:08x}")
            for n in itertools.islice(ids, 100)
        ]
        assert ingest.accept(batch) is False
    assert len(ingest._inflight) <= 20_000  # bounded by the prune threshold, not by what was received
    # A retry of a recent refused delivery is still submitted again (its waiter is still known).
    recent = CapturedEvent(0, task, 1, time.time_ns(), EventKind.SEND, {"n": 1}, event_id=f"app-{29_999:08x}")
    before = ingest.duplicates
    assert ingest.accept([recent]) is False
    assert ingest.duplicates == before
