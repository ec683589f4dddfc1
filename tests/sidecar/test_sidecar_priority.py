"""The sidecar's background threads run at a lower CPU priority than its ingest (Linux nice)."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector._sidecar._priority import lower_priority

from ._procs import Sidecar

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice is per thread on Linux only")


@pytest.fixture
def parked_thread() -> Iterator[threading.Thread]:
    release = threading.Event()
    thread = threading.Thread(target=release.wait, daemon=True)
    thread.start()
    yield thread
    release.set()
    thread.join(5)


def _nice(tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid)


def test_lower_priority_raises_one_threads_nice_and_leaves_the_caller(parked_thread: threading.Thread) -> None:
    assert parked_thread.native_id is not None
    caller, before = _nice(threading.get_native_id()), _nice(parked_thread.native_id)
    assert lower_priority([parked_thread], 3) == 1
    assert _nice(parked_thread.native_id) == min(19, before + 3)
    assert _nice(threading.get_native_id()) == caller


def test_lower_priority_clamps_at_19_skips_zero_steps_and_unstarted_threads(parked_thread: threading.Thread) -> None:
    assert parked_thread.native_id is not None
    before = _nice(parked_thread.native_id)
    assert lower_priority([parked_thread], 0) == 0
    assert _nice(parked_thread.native_id) == before
    assert lower_priority([parked_thread], 40) == 1
    assert _nice(parked_thread.native_id) == 19
    assert lower_priority([threading.Thread(target=lambda: None)], 5) == 0


def _thread_nices(pid: int) -> dict[int, int]:
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        out[int(tid)] = int(stat[stat.rindex(")") + 2 :].split()[16])  # field 19: nice
    return out


@pytest.mark.parametrize("setting", [None, "0"])
def test_serve_ingest_only_lowers_its_worker_threads_but_not_ingest(tmp_path: Path, setting: str | None) -> None:
    extra = {} if setting is None else {"AUDIT_SIDECAR_WORKER_NICE": setting}
    car = Sidecar(f"chdb://{tmp_path / 'store'}", tmp_path / "sidecar.log", **extra)
    try:
        car.wait_ready()
        nices = _thread_nices(car.proc.pid)
        base = nices[car.proc.pid]  # the main thread runs the event loop that answers ingest
        lowered = [n for n in nices.values() if n == min(19, base + 10)]
        # The snapshot, redaction and store threads, and any thread they started (they inherit it).
        # (chdb sets a priority of its own on one of its threads: only ours are counted.)
        assert len(lowered) >= (3 if setting is None else 0)
        if setting is not None:
            assert lowered == []
    finally:
        assert car.stop() == 0
