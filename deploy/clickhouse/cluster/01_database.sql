-- autogen-audit on a ClickHouse cluster: 1/6, the database.
-- Run with: clickhouse-client --multiquery < 01_database.sql (on any node; ON CLUSTER fans out).
-- {cluster}, {shard} and {replica} are server macros (config.d/macros.xml), see docs/deploy.md.

CREATE DATABASE IF NOT EXISTS audit ON CLUSTER '{cluster}';

-- Which retention class each tenant is in. Small, replicated to every node, read through a
-- dictionary by the events table's DEFAULT below. Tenants not listed are 'standard'.
CREATE TABLE IF NOT EXISTS audit.tenant_retention ON CLUSTER '{cluster}'
(
    tenant_id       String,
    retention_class LowCardinality(String),
    updated_at      DateTime DEFAULT now()
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/audit/tenant_retention', '{replica}', updated_at)
ORDER BY tenant_id;

CREATE DICTIONARY IF NOT EXISTS audit.tenant_retention_dict ON CLUSTER '{cluster}'
(
    tenant_id       String,
    retention_class String DEFAULT 'standard'
)
PRIMARY KEY tenant_id
SOURCE(CLICKHOUSE(TABLE 'tenant_retention' DB 'audit'))
LIFETIME(MIN 60 MAX 300)
LAYOUT(COMPLEX_KEY_HASHED());
