"""The pipeline: bounded queue -> batcher thread -> redactor -> exporter.

Shaped like OpenTelemetry's BatchSpanProcessor: ``submit`` is the hot path (an append to a
deque, no lock, no I/O, never raises); a daemon thread takes batches, serializes and redacts
them, and hands them to the exporter, whose failures come back as values.
"""

from __future__ import annotations

import collections
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ._events import CapturedEvent, EventKind, EventRecord, TaskRecord, TaskRef
from ._records import RecordBuilder
from ._settings import AuditSettings
from ._store._exporter import Exporter, batch_token
from ._tasks import TaskTracker

log = logging.getLogger("collector")

# A processor is a small callable over a batch of redacted records, structlog-style; the
# pipeline runs the list in order between redaction and export. It returns the same number of
# records, in order (it may replace them, e.g. to add hash-chain fields), and must not raise.
RecordProcessor = Callable[[list[EventRecord]], list[EventRecord]]


@dataclass(frozen=True, slots=True)
class PipelineStats:
    """Counters since start. Every accepted event ends in exactly one of written / lost / pending."""

    accepted: int
    written: int
    lost: int
    queued: int
    batches: int
    export_failures: int
    redaction_failures: int


class AuditPipeline:
    """Owns the queue and the worker thread. One per AuditHook (or per sidecar)."""

    def __init__(
        self,
        *,
        exporter: Exporter,
        builder: RecordBuilder,
        settings: AuditSettings,
        processors: Sequence[RecordProcessor] = (),
    ) -> None:
        self._exporter = exporter
        self._builder = builder
        self._processors = list(processors)
        self._tracker = TaskTracker(settings.abnormal_stop_patterns)
        self._settings = settings
        self._queue: collections.deque[CapturedEvent] = collections.deque()
        self._max = settings.queue_max_events
        self._batch = settings.batch_max_events
        self._wake = threading.Event()
        self._cond = threading.Condition()
        self._flush_requested = 0
        self._flush_done = 0
        self._stopping = False
        self._accepted = 0
        self._loss_ids = itertools.count(1)
        self._lost_pending: dict[TaskRef, list[int]] = {}  # task -> [count, first lost seq]
        self._lost_lock = threading.Lock()
        self._written = 0
        self._lost = 0
        self._batches = 0
        self._export_failures = 0
        self._redaction_failures = 0
        self._thread = threading.Thread(target=self._run, name="autogen-audit-pipeline", daemon=True)
        self._thread.start()

    # -- hot path -------------------------------------------------------------------------
    def submit(self, event: CapturedEvent) -> bool:
        """Enqueue one event. Never blocks, never raises; a full queue records a counted loss."""
        queue = self._queue
        if len(queue) >= self._max or self._stopping:
            self._record_loss(event)
            return False
        queue.append(event)
        self._accepted += 1
        if len(queue) >= self._batch:
            self._wake.set()
        return True

    def _record_loss(self, event: CapturedEvent) -> None:
        with self._lost_lock:
            entry = self._lost_pending.setdefault(event.task, [0, event.seq])
            entry[0] += 1
        self._lost += 1
        if self._lost in (1, 10, 100, 1000) or self._lost % 10_000 == 0:
            log.warning("collector: queue full, %d events lost so far (recorded per task)", self._lost)
        self._wake.set()

    # -- control --------------------------------------------------------------------------
    def submit_batch_durable(self, events: Sequence[CapturedEvent], timeout: float) -> bool:
        """Accept a batch and return only once it is durable (today: written to the store).

        The sidecar acknowledges a remote batch with this. With the durable spool in the path it
        returns as soon as the batch is spooled, before the store confirms it.
        """
        accepted = all([self.submit(event) for event in events])
        return self.flush(timeout) and accepted

    def flush(self, timeout: float) -> bool:
        """Wait until everything submitted before this call is exported (or given up on)."""
        with self._cond:
            self._flush_requested += 1
            generation = self._flush_requested
        self._wake.set()
        with self._cond:
            return self._cond.wait_for(lambda: self._flush_done >= generation, timeout)

    def shutdown(self, timeout: float) -> bool:
        """Flush, then stop the worker. Returns whether everything accepted was written."""
        flushed = self.flush(timeout)
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=max(0.1, timeout))
        return flushed and not self._queue

    def stats(self) -> PipelineStats:
        return PipelineStats(
            accepted=self._accepted,
            written=self._written,
            lost=self._lost,
            queued=len(self._queue),
            batches=self._batches,
            export_failures=self._export_failures,
            redaction_failures=self._redaction_failures,
        )

    # -- worker ---------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            self._wake.wait(self._settings.batch_interval_s)
            self._wake.clear()
            with self._cond:
                generation = self._flush_requested
            try:
                self._drain()
            except Exception:  # the worker must survive anything; the batch is counted as lost
                log.exception("collector: pipeline worker error (content withheld)")
            with self._cond:
                self._flush_done = max(self._flush_done, generation)
                self._cond.notify_all()
            if self._stopping and not self._queue:
                return

    def _drain(self) -> None:
        queue = self._queue
        while queue or self._lost_pending:
            batch: list[CapturedEvent] = []
            while queue and len(batch) < self._batch:
                batch.append(queue.popleft())
            batch.extend(self._loss_events())
            self._process(batch)

    def _loss_events(self) -> list[CapturedEvent]:
        with self._lost_lock:
            pending, self._lost_pending = self._lost_pending, {}
        now = time.time_ns()
        return [
            CapturedEvent(
                gseq=-next(self._loss_ids),
                task=task,
                seq=first_seq,
                ts_ns=now,
                kind=EventKind.LOSS,
                payload={"lost": count, "first_seq": first_seq, "reason": "queue full"},
            )
            for task, (count, first_seq) in pending.items()
        ]

    def _process(self, batch: list[CapturedEvent]) -> None:
        built = self._builder.build(batch)
        events = [b.record for b in built]
        for processor in self._processors:
            events = processor(events)
        if len(events) != len(built):
            raise RuntimeError("a record processor changed the batch size")
        built = [b._replace(record=e) for b, e in zip(built, events, strict=True)]
        tasks = self._tracker.observe(built)
        self._redaction_failures += sum(1 for e in events if e.redaction_status.startswith("failed"))
        token = batch_token([e.event_id for e in events])
        if self._export_with_retry(events, tasks, token):
            self._written += sum(1 for e in events if e.kind != EventKind.LOSS)
        self._batches += 1

    def _export_with_retry(self, events: list[EventRecord], tasks: list[TaskRecord], token: str) -> bool:
        delay = 0.05
        while True:
            result = self._exporter.export(events, tasks, token)
            if result.ok:
                return True
            self._export_failures += 1
            log.error("collector: export failed (%s); retryable=%s", result.error, result.retryable)
            if not result.retryable or self._stopping:
                self._lost += len(events)
                return False
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 5.0)
