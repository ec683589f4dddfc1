"""Unit tests of the serializer: every oddity becomes a bounded placeholder, never an exception."""

from __future__ import annotations

import json
from typing import Any

from autogen_agentchat.messages import MultiModalMessage, TextMessage
from autogen_core import Image

from collector._serialize import SerializeReport, dumps_bounded, to_jsonable


def convert(obj: Any, **kw: Any) -> tuple[Any, SerializeReport]:
    report = SerializeReport()
    return to_jsonable(obj, max_depth=kw.get("depth", 16), max_chars=kw.get("chars", 1000), report=report), report


def test_pydantic_chat_message_keeps_its_fields() -> None:
    value, report = convert(TextMessage(content="hello", source="agent"))
    assert value["__type__"] == "TextMessage" and value["content"] == "hello" and value["source"] == "agent"
    assert not report.truncated and not report.placeholders


def test_huge_string_is_truncated_with_a_marker() -> None:
    value, report = convert({"text": "a" * 10_000_000}, chars=100)
    assert report.truncated and value["text"].startswith("a" * 100) and "[truncated 9999900 chars]" in value["text"]


def test_cycles_depth_bytes_and_unknown_types_become_placeholders() -> None:
    class Slotted:
        __slots__ = ("x",)

    loop: list[Any] = []
    loop.append(loop)
    deep: Any = "bottom"
    for _ in range(50):
        deep = [deep]
    value, report = convert({"loop": loop, "deep": deep, "raw": b"\x00\x01", "odd": Slotted()}, depth=10)
    text = json.dumps(value)
    assert '"cycle"' in text and '"max-depth"' in text and '"bytes"' in text and '"unknown-type"' in text
    assert set(report.placeholders) >= {"cycle", "max-depth", "bytes", "unknown-type"}


def test_invalid_utf8_is_replaced_not_raised() -> None:
    value, report = convert(b"caf\xe9".decode("utf-8", "surrogateescape"))
    assert value == "caf?" and "invalid-utf8" in report.placeholders


def test_images_are_never_stored() -> None:
    from PIL import Image as PILImage

    image = Image(PILImage.new("RGB", (4, 4)))
    value, _ = convert(MultiModalMessage(content=["look", image], source="user"))
    assert value["content"][0] == "look" and value["content"][1]["__placeholder__"] == "image"


def test_a_property_that_raises_becomes_a_placeholder() -> None:
    class Exploding:
        def __init__(self) -> None:
            self.ok = 1

        @property
        def __dict__(self) -> dict[str, Any]:  # type: ignore[override]
            raise RuntimeError("boom")

    value, _ = convert({"x": Exploding()})
    assert value["x"]["__placeholder__"] in ("unserializable", "unknown-type")


def test_dumps_bounded_cuts_long_payloads() -> None:
    report = SerializeReport()
    text = dumps_bounded({"k": "v" * 5000}, 1000, report)
    assert len(text) < 1100 and report.truncated and text.endswith("chars]")


def test_fast_path_for_autogen_models_keeps_the_bounds() -> None:
    from autogen_agentchat.messages import StructuredMessage
    from pydantic import BaseModel

    long_text, report = convert(TextMessage(content="z" * 5000, source="a"), chars=1000)
    assert report.truncated and "[truncated 4000 chars]" in long_text["content"]
    assert long_text["__type__"] == "TextMessage"

    class Blob(BaseModel):
        raw: bytes

    # User-defined content stays on the careful walk: its bytes become a placeholder, not text.
    value, _ = convert(StructuredMessage[Blob](content=Blob(raw=b"secret bytes"), source="a"))
    assert value["content"]["raw"] == {"__placeholder__": "bytes", "size": 12}


def test_fast_path_replaces_images_in_large_multimodal_messages() -> None:
    from PIL import Image as PILImage

    image = Image(PILImage.new("RGB", (64, 64)))
    value, report = convert(MultiModalMessage(content=["x" * 600, image], source="user"), chars=1000)
    assert value["content"][1] == {"__placeholder__": "image", "type": "Image"}
    assert "image" in report.placeholders


