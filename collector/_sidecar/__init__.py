"""The sidecar link: the app's RemoteSink and the sidecar's ingest routes (events + OTLP/HTTP).

AUDIT_SIDECAR_URL=http://127.0.0.1:8700 AUDIT_INGEST_TOKEN=... -> AuditHook.from_env() ships
raw events to the sidecar, which redacts and stores them.
"""

from ._app import create_sidecar_app, ingest_pipeline, mount_ingest
from ._client import INGEST_PATH, RemoteSink, RemoteSinkStats
from ._dedup import RecentIds
from ._errors import IngestConfigError, SidecarError, SidecarUrlError, WireFormatError
from ._ingest import Ingest, ingest_router
from ._settings import SidecarSettings
from ._wire import decode_batch, encode_batch, encode_event

__all__ = [
    "INGEST_PATH",
    "Ingest",
    "IngestConfigError",
    "RecentIds",
    "RemoteSink",
    "RemoteSinkStats",
    "SidecarError",
    "SidecarSettings",
    "SidecarUrlError",
    "WireFormatError",
    "create_sidecar_app",
    "decode_batch",
    "encode_batch",
    "encode_event",
    "ingest_pipeline",
    "ingest_router",
    "mount_ingest",
]
