-- autogen-audit on a ClickHouse cluster: 3/4, access control.
-- Roles, a read-only settings profile, the writer and the SRE role. Row policies make tenant
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

-- The sidecar's exporter: inserts only, no reads of other tenants' content.
CREATE ROLE IF NOT EXISTS audit_writer ON CLUSTER '{cluster}';
GRANT ON CLUSTER '{cluster}' INSERT ON audit.events, INSERT ON audit.events_local, INSERT ON audit.tasks,
    INSERT ON audit.tasks_local, SELECT ON audit.schema_migrations TO audit_writer;

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
