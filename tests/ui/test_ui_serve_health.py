"""`serve` answers the probes that deploy/ and the docs point at: /healthz and /readyz in every mode
(deploy/k8s/ui.yaml and the compose healthcheck probe `serve --ui-only`), and /metrics when it hosts
the pipeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from audit_ui import add_key
from collector._cli import serve
from collector._cli.main import main
from collector._health import store_health_router
from collector._store._client import Store

PATHS = ("/healthz", "/readyz", "/metrics")


def serve_and_probe(monkeypatch: pytest.MonkeyPatch, dsn: str, *flags: str) -> dict[str, tuple[int, str]]:
    """Run `autogen-audit serve` in this process; instead of listening, its server probes the app."""
    answers: dict[str, tuple[int, str]] = {}

    class Probe:
        def __init__(self, config: Any) -> None:
            self.app = config.app

        def run(self) -> None:
            with TestClient(self.app, base_url="http://127.0.0.1") as client:
                for path in PATHS:
                    response = client.get(path)
                    answers[path] = (response.status_code, response.text)

    monkeypatch.setattr(serve, "_server_class", lambda: Probe)
    assert main(["--dsn", dsn, "serve", "--port", "0", *flags]) == 0
    return answers


def store_with_a_key(path: Path) -> str:
    dsn = f"chdb://{path}"
    store = Store.open(dsn)
    try:
        add_key(store, "ops", [], admin=True)
    finally:
        store.close()
    return dsn


def test_ui_only_answers_the_probes_from_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDIT_INGEST_TOKEN", raising=False)
    answers = serve_and_probe(monkeypatch, store_with_a_key(tmp_path / "store"), "--ui-only")
    assert answers["/healthz"] == (200, '{"live":true}')
    assert answers["/readyz"] == (200, '{"ready":true,"reasons":[]}')
    assert answers["/metrics"][0] == 404  # no pipeline here, so no pipeline metrics


def test_serve_with_ingest_answers_with_the_pipelines_health(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIT_INGEST_TOKEN", "probe-token-" + "x" * 20)
    answers = serve_and_probe(monkeypatch, store_with_a_key(tmp_path / "store"))
    assert answers["/healthz"] == (200, '{"live":true}')
    status, body = answers["/readyz"]
    assert status in (200, 503)
    assert {"ready", "reasons", "spool_bytes"} <= json.loads(body).keys()  # the pipeline's verdict
    assert answers["/metrics"][0] == 200
    assert "audit_events_in_total" in answers["/metrics"][1]


def test_store_readiness_names_only_the_error_class() -> None:
    class DownStore:
        def query(self, sql: str) -> None:
            raise ConnectionError("refused by http://user:secret@clickhouse:8123")

    app = FastAPI()
    app.include_router(store_health_router(DownStore()))  # type: ignore[arg-type]
    client = TestClient(app)
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"ready": False, "reasons": ["store not reachable: ConnectionError"]}
