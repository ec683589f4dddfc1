"""One process per spool directory: an exclusive, non-blocking flock on ``spool.lock``."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ._errors import SpoolLockedError

__all__ = ["take_lock"]


def take_lock(path: Path) -> int:
    """Lock ``path`` (created if missing) and write our pid into it; returns the descriptor to keep."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise SpoolLockedError(
            f"spool directory {path.parent} is owned by another process (pid {holder}); "
            "each process needs its own spool directory"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd
