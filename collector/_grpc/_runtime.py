"""An audited GrpcWorkerAgentRuntime: the distributed runtime has no intervention handlers, so the
worker itself reports what passes through it to an AuditHook.

Captured on each worker: its sends (SEND) and the responses they get back on the responder
(RESPONSE), its publishes (PUBLISH), every delivery the host routes to one of its agents
(RUNTIME_EVENT with a ``Delivery`` payload), and the exception of a handler that raised on one
(HANDLER_EXCEPTION: this runtime logs no MessageHandlerExceptionEvent for the hook to capture).
Attribution is the hook's: a task opened on this worker's hook, else message metadata, else the
topic-source convention (``tenant-acme/<correlation id>``), which is what lets the events of one
task on several workers land on one task.
"""

from __future__ import annotations

import contextvars
from typing import Any, Literal

from autogen_core import AgentId, CancellationToken, MessageContext, TopicId
from autogen_core._agent import Agent
from autogen_ext.runtimes.grpc import GrpcWorkerAgentRuntime

from .._events import EventKind
from .._hook import AuditHook

Delivery = Literal["send", "publish"]
# Set while the worker dispatches a message from the host, so _get_agent hands out the probe.
_DELIVERING: contextvars.ContextVar[Delivery | None] = contextvars.ContextVar("audit_delivering", default=None)


class _DeliveryProbe:
    """Stands in for the recipient agent during one delivery: records it, then calls the agent."""

    def __init__(self, agent: Agent, hook: AuditHook, via: Delivery) -> None:
        self._agent = agent
        self._hook = hook
        self._via = via

    @property
    def id(self) -> AgentId:
        return self._agent.id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._agent, name)

    async def on_message(self, message: Any, ctx: MessageContext) -> Any:
        delivery = {"__type__": "Delivery", "delivery": self._via, "message_id": ctx.message_id, "message": message}
        _record(self._hook, self._agent.id, ctx, EventKind.RUNTIME_EVENT, delivery)
        _DELIVERING.set(None)  # the handler's own calls (this task's context) are not deliveries
        try:
            result = await self._agent.on_message(message, ctx)
        except Exception as exc:
            # The shape of autogen-core's MessageHandlerExceptionEvent (the message is in the delivery).
            failure = {
                "__type__": "MessageHandlerExceptionEvent", "type": "MessageHandlerException",
                "delivery": self._via, "message_id": ctx.message_id, "exception": str(exc),
                "exception_type": type(exc).__name__,
            }  # fmt: skip
            _record(self._hook, self._agent.id, ctx, EventKind.HANDLER_EXCEPTION, failure)
            raise
        if self._via == "send":
            await self._hook.on_response(result, sender=self._agent.id, recipient=ctx.sender)
        return result


def _record(hook: AuditHook, recipient: AgentId, ctx: MessageContext, kind: EventKind, payload: Any) -> None:
    """Record an event of a delivery to ``recipient``, attributed by its topic source or agent key."""
    try:
        topic = ctx.topic_id
        sender = "" if ctx.sender is None else f"{ctx.sender.type}/{ctx.sender.key}"
        hook.record_routed(
            topic.source if topic is not None else recipient.key,
            kind,
            payload,
            sender=sender,
            recipient=f"{recipient.type}/{recipient.key}",
            topic_type="" if topic is None else topic.type,
            topic_source="" if topic is None else topic.source,
        )
    except Exception:  # noqa: BLE001 - auditing must never break delivery
        hook.count_error()


class AuditedGrpcWorkerAgentRuntime(GrpcWorkerAgentRuntime):
    """``GrpcWorkerAgentRuntime`` that reports sends, publishes, deliveries and responses to ``hook``.

    Give each worker process its own hook. In one process with several workers, let only one hook
    capture the event loggers (``capture_loggers=False`` on the others), or log events repeat.
    """

    def __init__(self, host_address: str, *, hook: AuditHook, **kwargs: Any) -> None:
        super().__init__(host_address, **kwargs)
        self.audit_hook = hook

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        sender: AgentId | None = None,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> Any:
        context = MessageContext(
            sender=sender,
            topic_id=None,
            is_rpc=True,
            cancellation_token=cancellation_token or CancellationToken(),
            message_id=message_id or "",
        )
        await self.audit_hook.on_send(message, message_context=context, recipient=recipient)
        return await super().send_message(
            message, recipient, sender=sender, cancellation_token=cancellation_token, message_id=message_id
        )

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId,
        *,
        sender: AgentId | None = None,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> None:
        context = MessageContext(
            sender=sender,
            topic_id=topic_id,
            is_rpc=False,
            cancellation_token=cancellation_token or CancellationToken(),
            message_id=message_id or "",
        )
        await self.audit_hook.on_publish(message, message_context=context)
        await super().publish_message(
            message, topic_id, sender=sender, cancellation_token=cancellation_token, message_id=message_id
        )

    async def _process_request(self, request: Any) -> None:
        _DELIVERING.set("send")  # runs in its own task: the setting ends with it
        await super()._process_request(request)

    async def _process_event(self, event: Any) -> None:
        _DELIVERING.set("publish")
        await super()._process_event(event)

    async def _get_agent(self, agent_id: AgentId) -> Agent:
        agent = await super()._get_agent(agent_id)
        via = _DELIVERING.get()
        if via is None:
            return agent
        probe: Agent = _DeliveryProbe(agent, self.audit_hook, via)
        return probe
