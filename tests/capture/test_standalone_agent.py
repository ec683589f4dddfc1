"""AssistantAgent.run() alone never touches a Core runtime: audited_run records it anyway."""

from __future__ import annotations

from autogen_agentchat.agents import AssistantAgent
from autogen_core.tools import FunctionTool

from collector import Store, audited_run
from collector._demo_models import LoggingReplayClient

from ._teams import get_order, make_hook, tool_call


async def test_audited_run_records_messages_llm_calls_and_result(store: Store, redactor: object) -> None:
    hook = make_hook(store, redactor)
    agent = AssistantAgent(
        "solo",
        model_client=LoggingReplayClient([tool_call("get_order", {"order_id": "S-1"}), "order S-1 shipped"]),
        tools=[FunctionTool(get_order, description="Fetch an order.")],
        reflect_on_tool_use=True,
    )
    result = await audited_run(hook, agent, "where is S-1? mail me at ann@example.com", tenant_id="acme", user_id="u")
    assert await hook.aclose()
    _, rows = store.query("SELECT kind, message_type, tenant_id, content FROM events ORDER BY seq")
    _, tasks = store.query("SELECT count() FROM tasks FINAL")
    assert tasks == [(1,)]  # nothing landed outside the task
    kinds = [r[0] for r in rows]
    assert kinds[0] == "task_start" and kinds[-1] == "task_result"
    assert {r[2] for r in rows} == {"acme"}
    assert "llm_call" in kinds and "tool_call" in kinds
    assert sum(1 for k in kinds if k == "agentchat_event") >= len(result.messages)
    assert all("ann@example.com" not in r[3] for r in rows)
    _, task = store.query("SELECT status, message_count FROM tasks FINAL")
    assert task == [("abnormal" if not result.stop_reason else "normal", len(result.messages))]
