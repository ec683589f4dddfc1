"""A real process killed with SIGKILL mid-batch (optionally with a torn spool tail), or stopped with
SIGTERM: every event it acknowledged is in the store exactly once after a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from durable_testlib import make_pipeline, wait_for

from collector import Store
from collector._spool._format import encode_frame

CHILD = Path(__file__).with_name("durable_child.py")


def _run_child(tmp_path: Path, mode: str, *, flap: bool, min_acked: int) -> tuple[Path, list[str], int]:
    store_path, acked = tmp_path / "store", tmp_path / "acked.txt"
    acked.touch()
    args = [sys.executable, str(CHILD), str(store_path), str(acked), mode, *(["--flap"] if flap else [])]
    env = {**os.environ, "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": ""}
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        ok = wait_for(lambda: len(acked.read_text().splitlines()) >= min_acked or child.poll() is not None, 90.0)
        assert ok and child.poll() is None, child.stderr.read().decode()[-3000:] if child.stderr else ""
        child.send_signal(signal.SIGKILL if mode == "kill" else signal.SIGTERM)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    stderr = child.stderr.read().decode() if child.stderr else ""
    ids = acked.read_text().splitlines()
    assert len(ids) >= min_acked, stderr[-3000:]
    return store_path, ids, child.returncode


def _restart_and_check(store_path: Path, ids: list[str], redactor: object) -> tuple[Store, int]:
    store = Store.open(f"chdb://{store_path}")
    pipeline = make_pipeline(store, redactor, prefix="restart")
    assert pipeline.shutdown(30.0)  # replays the spool left by the dead process
    _, rows = store.query(
        "SELECT event_id, count() FROM events WHERE event_id IN {ids:Array(String)} GROUP BY event_id",
        parameters={"ids": ids},
    )
    counts = dict(rows)
    missing = [i for i in ids if i not in counts]
    assert not missing, f"{len(missing)} acknowledged events missing, e.g. {missing[:3]}"
    assert all(n == 1 for n in counts.values()), {k: v for k, v in counts.items() if v != 1}
    return store, pipeline.stats().replayed


@pytest.mark.slow
def test_sigkill_mid_batch_then_restart_keeps_every_acked_event_once(tmp_path: Path, redactor: object) -> None:
    store_path, ids, code = _run_child(tmp_path, "kill", flap=True, min_acked=80)
    assert code == -signal.SIGKILL
    spool = store_path.with_name("store-spool")
    assert any(spool.glob("seg-*.log")), "the dead process left a spool"
    store, replayed = _restart_and_check(store_path, ids, redactor)
    assert replayed > 0  # some acknowledged events were only in the spool when the process died
    store.close()


@pytest.mark.slow
def test_torn_spool_tail_after_sigkill_is_quarantined_and_acked_events_survive(
    tmp_path: Path, redactor: object
) -> None:
    store_path, ids, _ = _run_child(tmp_path, "kill", flap=True, min_acked=60)
    spool = store_path.with_name("store-spool")
    newest = max(spool.glob("seg-*.log"))
    # A crash in the middle of writing the next frame: its first 70 bytes reached the disk.
    with newest.open("ab") as f:
        f.write(encode_frame([b'{"_":"e"}' * 40], os.urandom(16), int(time.time() * 1000))[:70])
    store, _ = _restart_and_check(store_path, ids, redactor)
    assert any((spool / "quarantine").glob("*.reason.json"))
    store.close()


@pytest.mark.slow
def test_sigterm_drains_into_the_store_within_the_deadline(tmp_path: Path, redactor: object) -> None:
    store_path, ids, code = _run_child(tmp_path, "term", flap=False, min_acked=60)
    assert code == -signal.SIGTERM  # the default action ran after the drain
    spool = store_path.with_name("store-spool")
    assert not any(spool.glob("seg-*.log")), "the drain left batches in the spool although the store was up"
    store, replayed = _restart_and_check(store_path, ids, redactor)
    assert replayed == 0
    store.close()
