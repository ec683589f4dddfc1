"""The sidecar's memory of recently received event ids, so a retried batch is not stored twice."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable


class RecentIds:
    """A bounded, thread-safe set of ids in arrival order; the oldest are forgotten first."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, ids: Iterable[str]) -> list[bool]:
        """For each id, True if it is new (and remember it), False if it was seen already."""
        out: list[bool] = []
        with self._lock:
            for event_id in ids:
                if event_id in self._ids:
                    out.append(False)
                    continue
                self._ids[event_id] = None
                out.append(True)
            while len(self._ids) > self._capacity:
                self._ids.popitem(last=False)
        return out

    def remember(self, ids: Iterable[str]) -> int:
        """Add ids (seeding after a restart); returns how many were new. Past capacity the oldest go."""
        return sum(self.claim(ids))

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, event_id: object) -> bool:
        with self._lock:
            return event_id in self._ids
