-- autogen-audit schema v2: auditor API keys and the indexes the UI's filters lean on.
-- Keys are never stored: only the SHA-256 of a random 32-byte token (see docs/ui.md).

CREATE TABLE IF NOT EXISTS api_keys
(
    name        String,
    key_hash    String,
    tenants     Array(String),
    admin       UInt8,
    created_at  DateTime64(3, 'UTC') DEFAULT now64(3),
    revoked     UInt8 DEFAULT 0,
    revoked_at  Nullable(DateTime64(3, 'UTC')),
    version     UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY name;

-- Text search in the task list is `lower(content) LIKE '%...%'`: a token-free ngram bloom filter on the
-- same expression lets ClickHouse skip granules that cannot contain the searched text.
ALTER TABLE events ADD INDEX IF NOT EXISTS content_ngram lower(content) TYPE ngrambf_v1(3, 16384, 2, 0) GRANULARITY 2;

-- The agent filter looks for events whose inner-message source or sender is the agent.
ALTER TABLE events ADD INDEX IF NOT EXISTS source_set source TYPE set(256) GRANULARITY 4;

-- Time-range filters on the task list (tasks are ordered by tenant and correlation id, not time).
ALTER TABLE tasks ADD INDEX IF NOT EXISTS started_minmax started_at TYPE minmax GRANULARITY 1;
