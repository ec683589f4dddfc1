"""Assemble the in-process pipeline from settings: store, exporter, redactor, builder."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from ._gc_freeze import freeze_loaded_objects
from ._pipeline import AuditPipeline
from ._processors import default_processors
from ._records import RecordBuilder, RedactorLike
from ._settings import AuditSettings
from ._store._client import Store
from ._store._exporter import ClickHouseExporter
from ._task_lookup import bounded_lookup, stored_tasks

if TYPE_CHECKING:
    from ._hook import EventSink


def new_id_prefix() -> str:
    """A random per-process prefix: with the capture counter it makes globally unique event ids."""
    return secrets.token_hex(6)


def build_pipeline(
    settings: AuditSettings,
    *,
    store: Store | None = None,
    redactor: RedactorLike | None = None,
) -> AuditPipeline:
    if redactor is None:
        from redaction import Redactor

        redactor = Redactor()
    store = store or Store.open(settings.store_dsn)
    pipeline = AuditPipeline(
        exporter=ClickHouseExporter(store),
        builder=RecordBuilder(settings, redactor, new_id_prefix()),
        settings=settings,
        processors=default_processors(settings, store),
        task_lookup=bounded_lookup(stored_tasks(store), settings.task_lookup_timeout_s),
    )
    if settings.gc_freeze:
        freeze_loaded_objects()  # after everything long-lived is loaded: models, store client, pipeline
    return pipeline


def build_sink(settings: AuditSettings) -> EventSink:
    """The hook's sink: a client of the sidecar when AUDIT_SIDECAR_URL is set, else in-process."""
    if settings.sidecar_url:
        from ._sidecar import RemoteSink  # type: ignore[import-not-found, unused-ignore]

        sink: EventSink = RemoteSink(settings)
        return sink
    return build_pipeline(settings)
