"""The v_* views answer the common questions correctly on a seeded store (ground truth from the seeder)."""

from __future__ import annotations

import re
from typing import Any

from bench._seed_store import DEGRADING_TENANT, Seeded

VIEWS = {
    "v_task_summary_daily",
    "v_abnormal_stops",
    "v_llm_calls",
    "v_llm_usage_daily",
    "v_tool_calls",
    "v_tool_stats_daily",
    "v_runtime_errors",
    "v_pipeline_health",
}


def one(seeded: Seeded, sql: str) -> tuple[Any, ...]:
    _, rows = seeded.store.query(sql)
    assert len(rows) == 1
    return tuple(rows[0])


def test_every_view_exists_and_returns_rows(seeded: Seeded) -> None:
    _, rows = seeded.store.query(
        "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine = 'View'"
    )
    assert {r[0] for r in rows if r[0].startswith("v_")} == VIEWS
    for view in sorted(VIEWS):
        _, rows = seeded.store.query(f"SELECT * FROM {view} LIMIT 5")
        assert len(rows) == 5, view


def test_task_summary_counts_latest_version_of_each_task(seeded: Seeded) -> None:
    s = seeded.summary
    tasks, abnormal, running, prompt = one(
        seeded,
        "SELECT sum(tasks), sum(abnormal_tasks), sum(running_tasks), sum(prompt_tokens) FROM v_task_summary_daily",
    )
    # Each finished task has two versions: counting without FINAL would double them.
    assert (tasks, abnormal, running) == (s.tasks, s.abnormal_tasks, s.running_tasks)
    assert prompt == s.prompt_tokens - _running_prompt_tokens(seeded)
    _, rows = seeded.store.query("SELECT tenant_id, sum(tasks) FROM v_task_summary_daily GROUP BY tenant_id")
    assert dict(rows) == s.per_tenant_tasks


def _running_prompt_tokens(seeded: Seeded) -> int:
    # Running tasks have not reported their tokens yet (their only version is the opening one).
    (value,) = one(
        seeded,
        "SELECT sum(prompt_tokens) FROM v_llm_calls WHERE correlation_id IN "
        "(SELECT correlation_id FROM tasks FINAL WHERE status = 'running')",
    )
    return int(value)


def test_abnormal_stops_fold_counts_and_shares_add_up(seeded: Seeded) -> None:
    _, rows = seeded.store.query("SELECT DISTINCT stop_reason_class FROM v_abnormal_stops WHERE abnormal = 1")
    classes = {r[0] for r in rows}
    assert "Maximum number of messages N reached, current message count: N" in classes
    assert not any(re.search(r"\d", c) for c in classes)
    _, rows = seeded.store.query(
        "SELECT tenant_id, day, team_id, sum(share), any(team_tasks), sum(tasks) FROM v_abnormal_stops "
        "GROUP BY tenant_id, day, team_id"
    )
    assert rows
    for *_, share, team_tasks, tasks in rows:
        assert abs(share - 1.0) < 0.01
        assert team_tasks == tasks
    (abnormal,) = one(seeded, "SELECT sum(tasks) FROM v_abnormal_stops WHERE abnormal = 1")
    assert abnormal == seeded.summary.abnormal_tasks


def test_degrading_tenant_has_the_highest_recent_abnormal_rate(seeded: Seeded) -> None:
    _, rows = seeded.store.query(
        "SELECT tenant_id, sumIf(tasks, abnormal = 1) / sum(tasks) AS rate FROM v_abnormal_stops "
        "WHERE day >= today() - 6 GROUP BY tenant_id ORDER BY rate DESC"
    )
    assert rows[0][0] == DEGRADING_TENANT


def test_llm_views_agree_with_the_seeded_calls(seeded: Seeded) -> None:
    s = seeded.summary
    calls, prompt, completion, streamed = one(
        seeded, "SELECT count(), sum(prompt_tokens), sum(completion_tokens), sum(streamed) FROM v_llm_calls"
    )
    assert (calls, prompt, completion) == (s.llm_calls, s.prompt_tokens, s.completion_tokens)
    assert 0 < streamed < calls
    daily_calls, daily_total = one(seeded, "SELECT sum(calls), sum(total_tokens) FROM v_llm_usage_daily")
    assert (daily_calls, daily_total) == (s.llm_calls, s.prompt_tokens + s.completion_tokens)
    _, rows = seeded.store.query(
        "SELECT model, quantile(0.5)(duration_ms) AS p50 FROM v_llm_calls GROUP BY model ORDER BY p50"
    )
    # The seeder's models have distinct median latencies; the view must keep them apart.
    assert [r[0] for r in rows] == ["gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet"]


def test_tool_views_count_errors_and_rank_the_flaky_tool(seeded: Seeded) -> None:
    s = seeded.summary
    assert one(seeded, "SELECT count(), sum(is_error) FROM v_tool_calls") == (s.tool_calls, s.tool_errors)
    daily = one(seeded, "SELECT sum(calls), sum(errors) FROM v_tool_stats_daily")
    assert daily == (s.tool_calls, s.tool_errors)
    _, rows = seeded.store.query(
        "SELECT tool_name, sum(errors) / sum(calls) AS rate FROM v_tool_stats_daily GROUP BY tool_name "
        "ORDER BY rate DESC"
    )
    assert rows[0][0] == "fetch_url"
    assert rows[-1] == ("calculator", 0.0)


def test_runtime_errors_by_kind(seeded: Seeded) -> None:
    s = seeded.summary
    _, rows = seeded.store.query("SELECT kind, count() FROM v_runtime_errors GROUP BY kind")
    counts = dict(rows)
    assert counts["message_dropped"] == s.dropped_messages
    assert counts["handler_exception"] == s.handler_exceptions
    assert counts["task_error"] > 0


def test_pipeline_health_reports_losses_and_redaction_failures(seeded: Seeded) -> None:
    s = seeded.summary
    events_in, lost, failures = one(
        seeded, "SELECT sum(events_in), sum(events_lost), sum(redaction_failures) FROM v_pipeline_health"
    )
    assert (events_in, lost, failures) == (s.events - s.loss_events, s.lost_events, s.redaction_failures)
    assert lost > 0
    assert failures > 0
    (max_rate,) = one(seeded, "SELECT max(loss_rate) FROM v_pipeline_health")
    assert 0 < max_rate < 1
