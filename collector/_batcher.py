"""The batcher thread: queued events -> built, redacted, processed records -> the durable spool.

It wakes every batch_interval_s, or sooner when ``submit`` sees a full batch, a flush asks or the
pipeline stops. It takes events in capture order (snapshotting what the snapshot stage has not
reached yet), builds and redacts the records (RecordBuilder), runs the record processors and the
task tracker, appends the batch to the spool and wakes the writer. A batch the spool refuses, or
one it fails on, becomes loss rows. It settles the waiters of ``submit_batch_durable``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from ._codec import encode_batch
from ._events import CapturedEvent, EventKind, EventRecord, TaskRecord
from ._metrics import PipelineMetrics
from ._pipeline_state import PipelineState
from ._processors import RecordProcessor
from ._records import BuiltEvent, RecordBuilder
from ._safe_log import log_failure
from ._settings import AuditSettings
from ._snapshot_stage import SnapshotStage
from ._spool import Spool, SpoolClosedError, SpoolFullError, SpoolWriteError
from ._store._exporter import batch_token
from ._task_lookup import TaskLookup
from ._tasks import TaskTracker
from ._writer import DirectBatch, SpoolWriter

__all__ = ["Batcher", "Waiter"]

log = logging.getLogger("collector")
_CATCH_UP_FACTOR = 4


class Waiter:
    """One submit_batch_durable call waiting for its events to reach the spool."""

    __slots__ = ("done", "ok", "remaining")

    def __init__(self, n: int) -> None:
        self.remaining = n
        self.ok = True
        self.done = threading.Event()


class Batcher:
    """One daemon thread per pipeline.

    Its queues, waiters, counters and unacked batch ids are the pipeline's, shared through
    ``PipelineState``."""

    def __init__(
        self,
        *,
        state: PipelineState,
        snapshots: SnapshotStage,
        builder: RecordBuilder,
        processors: Sequence[RecordProcessor],
        spool: Spool,
        writer: SpoolWriter,
        metrics: PipelineMetrics,
        settings: AuditSettings,
        task_lookup: TaskLookup | None = None,
    ) -> None:
        self._queue = state.queue
        self._overflow = state.overflow
        self._ready = state.ready
        self._losses = state.losses
        self._waiters = state.waiters
        self._unacked = state.unacked
        self._n = state.counts
        self._cond = state.cond
        self._wake = state.wake
        self._snapshots = snapshots
        self._builder = builder
        self._processors = processors
        self._tracker = TaskTracker(settings.abnormal_stop_patterns, task_lookup)
        self._spool = spool
        self._writer = writer
        self._metrics = metrics
        self._settings = settings
        self._batch = settings.batch_max_events
        self._flush_requested = 0
        self._flush_done = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="autogen-audit-pipeline", daemon=True)

    # -- control (any thread) ---------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def stop(self, deadline: float) -> bool:
        """Drain what is queued and end; True if the thread ended by ``deadline`` (time.monotonic)."""
        self._stopping = True
        self._wake.set()
        self._thread.join(max(0.05, deadline - time.monotonic()))
        return not self._thread.is_alive()

    def request_flush(self) -> int:
        """A generation for ``flushed``: once it is flushed, what was submitted before this call has
        been through a drain (spooled, or recorded as lost)."""
        with self._cond:
            self._flush_requested += 1
            generation = self._flush_requested
        self._wake.set()
        return generation

    def flushed(self, generation: int) -> bool:
        """Under ``cond``: a drain that began after request ``generation`` has ended."""
        return self._flush_done >= generation

    # -- thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            self._wake.wait(self._settings.batch_interval_s)
            self._wake.clear()
            with self._cond:
                generation = self._flush_requested
            self._drain()
            with self._cond:
                self._flush_done = max(self._flush_done, generation)
                self._cond.notify_all()
            if self._stopping and not self._queue and not self._overflow and not self._ready:
                self._drain()  # losses recorded by late submits
                return

    def _drain(self) -> None:
        self._snapshots.feed()  # what the hook captured but has not submitted yet
        while self._queue or self._overflow or self._ready or self._losses:
            # Behind (overflowing): bigger batches amortize the per-batch spool fsync and insert.
            size = self._batch * (_CATCH_UP_FACTOR if self._overflow else 1)
            self._snapshots.snapshot_pending()  # whatever the snapshot stage has not reached yet, in order
            batch: list[CapturedEvent] = []
            while self._ready and len(batch) < size:
                batch.append(self._ready.popleft())
            batch.extend(self._losses.take())
            try:
                self._process(batch)
            except Exception as exc:  # noqa: BLE001 - the batcher must survive anything: the batch becomes loss rows
                log_failure(log, "collector: batcher error (content withheld); batch recorded as lost", exc)
                self._lost_after_accept(batch, "worker_error")

    def _process(self, batch: list[CapturedEvent]) -> None:
        t0 = time.perf_counter()
        built = self._builder.build(batch)
        events = [b.record for b in built]
        for processor in self._processors:
            events = processor(events)
        if len(events) != len(built):
            raise RuntimeError("a record processor changed the batch size")
        built = [b._replace(record=e) for b, e in zip(built, events, strict=True)]
        tasks = self._tracker.observe(built)
        self._metrics.redaction_seconds.observe(time.perf_counter() - t0)
        self._n["redaction_failures"] += sum(1 for e in events if e.redaction_status.startswith("failed"))
        self._n["batches"] += 1
        try:
            batch_id = self._spool.append(encode_batch(events, tasks))
        except (SpoolFullError, SpoolWriteError, SpoolClosedError) as exc:
            reason = "spool_full" if isinstance(exc, SpoolFullError) else "spool_write_error"
            self._n["spool_rejections"] += 1
            self._metrics.spool_rejections.labels(reason).inc()
            log.error("collector: %s; %d events of this batch are recorded as lost", exc, len(batch))
            self._lost_after_accept(batch, reason, observed=(built, tasks))
            return
        with self._cond:
            self._unacked[batch_id] = None
        self._metrics.events_spooled.inc(len(events))
        self._settle_waiters(batch, ok=True)
        self._writer.notify_data()

    def _lost_after_accept(
        self,
        batch: list[CapturedEvent],
        reason: str,
        observed: tuple[list[BuiltEvent], list[TaskRecord]] | None = None,
    ) -> None:
        """Accepted events that never reached the spool: loss rows, spooled if possible, else kept in memory.

        The batch's own loss rows (losses recorded earlier) are carried into that write, not dropped.
        ``observed`` is the batch as built and the task rows the tracker gave for it, when it got that
        far: its loss rows are then already counted in their tasks' lost_events, and its task rows
        must still be written."""
        n = self._losses.record_events(batch, reason.replace("_", " "))
        self._n["lost_accepted"] += n
        self._metrics.events_lost.labels(reason).inc(n)
        self._settle_waiters(batch, ok=False)
        carried: list[EventRecord] = []
        carried_tasks: list[TaskRecord] = []
        if observed is not None:
            carried = [b.record for b in observed[0] if b.record.kind == EventKind.LOSS]
            carried_tasks = observed[1]
        else:
            self._losses.restore(e for e in batch if e.kind == EventKind.LOSS)  # built and counted below, once
        loss = self._losses.take()
        if not loss and not carried:
            return
        try:
            built = self._builder.build(loss)
            tasks = carried_tasks + self._tracker.observe(built)
            events = carried + [b.record for b in built]
        except Exception as exc:  # noqa: BLE001 - must not stop the thread; logged without content
            log_failure(log, "collector: cannot build loss records", exc)
            return
        try:
            batch_id = self._spool.append(encode_batch(events, tasks))
        except (SpoolFullError, SpoolWriteError, SpoolClosedError):
            self._writer.add_direct(DirectBatch(batch_token([e.event_id for e in events]), tuple(events), tuple(tasks)))
            return
        with self._cond:
            self._unacked[batch_id] = None
        self._writer.notify_data()

    def _settle_waiters(self, batch: list[CapturedEvent], *, ok: bool) -> None:
        if not self._waiters:
            return
        for event in batch:
            waiter = self._waiters.pop(id(event), None)
            if waiter is not None:
                waiter.ok = waiter.ok and ok
                waiter.remaining -= 1
                if waiter.remaining <= 0:
                    waiter.done.set()
