"""The capture log: handlers only append; the replay off the loop attributes as of capture time."""

from __future__ import annotations

import asyncio
from typing import Any

from autogen_core import (
    AgentId,
    DefaultTopicId,
    MessageContext,
    TopicId,
)

from collector import AuditHook, AuditSettings, Store
from collector._attribution import Attribution, TaskContext
from collector._capture_log import PUBLISH, REGISTER, RELEASE, CaptureLog
from collector._events import CapturedEvent, EventKind, TaskRef

from ._teams import Job, core_runtime, make_hook


async def test_a_key_reused_by_consecutive_tasks_is_attributed_as_of_capture_time(
    store: Store, redactor: object
) -> None:
    # The sink's worker does not drain until aclose: every record is replayed after both tasks
    # (and their registrations) are over. Attributing at drain time would put everything on one.
    hook = make_hook(store, redactor, snapshot_interval_s=3600, batch_interval_s=3600)
    runtime = await core_runtime(hook)
    correlations = []
    for tenant in ("acme", "globex", "acme"):
        async with hook.core_task("job-1", tenant_id=tenant) as task:
            await runtime.publish_message(Job(f"for {tenant}"), DefaultTopicId(source="job-1"))
            await runtime.stop_when_idle()
            runtime.start()
        correlations.append((task.correlation_id, tenant))
    await runtime.stop_when_idle()
    assert len(hook._log) > 0  # nothing replayed yet: the handlers only appended
    assert await hook.aclose()

    _, rows = store.query(
        "SELECT correlation_id, tenant_id, seq, kind, payload FROM events ORDER BY correlation_id, seq"
    )
    by_task: dict[str, list[tuple[Any, ...]]] = {}
    for corr, tenant, seq, kind, content in rows:
        by_task.setdefault(corr, []).append((tenant, seq, kind, content))
    assert set(by_task) == {c for c, _ in correlations}
    for corr, tenant in correlations:
        events = by_task[corr]
        assert {e[0] for e in events} == {tenant}
        assert [e[1] for e in events] == list(range(1, len(events) + 1))  # gapless, in capture order
        kinds = [e[2] for e in events]
        assert kinds[0] == "task_start" and kinds[-1] == "task_unfinished"
        assert kinds.count("publish") == 2  # the job and the worker's answer, nothing of the other tasks
        assert all(f"for {tenant}" in e[3] for e in events if e[2] == "publish"), events


class _Context:
    def __init__(self, topic: TopicId | None) -> None:
        self.topic_id = topic
        self.sender: AgentId | None = None


def test_replay_survives_an_odd_record_and_keeps_order() -> None:
    submitted: list[CapturedEvent] = []
    attribution = Attribution(r"^tenant-(?P<tenant_id>.+)$", "unattributed")
    capture = CaptureLog(attribution, lambda e: submitted.append(e) or True, soft_max=10)
    ctx = TaskContext(TaskRef("acme", "c-1", team_id="k"), "k")
    capture.append((REGISTER, ctx))
    capture.append((PUBLISH, 1, "first", _Context(TopicId("t", "k"))))
    capture.append((PUBLISH, 2, "odd", object()))  # no topic_id: the replay of this one fails
    capture.append((PUBLISH, 3, "second", _Context(TopicId("t", "k"))))
    capture.append((RELEASE, ctx))
    capture.append((PUBLISH, 4, "late, unregistered", _Context(TopicId("t", "tenant-globex"))))
    assert capture.drain()
    assert capture.errors == 1
    assert [(e.task.tenant_id, e.seq, e.payload) for e in submitted] == [
        ("acme", 1, "first"),
        ("acme", 2, "second"),
        ("globex", 1, "late, unregistered"),
    ]
    assert len(capture) == 0


async def test_a_log_past_its_bound_is_replayed_by_the_logs_thread_when_the_worker_stalls(
    store: Store, redactor: object
) -> None:
    hook = make_hook(store, redactor, snapshot_interval_s=3600, batch_interval_s=3600)
    hook._log.soft_max = 5  # the sink's worker is held: without the log's thread it would only grow
    runtime = await core_runtime(hook)
    async with hook.core_task("job-2", tenant_id="initech"):
        for i in range(20):
            await runtime.publish_message(Job(f"n{i}"), DefaultTopicId(source="job-2"))
        await runtime.stop_when_idle()
        runtime.start()
        for _ in range(100):
            if len(hook._log) <= 5:
                break
            await asyncio.sleep(0.02)
        assert len(hook._log) <= 5
    await runtime.stop_when_idle()
    assert await hook.aclose()
    _, rows = store.query("SELECT count(), uniqExact(seq), max(seq) FROM events WHERE kind = 'publish'")
    assert rows == [(40, 40, 41)]


