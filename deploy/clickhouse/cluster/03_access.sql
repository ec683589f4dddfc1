-- autogen-audit on a ClickHouse cluster: 3/6, access control.
-- Roles, a read-only settings profile, the writer, UI and SRE roles, and the two service users. Row policies make tenant
-- isolation a server-side boundary: a tenant user sees only its tenant's rows, through the
-- tables and through the v_* views (plain views run with the invoker's rights).

-- Every interactive reader runs read-only, with a time, memory and result-size limit it cannot raise.
CREATE SETTINGS PROFILE IF NOT EXISTS audit_readonly ON CLUSTER '{cluster}'
SETTINGS
    readonly = 1 CONST,
    max_execution_time = 30 MAX 120,
    max_memory_usage = 4000000000 MAX 8000000000,
    max_result_rows = 1000000,
    result_overflow_mode = 'throw';

-- The sidecar: inserts events and tasks, and reads back only what it needs, never content: the
-- chain heads and recent event ids (columns of events), the stored task rows (after a restart),
-- its checkpoints and signing keys (which it also writes), and the schema version. No DDL: the
-- sidecar opens a schema that already records every migration (06_service.sql) without any.
-- dictGet: the retention_class DEFAULT of events and tasks reads the dictionary at insert time.
CREATE ROLE IF NOT EXISTS audit_writer ON CLUSTER '{cluster}';
GRANT ON CLUSTER '{cluster}' INSERT ON audit.events, INSERT ON audit.events_local, INSERT ON audit.tasks,
    INSERT ON audit.tasks_local, INSERT ON audit.checkpoints, INSERT ON audit.checkpoints_local,
    INSERT ON audit.signing_keys, INSERT ON audit.signing_keys_local,
    SELECT(tenant_id, event_id, ingested_at, chain_seq, chain_hash) ON audit.events,
    SELECT(tenant_id, event_id, ingested_at, chain_seq, chain_hash) ON audit.events_local,
    SELECT ON audit.tasks, SELECT ON audit.tasks_local, SELECT ON audit.checkpoints,
    SELECT ON audit.checkpoints_local, SELECT ON audit.signing_keys, SELECT ON audit.signing_keys_local,
    SELECT ON audit.schema_migrations, dictGet ON audit.tenant_retention_dict TO audit_writer;
CREATE ROW POLICY IF NOT EXISTS writer_all_tenants ON CLUSTER '{cluster}'
    ON audit.events, audit.events_local, audit.tasks, audit.tasks_local
    FOR SELECT USING 1 AS permissive TO audit_writer;

-- The auditor UI (`serve --ui-only`, and `keys add` run in its container): reads everything, each
-- API key then sees only its tenants (the UI filters), and writes only its API keys. No DDL either.
CREATE ROLE IF NOT EXISTS audit_ui_access ON CLUSTER '{cluster}';
GRANT ON CLUSTER '{cluster}' SELECT ON audit.*, INSERT ON audit.api_keys TO audit_ui_access;
CREATE ROW POLICY IF NOT EXISTS ui_all_tenants ON CLUSTER '{cluster}'
    ON audit.events, audit.events_local, audit.tasks, audit.tasks_local
    FOR SELECT USING 1 AS permissive TO audit_ui_access;

-- Site reliability engineers: every tenant, read-only.
CREATE ROLE IF NOT EXISTS audit_sre ON CLUSTER '{cluster}' SETTINGS PROFILE 'audit_readonly';
GRANT ON CLUSTER '{cluster}' SELECT ON audit.* TO audit_sre;
CREATE ROW POLICY IF NOT EXISTS sre_all_tenants ON CLUSTER '{cluster}'
    ON audit.events, audit.events_local, audit.tasks, audit.tasks_local
    FOR SELECT USING 1 AS permissive TO audit_sre;

-- Tenant readers: the tables and views, never the key or retention tables.
CREATE ROLE IF NOT EXISTS audit_tenant_reader ON CLUSTER '{cluster}' SETTINGS PROFILE 'audit_readonly';
GRANT ON CLUSTER '{cluster}' SELECT ON audit.events, SELECT ON audit.events_local, SELECT ON audit.tasks,
    SELECT ON audit.tasks_local, SELECT ON audit.v_task_summary_daily, SELECT ON audit.v_abnormal_stops,
    SELECT ON audit.v_llm_calls, SELECT ON audit.v_llm_usage_daily, SELECT ON audit.v_tool_calls,
    SELECT ON audit.v_tool_stats_daily, SELECT ON audit.v_runtime_errors, SELECT ON audit.v_pipeline_health
    TO audit_tenant_reader;

-- The service users of deploy/k8s/secrets.example.yaml's DSNs: the sidecar's and the UI's. The
-- password hashes below are of no real password (nobody can log in): set the passwords with
--   ALTER USER audit_sidecar ON CLUSTER '{cluster}' IDENTIFIED WITH sha256_password BY '...';
-- or replace the hashes before running (echo -n "$PASSWORD" | sha256sum).
CREATE USER IF NOT EXISTS audit_sidecar ON CLUSTER '{cluster}'
    IDENTIFIED WITH sha256_hash BY '0000000000000000000000000000000000000000000000000000000000000000'
    DEFAULT ROLE audit_writer
    DEFAULT DATABASE audit;
GRANT ON CLUSTER '{cluster}' audit_writer TO audit_sidecar;

CREATE USER IF NOT EXISTS audit_ui ON CLUSTER '{cluster}'
    IDENTIFIED WITH sha256_hash BY '0000000000000000000000000000000000000000000000000000000000000000'
    DEFAULT ROLE audit_ui_access
    DEFAULT DATABASE audit;
GRANT ON CLUSTER '{cluster}' audit_ui_access TO audit_ui;
