"""Persisting an ack: one record appended to the segment's ack file, fsynced under policy ``always``.

A failed ack write is logged and reported to the caller but never raised: ClickHouse already holds
the batch, so the worst outcome is a replay after a restart, which ClickHouse drops as a duplicate
of the batch's insert token.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ._recover import fsync_dir
from ._segment import Segment

__all__ = ["persist_ack"]

_log = logging.getLogger("collector.spool")


def persist_ack(seg: Segment, offset: int, directory: Path, *, sync: bool) -> bool:
    """Record the frame at ``offset`` of ``seg`` as acked; False when the OS refused the write or fsync.

    With ``sync``, the record is fdatasynced and so is ``directory`` when this created the ack file.
    """
    try:
        created = seg.ack_fd is None and not seg.ack_path.exists()
        seg.write_ack(offset)
        if sync:
            seg.sync_ack()
            if created:
                fsync_dir(directory)
    except OSError as exc:
        _log.warning(
            "spool: cannot persist an ack in %s (%s); the batch may replay after a restart",
            seg.ack_path.name,
            exc.strerror,
        )
        return False
    return True
