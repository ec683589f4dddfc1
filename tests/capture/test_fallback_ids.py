"""Unit test of the unattributed-correlation pseudonyms (collector/_fallback_ids.py)."""

from __future__ import annotations

import uuid

import pytest

from collector._fallback_ids import PSEUDONYM_PREFIX, fallback_correlation


@pytest.mark.parametrize(
    "key",
    [str(uuid.uuid4()), uuid.uuid4().hex, "default", f"assistant/{uuid.uuid4()}", "echo/default", "0f" * 16],
)
def test_an_id_shaped_key_is_kept(key: str) -> None:
    assert fallback_correlation(key) == key


@pytest.mark.parametrize(
    "key", ["jane.doe@example.com", "echo/jane.doe@example.com", "session for Jane Doe", "job-2", "+1 555 0100"]
)
def test_any_other_key_becomes_a_stable_pseudonym(key: str) -> None:
    pseudonym = fallback_correlation(key)
    assert pseudonym.startswith(PSEUDONYM_PREFIX) and key not in pseudonym
    assert fallback_correlation(key) == pseudonym  # one task per key
    assert fallback_correlation(key + " ") != pseudonym


def test_otlp_attribution_files_an_unclaimed_source_under_a_pseudonym() -> None:
    from collector._otlp_in import OtlpAttribution

    attribution = OtlpAttribution(r"^(?P<tenant_id>tenant-[a-z]+)$", "_unattributed")
    trace_id = "ab" * 16
    spans = {
        key: attribution.resolve({"message_context": {"topic_id": f"group_topic/{key}"}}, {}, trace_id)
        for key in ("jane.doe@example.com", "0f" * 16, "tenant-acme")
    }
    pseudonymous = spans["jane.doe@example.com"]
    assert pseudonymous.correlation_id.startswith(PSEUDONYM_PREFIX)
    assert "jane" not in pseudonymous.correlation_id and pseudonymous.tenant_id == "_unattributed"
    assert spans["0f" * 16].correlation_id == "0f" * 16  # a team's id groups its spans
    assert (spans["tenant-acme"].tenant_id, spans["tenant-acme"].correlation_id) == ("tenant-acme", "tenant-acme")
    assert attribution.resolve({}, {}, trace_id).correlation_id == trace_id
