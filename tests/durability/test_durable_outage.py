"""The store unavailable for a while, then back: every event arrives exactly once; permanent errors alarm."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from autogen_core import SingleThreadedAgentRuntime
from durable_testlib import FlakyStore, make_hook, scalar, wait_for

from collector import Store
from collector._demo import PERSONAS, build_team, task_text


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    real = Store.open(f"chdb://{tmp_path / 'store'}")
    yield real
    real.close()


async def _run_teams(hook: object, n: int) -> list[str]:
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])  # type: ignore[list-item]
    runtime.start()
    ids = []
    for i in range(n):
        p = PERSONAS[i % len(PERSONAS)]
        team = build_team(runtime, p, abnormal=False, broken_tool=False)
        async with hook.task(team, tenant_id="acme", user_id=f"u{i}") as task:  # type: ignore[attr-defined]
            task.record_result(await team.run(task=task_text(p)))
            ids.append(task.correlation_id)
    await runtime.stop_when_idle()
    return ids


async def test_outage_then_recovery_stores_every_event_exactly_once(store: Store, redactor: object) -> None:
    flaky = FlakyStore(store)
    flaky.down = True
    hook = make_hook(flaky, redactor)
    pipeline = hook.sink
    await _run_teams(hook, 3)
    assert wait_for(lambda: pipeline.stats().export_failures >= 2 and pipeline.stats().queued == 0)
    stats = pipeline.stats()
    assert stats.spool_pending_batches > 1 and stats.written == 0
    assert scalar(store, "SELECT count() FROM events") == 0
    health = pipeline.health()  # type: ignore[attr-defined]
    assert not health.ready and any("store not reachable" in r for r in health.reasons)
    # Back, but the first two inserts lose their response after committing: the retries must be deduplicated.
    flaky.lose_responses = 2
    flaky.down = False
    assert await hook.aclose(30.0)
    stats = pipeline.stats()
    assert stats.lost == 0 and stats.spool_pending_batches == 0
    rows = scalar(store, "SELECT count() FROM events")
    distinct = scalar(store, "SELECT uniqExact(event_id) FROM events")
    assert rows == distinct == stats.accepted
    assert stats.deduplicated > 0
    assert scalar(store, "SELECT countIf(status = 'normal') FROM tasks FINAL") == 3
    exposition = pipeline.metrics.exposition().decode()  # type: ignore[attr-defined]
    assert 'audit_insert_errors_total{kind="retryable"}' in exposition
    assert "audit_events_deduplicated_total" in exposition


async def test_permanent_error_alarms_keeps_the_batch_and_does_not_spin(store: Store, redactor: object) -> None:
    flaky = FlakyStore(store)
    flaky.table_override = "events_renamed_away"  # a real UNKNOWN_TABLE from chdb: permanent
    hook = make_hook(flaky, redactor, retry_max_s=0.5)
    pipeline = hook.sink
    try:
        await _run_teams(hook, 1)

        def all_parked() -> bool:
            stats, health = pipeline.stats(), pipeline.health()  # type: ignore[attr-defined]
            return stats.queued == 0 and 0 < health.parked_batches == stats.spool_pending_batches

        assert wait_for(all_parked)
        health = pipeline.health()  # type: ignore[attr-defined]
        assert not health.ready and any("fail permanently" in r for r in health.reasons)
        before, parked = flaky.attempts, health.parked_batches
        wait_for(lambda: False, timeout=1.0)
        # Parked batches are retried every retry_max_s (0.5 s), not in a hot loop.
        assert flaky.attempts - before <= 3 * parked
        exposition = pipeline.metrics.exposition().decode()  # type: ignore[attr-defined]
        assert 'audit_insert_errors_total{kind="permanent"}' in exposition
        flaky.table_override = None  # the operator fixes the schema: the kept batches go in
    finally:
        assert await hook.aclose(15.0)
    assert scalar(store, "SELECT count() FROM events") == pipeline.stats().accepted
    assert scalar(store, "SELECT uniqExact(event_id) FROM events") == pipeline.stats().accepted
