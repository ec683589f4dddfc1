"""The state the in-process pipeline's parts share, in one object instead of a dozen arguments."""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._events import CapturedEvent
from ._losses import LossLedger

if TYPE_CHECKING:
    from ._batcher import Waiter

__all__ = ["PipelineState"]

COUNTERS = (
    "accepted",
    "written",
    "lost_accepted",
    "batches",
    "redaction_failures",
    "deduplicated",
    "replayed",
    "spool_rejections",
)


def _counters() -> dict[str, int]:
    return dict.fromkeys(COUNTERS, 0)


@dataclass(frozen=True, slots=True)
class PipelineState:
    """``submit`` appends to ``queue`` (to ``overflow`` past the bound) without a lock; the snapshot
    stage moves both, in order, to ``ready`` (payloads as JSON text); the batcher takes from
    ``ready``. ``waiters`` are the durable submits waiting on their events, ``unacked`` the batch
    ids appended by this process and not yet acknowledged, guarded by ``cond`` (which also guards
    the flush generations); ``wake`` gets the batcher going before its interval is up."""

    queue: collections.deque[CapturedEvent] = field(default_factory=collections.deque)
    overflow: collections.deque[CapturedEvent] = field(default_factory=collections.deque)
    ready: collections.deque[CapturedEvent] = field(default_factory=collections.deque)
    waiters: dict[int, Waiter] = field(default_factory=dict)
    unacked: dict[str, None] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=_counters)
    losses: LossLedger = field(default_factory=LossLedger)
    wake: threading.Event = field(default_factory=threading.Event)
    cond: threading.Condition = field(default_factory=threading.Condition)
