"""OTLP out: redacted records of a real team run become GenAI spans and logs, one trace per task."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from autogen_core import SingleThreadedAgentRuntime
from fastapi import FastAPI, Request, Response
from opentelemetry import trace
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from collector import AuditHook, AuditPipeline, AuditSettings, ClickHouseExporter, EventRecord, Store
from collector._otel_out import (
    OtelExportProcessor,
    OtelExportSettings,
    build_otel_processor,
    root_span_id_for,
    trace_id_for,
)
from collector._otlp_in import decode_logs, decode_traces
from collector._records import RecordBuilder
from tests.capture._teams import round_robin, run_in_task

from ._server import ThreadedServer

EMAIL = "alan.turing@bletchley-example.org"


def _values(attrs: Any) -> str:
    return " ".join(str(v) for v in dict(attrs or {}).values())


@pytest.fixture(scope="module")
def exported(module_store: Store, redactor: object) -> dict[str, Any]:
    """One real team run through a pipeline whose processor exports to in-memory exporters."""
    spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()
    processor = OtelExportProcessor(OtelExportSettings(), span_exporter=spans, log_exporter=logs)
    settings = AuditSettings(store_dsn=module_store.dsn, batch_interval_s=0.05)
    stored: list[EventRecord] = []

    def keep(records: list[EventRecord]) -> list[EventRecord]:
        stored.extend(records)
        return records

    pipeline = AuditPipeline(
        exporter=ClickHouseExporter(module_store),
        builder=RecordBuilder(settings, redactor, "otelout"),  # type: ignore[arg-type]
        settings=settings,
        processors=[processor, keep],
    )
    hook = AuditHook(pipeline, settings)

    async def run() -> tuple[str, str]:
        runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
        runtime.start()
        corr, _ = await run_in_task(hook, round_robin(runtime, "order-5"), "acme", f"refund order-5 for {EMAIL}")
        await runtime.stop_when_idle()
        return corr, "acme"

    corr, tenant = asyncio.run(run())
    assert asyncio.run(hook.aclose(30))
    processor.shutdown()
    return {"spans": spans.get_finished_spans(), "logs": logs.get_finished_logs(), "records": stored,
           "corr": corr, "tenant": tenant}  # fmt: skip


def test_every_record_becomes_a_span_in_its_tasks_trace_under_the_task_root(exported: dict[str, Any]) -> None:
    spans, records = exported["spans"], exported["records"]
    trace_id = trace_id_for(exported["tenant"], exported["corr"])
    root_id = root_span_id_for(exported["tenant"], exported["corr"])
    roots = [s for s in spans if s.context.span_id == root_id]
    assert [r.name for r in roots] == ["invoke_agent RoundRobinGroupChat"]
    assert roots[0].parent is None
    children = [s for s in spans if s.context.span_id != root_id]
    assert len(children) == len(records)
    assert {s.context.trace_id for s in spans} == {trace_id}
    assert {s.parent.span_id for s in children} == {root_id}
    assert {s.attributes["correlation.id"] for s in spans} == {exported["corr"]}
    assert sorted(s.attributes["audit.event_id"] for s in children) == sorted(r.event_id for r in records)


def test_genai_attributes_on_model_and_tool_spans(exported: dict[str, Any]) -> None:
    by_op: dict[str, list[Any]] = {}
    for span in exported["spans"]:
        by_op.setdefault(str(span.attributes.get("gen_ai.operation.name")), []).append(span)
    chat = by_op["chat"]
    assert chat
    assert all(s.attributes["gen_ai.usage.input_tokens"] >= 0 for s in chat)
    assert any(s.attributes["gen_ai.usage.input_tokens"] > 0 for s in chat)
    tools = by_op["execute_tool"]
    assert [s.attributes["gen_ai.tool.name"] for s in tools] == ["get_order"]
    assert tools[0].name == "execute_tool get_order"


def test_exports_are_redacted_and_logs_carry_the_span_context(exported: dict[str, Any]) -> None:
    spans, logs = exported["spans"], exported["logs"]
    text = " ".join(s.name + _values(s.attributes) for s in spans)
    text += " ".join(str(entry.log_record.body) + _values(entry.log_record.attributes) for entry in logs)
    assert EMAIL not in text
    assert "<EMAIL_ADDRESS>" in text
    assert "order-5" in text
    assert len(logs) == len(exported["records"])
    trace_id = trace_id_for(exported["tenant"], exported["corr"])
    assert {entry.log_record.trace_id for entry in logs} == {trace_id}


def test_the_global_tracer_provider_is_left_alone(exported: dict[str, Any]) -> None:
    assert type(trace.get_tracer_provider()).__name__ in {"ProxyTracerProvider", "NoOpTracerProvider"}


def test_real_otlp_http_export_reaches_a_receiver(exported: dict[str, Any]) -> None:
    received: dict[str, list[tuple[bytes, str]]] = {"traces": [], "logs": []}
    app = FastAPI()

    @app.post("/v1/{signal}")
    async def receive(signal: str, request: Request) -> Response:
        received[signal].append((await request.body(), request.headers.get("x-api-key", "")))
        return Response(b"", media_type="application/x-protobuf")

    server = ThreadedServer(app).start()
    try:
        processor = build_otel_processor(
            OtelExportSettings(otlp_export_endpoint=server.url, otlp_export_headers="x-api-key=k-123")  # type: ignore[arg-type]
        )
        assert processor is not None
        record = dataclasses.replace(exported["records"][-1], event_id="evt-otlp-1")
        assert processor([record]) == [record]
        processor.shutdown()
    finally:
        server.stop()
    assert build_otel_processor(OtelExportSettings()) is None
    [(body, api_key)] = received["traces"]
    assert api_key == "k-123"
    request = decode_traces(body, "application/x-protobuf")
    names = [s.name for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert len(names) == 2  # the event and, as it ends the task, the task's root span
    [(log_body, _)] = received["logs"]
    assert len(decode_logs(log_body, "application/x-protobuf").resource_logs[0].scope_logs[0].log_records) == 1
