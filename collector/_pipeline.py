"""The pipeline: bounded queue -> snapshot stage -> batcher (redact, spool) -> writer (ClickHouse, ack).

This module owns the parts and the public API: ``submit``, the hot path (a deque append, no lock,
no I/O, never raises), then flush, shutdown, stats and health. Each stage has its own thread and
module: the snapshot stage (collector._snapshot_stage) turns payloads into JSON text; the batcher
(collector._batcher) redacts and processes batches and appends the redacted records to the durable
spool; the writer (collector._writer) inserts spooled batches and acks them. A batch is durable
from the moment its append returns; what ClickHouse does not take stays in the spool and is
replayed at the next start. See docs/durability.md for the guarantees and the backpressure policy.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence

from ._batcher import Batcher, Waiter
from ._codec import decode_batch, encode_batch
from ._events import CapturedEvent
from ._metrics import PipelineMetrics, SpoolGauges
from ._pipeline_health import Health, PipelineStats, assess
from ._pipeline_state import PipelineState
from ._processors import RecordProcessor, close_processors, show_replayed
from ._records import RecordBuilder
from ._retry import RetryPolicy
from ._safe_log import at_milestone, log_failure
from ._settings import AuditSettings
from ._snapshot_stage import SnapshotStage
from ._spool import Spool, SpoolClosedError, SpoolFullError, SpoolWriteError
from ._spool_open import open_spool
from ._store._exporter import Exporter
from ._task_lookup import TaskLookup
from ._writer import SpoolWriter

__all__ = ["AuditPipeline", "Health", "PipelineStats", "RecordProcessor"]

log = logging.getLogger("collector")


class AuditPipeline:
    """Owns the queue, the spool and the three stages. One per AuditHook (or per sidecar)."""

    def __init__(
        self,
        *,
        exporter: Exporter,
        builder: RecordBuilder,
        settings: AuditSettings,
        processors: Sequence[RecordProcessor] = (),
        spool: Spool | None = None,
        task_lookup: TaskLookup | None = None,
    ) -> None:
        self._processors = list(processors)
        self._settings = settings
        state = PipelineState()
        # Aliases: submit runs once per event.
        self._queue, self._overflow, self._ready = state.queue, state.overflow, state.ready
        self._max = settings.queue_max_events
        self._overflow_max = settings.overflow_max_events if settings.queue_full_policy == "spill" else 0
        self._batch = settings.batch_max_events
        self._spool = spool or open_spool(settings)
        self._losses = state.losses
        self._wake = state.wake
        self._cond = state.cond
        self._stopping = False
        self._closed = False
        self._waiters = state.waiters
        self._unacked = state.unacked
        self._n = state.counts
        # Batches a previous process left are replayed first; flush and shutdown wait for them too.
        for leftover in self._spool.pending():
            self._unacked[leftover.batch_id] = None
            show_replayed(self._processors, leftover.records)
        self.metrics = PipelineMetrics(
            SpoolGauges(
                queue_depth=lambda: len(self._queue) + len(self._overflow) + len(self._ready),
                spool_bytes=lambda: self._spool_stat("bytes"),
                spool_oldest_age_s=lambda: self._spool_stat("oldest_age_s"),
                spool_pending_batches=lambda: self._spool_stat("pending_batches"),
                quarantined_records=lambda: self._spool_stat("quarantined_records"),
                ready=lambda: float(self.health().ready),
                events_in=lambda: self._n["accepted"],
            ),
            settings.spool_max_bytes,
        )
        policy = RetryPolicy(
            initial_s=settings.retry_initial_s, max_s=max(settings.retry_max_s, settings.retry_initial_s)
        )
        self._exporter = exporter
        self._writer = SpoolWriter(
            self._spool, exporter, policy, self.metrics, self._acked, ping_every_s=settings.ready_store_stale_s / 3
        )
        self._snapshots = SnapshotStage(state=state, settings=settings)
        self._batcher = Batcher(
            state=state,
            snapshots=self._snapshots,
            builder=builder,
            processors=self._processors,
            spool=self._spool,
            writer=self._writer,
            metrics=self.metrics,
            settings=settings,
            task_lookup=task_lookup,
        )
        self._batcher.start()
        self._snapshots.start()

    @property
    def settings(self) -> AuditSettings:
        return self._settings

    def worker_threads(self) -> tuple[threading.Thread, ...]:
        """The threads that snapshot, redact and store (a sidecar lowers their CPU priority)."""
        return (self._snapshots.thread, self._batcher.thread, self._writer.thread)

    # -- hot path -------------------------------------------------------------------------
    def submit(self, event: CapturedEvent) -> bool:
        """Enqueue one event. Never blocks, never raises; past every bound it records a counted loss."""
        if self._stopping:
            self._lose(event, "shutdown")
            return False
        if len(self._queue) + len(self._ready) < self._max and not self._overflow:
            self._queue.append(event)
        elif len(self._overflow) < self._overflow_max:
            self._overflow.append(event)  # spill: FIFO continues here until the batcher catches up
        else:
            self._lose(event, "queue_full")
            return False
        self._n["accepted"] += 1
        if len(self._queue) >= self._batch or self._overflow:
            self._wake.set()
        return True

    def add_feeder(self, feed: Callable[[], object]) -> None:
        """Have the pipeline's workers call ``feed`` (which submits what a producer buffered)
        before each snapshot pass and each batch, and so before a flush completes."""
        self._snapshots.add_feeder(feed)

    def _lose(self, event: CapturedEvent, reason: str) -> None:
        total = self._losses.record(event.task, event.seq, reason.replace("_", " "))
        self.metrics.events_lost.labels(reason).inc()
        if at_milestone(total):
            log.warning("collector: %s, %d events lost so far (recorded per task)", reason.replace("_", " "), total)
        self._wake.set()

    # -- control --------------------------------------------------------------------------
    def submit_batch_durable(self, events: Sequence[CapturedEvent], timeout: float) -> bool:
        """Accept a batch; True once every event of it is redacted and appended to the spool.

        False if any event was refused (queue full, shutting down), the spool refused its batch
        (the events are then recorded as lost), or ``timeout`` passed first (they may still land).
        """
        if not events:
            return True
        waiter = self.submit_durable(events)
        done = waiter.done.wait(timeout)
        if not done:
            for event in events:
                self._waiters.pop(id(event), None)
        return done and waiter.ok

    def submit_durable(self, events: Sequence[CapturedEvent]) -> Waiter:
        """Accept a batch without waiting. The waiter's ``done`` is set once every event of it is
        appended to the spool (``ok``) or was refused or lost (not ``ok``), however long that
        takes: a caller that stopped waiting can wait again (the sidecar, for a client's retry)."""
        waiter = Waiter(len(events))
        for event in events:
            self._waiters[id(event)] = waiter
        accepted = [self.submit(event) for event in events]
        for event, ok in zip(events, accepted, strict=True):
            if not ok and self._waiters.pop(id(event), None) is not None:
                waiter.ok = False
                waiter.remaining -= 1
        if waiter.remaining <= 0:
            waiter.done.set()
        else:
            self._wake.set()
        return waiter

    def flush(self, timeout: float) -> bool:
        """Wait until everything submitted before this call is in ClickHouse. False on timeout, or
        early when what remains is parked on a permanent error (it stays in the spool)."""
        deadline = time.monotonic() + timeout
        generation = self._batcher.request_flush()
        with self._cond:
            if not self._cond.wait_for(lambda: self._batcher.flushed(generation), timeout):
                return False
            todo = set(self._unacked)
        return self._wait_acked(todo, deadline)

    def _wait_acked(self, todo: set[str], deadline: float) -> bool:
        mark = self._writer.kick()

        def settled() -> bool:
            left = [t for t in todo if t in self._unacked]
            if not left:
                return True
            # Parked batches got their extra attempt in a pass after the kick: they stay in the spool.
            return self._writer.passes_since(mark) and all(self._writer.is_parked(t) for t in left)

        with self._cond:
            while not settled():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.2))  # parked state changes without a notify
            return not any(t in self._unacked for t in todo) and not self._writer.state().direct_pending

    def recent_event_ids(self, window_s: float, limit: int) -> list[str]:
        """Ids of events this pipeline may already hold: its spool's pending batches, then what the
        store ingested in the last ``window_s`` seconds (newest first, at most ``limit`` in all). A
        sidecar reads them at start so a delivery retried across its restart is not stored twice.
        The spool is read first: a batch written and acked in between is then in the store. A
        store that cannot answer is logged and the spool's ids are returned alone."""
        ids: list[str] = []
        for batch in self._spool.pending():
            with contextlib.suppress(Exception):  # a batch the writer cannot decode is quarantined by it
                ids.extend(e.event_id for e in decode_batch(batch.records)[0])
        recent = getattr(self._exporter, "recent_event_ids", None)
        if callable(recent) and len(ids) < limit:
            try:
                ids.extend(recent(window_s, limit - len(ids)))
            except Exception as exc:  # noqa: BLE001 - the caller starts anyway, with what the spool knew
                log_failure(log, "collector: could not read recently stored event ids", exc)
        return ids[:limit]

    def shutdown(self, timeout: float) -> bool:
        """Drain the queue into the spool, flush the spool into the store within ``timeout``, stop.

        True iff every accepted event is durable: in ClickHouse, or in the spool for the next
        start. False if an accepted event was lost (spool full / disk error) or is still in memory.
        """
        if self._closed:
            return self._n["lost_accepted"] == 0
        deadline = time.monotonic() + timeout
        self._stopping = True
        stopped = self._batcher.stop(deadline)
        drained = stopped and not self._queue and not self._overflow and not self._ready
        with self._cond:
            todo = set(self._unacked)
        self._wait_acked(todo, deadline)
        self._writer.stop(max(0.05, deadline - time.monotonic()))
        kept_in_memory = self._spool_direct_leftovers()
        # After the writer: the chain seals the newest stored events, the OTel export flushes.
        close_processors(self._processors, deadline - time.monotonic())
        self._closed = True
        self._snapshots.stop()
        try:
            self._spool.close()
        except OSError as exc:
            log.error("collector: closing the spool failed (%s)", type(exc).__name__)
        return drained and not kept_in_memory and self._n["lost_accepted"] == 0

    async def aclose(self, timeout: float | None = None) -> bool:
        """``shutdown`` from async code (a service's lifespan), off the event loop."""
        import asyncio

        return await asyncio.to_thread(self.shutdown, self._settings.flush_timeout_s if timeout is None else timeout)

    def _spool_direct_leftovers(self) -> bool:
        """Loss rows still only in memory get one last chance to reach the disk; True if some could not."""
        left = False
        for direct in self._writer.take_direct():
            try:
                # Under its own token: a writer that outlived its stop may still be inserting it.
                self._spool.append(encode_batch(direct.events, direct.tasks), batch_id=direct.token)
            except (SpoolFullError, SpoolWriteError, SpoolClosedError):
                left = True
        if left:
            log.error("collector: loss records could not be stored or spooled at shutdown")
        return left

    def stats(self) -> PipelineStats:
        st = self._spool.stats() if not self._closed else None
        n = self._n
        return PipelineStats(
            accepted=n["accepted"],
            written=n["written"],
            lost=self._losses.total,
            queued=len(self._queue) + len(self._overflow) + len(self._ready),
            batches=n["batches"],
            export_failures=self._writer.state().failures,
            redaction_failures=n["redaction_failures"],
            lost_accepted=n["lost_accepted"],
            deduplicated=n["deduplicated"],
            replayed=n["replayed"],
            spool_pending_batches=st.pending_batches if st else 0,
            spool_bytes=st.bytes if st else 0,
        )

    def health(self) -> Health:
        st = self._spool.stats() if not self._closed else None
        return assess(self._settings, self._writer.state(), st, self._closed, self._n["spool_rejections"])

    def _spool_stat(self, name: str) -> float:
        if self._closed:
            return 0.0
        return float(getattr(self._spool.stats(), name))

    # -- writer callback ------------------------------------------------------------------
    def _acked(self, token: str, rows: int, deduplicated: int, replay: bool) -> None:
        with self._cond:
            self._unacked.pop(token, None)
            n = self._n
            if replay:
                n["replayed"] += rows
            else:
                n["written"] += max(0, rows - deduplicated)
            n["deduplicated"] += deduplicated
            self._cond.notify_all()
