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
