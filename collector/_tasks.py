"""Task rows from anchor events: opened at start, closed from the TaskResult, marked on loss."""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ._describe import UINT32_MAX
from ._events import EventKind, EventRecord, TaskRecord
from ._records import BuiltEvent
from ._task_lookup import TaskLookup

# Rows made because a task's event arrived without its start anchor (metadata- or source-
# attributed tasks, or a restart) get the lowest version, so they never override an anchor row.
IMPLICIT_VERSION = 1
# Versions below this were built on such a row: small counts, where every other version is a time
# in nanoseconds. A loss on one stays below it, since the store may hold a row it knows nothing of.
_IMPLICIT_CEILING = 1 << 32
_RECENT_CLOSED = 10_000
# Tasks that never end in the stream (OTLP traces, metadata-attributed runs whose app never said
# they ended) would otherwise stay open here for the life of a sidecar: the oldest are let go.
# One that comes back is taken up again from the store (see ``_recall``).
_OPEN_MAX = 100_000


@dataclass(slots=True)
class _State:
    row: TaskRecord
    anchored: bool
    # Seen in the stream; used when the end anchor has no TaskResult counts (metadata tasks).
    messages: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class TaskTracker:
    """Turns the event stream of the pipeline worker into versions of ``tasks`` rows."""

    def __init__(
        self, abnormal_patterns: Iterable[str], lookup: TaskLookup | None = None, open_max: int = _OPEN_MAX
    ) -> None:
        self._abnormal = re.compile("|".join(re.escape(p) for p in abnormal_patterns) or "(?!)", re.IGNORECASE)
        self._open: dict[tuple[str, str], _State] = {}
        self._closed: OrderedDict[tuple[str, str], TaskRecord] = OrderedDict()
        self._lookup = lookup
        self._open_max = open_max

    def classify(self, stop_reason: str | None) -> str:
        if not stop_reason:
            return "abnormal"
        return "abnormal" if self._abnormal.search(stop_reason) else "normal"

    def observe(self, built: Sequence[BuiltEvent]) -> list[TaskRecord]:
        if self._lookup is not None:
            self._recall(built, self._lookup)
        out: list[TaskRecord] = []
        for record, payload in built:
            row = self._observe_one(record, payload)
            if row is not None:
                out.append(row)
        return out

    def _recall(self, built: Sequence[BuiltEvent], lookup: TaskLookup) -> None:
        """Take up the stored rows of tasks this process meets without having seen them start."""
        unknown: set[tuple[str, str]] = set()
        starting: set[tuple[str, str]] = set()
        for rec, _ in built:
            key = (rec.tenant_id, rec.correlation_id)
            if rec.kind == EventKind.TASK_START:
                starting.add(key)  # a task starting in this batch needs no lookup, whatever comes first
            elif key not in self._open and key not in self._closed:
                unknown.add(key)
        unknown -= starting
        found = lookup(unknown) if unknown else None
        for key, row in (found or {}).items():
            if row.finished_ns is None:
                self._opened(key, _State(row, anchored=row.version >= _IMPLICIT_CEILING))
            else:
                self._remember_closed(key, row)

    def _observe_one(self, rec: EventRecord, payload: Any) -> TaskRecord | None:
        key = (rec.tenant_id, rec.correlation_id)
        kind = rec.kind
        if kind == EventKind.TASK_START:
            row = self._blank(rec, version=rec.ts_ns)
            self._opened(key, _State(row, anchored=True))
            return row
        if kind == EventKind.LOSS:
            # From a remote hook's loss row too: any value, capped like the column.
            lost = _int(payload.get("lost"), UINT32_MAX) if isinstance(payload, dict) else 0
            return self._update(key, rec, lost_events=lost)
        if kind in (EventKind.TASK_RESULT, EventKind.TASK_ERROR, EventKind.TASK_UNFINISHED):
            return self._close(key, rec, payload)
        state = self._open.get(key)
        if state is None and key not in self._closed:
            state = self._opened(key, _State(self._blank(rec, version=IMPLICIT_VERSION), anchored=False))
            self._count(state, rec)
            return state.row
        if state is not None:
            self._count(state, rec)
        return None

    @staticmethod
    def _count(state: _State, rec: EventRecord) -> None:
        if rec.kind == EventKind.PUBLISH and rec.topic_type.startswith("output_topic_"):
            state.messages += 1
        elif rec.kind == EventKind.LLM_CALL:
            state.prompt_tokens += rec.prompt_tokens
            state.completion_tokens += rec.completion_tokens

    def _blank(self, rec: EventRecord, version: int) -> TaskRecord:
        return TaskRecord(
            tenant_id=rec.tenant_id,
            correlation_id=rec.correlation_id,
            user_id=rec.user_id,
            team_id=rec.team_id,
            team_type=rec.team_type,
            started_ns=rec.ts_ns,
            finished_ns=None,
            status="running",
            stop_reason="",
            message_count=0,
            prompt_tokens=0,
            completion_tokens=0,
            error="",
            lost_events=0,
            version=version,
        )

    def _close(self, key: tuple[str, str], rec: EventRecord, payload: Any) -> TaskRecord:
        state = self._open.pop(key, None)
        base = state.row if state else self._closed.get(key) or self._blank(rec, version=rec.ts_ns)
        info = payload if isinstance(payload, dict) else {}
        if rec.kind == EventKind.TASK_RESULT:
            stop_reason = info.get("stop_reason")
            from_result = bool(info.get("messages"))
            row = replace(
                base,
                finished_ns=rec.ts_ns,
                status=self.classify(stop_reason if isinstance(stop_reason, str) else None),
                stop_reason=str(stop_reason or ""),
                message_count=(
                    _int(info.get("message_count"), UINT32_MAX) if from_result or not state else state.messages
                ),
                prompt_tokens=_int(info.get("prompt_tokens")) if from_result or not state else state.prompt_tokens,
                completion_tokens=(
                    _int(info.get("completion_tokens")) if from_result or not state else state.completion_tokens
                ),
                version=max(rec.ts_ns, base.version + 1),
            )
        else:
            status = "error" if rec.kind == EventKind.TASK_ERROR else "unfinished"
            row = replace(
                base,
                finished_ns=rec.ts_ns,
                status=status,
                stop_reason=str(info.get("stop_reason") or base.stop_reason),
                error=rec.error or rec.content,
                version=max(rec.ts_ns, base.version + 1),
            )
        self._remember_closed(key, row)
        return row

    def _update(self, key: tuple[str, str], rec: EventRecord, lost_events: int) -> TaskRecord:
        state = self._open.get(key)
        base = state.row if state else self._closed.get(key) or self._blank(rec, version=IMPLICIT_VERSION)
        # Built on what this process saw of the task, or on nothing: such a row must not replace one
        # the store may hold from before (an anchored, maybe finished task). Then the loss shows in
        # its event and in v_pipeline_health, not in the stored row's lost_events.
        implicit = base.version < _IMPLICIT_CEILING
        version = base.version + 1 if implicit else max(time.time_ns(), base.version + 1)
        row = replace(base, lost_events=min(base.lost_events + lost_events, UINT32_MAX), version=version)
        if state:
            state.row = row
        else:
            self._remember_closed(key, row)
        return row

    def _opened(self, key: tuple[str, str], state: _State) -> _State:
        self._open.pop(key, None)  # a restart of the key moves it to the newest end
        self._open[key] = state
        while len(self._open) > self._open_max:
            del self._open[next(iter(self._open))]
        return state

    def _remember_closed(self, key: tuple[str, str], row: TaskRecord) -> None:
        self._closed[key] = row
        self._closed.move_to_end(key)
        while len(self._closed) > _RECENT_CLOSED:
            self._closed.popitem(last=False)


_UINT64_MAX = 2**64 - 1


def _int(value: Any, top: int = _UINT64_MAX) -> int:
    """A count for a column of ``tasks``, capped at the column's top: a value past it would make
    the client refuse the whole batch's insert, for good."""
    try:
        return min(max(0, int(value)), top)
    except (TypeError, ValueError, OverflowError):  # int(inf) raises OverflowError
        return 0
