"""A small FastAPI app around the ingest routes: the sidecar until `autogen-audit serve` mounts them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, is_dataclass
from typing import Any

from fastapi import Depends, FastAPI, Response

from .._metrics import CONTENT_TYPE
from .._pipeline import AuditPipeline
from .._settings import AuditSettings
from .._store._client import Store
from ._auth import BearerAuth
from ._ingest import ingest_router
from ._priority import lower_priority
from ._settings import SidecarSettings


def create_sidecar_app(
    pipeline: AuditPipeline,
    settings: AuditSettings,
    sidecar: SidecarSettings | None = None,
    *,
    own_pipeline: bool = True,
) -> FastAPI:
    """Ingest routes + ``GET /healthz`` (counters only), ``GET /readyz`` and ``GET /metrics``.

    ``/metrics`` is the pipeline's Prometheus text (states, sizes and counts, never a tenant or any
    captured value) behind the ingest routes' bearer token; only the probes answer without it.

    With ``own_pipeline`` the pipeline is flushed and stopped when the app shuts down; otherwise
    whoever built it (``autogen-audit serve``) stops it.
    """

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if own_pipeline:
            pipeline.shutdown(settings.flush_timeout_s)

    app = FastAPI(title="autogen-audit sidecar", lifespan=lifespan, docs_url=None, redoc_url=None)
    router = ingest_router(pipeline, settings, sidecar)
    app.include_router(router)
    ingest = router.ingest  # type: ignore[attr-defined]

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        stats = pipeline.stats()
        return {
            "ok": True,
            "pipeline": asdict(stats) if is_dataclass(stats) and not isinstance(stats, type) else {},
            "duplicates_dropped": ingest.duplicates,
            "dedup_ids_seeded": ingest.seeded,
        }

    @app.get("/readyz")
    def readyz() -> Response:
        # Ready while the pipeline is not shedding events (its queue has room).
        ready = pipeline.stats().queued < settings.queue_max_events
        return Response(content=b'{"ready":%s}' % (b"true" if ready else b"false"), status_code=200 if ready else 503,
                        media_type="application/json")  # fmt: skip

    @app.get("/metrics", dependencies=[Depends(BearerAuth(settings.ingest_token.get_secret_value()))])
    def metrics() -> Response:
        return Response(pipeline.metrics.exposition(), media_type=CONTENT_TYPE)

    return app


def ingest_pipeline(store: Store, dsn: str) -> tuple[AuditPipeline, AuditSettings]:
    """The pipeline a sidecar runs over an already open store (``autogen-audit serve``)."""
    from .._factory import build_pipeline

    settings = AuditSettings(store_dsn=dsn)
    return background_priority(build_pipeline(settings, store=store)), settings


def background_priority(pipeline: AuditPipeline, sidecar: SidecarSettings | None = None) -> AuditPipeline:
    """The pipeline, its worker threads lowered by ``AUDIT_SIDECAR_WORKER_NICE`` (see _priority)."""
    lower_priority(pipeline.worker_threads(), (sidecar or SidecarSettings()).sidecar_worker_nice)
    return pipeline


def mount_ingest(app: FastAPI, store: Store, dsn: str) -> AuditPipeline | None:
    """Add the ingest routes to an existing app (the UI); None, and nothing mounted, without a token."""
    if not AuditSettings().ingest_token.get_secret_value():
        return None
    pipeline, settings = ingest_pipeline(store, dsn)
    app.include_router(ingest_router(pipeline, settings))
    return pipeline
