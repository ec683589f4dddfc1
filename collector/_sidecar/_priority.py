"""Lower the CPU priority of the sidecar's background threads, so a shared host favours the app.

A sidecar next to the app competes with it for the same cores (a 2-core box runs both). Its
redaction and store threads do work that can wait: what they have not reached yet is already
durable in the spool or held unacknowledged by the app's remote hook. Its ingest thread cannot
wait (the app's sender is holding a batch for its answer), so it keeps its priority. Linux keeps
a nice value per thread; elsewhere this does nothing.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterable

log = logging.getLogger("collector")

__all__ = ["lower_priority"]


def lower_priority(threads: Iterable[threading.Thread], steps: int) -> int:
    """Raise each started thread's nice value by ``steps`` (at most to 19); returns how many were
    lowered. Never raises: a refusal (a sandbox without setpriority) leaves them as they were."""
    if steps <= 0 or not sys.platform.startswith("linux"):
        return 0
    lowered = 0
    for thread in threads:
        tid = thread.native_id
        if tid is None or not thread.is_alive():
            continue
        try:
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + steps))
        except OSError as exc:
            log.warning("collector: could not lower the priority of %s (%s)", thread.name, type(exc).__name__)
            continue
        lowered += 1
    return lowered
