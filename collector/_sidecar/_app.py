"""A small FastAPI app around the ingest routes: the sidecar until `autogen-audit serve` mounts them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, is_dataclass
from typing import Any

from fastapi import FastAPI

from .._pipeline import AuditPipeline
from .._settings import AuditSettings
from ._ingest import ingest_router
from ._settings import SidecarSettings


def create_sidecar_app(
    pipeline: AuditPipeline, settings: AuditSettings, sidecar: SidecarSettings | None = None
) -> FastAPI:
    """Ingest routes + ``GET /healthz`` (counters only); the pipeline is flushed and stopped on shutdown."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
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
        }

    return app
