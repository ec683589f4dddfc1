#!/bin/bash
# Run once by the clickhouse-server image on its first start (/docker-entrypoint-initdb.d), as the
# admin of deploy/secrets/clickhouse.env: Grafana's read-only user (deploy/grafana/provisioning),
# every tenant, SELECT only, with the limits of the cluster's audit_readonly profile
# (deploy/clickhouse/cluster/03_access.sql). Its password is CLICKHOUSE_SRE_PASSWORD, the one
# grafana.env gives the datasource.
set -euo pipefail
: "${CLICKHOUSE_SRE_PASSWORD:?set CLICKHOUSE_SRE_PASSWORD in deploy/secrets/clickhouse.env}"
HASH=$(printf '%s' "$CLICKHOUSE_SRE_PASSWORD" | sha256sum | cut -d' ' -f1)
clickhouse client --user "$CLICKHOUSE_USER" --password "$CLICKHOUSE_PASSWORD" --multiquery <<SQL
CREATE SETTINGS PROFILE IF NOT EXISTS audit_readonly SETTINGS
    readonly = 1 CONST,
    max_execution_time = 30 MAX 120,
    max_memory_usage = 4000000000 MAX 8000000000,
    max_result_rows = 1000000,
    result_overflow_mode = 'throw';
CREATE USER IF NOT EXISTS audit_sre IDENTIFIED WITH sha256_hash BY '${HASH}'
    SETTINGS PROFILE 'audit_readonly' DEFAULT DATABASE audit;
GRANT SELECT ON audit.* TO audit_sre;
SQL
