"""The snapshot stage: captured payloads -> JSON text, off the dispatch loop, in capture order.

Held as objects, captured messages would be scanned by the cyclic GC on every collection until the
batcher (which may be redacting a large batch, or held back) takes them: that costs the app more
than the hook itself. Text is compact and untracked. A thread does this every snapshot_interval_s,
and the batcher does it for whatever is left before each batch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._events import snapshot_event
from ._safe_log import log_failure
from ._settings import AuditSettings

if TYPE_CHECKING:
    from ._pipeline_state import PipelineState

__all__ = ["SnapshotStage"]

log = logging.getLogger("collector")


class SnapshotStage:
    """Moves events from the pipeline's queue and overflow to its ready deque, snapshotted.

    The deques and the waiters are the pipeline's own objects, shared: ``submit`` appends to the
    queue and overflow without a lock, and the batcher takes from ready."""

    def __init__(self, *, state: PipelineState, settings: AuditSettings) -> None:
        self._queue = state.queue
        self._overflow = state.overflow
        self._ready = state.ready
        self._consume = threading.Lock()  # the stage's thread and the batcher (before each batch) both move events
        self._waiters = state.waiters
        self._wake = state.wake
        self._settings = settings
        self._batch = settings.batch_max_events
        self._stopped = False
        self._feeders: list[Callable[[], object]] = []
        self._thread = threading.Thread(target=self._loop, name="autogen-audit-snapshot", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def stop(self) -> None:
        """The thread ends after its current sleep; it is a daemon, nobody waits for it."""
        self._stopped = True

    def add_feeder(self, feed: Callable[[], object]) -> None:
        """``feed`` submits what a producer has buffered (the hook's capture log): called first on
        every pass, so a pass covers everything captured before it began."""
        self._feeders.append(feed)

    def feed(self) -> None:
        for feed in self._feeders:
            feed()

    def snapshot_pending(self) -> None:
        self.feed()  # before taking the lock: feeding submits, and submit never waits on it
        depth, chars = self._settings.max_depth, self._settings.max_field_chars
        with self._consume:
            for source in (self._queue, self._overflow):
                while source:
                    # Encoded while still at the head of its queue, put on ready, then taken off:
                    # an event is never in no queue at all, where the batcher's drain and exit
                    # checks (which read the queues without this lock) would not see it and a
                    # shutdown or flush would end without it.
                    event = source[0]
                    try:
                        snapshot = snapshot_event(event, max_depth=depth, max_chars=chars)
                    except Exception:  # noqa: BLE001 - never drop it: the record builder serializes raw payloads too
                        snapshot = event
                    if snapshot is not event and self._waiters:
                        waiter = self._waiters.pop(id(event), None)  # a durable submit waits on it
                        if waiter is not None:
                            self._waiters[id(snapshot)] = waiter
                    self._ready.append(snapshot)
                    source.popleft()
        if len(self._ready) >= self._batch:
            self._wake.set()

    def _loop(self) -> None:
        interval = self._settings.snapshot_interval_s
        while not self._stopped:
            time.sleep(interval)
            try:
                self.snapshot_pending()
            except Exception as exc:  # noqa: BLE001 - the stage must survive anything; the batcher snapshots what is left
                log_failure(log, "collector: snapshot stage error (content withheld)", exc)
