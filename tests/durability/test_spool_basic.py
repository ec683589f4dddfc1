"""Append / ack / pending, persistence of acks, segment lifecycle, bounds, locking."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from spool_testlib import records_of, segment_logs

from collector._spool import (
    Spool,
    SpoolClosedError,
    SpoolConfig,
    SpoolConfigError,
    SpoolFullError,
    SpoolLockedError,
)
from collector.errors import AuditError

OpenSpool = Callable[..., Spool]


def test_pending_yields_unacked_batches_in_append_order(open_spool: OpenSpool) -> None:
    spool = open_spool()
    ids = [spool.append([f"r{i}-a".encode(), f"r{i}-b".encode()]) for i in range(5)]
    assert len(set(ids)) == 5
    assert all(len(i) == 32 for i in ids)
    assert spool.ack(ids[1]) is True
    assert spool.ack(ids[1]) is False  # idempotent
    assert spool.ack("0" * 32) is False
    batches = list(spool.pending())
    assert [b.batch_id for b in batches] == [ids[0], ids[2], ids[3], ids[4]]
    assert batches[2].records == (b"r3-a", b"r3-b")
    assert abs(batches[0].appended_at - time.time()) < 5


def test_empty_and_odd_records_round_trip(open_spool: OpenSpool) -> None:
    spool = open_spool()
    odd = [b"", b"\x00" * 3, bytes(range(256)), "é<EMAIL_ADDRESS>".encode()]
    spool.append(odd)
    with pytest.raises(ValueError, match="at least one record"):
        spool.append([])
    assert records_of(spool) == [tuple(odd)]


def test_acks_survive_reopen_and_ids_are_stable(open_spool: OpenSpool) -> None:
    spool = open_spool(fsync="batch")
    ids = [spool.append([bytes([i]) * 10]) for i in range(6)]
    for i in (0, 2, 5):
        spool.ack(ids[i])
    spool.close()
    again = open_spool(fsync="batch")
    assert [b.batch_id for b in again.pending()] == [ids[1], ids[3], ids[4]]
    stats = again.stats()
    assert (stats.pending_batches, stats.pending_records) == (3, 3)
    # The ids read back are the ones append returned: they can serve as dedup tokens.
    assert again.ack(ids[3]) is True
    again.close()
    third = open_spool(fsync="batch")
    assert [b.batch_id for b in third.pending()] == [ids[1], ids[4]]


def test_segments_rotate_and_fully_acked_ones_are_deleted(open_spool: OpenSpool, tmp_path: Path) -> None:
    spool = open_spool(segment_bytes=4096, max_bytes=1 << 20)
    ids = [spool.append([b"x" * 1000]) for _ in range(12)]  # ~3 frames per segment
    directory = tmp_path / "spool"
    assert len(segment_logs(directory)) == 4
    for batch_id in ids[:6]:
        spool.ack(batch_id)
    assert len(segment_logs(directory)) == 2
    assert not list(directory.glob("seg-0000000000000001.*"))  # log and ack file both gone
    for batch_id in ids[6:]:
        spool.ack(batch_id)
    # The active segment stays open until it rotates or the spool closes.
    assert len(segment_logs(directory)) == 1
    spool.close()
    assert segment_logs(directory) == []
    assert not list(directory.glob("seg-*"))


def test_a_batch_larger_than_a_segment_gets_its_own(open_spool: OpenSpool, tmp_path: Path) -> None:
    spool = open_spool(segment_bytes=4096, max_bytes=1 << 20)
    spool.append([b"a" * 10])
    spool.append([b"b" * 10_000])
    spool.append([b"c" * 10])
    assert [len(r[0]) for r in records_of(spool)] == [10, 10_000, 10]
    assert len(segment_logs(tmp_path / "spool")) == 3


def test_append_beyond_max_bytes_raises_spool_full_and_writes_nothing(open_spool: OpenSpool) -> None:
    spool = open_spool(segment_bytes=4096, max_bytes=8192)
    ids = []
    while spool.stats().bytes + 1100 <= 8192:
        ids.append(spool.append([b"y" * 1000]))
    with pytest.raises(SpoolFullError, match="is full") as info:
        spool.append([b"y" * 1000])
    assert isinstance(info.value, AuditError)
    assert 6 <= len(ids) <= 8
    stats = spool.stats()
    assert stats.bytes <= 8192
    assert stats.full_rejections_total == 1
    assert stats.pending_batches == len(ids)
    # Acking frees space: the fully acked segments are deleted and appends work again.
    for batch_id in ids:
        spool.ack(batch_id)
    spool.append([b"y" * 1000])
    assert spool.stats().pending_batches == 1


def test_second_opener_gets_spool_locked(open_spool: OpenSpool, tmp_path: Path) -> None:
    spool = open_spool()
    with pytest.raises(SpoolLockedError, match="owned by another process"):
        Spool(SpoolConfig(tmp_path / "spool"))
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from collector._spool import Spool, SpoolConfig, SpoolLockedError\n"
        "try:\n    Spool(SpoolConfig(Path(sys.argv[1])))\nexcept SpoolLockedError as e:\n"
        "    print('LOCKED', e); sys.exit(3)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "spool")], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 3, proc.stderr
    assert "LOCKED" in proc.stdout
    spool.close()
    Spool(SpoolConfig(tmp_path / "spool")).close()  # the lock went with the close


def test_use_after_close_raises(open_spool: OpenSpool) -> None:
    spool = open_spool()
    batch_id = spool.append([b"z"])
    spool.close()
    spool.close()  # twice is fine
    with pytest.raises(SpoolClosedError):
        spool.append([b"z"])
    with pytest.raises(SpoolClosedError):
        spool.ack(batch_id)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fsync": "sometimes"}, "unknown spool fsync policy"),
        ({"segment_bytes": 100}, "at least 4096"),
        ({"segment_bytes": 8192, "max_bytes": 8192}, "twice segment_bytes"),
        ({"fsync_interval_ms": 0}, "fsync_interval_ms"),
    ],
)
def test_bad_config_is_refused(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(SpoolConfigError, match=message):
        SpoolConfig(tmp_path, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("policy", ["always", "batch", "interval", "never"])
def test_every_fsync_policy_round_trips(open_spool: OpenSpool, policy: str) -> None:
    spool = open_spool(fsync=policy, fsync_interval_ms=5)
    ids = [spool.append([b"p" * 50] * 3) for _ in range(20)]
    for batch_id in ids[::2]:
        spool.ack(batch_id)
    time.sleep(0.02)  # lets the interval flusher run at least once
    spool.close()
    again = open_spool(fsync=policy)
    assert [b.batch_id for b in again.pending()] == ids[1::2]
    assert again.stats().fsync_errors_total == 0


def test_stats_track_totals_and_age(open_spool: OpenSpool) -> None:
    spool = open_spool()
    assert spool.stats().oldest_age_s == 0.0
    first = spool.append([b"a", b"b"])
    time.sleep(0.05)
    spool.append([b"c"])
    stats = spool.stats()
    assert stats.oldest_age_s >= 0.05
    assert (stats.appended_total, stats.appended_records_total, stats.pending_records) == (2, 3, 3)
    spool.ack(first)
    stats = spool.stats()
    assert stats.oldest_age_s < 0.05
    assert (stats.acked_total, stats.acked_records_total, stats.pending_records) == (1, 2, 1)
    assert stats.bytes > 0
    assert stats.segments == 1


def test_batcher_and_writer_threads_share_a_spool(open_spool: OpenSpool) -> None:
    import queue
    import threading

    spool = open_spool(fsync="interval", fsync_interval_ms=1, segment_bytes=8192, max_bytes=1 << 20)
    handoff: queue.Queue[str | None] = queue.Queue()
    errors: list[BaseException] = []

    def batcher() -> None:
        try:
            for i in range(400):
                handoff.put(spool.append([b"%d" % i, b"x" * (i % 700)]))
        except BaseException as exc:
            errors.append(exc)
        finally:
            handoff.put(None)

    def writer() -> None:
        try:
            while (batch_id := handoff.get()) is not None:
                assert spool.ack(batch_id)
                list(spool.pending())  # reads race with appends, acks and segment deletion
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=batcher), threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    stats = spool.stats()
    assert (stats.appended_total, stats.acked_total, stats.pending_batches) == (400, 400, 0)
    assert stats.segments <= 1
    spool.close()
    assert list(open_spool().pending()) == []
