"""Audit ``AssistantAgent.run()`` used on its own, which never touches a Core runtime.

Without a runtime there is no intervention point: the hook cannot see the messages go by.
This wrapper records the task message, every message of the TaskResult, and the TaskResult
anchor itself, so a standalone agent's run shows up in the store like a team's.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from ._events import EventKind

if TYPE_CHECKING:
    from ._attribution import TaskContext
    from ._hook import AuditHook

# Without a runtime, agent.run() executes in the caller's context, so (unlike in intervention
# handlers) a contextvar does reach the event loggers: it attributes their LLM and tool events.
standalone_task: ContextVar[TaskContext | None] = ContextVar("autogen_audit_standalone_task", default=None)


async def audited_run(
    hook: AuditHook,
    agent: Any,
    task: Any,
    *,
    tenant_id: str,
    user_id: str = "",
    correlation_id: str | None = None,
    **run_kwargs: Any,
) -> Any:
    """``await agent.run(task=task, **run_kwargs)``, recorded as one task; returns the TaskResult."""
    key = f"standalone:{getattr(agent, 'name', 'agent')}:{uuid.uuid4().hex}"
    async with hook.task(key, tenant_id=tenant_id, user_id=user_id, correlation_id=correlation_id) as scope:
        ctx = scope.context
        hook.emit_to(ctx, EventKind.AGENTCHAT_EVENT, {"__type__": "Task", "content": task})
        token = standalone_task.set(ctx)
        try:
            result = await agent.run(task=task, **run_kwargs)
        finally:
            standalone_task.reset(token)
        for message in getattr(result, "messages", []):
            hook.emit_to(ctx, EventKind.AGENTCHAT_EVENT, message)
        scope.record_result(result)
    return result
