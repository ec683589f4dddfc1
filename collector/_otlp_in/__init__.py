"""OTLP/HTTP receiver: spans and log records from any OpenTelemetry exporter become audit events.

The routes live in collector._sidecar.ingest_router (same bearer token as the event ingest).
"""

from ._attribution import OtlpAttribution, TeamIndex, parse_destination
from ._convert import logs_to_events, spans_to_events
from ._decode import decode_logs, decode_traces, encode_response, is_json
from ._errors import OtlpDecodeError

__all__ = [
    "OtlpAttribution",
    "OtlpDecodeError",
    "TeamIndex",
    "decode_logs",
    "decode_traces",
    "encode_response",
    "is_json",
    "logs_to_events",
    "parse_destination",
    "spans_to_events",
]
