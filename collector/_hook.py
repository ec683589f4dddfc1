"""AuditHook: the one runtime hook an app adds.

It is an autogen_core InterventionHandler awaited inline on the runtime's single dispatch
loop, so every method here returns the original message unchanged, never raises, never drops,
and does no I/O, serialization, redaction or even attribution: it stamps the time and appends
what it was given to the capture log, which the sink's worker replays off the loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from autogen_core import AgentId, DefaultInterventionHandler, DropMessage, MessageContext

from ._attribution import Attribution, TaskContext, new_correlation_id
from ._capture_log import EMIT as _EMIT
from ._capture_log import LOG as _LOG
from ._capture_log import REGISTER as _REGISTER
from ._capture_log import RELEASE as _RELEASE
from ._capture_log import ROUTED as _ROUTED
from ._capture_log import UNFINISH_ALL as _UNFINISH_ALL
from ._capture_log import CaptureLog, start_payload
from ._events import CapturedEvent, EventKind, TaskRef
from ._handlers import intervention_closures
from ._log_capture import EventLogCapture, attach
from ._safe_log import at_milestone
from ._scope import TaskScope
from ._settings import AuditSettings
from ._standalone import standalone_task

log = logging.getLogger("collector")


_now = time.time_ns
# How often the capture log's thread checks for a stalled sink worker (a log past its bound).
_STALL_CHECK_S = 0.1


class EventSink(Protocol):
    """Where captured events go: the in-process pipeline, or a client of a remote sidecar.

    A sink may also offer ``add_feeder(feed)``: its worker then calls ``feed`` (the hook's capture
    log replay, which submits) before each pass. Without it the hook replays on a thread of its own.
    """

    def submit(self, event: CapturedEvent) -> bool: ...

    def flush(self, timeout: float) -> bool: ...

    def shutdown(self, timeout: float) -> bool: ...

    def stats(self) -> Any: ...


class AuditHook(DefaultInterventionHandler):
    """Capture every message and runtime event, attributed to its tenant and task."""

    def __init__(self, sink: EventSink, settings: AuditSettings | None = None) -> None:
        self.settings = settings or AuditSettings()
        self.sink = sink
        attribution = Attribution(self.settings.source_pattern, self.settings.unattributed_tenant)
        self._log = CaptureLog(attribution, sink.submit, soft_max=self.settings.queue_max_events)
        self._append = self._log.append
        self._handler_errors = 0
        self.discarded_after_close = 0
        self._install_handlers(self._append)
        add_feeder = getattr(sink, "add_feeder", None)
        self._fed_by_sink = callable(add_feeder)
        if callable(add_feeder):
            add_feeder(self._log.drain)  # replayed by the sink's worker just before it snapshots
            self._log.start_thread(_STALL_CHECK_S, only_past_bound=True)
        else:
            self._log.start_thread(self.settings.snapshot_interval_s, only_past_bound=False)
        self._closed = False
        self._complete: bool | None = None  # what aclose() found; None until it has finished
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
        ctx = TaskContext(ref, key)
        self._append((_REGISTER, ctx))
        self.emit_to(ctx, EventKind.TASK_START, start_payload(ref, "hook.task"))
        return TaskScope(self, ctx)

    def core_task(
        self, source: str, *, tenant_id: str, user_id: str = "", correlation_id: str | None = None
    ) -> TaskScope:
        """``hook.task`` for plain Core apps: events whose topic source or agent key is ``source``."""
        return self.task(source, tenant_id=tenant_id, user_id=user_id, correlation_id=correlation_id)

    def release(self, ctx: TaskContext) -> None:
        self._append((_RELEASE, ctx))

    # -- InterventionHandler --------------------------------------------------------------
    # Instances run the closures of _handlers (installed in __init__): these methods are reached
    # only through a subclass that overrides a handler and calls super(). Attribution, sequence
    # numbers and serialization happen when the capture log is replayed, off the loop.
    async def on_send(
        self, message: Any, *, message_context: MessageContext, recipient: AgentId
    ) -> Any | type[DropMessage]:
        return await self._closures.on_send(message, message_context=message_context, recipient=recipient)

    async def on_publish(self, message: Any, *, message_context: MessageContext) -> Any | type[DropMessage]:
        return await self._closures.on_publish(message, message_context=message_context)

    async def on_response(self, message: Any, *, sender: AgentId, recipient: AgentId | None) -> Any | type[DropMessage]:
        return await self._closures.on_response(message, sender=sender, recipient=recipient)

    # -- capture --------------------------------------------------------------------------
    def emit_to(self, ctx: TaskContext, kind: EventKind, payload: Any) -> None:
        """Record an event for a task from app code (anchors and custom events). Never raises."""
        try:
            self._append((_EMIT, _now(), ctx, kind, payload))
        except Exception:  # noqa: BLE001
            self._handler_errors += 1

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
            self._append((_ROUTED, _now(), key, kind, payload, sender, recipient, topic_type, topic_source))
        except Exception:  # noqa: BLE001 - auditing must never break delivery
            self._handler_errors += 1

    def _on_log_event(self, logger_name: str, level: int, message: Any, args: tuple[Any, ...], agent: Any) -> None:
        # A standalone agent.run() has no runtime: its context var is readable only here, inline.
        standalone = None if agent is not None else standalone_task.get()
        self._append((_LOG, _now(), logger_name, level, message, args, agent, standalone))

    def count_error(self) -> None:
        """Count a capture that failed outside the hook (an audited runtime's own recording)."""
        self._handler_errors += 1

    @property
    def errors(self) -> int:
        """Captures that failed: in a handler (counted, the message went on) or in the replay."""
        return self._handler_errors + self._log.errors

    # -- lifecycle ------------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything captured before this call is written (the sink's flush)."""
        timeout = self.settings.flush_timeout_s if timeout is None else timeout
        if not self._fed_by_sink:
            self._log.drain(timeout)
        return self.sink.flush(timeout)

    def mark_unfinished(self, reason: str) -> None:
        """Record every still-open task as unfinished (synchronous: usable from a signal handler)."""
        self._append((_UNFINISH_ALL, _now(), reason))

    def _shutdown_sink(self, timeout: float) -> bool:
        """Replay what is left in the capture log, then shut the sink down (its own deadline)."""
        deadline = time.monotonic() + timeout
        self._stop_capturing()
        self._log.stop()
        drained = self._log.drain(timeout)
        if not drained:
            log.warning("collector: capture log not drained before shutdown; %d records left", len(self._log))
        return self.sink.shutdown(max(0.0, deadline - time.monotonic())) and drained

    def _stop_capturing(self) -> None:
        """From shutdown on nothing replays the log, and the app's runtime may go on running: the
        handlers (and the anchors) count what they are given and let it go, instead of growing the
        log forever."""
        self._append = self._discard
        self._install_handlers(self._discard)

    def _install_handlers(self, append: Callable[[tuple[Any, ...]], None]) -> None:
        """Handlers that append to ``append``. The runtime calls them for every message: as instance
        attributes, it finds the closures directly (see _handlers). A subclass that overrides a
        handler keeps its override, whose ``super()`` reaches ``self._closures``."""
        self._closures = intervention_closures(append, self.count_error)
        for name, handler in self._closures._asdict().items():
            if getattr(type(self), name) is getattr(AuditHook, name):
                self.__dict__[name] = handler

    def _discard(self, record: tuple[Any, ...]) -> None:
        self.discarded_after_close += 1
        n = self.discarded_after_close
        if at_milestone(n):
            log.warning("collector: the hook is closed; %d events offered since were not recorded", n)

    def install_signal_handlers(self, deadline_s: float | None = None) -> Callable[[], None]:
        """On SIGTERM/SIGINT: mark open tasks unfinished, drain the queue into the spool and flush what
        the store accepts within the deadline, then let the signal do what it did before. Main thread
        only; returns a function that restores the previous handlers."""
        from ._signals import install_signal_handlers

        deadline = getattr(self.settings, "shutdown_deadline_s", 10.0) if deadline_s is None else deadline_s

        def before_drain() -> None:
            self.mark_unfinished("signal")

        return install_signal_handlers(_ShutdownAdapter(self._shutdown_sink), deadline, before_drain=before_drain)

    async def aclose(self, timeout: float | None = None) -> bool:
        """Flush everything accepted and stop the pipeline. Returns whether all of it was written;
        a later call returns the same answer (False while the first is still at work)."""
        if self._closed:
            return bool(self._complete)
        self._closed = True
        if self._detach_logs is not None:
            self._detach_logs()
        self.mark_unfinished("hook closed")
        deadline = self.settings.flush_timeout_s if timeout is None else timeout
        complete = await asyncio.to_thread(self._shutdown_sink, deadline)
        for close in self._on_close:
            await asyncio.to_thread(close)
        self._complete = complete
        return complete


class _ShutdownAdapter:
    """What the signal handlers drain: the capture log, then the sink."""

    def __init__(self, shutdown: Callable[[float], bool]) -> None:
        self.shutdown = shutdown
