"""The sidecar's ingest routes: remote-hook batches and OTLP/HTTP traces and logs.

Every route answers 200 only once what it received is durable (``submit_durable``), and
503 otherwise, so clients retry; retries are harmless because every event carries an id from its
origin, and the ids of recent deliveries are remembered here and dropped when seen again.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Protocol

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from .._batcher import Waiter
from .._events import CapturedEvent, EventKind
from .._otlp_in import (
    OtlpAttribution,
    OtlpDecodeError,
    decode_logs,
    decode_traces,
    encode_response,
    logs_to_events,
    spans_to_events,
)
from .._safe_log import log_failure
from .._settings import AuditSettings
from ._auth import BearerAuth
from ._dedup import RecentIds
from ._errors import IngestConfigError, WireFormatError
from ._settings import SidecarSettings
from ._wire import decode_batch

log = logging.getLogger("collector")


class DurableSink(Protocol):
    """What the routes need of AuditPipeline."""

    def submit_durable(self, events: Sequence[CapturedEvent]) -> Waiter: ...

    def recent_event_ids(self, window_s: float, limit: int) -> list[str]: ...


class Ingest:
    """Dedup + durable submit, shared by the routes (and usable without HTTP in tests)."""

    def __init__(self, pipeline: DurableSink, settings: AuditSettings, sidecar: SidecarSettings) -> None:
        self._pipeline = pipeline
        self._timeout = sidecar.ingest_ack_timeout_s
        self.seen = RecentIds(sidecar.ingest_dedup_ids)
        self.attribution = OtlpAttribution(settings.source_pattern, settings.unattributed_tenant)
        self.duplicates = 0
        self.seeded = self._seed(pipeline, sidecar)
        # Each id of a delivery not yet known durable, with the pipeline's waiter for it: a retry
        # of those ids waits on it rather than being told at once that they are durable.
        self._inflight: dict[str, Waiter] = {}
        self._prune_at = 10_000
        self._lock = threading.Lock()

    def _seed(self, pipeline: DurableSink, sidecar: SidecarSettings) -> int:
        """Remember what a previous run of this sidecar already made durable: its dedup memory
        would otherwise be empty, and a client retrying a batch whose answer the restart swallowed
        would get it stored twice."""
        if sidecar.ingest_dedup_window_s <= 0:
            return 0
        try:
            ids = pipeline.recent_event_ids(sidecar.ingest_dedup_window_s, sidecar.ingest_dedup_ids)
        except Exception as exc:  # noqa: BLE001 - a store that is down must not stop the sidecar starting
            log_failure(log, "collector: could not read recent event ids for dedup; retried deliveries may repeat", exc)
            return 0
        # Oldest first, so the newest are forgotten last. A batch can be in both places (stored, but
        # its ack not yet on disk): the count is of distinct ids.
        return self.seen.remember(reversed(ids))

    def accept(self, events: list[CapturedEvent]) -> bool:
        """Submit the events not seen before; True once everything received is durable, the
        events seen before included: a retry may come while the first delivery is still on its way
        to the spool (its answer timed out), and a 200 then would let the client drop events that
        a crash of this process could still lose."""
        with self._lock:
            self._prune()
            waiting: set[Waiter] = set()
            fresh = self._fresh(events, self.seen.claim(e.event_id for e in events), waiting)
            waiter = self._pipeline.submit_durable(fresh)
            for event in fresh:
                self._inflight[event.event_id] = waiter
            waiting.add(waiter)
        deadline = time.monotonic() + self._timeout
        return all(w.done.wait(max(0.0, deadline - time.monotonic())) and w.ok for w in waiting)

    def _fresh(self, events: list[CapturedEvent], new: list[bool], waiting: set[Waiter]) -> list[CapturedEvent]:
        """The events to submit: those not seen before, and those whose first delivery was refused
        or lost; the waiters of the others still on their way go into ``waiting``."""
        fresh = []
        for event, is_new in zip(events, new, strict=True):
            earlier = None if is_new else self._inflight.get(event.event_id)
            if is_new or (earlier is not None and earlier.done.is_set() and not earlier.ok):
                fresh.append(event)
            elif earlier is not None:
                waiting.add(earlier)
        self.duplicates += len(events) - len(fresh)
        for event in fresh:
            if event.kind == EventKind.TASK_START:
                self.attribution.teams.note(event.task, event.ts_ns)
        return fresh

    def _prune(self) -> None:
        """Forget deliveries known durable (the seen ids answer for them from then on), and those
        the seen ids no longer hold: a retry of one is new again, so its waiter would answer
        nothing (kept, the waiters of a long refusal grew without bound)."""
        if len(self._inflight) < self._prune_at:
            return
        seen = self.seen
        self._inflight = {k: w for k, w in self._inflight.items() if not (w.done.is_set() and w.ok) and k in seen}
        self._prune_at = max(10_000, 2 * len(self._inflight))


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status_code=413, detail="body too large")
    body = await request.body()
    if len(body) > limit:
        raise HTTPException(status_code=413, detail="body too large")
    if request.headers.get("content-encoding", "").lower() == "gzip":
        inflater = zlib.decompressobj(wbits=31)
        try:
            body = inflater.decompress(body, limit + 1)
        except zlib.error:
            raise HTTPException(status_code=400, detail="body is not valid gzip") from None
        if len(body) > limit or inflater.unconsumed_tail:
            raise HTTPException(status_code=413, detail="body too large")
    return body


def ingest_router(pipeline: DurableSink, settings: AuditSettings, sidecar: SidecarSettings | None = None) -> APIRouter:
    """``POST /v1/audit/events``, ``/v1/traces`` and ``/v1/logs``, behind the shared bearer token."""
    sidecar = sidecar or SidecarSettings()
    token = settings.ingest_token.get_secret_value()
    if not token:
        raise IngestConfigError("the ingest routes need AUDIT_INGEST_TOKEN (a shared bearer token)")
    ingest = Ingest(pipeline, settings, sidecar)
    limit = sidecar.ingest_max_body_bytes
    router = APIRouter(dependencies=[Depends(BearerAuth(token))])

    async def handle(events: list[CapturedEvent]) -> None:
        if not await run_in_threadpool(ingest.accept, events):
            raise HTTPException(status_code=503, detail="not durable yet; retry", headers={"Retry-After": "1"})

    @router.post("/v1/audit/events")
    async def events(request: Request) -> Response:
        body = await _read_body(request, limit)
        try:
            batch = decode_batch(body)
        except WireFormatError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        await handle(batch)
        return Response(content=b'{"ok":true}', media_type="application/json")

    def otlp(kind: str, convert: Callable[[bytes, str], list[CapturedEvent]]) -> Callable[..., object]:
        async def route(request: Request) -> Response:
            body = await _read_body(request, limit)
            content_type = request.headers.get("content-type", "")
            try:
                batch = convert(body, content_type)
            except OtlpDecodeError as exc:
                raise HTTPException(status_code=400, detail=str(exc)) from None
            await handle(batch)
            content, media_type = encode_response(kind, content_type)
            return Response(content=content, media_type=media_type)

        return route

    router.add_api_route(
        "/v1/traces",
        otlp("traces", lambda b, ct: spans_to_events(decode_traces(b, ct), ingest.attribution)),
        methods=["POST"],
    )
    router.add_api_route(
        "/v1/logs",
        otlp("logs", lambda b, ct: logs_to_events(decode_logs(b, ct), ingest.attribution)),
        methods=["POST"],
    )
    router.ingest = ingest  # type: ignore[attr-defined]  # for /health and tests
    return router
