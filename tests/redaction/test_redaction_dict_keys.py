"""Dict keys are analysed like values; secrets under spelled-out sensitive keys; data URLs.

An app's dict may be keyed by a customer's email or hold an API key as a key; a tool's arguments
may spell ``password`` as ``dbPassword``. Each of these reached the store raw before.
"""

from __future__ import annotations

import base64
import json

from redaction import Redactor

EMAIL = "jane.doe@example.com"
API_KEY = "sk-proj-Zr8Tq2Lm5Nw7Kp3Vx9Bc4Hd6Jf1Gs0Ya"


def test_pii_in_dict_keys_is_redacted_and_every_value_kept(redactor: Redactor) -> None:
    value = {
        "by_customer": {EMAIL: 120, "bob@example.org": 7, API_KEY: 1, "Jane Doe": 4, "content": "hi"},
        "result": json.dumps({EMAIL: {"balance": 5}}),  # a tool result keyed by customer, as JSON text
    }
    out = redactor.redact_value(value, "acme")
    text = json.dumps(out.value)
    for raw in (EMAIL, "bob@example.org", API_KEY, "Jane Doe"):
        assert raw not in text
    by_customer = out.value["by_customer"]
    # Two emails redact to one name: both values stay, the second under a numbered key.
    assert by_customer == {
        "<EMAIL_ADDRESS>": 120,
        "<EMAIL_ADDRESS>#2": 7,
        "<API_KEY>": 1,
        "<PERSON>": 4,
        "content": "hi",
    }
    assert json.loads(out.value["result"]) == {"<EMAIL_ADDRESS>": {"balance": 5}}
    assert out.counts["EMAIL_ADDRESS"] == 3 and out.counts["API_KEY"] == 1 and out.counts["PERSON"] == 1


def test_field_names_are_kept_as_they_are(redactor: Redactor) -> None:
    # spaCy reads some camelCase names as people ("clientSecret" -> PERSON): a key shaped like a
    # field name is checked by the pattern recognizers only.
    fields = ["clientSecret", "customerName", "shippingAddress", "firstName", "models_usage", "Content-Type", "x.y"]
    value = dict.fromkeys(fields)
    assert redactor.redact_value(value, "acme").value == value


def test_clean_field_names_are_not_analysed_again() -> None:
    fresh = Redactor()  # its own counters and memo
    fresh.redact_value({"orderTotal": "12.50", "shippingMethod": "ground"}, "acme")
    before = fresh.stats
    fresh.redact_value({"orderTotal": "13.75", "shippingMethod": "express"}, "acme")
    after = fresh.stats
    # Only the two new values are looked at: the keys are known clean under this policy.
    assert after.analysed + after.cache_hits - before.analysed - before.cache_hits == 2


def test_secrets_under_spelled_out_sensitive_keys(redactor: Redactor) -> None:
    opaque = "q8ZkL2vN5xR7tW1yB4mC"
    keys = ["db_password", "dbPassword", "accessToken", "clientSecret", "privateKey", "token", "sessionToken",
            "Proxy-Authorization", "API-Key"]  # fmt: skip
    out = redactor.redact_value({"arguments": dict.fromkeys(keys, opaque)}, "acme").value
    assert out["arguments"] == dict.fromkeys(keys, "<SECRET>")
    # Counts that merely end in "tokens" are not secrets.
    usage = {"prompt_tokens": 12, "completion_tokens": 3, "max_tokens": 512}
    assert redactor.redact_value(usage, "acme").value == usage


def test_a_base64_data_url_is_withheld_and_the_text_around_it_analysed(redactor: Redactor) -> None:
    # An image is PII no recognizer can read (a face, a scanned passport): it was stored whole.
    pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    image = f"data:image/png;base64,{pixel}"
    tail = f"data:text/plain;base64,aGk= contact {EMAIL} key {API_KEY}"
    inline = f"Jane Doe sent {image} for review"
    out = redactor.redact_value({"url": image, "note": tail, "text": inline}, "acme").value
    assert out["url"] == f"<DATA_URL image/png, {len(base64.b64decode(pixel))} bytes>"
    assert pixel not in json.dumps(out)
    assert out["note"].startswith("<DATA_URL text/plain, 2 bytes> contact ")
    assert EMAIL not in out["note"] and API_KEY not in out["note"]
    assert "<EMAIL_ADDRESS>" in out["note"] and "<API_KEY>" in out["note"]
    assert out["text"] == f"<PERSON> sent {out['url']} for review"
