"""The sidecar's ingest routes: remote-hook batches and OTLP/HTTP traces and logs.

Every route answers 200 only once what it received is durable (``submit_batch_durable``), and
503 otherwise, so clients retry; retries are harmless because every event carries an id from its
origin, and the ids of recent deliveries are remembered here and dropped when seen again.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Sequence
from typing import Protocol

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

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

    def submit_batch_durable(self, events: Sequence[CapturedEvent], timeout: float) -> bool: ...

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
        """Submit the events not seen before; True once everything received is durable."""
        fresh_flags = self.seen.claim(e.event_id for e in events)
        fresh = [e for e, new in zip(events, fresh_flags, strict=True) if new]
        self.duplicates += len(events) - len(fresh)
        for event in fresh:
            if event.kind == EventKind.TASK_START:
                self.attribution.teams.note(event.task)
        # Even with nothing fresh, wait: the first delivery of these ids may not be durable yet.
        return self._pipeline.submit_batch_durable(fresh, self._timeout)


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
