"""Pull the columns an auditor filters on out of a serialized (and redacted) payload.

AgentChat wraps the interesting part: GroupChatAgentResponse carries a Response whose
chat_message is what the agent said; GroupChatStart carries the task messages. We store the
inner chat message's source, type, text, usage and id, not only the wrapper's name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_WRAPPED_FIELDS = ("message", "chat_message", "response")


@dataclass(frozen=True, slots=True)
class Described:
    message_type: str = ""
    message_id: str = ""
    source: str = ""
    content: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""
    tool_name: str = ""
    is_error: bool = False
    error: str = ""


def describe(payload: Any) -> Described:
    """Columns for one event payload; never raises on odd shapes."""
    if not isinstance(payload, dict):
        return Described(content=_text(payload))
    wrapper = str(payload.get("__type__", ""))
    if wrapper in _LOG_EVENTS:
        return _LOG_EVENTS[wrapper](payload)
    if wrapper in _ANCHORS:
        return _ANCHORS[wrapper](payload)
    if wrapper == "GroupChatStart":
        messages = payload.get("messages") or []
        first = messages[0] if messages and isinstance(messages[0], dict) else {}
        inner = _inner(first)
        text = "\n".join(_text(m.get("content")) for m in messages if isinstance(m, dict))
        return _with(inner, message_type=str(first.get("__type__", wrapper)) or wrapper, content=text)
    if wrapper == "GroupChatTermination":
        inner = _inner(payload.get("message") or {})
        error = payload.get("error")
        return _with(inner, is_error=error is not None, error=_text(error) if error else "")
    if wrapper in ("GroupChatError",):
        return Described(message_type=wrapper, is_error=True, error=_text(payload.get("error")))
    node = payload
    for _ in range(3):  # GroupChatAgentResponse -> Response -> chat_message
        nested = next((node[f] for f in _WRAPPED_FIELDS if isinstance(node.get(f), dict)), None)
        if nested is None:
            break
        node = nested
    if node is payload and "content" not in payload:
        return Described(message_type=wrapper, content="")
    return _inner(node)


def _inner(message: dict[str, Any]) -> Described:
    usage = message.get("models_usage") or {}
    content = message.get("content")
    is_error = False
    if isinstance(content, list):  # tool call results carry is_error per call
        is_error = any(isinstance(c, dict) and c.get("is_error") for c in content)
    return Described(
        message_type=str(message.get("__type__") or message.get("type") or ""),
        message_id=str(message.get("id") or ""),
        source=str(message.get("source") or ""),
        content=_text(content),
        prompt_tokens=_int(usage.get("prompt_tokens")) if isinstance(usage, dict) else 0,
        completion_tokens=_int(usage.get("completion_tokens")) if isinstance(usage, dict) else 0,
        is_error=is_error,
    )


def _with(base: Described, **changes: Any) -> Described:
    fields = {name: getattr(base, name) for name in Described.__slots__}
    fields.update(changes)
    return Described(**fields)


def _llm_call(payload: dict[str, Any]) -> Described:
    response = payload.get("response") or {}
    model = ""
    if isinstance(response, dict):
        model = str(response.get("model") or "")
    return Described(
        message_type="LLMCall",
        content=_text(response.get("content") if isinstance(response, dict) else response),
        prompt_tokens=_int(payload.get("prompt_tokens")),
        completion_tokens=_int(payload.get("completion_tokens")),
        model=model or str(payload.get("model") or ""),
    )


def _tool_call(payload: dict[str, Any]) -> Described:
    result = _text(payload.get("result"))
    return Described(
        message_type="ToolCall",
        tool_name=str(payload.get("tool_name") or ""),
        content=f"{payload.get('tool_name', '')}({_text(payload.get('arguments'))}) -> {result}",
        is_error=result.startswith("Error") or '"is_error":true' in result.replace(" ", ""),
    )


def _exception(payload: dict[str, Any]) -> Described:
    return Described(
        message_type=str(payload.get("type") or payload.get("__type__")),
        is_error=True,
        error=_text(payload.get("exception")),
    )


def _dropped(payload: dict[str, Any]) -> Described:
    return Described(message_type="MessageDropped", is_error=True, error="message dropped by an intervention")


def _task_result(payload: dict[str, Any]) -> Described:
    return Described(message_type="TaskResult", content=_text(payload.get("stop_reason")))


def _task_error(payload: dict[str, Any]) -> Described:
    error = f"{payload.get('error_type', 'Error')}: {_text(payload.get('error'))}"
    return Described(message_type="TaskError", is_error=True, error=error, content=error)


def _custom(payload: dict[str, Any]) -> Described:
    return Described(message_type=str(payload.get("event") or "custom"), content=_text(payload.get("attrs")))


def _task_start(payload: dict[str, Any]) -> Described:
    return Described(message_type="TaskStart")


def _log_record(payload: dict[str, Any]) -> Described:
    return Described(message_type=f"log.{payload.get('level', '')}".lower(), content=_text(payload.get("message")))


def _task_unfinished(payload: dict[str, Any]) -> Described:
    return Described(message_type="TaskUnfinished", content=_text(payload.get("reason")))


_ANCHORS: dict[str, Callable[[dict[str, Any]], Described]] = {
    "TaskStart": _task_start,
    "TaskResult": _task_result,
    "TaskError": _task_error,
    "TaskUnfinished": _task_unfinished,
    "CustomEvent": _custom,
    "LogRecord": _log_record,
}

_LOG_EVENTS: dict[str, Callable[[dict[str, Any]], Described]] = {
    "LLMCallEvent": _llm_call,
    "LLMStreamEndEvent": _llm_call,
    "ToolCallEvent": _tool_call,
    "MessageHandlerExceptionEvent": _exception,
    "AgentConstructionExceptionEvent": _exception,
    "MessageDroppedEvent": _dropped,
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


# Token counts go to UInt32 columns: past it a count was stored wrapped around, and past UInt64 the
# client refused the whole batch's insert for good. Capped at the top, which says "absurd" plainly.
UINT32_MAX = 2**32 - 1


def _int(value: Any) -> int:
    try:
        return min(max(0, int(value)), UINT32_MAX)
    except (TypeError, ValueError, OverflowError):  # int(inf) raises OverflowError
        return 0
