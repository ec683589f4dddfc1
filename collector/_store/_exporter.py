"""The ClickHouse exporter: one batch of redacted records in, an ExportResult out (never raises)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .._events import EventRecord, TaskRecord
from .._retry import Classification, explain
from ._client import Store

# Column order follows EventRecord's fields, so a field added to the record (with its column in
# a migration) is exported without touching this module. ts_ns is stored as the DateTime64 `ts`.
EVENT_FIELDS = [f.name for f in dataclasses.fields(EventRecord)]
EVENT_COLUMNS = ["ts" if name == "ts_ns" else name for name in EVENT_FIELDS]
TASK_COLUMNS = [
    "tenant_id", "correlation_id", "user_id", "team_id", "team_type", "started_at", "finished_at", "status",
    "abnormal", "stop_reason", "message_count", "prompt_tokens", "completion_tokens", "error", "lost_events",
    "version",
]  # fmt: skip
ABNORMAL_STATUSES = frozenset({"abnormal", "error", "unfinished"})


@dataclass(frozen=True, slots=True)
class ExportResult:
    """How an export went. Failure is a value: the caller decides to retry, spool or alert."""

    ok: bool
    error: str = ""
    retryable: bool = True
    # Event rows ClickHouse dropped as repeats of an earlier insert with the same token.
    deduplicated: int = 0

    @classmethod
    def success(cls, deduplicated: int = 0) -> ExportResult:
        return cls(True, deduplicated=deduplicated)

    @property
    def kind(self) -> Classification:
        return "retryable" if self.retryable else "permanent"


class Exporter(Protocol):
    def export(
        self, events: Sequence[EventRecord], tasks: Sequence[TaskRecord], token: str, *, retry: bool = False
    ) -> ExportResult:
        """Insert one batch under ``token``. ``retry`` says the batch may have reached the store before."""
        ...


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def ns_to_datetime(ns: int) -> dt.datetime:
    # Whole microseconds, never a float of seconds: past 2255 (2**53 us) a float rounds the last
    # microsecond, and the stored time would then differ from the one the chain hash covers.
    return _EPOCH + dt.timedelta(microseconds=ns // 1000)


def event_row(e: EventRecord) -> list[Any]:
    row: list[Any] = []
    for name in EVENT_FIELDS:
        value = getattr(e, name)
        if name == "ts_ns":
            value = ns_to_datetime(value)
        elif isinstance(value, bool):
            value = int(value)
        row.append(value)
    return row


def task_row(t: TaskRecord) -> list[Any]:
    return [
        t.tenant_id, t.correlation_id, t.user_id, t.team_id, t.team_type, ns_to_datetime(t.started_ns),
        None if t.finished_ns is None else ns_to_datetime(t.finished_ns), t.status,
        int(t.status in ABNORMAL_STATUSES or t.lost_events > 0), t.stop_reason, t.message_count,
        t.prompt_tokens, t.completion_tokens, t.error, t.lost_events, t.version,
    ]  # fmt: skip


def batch_token(event_ids: Sequence[str]) -> str:
    """A deterministic deduplication token for a batch: the same events give the same token."""
    digest = hashlib.blake2b(digest_size=16)
    for event_id in event_ids:
        digest.update(event_id.encode())
        digest.update(b"\0")
    return digest.hexdigest()


class ClickHouseExporter:
    """Inserts events, then task versions, each with an insert_deduplication_token.

    A retried batch carries the same token, so ClickHouse drops the repeat instead of storing
    it twice (plain MergeTree honours this within non_replicated_deduplication_window).
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def export(
        self, events: Sequence[EventRecord], tasks: Sequence[TaskRecord], token: str, *, retry: bool = False
    ) -> ExportResult:
        deduplicated = 0
        try:
            if events:
                probe = retry and self._store.embedded
                before = self._duplicated_blocks() if probe else 0
                summary = self._store.insert(
                    "events",
                    [event_row(e) for e in events],
                    EVENT_COLUMNS,
                    settings={"insert_deduplication_token": f"{token}-e"},
                )
                deduplicated = _dropped_rows(summary, len(events))
                # chdb reports written_rows for a deduplicated insert too; its profile counter does not lie.
                if probe and self._duplicated_blocks() > before:
                    deduplicated = len(events)
            if tasks:
                self._store.insert(
                    "tasks",
                    [task_row(t) for t in tasks],
                    TASK_COLUMNS,
                    settings={"insert_deduplication_token": f"{token}-t"},
                )
        except Exception as exc:  # noqa: BLE001 - failure is returned as a value, like OTel exporters
            kind, reason = explain(exc)
            # Type and classification only: a ClickHouse message can quote the (redacted) row it choked on.
            return ExportResult(False, f"{type(exc).__name__} ({reason})", kind == "retryable")
        return ExportResult.success(deduplicated)

    def recent_event_ids(self, window_s: float, limit: int) -> list[str]:
        """Event ids stored in the last ``window_s`` seconds (by ``ingested_at``), newest first."""
        _, rows = self._store.query(
            "SELECT event_id FROM events WHERE ingested_at >= now64(3) - toIntervalMillisecond({ms:UInt64}) "
            "ORDER BY ingested_at DESC LIMIT {limit:UInt64}",
            {"ms": int(window_s * 1000), "limit": limit},
        )
        return [str(row[0]) for row in rows]

    def ping(self) -> None:
        """Raise if the store cannot answer a trivial query (used by readiness when idle)."""
        self._store.query("SELECT 1")

    def _duplicated_blocks(self) -> int:
        try:
            _, rows = self._store.query("SELECT value FROM system.events WHERE event = 'DuplicatedInsertedBlocks'")
        except Exception:  # noqa: BLE001 - the probe only feeds a metric; the insert decides success
            return 0
        return int(rows[0][0]) if rows else 0


def _dropped_rows(summary: Any, sent: int) -> int:
    written = getattr(summary, "written_rows", None)
    if not isinstance(written, int) or written < 0:
        return 0
    return max(0, sent - written)
