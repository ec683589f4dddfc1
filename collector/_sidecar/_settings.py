"""Settings of the sidecar link (client and ingest), read from ``AUDIT_*`` variables.

The shared ones (``AUDIT_SIDECAR_URL``, ``AUDIT_INGEST_TOKEN``, batch and buffer bounds) live on
AuditSettings; these are the knobs only the remote path has.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SidecarSettings(BaseSettings):
    """Knobs of RemoteSink (in the app) and of the ingest routes (in the sidecar)."""

    model_config = SettingsConfigDict(env_prefix="AUDIT_", extra="ignore", frozen=True)

    remote_batch_max_events: int = Field(
        default=1024, ge=1, description="Most events the app's remote hook ships to the sidecar in one request."
    )
    remote_timeout_s: float = Field(
        default=30.0, gt=0, description="How long the remote hook waits for the sidecar to acknowledge a batch."
    )
    remote_retry_initial_s: float = Field(
        default=0.05, gt=0, description="First backoff delay after a failed delivery to the sidecar (full jitter)."
    )
    remote_retry_max_s: float = Field(
        default=2.0, gt=0, description="Longest backoff delay between deliveries to an unavailable sidecar."
    )
    remote_gzip: bool = Field(
        default=False,
        description="Gzip request bodies to the sidecar (worth it only when the sidecar is not on loopback).",
    )
    sidecar_worker_nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description=(
            "Steps of CPU priority (Linux nice, per thread) the sidecar's snapshot, redaction and store "
            "threads run below its ingest, so on a host shared with the app they take the cycles the app "
            "leaves; 0 keeps them at normal priority."
        ),
    )
    ingest_ack_timeout_s: float = Field(
        default=20.0,
        gt=0,
        description="How long the sidecar waits for a received batch to be durable before answering 503.",
    )
    ingest_max_body_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="Largest request body (after decompression) the ingest routes accept; larger is 413.",
    )
    ingest_dedup_ids: int = Field(
        default=1_000_000,
        ge=1000,
        description="How many recently received event ids the sidecar remembers to drop retried duplicates.",
    )
    ingest_dedup_window_s: float = Field(
        default=900.0,
        ge=0,
        description=(
            "At start, the sidecar remembers the ids of events its spool holds and of those the store "
            "ingested this many seconds back, so a delivery retried across a restart is not stored twice."
        ),
    )
