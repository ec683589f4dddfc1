"""The writer thread: spooled batches -> ClickHouse, acked only once the insert succeeded.

It walks the spool's pending batches in append order (at start these are the batches a previous
process left: the replay) and inserts each under its batch id as the deduplication token. A
retryable failure (store down, overloaded) ends the pass and backs off with jitter up to the cap;
new batches do not cut the backoff short, so an outage is not hammered. A permanent failure
(schema, types) parks that batch, raises the alarm and moves on; the batch is retried every
``max_s`` and never dropped. Loss records the spool refused are held in memory and tried first.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ._codec import CodecError, decode_batch
from ._events import EventKind, EventRecord, TaskRecord
from ._metrics import PipelineMetrics
from ._retry import RetryPolicy
from ._safe_log import log_failure
from ._spool import Spool, SpoolError
from ._store._exporter import Exporter, ExportResult

__all__ = ["DirectBatch", "SpoolWriter", "WriterState"]

log = logging.getLogger("collector")
_IDLE_WAIT_S = 1.0
_LOG_EVERY_S = 30.0


@dataclass(frozen=True, slots=True)
class DirectBatch:
    """Loss records the spool could not take: kept in memory and inserted without the spool."""

    token: str
    events: tuple[EventRecord, ...]
    tasks: tuple[TaskRecord, ...]


@dataclass(frozen=True, slots=True)
class WriterState:
    """A snapshot for health and stats."""

    last_ok: float  # monotonic time of the last successful insert or probe; 0.0 if none yet
    last_failure: float
    store_ok: bool
    parked: int  # batches failing permanently, retried every max_s
    direct_pending: int
    last_error: str
    failures: int  # failed insert attempts since start


@dataclass(frozen=True, slots=True)
class _Work:
    token: str
    events: list[EventRecord]
    tasks: list[TaskRecord]
    replay: bool
    direct: DirectBatch | None


class SpoolWriter:
    """One daemon thread per pipeline; the spool and the exporter are shared with nobody else."""

    def __init__(
        self,
        spool: Spool,
        exporter: Exporter,
        policy: RetryPolicy,
        metrics: PipelineMetrics,
        on_acked: Callable[[str, int, int, bool], None],
        ping_every_s: float,
    ) -> None:
        self._spool = spool
        self._exporter = exporter
        self._policy = policy
        self._metrics = metrics
        self._on_acked = on_acked  # (token, event rows excluding loss rows, deduplicated, was_replay)
        self._ping_every = ping_every_s
        self._started = time.time()
        self._cv = threading.Condition()
        self._data = False
        self._kicked = False
        self._stop = False
        self._direct: collections.deque[DirectBatch] = collections.deque()
        self._parked: dict[str, float] = {}  # token -> monotonic time of the next attempt
        self._attempted: set[str] = set()
        self._last_ok = 0.0
        self._last_failure = 0.0
        self._last_error = ""
        self._last_log = 0.0
        self._failures = 0
        self._passes = 0
        self._unpark = False
        self._thread = threading.Thread(target=self._run, name="autogen-audit-writer", daemon=True)
        self._thread.start()

    # -- control (any thread) ---------------------------------------------------------------
    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def notify_data(self) -> None:
        with self._cv:
            self._data = True
            self._cv.notify_all()

    def kick(self) -> int:
        """Attempt everything now, parked batches included (flush and shutdown want a try within their
        deadline). Returns a mark: ``passes_since(mark)`` is true once a full pass began after the kick."""
        with self._cv:
            self._kicked = True
            self._unpark = True
            self._cv.notify_all()
            return self._passes

    def passes_since(self, mark: int) -> bool:
        return self._passes > mark + 1

    def add_direct(self, batch: DirectBatch) -> None:
        self._direct.append(batch)
        self.notify_data()

    def take_direct(self) -> list[DirectBatch]:
        """Hand back what is still only in memory (shutdown tries to spool it one last time)."""
        out = list(self._direct)
        self._direct.clear()
        return out

    def stop(self, timeout: float) -> bool:
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        self._thread.join(max(0.05, timeout))
        return not self._thread.is_alive()

    def is_parked(self, token: str) -> bool:
        return token in self._parked

    def state(self) -> WriterState:
        return WriterState(
            last_ok=self._last_ok,
            last_failure=self._last_failure,
            store_ok=self._last_ok >= self._last_failure and self._last_ok > 0,
            parked=len(self._parked),
            direct_pending=len(self._direct),
            last_error=self._last_error,
            failures=self._failures,
        )

    # -- thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        delays: Iterator[float] | None = None
        while not self._stop:
            if self._unpark:
                self._unpark = False
                self._parked = dict.fromkeys(self._parked, 0.0)
            try:
                outcome = self._pass()
            except Exception as exc:  # noqa: BLE001 - the writer must survive anything; batches stay in the spool
                if self._stop:
                    break  # a shutdown closed the spool under this pass: what it held stays spooled, nothing to log
                log_failure(log, "collector: writer pass failed (content withheld); retrying", exc)
                outcome = "retryable"
            self._passes += 1
            if outcome == "retryable":
                delays = delays or self._policy.delays()
                self._wait(next(delays), wake_on_data=False)
            else:
                delays = None
                self._maybe_ping()
                self._wait(self._idle_wait(), wake_on_data=True)

    def _idle_wait(self) -> float:
        if not self._parked:
            return _IDLE_WAIT_S
        return max(0.01, min(self._parked.values()) - time.monotonic())

    def _wait(self, seconds: float, *, wake_on_data: bool) -> None:
        with self._cv:
            self._cv.wait_for(lambda: self._stop or self._kicked or (wake_on_data and self._data), seconds)
            self._kicked = False
            self._data = False

    def _pass(self) -> str:
        """Insert what is due; returns 'idle', or 'retryable' when the store looks unavailable."""
        now = time.monotonic()
        for work in self._due():
            if self._stop:
                return "idle"
            result = self._export(work)
            if result.ok:
                self._done(work, result)
                continue
            self._attempted.add(work.token)
            self._failed(result)
            if result.retryable:
                return "retryable"
            self._parked[work.token] = now + self._policy.max_s
        return "idle"

    def _due(self) -> Iterator[_Work]:
        now = time.monotonic()
        for direct in list(self._direct):
            if self._parked.get(direct.token, 0.0) <= now:
                yield _Work(direct.token, list(direct.events), list(direct.tasks), False, direct)
        for batch in self._spool.pending():
            if self._parked.get(batch.batch_id, 0.0) > now:
                continue
            try:
                events, tasks = decode_batch(batch.records)
            except CodecError as exc:
                self._parked[batch.batch_id] = now + self._policy.max_s
                self._failed(ExportResult(False, f"spooled batch does not decode: {exc}", retryable=False))
                continue
            yield _Work(batch.batch_id, events, tasks, batch.appended_at < self._started, None)

    def _export(self, work: _Work) -> ExportResult:
        retry = work.replay or work.token in self._attempted
        t0 = time.perf_counter()
        try:
            result = self._exporter.export(work.events, work.tasks, work.token, retry=retry)
        except Exception as exc:  # noqa: BLE001 - an exporter that raises is treated like one that failed
            result = ExportResult(False, f"exporter raised {type(exc).__name__}", retryable=True)
        self._metrics.insert_seconds.observe(time.perf_counter() - t0)
        return result

    def _done(self, work: _Work, result: ExportResult) -> None:
        if work.direct is not None:
            with contextlib.suppress(ValueError):
                self._direct.remove(work.direct)
        else:
            try:
                self._spool.ack(work.token)
            except SpoolError as exc:  # closed under us at shutdown: the batch replays, deduplicated
                log.warning("collector: cannot ack a spooled batch (%s); it will replay", type(exc).__name__)
        self._parked.pop(work.token, None)
        self._attempted.discard(work.token)
        self._last_ok = time.monotonic()
        rows = sum(1 for e in work.events if e.kind != EventKind.LOSS)
        dedup = min(result.deduplicated, len(work.events))
        self._metrics.events_out.inc(len(work.events) - dedup)
        if dedup:
            self._metrics.events_deduplicated.inc(dedup)
        self._on_acked(work.token, rows, dedup, work.replay)

    def _failed(self, result: ExportResult) -> None:
        self._metrics.insert_errors.labels(result.kind).inc()
        self._failures += 1
        self._last_failure = time.monotonic()
        first = self._last_error != result.error
        self._last_error = result.error
        if not result.retryable:
            log.error("collector: PERMANENT insert failure, batch kept in the spool and retried: %s", result.error)
        elif first or self._last_failure - self._last_log > _LOG_EVERY_S:
            self._last_log = self._last_failure
            st = self._spool.stats()
            log.warning(
                "collector: store unavailable (%s); %d batches / %d bytes wait in the spool",
                result.error,
                st.pending_batches,
                st.bytes,
            )

    def _maybe_ping(self) -> None:
        ping = getattr(self._exporter, "ping", None)
        now = time.monotonic()
        if ping is None or now - max(self._last_ok, self._last_failure) < self._ping_every:
            return
        try:
            ping()
        except Exception as exc:  # noqa: BLE001 - readiness only
            self._last_failure = time.monotonic()
            self._last_error = f"probe failed: {type(exc).__name__}"
            return
        self._last_ok = time.monotonic()
