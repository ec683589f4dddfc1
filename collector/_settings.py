"""The collector's settings: one pydantic-settings object, read from ``AUDIT_*`` variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuditSettings(BaseSettings):
    """Every knob of the capture pipeline. Each field is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="AUDIT_", extra="ignore", frozen=True)

    store_dsn: str = Field(
        default="chdb://./audit-data",
        description="Where events are stored: chdb://PATH (embedded, one owner process) or "
        "http(s)://user:pass@host:8123/db for a ClickHouse server or cluster.",
    )
    queue_max_events: int = Field(
        default=100_000,
        ge=1,
        description="Bound of the in-memory queue between the hook and the pipeline worker, and the length "
        "of the hook's capture log past which the log's own thread replays it (the sink's worker has stalled).",
    )
    batch_max_events: int = Field(
        default=512, ge=1, description="Most events the worker redacts and inserts in one batch."
    )
    batch_interval_s: float = Field(
        default=0.2,
        gt=0,
        description="Longest time an accepted event waits in the queue before the worker takes it.",
    )
    snapshot_interval_s: float = Field(
        default=0.02,
        gt=0,
        description="How often the pipeline turns captured message objects into JSON text (off the dispatch "
        "loop): objects held longer are scanned by Python's garbage collector, which costs the app.",
    )
    gc_freeze: bool = Field(
        default=True,
        description="Once the in-process pipeline has loaded its redaction models and store client, run one full "
        "garbage collection and move every object then alive out of the collector's full scans (gc.freeze): "
        "otherwise each full collection of the app rescans those ~150k long-lived objects (130 ms instead of "
        "27 ms on the development VM). Frozen objects are still freed by reference counting; only cycles "
        "among them are never collected. Applied once per process; remote mode loads no models and never "
        "freezes.",
    )
    max_field_chars: int = Field(
        default=32_768,
        ge=64,
        description="Longest string kept in one field of an event; longer text is cut with a marker.",
    )
    max_payload_chars: int = Field(
        default=262_144,
        ge=1024,
        description="Longest serialized payload kept per event; larger payloads are cut with a marker.",
    )
    max_depth: int = Field(
        default=32, ge=2, description="Deepest nesting serialized; deeper values become a placeholder."
    )
    flush_timeout_s: float = Field(
        default=30.0, gt=0, description="How long aclose() waits for the pipeline to write what it holds."
    )
    source_pattern: str = Field(
        default=r"^(?P<tenant_id>tenant-[A-Za-z0-9_.-]+)(?:/(?P<correlation_id>[A-Za-z0-9_.:-]+))?$",
        description="Regular expression applied to a topic source or agent key of a plain Core app "
        "that no registered task claims; named groups tenant_id, correlation_id and user_id attribute "
        "the event (the convention TopicId('default', 'tenant-123')).",
    )
    capture_loggers: bool = Field(
        default=True,
        description="Capture the runtime's event loggers (autogen_core.events, autogen_agentchat.events).",
    )
    abnormal_stop_patterns: list[str] = Field(
        default=[
            "Maximum number of messages",
            "Maximum number of turns",
            "Token usage limit",
            "Timeout",
            "timed out",
            "cancel",
            "exception",
            "External termination",
        ],
        description="Case-insensitive substrings of a TaskResult stop_reason that mark a task abnormal.",
    )
    sidecar_url: str = Field(
        default="",
        description="When set (e.g. http://127.0.0.1:8700), the hook ships raw events over loopback to an "
        "`autogen-audit serve` sidecar instead of redacting and storing in-process.",
    )
    ingest_token: SecretStr = Field(
        default=SecretStr(""),
        description="Shared bearer token between app hooks (or OTLP exporters) and the sidecar's ingest API.",
    )
    unattributed_tenant: str = Field(
        default="_unattributed",
        description="Tenant recorded for events that no task, metadata or source convention claims.",
    )
    spool_dir: str = Field(
        default="",
        description="Directory of the durable spool of redacted batches awaiting ClickHouse. Empty means "
        "`<chdb path>-spool` next to an embedded store, else `./audit-spool`. One process owns it.",
    )
    spool_max_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=8192,
        description="Bound of the spool on disk; past it new batches are refused and recorded as lost.",
    )
    spool_segment_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=4096,
        description="Size at which the spool starts a new segment file (at most half of spool_max_bytes).",
    )
    spool_fsync: Literal["always", "batch", "interval", "never"] = Field(
        default="batch",
        description="When the spool fsyncs: always, batch (each appended batch; default), interval, never. "
        "See docs/durability.md for what survives a power cut under each.",
    )
    queue_full_policy: Literal["spill", "drop"] = Field(
        default="spill",
        description="What submit does when the queue is full: spill = move on to a bounded overflow and let "
        "the batcher catch up with larger batches; drop = record a loss at once. Both record a loss, never "
        "block, when their bound is reached.",
    )
    overflow_max_events: int = Field(
        default=100_000,
        ge=0,
        description="Bound of the overflow used by queue_full_policy=spill, on top of queue_max_events.",
    )
    retry_initial_s: float = Field(
        default=0.2, gt=0, description="First backoff after a failed insert (full jitter, doubling)."
    )
    retry_max_s: float = Field(
        default=30.0,
        gt=0,
        description="Cap of the insert backoff; also the retry period of a permanently failing batch.",
    )
    shutdown_deadline_s: float = Field(
        default=10.0,
        gt=0,
        description="How long SIGTERM/SIGINT handling may take to drain the queue into the spool and flush "
        "the spool into the store; what is left stays in the spool for the next start.",
    )
    task_lookup_timeout_s: float = Field(
        default=0.5,
        ge=0,
        description="How long the pipeline waits for the store's row of a task it meets without having seen it "
        "start (after a restart); without an answer it writes rows that cannot replace the stored one.",
    )
    ready_store_stale_s: float = Field(
        default=30.0,
        gt=0,
        description="/readyz reports the store unreachable when no insert or probe succeeded for this long.",
    )
    spool_alarm_ratio: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="/readyz turns false (and the spool alarm fires) when the spool holds this share of "
        "spool_max_bytes.",
    )
