"""The spool's typed records: its configuration, a pending batch, and a stats snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NewType, get_args

from ._errors import SpoolConfigError

__all__ = ["BatchId", "FsyncPolicy", "SpoolBatch", "SpoolConfig", "SpoolStats"]

# 32 lowercase hex digits drawn at random (or given, see Spool.append) when the batch is appended and
# stored in its frame, so it is the same after any number of restarts: it is the batch's ClickHouse
# insert_deduplication_token.
BatchId = NewType("BatchId", str)

FsyncPolicy = Literal["always", "batch", "interval", "never"]
_POLICIES: tuple[str, ...] = get_args(FsyncPolicy)


@dataclass(frozen=True, slots=True)
class SpoolConfig:
    """How one spool directory behaves. See docs/durability.md for what each fsync policy guarantees."""

    directory: Path
    max_bytes: int = 256 * 1024 * 1024
    segment_bytes: int = 16 * 1024 * 1024
    fsync: FsyncPolicy = "batch"
    fsync_interval_ms: int = 200

    def __post_init__(self) -> None:
        if self.fsync not in _POLICIES:
            raise SpoolConfigError(f"unknown spool fsync policy {self.fsync!r}: use one of {_POLICIES}")
        if self.segment_bytes < 4096:
            raise SpoolConfigError("spool segment_bytes must be at least 4096")
        if self.max_bytes < 2 * self.segment_bytes:
            raise SpoolConfigError("spool max_bytes must be at least twice segment_bytes")
        if self.fsync_interval_ms < 1:
            raise SpoolConfigError("spool fsync_interval_ms must be at least 1")


@dataclass(frozen=True, slots=True)
class SpoolBatch:
    """A batch that was appended and not yet acked."""

    batch_id: BatchId
    records: tuple[bytes, ...]
    appended_at: float  # Unix time, seconds


@dataclass(frozen=True, slots=True)
class SpoolStats:
    """A snapshot for metrics. Totals count since this Spool was opened; gauges describe the disk."""

    bytes: int  # segment and ack files on disk, the quantity bounded by max_bytes
    pending_batches: int
    pending_records: int
    oldest_age_s: float  # age of the oldest un-acked batch; 0.0 when none
    segments: int
    appended_total: int  # batches
    appended_records_total: int
    acked_total: int  # batches
    acked_records_total: int
    quarantined_records: int  # records presumed lost to damage found by this process
    quarantined_bytes: int
    quarantine_events: int
    full_rejections_total: int  # appends refused with SpoolFullError
    write_errors_total: int  # appends refused with SpoolWriteError
    ack_write_errors_total: int  # acks kept in memory but not written (the batch may replay)
    fsync_errors_total: int  # failures of the interval flusher
