-- autogen-audit schema v4: tamper evidence (issue #8). See docs/integrity.md.
-- Applied idempotently at start by collector (statements separated by ";" at line end).
-- Every column is documented in docs/schema.md; a test keeps the two in step.

-- Hash-chain fields of every event: a gap-free per-tenant sequence, the previous event's hash
-- and this event's hash over the canonical encoding of its redacted fields.
ALTER TABLE events ADD COLUMN IF NOT EXISTS chain_seq UInt64 DEFAULT 0;
ALTER TABLE events ADD COLUMN IF NOT EXISTS chain_prev String DEFAULT '';
ALTER TABLE events ADD COLUMN IF NOT EXISTS chain_hash String DEFAULT '';
ALTER TABLE events ADD COLUMN IF NOT EXISTS chain_status LowCardinality(String) DEFAULT '';
-- chain_seq follows insertion order, so a minmax index lets chain range reads skip most parts.
ALTER TABLE events ADD INDEX IF NOT EXISTS chain_seq_minmax chain_seq TYPE minmax GRANULARITY 1;

-- Signed checkpoints: one row per sealed interval of a tenant's chain.
CREATE TABLE IF NOT EXISTS checkpoints
(
    tenant_id      LowCardinality(String),
    from_seq       UInt64,
    to_seq         UInt64,
    first_prev     String,
    last_hash      String,
    merkle_root    String,
    prev_signature String,
    key_id         LowCardinality(String),
    created_ns     Int64,
    signature      String
)
ENGINE = MergeTree
ORDER BY (tenant_id, to_seq);

-- Signed records of expired intervals: verification accepts the gap they cover.
CREATE TABLE IF NOT EXISTS tombstones
(
    tenant_id      LowCardinality(String),
    from_seq       UInt64,
    to_seq         UInt64,
    events         UInt64,
    last_hash      String,
    reason         String,
    prev_signature String,
    key_id         LowCardinality(String),
    created_ns     Int64,
    signature      String
)
ENGINE = MergeTree
ORDER BY (tenant_id, to_seq);

-- Public halves of the signing keys, by key id (the auditor can pin them instead, see docs).
CREATE TABLE IF NOT EXISTS signing_keys
(
    key_id      String,
    public_key  String,
    created_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY key_id;

-- Retention rules per tenant and classification ('*' matches any).
CREATE TABLE IF NOT EXISTS retention_policies
(
    tenant_id      String,
    classification LowCardinality(String),
    days           UInt32,
    version        UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, classification);

-- Legal holds: the current state of each hold (read with FINAL).
CREATE TABLE IF NOT EXISTS legal_holds
(
    tenant_id      LowCardinality(String),
    correlation_id String,
    hold_id        String,
    reason         String,
    actor          String,
    active         UInt8,
    version        UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, hold_id);

-- Append-only, signed, chained log of every hold placed or released.
CREATE TABLE IF NOT EXISTS hold_audit
(
    tenant_id      LowCardinality(String),
    seq            UInt64,
    action         LowCardinality(String),
    hold_id        String,
    correlation_id String,
    reason         String,
    actor          String,
    created_ns     Int64,
    prev_signature String,
    key_id         LowCardinality(String),
    signature      String
)
ENGINE = MergeTree
ORDER BY (tenant_id, seq);
