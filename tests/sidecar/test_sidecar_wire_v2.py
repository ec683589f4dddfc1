"""Wire version 2 (one pydantic_core call per run of events) decodes to exactly what version 1 did."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import pytest
from autogen_agentchat.messages import MultiModalMessage, StructuredMessage, TextMessage
from autogen_core import Image
from autogen_core.logging import LLMCallEvent
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image as PILImage
from pydantic import BaseModel

from collector import AuditHook, AuditSettings, CapturedEvent, EventKind, TaskRef
from collector._batcher import Waiter
from collector._demo import run_demo
from collector._sidecar import decode_batch, encode_batch, encode_event
from collector._sidecar._errors import WireFormatError
from collector._sidecar._ingest import ingest_router
from collector._sidecar._wire import encode_batch_v2
from collector._sidecar._wire_rows import encode_rows

_MARKER = "jane.doe@example.com"


class CollectingSink:
    """Keeps what the hook submits, raw: the events the remote sink would encode."""

    def __init__(self) -> None:
        self.events: list[CapturedEvent] = []
        self._feeders: list[Any] = []

    def add_feeder(self, feed: Any) -> None:
        self._feeders.append(feed)

    def submit(self, event: CapturedEvent) -> bool:
        self.events.append(event)
        return True

    def flush(self, timeout: float) -> bool:
        for feed in self._feeders:
            feed()
        return True

    def shutdown(self, timeout: float) -> bool:
        return self.flush(timeout)

    def stats(self) -> None:
        return None


def via_v1(events: list[CapturedEvent]) -> list[CapturedEvent]:
    return decode_batch(encode_batch([encode_event(e, f"id-{e.gseq}", max_depth=16, max_chars=1000) for e in events]))


def via_v2(events: list[CapturedEvent], run: int) -> list[CapturedEvent]:
    runs = [events[i : i + run] for i in range(0, len(events), run)]
    rows = [encode_rows(r, [f"id-{e.gseq}" for e in r], max_depth=16, max_chars=1000) for r in runs]
    body = encode_batch_v2(rows)
    assert json.loads(body)["v"] == 2
    return decode_batch(body)


def test_a_real_workloads_events_decode_the_same_in_both_versions() -> None:
    sink = CollectingSink()
    hook = AuditHook(sink, AuditSettings())  # type: ignore[arg-type]  # a sink without a store
    asyncio.run(run_demo(hook, tenants=4, tasks_per_tenant=3))
    hook.flush(30)
    events = sink.events
    kinds = {e.kind for e in events}
    assert {EventKind.TASK_START, EventKind.TASK_RESULT, EventKind.PUBLISH, EventKind.SEND, EventKind.RESPONSE,
            EventKind.LLM_CALL, EventKind.TOOL_CALL, EventKind.CUSTOM} <= kinds  # fmt: skip
    expected = via_v1(events)
    # Most of them must take the one-call route (a typed row), or this compares the fallback with itself.
    rows = json.loads(b"[" + encode_rows(events, [str(e.gseq) for e in events], max_depth=16, max_chars=1000) + b"]")
    assert sum(1 for row in rows if row[5]) > len(rows) * 0.6
    # The hook's own anchors too: flat ones as they are, a TaskResult with its messages as pairs.
    tags = {e.kind: row[5] for e, row in zip(events, rows, strict=True)}
    assert tags[EventKind.TASK_START] == "TaskStart" and tags[EventKind.TASK_RESULT] == "TaskResult;messages"
    for run in (1, 7, 128, len(events)):
        assert via_v2(events, run) == expected, f"runs of {run}"
    asyncio.run(hook.aclose(30))


class Point(BaseModel):
    x: int
    raw: bytes = b""


def _event(n: int, payload: Any, *, tenant: str = "acme", sender: Any = "agent/team") -> CapturedEvent:
    return CapturedEvent(
        n, TaskRef(tenant, "c-1", "u", "team", "RoundRobinGroupChat"), n, 10 + n, EventKind.PUBLISH, payload, sender,
        None, "topic", "team",
    )  # fmt: skip


def odd_payloads() -> list[Any]:
    class Odd:
        __slots__ = ()

    loop: list[Any] = []
    loop.append(loop)
    image = Image(PILImage.new("RGB", (8, 8)))
    return [
        MultiModalMessage(content=["look", image], source="u"),  # pixels must become a placeholder
        Odd(),
        {"loop": loop},
        StructuredMessage[Point](content=Point(x=1, raw=b"\xff\x00"), source="a"),  # app content: the walk
        LLMCallEvent(
            messages=[{"role": "user", "content": b"\xff"}], response={}, prompt_tokens=1, completion_tokens=0
        ),  # bytes in a log event
        TextMessage(content="x" * 1_200_000, source="a"),  # over the fast path's size bound
        TextMessage(content="bad \udcff surrogate", source="a"),
        None,
        # The hook's own anchors with something the one call cannot vouch for:
        {"__type__": "TaskStart", "ratio": float("nan")},  # pydantic would write null
        {"__type__": "LogRecord", "message": "hi", "extra": {"nested": 1}},
        {"__type__": "TaskResult", "stop_reason": "x", "messages": [TextMessage(content="a", source="a"), Odd()]},
        {"__type__": "TaskResult", "messages": [MultiModalMessage(content=["look", image], source="u")]},
        {"__type__": "TaskResult", "messages": [], "more": []},  # a second list
        {"__type__": "TaskStart", 1: "int key"},
        {"__type__": "TaskStart", "note": "bad \udcff surrogate"},
        {"__type__": {"an app's": "dict"}, "x": 1},  # unhashable where a type name goes
    ]


@pytest.mark.parametrize("index", range(len(odd_payloads())))
def test_an_odd_payload_among_models_takes_the_per_event_route_with_the_same_result(index: int) -> None:
    odd = odd_payloads()[index]
    events = [
        _event(1, TextMessage(content="before", source="a")),
        _event(2, odd),
        _event(
            3,
            LLMCallEvent(
                messages=[{"role": "user", "content": "hi"}],
                response={"content": "yo"},
                prompt_tokens=3,
                completion_tokens=1,
            ),
        ),
    ]
    decoded = via_v2(events, 3)
    assert decoded == via_v1(events)
    assert '"data":' not in json.dumps([d.payload for d in decoded])  # no image pixels travel


def test_ids_with_a_lone_surrogate_still_encode() -> None:
    events = [_event(1, TextMessage(content="hi", source="a"), tenant="t\udcff")]
    (decoded,) = via_v2(events, 1)
    assert decoded.task.tenant_id.startswith("t") and decoded.payload["content"] == "hi"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (["id", ["t", "c", "u", "team", "tt"], 1, 2, "publish", "", "{}", "s", "r", "tt"], "12 fields"),
        (["id", ["t", "c"], 1, 2, "publish", "", "{}", "s", "r", "tt", "ts", 0], "task"),
        (["id", ["t", "c", "u", "team", "tt"], 1, 2, "publish", 5, {}, "s", "r", "tt", "ts", 0], "type"),
        (["id", ["t", "c", "u", "team", "tt"], 1, 2, "publish", "", {}, "s", "r", "tt", "ts", 0], "JSON text"),
        (["id", ["t", "c", "u", "team", "tt"], 1, 2, "publish", "", "{nope", "s", "r", "tt", "ts", 0], "JSON text"),
        (["id", ["t", "c", "u", "team", "tt"], -1, 2, "publish", "", "{}", "s", "r", "tt", "ts", 0], "non-negative"),
        (["id", ["t", "c", "u", "team", "tt"], 1, 2, "nope", "", "{}", "s", "r", "tt", "ts", 0], "unknown kind"),
        (
            [
                "id",
                ["t", "c", "u", "team", "tt"],
                1,
                2,
                "task_result",
                "TaskResult;messages",
                {"messages": "x"},
                "s",
                "r",
                "tt",
                "ts",
                0,
            ],
            "no list field",
        ),
        (
            [
                "id",
                ["t", "c", "u", "team", "tt"],
                1,
                2,
                "task_result",
                "TaskResult;messages",
                [],
                "s",
                "r",
                "tt",
                "ts",
                0,
            ],
            "no list field",
        ),
        (
            [
                "id",
                ["t", "c", "u", "team", "tt"],
                1,
                2,
                "task_result",
                "TaskResult;messages",
                {"messages": [["", {}]]},
                "s",
                "r",
                "tt",
                "ts",
                0,
            ],
            r"\[type, fields\] pairs",
        ),
        (
            [
                "id",
                ["t", "c", "u", "team", "tt"],
                1,
                2,
                "task_result",
                "TaskResult;messages",
                {"messages": [{"a": 1}]},
                "s",
                "r",
                "tt",
                "ts",
                0,
            ],
            r"\[type, fields\] pairs",
        ),
    ],
)
def test_a_malformed_v2_row_is_refused_with_a_clear_error(row: list[Any], message: str) -> None:
    with pytest.raises(WireFormatError, match=message):
        decode_batch(json.dumps({"v": 2, "events": [row]}).encode())


class _AcceptingSink:
    """Durable at once: a refused body is refused by the decoder, not by the store."""

    def submit_durable(self, events: Sequence[CapturedEvent]) -> Waiter:
        waiter = Waiter(len(events))
        waiter.done.set()
        return waiter

    def recent_event_ids(self, window_s: float, limit: int) -> list[str]:
        return []


@pytest.mark.parametrize(
    ("tag", "payload"),
    [
        (f"TaskResult;{_MARKER}", {"messages": []}),  # names a field the payload lacks
        (f"TaskResult;{_MARKER}", {_MARKER: [["", {}]]}),  # names a field that holds no pairs
    ],
)
def test_a_refused_listed_row_does_not_echo_the_senders_field_name(tag: str, payload: dict[str, Any]) -> None:
    # The type slot is sender-controlled text: a 400's body goes back to the client and into
    # proxies' and clients' logs, so it names what is wrong without quoting what was sent.
    app = FastAPI()
    app.include_router(ingest_router(_AcceptingSink(), AuditSettings(ingest_token="t0k")))
    row = ["id", ["t", "c", "u", "team", "tt"], 1, 2, "task_result", tag, payload, "s", "r", "tt", "ts", 0]
    response = TestClient(app).post(
        "/v1/audit/events",
        content=json.dumps({"v": 2, "events": [row]}),
        headers={"Authorization": "Bearer t0k"},
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("event 0: ")  # refused by the decoder, for this row
    assert _MARKER not in response.text


@pytest.mark.parametrize(
    "body",
    [
        '{"v":2,"events":[' + "[" * 100_000 + "]" * 100_000 + "]}",  # nested past the parser's depth
        json.dumps({"v": 2, "events": [["id", ["t", "c", "u", "team", "tt"], 1, 2, "send", "", "[" * 100_000]]}),
    ],
)
def test_a_body_nested_past_the_parsers_depth_is_a_400_not_a_500(body: str) -> None:
    app = FastAPI()
    app.include_router(ingest_router(_AcceptingSink(), AuditSettings(ingest_token="t0k")))
    response = TestClient(app, raise_server_exceptions=False).post(
        "/v1/audit/events", content=body, headers={"Authorization": "Bearer t0k"}
    )
    assert response.status_code == 400
