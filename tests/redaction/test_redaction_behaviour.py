"""Policies, pseudonyms, structured values, fail-closed and the NER fallback, on the real engine."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from redaction import PolicyError, RedactionSettings, Redactor

POLICY = """
version: "t1"
defaults:
  entities: [EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, API_KEY, SECRET, PERSON]
  operator: replace
  operators: {EMAIL_ADDRESS: pseudonym}
  pseudonym_key: {env: TEST_PSEUDO_KEY}
  allow_list: [support@example.com]
  max_chars: 200
  sensitive_keys: [password]
tenants:
  masked:
    operators: {CREDIT_CARD: mask}
  own-key:
    pseudonym_key: {env: TEST_OTHER_KEY}
"""


@pytest.fixture(scope="module")
def policy_redactor(tmp_path_factory: pytest.TempPathFactory) -> Redactor:
    mp = pytest.MonkeyPatch()
    mp.setenv("TEST_PSEUDO_KEY", "k1-not-a-real-key")
    mp.setenv("TEST_OTHER_KEY", "k2-not-a-real-key")
    path = tmp_path_factory.mktemp("policy") / "p.yaml"
    path.write_text(POLICY)
    r = Redactor(RedactionSettings(ner=False), policy_path=path)
    mp.undo()
    return r


def test_redaction_pseudonyms_stable_within_tenant_distinct_across(policy_redactor: Redactor) -> None:
    a1 = policy_redactor.redact_text("mail jane@corp.io", "tenant-a").value
    a2 = policy_redactor.redact_text("from JANE@corp.io again", "tenant-a").value
    b = policy_redactor.redact_text("mail jane@corp.io", "tenant-b").value
    token = a1.split()[-1]
    assert token.startswith("<EMAIL_ADDRESS:")
    assert "jane" not in a1
    assert token in a2
    assert token not in b
    own = policy_redactor.redact_text("mail jane@corp.io", "own-key").value
    assert own.split()[-1] not in {token, b.split()[-1]}


def test_redaction_policy_operators_allow_list_and_version(policy_redactor: Redactor) -> None:
    out = policy_redactor.redact_text("card 4111 1111 1111 1111", "masked")
    assert out.value == "card **** **** **** 1111"
    assert policy_redactor.redact_text("write support@example.com").value == "write support@example.com"
    v_default, v_masked = policy_redactor.policy_version("x"), policy_redactor.policy_version("masked")
    assert v_default.startswith("t1+")
    assert v_masked.startswith("t1+")
    assert v_default != v_masked
    assert out.policy_version == v_masked


def test_redaction_max_chars_truncates(policy_redactor: Redactor) -> None:
    out = policy_redactor.redact_text("a" * 500)
    assert out.value.startswith("a" * 200)
    assert "truncated 300 chars" in out.value


def test_redaction_structured_field_by_field(pattern_redactor: Redactor) -> None:
    value: dict[str, Any] = {
        "name": "lookup",
        "arguments": json.dumps({"email": "bob@x.io", "password": "hunter22", "n": 3}),
        "content": [
            {"type": "text", "text": "call +1-202-555-0143"},
            {"type": "image", "url": "data:image/png;base64,AAAA"},
        ],
        "headers": {"Authorization": "Bearer abc123def456ghi789jkl"},
    }
    out = pattern_redactor.redact_value(value)
    assert out.value["name"] == "lookup"
    args = json.loads(out.value["arguments"])
    assert args == {"email": "<EMAIL_ADDRESS>", "password": "<SECRET>", "n": 3}
    assert out.value["content"][0] == {"type": "text", "text": "call <PHONE_NUMBER>"}
    assert out.value["content"][1]["url"] == "<DATA_URL image/png, 3 bytes>"
    assert "abc123" not in json.dumps(out.value)


def test_redaction_fail_closed_stores_no_raw_text(pattern_redactor: Redactor, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = "my card 4111 1111 1111 1111 and jane@corp.io UNIQUE-MARKER"

    def boom(*_a: object, **_k: object) -> object:
        raise RuntimeError(raw)  # a message that quotes the text must not leak either

    before = pattern_redactor.stats.failures
    monkeypatch.setattr(pattern_redactor._engine.analyzer, "analyze", boom)
    outs = pattern_redactor.redact_many([("t", raw), ("t", {"ok": "no digits here"})])
    assert outs[0].status.startswith("failed: ")
    assert "UNIQUE-MARKER" not in repr(outs[0])
    assert outs[1].status == "ok"  # per item: the other item still goes through
    assert pattern_redactor.stats.failures == before + 1


def test_redaction_timeout_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    r = Redactor(RedactionSettings(ner=False, text_timeout_s=1e-9, cache_size=0))
    out = r.redact_text("jane@corp.io SECRET-MARKER")
    assert out.status == "failed: redaction failed: TimeoutError"
    assert "SECRET-MARKER" not in repr(out)


def test_redaction_cache_counts_repeats(pattern_redactor: Redactor) -> None:
    before = pattern_redactor.stats
    pattern_redactor.redact_many([("t", "repeat jane@corp.io 17")] * 3)
    after = pattern_redactor.stats
    assert after.analysed - before.analysed <= 1
    assert after.cache_hits - before.cache_hits >= 2


def test_redaction_ner_missing_warns_loudly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="redaction"):
        r = Redactor(RedactionSettings(ner=True, spacy_model="no_such_spacy_model_xyz"))
    assert r.ner_active is False
    assert any("PATTERN-ONLY" in rec.getMessage() for rec in caplog.records)
    assert r.redact_text("mail jane@corp.io").value == "mail <EMAIL_ADDRESS>"


def test_redaction_bad_policy_fails_at_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISSING_KEY_VAR", raising=False)
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        'version: "1"\ndefaults: {entities: [EMAIL_ADDRESS], operator: pseudonym, '
        "pseudonym_key: {env: MISSING_KEY_VAR}}\n"
    )
    with pytest.raises(PolicyError, match="MISSING_KEY_VAR"):
        Redactor(RedactionSettings(ner=False), policy_path=bad)
    bad.write_text('version: "1"\ndefaults: {entities: [NOT_AN_ENTITY]}\n')
    with pytest.raises(PolicyError, match="unknown entities"):
        Redactor(RedactionSettings(ner=False), policy_path=bad)


def test_redaction_sensitive_keys_by_value_type_and_secret_counts(pattern_redactor: Redactor) -> None:
    # The rules split applies per dict item, whatever the value's type: any non-empty value under a
    # sensitive key is a secret, replaced whole (numbers and containers too: a password list, a
    # JWK); empty, None and booleans say nothing; a non-string key is analysed like any value. Each
    # secret is counted.
    value: dict[Any, Any] = {
        "password": 1234,
        "Api-Key": "sk-live-abc",
        "api_key": "",
        "token": None,
        "secret": True,
        "authorization": {"scheme": "Bearer", "password": ["hunter22"]},
        7: "mail bob@example.com",
        "deep": [{"password": "x"}, ""],
    }
    out = pattern_redactor.redact_value(value)
    assert out.status == "ok"
    assert out.value == {
        "password": "<SECRET>",
        "Api-Key": "<SECRET>",
        "api_key": "",
        "token": None,
        "secret": True,
        "authorization": "<SECRET>",
        7: "mail <EMAIL_ADDRESS>",
        "deep": [{"password": "<SECRET>"}, ""],
    }
    assert out.counts.get("SECRET") == 4
    keys = pattern_redactor.redact_value({"cookie": ["sid=s3cr3t-session"], "private_key": {}, "pwd": []}).value
    assert keys == {"cookie": "<SECRET>", "private_key": {}, "pwd": []}
