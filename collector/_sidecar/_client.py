"""RemoteSink: the app-side EventSink that ships raw events to a sidecar over loopback.

Shaped like the in-process pipeline: ``submit`` is an append to a bounded deque on the runtime's
dispatch loop; an encoder thread turns what it holds into wire rows every snapshot interval, and
a shipper thread POSTs them in batches with the bearer token (see _poster), retrying with backoff
until the sidecar acknowledges them (it answers 200 only once they are durable). Two threads, so
that a POST waiting on a busy, slow or absent sidecar never keeps message objects alive (held,
they are rescanned by the app's garbage collector, and they take far more memory than their rows).
Overflow is never silent: the count of dropped events is shipped per task as ``loss`` records.
"""

from __future__ import annotations

import collections
import gzip
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .._events import CapturedEvent, TaskRef
from .._retry import RetryPolicy
from .._safe_log import log_failure
from .._settings import AuditSettings
from ._poster import Poster
from ._remote_losses import RemoteLosses
from ._settings import SidecarSettings
from ._wire import batch_v2_chunks
from ._wire_rows import encode_rows

log = logging.getLogger("collector")

INGEST_PATH = "/v1/audit/events"
# Events per encoded run: small enough that a run stays under the fast path's size bound (see
# _wire_rows) and a loss is counted per run's events, large enough to amortize the call.
_RUN_MAX_EVENTS = 128
# A 4xx other than these means the batch itself (or the token) is wrong: sending it again cannot help.
_RETRYABLE_STATUS = frozenset({408, 425, 429})


@dataclass(frozen=True, slots=True)
class RemoteSinkStats:
    """Counters since start. Every accepted event ends acknowledged, lost, or still pending."""

    accepted: int
    acknowledged: int
    lost: int
    queued: int
    batches: int
    retries: int
    rejected_batches: int


