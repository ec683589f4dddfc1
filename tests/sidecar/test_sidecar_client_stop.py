"""A stop whose deadline passes while the shipper is mid-POST, against a real sidecar process.

The shipper is held after writing a whole request and before reading the answer (the body it
sends pauses once its last piece is out): that is where a stop that gave up on it used to close
the connection under it. The sidecar stores the batch; the client must then count it acknowledged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from collector import AuditSettings, Store
from collector._events import CapturedEvent, EventKind, TaskRef
from collector._sidecar import SidecarSettings
from collector._sidecar._client import RemoteSink

from ._procs import TOKEN, Sidecar

TASK = TaskRef("acme", "corr-stop", "u-1", "team-1", "RoundRobinGroupChat")


class PausedAfterSending(list[bytes | memoryview]):
    """A request body that, while http.client writes it, holds the sender once its last piece is out."""

    def __init__(self, body: Sequence[bytes | memoryview], sent: threading.Event, resume: threading.Event) -> None:
        super().__init__(body)
        self._sent, self._resume, self._passes = sent, resume, 0

    def __iter__(self) -> Iterator[bytes | memoryview]:
        self._passes += 1
        yield from super().__iter__()
        if self._passes == 2:  # the first pass only sums Content-Length
            self._sent.set()
            self._resume.wait(30)


def test_a_stop_that_gives_up_mid_post_leaves_the_connection_to_the_shipper(tmp_path: Path) -> None:
    car = Sidecar(f"chdb://{tmp_path / 'store'}", tmp_path / "sidecar.log")
    try:
        car.wait_ready()
        audit = AuditSettings(sidecar_url=car.url, ingest_token=TOKEN, snapshot_interval_s=0.02)  # type: ignore[arg-type]
        sink = RemoteSink(audit, SidecarSettings(remote_retry_initial_s=0.01, remote_retry_max_s=0.05))
        sent, resume = threading.Event(), threading.Event()
        post = sink._poster.post
        sink._poster.post = lambda path, body: post(path, PausedAfterSending(body, sent, resume))  # type: ignore[method-assign]
        for n in range(1, 11):
            assert sink.submit(CapturedEvent(n, TASK, n, time.time_ns(), EventKind.PUBLISH, {"step": n}))
        assert sent.wait(10)
        assert not sink.shutdown(0.3)  # the batch is not acknowledged yet
        resume.set()
        sink._shipper.join(10)
        assert not sink._shipper.is_alive()
        stats = sink.stats()
        assert (stats.accepted, stats.acknowledged, stats.lost) == (10, 10, 0)
        assert sink._poster._conn is None  # the shipper closed it on its way out
    finally:
        assert car.stop() == 0
    store = Store.open(f"chdb://{tmp_path / 'store'}")
    try:
        _, [(total, unique)] = store.query("SELECT count(), uniqExact(event_id) FROM events WHERE kind = 'publish'")
        assert total == unique == 10
    finally:
        store.close()
