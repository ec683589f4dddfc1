"""Deterministic trace and span ids, so exported spans of one task share a trace and a parent.

The trace id is derived from (tenant, correlation id): an SRE who has the correlation id (or the
trace id shown in the audit UI) finds the same trace in Jaeger/Tempo/Datadog, and spans exported
by different sidecar replicas for one task join up. Span ids derive from event ids.
"""

from __future__ import annotations

import hashlib
import threading

from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator


def _int(data: str, size: int) -> int:
    value = int.from_bytes(hashlib.blake2b(data.encode(), digest_size=size).digest(), "big")
    return value or 1  # all-zero ids are invalid in OTel


def trace_id_for(tenant_id: str, correlation_id: str) -> int:
    return _int(f"{tenant_id}\0{correlation_id}", 16)


def root_span_id_for(tenant_id: str, correlation_id: str) -> int:
    return _int(f"root\0{tenant_id}\0{correlation_id}", 8)


def span_id_for(event_id: str) -> int:
    return _int(f"event\0{event_id}", 8)


class PresetIds(IdGenerator):
    """Hands out the ids preset for the span being started on this thread, else random ones."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._random = RandomIdGenerator()

    def preset(self, trace_id: int | None, span_id: int) -> None:
        self._local.trace_id, self._local.span_id = trace_id, span_id

    def generate_span_id(self) -> int:
        span_id = getattr(self._local, "span_id", None)
        self._local.span_id = None
        return int(span_id) if span_id else self._random.generate_span_id()

    def generate_trace_id(self) -> int:
        trace_id = getattr(self._local, "trace_id", None)
        self._local.trace_id = None
        return int(trace_id) if trace_id else self._random.generate_trace_id()
