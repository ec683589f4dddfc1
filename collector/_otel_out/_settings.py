"""Settings of the OTLP export of redacted spans and logs, read from ``AUDIT_*`` variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class OtelExportSettings(BaseSettings):
    """Where and what the pipeline exports as OpenTelemetry spans and logs (off unless an endpoint is set)."""

    model_config = SettingsConfigDict(env_prefix="AUDIT_", extra="ignore", frozen=True)

    otlp_export_endpoint: str = Field(
        default="",
        description="Base URL of an OTLP/HTTP receiver (e.g. http://otel-collector:4318); spans go to "
        "<endpoint>/v1/traces and logs to <endpoint>/v1/logs. Empty disables the export.",
    )
    otlp_export_headers: SecretStr = Field(
        default=SecretStr(""),
        description="Extra request headers for the OTLP receiver, 'k1=v1,k2=v2' (e.g. a vendor API key); "
        "treated as a secret and never logged.",
    )
    otlp_export_service_name: str = Field(
        default="autogen-audit", description="service.name resource attribute of the exported spans and logs."
    )
    otlp_export_content: bool = Field(
        default=True,
        description="Attach each event's redacted content (audit.content, cut to otlp_export_content_chars) "
        "to its span and log; off exports ids, kinds, timings and token counts only.",
    )
    otlp_export_content_chars: int = Field(
        default=2048, ge=0, description="Longest redacted content attached to one exported span or log."
    )
    otlp_export_logs: bool = Field(default=True, description="Also export one OTLP log record per event.")
