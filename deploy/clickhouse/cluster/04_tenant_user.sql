-- autogen-audit on a ClickHouse cluster: 4/6, one read-only SQL user per tenant.
-- Template for tenant-acme: copy it per tenant, replace the tenant id and the password hash
-- (echo -n "$PASSWORD" | sha256sum). The hash below is of no real password.

CREATE USER IF NOT EXISTS tenant_acme_reader ON CLUSTER '{cluster}'
    IDENTIFIED WITH sha256_hash BY '0000000000000000000000000000000000000000000000000000000000000000'
    SETTINGS PROFILE 'audit_readonly'
    DEFAULT ROLE audit_tenant_reader
    DEFAULT DATABASE audit;
GRANT ON CLUSTER '{cluster}' audit_tenant_reader TO tenant_acme_reader;

-- Restrictive as well as permissive: even if a broader permissive policy is added later, this
-- user never sees another tenant's rows.
CREATE ROW POLICY IF NOT EXISTS tenant_acme_only ON CLUSTER '{cluster}'
    ON audit.events, audit.events_local, audit.tasks, audit.tasks_local
    FOR SELECT USING tenant_id = 'tenant-acme' AS permissive TO tenant_acme_reader;
CREATE ROW POLICY IF NOT EXISTS tenant_acme_guard ON CLUSTER '{cluster}'
    ON audit.events, audit.events_local, audit.tasks, audit.tasks_local
    FOR SELECT USING tenant_id = 'tenant-acme' AS restrictive TO tenant_acme_reader;
