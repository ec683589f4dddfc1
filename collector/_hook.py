"""AuditHook: the one runtime hook an app adds.

It is an autogen_core InterventionHandler awaited inline on the runtime's single dispatch
loop, so every method here returns the original message unchanged, never raises, never drops,
and does no I/O, serialization or redaction: it stamps the event and enqueues it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from collections.abc import Callable
from typing import Any, Protocol

from autogen_core import AgentId, DefaultInterventionHandler, DropMessage, MessageContext

from ._attribution import Attribution, TaskContext, metadata_ref, new_correlation_id
from ._events import CapturedEvent, EventKind, TaskRef
from ._log_capture import EventLogCapture, attach
from ._none_response import silence_none_response_warning
from ._scope import TaskScope, result_payload
from ._settings import AuditSettings
from ._standalone import standalone_task

log = logging.getLogger("collector")


# Hot-path constants: a module global is cheaper to read than an enum member, and tuple.__new__
# skips the Python-level __new__ of a NamedTuple (every field is passed, in order).
_SEND, _PUBLISH, _RESPONSE = EventKind.SEND, EventKind.PUBLISH, EventKind.RESPONSE
_new_event = tuple.__new__
_TIMED_KINDS = frozenset({EventKind.LLM_CALL, EventKind.TOOL_CALL, EventKind.LLM_STREAM_END})


class EventSink(Protocol):
    """Where captured events go: the in-process pipeline, or a client of a remote sidecar."""

    def submit(self, event: CapturedEvent) -> bool: ...

    def flush(self, timeout: float) -> bool: ...

    def shutdown(self, timeout: float) -> bool: ...

    def stats(self) -> Any: ...


class AuditHook(DefaultInterventionHandler):
    """Capture every message and runtime event, attributed to its tenant and task."""

    def __init__(self, sink: EventSink, settings: AuditSettings | None = None) -> None:
        self.settings = settings or AuditSettings()
        self.sink = sink
        self._submit = sink.submit
        self._attribution = Attribution(self.settings.source_pattern, self.settings.unattributed_tenant)
        self._live = self._attribution.live
        self._gseq = itertools.count()
        self.errors = 0
        self._closed = False
        self._on_close: list[Callable[[], None]] = []
        self._log_capture = EventLogCapture(self._on_log_event)
        self._detach_logs = attach(self._log_capture) if self.settings.capture_loggers else None

    @classmethod
    def from_env(cls, **overrides: Any) -> AuditHook:
        """Build the hook from AUDIT_* variables: in-process pipeline into AUDIT_STORE_DSN."""
        from ._factory import build_pipeline, build_sink
        from ._store._client import Store

        settings = AuditSettings(**overrides)
        if settings.sidecar_url:
            return cls(build_sink(settings), settings)
        store = Store.open(settings.store_dsn)
        try:
            hook = cls(build_pipeline(settings, store=store), settings)
        except BaseException:
            store.close()
            raise
        # The hook opened the store, so aclose() releases it (chDB serves one path per process).
        hook._on_close.append(store.close)
        return hook

    # -- tasks ----------------------------------------------------------------------------
    def task(
        self,
        target: Any,
        *,
        tenant_id: str,
        user_id: str = "",
        correlation_id: str | None = None,
    ) -> TaskScope:
        """Open a task for an AgentChat team (keyed by its team id) or a Core topic source / agent key."""
        if isinstance(target, str):
            key, team_type = target, "core"
        else:
            key = str(getattr(target, "_team_id", "") or "")
            if not key:
                raise TypeError("hook.task() takes an AgentChat team or a topic source / agent key string")
            team_type = type(target).__name__
        ref = TaskRef(
            tenant_id=str(tenant_id),
            correlation_id=correlation_id or new_correlation_id(),
            user_id=str(user_id),
            team_id=key,
            team_type=team_type,
        )
        ctx = self._attribution.register(key, ref)
        self.emit_to(ctx, EventKind.TASK_START, _start_payload(ref, "hook.task"))
        return TaskScope(self, ctx)

    def core_task(
        self, source: str, *, tenant_id: str, user_id: str = "", correlation_id: str | None = None
    ) -> TaskScope:
        """``hook.task`` for plain Core apps: events whose topic source or agent key is ``source``."""
        return self.task(source, tenant_id=tenant_id, user_id=user_id, correlation_id=correlation_id)

    def release(self, ctx: TaskContext) -> None:
        self._attribution.unregister(ctx)

    # -- InterventionHandler --------------------------------------------------------------
    # The three handlers below run inline on the dispatch loop for every message. They build the
    # event tuple in place and keep AgentId objects raw (formatted later, on the worker): each
    # attribute lookup or f-string here is paid by every agent message.
    async def on_send(
        self, message: Any, *, message_context: MessageContext, recipient: AgentId
    ) -> Any | type[DropMessage]:
        try:
            key = recipient.key
            ctx = self._live.get(key) or self._resolve(key, message, recipient.type)
            now = time.time_ns()
            self._submit(
                _new_event(
                    CapturedEvent,
                    (
                        next(self._gseq),
                        ctx.ref,
                        next(ctx.seq),
                        now,
                        _SEND,
                        message,
                        message_context.sender,
                        recipient,
                        "",
                        "",
                        0,
                        "",
                    ),
                )
            )
            ctx.activity[recipient.type] = now
        except Exception:  # noqa: BLE001 - the hook must never break the runtime
            self.errors += 1
        return message

    async def on_publish(self, message: Any, *, message_context: MessageContext) -> Any | type[DropMessage]:
        try:
            topic = message_context.topic_id
            if topic is not None:
                key = topic.source
                topic_type = topic.type
                ctx = self._live.get(key) or self._resolve(key, message, topic_type)
                now = time.time_ns()
                self._submit(
                    _new_event(
                        CapturedEvent,
                        (
                            next(self._gseq),
                            ctx.ref,
                            next(ctx.seq),
                            now,
                            _PUBLISH,
                            message,
                            message_context.sender,
                            None,
                            topic_type,
                            key,
                            0,
                            "",
                        ),
                    )
                )
                # AgentChat addresses a participant through a topic named like its agent type.
                ctx.activity[topic_type] = now
                if ctx.auto_close and type(message).__name__ == "GroupChatTermination":
                    self._maybe_close_implicit(ctx, message)
        except Exception:  # noqa: BLE001 - the hook must never break the runtime
            self.errors += 1
        return message

    async def on_response(self, message: Any, *, sender: AgentId, recipient: AgentId | None) -> Any | type[DropMessage]:
        try:
            if message is None:
                silence_none_response_warning()
            key = sender.key
            ctx = self._live.get(key) or self._attribution.lookup(key)
            self._submit(
                _new_event(
                    CapturedEvent,
                    (
                        next(self._gseq),
                        ctx.ref,
                        next(ctx.seq),
                        time.time_ns(),
                        _RESPONSE,
                        message,
                        sender,
                        recipient,
                        "",
                        "",
                        0,
                        "",
                    ),
                )
            )
        except Exception:  # noqa: BLE001 - the hook must never break the runtime
            self.errors += 1
        return message

    # -- capture --------------------------------------------------------------------------
    def _emit(
        self,
        ctx: TaskContext,
        kind: EventKind,
        payload: Any,
        sender: str = "",
        recipient: str = "",
        topic_type: str = "",
        topic_source: str = "",
        duration_ns: int = 0,
    ) -> None:
        event = CapturedEvent(
            next(self._gseq),
            ctx.ref,
            next(ctx.seq),
            time.time_ns(),
            kind,
            payload,
            sender,
            recipient,
            topic_type,
            topic_source,
            duration_ns,
        )
        self._submit(event)

    def emit_to(self, ctx: TaskContext, kind: EventKind, payload: Any) -> None:
        """Record an event for a task from app code (anchors and custom events). Never raises."""
        try:
            self._emit(ctx, kind, payload)
        except Exception:  # noqa: BLE001
            self.errors += 1

    def record_routed(
        self,
        key: str,
        kind: EventKind,
        payload: Any,
        *,
        sender: str = "",
        recipient: str = "",
        topic_type: str = "",
        topic_source: str = "",
    ) -> None:
        """Record an event attributed as the intervention handlers attribute theirs, by its topic
        source or agent key: for runtimes that take no intervention handler (the audited gRPC
        worker's deliveries). Never raises."""
        try:
            ctx = self._live.get(key) or self._attribution.lookup(key)
            self._emit(ctx, kind, payload, sender, recipient, topic_type, topic_source)
        except Exception:  # noqa: BLE001 - auditing must never break delivery
            self.errors += 1

    def _on_log_event(self, kind: EventKind, agent: str, payload: Any) -> None:
        agent_type, _, key = agent.partition("/")
        ctx = self._live.get(key) or (None if agent else standalone_task.get()) or self._attribution.lookup(key)
        now = time.time_ns()
        duration = 0
        if agent and kind in _TIMED_KINDS:
            # Latency of an LLM or tool call: time since this agent's previous activity (the
            # request that started its turn, or its previous call), stamped at the call's end.
            activity = ctx.activity
            last = activity.get(agent_type)
            duration = now - last if last else 0
            activity[agent_type] = now
        self._emit(ctx, kind, payload, agent, "", "", "", duration)

    def _resolve(self, key: str, message: Any, agent_type: str) -> TaskContext:
        """Slow path for a key no live task claims: task-message metadata, then conventions."""
        if type(message).__name__ == "GroupChatStart":
            team_type = agent_type.removesuffix(f"_{key}").removesuffix("Manager")
            ref = metadata_ref(getattr(message, "messages", None), key, team_type)
            if ref is not None:
                ctx = self._attribution.register(key, ref, auto_close=True)
                self.emit_to(ctx, EventKind.TASK_START, _start_payload(ref, "metadata"))
                return ctx
        return self._attribution.lookup(key)

    def _maybe_close_implicit(self, ctx: TaskContext, message: Any) -> None:
        """A metadata-attributed task has no `async with`: its end is the team's termination."""
        if self._attribution.live.get(ctx.key) is not ctx:
            return
        stop = getattr(getattr(message, "message", None), "content", None)
        payload = result_payload(None)
        payload["stop_reason"] = stop
        self.emit_to(ctx, EventKind.TASK_RESULT, payload)
        self._attribution.unregister(ctx)

    # -- lifecycle ------------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> bool:
        return self.sink.flush(self.settings.flush_timeout_s if timeout is None else timeout)

    def mark_unfinished(self, reason: str) -> int:
        """Record every still-open task as unfinished (synchronous: usable from a signal handler)."""
        open_tasks = list(self._attribution.live.values())
        for ctx in open_tasks:
            self.emit_to(ctx, EventKind.TASK_UNFINISHED, {"__type__": "TaskUnfinished", "reason": reason})
            self._attribution.unregister(ctx)
        return len(open_tasks)

    def install_signal_handlers(self, deadline_s: float | None = None) -> Callable[[], None]:
        """On SIGTERM/SIGINT: mark open tasks unfinished, drain the queue into the spool and flush what
        the store accepts within the deadline, then let the signal do what it did before. Main thread
        only; returns a function that restores the previous handlers."""
        from ._signals import install_signal_handlers

        deadline = getattr(self.settings, "shutdown_deadline_s", 10.0) if deadline_s is None else deadline_s

        def before_drain() -> None:
            self.mark_unfinished("signal")

        return install_signal_handlers(self.sink, deadline, before_drain=before_drain)

    async def aclose(self, timeout: float | None = None) -> bool:
        """Flush everything accepted and stop the pipeline. Returns whether all of it was written."""
        if self._closed:
            return True
        self._closed = True
        if self._detach_logs is not None:
            self._detach_logs()
        self.mark_unfinished("hook closed")
        deadline = self.settings.flush_timeout_s if timeout is None else timeout
        complete = await asyncio.to_thread(self.sink.shutdown, deadline)
        for close in self._on_close:
            await asyncio.to_thread(close)
        return complete


def _start_payload(ref: TaskRef, via: str) -> dict[str, Any]:
    return {
        "__type__": "TaskStart",
        "tenant_id": ref.tenant_id,
        "user_id": ref.user_id,
        "team_type": ref.team_type,
        "attributed_by": via,
        "pid": os.getpid(),
    }
