"""autogen-audit's collector: capture every AutoGen message and runtime event, attributed to its
tenant and task, redact it, and store it in ClickHouse.

    hook = AuditHook.from_env()
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
"""

from ._events import CapturedEvent, EventKind, EventRecord, TaskRecord, TaskRef
from ._factory import build_pipeline
from ._hook import AuditHook, EventSink
from ._logfilter import ContentFreeLogFilter, install_content_free_logging
from ._pipeline import AuditPipeline, PipelineStats
from ._scope import TaskScope
from ._settings import AuditSettings
from ._standalone import audited_run
from ._store._client import Store
from ._store._exporter import ClickHouseExporter, ExportResult
from .errors import AuditError, ConfigError, QueryError, SchemaError, StoreError, StoreLockedError

__all__ = [
    "AuditError",
    "AuditHook",
    "AuditPipeline",
    "AuditSettings",
    "CapturedEvent",
    "ClickHouseExporter",
    "ConfigError",
    "ContentFreeLogFilter",
    "EventKind",
    "EventRecord",
    "EventSink",
    "ExportResult",
    "PipelineStats",
    "QueryError",
    "SchemaError",
    "Store",
    "StoreError",
    "StoreLockedError",
    "TaskRecord",
    "TaskRef",
    "TaskScope",
    "audited_run",
    "build_pipeline",
    "install_content_free_logging",
]
