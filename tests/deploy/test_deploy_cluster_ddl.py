"""The cluster DDL parses (chdb's parser via EXPLAIN AST) and keeps the single-node columns."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from collector._store._client import Store
from collector._store._schema import migration_files, split_statements
from collector.errors import QueryError

CLUSTER = Path(__file__).resolve().parents[2] / "deploy" / "clickhouse" / "cluster"


def statements() -> list[tuple[str, str]]:
    found = []
    for path in sorted(CLUSTER.glob("*.sql")):
        for i, statement in enumerate(split_statements(path.read_text(encoding="utf-8"))):
            found.append((f"{path.name}#{i + 1}", statement))
    return found


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    opened = Store.open(f"chdb://{tmp_path_factory.mktemp('clusterddl')}")
    yield opened
    opened.close()


@pytest.mark.parametrize(("where", "sql"), statements(), ids=[w for w, _ in statements()])
def test_statement_parses(store: Store, where: str, sql: str) -> None:
    _, rows = store.query("EXPLAIN AST " + sql)
    assert rows, where


def test_parser_rejects_a_broken_statement(store: Store) -> None:
    with pytest.raises(QueryError):
        store.query("EXPLAIN AST CREATE ROW POLICY p ON audit.events USING tenant_id = TO someone")


def test_cluster_has_the_pieces_the_issue_asks_for() -> None:
    text = "\n".join(sql for _, sql in statements())
    needles = (
        "ReplicatedMergeTree(", "ReplicatedReplacingMergeTree(", "Distributed(", "cityHash64(tenant_id)",
        "ttl_only_drop_parts = 1", "replicated_deduplication_window", "CREATE ROW POLICY",
        "CREATE SETTINGS PROFILE", "readonly = 1", "max_execution_time", "max_memory_usage",
        "CREATE ROLE IF NOT EXISTS audit_sre", "TTL ",
    )  # fmt: skip
    for needle in needles:
        assert needle in text, needle


def _ddl_columns(table: str) -> dict[str, str]:
    head = f"CREATE TABLE IF NOT EXISTS audit.{table} ON CLUSTER '{{cluster}}'\n("
    (text,) = [t for p in sorted(CLUSTER.glob("*.sql")) if head in (t := p.read_text(encoding="utf-8"))]
    body = text.split(head, 1)[1].split("\n)\n", 1)[0]
    columns = {}
    for line in body.splitlines():
        match = re.match(r"^\s{4}([a-z_]+)\s+(.+?)(?:\s+(?:CODEC|DEFAULT)\b.*)?,?$", line)
        if match:
            columns[match.group(1)] = match.group(2).rstrip(",")
    return columns


@pytest.mark.parametrize("table", ["events", "tasks"])
def test_cluster_tables_have_every_single_node_column(store: Store, table: str) -> None:
    # A migration that adds a column to events/tasks must add it to the cluster DDL too.
    _, rows = store.query(
        "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String}",
        parameters={"t": table},
    )
    cluster = _ddl_columns(f"{table}_local")
    missing = [f"{name} {type_}" for name, type_ in rows if cluster.get(name) != type_]
    assert not missing, f"deploy/clickhouse/cluster/02_tables.sql {table}_local lacks or mistypes: {missing}"
    assert cluster.keys() - {n for n, _ in rows} == {"retention_class"}


def _grants(role: str) -> set[tuple[str, str, str]]:
    """(privilege, columns, table) granted to ``role`` by the cluster DDL."""
    found = set()
    for _, sql in statements():
        text = " ".join(sql.split())
        match = re.match(r"GRANT ON CLUSTER '\{cluster\}' (.+) TO (\w+)$", text)
        if match and match.group(2) == role:
            for privilege, columns, table in re.findall(r"(\w+)(?:\(([^)]*)\))? ON ([\w.*]+)", match.group(1)):
                found.add((privilege.upper(), columns.replace(" ", ""), table))
    return found


def _dsn_users() -> set[str]:
    root = CLUSTER.parents[2]
    texts = [(root / "deploy" / "k8s" / "secrets.example.yaml").read_text(encoding="utf-8")]
    texts.append((root / "docs" / "deploy.md").read_text(encoding="utf-8").split("## 3. Kubernetes", 1)[1])
    return {user for text in texts for user in re.findall(r"store-dsn[=:]\s*'?https?://(\w+):", text)}


def test_every_user_of_the_deployed_dsns_is_created_with_its_role() -> None:
    root = CLUSTER.parents[2]
    secrets = {
        d["metadata"]["name"]: d["stringData"]
        for d in yaml.safe_load_all((root / "deploy" / "k8s" / "secrets.example.yaml").read_text(encoding="utf-8"))
    }
    # The admin user is the ClickHouse image's own (CLICKHOUSE_USER, from the same Secret); its DSN
    # serves only the one-off setup Job, never a service.
    admin = secrets["clickhouse-admin"]["user"]
    users = _dsn_users() - {admin}
    assert users == {"audit_sidecar", "audit_ui"}
    admin_dsn_readers = [
        path.name
        for path in (root / "deploy" / "k8s").glob("*.yaml")
        if re.search(r"name: clickhouse-admin, key: store-dsn", path.read_text(encoding="utf-8"))
    ]
    assert admin_dsn_readers == ["setup-job.yaml"]
    text = "\n".join(" ".join(sql.split()) for _, sql in statements())
    for user in users:
        match = re.search(rf"CREATE USER IF NOT EXISTS {user} ON CLUSTER .*? DEFAULT ROLE (\w+)", text)
        assert match, f"the cluster DDL never creates {user}"
        role = match.group(1)
        assert f"GRANT ON CLUSTER '{{cluster}}' {role} TO {user}" in text
        assert f"CREATE ROLE IF NOT EXISTS {role} ON CLUSTER" in text
        assert _grants(role), role


def test_service_roles_run_no_ddl_and_the_ui_writes_only_its_keys() -> None:
    ui = _grants("audit_ui_access")
    assert ui == {("SELECT", "", "audit.*"), ("INSERT", "", "audit.api_keys")}
    writer = _grants("audit_writer")
    ddl = {"CREATE", "ALTER", "DROP", "TRUNCATE", "OPTIMIZE", "ALL"}
    for role in ("audit_ui_access", "audit_writer", "audit_sre", "audit_tenant_reader"):
        assert not {p for p, _, _ in _grants(role)} & ddl, role
    inserted = {t.removeprefix("audit.").removesuffix("_local") for p, _, t in writer if p == "INSERT"}
    assert inserted == {"events", "tasks", "checkpoints", "signing_keys"}
    # The sidecar reads back chain heads and event ids, never content.
    for privilege, columns, table in writer:
        if privilege == "SELECT" and table.startswith("audit.events"):
            assert columns and not set(columns.split(",")) & {"content", "payload", "error"}, columns
    assert ("SELECT", "", "audit.schema_migrations") in writer  # to find the schema current, without DDL


def test_the_cluster_records_every_migration_it_stands_for() -> None:
    (insert,) = [sql for _, sql in statements() if sql.startswith("INSERT INTO audit.schema_migrations")]
    recorded = {(int(v), name) for v, name in re.findall(r"\((\d+), '([a-z0-9_]+)'\)", insert)}
    assert recorded == {(version, path.stem) for version, path in migration_files()}


def test_access_statements_also_run_on_a_single_server(store: Store) -> None:
    # docs/deploy.md (Kubernetes) applies 03_access.sql to the one-node ClickHouse without ON CLUSTER.
    text = (CLUSTER / "03_access.sql").read_text(encoding="utf-8").replace(" ON CLUSTER '{cluster}'", "")
    for sql in split_statements(text):
        assert "{cluster}" not in sql
        _, rows = store.query("EXPLAIN AST " + sql)
        assert rows


@pytest.mark.parametrize("table", ["api_keys", "schema_migrations"])
def test_cluster_service_tables_match_the_single_node_ones(store: Store, table: str) -> None:
    _, rows = store.query(
        "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String}",
        parameters={"t": table},
    )
    assert rows
    assert _ddl_columns(table) == dict(rows)
