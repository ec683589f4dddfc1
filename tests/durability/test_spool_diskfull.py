"""The OS refusing writes: a full filesystem, a file size limit, a failing fsync."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from spool_testlib import records_of, segment_logs, small_tmpfs

from collector._spool import Spool, SpoolConfig, SpoolWriteError

OpenSpool = Callable[..., Spool]


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path, "256k") as mount_point:
        yield mount_point


def test_disk_full_raises_spool_write_error_and_keeps_earlier_batches(small_fs: Path) -> None:
    config = SpoolConfig(small_fs / "spool", segment_bytes=64 * 1024, max_bytes=16 << 20, fsync="batch")
    spool = Spool(config)
    appended: list[tuple[str, tuple[bytes, ...]]] = []
    error: SpoolWriteError | None = None
    for i in range(1000):
        records = tuple(bytes([i % 251]) * 3000 for _ in range(3))
        try:
            appended.append((spool.append(records), records))
        except SpoolWriteError as exc:
            error = exc
            break
    assert error is not None
    assert "ENOSPC" in str(error)
    assert "3 records" in str(error)
    assert len(appended) > 10
    assert spool.stats().write_errors_total == 1
    # Earlier batches are intact and every segment ends on a frame boundary (the torn frame was cut).
    assert [(b.batch_id, b.records) for b in spool.pending()] == appended
    # Retrying while full fails the same clean way, and acking frees whole segments for new appends.
    with pytest.raises(SpoolWriteError):
        spool.append([b"z" * 9000])
    for batch_id, _ in appended[:40]:
        spool.ack(batch_id)
    later = spool.append([b"after"])
    spool.close()

    again = Spool(config)
    assert again.stats().quarantine_events == 0
    assert [b.batch_id for b in again.pending()] == [*(i for i, _ in appended[40:]), later]
    again.close()


_RLIMIT_CHILD = """
import resource, signal, sys
from pathlib import Path
from collector._spool import Spool, SpoolConfig, SpoolWriteError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
spool = Spool(SpoolConfig(Path(sys.argv[1]), segment_bytes=1 << 20, max_bytes=1 << 22, fsync="always"))
resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
ok = 0
try:
    for i in range(100):
        spool.append([b"r" * 1500])
        ok += 1
except SpoolWriteError as exc:
    print("ERROR", exc)
print("OK", ok)
spool.close()
"""


def test_file_size_limit_gives_spool_write_error_without_torn_frame(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    proc = subprocess.run(
        [sys.executable, "-c", _RLIMIT_CHILD, str(directory)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "ERROR" in proc.stdout
    assert "EFBIG" in proc.stdout
    ok = int(proc.stdout.split("OK ")[1])
    assert ok == 20000 // (48 + 4 + 1500)
    (log,) = segment_logs(directory)
    assert log.stat().st_size == ok * (48 + 4 + 1500)  # the partial frame was truncated away
    spool = Spool(SpoolConfig(directory))
    assert len(records_of(spool)) == ok
    assert spool.stats().quarantine_events == 0
    spool.close()


def test_failed_fsync_cuts_the_frame_back_off(open_spool: OpenSpool, monkeypatch: pytest.MonkeyPatch) -> None:
    # EIO from fsync cannot be provoked on a healthy disk without a device mapper; inject it.
    spool = open_spool(fsync="always")
    kept = spool.append([b"kept"])
    real = os.fdatasync

    def failing(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", failing)
    with pytest.raises(SpoolWriteError, match="EIO"):
        spool.append([b"lost"])
    monkeypatch.setattr(os, "fdatasync", real)
    after = spool.append([b"after"])
    assert [b.batch_id for b in spool.pending()] == [kept, after]
    assert records_of(spool) == [(b"kept",), (b"after",)]
