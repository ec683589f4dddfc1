"""Typed, frozen records of what the hook captured and what the pipeline stores."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, NamedTuple

from ._json_text import JsonSnapshot
from ._serialize import to_json_text


class EventKind(enum.StrEnum):
    """What an event is. The values are stored in ``events.kind`` and are a stable interface."""

    TASK_START = "task_start"
    TASK_RESULT = "task_result"
    TASK_ERROR = "task_error"
    TASK_UNFINISHED = "task_unfinished"
    SEND = "send"
    PUBLISH = "publish"
    RESPONSE = "response"
    LLM_CALL = "llm_call"
    LLM_STREAM_START = "llm_stream_start"
    LLM_STREAM_END = "llm_stream_end"
    TOOL_CALL = "tool_call"
    MESSAGE_DROPPED = "message_dropped"
    HANDLER_EXCEPTION = "handler_exception"
    AGENT_CONSTRUCTION_EXCEPTION = "agent_construction_exception"
    RUNTIME_EVENT = "runtime_event"
    AGENTCHAT_EVENT = "agentchat_event"
    CUSTOM = "custom"
    LOSS = "loss"


@dataclass(frozen=True, slots=True)
class TaskRef:
    """Who a captured event belongs to."""

    tenant_id: str
    correlation_id: str
    user_id: str = ""
    team_id: str = ""
    team_type: str = ""


class CapturedEvent(NamedTuple):
    """One event as the hook saw it: references to raw objects, not yet serialized or redacted.

    It lives only in memory between the hook and the pipeline worker; it is never written.
    A NamedTuple rather than a frozen dataclass: it is built on the runtime's dispatch loop,
    where a tuple costs a fraction of a dataclass __init__.
    """

    gseq: int  # process-wide capture order; with the hook's id prefix it makes the event id
    task: TaskRef
    seq: int
    ts_ns: int
    kind: EventKind
    payload: Any
    sender: Any = None  # AgentId, "type/key" string, or None; formatted on the worker
    recipient: Any = None
    topic_type: str = ""
    topic_source: str = ""
    duration_ns: int = 0
    # Set only for events that arrive from another process (a remote hook, OTLP): the id its
    # origin gave it, so a retried delivery yields the same row id and is deduplicated.
    event_id: str = ""


_new_object = object.__new__


def snapshot_event(event: CapturedEvent, *, max_depth: int, max_chars: int) -> CapturedEvent:
    """The event with its payload as JSON text (unchanged if it already is), so the message objects
    it held can be freed: held objects are rescanned by the app's garbage collector."""
    payload = event[5]
    if isinstance(payload, JsonSnapshot):
        return event
    # object.__new__ and a slot write: JsonSnapshot(...) would run a Python-level __init__ per event.
    snapshot = _new_object(JsonSnapshot)
    snapshot.text = to_json_text(payload, max_depth=max_depth, max_chars=max_chars)
    # tuple.__new__ with the fields in order: NamedTuple._replace costs more than small payloads' JSON.
    return tuple.__new__(CapturedEvent, (*event[:5], snapshot, *event[6:]))


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A serialized, redacted event: one row of ``events``. Only this shape is ever written."""

    event_id: str
    tenant_id: str
    correlation_id: str
    seq: int
    ts_ns: int
    kind: str
    user_id: str
    team_id: str
    team_type: str
    sender: str
    recipient: str
    topic_type: str
    topic_source: str
    message_type: str
    message_id: str
    source: str
    content: str
    payload: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    tool_name: str
    duration_ms: float
    is_error: bool
    error: str
    redaction: dict[str, int]
    redaction_status: str
    policy_version: str
    truncated: bool
    content_chars: int
    # Hash chain (issue #8, docs/integrity.md): set by the integrity processor, empty when unchained.
    chain_seq: int = 0
    chain_prev: str = ""
    chain_hash: str = ""
    chain_status: str = ""


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A version of one row of ``tasks``: opened at start, replaced when the task ends."""

    tenant_id: str
    correlation_id: str
    user_id: str
    team_id: str
    team_type: str
    started_ns: int
    finished_ns: int | None
    status: str
    stop_reason: str
    message_count: int
    prompt_tokens: int
    completion_tokens: int
    error: str
    lost_events: int
    version: int
