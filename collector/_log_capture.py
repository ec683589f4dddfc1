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

# What a tapped call hands on: (logger name, level, the logged object, its args, the AgentId whose
# handler is running or None). Classifying it and formatting the agent wait for the replay.
Sink = Callable[[str, int, Any, tuple[Any, ...], Any], None]
# The context variable behind MessageHandlerContext.agent_id(), read with a default: the public
# call raises (and chains) a RuntimeError outside a handler, and costs a classmethod call inside one.
_HANDLER_AGENT: Any = getattr(MessageHandlerContext, "_MESSAGE_HANDLER_CONTEXT", None)


def _handler_agent() -> Any:
    """The AgentId whose handler is running, or None outside any handler."""
    if _HANDLER_AGENT is not None:
        return _HANDLER_AGENT.get(None)
    try:  # an autogen-core without that variable: the public call
        return MessageHandlerContext.agent_id()
    except RuntimeError:
        return None


class EventLogCapture:
    """Hands an event logger call to the sink with the running agent, and nothing more: it runs on
    the dispatch loop, inline in the agent's code. It never raises."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self.errors = 0

    def capture(self, logger_name: str, level: int, message: Any, args: tuple[Any, ...]) -> None:
        try:
            self._sink(logger_name, level, message, args, _handler_agent())
        except Exception:  # noqa: BLE001 - logging must never break the agent that logged
            self.errors += 1


def classify(
    logger_name: str, level: int, message: Any, args: tuple[Any, ...], agent: Any
) -> tuple[EventKind, str, Any] | None:
    """(kind, 'type/key' of the agent, payload) of a captured logger call, or None for one that is
    not stored (the runtime's per-message MessageEvent). Runs in the replay, off the dispatch loop."""
    type_name = type(message).__name__
    if type_name in _SKIPPED_TYPES:
        return None
    kind = _KIND_BY_TYPE.get(type_name)
    if kind is None:
        kind = EventKind.AGENTCHAT_EVENT if logger_name.startswith(AGENTCHAT_EVENTS) else EventKind.RUNTIME_EVENT
    payload: Any = message
    if isinstance(message, str):
        try:
            text = message % args if args else message
        except Exception:  # noqa: BLE001 - a bad format string is the app's bug, not a reason to lose the event
            text = message
        payload = {"__type__": "LogRecord", "level": logging.getLevelName(level), "message": text}
    return kind, str(agent) if agent is not None else _agent_from_event(message), payload


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

    # Logger's own cache of isEnabledFor(level), cleared in place whenever levels change. Most
    # calls are the runtime's MessageEvent at INFO, which apps rarely enable: when the cache
    # already says the level is off, there is nothing to log and the call ends here. (The tap
    # runs inline in the agent's code, on every message; this halves what it costs there.)
    enabled = getattr(logger, "_cache", None)
    if not isinstance(enabled, dict):
        enabled = {}

    def tapped(msg: Any, *args: Any, **kwargs: Any) -> None:
        if type(msg) is MessageEvent:  # not stored (the intervention handler saw the message)
            if enabled.get(level) is not False:
                logged(logger, msg, *args, **kwargs)
            return
        for capture in _CAPTURES:
            capture.capture(name, level, msg, args)
        logged(logger, msg, *args, **kwargs)

    return tapped


def attach(capture: EventLogCapture) -> Callable[[], None]:
    """Tap both event loggers for this capture; returns a function that removes it. Attaching a
    capture that is already attached changes nothing (each call would otherwise be captured twice),
    and the function it returns leaves the tap to the attach that made it."""
    if capture in _CAPTURES:
        return lambda: None
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
