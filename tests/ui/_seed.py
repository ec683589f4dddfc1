"""Rows for the UI tests, written straight into a real chdb store following schema 001's columns."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from collector._store._client import Store

EVENT_COLUMNS = [
    "tenant_id", "correlation_id", "seq", "ts", "event_id", "kind", "user_id", "team_id", "team_type",
    "sender", "recipient", "topic_type", "topic_source", "message_type", "message_id", "source", "content",
    "payload", "prompt_tokens", "completion_tokens", "model", "tool_name", "duration_ms", "is_error", "error",
    "redaction", "redaction_status", "policy_version", "truncated", "content_chars",
]  # fmt: skip
TASK_COLUMNS = [
    "tenant_id", "correlation_id", "user_id", "team_id", "team_type", "started_at", "finished_at", "status",
    "abnormal", "stop_reason", "message_count", "prompt_tokens", "completion_tokens", "error", "version",
]  # fmt: skip
T0 = dt.datetime(2025, 3, 1, 9, 0, 0, tzinfo=dt.UTC)
LONG_TEXT = "The quarterly report says: " + " ".join(f"line {i} of a very long answer." for i in range(120))
XSS = (
    '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
    '<a href="javascript:window.__pwned=3">click</a><b onmouseover="window.__pwned=4">bold</b>'
)


def event(tenant: str, cid: str, seq: int, kind: str, **kw: Any) -> list[Any]:
    base: dict[str, Any] = {
        "tenant_id": tenant, "correlation_id": cid, "seq": seq,
        "ts": kw.pop("ts", T0 + dt.timedelta(milliseconds=250 * seq)), "event_id": str(uuid.uuid4()),
        "kind": kind, "user_id": "", "team_id": "team-1", "team_type": "RoundRobinGroupChat", "sender": "",
        "recipient": "", "topic_type": "", "topic_source": "", "message_type": "", "message_id": "",
        "source": "", "content": "", "payload": "{}", "prompt_tokens": 0, "completion_tokens": 0, "model": "",
        "tool_name": "", "duration_ms": 0.0, "is_error": 0, "error": "", "redaction": {},
        "redaction_status": "ok", "policy_version": "v1", "truncated": 0, "content_chars": 0,
    }  # fmt: skip
    base.update(kw)
    base["content_chars"] = len(base["content"])
    return [base[c] for c in EVENT_COLUMNS]


def task(tenant: str, cid: str, user: str, started: dt.datetime, **kw: Any) -> list[Any]:
    base: dict[str, Any] = {
        "tenant_id": tenant, "correlation_id": cid, "user_id": user, "team_id": "team-1",
        "team_type": "RoundRobinGroupChat", "started_at": started,
        "finished_at": started + dt.timedelta(seconds=3), "status": "normal", "abnormal": 0,
        "stop_reason": "Text 'TERMINATE' mentioned", "message_count": 4, "prompt_tokens": 30,
        "completion_tokens": 12, "error": "", "version": 2,
    }  # fmt: skip
    base.update(kw)
    return [base[c] for c in TASK_COLUMNS]


def conversation(tenant: str, cid: str, user: str, started: dt.datetime, *, content: str = "Hello") -> list[list[Any]]:
    """A small but complete task: start, messages with redactions, a tool call, a drop, the result."""
    at = lambda n: started + dt.timedelta(milliseconds=400 * n)  # noqa: E731 - a local shorthand
    result = {
        "stop_reason": "Text 'TERMINATE' mentioned",
        "messages": [
            {"source": "user", "type": "TextMessage", "content": content, "models_usage": None},
            {"source": "assistant", "type": "TextMessage", "content": "Done. TERMINATE",
             "models_usage": {"prompt_tokens": 30, "completion_tokens": 12}},
        ],
    }  # fmt: skip
    return [
        event(tenant, cid, 0, "task_start", ts=at(0), user_id=user, content=content),
        event(tenant, cid, 1, "publish", ts=at(1), sender="user", topic_type="group_topic",
              topic_source=tenant, message_type="TextMessage", source="user", content=content),
        event(tenant, cid, 2, "llm_call", ts=at(2), sender="assistant/1", model="replay", prompt_tokens=30,
              completion_tokens=12, duration_ms=812.0,
              content="Write to <EMAIL_ADDRESS> about <PERSON>", redaction={"EMAIL_ADDRESS": 1, "PERSON": 1}),
        event(tenant, cid, 3, "agentchat_event", ts=at(3), source="assistant",
              message_type="ToolCallRequestEvent", content="lookup_order",
              payload=json.dumps({"content": [{"id": "c1", "name": "lookup_order",
                                               "arguments": '{"order": 42}'}]})),
        event(tenant, cid, 4, "tool_call", ts=at(4), tool_name="lookup_order", sender="assistant/1",
              content='{"order": 42}', payload=json.dumps({"arguments": {"order": 42}, "result": "shipped"})),
        event(tenant, cid, 5, "send", ts=at(5), sender="assistant/1", recipient="critic/1",
              message_type="TextMessage", source="assistant", content=LONG_TEXT),
        event(tenant, cid, 6, "message_dropped", ts=at(6), sender="assistant/1", recipient="critic/1",
              message_type="TextMessage", content="dropped by intervention"),
        event(tenant, cid, 7, "handler_exception", ts=at(7), sender="critic/1", is_error=1,
              error="ValueError: bad input"),
        event(tenant, cid, 8, "task_result", ts=at(8), payload=json.dumps(result),
              content="Text 'TERMINATE' mentioned"),
    ]  # fmt: skip


def seed(store: Store) -> dict[str, Any]:
    """Two tenants; tenant-b's tasks reuse a correlation id of tenant-a to test id guessing."""
    events: list[list[Any]] = []
    tasks: list[list[Any]] = []
    for i in range(6):
        for tenant, user in (("tenant-a", "alice"), ("tenant-b", "bob")):
            cid = f"{tenant[-1]}-task-{i}"
            started = T0 + dt.timedelta(minutes=i, seconds=1 if tenant == "tenant-b" else 0)
            abnormal = i % 3 == 2
            text = f"{tenant} secret plan {i}" + (f" {XSS}" if i == 1 else "")
            events += conversation(tenant, cid, user, started, content=text)
            tasks.append(task(tenant, cid, user, started, **(
                {"status": "abnormal", "abnormal": 1, "stop_reason": "Maximum number of messages 5 reached"}
                if abnormal else {})))  # fmt: skip
    # The same correlation id in both tenants.
    events += conversation("tenant-a", "shared-id", "alice", T0 + dt.timedelta(hours=1), content="A's shared")
    events += conversation("tenant-b", "shared-id", "bob", T0 + dt.timedelta(hours=1), content="B's shared")
    tasks.append(task("tenant-a", "shared-id", "alice", T0 + dt.timedelta(hours=1)))
    tasks.append(task("tenant-b", "shared-id", "bob", T0 + dt.timedelta(hours=1)))
    store.insert("events", events, EVENT_COLUMNS)
    store.insert("tasks", tasks, TASK_COLUMNS)
    return {"tasks": len(tasks), "events": len(events)}
