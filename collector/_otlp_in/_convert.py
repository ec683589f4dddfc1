"""OTLP spans and log records -> CapturedEvents (raw; the pipeline redacts them like any event).

AutoGen's runtime spans carry the full message as JSON in their ``message`` attribute: it is
parsed back into structure so the redactor walks it field by field.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import time
from collections.abc import Iterable
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from .._events import CapturedEvent, EventKind
from ._attribution import OtlpAttribution, parse_destination

_JSON_ATTRS = frozenset({"message", "message_context"})
_MAX_ATTRS = 256
_seq = itertools.count(1)  # spans have no per-task order of their own; arrival order stands in


def any_value(value: AnyValue, depth: int = 0) -> Any:
    which = value.WhichOneof("value")
    if which is None or depth > 16:
        return None
    if which == "kvlist_value":
        return attributes(value.kvlist_value.values, depth + 1)
    if which == "array_value":
        return [any_value(v, depth + 1) for v in value.array_value.values[:_MAX_ATTRS]]
    if which == "bytes_value":  # raw bytes may hold anything: keep the size only
        return {"__placeholder__": "bytes", "size": len(value.bytes_value)}
    return getattr(value, which)


def attributes(kvs: Iterable[KeyValue], depth: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in list(kvs)[:_MAX_ATTRS]:
        out[kv.key] = any_value(kv.value, depth)
    return out


def _structured(attrs: dict[str, Any]) -> dict[str, Any]:
    for key in _JSON_ATTRS & attrs.keys():
        text = attrs[key]
        if isinstance(text, str) and text[:1] in "{[":
            # Not JSON after all: the redactor scans it as text.
            with contextlib.suppress(ValueError, RecursionError):
                attrs[key] = json.loads(text)
    return attrs


def spans_to_events(request: ExportTraceServiceRequest, attribution: OtlpAttribution) -> list[CapturedEvent]:
    out: list[CapturedEvent] = []
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope.name
            for span in scope_spans.spans:
                trace_id, span_id = span.trace_id.hex(), span.span_id.hex()
                attrs = _structured(attributes(span.attributes))
                start, end = span.start_time_unix_nano, span.end_time_unix_nano
                ref = attribution.resolve(attrs, resource, trace_id, start)
                dest = parse_destination(attrs.get("messaging.destination"))
                payload = {
                    "__type__": "OtelSpan",
                    "name": span.name,
                    "kind": int(span.kind),
                    "scope": scope,
                    "trace_id": trace_id,
                    "span_id": span_id,
                    "parent_span_id": span.parent_span_id.hex(),
                    "status": {"code": int(span.status.code), "message": span.status.message},
                    "attributes": attrs,
                    "events": [
                        {"name": e.name, "time_unix_nano": e.time_unix_nano, "attributes": attributes(e.attributes)}
                        for e in list(span.events)[:_MAX_ATTRS]
                    ],
                    "resource": resource,
                }
                out.append(
                    CapturedEvent(
                        gseq=0,
                        task=ref,
                        seq=next(_seq),
                        ts_ns=start or time.time_ns(),
                        kind=EventKind.RUNTIME_EVENT,
                        payload=payload,
                        sender=_agent(attrs, "sender_agent_type"),
                        recipient=_agent(attrs, "recipient_agent_type") or (dest[0] if dest else ""),
                        topic_type=dest[0] if dest and dest[2] == "T" else "",
                        topic_source=dest[1] if dest and dest[2] == "T" else "",
                        duration_ns=max(0, end - start) if start and end else 0,
                        event_id=f"otlp-{trace_id}-{span_id}",
                    )
                )
    return out


def logs_to_events(request: ExportLogsServiceRequest, attribution: OtlpAttribution) -> list[CapturedEvent]:
    out: list[CapturedEvent] = []
    seen: dict[str, int] = {}
    for resource_logs in request.resource_logs:
        resource = attributes(resource_logs.resource.attributes)
        resource_digest = resource_logs.resource.SerializeToString(deterministic=True)
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                trace_id = record.trace_id.hex()
                attrs = _structured(attributes(record.attributes))
                ref = attribution.resolve(
                    attrs, resource, trace_id, record.time_unix_nano or record.observed_time_unix_nano
                )
                # Log records have no id: a digest of the record and its resource is stable across retries.
                # Identical records in one request (a repeated line logged within one clock tick) are
                # still distinct events: the nth copy's id carries its place, as stable as the digest.
                digest = hashlib.blake2b(resource_digest, digest_size=12)
                digest.update(record.SerializeToString(deterministic=True))
                event_id = f"otlp-log-{digest.hexdigest()}"
                copies = seen[event_id] = seen.get(event_id, 0) + 1
                if copies > 1:
                    event_id = f"{event_id}-{copies}"
                payload = {
                    "__type__": "OtelLog",
                    "event_name": record.event_name,
                    "severity": record.severity_text or int(record.severity_number),
                    "body": any_value(record.body),
                    "attributes": attrs,
                    "trace_id": trace_id,
                    "span_id": record.span_id.hex(),
                    "scope": scope_logs.scope.name,
                    "resource": resource,
                }
                out.append(
                    CapturedEvent(
                        gseq=0,
                        task=ref,
                        seq=next(_seq),
                        ts_ns=record.time_unix_nano or record.observed_time_unix_nano or time.time_ns(),
                        kind=EventKind.RUNTIME_EVENT,
                        payload=payload,
                        event_id=event_id,
                    )
                )
    return out


def _agent(attrs: dict[str, Any], key: str) -> str:
    value = attrs.get(key)
    return str(value)[:256] if value else ""
