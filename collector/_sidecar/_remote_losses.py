"""The remote hook's loss ledger: events it could not deliver, per task, until the sidecar hears of them.

A loss is never silent: the count of events dropped (buffer full, a batch refused or given up on)
is shipped per task as a ``loss`` record with the next batch, and the task's row counts them.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time

from .._events import CapturedEvent, EventKind, TaskRef
from .._safe_log import at_milestone

log = logging.getLogger("collector")


class RemoteLosses:
    """Counts by task, shared by the dispatch loop, the encoder and the shipper (hence the lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[TaskRef, list[int]] = {}  # task -> [count, first seq]
        self._ids = itertools.count(1)
        self.total = 0

    def __bool__(self) -> bool:
        return bool(self._pending)

    def record(self, task: TaskRef, first_seq: int, count: int) -> None:
        with self._lock:
            self._pending.setdefault(task, [0, first_seq])[0] += count
            self.total += count
        total = self.total
        if at_milestone(total):
            log.warning("collector: remote buffer full or sidecar unreachable, %d events lost so far", total)

    def take(self) -> list[CapturedEvent]:
        """The pending counts as loss events (negative gseq: never an id of a captured event)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        now = time.time_ns()
        return [
            CapturedEvent(
                gseq=-next(self._ids),
                task=task,
                seq=first_seq,
                ts_ns=now,
                kind=EventKind.LOSS,
                payload={"lost": count, "first_seq": first_seq, "reason": "remote buffer full"},
            )
            for task, (count, first_seq) in pending.items()
        ]

    def put_back(self, losses: list[CapturedEvent]) -> None:
        """Loss events whose batch did not get through: pending again, without counting them twice."""
        with self._lock:
            for loss in losses:
                self._pending.setdefault(loss.task, [0, loss.seq])[0] += int(loss.payload["lost"])

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
