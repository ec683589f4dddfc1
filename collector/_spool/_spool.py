"""The durable spool: a write-ahead log of redacted batches between the batcher and ClickHouse.

One lock serializes appends, acks and rotation. An append holds it through its fsync (policies
``always`` and ``batch``), so an ack from the writer thread may wait for one fsync; that keeps
rotation and deletion simple and is cheap next to a ClickHouse insert.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType

from ._acks import persist_ack
from ._errors import SpoolClosedError, SpoolFullError, SpoolWriteError
from ._flusher import IntervalFlusher
from ._format import FRAME_OVERHEAD, FrameHeader, encode_frame, frame_size
from ._lock import take_lock
from ._readback import decode_batch, quarantine_frame, read_frame
from ._recover import fsync_dir, recover
from ._segment import Segment
from ._totals import SpoolTotals
from ._types import BatchId, SpoolBatch, SpoolConfig, SpoolStats

__all__ = ["Spool"]

_log = logging.getLogger("collector.spool")
_LOCK_NAME = "spool.lock"
_QUARANTINE = "quarantine"


class Spool:
    """A directory of segment files owned by one process; see docs/durability.md.

    ``append`` makes a batch durable (per the fsync policy) and returns its id, ``ack`` records that
    ClickHouse holds it, ``pending`` yields the un-acked batches in append order.
    """

    def __init__(self, config: SpoolConfig) -> None:
        self.config = config
        self._dir = Path(config.directory)
        self._qdir = self._dir / _QUARANTINE
        self._lock = threading.Lock()
        self._closed = False
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock_fd = take_lock(self._dir / _LOCK_NAME)
        self._sync = config.fsync != "never"
        try:
            rec = recover(self._dir, self._qdir, sync=self._sync)
        except BaseException:
            os.close(self._lock_fd)
            raise
        self._segments: list[Segment] = rec.segments  # shared with the flusher: mutated, never rebound
        self._next_index = rec.next_index
        self._active: Segment | None = None  # always a fresh segment: recovered ones are read-only
        self._index: dict[str, tuple[Segment, int]] = {}
        self._pending_records = 0
        for seg in self._segments:
            for offset, header in seg.pending.items():
                self._index[header.batch_id.hex()] = (seg, offset)
                self._pending_records += header.record_count
        self._totals = SpoolTotals(
            quarantined_records=rec.quarantined_records,
            quarantined_bytes=rec.quarantined_bytes,
            quarantine_events=rec.quarantine_events,
        )
        self._flusher: IntervalFlusher | None = None
        if config.fsync == "interval":
            self._flusher = IntervalFlusher(
                self._lock, self._segments, self._totals, self._dir, config.fsync_interval_ms / 1000
            )

    # -- public API --------------------------------------------------------------------------

    def append(self, records: Sequence[bytes], batch_id: str | None = None) -> BatchId:
        """Write one batch durably (per the fsync policy) and return its id.

        ``batch_id`` (32 hex digits) is for a batch that may already have been inserted under that
        token: its replay is then deduplicated against that insert. By default the id is random.
        Raises SpoolFullError when the batch would take the spool past max_bytes and SpoolWriteError
        when the OS refuses the write or its fsync; in both cases nothing of the batch remains.
        """
        if not records:
            raise ValueError("a spool batch needs at least one record")
        raw_id = os.urandom(16) if batch_id is None else bytes.fromhex(batch_id)
        if len(raw_id) != 16:
            raise ValueError("a spool batch id is 32 hex digits")
        size = frame_size(records)
        with self._lock:
            self._check_open()
            if self._over_budget(size) and self._active is not None and not self._active.pending:
                self._seal_active()  # a fully acked active segment is reclaimable space
            if self._over_budget(size):
                self._totals.full_rejections += 1
                raise SpoolFullError(
                    f"spool {self._dir} is full: {self._disk_bytes()} of {self.config.max_bytes} bytes "
                    f"used, a batch of {len(records)} records needs {size}"
                )
            if raw_id.hex() in self._index:
                raise ValueError("a batch with this id is already pending")
            now_ms = int(time.time() * 1000)
            frame = encode_frame(records, raw_id, now_ms)
            seg, offset = self._write(frame, len(records))
            header = FrameHeader(size - FRAME_OVERHEAD, len(records), now_ms, raw_id)
            seg.pending[offset] = header
            seg.frames += 1
            batch_id = BatchId(raw_id.hex())
            self._index[batch_id] = (seg, offset)
            self._pending_records += len(records)
            self._totals.appended += 1
            self._totals.appended_records += len(records)
            return batch_id

    def ack(self, batch_id: str) -> bool:
        """Record that ClickHouse holds the batch; returns False if it was not pending (idempotent).

        An ack whose write fails is kept in memory and counted: after a restart the batch replays
        and ClickHouse drops it as a duplicate of its token.
        """
        with self._lock:
            self._check_open()
            loc = self._index.pop(batch_id, None)
            if loc is None:
                return False
            seg, offset = loc
            header = seg.pending[offset]
            self._totals.acked += 1
            self._totals.acked_records += header.record_count
            self._retire(seg, offset, header)
            return True

    def pending(self) -> Iterator[SpoolBatch]:
        """The un-acked batches in append order, read back from disk and re-verified.

        A snapshot of the index is taken first: batches appended later are not included and batches
        acked meanwhile are skipped. A frame that no longer passes its checksum is quarantined.
        """
        with self._lock:
            self._check_open()
            todo = [(seg, offset, header) for seg in self._segments for offset, header in seg.pending.items()]
        for seg, offset, header in todo:
            batch = self._read(seg, offset, header)
            if batch is not None:
                yield batch

    def stats(self) -> SpoolStats:
        with self._lock:
            oldest = self._oldest_appended_ms()
            return self._totals.snapshot(
                disk_bytes=self._disk_bytes(),
                pending_batches=len(self._index),
                pending_records=self._pending_records,
                oldest_age_s=max(0.0, time.time() - oldest / 1000) if oldest is not None else 0.0,
                segments=len(self._segments),
            )

    def flush(self) -> None:
        """fsync every written byte now, whatever the policy (used before a planned shutdown)."""
        with self._lock:
            self._check_open()
            for seg in self._segments:
                seg.sync_log()
                seg.sync_ack()
            fsync_dir(self._dir)
            if self._flusher is not None:
                self._flusher.dir_dirty = False

    def close(self) -> None:
        """fsync (unless the policy is ``never``), delete fully acked segments, release the lock."""
        if self._flusher is not None:
            self._flusher.stop()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                for seg in list(self._segments):
                    seg.seal(sync=self._sync)
                    if not seg.pending:
                        self._drop_segment(seg)
                if self._sync:
                    fsync_dir(self._dir)
            finally:
                os.close(self._lock_fd)

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _simulate_crash(self) -> None:
        """Tests only: drop descriptors and the lock like a killed process, with no fsync or cleanup.

        Written bytes stay in the page cache, exactly as after a real process crash."""
        if self._flusher is not None:
            self._flusher.stop()
        with self._lock:
            self._closed = True
            for seg in self._segments:
                seg.close_fds()
            os.close(self._lock_fd)

    # -- internals ---------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise SpoolClosedError(f"spool {self._dir} is closed")

    def _disk_bytes(self) -> int:
        return sum(seg.disk_bytes() for seg in self._segments)

    def _over_budget(self, size: int) -> bool:
        return self._disk_bytes() + size > self.config.max_bytes

    def _oldest_appended_ms(self) -> int | None:
        for seg in self._segments:
            for header in seg.pending.values():
                return header.appended_at_ms
        return None

    def _write(self, frame: bytes, count: int) -> tuple[Segment, int]:
        seg: Segment | None = None
        offset: int | None = None
        try:
            seg = self._writable(len(frame))
            offset = seg.append(frame)
            if self.config.fsync in ("always", "batch"):
                seg.sync_log()
        except OSError as exc:
            self._totals.write_errors += 1
            if seg is not None and offset is not None:
                seg.truncate_log(offset)  # fsync failed: the frame was never promised, cut it off
            if seg is not None and seg.broken:
                self._seal_active()
            raise SpoolWriteError(
                f"spool {self._dir}: cannot write a batch of {count} records "
                f"({errno.errorcode.get(exc.errno or 0, 'error')}: {exc.strerror})"
            ) from exc
        return seg, offset

    def _writable(self, size: int) -> Segment:
        active = self._active
        if active is not None and (active.broken or (active.size and active.size + size > self.config.segment_bytes)):
            self._seal_active()
        if self._active is None:
            seg = Segment.create(self._dir, self._next_index)
            self._next_index += 1
            self._segments.append(seg)
            self._active = seg
            self._dir_changed()
        return self._active

    def _seal_active(self) -> None:
        seg, self._active = self._active, None
        if seg is None:
            return
        try:
            seg.seal(sync=self._sync)
        except OSError as exc:
            self._totals.fsync_errors += 1
            _log.error("spool: fsync of segment %s failed while sealing it: %s", seg.log_path.name, exc.strerror)
        if not seg.pending:
            self._drop_segment(seg)

    def _drop_segment(self, seg: Segment) -> None:
        seg.delete()
        self._segments.remove(seg)

    def _dir_changed(self) -> None:
        if self.config.fsync in ("always", "batch"):
            fsync_dir(self._dir)
        elif self._flusher is not None:
            self._flusher.dir_dirty = True

    def _retire(self, seg: Segment, offset: int, header: FrameHeader) -> None:
        """Take a frame out of ``pending`` for good: ack it on disk, delete its segment if it was the last."""
        seg.pending.pop(offset, None)
        self._pending_records -= header.record_count
        if not persist_ack(seg, offset, self._dir, sync=self.config.fsync == "always"):
            self._totals.ack_write_errors += 1
        if not seg.pending and seg is not self._active:
            self._drop_segment(seg)

    def _read(self, seg: Segment, offset: int, header: FrameHeader) -> SpoolBatch | None:
        frame = read_frame(seg, offset, header.frame_len)
        if frame is None:
            return None  # acked and deleted since the snapshot
        with self._lock:
            if self._index.get(header.batch_id.hex()) != (seg, offset):
                return None
            batch = decode_batch(frame)
            if batch is None:
                self._quarantine_frame(seg, offset, frame, header)
        return batch

    def _quarantine_frame(self, seg: Segment, offset: int, frame: bytes, header: FrameHeader) -> None:
        quarantine_frame(self._qdir, seg, offset, frame, header.frame_len, self._totals, sync=self._sync)
        self._index.pop(header.batch_id.hex(), None)
        self._retire(seg, offset, header)