def test_the_hooks_own_payloads_take_the_fast_path_with_the_walks_result() -> None:
    from autogen_agentchat.base import TaskResult
    from autogen_agentchat.messages import StopMessage, ToolCallRequestEvent
    from autogen_core import FunctionCall
    from autogen_core.models import RequestUsage

    from collector._json_text import fast_json_text as _fast_json_text
    from collector._scope import result_payload
    from collector._serialize import from_json_text, to_json_text

    messages = [
        TextMessage(content="call me at +1 415 555 0100", source="user"),
        ToolCallRequestEvent(
            content=[FunctionCall(id="1", name="lookup", arguments='{"q": "x"}')],
            source="a",
            models_usage=RequestUsage(prompt_tokens=12, completion_tokens=3),
        ),
        StopMessage(content="done", source="a"),
    ]
    payloads = [
        result_payload(TaskResult(messages=messages, stop_reason="done")),
        {"__type__": "TaskStart", "tenant_id": "acme", "user_id": "u", "team_type": "RoundRobinGroupChat"},
        {"__type__": "LogRecord", "level": "INFO", "message": "über 100%"},
    ]
    for payload in payloads:
        fast = _fast_json_text(payload)
        assert fast is not None, payload["__type__"]
        walked = json.loads(json.dumps(to_jsonable(payload, max_depth=16, max_chars=32768)))
        assert json.loads(fast) == walked
        assert from_json_text(to_json_text(payload, max_depth=16, max_chars=32768), max_depth=16, max_chars=32768,
                              report=SerializeReport()) == walked  # fmt: skip

    # What the walk exists for makes the fast path give up: bytes, a cycle, a lone surrogate, an
    # image, and anything an app put in (CustomEvent attrs are never fast).
    cyclic: dict[str, Any] = {"__type__": "TaskError", "error": "x"}
    cyclic["self"] = cyclic
    from PIL import Image as PILImage

    image_message = MultiModalMessage(content=["look", Image(PILImage.new("RGB", (4, 4)))], source="user")
    for odd in (
        {"__type__": "TaskError", "error": b"raw"},
        cyclic,
        {"__type__": "LogRecord", "message": "bad \udcff byte"},
        {"__type__": "TaskStart", "pid": float("nan")},
        {"__type__": "TaskStart", "nested": {"k": "v"}},
        result_payload(TaskResult(messages=[image_message], stop_reason=None)),
        {"__type__": "CustomEvent", "event": "approval", "attrs": {"by": "x"}},
        {"__type__": ["an", "app's", "list"], "x": 1},  # unhashable: must not raise
    ):
        assert _fast_json_text(odd) is None
        text = to_json_text(odd, max_depth=16, max_chars=32768)
        assert "raw" not in text or "__placeholder__" in text
        assert '{"data":"' not in text


def test_fast_path_text_is_pydantics_own_dump_tagged_with_the_type() -> None:
    from autogen_agentchat.messages import HandoffMessage, StopMessage, StructuredMessage, ToolCallSummaryMessage
    from autogen_agentchat.teams._group_chat._events import GroupChatStart, GroupChatTermination
    from autogen_core.logging import LLMCallEvent
    from pydantic import BaseModel

    from collector._json_text import fast_json_text as _fast_json_text

    text = TextMessage(content="hi", source="a")
    for message in (
        text,
        StopMessage(content="done", source="b"),
        HandoffMessage(content="over", source="a", target="b"),
        ToolCallSummaryMessage(content="42", source="a", tool_calls=[], results=[]),
        GroupChatStart(messages=[text]),
        GroupChatTermination(message=StopMessage(content="done", source="b")),
    ):
        for _ in range(2):  # the second call takes the cached route
            fast = _fast_json_text(message)
            assert fast is not None
            assert json.loads(fast) == {"__type__": type(message).__name__, **json.loads(message.model_dump_json())}
    llm = LLMCallEvent(messages=[{"role": "user", "content": "x"}], response={"content": "y"}, prompt_tokens=3,
                       completion_tokens=1)  # fmt: skip
    assert json.loads(_fast_json_text(llm) or "") == {"__type__": "LLMCallEvent", **llm.kwargs}
    for odd in ("bad \udcff byte", b"\xff\xfe binary", object()):  # the walk's, as placeholders
        assert _fast_json_text(LLMCallEvent(messages=[{"content": odd}], response={}, prompt_tokens=0,
                                            completion_tokens=0)) is None  # fmt: skip

    class Answer(BaseModel):
        value: int

    assert _fast_json_text(StructuredMessage[Answer](content=Answer(value=1), source="a")) is None  # the walk's
