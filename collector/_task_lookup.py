"""The stored rows of tasks a pipeline meets without having seen them start: after a restart.

The task tracker keeps each task's row in memory from its start anchor on, and every row it
writes replaces the stored one (``tasks`` is a ReplacingMergeTree). A process that starts while
tasks run on (a sidecar restarted under running apps, an app's loss report arriving after the
sidecar came back) knew nothing of them, and its first row for one replaced the stored row with
a blank: a finished task went back to ``running``, its start time and earlier losses were gone.
So the tracker asks the store once per such task. The store may be slow or down (that is what
the spool is for): the batcher waits a bounded time, and without an answer it writes rows that
cannot replace a stored one where it can (see ``TaskTracker``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from typing import Any

from ._events import TaskRecord
from ._safe_log import log_failure
from ._store._queryable import Queryable

__all__ = ["TaskKey", "TaskLookup", "bounded_lookup", "stored_tasks"]

log = logging.getLogger("collector")

TaskKey = tuple[str, str]
# None: no answer (store down, slow, or the lookup failed); else the stored rows found.
TaskLookup = Callable[[Collection[TaskKey]], dict[TaskKey, TaskRecord] | None]

_COLUMNS = (
    "tenant_id, correlation_id, user_id, team_id, team_type, toUnixTimestamp64Micro(started_at), "
    "toUnixTimestamp64Micro(finished_at), status, stop_reason, message_count, prompt_tokens, completion_tokens, "
    "error, lost_events, version"
)


def stored_tasks(store: Queryable) -> Callable[[Collection[TaskKey]], dict[TaskKey, TaskRecord]]:
    """A lookup of the newest stored row of each (tenant, correlation id) asked for. Raises on a store error."""

    def lookup(keys: Collection[TaskKey]) -> dict[TaskKey, TaskRecord]:
        wanted = set(keys)
        # Both lists narrow the primary key (tenant_id, correlation_id); the exact pairs are picked here.
        _, rows = store.query(
            f"SELECT {_COLUMNS} FROM tasks FINAL WHERE tenant_id IN {{t:Array(String)}} "
            "AND correlation_id IN {c:Array(String)}",
            parameters={"t": sorted({k[0] for k in wanted}), "c": sorted({k[1] for k in wanted})},
        )
        found: dict[TaskKey, TaskRecord] = {}
        for row in rows:
            key = (row[0], row[1])
            if key in wanted:
                found[key] = _record(row)
        return found

    return lookup


def _record(row: tuple[Any, ...]) -> TaskRecord:
    (tenant, corr, user, team_id, team_type, started_us, finished_us, status, stop_reason, messages, prompt,
     completion, error, lost, version) = row  # fmt: skip
    return TaskRecord(
        tenant_id=tenant,
        correlation_id=corr,
        user_id=user,
        team_id=team_id,
        team_type=team_type,
        started_ns=int(started_us) * 1000,
        finished_ns=None if finished_us is None else int(finished_us) * 1000,
        status=status,
        stop_reason=stop_reason,
        message_count=int(messages),
        prompt_tokens=int(prompt),
        completion_tokens=int(completion),
        error=error,
        lost_events=int(lost),
        version=int(version),
    )


def bounded_lookup(lookup: Callable[[Collection[TaskKey]], dict[TaskKey, TaskRecord]], timeout_s: float) -> TaskLookup:
    """``lookup`` run on a daemon thread, waited for at most ``timeout_s``: the batcher must keep
    going while the store is down, and a lookup stuck on a dead server must not hold up the
    process's exit. One lookup at a time: while one is still out, the next gets no answer."""
    busy = threading.Lock()

    def bounded(keys: Collection[TaskKey]) -> dict[TaskKey, TaskRecord] | None:
        if not busy.acquire(blocking=False):
            return None
        answer: list[dict[TaskKey, TaskRecord] | BaseException] = []
        done = threading.Event()

        def run() -> None:
            try:
                answer.append(lookup(tuple(keys)))
            except Exception as exc:  # noqa: BLE001 - reported below, on the batcher's thread
                answer.append(exc)
            finally:
                busy.release()
                done.set()

        threading.Thread(target=run, name="autogen-audit-task-lookup", daemon=True).start()
        if not done.wait(timeout_s):
            log.warning("collector: the store did not answer a task lookup within %.1f s", timeout_s)
            return None
        if isinstance(answer[0], BaseException):
            log_failure(log, "collector: task lookup failed", answer[0])
            return None
        return answer[0]

    return bounded
