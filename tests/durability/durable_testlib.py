"""Helpers of the durable-pipeline tests: a real store behind a switchable fault, and pipeline builders."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from clickhouse_connect.driver.exceptions import OperationalError

from collector import AuditHook, AuditPipeline, AuditSettings, ClickHouseExporter, Store
from collector._records import RecordBuilder

FAST = {
    "batch_interval_s": 0.05,
    "batch_max_events": 16,
    "retry_initial_s": 0.05,
    "retry_max_s": 0.4,
    "spool_fsync": "batch",
}


class FlakyStore(Store):
    """The real Store, with inserts failing at the client boundary while ``down`` (fault injection).

    ``lose_responses`` > 0 makes the next inserts reach ClickHouse and then fail anyway, like a
    connection cut after the server committed: the retry must be deduplicated by its token.
    """

    def __init__(self, real: Store) -> None:
        self.__dict__.update(real.__dict__)  # same client, same lock: one chdb session per process
        self.down = False
        self.lose_responses = 0
        self.table_override: str | None = None
        self.attempts = 0
        self._guard = threading.Lock()

    def insert(
        self,
        table: str,
        rows: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        settings: Mapping[str, Any] | None = None,
    ) -> Any:
        with self._guard:
            self.attempts += 1
            if self.down:
                raise OperationalError("Error HTTPConnectionPool(host='ch', port=8123): Connection refused")
            lose = self.lose_responses > 0
            if lose:
                self.lose_responses -= 1
        result = super().insert(self.table_override or table, rows, column_names, settings)
        if lose:
            raise OperationalError("Error ('Connection aborted.', RemoteDisconnected('closed without response'))")
        return result


def make_pipeline(store: Store, redactor: object, prefix: str = "t", **overrides: Any) -> AuditPipeline:
    settings = AuditSettings(store_dsn=store.dsn, **{**FAST, **overrides})
    return AuditPipeline(
        exporter=ClickHouseExporter(store),
        builder=RecordBuilder(settings, redactor, prefix),  # type: ignore[arg-type]
        settings=settings,
    )


def make_hook(store: Store, redactor: object, prefix: str = "t", **overrides: Any) -> AuditHook:
    pipeline = make_pipeline(store, redactor, prefix, **overrides)
    return AuditHook(pipeline, pipeline.settings)


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def scalar(store: Store, sql: str, **params: Any) -> Any:
    _, rows = store.query(sql, parameters=params)
    return rows[0][0]
