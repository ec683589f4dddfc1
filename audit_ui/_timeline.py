"""Turns stored events into what the timeline shows: gaps, highlights, tool calls, the result.

Nothing here builds HTML: templates autoescape every string this returns.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ._queries import EventRow, TaskRow

# A redacted span as the redactor writes it, e.g. <EMAIL_ADDRESS> or <PERSON>.
_REDACTED = re.compile(r"<[A-Z][A-Z0-9_]{1,48}>")
_UUID = re.compile(r"([0-9a-f]{8})(?:-?[0-9a-f]{4}){3}-?[0-9a-f]{12}")
ERROR_KINDS = frozenset({"task_error", "handler_exception", "agent_construction_exception", "loss"})
DROP_KINDS = frozenset({"message_dropped"})


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    redacted: bool


@dataclass(frozen=True, slots=True)
class ToolCall:
    name: str
    arguments: str
    result: str
    is_error: bool


@dataclass(frozen=True, slots=True)
class FinalMessage:
    source: str
    type: str
    content: str
    tokens: int


@dataclass(frozen=True, slots=True)
class TimelineItem:
    event: EventRow
    since_start_ms: float
    since_prev_ms: float
    tone: str  # "", "error" or "drop"
    tool_calls: list[ToolCall]


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    stop_reason: str
    messages: list[FinalMessage]


def segments(text: str) -> list[Segment]:
    """Split text so redacted spans can be styled; the template escapes every piece."""
    out: list[Segment] = []
    pos = 0
    for match in _REDACTED.finditer(text):
        if match.start() > pos:
            out.append(Segment(text[pos : match.start()], False))
        out.append(Segment(match.group(0), True))
        pos = match.end()
    if pos < len(text):
        out.append(Segment(text[pos:], False))
    return out


def short_ids(name: str) -> str:
    """Agent ids carry team UUIDs twice; the first 8 hex digits tell them apart on screen."""
    return _UUID.sub(r"\1…", name)


def pretty_json(raw: str) -> str:
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except (ValueError, TypeError):
        return raw


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def tool_calls(event: EventRow) -> list[ToolCall]:
    """Tool calls named in an event's payload: Core ToolCallEvent or agentchat tool-call events."""
    if not event.payload.startswith(("{", "[")):
        return []
    try:
        data = json.loads(event.payload)
    except ValueError:
        return []
    if not isinstance(data, dict):
        return []
    if event.tool_name or ("arguments" in data and "result" in data):
        return [
            ToolCall(
                event.tool_name or _text(data.get("tool_name", data.get("name", ""))),
                _text(data.get("arguments", "")),
                _text(data.get("result", "")),
                event.is_error,
            )
        ]
    calls = data.get("content")
    if not isinstance(calls, list):
        return []
    found = []
    for item in calls:
        if isinstance(item, dict) and ("arguments" in item or "call_id" in item):
            found.append(
                ToolCall(
                    _text(item.get("name", "")),
                    _text(item.get("arguments", "")),
                    _text(item.get("content", "")) if "call_id" in item else "",
                    bool(item.get("is_error", False)),
                )
            )
    return found


def build(events: list[EventRow], task: TaskRow) -> list[TimelineItem]:
    items: list[TimelineItem] = []
    start = task.started_at
    prev = start
    for event in events:
        tone = "error" if event.is_error or event.kind in ERROR_KINDS else ""
        if event.kind in DROP_KINDS:
            tone = "drop"
        items.append(
            TimelineItem(
                event,
                (event.ts - start).total_seconds() * 1000,
                (event.ts - prev).total_seconds() * 1000,
                tone,
                tool_calls(event),
            )
        )
        prev = event.ts
    return items


def outcome(events: list[EventRow]) -> TaskOutcome | None:
    """The TaskResult recorded at the end of the task, if any."""
    for event in reversed(events):
        if event.kind != "task_result":
            continue
        try:
            data = json.loads(event.payload)
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        messages = []
        for m in data.get("messages") or []:
            if not isinstance(m, dict):
                continue
            usage = m.get("models_usage") or {}
            tokens = 0
            if isinstance(usage, dict):
                tokens = int(usage.get("prompt_tokens") or 0) + int(usage.get("completion_tokens") or 0)
            messages.append(FinalMessage(_text(m.get("source", "")), _text(m.get("type", "")),
                                         _text(m.get("content", "")), tokens))  # fmt: skip
        return TaskOutcome(_text(data.get("stop_reason") or ""), messages)
    return None


def fmt_ms(ms: float) -> str:
    if ms < 1000:
        return f"+{ms:.0f} ms"
    if ms < 60_000:
        return f"+{ms / 1000:.2f} s"
    return f"+{ms / 60_000:.1f} min"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.2f} s"
    return f"{seconds / 60:.1f} min"
