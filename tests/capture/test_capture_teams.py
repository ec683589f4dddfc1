"""Every team type and plain Core agents are captured on a real runtime into real chdb."""

from __future__ import annotations

import asyncio

import pytest
from autogen_core import (
    AgentId,
    DefaultTopicId,
    SingleThreadedAgentRuntime,
)

from collector import Store

from ._teams import TEAM_BUILDERS, Job, core_runtime, make_hook, run_in_task


def _rows(store: Store, sql: str, **params: object) -> list[dict[str, object]]:
    cols, rows = store.query(sql, parameters=params)
    return [dict(zip(cols, r, strict=True)) for r in rows]


@pytest.mark.parametrize("team_type", sorted(TEAM_BUILDERS))
async def test_team_run_is_captured_with_inner_messages(team_type: str, store: Store, redactor: object) -> None:
    hook = make_hook(store, redactor)
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
    runtime.start()
    team = TEAM_BUILDERS[team_type](runtime, "M-77")
    correlation_id, result = await run_in_task(hook, team, "acme", "please handle M-77")
    await runtime.stop_when_idle()
    assert await hook.aclose()

    events = _rows(store, "SELECT * FROM events WHERE correlation_id = {c:String} ORDER BY seq", c=correlation_id)
    assert {e["tenant_id"] for e in events} == {"acme"}
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "task_start" and kinds[-1] == "task_result"
    assert {"send", "publish"} <= set(kinds)
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert len({e["event_id"] for e in events}) == len(events)
    # The inner chat message, not only the GroupChat* wrapper, is stored: source, type, text, id.
    said = [e for e in events if e["message_type"] == "TextMessage" and e["source"] not in ("", "user")]
    assert said, "no agent TextMessage captured"
    assert all(e["message_id"] for e in said)
    assert any("M-77" in str(e["content"]) for e in said)
    llm = [e for e in events if e["kind"] == "llm_call"]
    assert llm and all(e["model"] == "replay-4o" for e in llm)
    assert sum(int(e["prompt_tokens"]) for e in llm) > 0  # type: ignore[call-overload]

    (task,) = _rows(store, "SELECT * FROM tasks FINAL WHERE correlation_id = {c:String}", c=correlation_id)
    assert task["team_type"] == team_type
    assert task["status"] in ("normal", "abnormal")
    assert task["stop_reason"] == (result.stop_reason or "")
    assert task["message_count"] == len(result.messages)


async def test_round_robin_tool_call_has_arguments_result_and_latency(store: Store, redactor: object) -> None:
    hook = make_hook(store, redactor)
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
    runtime.start()
    team = TEAM_BUILDERS["RoundRobinGroupChat"](runtime, "T-9")
    correlation_id, _ = await run_in_task(hook, team, "acme", "go")
    await runtime.stop_when_idle()
    await hook.aclose()
    (tool,) = _rows(
        store, "SELECT * FROM events WHERE correlation_id = {c:String} AND kind = 'tool_call'", c=correlation_id
    )
    assert tool["tool_name"] == "get_order"
    assert "T-9" in str(tool["content"]) and "shipped" in str(tool["content"])
    assert float(tool["duration_ms"]) > 0  # type: ignore[arg-type]


async def test_custom_events_and_metadata_attribution(store: Store, redactor: object) -> None:
    from autogen_agentchat.messages import TextMessage

    hook = make_hook(store, redactor)
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
    runtime.start()
    team = TEAM_BUILDERS["RoundRobinGroupChat"](runtime, "K-1")
    async with hook.task(team, tenant_id="acme", user_id="u-1", correlation_id="corr-given") as task:
        task.record_event("model_retry", cause="rate limit", attempt=2)
        result = await team.run(task="go")
        task.record_event("human_approval", approver="ops")
        task.record_result(result)
    # A second team attributed only through the task message's metadata.
    team2 = TEAM_BUILDERS["RoundRobinGroupChat"](runtime, "K-2")
    meta = {"tenant_id": "globex", "user_id": "u-9", "correlation_id": "corr-meta"}
    await team2.run(task=TextMessage(content="go", source="user", metadata=meta))
    await runtime.stop_when_idle()
    await hook.aclose()

    custom = _rows(store, "SELECT message_type, content FROM events WHERE kind='custom' ORDER BY seq")
    assert [c["message_type"] for c in custom] == ["model_retry", "human_approval"]
    assert "rate limit" in str(custom[0]["content"]) and '"attempt":2' in str(custom[0]["content"])
    meta_rows = _rows(store, "SELECT DISTINCT tenant_id, user_id FROM events WHERE correlation_id = 'corr-meta'")
    assert meta_rows == [{"tenant_id": "globex", "user_id": "u-9"}]
    (t,) = _rows(store, "SELECT status, message_count FROM tasks FINAL WHERE correlation_id = 'corr-meta'")
    assert t["status"] == "normal" and int(t["message_count"]) > 0  # type: ignore[call-overload]


async def test_plain_core_agents_by_source_convention_and_core_task(store: Store, redactor: object) -> None:
    hook = make_hook(store, redactor)
    runtime = await core_runtime(hook)
    # Convention: TopicId('default', 'tenant-123') attributes to tenant 'tenant-123'.
    await runtime.publish_message(Job("convention job"), DefaultTopicId(source="tenant-123"))
    # Explicit: core_task keyed by topic source / agent key.
    async with hook.core_task("job-7", tenant_id="initech", user_id="u-5") as task:
        await runtime.publish_message(Job("explicit job"), DefaultTopicId(source="job-7"))
        await runtime.send_message(Job("direct job"), AgentId("worker", "job-7"))
        await asyncio.sleep(0)
        await runtime.stop_when_idle()
        runtime.start()
    await runtime.stop_when_idle()
    await hook.aclose()

    conv = _rows(store, "SELECT DISTINCT tenant_id FROM events WHERE topic_source = 'tenant-123'")
    assert conv == [{"tenant_id": "tenant-123"}]
    rows = _rows(
        store, "SELECT kind, tenant_id, user_id FROM events WHERE correlation_id = {c:String}", c=task.correlation_id
    )
    assert {r["tenant_id"] for r in rows} == {"initech"} and {r["user_id"] for r in rows} == {"u-5"}
    assert {"task_start", "publish", "send", "task_unfinished"} <= {r["kind"] for r in rows}
