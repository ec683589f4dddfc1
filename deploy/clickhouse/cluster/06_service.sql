-- autogen-audit on a ClickHouse cluster: 6/6, the tables the services read at start. Run it last,
-- after schema/003_views.sql (docs/deploy.md): it records the migrations as applied.
-- Both tables are small and global, like tenant_retention: one replica on every node, so every
-- node reads them locally. The UI keeps its API keys in api_keys (schema 002).

CREATE TABLE IF NOT EXISTS audit.api_keys ON CLUSTER '{cluster}'
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/audit/api_keys', '{replica}', version)
ORDER BY name;

-- The sidecar and the UI open the store with users that may not run DDL (03_access.sql): finding
-- every migration of deploy/clickhouse/schema recorded here, they run none. The files 01-06 and
-- 003_views.sql are those migrations, in the cluster's replicated form.
CREATE TABLE IF NOT EXISTS audit.schema_migrations ON CLUSTER '{cluster}'
(
    version    UInt32,
    name       String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/audit/schema_migrations', '{replica}')
ORDER BY version;

INSERT INTO audit.schema_migrations (version, name)
VALUES (1, '001_events_tasks'), (2, '002_api_keys'), (3, '003_views'), (4, '004_integrity');
