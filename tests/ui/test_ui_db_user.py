"""The UI runs as a ClickHouse user without DDL rights (deploy/clickhouse/cluster/03_access.sql: SELECT
on the tables, INSERT on api_keys only): `serve --ui-only` and `keys add` open a store whose schema
is current without a single DDL statement, and one that is behind fails saying why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest
from fastapi.testclient import TestClient

from collector._cli import serve
from collector._cli.main import main
from collector._store._client import Store
from collector.errors import SchemaError

READS = ("SELECT", "WITH", "EXPLAIN", "SHOW", "DESCRIBE")


class UIUserClient:
    """A store client with the rights of the cluster DDL's audit_ui user: reads, and inserts into api_keys."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.refused: list[str] = []

    def _deny(self, what: str) -> None:
        self.refused.append(what)
        raise PermissionError(f"ACCESS_DENIED: audit_ui may not {what}")

    def command(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        self._deny(" ".join(sql.split())[:60])

    def query(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        if not sql.lstrip().upper().startswith(READS):
            self._deny(" ".join(sql.split())[:60])
        return self._client.query(sql, *args, **kwargs)

    def insert(self, table: str, *args: Any, **kwargs: Any) -> Any:
        if table != "api_keys":
            self._deny(f"INSERT INTO {table}")
        return self._client.insert(table, *args, **kwargs)

    def create_insert_context(self, table: str, *args: Any, **kwargs: Any) -> Any:
        return self._client.create_insert_context(table, *args, **kwargs)

    def close(self) -> None:
        self._client.close()


def as_ui_user(monkeypatch: pytest.MonkeyPatch) -> list[UIUserClient]:
    """From now on every Store.open connects with the UI user's rights; returns the clients it makes."""
    real = clickhouse_connect.get_client
    made: list[UIUserClient] = []

    def get_client(*args: Any, **kwargs: Any) -> UIUserClient:
        made.append(UIUserClient(real(*args, **kwargs)))
        return made[-1]

    monkeypatch.setattr(clickhouse_connect, "get_client", get_client)
    return made


def test_ui_user_adds_a_key_and_serves_ui_only_on_a_current_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUDIT_INGEST_TOKEN", raising=False)
    dsn = f"chdb://{tmp_path / 'store'}"
    Store.open(dsn).close()  # the administrator's step: the schema, applied with DDL rights
    made = as_ui_user(monkeypatch)
    assert main(["--dsn", dsn, "keys", "add", "--name", "ops", "--admin"]) == 0
    answers: dict[str, int] = {}

    class Probe:
        def __init__(self, config: Any) -> None:
            self.app = config.app

        def run(self) -> None:
            with TestClient(self.app, base_url="http://127.0.0.1") as client:
                answers["healthz"] = client.get("/healthz").status_code
                answers["readyz"] = client.get("/readyz").status_code

    monkeypatch.setattr(serve, "_server_class", lambda: Probe)
    assert main(["--dsn", dsn, "serve", "--ui-only", "--port", "0"]) == 0
    assert answers == {"healthz": 200, "readyz": 200}
    assert len(made) == 2  # keys add, then serve
    assert [c.refused for c in made] == [[], []]  # not one DDL statement, no write but the key


def test_a_schema_behind_the_code_needs_ddl_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dsn = f"chdb://{tmp_path / 'store'}"
    store = Store.open(dsn)
    store.command("ALTER TABLE schema_migrations DELETE WHERE version = 4 SETTINGS mutations_sync = 1")
    store.close()
    made = as_ui_user(monkeypatch)
    with pytest.raises(SchemaError, match=r"migrations \[4\] not recorded"):
        Store.open(dsn)
    assert made[0].refused  # it tried the DDL, and was refused
    monkeypatch.undo()
    store = Store.open(dsn)  # with DDL rights the missing migration is applied (idempotently) and recorded
    try:
        assert {1, 2, 3, 4} <= {int(r[0]) for r in store.query("SELECT version FROM schema_migrations")[1]}
    finally:
        store.close()
