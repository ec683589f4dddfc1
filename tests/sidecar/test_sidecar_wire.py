"""The wire encoding: fast paths for AutoGen's own objects, the careful walk for everything else."""

from __future__ import annotations

import json
from typing import Any

from autogen_agentchat.messages import MultiModalMessage, TextMessage
from autogen_core import Image
from autogen_core.logging import LLMCallEvent
from PIL import Image as PILImage

from collector import CapturedEvent, EventKind, TaskRef
from collector._sidecar import decode_batch, encode_batch, encode_event


def roundtrip(*payloads: Any) -> list[Any]:
    events = [
        CapturedEvent(
            i + 1,
            TaskRef("acme", "c-1", "u", "team", "RoundRobinGroupChat"),
            i + 1,
            10 + i,
            EventKind.PUBLISH,
            p,
            "agent/team",
            None,
            "topic",
            "team",
        )
        for i, p in enumerate(payloads)
    ]
    body = encode_batch([encode_event(e, f"id-{e.gseq}", max_depth=16, max_chars=1000) for e in events])
    decoded = decode_batch(body)
    assert [d.event_id for d in decoded] == [f"id-{e.gseq}" for e in events]
    assert all(d.sender == "agent/team" and d.recipient == "" and d.task.tenant_id == "acme" for d in decoded)
    return [d.payload for d in decoded]


def test_models_log_events_images_and_odd_objects() -> None:
    class Odd:
        __slots__ = ()

    loop: list[Any] = []
    loop.append(loop)
    image = Image(PILImage.new("RGB", (8, 8)))
    llm = LLMCallEvent(messages=[{"role": "user", "content": "hi"}], response={"content": "yo"},
                       prompt_tokens=3, completion_tokens=1)  # fmt: skip
    text, call, multimodal, odd, cyclic = roundtrip(
        TextMessage(content="hello", source="a"), llm, MultiModalMessage(content=["look", image], source="u"),
        Odd(), {"loop": loop},
    )  # fmt: skip
    assert text["__type__"] == "TextMessage" and text["content"] == "hello"
    assert call["__type__"] == "LLMCallEvent" and call["prompt_tokens"] == 3 and call["messages"][0]["content"] == "hi"
    assert multimodal["content"][1]["__placeholder__"] == "image"  # pixels never travel
    assert odd["__placeholder__"] == "unknown-type"
    assert json.dumps(cyclic).count("cycle") == 1


def test_fields_of_interleaved_tasks_and_agents_survive_the_encoders_caches() -> None:
    # The encoder keeps each task's and each agent's encoded text by object identity: events of
    # many tasks and agents, interleaved, re-encoded after new objects took the old ones' place,
    # must still decode to their own fields.
    from autogen_core import AgentId

    for generation in range(3):
        refs = [TaskRef(f"t{i % 3}", f"c-{generation}-{i}", f"u{i}", f"team{i}", "Swarm") for i in range(40)]
        agents = [AgentId(f"agent{i}", f"team{i}") for i in range(40)]
        events = [
            CapturedEvent(n, refs[n % 40], n, 10 + n, list(EventKind)[n % len(EventKind)], {"n": n},
                          agents[(n * 7) % 40], agents[n % 40] if n % 2 else "x/y", "topic", f"team{n % 40}")
            for n in range(400)
        ]  # fmt: skip
        body = encode_batch([encode_event(e, f"id-{e.gseq}", max_depth=16, max_chars=1000) for e in events])
        for e, d in zip(events, decode_batch(body), strict=True):
            assert (d.task, d.seq, d.kind, d.payload) == (e.task, e.seq, e.kind, {"n": e.seq})
            assert d.sender == f"{e.sender.type}/{e.sender.key}"
            recipient = e.recipient if isinstance(e.recipient, str) else f"{e.recipient.type}/{e.recipient.key}"
            assert d.recipient == recipient
