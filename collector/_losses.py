"""Loss bookkeeping: every event that does not make it is counted per task and becomes a loss row.

The pipeline turns each pending entry into a synthetic ``loss`` event of its task (payload
``{"lost": N, "first_seq": S, "reason": R}``); the task tracker adds N to the task's lost_events,
so the task shows as incomplete (abnormal=1). Nothing here touches captured content.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterable

from ._events import CapturedEvent, EventKind, TaskRef

__all__ = ["LossLedger"]


class LossLedger:
    """Thread-safe: the hot path (queue full) and the batcher (spool refused) both record here."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[tuple[TaskRef, str], list[int]] = {}  # (task, reason) -> [count, first seq]
        self._ids = itertools.count(1)
        self.total = 0

    def record(self, task: TaskRef, seq: int, reason: str, count: int = 1) -> int:
        """Count ``count`` lost events of ``task``; returns the running total (for rate-limited logs)."""
        with self._lock:
            entry = self._pending.setdefault((task, reason), [0, seq])
            entry[0] += count
            entry[1] = min(entry[1], seq)
            self.total += count
            return self.total

    def record_events(self, events: Iterable[CapturedEvent], reason: str) -> int:
        """Record captured events as lost (synthetic loss rows are not events: they are not counted)."""
        n = 0
        for event in events:
            if event.kind != EventKind.LOSS:
                self.record(event.task, event.seq, reason)
                n += 1
        return n

    def restore(self, loss_events: Iterable[CapturedEvent]) -> None:
        """Put taken loss rows back, unwritten (their batch was refused): their counts are already
        in ``total``, so only the pending rows grow."""
        with self._lock:
            for event in loss_events:
                payload = event.payload if isinstance(event.payload, dict) else {}
                key = (event.task, str(payload.get("reason", "")))
                entry = self._pending.setdefault(key, [0, event.seq])
                entry[0] += int(payload.get("lost", 0))
                entry[1] = min(entry[1], event.seq)

    def __bool__(self) -> bool:
        return bool(self._pending)

    def take(self) -> list[CapturedEvent]:
        """The loss events to insert for everything recorded since the last take."""
        with self._lock:
            pending, self._pending = self._pending, {}
            ids = [next(self._ids) for _ in pending]
        now = time.time_ns()
        return [
            CapturedEvent(
                gseq=-loss_id,
                task=task,
                seq=first_seq,
                ts_ns=now,
                kind=EventKind.LOSS,
                payload={"lost": count, "first_seq": first_seq, "reason": reason},
            )
            for loss_id, ((task, reason), (count, first_seq)) in zip(ids, pending.items(), strict=True)
        ]
