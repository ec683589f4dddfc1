"""Record processors: what one is, the default list, and the lifecycle calls the pipeline makes.

The pipeline runs the processors in order between redaction and export; at start it shows them
what an earlier process left in the spool, and at shutdown it closes them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ._codec import decode_batch
from ._events import EventRecord
from ._safe_log import log_failure
from ._settings import AuditSettings

if TYPE_CHECKING:
    from ._store._client import Store

__all__ = ["RecordProcessor", "close_processors", "default_processors", "show_replayed"]

log = logging.getLogger("collector")
_SHUTDOWN_MIN_S = 0.25

# A processor is a small callable over a batch of redacted records, structlog-style; the
# pipeline runs the list in order between redaction and export. It returns the same number of
# records, in order (it may replace them, e.g. to add hash-chain fields), and must not raise.
# At shutdown the pipeline calls its close(), or its shutdown(timeout_s) with what is left of the
# pipeline's deadline.
RecordProcessor = Callable[[list[EventRecord]], list[EventRecord]]


def default_processors(settings: AuditSettings, store: Store) -> list[RecordProcessor]:
    """Processors for a pipeline writing into ``store``, in order: the integrity hash chain (unless
    disabled), then the OTLP span/log export (when an endpoint is configured). The export comes last
    so that it sees the records exactly as stored."""
    from ._integrity import IntegritySettings, build_chain_processor
    from ._otel_out import build_otel_processor

    processors: list[RecordProcessor] = []
    integrity = IntegritySettings()
    if integrity.integrity_enabled:
        processors.append(build_chain_processor(integrity, store))
    otel = build_otel_processor()  # None unless AUDIT_OTLP_EXPORT_ENDPOINT is set
    if otel is not None:
        processors.append(otel)
    return processors


def show_replayed(processors: Sequence[RecordProcessor], records: Sequence[bytes]) -> None:
    """Stateful processors (the hash chain) must see what an earlier process already processed
    and spooled, or they would resume from a store that does not hold it yet."""
    observers = [p for p in processors if callable(getattr(p, "observe_replayed", None))]
    if not observers:
        return
    try:
        events, _ = decode_batch(records)
    except Exception:  # noqa: BLE001 - a batch the writer cannot decode is quarantined by it
        return
    for processor in observers:
        processor.observe_replayed(events)  # type: ignore[attr-defined]


def close_processors(processors: Sequence[RecordProcessor], timeout_s: float = 10.0) -> None:
    """Each processor's close(), or its shutdown(timeout_s) with what is left of ``timeout_s``
    (at least ``_SHUTDOWN_MIN_S``: a flush that finishes in time should get its chance)."""
    deadline = time.monotonic() + timeout_s
    for processor in processors:
        close = getattr(processor, "close", None)
        shutdown = getattr(processor, "shutdown", None)
        try:
            if callable(close):
                close()
            elif callable(shutdown):
                shutdown(max(_SHUTDOWN_MIN_S, deadline - time.monotonic()))
        except Exception as exc:  # noqa: BLE001 - must not stop the thread; logged without content
            log_failure(log, "collector: closing a record processor failed", exc)
