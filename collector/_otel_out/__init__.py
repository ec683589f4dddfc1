"""Export redacted audit events as OpenTelemetry spans and logs (GenAI conventions), with the
correlation id as an attribute, so an SRE can jump from a trace backend to the audit timeline.

    processor = build_otel_processor()  # None unless AUDIT_OTLP_EXPORT_ENDPOINT is set
"""

from __future__ import annotations

from ._ids import root_span_id_for, span_id_for, trace_id_for
from ._processor import OtelExportProcessor
from ._settings import OtelExportSettings

__all__ = [
    "OtelExportProcessor",
    "OtelExportSettings",
    "build_otel_processor",
    "root_span_id_for",
    "span_id_for",
    "trace_id_for",
]


def build_otel_processor(settings: OtelExportSettings | None = None) -> OtelExportProcessor | None:
    """The export processor from AUDIT_OTLP_EXPORT_* settings, or None when no endpoint is set."""
    settings = settings or OtelExportSettings()
    return OtelExportProcessor(settings) if settings.otlp_export_endpoint else None