class RemoteSink:
    """Client of the sidecar's ingest route; the hook's sink when AUDIT_SIDECAR_URL is set."""

    def __init__(
        self, settings: AuditSettings, sidecar: SidecarSettings | None = None, *, id_prefix: str | None = None
    ) -> None:
        self._settings = settings
        self._sidecar = sidecar or SidecarSettings()
        self._prefix = id_prefix or secrets.token_hex(6)
        self._max = settings.queue_max_events
        self._batch = self._sidecar.remote_batch_max_events
        self._policy = RetryPolicy(
            initial_s=self._sidecar.remote_retry_initial_s,
            max_s=max(self._sidecar.remote_retry_initial_s, self._sidecar.remote_retry_max_s),
        )
        self._queue: collections.deque[CapturedEvent] = collections.deque()
        # Runs of events already encoded as wire rows (see _snapshot), in capture order, each with
        # the (task, seq) of its events, to count them lost if the sidecar never takes them.
        self._ready: collections.deque[tuple[memoryview, list[tuple[TaskRef, int]]]] = collections.deque()
        # Events put on ready (by the encoder) and taken off it (by the shipper): one writer each, so
        # their difference needs no lock.
        self._encoded = 0
        self._taken = 0
        self._wake = threading.Event()  # the encoder's
        self._ship_wake = threading.Event()  # the shipper's
        self._cond = threading.Condition()
        self._flush_requested = 0
        self._ship_requested = 0  # the flush generation whose events the encoder has put on ready
        self._flush_done = 0
        self._stopping = False
        self._halt = threading.Event()  # set with _stopping: cuts a retry's backoff short
        self._encoder_done = False
        self._deadline = float("inf")  # monotonic time after which a stopping shipper gives up
        self._losses = RemoteLosses()
        self._undeliverable = 0  # lost events whose loss rows the sidecar refused on their own
        self._accepted = self._acknowledged = 0
        self._batches = self._retries = self._rejected = 0
        headers = {"Content-Type": "application/json"}
        token = settings.ingest_token.get_secret_value()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if self._sidecar.remote_gzip:
            headers["Content-Encoding"] = "gzip"
        self._poster = Poster(settings.sidecar_url, headers, self._sidecar.remote_timeout_s)
        self._feeders: list[Callable[[], object]] = []
        self._encoder = threading.Thread(target=self._encode_loop, name="autogen-audit-remote", daemon=True)
        self._shipper = threading.Thread(target=self._ship_loop, name="autogen-audit-remote-post", daemon=True)
        self._encoder.start()
        self._shipper.start()

    def add_feeder(self, feed: Callable[[], object]) -> None:
        """Have the encoder call ``feed`` (which submits what the hook's capture log holds) before
        each snapshot pass, and so before a flush completes."""
        self._feeders.append(feed)

    # -- hot path -------------------------------------------------------------------------
    def submit(self, event: CapturedEvent) -> bool:
        """Enqueue one event. Never blocks, never raises; a full buffer records a counted loss."""
        queue = self._queue
        if len(queue) + self._encoded - self._taken >= self._max or self._stopping:
            self._losses.record(event.task, event.seq, 1)
            return False
        queue.append(event)
        self._accepted += 1
        if len(queue) >= self._batch:
            self._wake.set()
        return True

    # -- control --------------------------------------------------------------------------
    def flush(self, timeout: float) -> bool:
        """Wait until everything submitted before this call is acknowledged (or given up on)."""
        with self._cond:
            self._flush_requested += 1
            generation = self._flush_requested
        self._wake.set()
        with self._cond:
            done = self._cond.wait_for(lambda: self._flush_done >= generation, timeout)
            return done and not self._losses and not self._undeliverable

    def shutdown(self, timeout: float) -> bool:
        """Flush, then stop both threads. Returns whether everything accepted was acknowledged."""
        self._deadline = time.monotonic() + timeout
        flushed = self.flush(timeout)
        self._stopping = True
        self._halt.set()
        self._wake.set()
        for thread in (self._encoder, self._shipper):
            thread.join(timeout=max(0.1, self._deadline - time.monotonic()))
        # The connection is the shipper's (it closes it as it ends): closed from here under a POST
        # in flight, the request went out whole but its answer was never read, and counted nowhere.
        return flushed and not self._queue and not self._ready and self._acknowledged == self._accepted

    def stats(self) -> RemoteSinkStats:
        return RemoteSinkStats(
            accepted=self._accepted,
            acknowledged=self._acknowledged,
            lost=self._losses.total,
            queued=len(self._queue) + self._encoded - self._taken,
            batches=self._batches,
            retries=self._retries,
            rejected_batches=self._rejected,
        )

    # -- threads --------------------------------------------------------------------------
    def _encode_loop(self) -> None:
        # Two paces: payloads become wire rows every snapshot interval, whatever the sidecar is doing
        # (held as objects they would be rescanned by the app's garbage collector); the shipper is
        # asked to post them every batch interval, or at once for a full batch, a flush or a stop.
        snapshot_every = min(self._settings.snapshot_interval_s, self._settings.batch_interval_s)
        ship_every = self._settings.batch_interval_s
        last_ship = time.monotonic()
        while True:
            woke = self._wake.wait(snapshot_every)
            self._wake.clear()
            with self._cond:
                generation = self._flush_requested
            stopping = self._stopping
            try:
                self._snapshot()
            except Exception as exc:  # noqa: BLE001 - the encoder must survive anything; _snapshot counts its losses
                log_failure(log, "collector: remote sink encoder error (content withheld)", exc)
            # A flush whose wake this pass cleared unseen still counts: its generation is newer.
            due = woke or stopping or generation > self._ship_requested or self._encoded - self._taken >= self._batch
            if due or time.monotonic() - last_ship >= ship_every:
                with self._cond:
                    self._ship_requested = max(self._ship_requested, generation)
                last_ship = time.monotonic()
                if stopping and not self._queue:
                    self._encoder_done = True  # before the wake: the shipper's last pass sees it
                self._ship_wake.set()
            if self._encoder_done:
                return

    def _ship_loop(self) -> None:
        finished = False
        while True:
            if not finished:
                self._ship_wake.wait()
                self._ship_wake.clear()
            # Read before draining: everything the encoder put on ready before these is drained now.
            finished = self._encoder_done
            with self._cond:
                generation = self._ship_requested
            try:
                self._drain()
            except Exception as exc:  # noqa: BLE001 - the shipper must survive anything; the batch was counted as lost
                log_failure(log, "collector: remote sink shipper error (content withheld)", exc)
            with self._cond:
                self._flush_done = max(self._flush_done, generation)
                self._cond.notify_all()
            # Past a stop's deadline every pass gives up on one batch (counted lost): this ends.
            if finished and not self._ready:
                self._poster.close()
                return

    def _snapshot(self) -> None:
        """Encode what the hook captured as wire rows now, so the message objects can be freed (held,
        they would be rescanned by the app's garbage collector)."""
        for feed in self._feeders:
            feed()
        depth, chars, prefix = self._settings.max_depth, self._settings.max_field_chars, self._prefix
        queue, ready, popleft = self._queue, self._ready, self._queue.popleft
        while queue:  # the encoder is the only consumer: order is kept
            run = [popleft() for _ in range(min(len(queue), _RUN_MAX_EVENTS))]
            refs = [(e[1], e[2]) for e in run]
            try:
                encoded = encode_rows(run, [f"{prefix}-{e[0]:012x}" for e in run], max_depth=depth, max_chars=chars)
            except Exception as exc:  # noqa: BLE001 - encode_rows never raises; if it did, count, never drop silently
                log_failure(log, "collector: remote sink could not encode events (content withheld)", exc)
                for task, seq in refs:
                    self._losses.record(task, seq, 1)
                continue
            ready.append((encoded, refs))
            self._encoded += len(run)

    def _drain(self) -> None:
        ready = self._ready
        while ready or self._losses:
            rows: list[memoryview] = []
            events: list[tuple[TaskRef, int]] = []
            while ready and len(events) < self._batch:
                encoded, refs = ready.popleft()
                self._taken += len(refs)
                rows.append(encoded)
                events.extend(refs)
            if not self._ship(rows, events):
                return  # refused or given up: pace the next attempt by the batch interval

    def _ship(self, rows: list[memoryview], batch: list[tuple[TaskRef, int]]) -> bool:
        losses = self._losses.take()
        refused = self._rejected
        if self._post(self._body(rows, losses)):
            self._acked(batch)
            return True
        if self._rejected == refused:  # given up: stopping past the deadline
            self._give_up(batch, losses)
            return False
        # Refused for good. A loss row carries its task's ids, so one the sidecar will never take
        # (an id past its bounds) would ride with, and take down, this batch and every later one:
        # with loss rows in it, each part goes on its own, once.
        shipped = False
        if losses and batch:
            shipped = self._post(self._body(rows, []))
            if shipped:
                self._acked(batch)
            refused = self._rejected
            if self._post(self._body([], losses)):
                losses = []
            elif self._rejected == refused:
                self._give_up([] if shipped else batch, losses)
                return shipped
        if not shipped:
            self._give_up(batch, [])
        if losses:  # refused on their own: nothing can deliver them; they stay counted in stats().lost
            self._undeliverable += sum(int(e.payload["lost"]) for e in losses)
            log.error("collector: the sidecar refused loss records; their events stay counted in stats().lost")
        return shipped

    def _body(self, rows: list[memoryview], losses: list[CapturedEvent]) -> list[bytes | memoryview]:
        if losses:
            ids = [f"{self._prefix}-loss-{-e.gseq:x}" for e in losses]
            rows = [*rows, encode_rows(losses, ids, max_depth=4, max_chars=256)]
        body = batch_v2_chunks(rows)
        if self._sidecar.remote_gzip:
            body = [gzip.compress(b"".join(body), compresslevel=1)]
        return body

    def _acked(self, batch: list[tuple[TaskRef, int]]) -> None:
        self._acknowledged += len(batch)
        self._batches += 1

    def _give_up(self, batch: list[tuple[TaskRef, int]], losses: list[CapturedEvent]) -> None:
        """Events not delivered become losses; loss rows not delivered are pending again."""
        for task, seq in batch:
            self._losses.record(task, seq, 1)
        self._losses.put_back(losses)
        if self._stopping:
            self._losses.clear()  # nobody left to tell; shutdown() reports False

    def _post(self, body: list[bytes | memoryview]) -> bool:
        """POST until acknowledged. False when the sidecar refuses for good or a stop deadline passes."""
        delays = self._policy.delays()
        while True:
            status, error = self._poster.post(INGEST_PATH, body)
            if error:
                log.warning("collector: sidecar delivery failed (%s); retrying", error)
            if status == 200:
                return True
            if 400 <= status < 500 and status not in _RETRYABLE_STATUS:
                self._rejected += 1
                log.error("collector: sidecar refused a batch with HTTP %d; its events are counted lost", status)
                return False
            if self._stopping and time.monotonic() >= self._deadline:
                return False
            self._retries += 1
            delay = next(delays)
            if self._stopping:
                time.sleep(min(delay, max(0.0, self._deadline - time.monotonic())))
            else:
                self._halt.wait(delay)  # a stop cuts it short, to pace the rest against its deadline
