"""Exporter wrappers that count what reached the endpoint, and stop the inner exporter once.

The processor compares these counts with what it handed to the SDK: the difference (an endpoint
that refused, timed out or was still hanging at shutdown, or the SDK's queue overflowing) is what
was not exported, and shutdown reports it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


class _Stopper:
    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._stopped = False
        self._lock = threading.Lock()
        self.exported = 0

    def stop(self) -> None:
        """Shut the inner exporter down, once (the processor at its deadline, then the SDK)."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._inner.shutdown()


class CountedSpanExporter(SpanExporter):
    def __init__(self, inner: SpanExporter) -> None:
        self._inner = inner
        self.stopper = _Stopper(inner)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self._inner.export(spans)
        if result is SpanExportResult.SUCCESS:
            self.stopper.exported += len(spans)
        return result

    def shutdown(self) -> None:
        self.stopper.stop()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


class CountedLogExporter(LogRecordExporter):
    def __init__(self, inner: LogRecordExporter) -> None:
        self._inner = inner
        self.stopper = _Stopper(inner)

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        result = self._inner.export(batch)
        if result is LogRecordExportResult.SUCCESS:
            self.stopper.exported += len(batch)
        return result

    def shutdown(self) -> None:
        self.stopper.stop()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)
