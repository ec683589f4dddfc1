"""Capture the runtime's event loggers (LLM calls, tool calls, drops, handler exceptions)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ._events import EventKind

CORE_EVENTS = "autogen_core.events"
AGENTCHAT_EVENTS = "autogen_agentchat.events"

_KIND_BY_TYPE = {
    "LLMCallEvent": EventKind.LLM_CALL,
    "LLMStreamStartEvent": EventKind.LLM_STREAM_START,
    "LLMStreamEndEvent": EventKind.LLM_STREAM_END,
    "ToolCallEvent": EventKind.TOOL_CALL,
    "MessageDroppedEvent": EventKind.MESSAGE_DROPPED,
    "MessageHandlerExceptionEvent": EventKind.HANDLER_EXCEPTION,
    "AgentConstructionExceptionEvent": EventKind.AGENT_CONSTRUCTION_EXCEPTION,
}
# The runtime's per-message MessageEvent repeats what the intervention handler already saw.
_SKIPPED_TYPES = frozenset({"MessageEvent"})

Sink = Callable[[EventKind, str, Any], None]


def current_agent() -> str:
    """'type/key' of the agent whose handler is running, or '' outside any handler."""
    from autogen_core import MessageHandlerContext

    try:
        return str(MessageHandlerContext.agent_id())
    except RuntimeError:
        return ""


class EventLogCapture(logging.Handler):
    """A logging handler that forwards event records to the hook. It never raises."""

    def __init__(self, sink: Sink) -> None:
        super().__init__(level=logging.DEBUG)
        self._sink = sink
        self.errors = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.msg
            type_name = type(message).__name__
            if type_name in _SKIPPED_TYPES:
                return
            kind = _KIND_BY_TYPE.get(type_name)
            if kind is None:
                kind = (
                    EventKind.AGENTCHAT_EVENT if record.name.startswith(AGENTCHAT_EVENTS) else EventKind.RUNTIME_EVENT
                )
            payload: Any = message
            if isinstance(message, str):
                payload = {"__type__": "LogRecord", "level": record.levelname, "message": record.getMessage()}
            agent = current_agent() or _agent_from_event(message)
            self._sink(kind, agent, payload)
        except Exception:  # noqa: BLE001 - logging must never break the agent that logged
            self.errors += 1

    def handleError(self, record: logging.LogRecord) -> None:
        # The default prints a traceback with the record's (raw) message to stderr.
        self.errors += 1


def _agent_from_event(message: Any) -> str:
    kwargs = getattr(message, "kwargs", None)
    if not isinstance(kwargs, dict):
        return ""
    for field in ("agent_id", "handling_agent", "receiver", "sender"):
        value = kwargs.get(field)
        if value:
            return str(value)
    return ""


class _Forwarder(logging.Handler):
    """Passes on to the parent loggers only the records the app would have seen without us.

    To capture the event loggers we must enable them at INFO/DEBUG. Left to propagate, those
    records (whole prompts, with PII) would reach the app's own handlers, which never saw them
    before: a leak we would have caused. So propagation is off and this forwards only records at
    or above the level the app had configured.
    """

    def __init__(self, logger: logging.Logger, app_level: int) -> None:
        super().__init__(level=app_level)
        self._parent = logger.parent

    def emit(self, record: logging.LogRecord) -> None:
        parent = self._parent
        while parent is not None:  # what Logger.callHandlers does for a propagating logger
            for handler in parent.handlers:
                if record.levelno >= handler.level:
                    handler.handle(record)
            parent = parent.parent if parent.propagate else None


def attach(handler: EventLogCapture) -> Callable[[], None]:
    """Attach the handler to both event loggers; returns a function that detaches it."""
    restore: list[tuple[logging.Logger, int, bool, logging.Handler | None]] = []
    for name, level in ((CORE_EVENTS, logging.INFO), (AGENTCHAT_EVENTS, logging.DEBUG)):
        logger = logging.getLogger(name)
        app_level = logger.getEffectiveLevel()
        forwarder: logging.Handler | None = None
        if app_level > level and logger.propagate:
            forwarder = _Forwarder(logger, app_level)
            logger.addHandler(forwarder)
            logger.propagate = False
        restore.append((logger, logger.level, forwarder is not None, forwarder))
        if app_level > level:
            logger.setLevel(level)
        logger.addHandler(handler)

    def detach() -> None:
        for logger, old_level, stopped_propagation, forwarder in restore:
            logger.removeHandler(handler)
            if forwarder is not None:
                logger.removeHandler(forwarder)
            if stopped_propagation:
                logger.propagate = True
            logger.setLevel(old_level)

    return detach
