"""The pipeline's stats record and its health verdict (what /readyz and the audit_ready gauge say)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ._settings import AuditSettings
from ._spool import SpoolStats
from ._writer import WriterState

__all__ = ["Health", "PipelineStats", "assess"]


@dataclass(frozen=True, slots=True)
class PipelineStats:
    """Counters since start. An accepted event is written, lost (lost_accepted), or pending
    (queued in memory, or in the spool: spool_pending_batches)."""

    accepted: int
    written: int  # event rows of this process's batches newly stored (deduplicated repeats excluded)
    lost: int  # every event recorded as lost, including those refused by submit (queue full, shutdown)
    queued: int
    batches: int
    export_failures: int
    redaction_failures: int
    lost_accepted: int = 0  # accepted events lost after submit returned True (spool full, disk error)
    deduplicated: int = 0
    replayed: int = 0  # event rows of a previous process's spool stored by this one
    spool_pending_batches: int = 0
    spool_bytes: int = 0


@dataclass(frozen=True, slots=True)
class Health:
    """``live``: the worker threads run. ``ready``: the store answered recently, the spool is under its
    alarm bound and no batch is failing permanently. ``reasons`` says why not, without any content."""

    live: bool
    ready: bool
    reasons: tuple[str, ...]
    store_ok: bool
    spool_bytes: int
    spool_max_bytes: int
    oldest_pending_s: float
    parked_batches: int


def assess(
    settings: AuditSettings, writer: WriterState, spool: SpoolStats | None, closed: bool, rejections: int
) -> Health:
    reasons: list[str] = []
    now = time.monotonic()
    fresh = writer.last_ok > 0 and now - writer.last_ok <= settings.ready_store_stale_s
    store_ok = writer.store_ok and fresh
    if closed:
        reasons.append("pipeline is shut down")
    if not store_ok:
        reasons.append(f"store not reachable recently ({writer.last_error or 'no successful contact yet'})")
    used = spool.bytes if spool else 0
    if used >= settings.spool_max_bytes * settings.spool_alarm_ratio:
        reasons.append(f"spool at {used} of {settings.spool_max_bytes} bytes")
    if writer.parked:
        reasons.append(f"{writer.parked} batches fail permanently ({writer.last_error}); they stay in the spool")
    if writer.direct_pending:
        reasons.append(f"{writer.direct_pending} loss-record batches held in memory (spool refused them)")
    return Health(
        live=not closed,
        ready=not reasons,
        reasons=tuple(reasons),
        store_ok=store_ok,
        spool_bytes=used,
        spool_max_bytes=settings.spool_max_bytes,
        oldest_pending_s=spool.oldest_age_s if spool else 0.0,
        parked_batches=writer.parked,
    )
