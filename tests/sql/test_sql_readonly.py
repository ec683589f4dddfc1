"""The read-only guard: what it lets through, what it refuses, and limits that do not stick."""

from __future__ import annotations

import pytest

from bench._seed_store import Seeded
from collector._store._readonly import (
    QueryLimits,
    ReadOnlyViolation,
    check_read_only,
    explain_with,
    limit_settings,
    run_read_only,
)
from collector.errors import QueryError

ALLOWED = [
    "SELECT count() FROM events",
    "SELECT 1;",
    "WITH t AS (SELECT tenant_id FROM tasks FINAL) SELECT count() FROM t",
    "SHOW TABLES",
    "SHOW CREATE TABLE events",
    "DESCRIBE TABLE v_llm_calls",
    "EXPLAIN SELECT * FROM v_tool_calls",
    "SELECT * FROM numbers(3)",
    "SELECT format('{}', 1), ';' AS semi -- a trailing comment",
    "/* leading comment */ SELECT 1 UNION ALL SELECT 2",
]

DENIED = [
    ("DROP TABLE events", "only SELECT"),
    ("INSERT INTO events (tenant_id) VALUES ('x')", "only SELECT"),
    ("ALTER TABLE events DELETE WHERE 1", "only SELECT"),
    ("SET readonly = 0", "only SELECT"),
    ("SYSTEM FLUSH LOGS", "only SELECT"),
    ("TRUNCATE TABLE tasks", "only SELECT"),
    ("SELECT 1; DROP TABLE events", "one statement"),
    ("SELECT 1 INTO OUTFILE '/tmp/x.csv'", "INTO OUTFILE"),
    ("SELECT 1 SETTINGS readonly = 0", "SETTINGS"),
    ("SELECT 1 SETTINGS max_execution_time = 0", "SETTINGS"),
    ("SELECT 1 FORMAT JSON", "FORMAT"),
    ("SELECT * FROM file('/etc/passwd', 'LineAsString')", "file()"),
    ("SELECT file('/etc/hostname')", "file()"),
    ("DESCRIBE TABLE file('/etc/hosts')", "file()"),
    ("SELECT * FROM url('http://127.0.0.1:1/x', CSV)", "url()"),
    ("EXPLAIN SELECT * FROM s3('http://127.0.0.1:1/b/k')", "s3()"),
    ("SELECT * FROM remote('127.0.0.1', system.one)", "remote()"),
    ("SELECT * FROM events WHERE tenant_id IN (SELECT * FROM url('http://127.0.0.1:1', CSV))", "url()"),
    ("SELECT * FROM executable('x.sh', TSV, 'a Int8')", "executable()"),
    ("SELECT * FROM Python(df)", "Python()"),
    ("EXPLAIN AST INSERT INTO events SELECT * FROM events", "EXPLAIN is allowed for SELECT"),
    ("SELECT 'unterminated", "unterminated"),
    ("", "empty"),
]


@pytest.mark.parametrize("sql", ALLOWED)
def test_read_queries_run(seeded: Seeded, sql: str) -> None:
    columns, _ = run_read_only(seeded.store, sql, server=False)
    assert columns


@pytest.mark.parametrize(("sql", "reason"), DENIED)
def test_writes_and_escapes_are_refused_with_one_line(seeded: Seeded, sql: str, reason: str) -> None:
    with pytest.raises(ReadOnlyViolation) as info:
        check_read_only(sql, explain_with(seeded.store.query))
    assert reason in str(info.value)
    assert "\n" not in str(info.value)


def test_refused_statements_change_nothing(seeded: Seeded) -> None:
    writes = ("DROP TABLE events", "SELECT 1; DROP TABLE events", "INSERT INTO tasks (user_id) VALUES ('x')")
    for sql in writes:
        with pytest.raises(ReadOnlyViolation):
            run_read_only(seeded.store, sql, server=False)
    _, rows = seeded.store.query("SELECT count() FROM tasks FINAL")
    assert rows == [(seeded.summary.tasks,)]


def test_time_limit_stops_the_query_with_a_clear_message(seeded: Seeded) -> None:
    limits = QueryLimits(max_execution_time_s=0.3)
    with pytest.raises(QueryError, match=r"time limit of 0.3 s"):
        run_read_only(seeded.store, "SELECT count() FROM numbers_mt(100000000000)", limits, server=False)


def test_memory_limit_stops_the_query_with_a_clear_message(seeded: Seeded) -> None:
    limits = QueryLimits(max_memory_bytes=8 * 1024 * 1024)
    with pytest.raises(QueryError, match="memory limit of 8388608 bytes"):
        run_read_only(seeded.store, "SELECT groupArray(number) FROM numbers(50000000)", limits, server=False)


def test_limits_do_not_stick_to_the_shared_chdb_session(seeded: Seeded) -> None:
    # The pipeline writer shares the session: a guarded query must leave no setting behind.
    limits = QueryLimits(max_execution_time_s=7, max_memory_bytes=123_456_789)
    _, rows = run_read_only(
        seeded.store,
        "SELECT getSetting('max_execution_time'), getSetting('max_memory_usage')",
        limits,
        server=False,
    )
    assert rows == [(7.0, 123_456_789)]
    _, rows = seeded.store.query(
        "SELECT getSetting('max_execution_time'), getSetting('max_memory_usage'), getSetting('readonly')"
    )
    assert rows == [(0.0, 0, 0)]
    seeded.store.command("CREATE TABLE IF NOT EXISTS scratch_after_guard (a UInt8) ENGINE = Memory")
    seeded.store.command("DROP TABLE scratch_after_guard")


def test_server_queries_also_carry_readonly() -> None:
    assert limit_settings(QueryLimits(), server=True)["readonly"] == 1
    assert "readonly" not in limit_settings(QueryLimits(), server=False)
    rows = limit_settings(QueryLimits(max_result_rows=10), server=False)
    assert rows["max_result_rows"] == 10
    assert rows["result_overflow_mode"] == "throw"
