"""The task tracker lets go of the oldest open tasks: a sidecar fed OTLP traces (each trace its own
task, never ended in the stream) kept every one of them in memory for its whole life."""

from __future__ import annotations

import time

from collector import AuditSettings, CapturedEvent, EventKind, TaskRef
from collector._records import RecordBuilder
from collector._tasks import TaskTracker


def test_open_tasks_are_bounded_and_a_let_go_task_still_closes(redactor: object) -> None:
    settings = AuditSettings()
    builder = RecordBuilder(settings, redactor, "bound")  # type: ignore[arg-type]
    tracker = TaskTracker(settings.abnormal_stop_patterns, open_max=50)
    now = time.time_ns()
    traces = [
        CapturedEvent(i + 1, TaskRef("acme", f"trace-{i:04d}"), 1, now + i, EventKind.RUNTIME_EVENT, {"name": "span"})
        for i in range(200)
    ]
    rows = tracker.observe(builder.build(traces))
    assert len(rows) == 200  # each trace's first event opened its (implicit) row
    assert len(tracker._open) == 50  # the 150 oldest let go
    assert ("acme", "trace-0199") in tracker._open and ("acme", "trace-0000") not in tracker._open
    result = {"__type__": "TaskResult", "stop_reason": "done", "message_count": 1, "messages": [{"content": "ok"}]}
    end = CapturedEvent(1000, TaskRef("acme", "trace-0000"), 2, now + 1000, EventKind.TASK_RESULT, result)
    (closed,) = tracker.observe(builder.build([end]))
    assert (closed.correlation_id, closed.status, closed.message_count) == ("trace-0000", "normal", 1)
