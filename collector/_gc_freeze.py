"""Keep the in-process pipeline's long-lived objects out of the app's full garbage collections.

Presidio, its spaCy model, clickhouse-connect and chDB leave ~150k objects that live as long as
the process. CPython's cyclic collector rescans every tracked object on each full collection, so
loading them in the app's process made each of the app's full collections ~5x longer (27 ms to
130 ms on the development VM): a pause on the dispatch loop that the agents pay, every few
hundred agent turns. ``gc.freeze()`` moves every object alive at that moment into a permanent
generation that collections skip; they are still freed by reference counting, only cycles among
them are never collected, which is why it runs once, right after a full collection, when what is
alive is mostly modules, classes and loaded models.
"""

from __future__ import annotations

import gc
import logging
import threading

__all__ = ["freeze_loaded_objects"]

log = logging.getLogger("collector")

_lock = threading.Lock()
_frozen = False


def freeze_loaded_objects() -> int:
    """Collect, then freeze every object alive, once per process. Returns how many objects were
    frozen by this call (0 when an earlier call already did it)."""
    global _frozen
    with _lock:
        if _frozen:
            return 0
        _frozen = True
        gc.collect()
        before = gc.get_freeze_count()
        gc.freeze()
        frozen = gc.get_freeze_count() - before
    log.info("collector: %d long-lived objects moved out of the garbage collector's full scans (gc.freeze)", frozen)
    return frozen
