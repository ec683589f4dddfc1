"""Replay after crashes and damage: torn tails, corrupt frames, torn acks, a real SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from spool_testlib import records_of, segment_logs

from collector._spool import Spool

OpenSpool = Callable[..., Spool]
FRAME_OVERHEAD = 48


def _reasons(directory: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted((directory / "quarantine").glob("*.reason.json"))]


def test_torn_tail_is_quarantined_and_counted(open_spool: OpenSpool, tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    spool = open_spool(fsync="always")
    kept = [spool.append([b"k%d" % i] * 2) for i in range(3)]
    size_before = segment_logs(directory)[0].stat().st_size
    spool.append([b"torn"] * 5)  # the frame a crash interrupts
    spool._simulate_crash()
    log = segment_logs(directory)[0]
    os.truncate(log, size_before + FRAME_OVERHEAD + 7)  # header intact, payload cut short

    again = open_spool(fsync="always")
    assert [b.batch_id for b in again.pending()] == kept
    stats = again.stats()
    assert stats.quarantined_records == 5  # the surviving header says how many records were lost
    assert stats.quarantine_events == 1
    assert stats.quarantined_bytes == FRAME_OVERHEAD + 7
    (note,) = _reasons(directory)
    assert "torn frame" in str(note["reason"])
    assert note["offset"] == size_before
    assert log.stat().st_size == size_before  # cut back to the intact prefix
    # Appends go on, and a second reopen finds nothing new to quarantine.
    later = again.append([b"later"])
    again.close()
    third = open_spool(fsync="always")
    assert [b.batch_id for b in third.pending()] == [*kept, later]
    assert third.stats().quarantine_events == 0


def test_torn_header_counts_one_presumed_record(open_spool: OpenSpool, tmp_path: Path) -> None:
    spool = open_spool()
    spool.append([b"a"])
    spool._simulate_crash()
    with open(segment_logs(tmp_path / "spool")[0], "ab") as f:
        f.write(b"ASPL\x01\x00")  # a header cut after six bytes
    again = open_spool()
    assert records_of(again) == [(b"a",)]
    assert again.stats().quarantined_records == 1
    assert "torn frame header" in str(_reasons(tmp_path / "spool")[0]["reason"])


def test_garbage_tail_never_crashes_the_open(open_spool: OpenSpool, tmp_path: Path) -> None:
    spool = open_spool()
    spool.append([b"a"])
    spool._simulate_crash()
    with open(segment_logs(tmp_path / "spool")[0], "ab") as f:
        f.write(os.urandom(5000))
    again = open_spool()
    assert records_of(again) == [(b"a",)]
    assert again.stats().quarantined_records >= 1
    assert "bad magic" in str(_reasons(tmp_path / "spool")[0]["reason"])


def test_corrupt_middle_frame_quarantines_rest_of_segment_only(open_spool: OpenSpool, tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    spool = open_spool(segment_bytes=4096, max_bytes=1 << 20)
    ids = [spool.append([bytes([65 + i]) * 900] * 1) for i in range(8)]  # 4 frames per segment
    spool.close()
    first, second = segment_logs(directory)
    frame_len = FRAME_OVERHEAD + 4 + 900
    data = bytearray(first.read_bytes())
    assert len(data) == 4 * frame_len
    data[frame_len + 44 + 10] ^= 0xFF  # a payload byte of the second frame
    first.write_bytes(bytes(data))

    again = open_spool(segment_bytes=4096, max_bytes=1 << 20)
    assert [b.batch_id for b in again.pending()] == [ids[0], *ids[4:]]
    stats = again.stats()
    assert stats.quarantined_records == 3  # frames 2..4 of the first segment
    assert stats.quarantine_events == 1
    assert "payload checksum mismatch" in str(_reasons(directory)[0]["reason"])
    assert first.stat().st_size == frame_len
    assert second.stat().st_size == 4 * frame_len
    quarantined = next((directory / "quarantine").glob("*.bin")).read_bytes()
    assert quarantined == bytes(data[frame_len:])  # kept byte for byte for a human


def test_corrupt_header_length_is_reported_as_corruption(open_spool: OpenSpool, tmp_path: Path) -> None:
    spool = open_spool()
    spool.append([b"a" * 100])
    spool.append([b"b" * 100])
    spool.close()
    log = segment_logs(tmp_path / "spool")[0]
    data = bytearray(log.read_bytes())
    data[8] ^= 0x40  # payload length of the first frame
    log.write_bytes(bytes(data))
    again = open_spool()
    assert records_of(again) == []
    assert "header checksum mismatch at offset 0" in str(_reasons(tmp_path / "spool")[0]["reason"])
    assert segment_logs(tmp_path / "spool") == []  # nothing intact left: the segment is gone


def test_torn_ack_record_only_causes_a_replay(open_spool: OpenSpool, tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    spool = open_spool()
    ids = [spool.append([b"%d" % i]) for i in range(4)]
    spool.ack(ids[0])
    spool.ack(ids[2])
    spool._simulate_crash()
    (acks,) = directory.glob("seg-*.acks")
    os.truncate(acks, 16 + 9)  # the second ack record is torn

    again = open_spool()
    assert [b.batch_id for b in again.pending()] == [ids[1], ids[2], ids[3]]
    assert acks.stat().st_size == 16  # realigned, so later acks are readable
    again.ack(ids[2])
    again.ack(ids[3])
    again.close()
    assert [b.batch_id for b in open_spool().pending()] == [ids[1]]


def test_damage_found_on_read_back_is_quarantined(open_spool: OpenSpool, tmp_path: Path) -> None:
    spool = open_spool()
    ids = [spool.append([b"v" * 64]) for _ in range(3)]
    log = segment_logs(tmp_path / "spool")[0]
    frame_len = FRAME_OVERHEAD + 4 + 64
    with open(log, "r+b") as f:  # bit rot under a running spool, in the second frame's payload
        f.seek(frame_len + 44 + 4 + 10)
        f.write(b"w")
    assert [b.batch_id for b in spool.pending()] == [ids[0], ids[2]]
    stats = spool.stats()
    assert (stats.quarantined_records, stats.pending_batches) == (1, 2)
    spool.close()
    # The damaged frame was blanked in place: the next open steps over it and keeps ids[2].
    again = open_spool()
    assert [b.batch_id for b in again.pending()] == [ids[0], ids[2]]
    assert again.stats().quarantine_events == 0


def test_orphan_ack_file_is_removed(open_spool: OpenSpool, tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    directory.mkdir()
    (directory / "seg-0000000000000007.acks").write_bytes(b"\x00" * 16)
    spool = open_spool()
    assert not (directory / "seg-0000000000000007.acks").exists()
    spool.append([b"x"])
    assert segment_logs(directory)[0].name == "seg-0000000000000001.log"


_CHILD = """
import sys
from pathlib import Path
from collector._spool import Spool, SpoolConfig
spool = Spool(SpoolConfig(Path(sys.argv[1]), fsync="batch", segment_bytes=8192, max_bytes=1 << 22))
i = 0
while True:
    batch_id = spool.append([b"rec-%d-%d" % (i, j) for j in range(20)])
    print("APPENDED", batch_id, flush=True)
    if i % 3 == 0:
        spool.ack(batch_id)
        print("ACKED", batch_id, flush=True)
    i += 1
"""


def test_sigkill_mid_stream_loses_nothing_appended(open_spool: OpenSpool, tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(directory)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    appended: list[str] = []
    acked: set[str] = set()
    while len(appended) < 300:
        kind, batch_id = proc.stdout.readline().split()
        if kind == "APPENDED":
            appended.append(batch_id)
        else:
            acked.add(batch_id)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()

    pending = [b.batch_id for b in open_spool(segment_bytes=8192, max_bytes=1 << 22).pending()]
    expected = [b for b in appended if b not in acked]
    # Everything whose append returned is there, in order; at most the batch whose output line was
    # not read yet comes after it (and its ack may have landed too).
    assert pending[: len(expected)] == expected
    assert len(pending) - len(expected) <= 2
