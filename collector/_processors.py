"""The record processors the pipeline runs between redaction and export, in order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._settings import AuditSettings

if TYPE_CHECKING:
    from ._pipeline import RecordProcessor
    from ._store._client import Store


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
