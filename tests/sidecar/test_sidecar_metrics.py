"""`serve --ingest-only` (the deployed sidecar) serves the pipeline's /metrics behind the ingest token.

deploy/ runs the sidecar in this mode only, so without the route the deployed pipeline had no
metrics at all. The probes (/healthz, /readyz) answer without the token; /metrics needs it, like
the ingest routes, and carries counts and states only: no tenant, no captured value, no token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from collector._cli import serve
from collector._cli.main import main

TOKEN = "metrics-token-" + "k" * 24
EMAIL = "ada.lovelace@metrics-example.org"
TENANT = "tenant-metrics-7f3"


def span(correlation_id: str) -> dict[str, Any]:
    attributes = [
        {"key": "tenant.id", "value": {"stringValue": TENANT}},
        {"key": "correlation.id", "value": {"stringValue": correlation_id}},
        {"key": "note", "value": {"stringValue": f"mail {EMAIL}"}},
    ]
    return {
        "resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "metrics-test"}}]},
            "scopeSpans": [{"spans": [{
                "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
                "name": "chat gpt-x", "kind": 3, "attributes": attributes,
                "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000500000000",
            }]}],
        }]
    }  # fmt: skip


def test_ingest_only_serves_metrics_behind_the_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIT_INGEST_TOKEN", TOKEN)
    monkeypatch.setenv("AUDIT_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("AUDIT_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("REDACTION_NER", "false")
    answers: dict[str, Any] = {}

    class Probe:
        """Stands in for uvicorn's Server: drives the app `serve --ingest-only` built, then returns."""

        def __init__(self, config: Any) -> None:
            self.app = config.app

        def run(self) -> None:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            with TestClient(self.app, base_url="http://127.0.0.1") as client:
                answers["anonymous"] = client.get("/metrics")
                answers["wrong"] = client.get("/metrics", headers={"Authorization": "Bearer nope"})
                answers["healthz"] = client.get("/healthz").status_code
                answers["ingest"] = client.post("/v1/traces", json=span("corr-metrics-1"), headers=auth).status_code
                answers["metrics"] = client.get("/metrics", headers=auth)

    monkeypatch.setattr(serve, "_server_class", lambda: Probe)
    assert main(["--dsn", f"chdb://{tmp_path / 'store'}", "serve", "--ingest-only", "--port", "0"]) == 0

    for refused in ("anonymous", "wrong"):
        assert answers[refused].status_code == 401
        assert answers[refused].headers["www-authenticate"] == "Bearer"
        assert "audit_" not in answers[refused].text
    assert answers["healthz"] == 200  # the probes need no token
    assert answers["ingest"] == 200
    metrics = answers["metrics"]
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    values = {
        line.split(" ")[0]: float(line.split(" ")[1]) for line in metrics.text.splitlines() if line[:1] not in ("#", "")
    }
    assert values["audit_events_in_total"] >= 1
    assert "audit_spool_bytes" in values
    assert "audit_ready" in values
    for secret in (EMAIL, TENANT, "corr-metrics-1", TOKEN):
        assert secret not in metrics.text
