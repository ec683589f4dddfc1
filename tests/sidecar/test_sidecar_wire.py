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