class _OverridingHook(AuditHook):
    """An app's subclass that wraps a handler: its override must run, and super() must capture."""

    seen = 0

    async def on_publish(self, message: Any, *, message_context: MessageContext) -> Any:
        self.seen += 1
        return await super().on_publish(message, message_context=message_context)


async def test_a_subclass_override_of_a_handler_runs_and_super_still_captures() -> None:
    sink = _ListSink()
    hook = _OverridingHook(sink, AuditSettings(capture_loggers=False, snapshot_interval_s=0.01))
    assert "on_publish" not in vars(hook) and "on_send" in vars(hook)  # only the non-overridden
    runtime = await core_runtime(hook)
    async with hook.core_task("job-4", tenant_id="acme"):
        await runtime.publish_message(Job("ping"), DefaultTopicId(source="job-4"))
        await runtime.stop_when_idle()
    assert hook.flush(5)
    assert hook.seen == 2
    assert [e.kind.value for e in sink.events] == ["task_start", "publish", "publish", "task_unfinished"]
    assert await hook.aclose()


class _ListSink:
    """A sink without ``add_feeder``: the hook must replay its log on a thread of its own."""

    def __init__(self) -> None:
        self.events: list[CapturedEvent] = []

    def submit(self, event: CapturedEvent) -> bool:
        self.events.append(event)
        return True

    def flush(self, timeout: float) -> bool:
        return True

    def shutdown(self, timeout: float) -> bool:
        return True

    def stats(self) -> Any:
        return None


async def test_a_sink_without_a_feeder_hook_is_fed_by_the_hooks_own_thread() -> None:
    sink = _ListSink()
    hook = AuditHook(sink, AuditSettings(capture_loggers=False, snapshot_interval_s=0.01))
    runtime = await core_runtime(hook)
    async with hook.core_task("job-3", tenant_id="umbrella"):
        await runtime.publish_message(Job("ping"), DefaultTopicId(source="job-3"))
        await runtime.stop_when_idle()
    for _ in range(200):  # the thread replays every 10 ms; nobody else does
        if len(sink.events) >= 4:
            break
        await asyncio.sleep(0.01)
    assert [(e.kind.value, e.task.tenant_id, e.seq) for e in sink.events] == [
        ("task_start", "umbrella", 1),
        ("publish", "umbrella", 2),
        ("publish", "umbrella", 3),
        ("task_unfinished", "umbrella", 4),
    ]
    assert await hook.aclose()


async def test_after_aclose_the_runtime_goes_on_and_the_log_does_not_grow() -> None:
    sink = _ListSink()
    hook = AuditHook(sink, AuditSettings(capture_loggers=False, snapshot_interval_s=0.01))
    runtime = await core_runtime(hook)
    await runtime.publish_message(Job("before"), DefaultTopicId(source="job-5"))
    await runtime.stop_when_idle()
    assert await hook.aclose()
    recorded = len(sink.events)
    runtime.start()
    for i in range(10):
        await runtime.publish_message(Job(f"after {i}"), DefaultTopicId(source="job-5"))
    await runtime.stop_when_idle()
    assert recorded == 2 and len(sink.events) == recorded
    assert len(hook._log) == 0
    assert hook.discarded_after_close == 20 and hook.errors == 0


async def test_two_hooks_on_one_sink_never_give_two_events_one_capture_number() -> None:
    # A sink's event id is its prefix plus this number: per hook, the numbers (and ids) collided,
    # and the sidecar dropped the second hook's events as retries of the first's.
    sink = _ListSink()
    settings = AuditSettings(capture_loggers=False, snapshot_interval_s=0.01)
    first, second = AuditHook(sink, settings), AuditHook(sink, settings)
    for hook, tenant in ((first, "tenant-a"), (second, "tenant-b")):
        async with hook.core_task(f"{tenant}/job", tenant_id=tenant) as task:
            for i in range(3):
                hook.emit_to(task.context, EventKind.CUSTOM, {"__type__": "Note", "n": i})
    assert first.flush(5) and second.flush(5)
    assert {e.task.tenant_id for e in sink.events} == {"tenant-a", "tenant-b"}
    numbers = [e.gseq for e in sink.events]
    assert len(numbers) == len(set(numbers)) == 10
    assert await first.aclose() and await second.aclose()
