"""Hostile payloads go through the durable pipeline (redact -> spool -> chdb) and it keeps going."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from durable_testlib import make_pipeline, scalar

from collector import CapturedEvent, EventKind, Store, TaskRef


class Opaque:
    __slots__ = ("secret",)

    def __init__(self) -> None:
        self.secret = "sk-proj-SHOULDNEVERBESTOREDxxxxxxxxxxxx"


def _cycle() -> list[Any]:
    loop: list[Any] = []
    loop.append(loop)
    return loop


def _deep() -> Any:
    nested: Any = "bottom"
    for _ in range(5000):
        nested = {"n": nested}
    return nested


BAD: dict[str, Any] = {
    "huge_10mb": "x" * 10_000_000,
    "deep": _deep(),
    "cycle": _cycle(),
    "binary": b"\x00\xff\xfe" * 1000,
    "invalid_utf8": b"caf\xe9 \xff".decode("utf-8", "surrogateescape"),
    "unserializable": (lambda: 1),
    "unknown_type": Opaque(),
    "mixed": {"set": {1, 2}, "bytes": bytearray(b"\x80"), "obj": object(), "nan": float("nan")},
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    real = Store.open(f"chdb://{tmp_path / 'store'}")
    yield real
    real.close()


def test_each_bad_payload_is_stored_once_and_the_pipeline_keeps_going(store: Store, redactor: object) -> None:
    pipeline = make_pipeline(store, redactor)
    task = TaskRef("acme", "bad-input")
    now = time.time_ns()
    for seq, (name, payload) in enumerate(BAD.items()):
        event = CapturedEvent(seq, task, seq, now + seq, EventKind.CUSTOM, payload, sender=name)
        assert pipeline.submit_batch_durable([event], 20.0), name
    after = CapturedEvent(len(BAD), task, len(BAD), now + len(BAD), EventKind.CUSTOM, {"still": "alive"})
    assert pipeline.submit_batch_durable([after], 20.0)
    assert pipeline.shutdown(30.0)
    _, rows = store.query(
        "SELECT sender, count(), max(length(payload)), any(redaction_status) FROM events "
        "WHERE correlation_id = 'bad-input' GROUP BY sender"
    )
    by_sender = {r[0]: r for r in rows}
    assert set(BAD) <= set(by_sender)
    assert all(by_sender[name][1] == 1 for name in BAD)
    assert by_sender["huge_10mb"][2] <= pipeline.settings.max_payload_chars + 200  # bounded, not 10 MB
    assert scalar(store, "SELECT count() FROM events WHERE payload LIKE '%SHOULDNEVERBESTORED%'") == 0
    assert scalar(store, "SELECT count() FROM events WHERE payload LIKE '%alive%'") == 1
    assert pipeline.stats().lost == 0
