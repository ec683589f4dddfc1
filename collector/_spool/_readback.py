"""Reading a pending batch back from its segment, and quarantining a frame that fails the re-check.

A frame was verified when it was appended or recovered, but the disk may have damaged it since, so
``Spool.pending`` re-verifies every frame before handing its batch to the writer. A frame that fails
is copied to ``quarantine/`` and blanked in its segment.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ._format import decode_header, decode_payload, payload_crc_ok
from ._recover import quarantine
from ._segment import Segment
from ._totals import SpoolTotals
from ._types import BatchId, SpoolBatch

__all__ = ["decode_batch", "quarantine_frame", "read_frame"]

_log = logging.getLogger("collector.spool")


def read_frame(seg: Segment, offset: int, length: int) -> bytes | None:
    """The frame's bytes as they are on disk now; None when its segment is gone (all of it acked)."""
    try:
        with open(seg.log_path, "rb") as f:
            f.seek(offset)
            return f.read(length)
    except FileNotFoundError:
        return None


def decode_batch(frame: bytes) -> SpoolBatch | None:
    """The batch in ``frame`` if the frame still passes its header and payload checks, else None."""
    _, on_disk = decode_header(frame)
    ok = on_disk is not None and len(frame) == on_disk.frame_len and payload_crc_ok(frame, on_disk)
    records = decode_payload(frame, on_disk) if ok and on_disk is not None else None
    if records is None or on_disk is None:
        return None
    return SpoolBatch(BatchId(on_disk.batch_id.hex()), tuple(records), on_disk.appended_at_ms / 1000)


def quarantine_frame(
    qdir: Path, seg: Segment, offset: int, frame: bytes, frame_len: int, totals: SpoolTotals, *, sync: bool
) -> None:
    """Copy a frame that failed its read-back check to ``qdir``, count it in ``totals`` and blank its
    ``frame_len`` bytes in ``seg``. The caller still has to ack it."""
    reason = f"frame at offset {offset} failed its checksum when read back"
    totals.quarantined_records += quarantine(qdir, seg.log_path.name, offset, frame, reason)
    totals.quarantined_bytes += len(frame)
    totals.quarantine_events += 1
    # Overwrite it with a filler frame of the same length so that later opens step over it rather
    # than quarantining the intact frames behind it; the ack keeps it out of this process's view.
    try:
        seg.blank(offset, frame_len, sync=sync)
    except OSError as exc:
        _log.error("spool: cannot blank a damaged frame in %s: %s", seg.log_path.name, exc.strerror)
