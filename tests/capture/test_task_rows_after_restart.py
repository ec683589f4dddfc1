"""A pipeline that starts while tasks run on (a restarted sidecar) keeps their stored rows.

Each pipeline here is a real one on one real chdb store, the second started after the first shut
down, as a restarted process would be. Before the fix the second one's first row for a task it had
not seen start replaced the stored row with a blank: a finished task went back to `running`.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

from autogen_core import SingleThreadedAgentRuntime

from collector import AuditPipeline, AuditSettings, CapturedEvent, EventKind, Store, TaskRef, build_pipeline
from collector._capture_log import start_payload
from collector._processors import default_processors
from collector._records import RecordBuilder
from collector._store._exporter import ClickHouseExporter

from ._teams import make_hook, round_robin

_GSEQ = itertools.count(1)
ROW = (
    "SELECT status, stop_reason, finished_at IS NOT NULL, lost_events, message_count, "
    "toUnixTimestamp64Micro(started_at) FROM tasks FINAL WHERE tenant_id = {t:String} AND correlation_id = {c:String}"
)


def settings(store: Store, tmp_path: Path, **extra: Any) -> AuditSettings:
    return AuditSettings(store_dsn=store.dsn, spool_dir=str(tmp_path / "spool"), batch_interval_s=0.05, **extra)


def event(ref: TaskRef, seq: int, kind: EventKind, payload: Any, ts_ns: int | None = None) -> CapturedEvent:
    return CapturedEvent(next(_GSEQ), ref, seq, ts_ns or time.time_ns(), kind, payload)


def loss(ref: TaskRef, lost: int) -> CapturedEvent:
    return event(ref, 99, EventKind.LOSS, {"lost": lost, "first_seq": 50, "reason": "remote buffer full"})


def row(store: Store, ref: TaskRef) -> tuple[Any, ...]:
    rows = store.query(ROW, parameters={"t": ref.tenant_id, "c": ref.correlation_id})[1]
    assert len(rows) == 1
    return rows[0]


async def test_a_loss_reported_after_a_restart_keeps_the_finished_task(
    store: Store, redactor: object, tmp_path: Path
) -> None:
    hook = make_hook(store, redactor, spool_dir=str(tmp_path / "spool"))
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
    runtime.start()
    team = round_robin(runtime, "order-9")
    async with hook.task(team, tenant_id="acme", correlation_id="task-restart-1") as task:
        task.record_result(await team.run(task="refund order-9"))
    await runtime.stop_when_idle()
    await hook.aclose()
    ref = TaskRef("acme", "task-restart-1")
    before = row(store, ref)
    assert before[:4] == ("normal", before[1], True, 0) and before[4] > 0

    # The app's remote buffer overflowed while the sidecar was down; its loss report reaches the new one.
    second = build_pipeline(settings(store, tmp_path), store=store, redactor=redactor)  # type: ignore[arg-type]
    second.submit(loss(ref, 3))
    assert second.shutdown(30)
    assert row(store, ref) == (*before[:3], 3, *before[4:])


def test_a_task_finished_after_a_restart_keeps_its_start_and_earlier_losses(
    store: Store, redactor: object, tmp_path: Path
) -> None:
    ref = TaskRef("acme", "task-restart-2", user_id="u-1", team_id="team-2", team_type="RoundRobinGroupChat")
    started = time.time_ns() - 60_000_000_000
    first = build_pipeline(settings(store, tmp_path), store=store, redactor=redactor)  # type: ignore[arg-type]
    first.submit(event(ref, 0, EventKind.TASK_START, start_payload(ref, "context"), started))
    first.submit(event(ref, 1, EventKind.PUBLISH, {"content": "step one"}))
    first.submit(loss(ref, 2))
    assert first.shutdown(30)

    second = build_pipeline(settings(store, tmp_path), store=store, redactor=redactor)  # type: ignore[arg-type]
    second.submit(event(ref, 3, EventKind.PUBLISH, {"content": "step two"}))
    result = {"__type__": "TaskResult", "stop_reason": "Text 'TERMINATE' mentioned", "message_count": 4,
              "prompt_tokens": 10, "completion_tokens": 5,
              "messages": [{"source": "worker", "content": "done"}]}  # fmt: skip
    second.submit(event(ref, 4, EventKind.TASK_RESULT, result))
    assert second.shutdown(30)
    assert row(store, ref) == ("normal", "Text 'TERMINATE' mentioned", True, 2, 4, started // 1000)


def test_without_the_stored_row_a_loss_does_not_replace_it(store: Store, redactor: object, tmp_path: Path) -> None:
    """A store that does not answer (down, slow): the loss is written where it cannot replace."""
    ref = TaskRef("acme", "task-restart-3")
    first = build_pipeline(settings(store, tmp_path), store=store, redactor=redactor)  # type: ignore[arg-type]
    first.submit(event(ref, 0, EventKind.TASK_START, start_payload(ref, "context")))
    result = {"__type__": "TaskResult", "stop_reason": "done", "message_count": 1, "messages": []}
    first.submit(event(ref, 1, EventKind.TASK_RESULT, result))
    assert first.shutdown(30)
    before = row(store, ref)

    cfg = settings(store, tmp_path)
    second = AuditPipeline(
        exporter=ClickHouseExporter(store),
        builder=RecordBuilder(cfg, redactor, "restart3"),  # type: ignore[arg-type]
        settings=cfg,
        processors=default_processors(cfg, store),
        task_lookup=lambda keys: None,  # no answer
    )
    second.submit(loss(ref, 5))
    assert second.shutdown(30)
    assert row(store, ref) == before
    found = store.query(
        "SELECT sum(JSONExtractInt(payload, 'lost')) FROM events WHERE correlation_id = {c:String} AND kind = 'loss'",
        parameters={"c": ref.correlation_id},
    )[1]
    assert found == [(5,)]
