"""TaskScope: the `async with hook.task(...)` handle that anchors a task's start and end."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._attribution import TaskContext
from ._events import EventKind

if TYPE_CHECKING:
    from ._hook import AuditHook


def result_payload(result: Any) -> dict[str, Any]:
    """The TaskResult anchor: stop_reason, messages, and the counts the tasks row keeps."""
    messages = list(getattr(result, "messages", None) or [])
    prompt = completion = 0
    for message in messages:
        usage = getattr(message, "models_usage", None)
        if usage is not None:
            prompt += int(getattr(usage, "prompt_tokens", 0) or 0)
            completion += int(getattr(usage, "completion_tokens", 0) or 0)
    return {
        "__type__": "TaskResult",
        "stop_reason": getattr(result, "stop_reason", None),
        "message_count": len(messages),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "messages": messages,
    }


class TaskScope:
    """One task's lifetime on the hook. Use as ``async with`` (or plain ``with``)."""

    def __init__(self, hook: AuditHook, ctx: TaskContext) -> None:
        self._hook = hook
        self._ctx = ctx
        self._ended = False

    @property
    def context(self) -> TaskContext:
        """The task's context, for ``hook.emit_to``."""
        return self._ctx

    @property
    def correlation_id(self) -> str:
        return self._ctx.ref.correlation_id

    @property
    def tenant_id(self) -> str:
        return self._ctx.ref.tenant_id

    @property
    def user_id(self) -> str:
        return self._ctx.ref.user_id

    def record_result(self, result: Any) -> None:
        """Anchor the end of the task on its AgentChat TaskResult (stop_reason, messages)."""
        self._hook.emit_to(self._ctx, EventKind.TASK_RESULT, result_payload(result))
        self._ended = True

    def record_event(self, kind: str, **attrs: Any) -> None:
        """Add an app event to the timeline (a retry, an alert, a human approval...)."""
        self._hook.emit_to(self._ctx, EventKind.CUSTOM, {"__type__": "CustomEvent", "event": kind, "attrs": attrs})

    def __enter__(self) -> TaskScope:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(exc)

    async def __aenter__(self) -> TaskScope:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(exc)

    def close(self, exc: BaseException | None = None) -> None:
        """End the task: an exception marks it error, no result marks it unfinished."""
        if exc is not None:
            self._hook.emit_to(
                self._ctx,
                EventKind.TASK_ERROR,
                {"__type__": "TaskError", "error_type": type(exc).__name__, "error": str(exc)},
            )
        elif not self._ended:
            self._hook.emit_to(self._ctx, EventKind.TASK_UNFINISHED, {"__type__": "TaskUnfinished"})
        self._ended = True
        self._hook.release(self._ctx)
