"""The autogen-audit CLI as a user runs it: a real subprocess against a real chdb store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "-m", "collector", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": ""},
        check=False,
    )


def test_demo_then_sql_and_tasks(tmp_path: Path) -> None:
    dsn = f"chdb://{tmp_path / 'store'}"
    demo = cli("--dsn", dsn, "demo", "--tenants", "3", "--tasks-per-tenant", "2", cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "recorded 6 tasks" in demo.stdout and "0 lost" in demo.stdout
    sql = cli("--dsn", dsn, "sql", "SELECT tenant_id, count() AS n FROM events GROUP BY tenant_id ORDER BY 1",
              "--format", "json", cwd=tmp_path)  # fmt: skip
    assert sql.returncode == 0, sql.stderr
    rows = [json.loads(line) for line in sql.stdout.splitlines()]
    assert [r["tenant_id"] for r in rows] == ["acme", "globex", "initech"] and all(r["n"] > 10 for r in rows)
    tasks = cli("--dsn", dsn, "tasks", "--tenant", "globex", cwd=tmp_path)
    assert tasks.returncode == 0 and tasks.stdout.count("globex") == 2 and "(2 rows)" in tasks.stdout
    # The default DSN is chdb://./audit-data, relative to the working directory.
    default = cli("demo", "--tenants", "1", "--tasks-per-tenant", "1", cwd=tmp_path)
    assert default.returncode == 0 and (tmp_path / "audit-data").is_dir()


def test_clear_errors_for_bad_dsn_and_bad_sql(tmp_path: Path) -> None:
    bad_dsn = cli("--dsn", "postgres://x", "sql", "SELECT 1", cwd=tmp_path)
    assert bad_dsn.returncode == 2 and "unsupported store DSN scheme 'postgres'" in bad_dsn.stderr
    assert "Traceback" not in bad_dsn.stderr
    (tmp_path / "s").mkdir()  # `sql` only reads: it creates no store, so the path must hold one already
    bad_sql = cli("--dsn", f"chdb://{tmp_path / 's'}", "sql", "SELECT FROM WHERE", cwd=tmp_path)
    assert bad_sql.returncode == 2 and "syntax error" in bad_sql.stderr.lower() and "Traceback" not in bad_sql.stderr
    not_select = cli("--dsn", f"chdb://{tmp_path / 's'}", "sql", "DROP TABLE events", cwd=tmp_path)
    assert not_select.returncode == 2 and "only SELECT" in not_select.stderr
    server_down = cli("--dsn", "http://default:secretpw@127.0.0.1:9/default", "sql", "SELECT 1", cwd=tmp_path)
    assert server_down.returncode == 2 and "secretpw" not in server_down.stderr
    assert "cannot open store http://default:***@127.0.0.1:9/default" in server_down.stderr
