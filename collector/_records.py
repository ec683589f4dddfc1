"""Captured events -> redacted EventRecords. Runs on the pipeline worker, never on the runtime."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from ._describe import describe
from ._events import CapturedEvent, EventRecord
from ._json_text import JsonSnapshot
from ._serialize import SerializeReport, clean_str, dumps_bounded, from_json_text, to_jsonable, valid_utf8
from ._settings import AuditSettings

log = logging.getLogger("collector")


class RedactorLike(Protocol):
    """What the pipeline needs of redaction.Redactor (kept structural so tests can pass any engine)."""

    def redact_many(self, items: Sequence[tuple[str, Any]]) -> Sequence[Any]: ...


class BuiltEvent(NamedTuple):
    """A stored row and the redacted payload it was made from (the task tracker reads anchors)."""

    record: EventRecord
    payload: Any


class RecordBuilder:
    """Serializes, redacts and describes a batch of captured events."""

    def __init__(self, settings: AuditSettings, redactor: RedactorLike, id_prefix: str) -> None:
        self._settings = settings
        self._redactor = redactor
        self._id_prefix = id_prefix

    def event_id(self, event: CapturedEvent) -> str:
        if event.event_id:  # assigned by the event's origin process (remote hook, OTLP)
            return event.event_id
        if event.gseq < 0:  # synthetic events made by the pipeline (loss records)
            return f"{self._id_prefix}-loss-{-event.gseq:x}"
        return f"{self._id_prefix}-{event.gseq:012x}"

    def build(self, batch: Sequence[CapturedEvent]) -> list[BuiltEvent]:
        reports: list[SerializeReport] = []
        items: list[tuple[str, Any]] = []
        for event in batch:
            report = SerializeReport()
            try:
                payload = event.payload
                if isinstance(payload, JsonSnapshot):  # encoded promptly by the pipeline's snapshot stage
                    value = from_json_text(
                        payload.text,
                        max_depth=self._settings.max_depth,
                        max_chars=self._settings.max_field_chars,
                        report=report,
                    )
                else:
                    value = to_jsonable(
                        payload,
                        max_depth=self._settings.max_depth,
                        max_chars=self._settings.max_field_chars,
                        report=report,
                    )
            except Exception as exc:  # noqa: BLE001 - to_jsonable is total, but recursion limits are not
                value = {"__placeholder__": "unserializable", "reason": type(exc).__name__}
                report.placeholders.append("unserializable")
            reports.append(report)
            # Agent keys, topic sources and a Core task's key (its team_id) are the app's choice (a
            # user's id or email): redacted too. The usual ones (a team's uuid, "default") are
            # structural and skip analysis.
            items.append((event.task.tenant_id, {
                "payload": value, "topic_source": event.topic_source, "team_id": event.task.team_id,
                "topic_type": event.topic_type,
                "sender": agent_str(event.sender), "recipient": agent_str(event.recipient),
            }))  # fmt: skip
        outcomes = self._redact(items)
        return [
            self._record(event, outcome, report)
            for event, outcome, report in zip(batch, outcomes, reports, strict=True)
        ]

    def _redact(self, items: list[tuple[str, Any]]) -> Sequence[Any]:
        try:
            outcomes = self._redactor.redact_many(items)
            if len(outcomes) == len(items):
                return outcomes
            reason = "redaction failed: engine returned a short batch"
        except Exception as exc:  # noqa: BLE001 - fail closed for the whole batch, keep the events
            reason = f"redaction failed: {type(exc).__name__}"
        log.error("collector: %s; %d events stored as placeholders", reason, len(items))
        return [_FailedOutcome(reason) for _ in items]

    def _record(self, event: CapturedEvent, outcome: Any, report: SerializeReport) -> BuiltEvent:
        status = str(getattr(outcome, "status", "ok"))
        value = outcome.value if status == "ok" else None
        if isinstance(value, dict):
            payload, topic_source = value.get("payload"), str(value.get("topic_source") or "")
            sender, recipient = str(value.get("sender") or ""), str(value.get("recipient") or "")
            team_id = str(value.get("team_id") or "")
            topic_type = str(value.get("topic_type") or "")
        else:
            payload = {"__placeholder__": "redaction-failed", "reason": status}
            topic_source = "<withheld>" if event.topic_source else ""
            sender = "<withheld>" if agent_str(event.sender) else ""
            recipient = "<withheld>" if agent_str(event.recipient) else ""
            team_id = "<withheld>" if event.task.team_id else ""
            topic_type = "<withheld>" if event.topic_type else ""
        described = describe(payload)
        payload_text = dumps_bounded(payload, self._settings.max_payload_chars, report)
        content = clean_str(described.content, self._settings.max_field_chars, report)
        if status != "ok":
            content = f"<{status}>"
        ref = event.task
        # Every string column made valid UTF-8 (``valid_utf8``): ids and agent names are the app's
        # (a user id read from argv can hold a lone surrogate), and a row the store's client cannot
        # encode would hold its whole batch in the spool for ever.
        v = valid_utf8
        record = EventRecord(
            event_id=v(self.event_id(event)),
            tenant_id=v(ref.tenant_id),
            correlation_id=v(ref.correlation_id),
            seq=event.seq,
            ts_ns=event.ts_ns,
            kind=str(event.kind),
            user_id=v(ref.user_id),
            team_id=v(team_id),
            team_type=v(ref.team_type),
            sender=v(sender),
            recipient=v(recipient),
            topic_type=v(topic_type),
            topic_source=v(topic_source),
            message_type=v(described.message_type or _type_name(event.payload)),
            message_id=v(described.message_id),
            source=v(described.source),
            content=content,
            payload=payload_text,
            prompt_tokens=described.prompt_tokens,
            completion_tokens=described.completion_tokens,
            model=v(described.model),
            tool_name=v(described.tool_name),
            duration_ms=event.duration_ns / 1e6,
            is_error=described.is_error,
            error=clean_str(described.error, 4096, report),
            redaction={v(str(k)): n for k, n in (getattr(outcome, "counts", {}) or {}).items()},
            redaction_status=v(status if not report.placeholders or status != "ok" else "ok"),
            policy_version=v(str(getattr(outcome, "policy_version", ""))),
            truncated=report.truncated,
            content_chars=len(content),
        )
        return BuiltEvent(record, payload)


class _FailedOutcome:
    def __init__(self, reason: str) -> None:
        self.value = None
        self.counts: dict[str, int] = {}
        self.status = f"failed: {reason}"
        self.policy_version = ""


def agent_str(agent: Any) -> str:
    """'type/key' for an AgentId (or anything with type and key), the string itself, or ''."""
    if agent is None:
        return ""
    if isinstance(agent, str):
        return agent
    return f"{getattr(agent, 'type', '')}/{getattr(agent, 'key', '')}"


def _type_name(obj: Any) -> str:
    if isinstance(obj, JsonSnapshot):
        return ""
    return "" if obj is None else type(obj).__name__
