"""/healthz, /readyz and /metrics through FastAPI, and the in-process metrics server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from durable_testlib import FlakyStore, make_pipeline, wait_for
from fastapi import FastAPI
from fastapi.testclient import TestClient

from collector import CapturedEvent, EventKind, Store, TaskRef
from collector._health import health_router, start_metrics_server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    real = Store.open(f"chdb://{tmp_path / 'store'}")
    yield real
    real.close()


def test_ready_follows_the_store_and_metrics_are_exposed(store: Store, redactor: object) -> None:
    flaky = FlakyStore(store)
    pipeline = make_pipeline(flaky, redactor, ready_store_stale_s=0.6)
    app = FastAPI()
    app.include_router(health_router(pipeline))
    client = TestClient(app)
    assert client.get("/healthz").json() == {"live": True}
    assert wait_for(lambda: client.get("/readyz").status_code == 200, 5.0)
    flaky.down = True
    event = CapturedEvent(1, TaskRef("acme", "h1"), 1, 1, EventKind.CUSTOM, {"a": 1})
    assert pipeline.submit_batch_durable([event], 10.0)  # accepted and durable while the store is down
    assert wait_for(lambda: client.get("/readyz").status_code == 503, 5.0)
    body = client.get("/readyz").json()
    assert body["ready"] is False and any("store not reachable" in r for r in body["reasons"])
    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    for name in (
        "audit_queue_depth", "audit_spool_bytes", "audit_spool_oldest_age_seconds", "audit_events_in_total",
        "audit_events_out_total", "audit_events_deduplicated_total", "audit_events_lost_total",
        "audit_redaction_seconds_bucket", "audit_insert_seconds_bucket", "audit_insert_errors_total",
        "audit_spool_quarantined_records", "audit_ready 0.0",
    ):  # fmt: skip
        assert name in text, name
    flaky.down = False
    assert wait_for(lambda: client.get("/readyz").status_code == 200, 10.0)
    assert pipeline.shutdown(10.0)
    assert client.get("/healthz").status_code == 503


def test_start_metrics_server_serves_the_three_endpoints(store: Store, redactor: object) -> None:
    pipeline = make_pipeline(store, redactor)
    server = start_metrics_server(pipeline, "127.0.0.1", 0)
    try:
        base = f"http://127.0.0.1:{server.port}"
        assert httpx.get(f"{base}/healthz").status_code == 200
        assert "audit_events_in_total" in httpx.get(f"{base}/metrics").text
        assert wait_for(lambda: httpx.get(f"{base}/readyz").status_code == 200, 5.0)
    finally:
        server.close()
        pipeline.shutdown(5.0)
