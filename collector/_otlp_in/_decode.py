"""OTLP/HTTP request bodies (protobuf or JSON) -> ExportTraceServiceRequest / ExportLogsServiceRequest.

OTLP/JSON differs from protobuf's canonical JSON mapping in one place: trace and span ids are hex,
not base64. They are rewritten before google.protobuf.json_format reads the document.
"""

from __future__ import annotations

import base64
import json
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from ._errors import OtlpDecodeError

M = TypeVar("M", bound=Message)
_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})
JSON_TYPE = "application/json"
PROTOBUF_TYPE = "application/x-protobuf"


def is_json(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == JSON_TYPE


def _hex_ids_to_base64(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in _ID_KEYS and isinstance(value, str) and value:
                try:
                    value = base64.b64encode(bytes.fromhex(value)).decode()
                except ValueError:
                    raise OtlpDecodeError(f"{key} is not hex") from None
            else:
                value = _hex_ids_to_base64(value)
            out[key] = value
        return out
    if isinstance(node, list):
        return [_hex_ids_to_base64(item) for item in node]
    return node


def _decode(body: bytes, content_type: str, message: M) -> M:
    try:
        if is_json(content_type):
            json_format.ParseDict(_hex_ids_to_base64(json.loads(body)), message, ignore_unknown_fields=True)
        else:
            message.ParseFromString(body)
    except (DecodeError, json_format.ParseError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise OtlpDecodeError(f"not a valid OTLP {type(message).__name__} ({type(exc).__name__})") from None
    return message


def decode_traces(body: bytes, content_type: str) -> ExportTraceServiceRequest:
    return _decode(body, content_type, ExportTraceServiceRequest())


def decode_logs(body: bytes, content_type: str) -> ExportLogsServiceRequest:
    return _decode(body, content_type, ExportLogsServiceRequest())


def encode_response(kind: str, content_type: str) -> tuple[bytes, str]:
    """The empty success response of a route, in the request's encoding."""
    response: Message = ExportTraceServiceResponse() if kind == "traces" else ExportLogsServiceResponse()
    if is_json(content_type):
        return b"{}", JSON_TYPE
    return response.SerializeToString(), PROTOBUF_TYPE
