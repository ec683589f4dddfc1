"""OTLP out under hostile conditions: the app's own OpenTelemetry configuration, an endpoint that
never answers, and the content switch. Real OTLP/HTTP exporters against real sockets."""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from autogen_core import SingleThreadedAgentRuntime
from fastapi import FastAPI, Request, Response
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from collector import AuditSettings, EventRecord, Store
from collector._events import CapturedEvent, EventKind, TaskRef
from collector._otel_out import OtelExportProcessor, OtelExportSettings, build_otel_processor
from collector._otlp_in import decode_logs, decode_traces
from collector._records import RecordBuilder
from tests.capture._teams import make_hook, round_robin, run_in_task

from ._server import ThreadedServer


def _records(redactor: object, *captured: tuple[EventKind, Any]) -> list[EventRecord]:
    """Captured events of one task, built and redacted by the real RecordBuilder."""
    ref = TaskRef("acme", "corr-iso-1", team_id="team-1", team_type="RoundRobinGroupChat")
    now = time.time_ns()
    events = [
        CapturedEvent(gseq=i + 1, task=ref, seq=i + 1, ts_ns=now + i * 1000, kind=kind, payload=payload)
        for i, (kind, payload) in enumerate(captured)
    ]
    builder = RecordBuilder(AuditSettings(), redactor, "iso")  # type: ignore[arg-type]
    return [b.record for b in builder.build(events)]


@pytest.fixture
def receiver() -> Iterator[tuple[str, dict[str, list[tuple[bytes, dict[str, str]]]]]]:
    received: dict[str, list[tuple[bytes, dict[str, str]]]] = {"traces": [], "logs": []}
    app = FastAPI()

    @app.post("/v1/{signal}")
    async def receive(signal: str, request: Request) -> Response:
        received[signal].append((await request.body(), dict(request.headers)))
        return Response(b"", media_type="application/x-protobuf")

    server = ThreadedServer(app).start()
    try:
        yield server.url, received
    finally:
        server.stop()


def test_the_apps_own_otel_environment_does_not_reach_the_audit_export(
    receiver: tuple[str, dict[str, list[tuple[bytes, dict[str, str]]]]],
    redactor: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The app configures its own OpenTelemetry through OTEL_* variables: its vendor's API key as
    exporter headers, and a sampler for its own traces. Neither is the audit export's: the key must
    not be sent to the audit endpoint, and the app's sampling must not drop audit spans."""
    url, received = receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-app-vendor-key=app-vendor-secret-123")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-app-traces-key=app-traces-secret-456")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    processor = build_otel_processor(
        OtelExportSettings(otlp_export_endpoint=url, otlp_export_headers="x-api-key=audit-key")  # type: ignore[arg-type]
    )
    assert processor is not None
    records = _records(
        redactor,
        (EventKind.TASK_START, {"__type__": "TaskStart"}),
        (EventKind.TASK_RESULT, {"__type__": "TaskResult", "stop_reason": "done", "messages": []}),
    )
    assert processor(records) == records
    processor.shutdown()

    requests = received["traces"] + received["logs"]
    assert received["traces"] and received["logs"]
    for _, headers in requests:
        assert headers.get("x-api-key") == "audit-key"
        assert "app-vendor-secret-123" not in str(headers) and "app-traces-secret-456" not in str(headers)
    spans = [
        s
        for body, _ in received["traces"]
        for rs in decode_traces(body, "application/x-protobuf").resource_spans
        for ss in rs.scope_spans
        for s in ss.spans
    ]
    assert len(spans) == 3  # both events and the task's root span, whatever the app samples
    logs = [
        r
        for body, _ in received["logs"]
        for rl in decode_logs(body, "application/x-protobuf").resource_logs
        for sl in rl.scope_logs
        for r in sl.log_records
    ]
    assert len(logs) == 2


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """An OTLP endpoint that takes connections and never answers (a hung collector, a black hole)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


async def test_a_silent_endpoint_does_not_hold_the_shutdown_past_its_deadline_and_is_counted(
    silent_endpoint: str,
    store: Store,
    redactor: object,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Events are stored whatever the endpoint does; aclose(deadline) returns by its deadline (the
    SDK's force_flush ignores its timeout and waits out every export); what was not exported is
    counted in a warning without content."""
    monkeypatch.setenv("AUDIT_OTLP_EXPORT_ENDPOINT", silent_endpoint)
    hook = make_hook(store, redactor, batch_interval_s=0.05)
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
    runtime.start()
    started = time.monotonic()
    corr, _ = await run_in_task(hook, round_robin(runtime, "order-7"), "acme", "refund order-7")
    await runtime.stop_when_idle()
    assert time.monotonic() - started < 5  # the export never slows the app
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    assert await hook.aclose(3)
    assert time.monotonic() - started < 5
    _, rows = store.query(f"SELECT count() FROM events WHERE correlation_id = '{corr}'")
    assert rows[0][0] > 5
    warnings = [r.getMessage() for r in caplog.records if "not exported" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
    assert re.search(r"\b[1-9]\d* spans and [1-9]\d* log records\b", warnings[0]), warnings
    assert all("order-7" not in r.getMessage() and corr not in r.getMessage() for r in caplog.records)


def test_with_content_off_no_error_text_is_exported(redactor: object) -> None:
    """AUDIT_OTLP_EXPORT_CONTENT=false exports ids, kinds, timings and token counts only: an error's
    (redacted) message is content too. Its span still says it failed, and with what type."""
    spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()
    processor = OtelExportProcessor(
        OtelExportSettings(otlp_export_content=False), span_exporter=spans, log_exporter=logs
    )
    records = _records(
        redactor,
        (EventKind.TASK_START, {"__type__": "TaskStart"}),
        (EventKind.HANDLER_EXCEPTION, {"__type__": "MessageHandlerExceptionEvent",
                                       "type": "MessageHandlerException",
                                       "exception": "the refund of order 7731 bounced twice"}),
        (EventKind.TASK_ERROR, {"__type__": "TaskError", "error_type": "RuntimeError",
                                "error": "the refund of order 7731 bounced twice"}),
    )  # fmt: skip
    assert [r.is_error for r in records] == [False, True, True]
    assert all("bounced" in r.error for r in records[1:])  # stored, and redaction keeps it
    processor(records)
    processor.shutdown()
    exported = [s.name + " " + str(dict(s.attributes or {})) for s in spans.get_finished_spans()]
    exported += [
        str(e.log_record.body) + " " + str(dict(e.log_record.attributes or {})) for e in logs.get_finished_logs()
    ]
    assert len(exported) == 4 + 3
    assert not [text for text in exported if "bounced" in text or "7731" in text]
    events = [s for s in spans.get_finished_spans() if "audit.kind" in (s.attributes or {})]
    failed = {s.attributes["audit.kind"]: s for s in events if s.status.status_code.name == "ERROR"}
    assert set(failed) == {"handler_exception", "task_error"}
    assert failed["handler_exception"].attributes["error.type"] == "MessageHandlerException"
    assert failed["task_error"].attributes["error.type"] == "TaskError"
