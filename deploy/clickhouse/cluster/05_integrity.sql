-- autogen-audit on a ClickHouse cluster: 5/6, the tamper-evidence tables of schema 004 (docs/integrity.md).
-- Each is a replicated local table plus a Distributed table of the single-node name, sharded by
-- tenant like events, so a tenant's checkpoints, tombstones and holds sit on its chain's shard.
-- signing_keys is small and global: replicated on every shard and read locally.

CREATE TABLE IF NOT EXISTS audit.checkpoints_local ON CLUSTER '{cluster}'
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
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/audit/checkpoints_local', '{replica}')
ORDER BY (tenant_id, to_seq);

CREATE TABLE IF NOT EXISTS audit.checkpoints ON CLUSTER '{cluster}' AS audit.checkpoints_local
ENGINE = Distributed('{cluster}', 'audit', 'checkpoints_local', cityHash64(tenant_id));

CREATE TABLE IF NOT EXISTS audit.tombstones_local ON CLUSTER '{cluster}'
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
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/audit/tombstones_local', '{replica}')
ORDER BY (tenant_id, to_seq);

CREATE TABLE IF NOT EXISTS audit.tombstones ON CLUSTER '{cluster}' AS audit.tombstones_local
ENGINE = Distributed('{cluster}', 'audit', 'tombstones_local', cityHash64(tenant_id));

CREATE TABLE IF NOT EXISTS audit.signing_keys_local ON CLUSTER '{cluster}'
(
    key_id      String,
    public_key  String,
    created_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/audit/signing_keys_local', '{replica}')
ORDER BY key_id;

CREATE TABLE IF NOT EXISTS audit.signing_keys ON CLUSTER '{cluster}' AS audit.signing_keys_local
ENGINE = Distributed('{cluster}', 'audit', 'signing_keys_local', rand());

CREATE TABLE IF NOT EXISTS audit.retention_policies_local ON CLUSTER '{cluster}'
(
    tenant_id      String,
    classification LowCardinality(String),
    days           UInt32,
    version        UInt64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/audit/retention_policies_local', '{replica}', version)
ORDER BY (tenant_id, classification);

CREATE TABLE IF NOT EXISTS audit.retention_policies ON CLUSTER '{cluster}' AS audit.retention_policies_local
ENGINE = Distributed('{cluster}', 'audit', 'retention_policies_local', cityHash64(tenant_id));

CREATE TABLE IF NOT EXISTS audit.legal_holds_local ON CLUSTER '{cluster}'
(
    tenant_id      LowCardinality(String),
    correlation_id String,
    hold_id        String,
    reason         String,
    actor          String,
    active         UInt8,
    version        UInt64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/audit/legal_holds_local', '{replica}', version)
ORDER BY (tenant_id, hold_id);

CREATE TABLE IF NOT EXISTS audit.legal_holds ON CLUSTER '{cluster}' AS audit.legal_holds_local
ENGINE = Distributed('{cluster}', 'audit', 'legal_holds_local', cityHash64(tenant_id));

CREATE TABLE IF NOT EXISTS audit.hold_audit_local ON CLUSTER '{cluster}'
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
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/audit/hold_audit_local', '{replica}')
ORDER BY (tenant_id, seq);

CREATE TABLE IF NOT EXISTS audit.hold_audit ON CLUSTER '{cluster}' AS audit.hold_audit_local
ENGINE = Distributed('{cluster}', 'audit', 'hold_audit_local', cityHash64(tenant_id));
