"""Where a pipeline's spool lives, and opening it."""

from __future__ import annotations

import logging
from pathlib import Path

from ._settings import AuditSettings
from ._spool import Spool, SpoolConfig, SpoolLockedError

__all__ = ["open_spool", "spool_directory"]

log = logging.getLogger("collector")
_SIBLINGS = 8


def spool_directory(settings: AuditSettings) -> Path:
    """settings.spool_dir, else ``<chdb path>-spool`` for an embedded store, else ``./audit-spool``."""
    if settings.spool_dir:
        return Path(settings.spool_dir).expanduser().resolve()
    dsn = settings.store_dsn
    if dsn.startswith("chdb://") and len(dsn) > len("chdb://"):
        store = Path(dsn[len("chdb://") :]).expanduser().resolve()
        return store.with_name(store.name + "-spool")
    return Path("audit-spool").resolve()


def open_spool(settings: AuditSettings) -> Spool:
    """Open the spool; if this directory is owned by another pipeline, the first free sibling ``<dir>.N``.

    Two pipelines of one process (tests, an app with two hooks) each need their own directory; a
    sibling left with pending batches is replayed by whichever pipeline opens it next.
    """
    base = spool_directory(settings)
    segment = min(settings.spool_segment_bytes, settings.spool_max_bytes // 2)
    for n in range(_SIBLINGS):
        directory = base if n == 0 else base.with_name(f"{base.name}.{n}")
        config = SpoolConfig(
            directory, max_bytes=settings.spool_max_bytes, segment_bytes=segment, fsync=settings.spool_fsync
        )
        try:
            spool = Spool(config)
        except SpoolLockedError:
            continue
        if n:
            log.warning("collector: spool %s is owned by another pipeline; using %s", base, directory)
        return spool
    raise SpoolLockedError(f"spool {base} and its {_SIBLINGS - 1} siblings are all owned by other pipelines")
