"""Structural values (type tags, ids, timestamps) are kept; look-alikes under those keys are not."""

from __future__ import annotations

import json

from redaction import Redactor


def test_structural_values_are_kept_verbatim(redactor: Redactor) -> None:
    value = {
        "__type__": "TextMessage",
        "__placeholder__": "max-depth",
        "type": "ToolCallRequestEvent",
        "id": "68dbc252-15ff-426d-bb0f-90027a54f314",
        "created_at": "2026-11-26T16:39:04.126047+00:00",
        "agent_id": "support_68dbc252-15ff-426d-bb0f-90027a54f314/68dbc252-15ff-426d-bb0f-90027a54f314",
        "topic_source": "68dbc252-15ff-426d-bb0f-90027a54f314",
        "content": "Call Jane Doe at jane.doe@example.com",
    }
    out = redactor.redact_value(value, "acme").value
    assert {k: out[k] for k in value if k != "content"} == {k: v for k, v in value.items() if k != "content"}
    assert "jane.doe@example.com" not in out["content"] and "<EMAIL_ADDRESS>" in out["content"]


def test_pii_under_structural_keys_is_still_redacted(redactor: Redactor) -> None:
    value = {
        "id": "jane.doe@example.com",
        "type": "Jane Doe",
        "created_at": "call +44 20 7946 0958",
        "agent_id": "assistant/jane.doe@example.com",  # an app keying its agents by user
        "topic_source": "jane.doe@example.com",
    }
    out = redactor.redact_value(value, "acme").value
    assert out["id"] == "<EMAIL_ADDRESS>"
    assert "7946" not in out["created_at"]
    assert "jane.doe@example.com" not in out["agent_id"] and out["agent_id"].startswith("assistant/")
    assert out["topic_source"] == "<EMAIL_ADDRESS>"


def test_an_email_right_after_a_slash_is_found(redactor: Redactor) -> None:
    # Presidio's recognizer took "assistant/jane.doe@..." for one address, failed its domain check
    # and kept the whole string; an AgentId keyed by user, or a URL path, leaked the address.
    for text, kept in (
        ("assistant/jane.doe@example.com", "assistant/"),
        ("GET /users/jane.doe@example.com/orders", "/orders"),
    ):
        out = redactor.redact_value({"x": text}, "acme").value["x"]
        assert "jane.doe" not in out and "<EMAIL_ADDRESS>" in out and kept in out, out


def test_numbers_that_are_pii_are_redacted_and_other_numbers_kept(redactor: Redactor) -> None:
    # An LLM's tool call may carry a card or phone number as a JSON number, not a string: the
    # arguments text is parsed and walked, and a number used to be kept as it was, unanalysed.
    arguments = '{"card_number": 4111111111111111, "phone": 4155550132, "quantity": 2, "order": 42}'
    value = {
        "arguments": arguments,
        "card": 378282246310005,
        "items": [4111111111111111, 3],
        "prompt_tokens": 1234,
        "ts": 1700000000123456789,
        "ratio": 0.5,
        "flag": True,
    }
    out = redactor.redact_value(value, "acme")
    text = str(out.value)
    for raw in ("4111111111111111", "4155550132", "378282246310005"):
        assert raw not in text
    assert out.counts.get("CREDIT_CARD", 0) >= 3 and out.counts.get("PHONE_NUMBER", 0) >= 1
    args = json.loads(out.value["arguments"])
    assert (args["quantity"], args["order"]) == (2, 42)  # small numbers stay numbers
    assert out.value["items"][1] == 3
    assert (out.value["prompt_tokens"], out.value["ts"], out.value["ratio"], out.value["flag"]) == (
        1234,
        1700000000123456789,
        0.5,
        True,
    )
