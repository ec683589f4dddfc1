"""Capture the runtime's event loggers (LLM calls, tool calls, drops, handler exceptions).

The two event loggers are *tapped*, not given a handler: their ``debug``/``info``/``warning``/
``error`` methods are wrapped on the logger instances so that each call hands its event object to
the hook before logging proceeds exactly as the app configured it. Why not a logging handler:
a handler only sees records the logger level lets through, so capture would need INFO/DEBUG
enabled, and then the runtime's per-message ``MessageEvent`` logs (several per agent message) each
build a full LogRecord only to be thrown away, and the enabled records would reach the app's own
handlers with raw content in them. The tap builds no record, changes no level, and
``detach()`` removes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from autogen_core import MessageHandlerContext
from autogen_core.logging import MessageEvent

from ._events import EventKind

CORE_EVENTS = "autogen_core.events"
AGENTCHAT_EVENTS = "autogen_agentchat.events"
_TAPPED_METHODS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}

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
    try:
        return str(MessageHandlerContext.agent_id())
    except RuntimeError:
        return ""


class EventLogCapture:
    """Turns an event logger call into a captured event. It never raises."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self.errors = 0

    def capture(self, logger_name: str, level: int, message: Any, args: tuple[Any, ...]) -> None:
        try:
            type_name = type(message).__name__
            if type_name in _SKIPPED_TYPES:
                return
            kind = _KIND_BY_TYPE.get(type_name)
            if kind is None:
                from_agentchat = logger_name.startswith(AGENTCHAT_EVENTS)
                kind = EventKind.AGENTCHAT_EVENT if from_agentchat else EventKind.RUNTIME_EVENT
            payload: Any = message
            if isinstance(message, str):
                text = message % args if args else message
                payload = {"__type__": "LogRecord", "level": logging.getLevelName(level), "message": text}
            agent = current_agent() or _agent_from_event(message)
            self._sink(kind, agent, payload)
        except Exception:  # noqa: BLE001 - logging must never break the agent that logged
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


# Every live hook's capture. One tap per logger method fans out to all of them, so hooks can be
# opened and closed in any order (tests and benchmarks run several in one process).
_CAPTURES: list[EventLogCapture] = []


def _tap(logger: logging.Logger, method: str, level: int) -> Callable[..., None]:
    logged = getattr(logging.Logger, method)  # the class method: logs exactly as the app configured
    name = logger.name

    def tapped(msg: Any, *args: Any, **kwargs: Any) -> None:
        if type(msg) is not MessageEvent:  # most calls: skipped without a call per capture
            for capture in _CAPTURES:
                capture.capture(name, level, msg, args)
        logged(logger, msg, *args, **kwargs)

    return tapped


def attach(capture: EventLogCapture) -> Callable[[], None]:
    """Tap both event loggers for this capture; returns a function that removes it."""
    if not _CAPTURES:
        for name in (CORE_EVENTS, AGENTCHAT_EVENTS):
            logger = logging.getLogger(name)
            for method, level in _TAPPED_METHODS.items():
                setattr(logger, method, _tap(logger, method, level))
    _CAPTURES.append(capture)

    def detach() -> None:
        if capture in _CAPTURES:
            _CAPTURES.remove(capture)
        if not _CAPTURES:
            for name in (CORE_EVENTS, AGENTCHAT_EVENTS):
                for method in _TAPPED_METHODS:
                    logging.getLogger(name).__dict__.pop(method, None)

    return detach
