"""Values a store column refuses must not hold their batch in the spool for ever.

A lone surrogate is what Python makes of invalid UTF-8 read from argv, the environment or a file
name (surrogateescape): an app that passes such a string as a user or correlation id gave rows
that clickhouse-connect cannot encode. The insert failed client-side, was classified permanent,
and the batch (every other task's events in it too) was parked in the spool and retried for ever:
never stored, never counted lost, and ``aclose()`` said True. Real AgentChat teams, real hook,
real spool, real chdb.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from autogen_core import SingleThreadedAgentRuntime
from durable_testlib import make_hook, scalar

from collector import AuditHook, Store
from collector._demo import PERSONAS, build_team, task_text

# What os.fsdecode / sys.argv give for Latin-1 bytes on a UTF-8 system.
LATIN1_USER = os.fsdecode(b"j\xe9r\xf4me")
LATIN1_TICKET = os.fsdecode(b"ticket-\xff42")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    real = Store.open(f"chdb://{tmp_path / 'store'}")
    yield real
    real.close()


async def _run(hook: AuditHook, identities: list[dict[str, str]]) -> None:
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
    runtime.start()
    for i, identity in enumerate(identities):
        p = PERSONAS[i % len(PERSONAS)]
        team = build_team(runtime, p, abnormal=False, broken_tool=False)
        stop_suffix = identity.pop("stop_suffix", "")
        async with hook.task(team, tenant_id="acme", **identity) as task:
            result = await team.run(task=task_text(p))
            result.stop_reason = f"{result.stop_reason}{stop_suffix}"  # an app's own stop reason
            task.record_result(result)
    await runtime.stop_when_idle()


async def test_ids_with_lone_surrogates_are_stored_not_parked_for_ever(store: Store, redactor: object) -> None:
    hook = make_hook(store, redactor, batch_max_events=512, batch_interval_s=0.2)
    pipeline = hook.sink
    await _run(
        hook,
        [
            {"user_id": "u-plain"},
            {"user_id": LATIN1_USER},
            {"user_id": "u-2", "correlation_id": LATIN1_TICKET},
            {"user_id": "u-3", "stop_suffix": f" by {LATIN1_USER}"},
        ],
    )
    assert pipeline.flush(20.0)  # False at once while a batch is parked on a permanent error
    assert pipeline.health().parked_batches == 0
    assert await hook.aclose(20.0)
    stats = pipeline.stats()
    assert stats.lost == 0
    assert scalar(store, "SELECT count() FROM events") == stats.accepted
    assert scalar(store, "SELECT uniqExact(event_id) FROM events") == stats.accepted
    assert scalar(store, "SELECT count() FROM tasks FINAL WHERE status = 'normal'") == 4
    # Made valid UTF-8 the way content is (clean_str): '?' for each byte that was not.
    assert scalar(store, "SELECT countIf(user_id = 'j?r?me') FROM tasks FINAL") == 1
    assert scalar(store, "SELECT countIf(correlation_id = 'ticket-?42') FROM tasks FINAL") == 1
    assert scalar(store, "SELECT countIf(stop_reason LIKE '% by j?r?me') FROM tasks FINAL") == 1
