"""OTLP in: the real OTel SDK exporters feed the sidecar; spans and logs land redacted and attributed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from autogen_core import SingleThreadedAgentRuntime
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

from collector import AuditSettings, Store, build_pipeline
from collector._sidecar import create_sidecar_app
from tests.capture._teams import round_robin
from tests.sidecar._procs import TOKEN

from ._server import ThreadedServer

EMAIL = "grace.hopper@navy-example.org"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def sidecar(module_store: Store, redactor: object) -> Iterator[ThreadedServer]:
    settings = AuditSettings(store_dsn=module_store.dsn, ingest_token=TOKEN, batch_interval_s=0.05)  # type: ignore[arg-type]
    pipeline = build_pipeline(settings, store=module_store, redactor=redactor)  # type: ignore[arg-type]
    server = ThreadedServer(create_sidecar_app(pipeline, settings)).start()
    _PIPELINES.append(pipeline)
    yield server
    _PIPELINES.remove(pipeline)
    server.stop()


_PIPELINES: list[Any] = []


def rows(store: Store, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    # The sidecar acknowledges once a batch is in its spool; the store has it after the writer's insert.
    for pipeline in _PIPELINES:
        assert pipeline.flush(30)
    return store.query(sql, parameters=params)[1]


async def test_autogen_runtime_spans_from_the_sdk_exporter_are_stored_redacted_and_attributed(
    sidecar: ThreadedServer, module_store: Store
) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "shop", "tenant.id": "acme"}))
    exporter = OTLPSpanExporter(endpoint=f"{sidecar.url}/v1/traces", headers=AUTH)
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=100))
    runtime = SingleThreadedAgentRuntime(tracer_provider=provider)
    runtime.start()
    team = round_robin(runtime, "order-77")  # type: ignore[arg-type]
    await team.run(task=f"refund order-77 and mail {EMAIL}")
    await runtime.stop_when_idle()
    assert provider.force_flush(10_000)
    provider.shutdown()

    team_id = team._team_id
    spans = rows(
        module_store,
        "SELECT tenant_id, correlation_id, payload, content FROM events WHERE message_type = 'OtelSpan' "
        "AND position(payload, {team:String}) > 0",
        team=team_id,
    )
    assert len(spans) > 5
    assert all((tenant, corr) == ("acme", team_id) for tenant, corr, _, _ in spans)
    payloads = [json.loads(p) for _, _, p, _ in spans]
    with_message = [p for p in payloads if isinstance(p["attributes"].get("message"), dict)]
    assert with_message, "AutoGen's message attribute should be parsed into structure"
    stored = " ".join(p + c for _, _, p, c in spans)
    assert "order-77" in stored
    assert EMAIL not in stored
    assert "<EMAIL_ADDRESS>" in stored


def test_explicit_attributes_win_and_json_encoding_is_accepted_once(
    sidecar: ThreadedServer, module_store: Store
) -> None:
    trace_id, span_id = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"
    body = {
        "resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-app"}}]},
            "scopeSpans": [{"scope": {"name": "manual"}, "spans": [{
                "traceId": trace_id, "spanId": span_id, "name": "handle ticket", "kind": 1,
                "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000500000000",
                "attributes": [
                    {"key": "tenant.id", "value": {"stringValue": "globex"}},
                    {"key": "correlation.id", "value": {"stringValue": "corr-json-1"}},
                    {"key": "note", "value": {"stringValue": f"call {EMAIL}"}},
                ],
            }]}],
        }]
    }  # fmt: skip
    for _ in range(2):  # a retried request must not be stored twice
        response = httpx.post(f"{sidecar.url}/v1/traces", json=body, headers=AUTH, timeout=30)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
    found = rows(
        module_store,
        "SELECT tenant_id, correlation_id, event_id, duration_ms, payload FROM events "
        "WHERE correlation_id = 'corr-json-1'",
    )
    assert len(found) == 1
    tenant, _, event_id, duration_ms, payload = found[0]
    assert tenant == "globex"
    assert event_id == f"otlp-{trace_id}-{span_id}"
    assert duration_ms == pytest.approx(500.0)
    assert EMAIL not in payload


def test_untraced_spans_fall_back_to_the_trace_id(sidecar: ThreadedServer, module_store: Store) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "bare"}))
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{sidecar.url}/v1/traces", headers=AUTH))
    )
    with provider.get_tracer("t").start_as_current_span("lonely") as span:
        trace_hex = format(span.get_span_context().trace_id, "032x")
    provider.shutdown()
    found = rows(module_store, "SELECT tenant_id FROM events WHERE correlation_id = {c:String}", c=trace_hex)
    assert found == [("_unattributed",)]


def test_logs_from_the_sdk_exporter_land_redacted(sidecar: ThreadedServer, module_store: Store) -> None:
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

    provider = LoggerProvider(resource=Resource.create({"tenant.id": "initech", "correlation.id": "corr-log-1"}))
    provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{sidecar.url}/v1/logs", headers=AUTH))
    )
    provider.get_logger("app").emit(body=f"customer {EMAIL} asked for a refund", attributes={"step": "intake"})
    provider.shutdown()
    found = rows(module_store, "SELECT tenant_id, payload FROM events WHERE correlation_id = 'corr-log-1'")
    assert len(found) == 1
    assert found[0][0] == "initech"
    assert EMAIL not in found[0][1]
    assert "refund" in found[0][1]


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_wrong_or_missing_token_is_refused_without_echoing_it(sidecar: ThreadedServer, header: str | None) -> None:
    headers = {"Content-Type": "application/x-protobuf"} | ({"Authorization": header} if header else {})
    for path in ("/v1/traces", "/v1/logs", "/v1/audit/events"):
        response = httpx.post(f"{sidecar.url}{path}", content=b"", headers=headers, timeout=10)
        assert response.status_code == 401
        assert TOKEN not in response.text


@pytest.mark.parametrize("path", ["/v1/traces", "/v1/logs"])
def test_otlp_json_nested_past_the_parsers_depth_is_a_400(sidecar: ThreadedServer, path: str) -> None:
    body = '{"resourceSpans":' + "[" * 100_000 + "]" * 100_000 + "}"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    response = httpx.post(f"{sidecar.url}{path}", content=body, headers=headers, timeout=30)
    assert response.status_code == 400


def test_identical_log_records_in_one_request_are_each_stored_once(
    sidecar: ThreadedServer, module_store: Store
) -> None:
    # Log records have no id; the digest of two identical ones (a line repeated within one clock
    # tick) was one id, and the second was dropped as a retry of the first.
    tick = {"timeUnixNano": "1700000000000000000", "body": {"stringValue": f"retrying {EMAIL}"}}
    body = {
        "resourceLogs": [{
            "resource": {"attributes": [
                {"key": "tenant.id", "value": {"stringValue": "initech"}},
                {"key": "correlation.id", "value": {"stringValue": "corr-log-twice"}},
            ]},
            "scopeLogs": [{"scope": {"name": "app"}, "logRecords": [tick, tick, tick]}],
        }]
    }  # fmt: skip
    for _ in range(2):  # the whole request retried: still three events, not six
        response = httpx.post(f"{sidecar.url}/v1/logs", json=body, headers=AUTH, timeout=30)
        assert response.status_code == 200
    found = rows(module_store, "SELECT event_id, payload FROM events WHERE correlation_id = 'corr-log-twice'")
    assert len(found) == 3
    assert len({event_id for event_id, _ in found}) == 3
    assert all(EMAIL not in payload and "retrying" in payload for _, payload in found)


def test_spans_of_a_reused_team_stay_with_the_task_that_was_running_when_they_started(
    sidecar: ThreadedServer, module_store: Store
) -> None:
    # One team object run for consecutive tasks of two tenants (docs/capture.md allows reusing a
    # team key). The app's span exporter sends the first task's spans late, after the second task
    # started: they were filed under the second tenant's task, showing the first tenant's
    # messages to the second tenant's auditor.
    team = "3f0c2b9e-5d6a-4c1e-9b7f-2a8d4e6f1c30"
    t0 = 1_700_000_100_000_000_000

    def start(tenant: str, corr: str, ts: int) -> list[Any]:
        return [f"start-{corr}", tenant, corr, "", team, "RoundRobinGroupChat", 0, ts, "task_start",
                {"__type__": "TaskStart"}, "", "", "", "", 0]  # fmt: skip

    starts = [start("tenant-first", "corr-reuse-1", t0), start("tenant-second", "corr-reuse-2", t0 + 10 * 10**9)]
    response = httpx.post(f"{sidecar.url}/v1/audit/events", json={"v": 1, "events": starts}, headers=AUTH, timeout=30)
    assert response.status_code == 200
    trace_id, span_id = "6c9a3f1e2b4d5a6c7e8f9a0b1c2d3e4f", "a1b2c3d4e5f60718"
    span = {
        "traceId": trace_id, "spanId": span_id, "name": "autogen publish group_topic", "kind": 4,
        "startTimeUnixNano": str(t0 + 10**9), "endTimeUnixNano": str(t0 + 2 * 10**9),
        "attributes": [
            {"key": "messaging.destination", "value": {"stringValue": f"group_topic_{team}.({team})-T"}},
            {"key": "message", "value": {"stringValue": '{"content": "refund order-991 for the first tenant"}'}},
        ],
    }  # fmt: skip
    body = {
        "resourceSpans": [
            {"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "autogen"}, "spans": [span]}]}
        ]
    }
    assert httpx.post(f"{sidecar.url}/v1/traces", json=body, headers=AUTH, timeout=30).status_code == 200
    found = rows(
        module_store,
        "SELECT tenant_id, correlation_id FROM events WHERE event_id = {id:String}",
        id=f"otlp-{trace_id}-{span_id}",
    )
    assert found == [("tenant-first", "corr-reuse-1")]
