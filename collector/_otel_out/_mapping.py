"""A redacted EventRecord -> the name, kind and attributes of its span (GenAI conventions where they fit)."""

from __future__ import annotations

from opentelemetry.trace import SpanKind

from .._events import EventKind, EventRecord

Attrs = dict[str, str | int | float | bool]


def span_shape(rec: EventRecord, content_chars: int) -> tuple[str, SpanKind, Attrs]:
    attrs: Attrs = {
        "tenant.id": rec.tenant_id,
        "correlation.id": rec.correlation_id,
        "audit.event_id": rec.event_id,
        "audit.kind": rec.kind,
        "audit.seq": rec.seq,
        "audit.redaction_status": rec.redaction_status,
    }
    if rec.message_type:
        attrs["audit.message_type"] = rec.message_type
    if rec.sender:
        attrs["gen_ai.agent.name"] = rec.sender
    if rec.team_id:
        attrs["audit.team_id"] = rec.team_id
    # Content and errors come from the redacted payload; a failed redaction stores a placeholder.
    if content_chars and rec.content and rec.redaction_status == "ok":
        attrs["audit.content"] = rec.content[:content_chars]
    if rec.is_error and rec.error:
        # The error's text is content: with content off, only what failed (its message type).
        attrs["error.type"] = rec.error[:256] if content_chars else (rec.message_type or rec.kind)
    kind = rec.kind
    if kind == EventKind.LLM_CALL:
        attrs["gen_ai.operation.name"] = "chat"
        if rec.model:
            attrs["gen_ai.request.model"] = rec.model
        attrs["gen_ai.usage.input_tokens"] = rec.prompt_tokens
        attrs["gen_ai.usage.output_tokens"] = rec.completion_tokens
        return f"chat {rec.model}".strip(), SpanKind.CLIENT, attrs
    if kind == EventKind.TOOL_CALL:
        attrs["gen_ai.operation.name"] = "execute_tool"
        if rec.tool_name:
            attrs["gen_ai.tool.name"] = rec.tool_name
        return f"execute_tool {rec.tool_name}".strip(), SpanKind.INTERNAL, attrs
    if kind in (EventKind.SEND, EventKind.PUBLISH, EventKind.RESPONSE):
        destination = rec.recipient or rec.topic_type
        if destination:
            attrs["messaging.destination.name"] = destination
        attrs["messaging.operation.type"] = "send" if kind != EventKind.PUBLISH else "publish"
        return f"{kind} {destination}".strip(), SpanKind.PRODUCER, attrs
    return f"{kind} {rec.message_type}".strip(), SpanKind.INTERNAL, attrs


def task_span_name(team_type: str) -> str:
    return f"invoke_agent {team_type or 'task'}"
