-- autogen-audit schema v1: events and tasks.
-- Applied idempotently at start by collector (statements separated by ";" at line end).
-- Every column is documented in docs/schema.md; a test keeps the two in step.

CREATE TABLE IF NOT EXISTS events
(
    tenant_id         LowCardinality(String),
    correlation_id    String,
    seq               UInt64,
    ts                DateTime64(6, 'UTC'),
    event_id          String,
    kind              LowCardinality(String),
    user_id           String,
    team_id           String,
    team_type         LowCardinality(String),
    sender            LowCardinality(String),
    recipient         LowCardinality(String),
    topic_type        LowCardinality(String),
    topic_source      String,
    message_type      LowCardinality(String),
    message_id        String,
    source            LowCardinality(String),
    content           String CODEC(ZSTD(3)),
    payload           String CODEC(ZSTD(3)),
    prompt_tokens     UInt32,
    completion_tokens UInt32,
    model             LowCardinality(String),
    tool_name         LowCardinality(String),
    duration_ms       Float64,
    is_error          UInt8,
    error             String CODEC(ZSTD(3)),
    redaction         Map(LowCardinality(String), UInt32),
    redaction_status  LowCardinality(String),
    policy_version    LowCardinality(String),
    truncated         UInt8,
    content_chars     UInt32,
    ingested_at       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant_id, correlation_id, seq)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS tasks
(
    tenant_id         LowCardinality(String),
    correlation_id    String,
    user_id           String,
    team_id           String,
    team_type         LowCardinality(String),
    started_at        DateTime64(6, 'UTC'),
    finished_at       Nullable(DateTime64(6, 'UTC')),
    status            LowCardinality(String),
    abnormal          UInt8,
    stop_reason       String,
    message_count     UInt32,
    prompt_tokens     UInt64,
    completion_tokens UInt64,
    error             String CODEC(ZSTD(3)),
    lost_events       UInt32,
    version           UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, correlation_id)
SETTINGS non_replicated_deduplication_window = 10000;
