"""The ``interval`` fsync policy's background thread: it fdatasyncs what appends and acks left dirty.

Under this policy an append or ack returns once its bytes reach the kernel; this thread makes them
durable every ``fsync_interval_ms`` (see docs/durability.md for what a machine crash may lose). It
fsyncs duplicated descriptors outside the spool's lock so that appends do not wait on the disk.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from ._recover import fsync_dir
from ._segment import Segment
from ._totals import SpoolTotals

__all__ = ["IntervalFlusher"]

_log = logging.getLogger("collector.spool")


class IntervalFlusher:
    """Every ``interval_s``, fdatasyncs the dirty files of ``segments`` and, if marked, the directory.

    ``segments`` and ``totals`` are the spool's own, and ``lock`` is the spool's lock, which guards
    them, the segments' dirty flags and ``dir_dirty``.
    """

    def __init__(
        self, lock: threading.Lock, segments: list[Segment], totals: SpoolTotals, directory: Path, interval_s: float
    ) -> None:
        self._lock = lock
        self._segments = segments
        self._totals = totals
        self._dir = directory
        self._interval_s = interval_s
        self.dir_dirty = False  # a segment file was created since the last pass
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="spool-fsync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the thread, waiting out a pass in progress. Idempotent."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self._flush_dirty()

    def _flush_dirty(self) -> None:
        # No check that the spool is closed: it stops this thread before it closes any descriptor.
        with self._lock:
            fds: list[int] = []
            for seg in self._segments:
                for fd, dirty in ((seg.log_fd, seg.log_dirty), (seg.ack_fd, seg.ack_dirty)):
                    if fd is not None and dirty:
                        fds.append(os.dup(fd))
                seg.log_dirty = seg.ack_dirty = False
            sync_dir, self.dir_dirty = self.dir_dirty, False
        try:
            for fd in fds:
                os.fdatasync(fd)
            if sync_dir:
                fsync_dir(self._dir)
        except OSError as exc:
            with self._lock:
                self._totals.fsync_errors += 1
            _log.error("spool: interval fsync failed: %s", exc.strerror)
        finally:
            for fd in fds:
                os.close(fd)
