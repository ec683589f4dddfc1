-- autogen-audit on a ClickHouse cluster: 2/6, replicated local tables and Distributed tables.
-- The Distributed tables are named events and tasks, like the single-node tables, so the
-- exporter, the UI and the v_* views (schema/003_views.sql) work unchanged on the cluster.
-- Rows are sharded by cityHash64(tenant_id): a tenant's events and every version of a task land
-- on one shard, so `tasks FINAL` is exact and a tenant's queries touch one shard.

CREATE TABLE IF NOT EXISTS audit.events_local ON CLUSTER '{cluster}'
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
    ingested_at       DateTime64(3, 'UTC') DEFAULT now64(3),
    -- Hash chain (schema 004, docs/integrity.md). A tenant's chain lives on one shard, and needs
    -- one writer per tenant: partition tenants across sidecars, never write a tenant from two.
    chain_seq         UInt64 DEFAULT 0,
    chain_prev        String DEFAULT '',
    chain_hash        String DEFAULT '',
    chain_status      LowCardinality(String) DEFAULT '',
    INDEX chain_seq_minmax chain_seq TYPE minmax GRANULARITY 1,
    -- The UI's filters (schema 002): text search and the agent filter.
    INDEX content_ngram lower(content) TYPE ngrambf_v1(3, 16384, 2, 0) GRANULARITY 2,
    INDEX source_set source TYPE set(256) GRANULARITY 4,
    -- Resolved at insert time; the exporter never sends it.
    retention_class   LowCardinality(String)
        DEFAULT dictGetOrDefault('audit.tenant_retention_dict', 'retention_class', tuple(toString(tenant_id)), 'standard')
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/audit/events_local', '{replica}')
-- One retention class per partition, so that a whole part expires at once and TTL only drops
-- parts (ttl_only_drop_parts) instead of rewriting them.
PARTITION BY (retention_class, toYYYYMM(ts))
ORDER BY (tenant_id, correlation_id, seq)
TTL toDateTime(ts) + toIntervalDay(multiIf(retention_class = 'short', 30, retention_class = 'long', 2555, 400))
SETTINGS
    ttl_only_drop_parts = 1,
    merge_with_ttl_timeout = 86400,
    -- Idempotent inserts: a retried batch with the same insert_deduplication_token (or the same
    -- data) within the last 10000 blocks / 7 days is dropped by every replica.
    replicated_deduplication_window = 10000,
    replicated_deduplication_window_seconds = 604800;

CREATE TABLE IF NOT EXISTS audit.events ON CLUSTER '{cluster}' AS audit.events_local
ENGINE = Distributed('{cluster}', 'audit', 'events_local', cityHash64(tenant_id));

CREATE TABLE IF NOT EXISTS audit.tasks_local ON CLUSTER '{cluster}'
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
    version           UInt64,
    retention_class   LowCardinality(String)
        DEFAULT dictGetOrDefault('audit.tenant_retention_dict', 'retention_class', tuple(toString(tenant_id)), 'standard'),
    -- The UI's time-range filter (schema 002).
    INDEX started_minmax started_at TYPE minmax GRANULARITY 1
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/audit/tasks_local', '{replica}', version)
PARTITION BY (retention_class, toYYYYMM(started_at))
ORDER BY (tenant_id, correlation_id)
TTL toDateTime(started_at) + toIntervalDay(multiIf(retention_class = 'short', 30, retention_class = 'long', 2555, 400))
SETTINGS
    ttl_only_drop_parts = 1,
    replicated_deduplication_window = 10000,
    replicated_deduplication_window_seconds = 604800;

CREATE TABLE IF NOT EXISTS audit.tasks ON CLUSTER '{cluster}' AS audit.tasks_local
ENGINE = Distributed('{cluster}', 'audit', 'tasks_local', cityHash64(tenant_id));
