"""OtelExportProcessor: a pipeline record processor that exports redacted records as OTLP spans and logs.

It sees records only after redaction (it runs between redaction and the store), returns them
unchanged, and never raises. It owns a private TracerProvider and LoggerProvider: the app's
global OpenTelemetry setup is neither used nor touched.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from .._events import EventKind, EventRecord
from ._counted import CountedLogExporter, CountedSpanExporter
from ._ids import PresetIds, root_span_id_for, span_id_for, trace_id_for
from ._mapping import span_shape, task_span_name
from ._session import audit_session
from ._settings import OtelExportSettings

log = logging.getLogger("collector")
_ENDS = frozenset({EventKind.TASK_RESULT, EventKind.TASK_ERROR, EventKind.TASK_UNFINISHED})
_OPEN_MAX = 100_000


def _headers(raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in raw.split(","):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


class OtelExportProcessor:
    """Callable over a batch of redacted records (collector._processors.RecordProcessor)."""

    def __init__(
        self,
        settings: OtelExportSettings,
        *,
        span_exporter: SpanExporter | None = None,
        log_exporter: LogRecordExporter | None = None,
    ) -> None:
        self._settings = settings
        base = settings.otlp_export_endpoint.rstrip("/")
        headers = _headers(settings.otlp_export_headers.get_secret_value())
        if span_exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            # Its own session: the SDK's exporters would add the app's OTEL_EXPORTER_OTLP_* headers
            # (its vendor's API key), CA bundle, client certificate and credential provider.
            span_exporter = OTLPSpanExporter(
                endpoint=f"{base}/v1/traces", headers=headers, session=audit_session(headers)
            )
        resource = Resource.create({"service.name": settings.otlp_export_service_name})
        self._ids = PresetIds()
        # Every event is exported: the app's OTEL_TRACES_SAMPLER is for its own traces.
        self._tracer_provider = TracerProvider(resource=resource, id_generator=self._ids, sampler=ALWAYS_ON)
        self._spans = CountedSpanExporter(span_exporter)
        self._tracer_provider.add_span_processor(BatchSpanProcessor(self._spans))
        self._tracer = self._tracer_provider.get_tracer("autogen-audit")
        self._logger_provider: LoggerProvider | None = None
        self._logs: CountedLogExporter | None = None
        if settings.otlp_export_logs:
            if log_exporter is None:
                from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

                log_exporter = OTLPLogExporter(
                    endpoint=f"{base}/v1/logs", headers=headers, session=audit_session(headers)
                )
            self._logger_provider = LoggerProvider(resource=resource)
            self._logs = CountedLogExporter(log_exporter)
            self._logger_provider.add_log_record_processor(BatchLogRecordProcessor(self._logs))
        self._started: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._lock = threading.Lock()
        self.errors = 0
        self.spans_emitted = 0  # handed to the SDK; its exporter wrapper counts those exported
        self.logs_emitted = 0

    def __call__(self, records: list[EventRecord]) -> list[EventRecord]:
        for rec in records:
            try:
                self._export(rec)
            except Exception:  # noqa: BLE001 - telemetry export must never stop the audit pipeline
                self.errors += 1
                if self.errors in (1, 10, 100) or self.errors % 1000 == 0:
                    log.warning("collector: OTLP span export failed %d times (content withheld)", self.errors)
        return records

    def _export(self, rec: EventRecord) -> None:
        key = (rec.tenant_id, rec.correlation_id)
        trace_id = trace_id_for(*key)
        root_id = root_span_id_for(*key)
        with self._lock:
            if rec.kind == EventKind.TASK_START:
                self._started[key] = rec.ts_ns
                if len(self._started) > _OPEN_MAX:
                    self._started.popitem(last=False)
            started = self._started.pop(key, None) if rec.kind in _ENDS else None
        root = SpanContext(trace_id, root_id, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
        parent = trace.set_span_in_context(NonRecordingSpan(root))
        name, kind, attrs = span_shape(rec, self._settings.otlp_export_content_chars
                                       if self._settings.otlp_export_content else 0)  # fmt: skip
        end = rec.ts_ns
        start = end - int(rec.duration_ms * 1e6)
        self._ids.preset(None, span_id_for(rec.event_id))
        span = self._tracer.start_span(name, context=parent, kind=kind, attributes=attrs, start_time=start)
        if rec.is_error or rec.kind == EventKind.TASK_ERROR:
            span.set_status(Status(StatusCode.ERROR))
        span_context = span.get_span_context()
        span.end(end_time=end)
        self.spans_emitted += 1
        if rec.kind in _ENDS:
            self._task_span(rec, trace_id, root_id, started if started is not None else rec.ts_ns)
        if self._logger_provider is not None:
            context = trace.set_span_in_context(NonRecordingSpan(span_context))
            self._log(self._logger_provider, rec, attrs, context)

    def _task_span(self, rec: EventRecord, trace_id: int, root_id: int, started_ns: int) -> None:
        """The task's root span, emitted at its end with the id its events already name as parent."""
        attrs: dict[str, Any] = {
            "tenant.id": rec.tenant_id,
            "correlation.id": rec.correlation_id,
            "gen_ai.operation.name": "invoke_agent",
            "audit.status": rec.kind,
        }
        if rec.team_id:
            attrs["audit.team_id"] = rec.team_id
        self._ids.preset(trace_id, root_id)
        span = self._tracer.start_span(
            task_span_name(rec.team_type), context=trace.set_span_in_context(trace.INVALID_SPAN),
            kind=SpanKind.INTERNAL, attributes=attrs, start_time=min(started_ns, rec.ts_ns),
        )  # fmt: skip
        if rec.kind != EventKind.TASK_RESULT:
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=rec.ts_ns)
        self.spans_emitted += 1

    def _log(self, provider: LoggerProvider, rec: EventRecord, attrs: dict[str, Any], context: Any) -> None:
        body = attrs.get("audit.content") or f"{rec.kind} {rec.message_type}".strip()
        provider.get_logger("autogen-audit").emit(
            timestamp=rec.ts_ns, context=context, body=body, attributes=attrs, event_name=f"audit.{rec.kind}",
            severity_text="ERROR" if rec.is_error else "INFO",
        )  # fmt: skip
        self.logs_emitted += 1

    def unexported(self) -> tuple[int, int]:
        """Spans and log records handed to the SDK and not (yet) accepted by the endpoint."""
        logs = self.logs_emitted - self._logs.stopper.exported if self._logs is not None else 0
        return self.spans_emitted - self._spans.stopper.exported, logs

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Export what is queued and stop both providers, within ``timeout_s`` (call when the
        pipeline stops). The SDK's own flush ignores its timeout and waits out every queued batch's
        export (10 s each against an endpoint that does not answer): the providers are stopped on
        threads of their own, and at the deadline the exporters are shut (a hung export gives up,
        the rest of the queue is dropped). What was not exported is counted in a warning."""
        deadline = time.monotonic() + timeout_s
        providers: list[TracerProvider | LoggerProvider] = [self._tracer_provider]
        if self._logger_provider is not None:
            providers.append(self._logger_provider)
        threads = [
            threading.Thread(target=p.shutdown, name="autogen-audit-otel-shutdown", daemon=True) for p in providers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(thread.is_alive() for thread in threads):
            self._spans.stopper.stop()
            if self._logs is not None:
                self._logs.stopper.stop()
        spans, logs = self.unexported()
        if spans or logs:
            log.warning(
                "collector: OTLP export: %d spans and %d log records not exported by shutdown "
                "(endpoint refusing, unreachable or slow; content withheld)", spans, logs,
            )  # fmt: skip
