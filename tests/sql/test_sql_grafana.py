"""Every SQL of the Grafana dashboard runs on the seeded store once Grafana's macros are expanded."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bench._seed_store import Seeded
from collector._store._readonly import run_read_only

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards" / "autogen-audit.json"


def expand(sql: str, tenants: list[str]) -> str:
    """What grafana-clickhouse-datasource sends for the last 14 days and the given tenants."""
    sql = re.sub(
        r"\$__timeFilter\((\w+)\)",
        r"(\1 >= toDateTime(now() - INTERVAL 14 DAY) AND \1 <= now())",
        sql,
    )
    sql = sql.replace("$__fromTime", "toDateTime(now() - INTERVAL 14 DAY)").replace("$__toTime", "now()")
    sql = sql.replace("$__interval_s", "3600")
    sql = sql.replace("${tenant:singlequote}", ", ".join(f"'{t}'" for t in tenants))
    assert "$" not in sql, f"unexpanded macro in {sql}"
    return sql


def queries() -> list[tuple[str, str]]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found = [(v["name"], v["query"]) for v in dashboard["templating"]["list"]]
    for panel in dashboard["panels"]:
        found += [(panel["title"], t["rawSql"]) for t in panel["targets"]]
    return found


@pytest.mark.parametrize(("title", "sql"), queries(), ids=[t for t, _ in queries()])
def test_dashboard_query_runs_and_returns_rows(seeded: Seeded, title: str, sql: str) -> None:
    columns, rows = run_read_only(seeded.store, expand(sql, list(seeded.summary.tenants)), server=False)
    assert rows, title
    if "AS time" in sql:
        assert columns[0] == "time", title  # Grafana's time series need the time column first


def test_tenant_variable_filters(seeded: Seeded) -> None:
    (sql,) = [sql for title, sql in queries() if title == "Top token spenders"]
    _, rows = run_read_only(seeded.store, expand(sql, ["tenant-acme"]), server=False)
    assert {r[0] for r in rows} == {"tenant-acme"}
