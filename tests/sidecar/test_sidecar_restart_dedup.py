"""A sidecar killed right after acknowledging a batch: the client's retry is stored once."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from collector import Store
from collector._events import CapturedEvent, EventKind, TaskRef
from collector._sidecar._wire import encode_batch, encode_event

from ._procs import TOKEN, Sidecar

TASK = TaskRef("acme", "corr-restart", "u-1", "team-1", "RoundRobinGroupChat")


def events(n: int) -> list[CapturedEvent]:
    return [
        CapturedEvent(0, TASK, i, time.time_ns(), EventKind.PUBLISH,
                      {"__type__": "TextMessage", "content": f"step {i}"}, event_id=f"wire-{i}")
        for i in range(n)
    ]  # fmt: skip


def test_sidecar_killed_after_acknowledging_stores_the_retried_batch_once(tmp_path: Path) -> None:
    dsn = f"chdb://{tmp_path / 'store'}"
    body = encode_batch([encode_event(e, e.event_id, max_depth=8, max_chars=1000) for e in events(20)])
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

    first = Sidecar(dsn, tmp_path / "first.log")
    try:
        first.wait_ready()
        assert httpx.post(f"{first.url}/v1/audit/events", content=body, headers=headers, timeout=30).status_code == 200
        first.proc.kill()  # SIGKILL right after the answer: no flush, no clean shutdown
        first.proc.wait(10)
    finally:
        first.stop()

    second = Sidecar(dsn, tmp_path / "second.log")
    try:
        second.wait_ready()
        assert httpx.post(f"{second.url}/v1/audit/events", content=body, headers=headers, timeout=30).status_code == 200
        health = second.health()
        assert health["dedup_ids_seeded"] == 20
        assert health["duplicates_dropped"] == 20
    finally:
        assert second.stop() == 0
    store = Store.open(dsn)
    try:
        _, [(total, unique)] = store.query("SELECT count(), uniqExact(event_id) FROM events")
        assert (total, unique) == (20, 20)
    finally:
        store.close()
