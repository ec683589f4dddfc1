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
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.conditions import TextMentionTermination
from autogen_agentchat.teams import RoundRobinGroupChat
from autogen_core import SingleThreadedAgentRuntime
from autogen_core.models import CreateResult, RequestUsage
from durable_testlib import make_hook, make_pipeline, scalar

from collector import AuditHook, CapturedEvent, EventKind, Store, TaskRef
from collector._demo import PERSONAS, build_team, task_text
from collector._demo_models import LoggingReplayClient

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


async def _all_stored_once(hook: AuditHook, store: Store) -> None:
    """Nothing parked, nothing lost, every accepted event stored exactly once."""
    pipeline = hook.sink
    assert pipeline.flush(20.0)  # False at once while a batch is parked on a permanent error
    assert pipeline.health().parked_batches == 0
    assert await hook.aclose(20.0)
    stats = pipeline.stats()
    assert stats.lost == 0
    assert scalar(store, "SELECT count() FROM events") == stats.accepted
    assert scalar(store, "SELECT uniqExact(event_id) FROM events") == stats.accepted


async def test_ids_with_lone_surrogates_are_stored_not_parked_for_ever(store: Store, redactor: object) -> None:
    hook = make_hook(store, redactor, batch_max_events=512, batch_interval_s=0.2)
    await _run(
        hook,
        [
            {"user_id": "u-plain"},
            {"user_id": LATIN1_USER},
            {"user_id": "u-2", "correlation_id": LATIN1_TICKET},
            {"user_id": "u-3", "stop_suffix": f" by {LATIN1_USER}"},
        ],
    )
    await _all_stored_once(hook, store)
    assert scalar(store, "SELECT count() FROM tasks FINAL WHERE status = 'normal'") == 4
    # Made valid UTF-8 the way content is (clean_str): '?' for each byte that was not.
    assert scalar(store, "SELECT countIf(user_id = 'j?r?me') FROM tasks FINAL") == 1
    assert scalar(store, "SELECT countIf(correlation_id = 'ticket-?42') FROM tasks FINAL") == 1
    assert scalar(store, "SELECT countIf(stop_reason LIKE '% by j?r?me') FROM tasks FINAL") == 1


async def test_token_counts_past_the_column_range_do_not_park_the_batch(store: Store, redactor: object) -> None:
    """A model client (or a proxy in front of the provider) reporting a usage past UInt64: the
    llm_call row and the agent's message carried it into UInt32 columns (the task row into UInt64
    ones), the insert failed client-side (DataError, permanent) and the whole batch, the other
    task's events too, was parked in the spool for ever. Counts are now capped at their column's top."""
    hook = make_hook(store, redactor, batch_max_events=512, batch_interval_s=0.2)
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
    runtime.start()
    for marker, tokens in (("sane", 42), ("beyond", 2**64 + 7)):
        usage = RequestUsage(prompt_tokens=tokens, completion_tokens=tokens)
        reply = CreateResult(finish_reason="stop", content=f"{marker} TERMINATE", usage=usage, cached=False)
        agent = AssistantAgent("solo", model_client=LoggingReplayClient([reply]))
        team = RoundRobinGroupChat([agent], termination_condition=TextMentionTermination("TERMINATE"), runtime=runtime)
        async with hook.task(team, tenant_id="acme", correlation_id=f"tokens-{marker}") as task:
            task.record_result(await team.run(task="count my tokens"))
    await runtime.stop_when_idle()
    await _all_stored_once(hook, store)
    _, rows = store.query("SELECT correlation_id, completion_tokens FROM events WHERE kind = 'llm_call' ORDER BY 1")
    assert rows == [("tokens-beyond", 2**32 - 1), ("tokens-sane", 42)]
    _, rows = store.query("SELECT correlation_id, status, completion_tokens FROM tasks FINAL ORDER BY 1")
    assert rows == [("tokens-beyond", "normal", 2**64 - 1), ("tokens-sane", "normal", 42)]


def test_a_remote_loss_row_with_an_odd_count_does_not_take_its_batch_down(store: Store, redactor: object) -> None:
    """Loss rows also come from remote hooks (kind ``loss``, payload ``{"lost": N, ...}``), and the
    sidecar checks the fields around a payload, not the payload. A count that was not a number made
    the task tracker raise, and the whole batch was recorded as lost (``worker error``); one past
    UInt32, or one that took the task's lost_events below 0, parked the batch in the spool for ever."""
    pipeline = make_pipeline(store, redactor)
    task = TaskRef("acme", "remote-loss")
    now = time.time_ns()
    for n, lost in enumerate(("many", 2**40, -5, 1.5e300, 7)):
        events = [
            CapturedEvent(0, task, 10 * n + i, now + i, EventKind.PUBLISH, {"content": f"hi {i}"}, event_id=f"r{n}-{i}")
            for i in range(3)
        ]
        loss = {"lost": lost, "first_seq": 10 * n, "reason": "queue full"}
        events.append(CapturedEvent(0, task, 10 * n + 3, now + 3, EventKind.LOSS, loss, event_id=f"r{n}-loss"))
        assert pipeline.submit_batch_durable(events, 20.0), lost  # the sidecar's 200
        assert pipeline.flush(20.0), lost
    assert pipeline.shutdown(20.0)
    assert pipeline.stats().lost == 0  # these are the remote hook's losses, not the pipeline's
    assert scalar(store, "SELECT count() FROM events WHERE kind != 'loss'") == 15
    assert scalar(store, "SELECT count() FROM events WHERE kind = 'loss'") == 5
    assert 7 <= scalar(store, "SELECT lost_events FROM tasks FINAL") <= 2**32 - 1


async def test_a_correlation_id_given_as_a_number_is_stored_as_its_text(store: Store, redactor: object) -> None:
    """``hook.task(..., correlation_id=12345)`` (a ticket number; the hook already takes str() of
    the tenant and user ids): the row carried an int into a String column, the client refused the
    insert for good and the batch was parked in the spool for ever."""
    hook = make_hook(store, redactor, batch_max_events=512, batch_interval_s=0.2)
    await _run(hook, [{"user_id": "u-1", "correlation_id": 12345}, {"user_id": "u-2"}])  # type: ignore[dict-item]
    await _all_stored_once(hook, store)
    assert scalar(store, "SELECT count() FROM tasks FINAL WHERE status = 'normal'") == 2
    assert scalar(store, "SELECT countIf(correlation_id = '12345') FROM tasks FINAL") == 1
