"""The cluster DDL parses (chdb's parser via EXPLAIN AST) and keeps the single-node columns."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector._store._client import Store
from collector._store._schema import split_statements
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
    text = (CLUSTER / "02_tables.sql").read_text(encoding="utf-8")
    head = f"CREATE TABLE IF NOT EXISTS audit.{table} ON CLUSTER '{{cluster}}'\n("
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
