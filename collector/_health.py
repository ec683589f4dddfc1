"""/healthz, /readyz and /metrics for a pipeline, as a FastAPI router or a small in-process server.

``/healthz``: the pipeline's threads run (liveness: restart the pod if not). ``/readyz``: the store
answered recently, the spool is under its alarm bound and no batch fails permanently (503 with the
reasons otherwise; events are still accepted and spooled meanwhile). ``/metrics``: Prometheus text
from the pipeline's private registry. Answers name states and sizes, never captured content.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from ._metrics import CONTENT_TYPE

if TYPE_CHECKING:
    from ._pipeline import AuditPipeline
    from ._store._client import Store

__all__ = ["MetricsServer", "health_router", "start_metrics_server", "store_health_router"]


def health_router(pipeline: AuditPipeline) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    def healthz() -> JSONResponse:
        health = pipeline.health()
        return JSONResponse({"live": health.live}, status_code=200 if health.live else 503)

    @router.get("/readyz")
    def readyz() -> JSONResponse:
        health = pipeline.health()
        body: dict[str, Any] = asdict(health)
        body["reasons"] = list(health.reasons)
        return JSONResponse(body, status_code=200 if health.ready else 503)

    @router.get("/metrics")
    def metrics() -> Response:
        return Response(pipeline.metrics.exposition(), media_type=CONTENT_TYPE)

    return router


def store_health_router(store: Store) -> APIRouter:
    """/healthz and /readyz of a service that hosts no pipeline (``serve --ui-only``, or ``serve``
    without an ingest token): live while it answers, ready while the store answers ``SELECT 1``."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    def healthz() -> JSONResponse:
        return JSONResponse({"live": True})

    @router.get("/readyz")
    def readyz() -> JSONResponse:
        try:
            store.query("SELECT 1")
        except Exception as exc:  # noqa: BLE001 - any failure is "not ready"; the class alone is named
            reasons = [f"store not reachable: {type(exc).__name__}"]
            return JSONResponse({"ready": False, "reasons": reasons}, status_code=503)
        return JSONResponse({"ready": True, "reasons": []})

    return router


class MetricsServer:
    """uvicorn serving health_router(pipeline) from a daemon thread; ``close()`` stops it."""

    def __init__(self, pipeline: AuditPipeline, host: str, port: int) -> None:
        import uvicorn
        from fastapi import FastAPI

        app = FastAPI(title="autogen-audit health", docs_url=None, redoc_url=None, openapi_url=None)
        app.include_router(health_router(pipeline))
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="autogen-audit-metrics", daemon=True)
        self._thread.start()

    @property
    def started(self) -> bool:
        return bool(self._server.started)

    @property
    def port(self) -> int:
        """The bound port (useful with port=0)."""
        servers = getattr(self._server, "servers", [])
        for server in servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return int(self._server.config.port)

    def wait_started(self, timeout: float = 5.0) -> bool:
        event = threading.Event()
        for _ in range(int(timeout / 0.02)):
            if self._server.started:
                return True
            event.wait(0.02)
        return bool(self._server.started)

    def close(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)


def start_metrics_server(pipeline: AuditPipeline, host: str = "127.0.0.1", port: int = 9464) -> MetricsServer:
    """Serve /healthz, /readyz and /metrics for an in-process pipeline (an app without `serve`)."""
    server = MetricsServer(pipeline, host, port)
    server.wait_started()
    return server
