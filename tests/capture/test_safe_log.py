"""Failures inside the pipeline are logged by type and place, never with their message."""

from __future__ import annotations

import logging

import pytest

from collector._safe_log import log_failure


def test_log_failure_keeps_the_type_and_place_and_drops_the_message(caplog: pytest.LogCaptureFixture) -> None:
    def explode() -> None:
        raise ValueError("input jane.doe@example.com is not valid")

    try:
        explode()
    except ValueError as exc:
        with caplog.at_level(logging.ERROR, logger="collector"):
            log_failure(logging.getLogger("collector"), "collector: batcher error", exc)
    text = caplog.text
    assert "collector: batcher error: ValueError at test_safe_log.py:" in text
    assert "jane.doe" not in text and "Traceback" not in text
