"""The record processors the pipeline runs between redaction and export, in order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._settings import AuditSettings

if TYPE_CHECKING:
    from ._pipeline import RecordProcessor
    from ._store._client import Store


def default_processors(settings: AuditSettings, store: Store) -> list[RecordProcessor]:
    """Processors for a pipeline writing into ``store``: the integrity hash chain unless disabled."""
    from ._integrity import IntegritySettings, build_chain_processor

    integrity = IntegritySettings()
    if not integrity.integrity_enabled:
        return []
    return [build_chain_processor(integrity, store)]
