"""A retried delivery is acknowledged only once its first delivery is durable.

The sidecar answers 200 once a batch is spooled, and remembers the ids it received so that a
retry is not stored twice. A client whose first delivery timed out (503: redaction was slow)
retries; the sidecar used to see only known ids and answer 200 at once, while the events were
still in memory, and a crash then lost them with the client counting them acknowledged.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from durable_testlib import make_pipeline, scalar, wait_for

from collector import Store
from collector._events import CapturedEvent, EventKind, TaskRef
from collector._sidecar._ingest import Ingest
from collector._sidecar._settings import SidecarSettings

TASK = TaskRef("acme", "corr-retry", "u-1", "team-1", "RoundRobinGroupChat")


class SlowRedactor:
    """The real redactor, 1.5 s late per batch: a sidecar under load."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def redact_many(self, items: Sequence[tuple[str, Any]]) -> Sequence[Any]:
        time.sleep(1.5)
        return self._real.redact_many(items)


def _events() -> list[CapturedEvent]:
    return [
        CapturedEvent(0, TASK, i, time.time_ns(), EventKind.PUBLISH, {"content": f"m{i}"}, event_id=f"app1-{i:04x}")
        for i in range(3)
    ]


def test_a_retry_waits_for_the_first_delivery_to_be_durable(tmp_path: Any, redactor: object) -> None:
    store = Store.open(f"chdb://{tmp_path / 'store'}")
    try:
        pipeline = make_pipeline(store, SlowRedactor(redactor), batch_interval_s=0.05)
        ingest = Ingest(pipeline, pipeline.settings, SidecarSettings(ingest_ack_timeout_s=0.3))
        assert ingest.accept(_events()) is False  # 503: not durable within 0.3 s
        started = time.monotonic()
        assert ingest.accept(_events()) is False  # the retry: still not durable, so not acknowledged
        assert time.monotonic() - started >= 0.25  # it waited for the first delivery, not answered at once
        assert ingest.duplicates == 3
        # Once the first delivery is spooled, a retry is acknowledged, and nothing is stored twice.
        assert wait_for(lambda: ingest.accept(_events()), 15.0)
        assert pipeline.flush(15.0)
        assert scalar(store, "SELECT count() FROM events WHERE correlation_id = 'corr-retry'") == 3
    finally:
        pipeline.shutdown(10.0)
        store.close()
