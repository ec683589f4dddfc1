"""Open-time recovery: rebuild the pending index from the segments, quarantine damage.

Damage never stops the open. A segment is trusted up to its first frame that fails a check; the
rest of that segment is copied to ``quarantine/`` with a reason file, the segment is cut back to
its intact prefix, and recovery carries on with the next segment.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ._format import FILLER_ID
from ._segment import Segment, estimate_records, list_segments, read_acks, scan_log

__all__ = ["Recovery", "fsync_dir", "recover"]

_log = logging.getLogger("collector.spool")


@dataclass
class Recovery:
    segments: list[Segment] = field(default_factory=list)  # the ones with pending frames, in order
    next_index: int = 1
    quarantined_records: int = 0
    quarantined_bytes: int = 0
    quarantine_events: int = 0


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def quarantine(qdir: Path, source_name: str, offset: int, data: bytes, reason: str) -> int:
    """Keep damaged bytes for a human, with why; returns the records presumed lost."""
    qdir.mkdir(exist_ok=True)
    stem = f"{source_name}.at-{offset}.{time.time_ns()}"
    records = estimate_records(data)
    (qdir / f"{stem}.bin").write_bytes(data)
    note = {
        "segment": source_name,
        "offset": offset,
        "bytes": len(data),
        "records_presumed_lost": records,
        "reason": reason,
        "detected_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (qdir / f"{stem}.reason.json").write_text(json.dumps(note, indent=2) + "\n")
    _log.error("spool: quarantined %d bytes (about %d records) of %s: %s", len(data), records, source_name, reason)
    return records


def recover(directory: Path, qdir: Path, *, sync: bool) -> Recovery:
    result = Recovery()
    logs, acks = list_segments(directory)
    for index in acks:
        if index not in logs:  # left by a crash between the two unlinks of a segment deletion
            (directory / f"seg-{index:016d}.acks").unlink(missing_ok=True)
    for index in logs:
        seg = _recover_segment(directory, qdir, index, result, sync=sync)
        if seg is not None:
            result.segments.append(seg)
    result.next_index = (max(logs) + 1) if logs else 1
    if sync:
        fsync_dir(directory)
    return result


def _recover_segment(directory: Path, qdir: Path, index: int, result: Recovery, *, sync: bool) -> Segment | None:
    seg = Segment(directory, index, 0, 0)
    data = seg.log_path.read_bytes()
    scan = scan_log(data)
    if scan.damage is not None:
        damaged = data[scan.valid_len :]
        result.quarantined_records += quarantine(qdir, seg.log_path.name, scan.valid_len, damaged, scan.damage)
        result.quarantined_bytes += len(damaged)
        result.quarantine_events += 1
        if sync:
            fsync_dir(qdir)
        # Cut the segment back so its (still checksummed) prefix stays replayable on later opens.
        with open(seg.log_path, "r+b") as f:
            f.truncate(scan.valid_len)
            if sync:
                os.fsync(f.fileno())
    acked, ack_len = read_acks(seg.ack_path)
    if seg.ack_path.exists() and seg.ack_path.stat().st_size != ack_len:
        with open(seg.ack_path, "r+b") as f:  # drop a torn last ack record: later ones must align
            f.truncate(ack_len)
    seg.size = scan.valid_len
    seg.ack_size = ack_len
    seg.frames = len(scan.frames)
    for offset, header in scan.frames:
        if offset not in acked and header.batch_id != FILLER_ID:
            seg.pending[offset] = header
    if not seg.pending:
        seg.delete()
        return None
    return seg
