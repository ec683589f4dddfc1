"""Errors of the OTLP receiver. Messages name reasons, never content."""

from __future__ import annotations

from ..errors import AuditError


class OtlpDecodeError(AuditError):
    """An OTLP request body is not valid protobuf or OTLP/JSON for its route."""
