"""Log a failure without its message: exception texts can quote the payload that caused them.

pydantic's validation errors, for one, repeat the offending input; a traceback printed by
``log.exception`` would carry it into the app's logs. We log the exception type and where it was
raised (file:line, innermost last), which is what an operator needs to find the bug.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path


def log_failure(logger: logging.Logger, message: str, exc: BaseException) -> None:
    frames = traceback.extract_tb(exc.__traceback__)[-6:]
    where = " > ".join(f"{Path(frame.filename).name}:{frame.lineno}" for frame in frames) or "?"
    logger.error("%s: %s at %s", message, type(exc).__name__, where)


def at_milestone(count: int) -> bool:
    """Whether a running count of dropped or lost events is worth a warning now: its 1st, 10th,
    100th and 1,000th, then every 10,000th. One line per event would flood the app's logs exactly
    when it is overloaded."""
    return count in (1, 10, 100, 1000) or count % 10_000 == 0
