"""A batch the sidecar refuses for good must not take every later batch down with it.

The sidecar refuses a whole batch (400) when one event breaks its validation: here a task whose
correlation id is longer than the 256 characters an id may have on the wire (the in-process
pipeline stores it). Its events are counted lost and their loss row rides with the next batch;
but that loss row carries the same id, so the next batch was refused too, and the next: every
event of every later task was lost, and no loss row ever reached the store. Real remote hook,
real AgentChat teams, real sidecar process, real chdb.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from autogen_core import SingleThreadedAgentRuntime

from collector import AuditHook, Store
from collector._demo import PERSONAS, build_team, task_text

from ._procs import TOKEN, Sidecar

LONG_ID = "ticket-" + "x" * 300


async def test_a_refused_batch_does_not_take_the_later_ones_with_it(tmp_path: Path) -> None:
    car = Sidecar(f"chdb://{tmp_path / 'store'}", tmp_path / "sidecar.log")
    try:
        car.wait_ready()
        hook = AuditHook.from_env(sidecar_url=car.url, ingest_token=TOKEN, batch_interval_s=0.05)
        runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
        runtime.start()
        for i, corr in enumerate(["c-before", LONG_ID, "c-after-1", "c-after-2"]):
            p = PERSONAS[i % len(PERSONAS)]
            team = build_team(runtime, p, abnormal=False, broken_tool=False)
            async with hook.task(team, tenant_id="acme", correlation_id=corr) as task:
                task.record_result(await team.run(task=task_text(p)))
            await asyncio.to_thread(hook.flush, 10.0)  # one task per batch
        await runtime.stop_when_idle()
        assert not await hook.aclose(20.0)  # the long id's events were lost, and it says so
        stats = hook.sink.stats()  # type: ignore[attr-defined]
        assert stats.rejected_batches >= 1
        assert stats.acknowledged + stats.lost == stats.accepted
    finally:
        assert car.stop() == 0
    store = Store.open(f"chdb://{tmp_path / 'store'}")
    try:
        _, [(total, unique)] = store.query("SELECT count(), uniqExact(event_id) FROM events WHERE kind != 'loss'")
        assert total == unique == stats.acknowledged
        _, rows = store.query("SELECT correlation_id FROM events WHERE kind = 'task_result' ORDER BY 1")
        assert [r[0] for r in rows] == ["c-after-1", "c-after-2", "c-before"]
        # One task's events were lost, as many as each of the others stored.
        assert stats.lost == stats.accepted // 4
    finally:
        store.close()
