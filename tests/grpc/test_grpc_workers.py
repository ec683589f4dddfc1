"""A gRPC host and two audited workers on loopback: every send, publish, delivery and response of
two concurrent tasks lands in one store, attributed to its tenant and task."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from autogen_core import (
    AgentId,
    MessageContext,
    RoutedAgent,
    TopicId,
    TypeSubscription,
    message_handler,
    try_get_known_serializers_for_type,
)
from autogen_ext.runtimes.grpc import GrpcWorkerAgentRuntimeHost

from collector import AuditHook, AuditSettings, Store, build_pipeline
from collector.grpc import AuditedGrpcWorkerAgentRuntime
from tests.sidecar._procs import free_port

EMAIL = "ada.lovelace@example.net"


@dataclass
class Job:
    text: str


@dataclass
class Question:
    text: str


@dataclass
class Answer:
    text: str


@dataclass
class Done:
    text: str


class Executor(RoutedAgent):
    """On worker B: takes a job, asks the planner on worker A, publishes the outcome."""

    def __init__(self) -> None:
        super().__init__("executor")

    @message_handler
    async def on_job(self, message: Job, ctx: MessageContext) -> None:
        answer = await self.send_message(Question(f"plan for {message.text}"), AgentId("planner", self.id.key))
        assert isinstance(answer, Answer)
        await self.publish_message(Done(f"done: {answer.text}"), TopicId("results", self.id.key))


class Planner(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("planner")

    @message_handler
    async def on_question(self, message: Question, ctx: MessageContext) -> Answer:
        return Answer(f"step 1 of {message.text}")


class Reporter(RoutedAgent):
    def __init__(self, finished: dict[str, asyncio.Future[str]]) -> None:
        super().__init__("reporter")
        self._finished = finished

    @message_handler
    async def on_done(self, message: Done, ctx: MessageContext) -> None:
        self._finished[self.id.key].set_result(message.text)


def _hook(store: Store, redactor: object, capture_loggers: bool) -> AuditHook:
    settings = AuditSettings(store_dsn=store.dsn, capture_loggers=capture_loggers, batch_interval_s=0.05)
    return AuditHook(build_pipeline(settings, store=store, redactor=redactor), settings)  # type: ignore[arg-type]


async def test_host_and_two_audited_workers_land_every_event_attributed_in_one_store(
    module_store: Store, redactor: object
) -> None:
    address = f"127.0.0.1:{free_port()}"
    host = GrpcWorkerAgentRuntimeHost(address=address)
    host.start()
    hook_a, hook_b = _hook(module_store, redactor, True), _hook(module_store, redactor, False)
    worker_a = AuditedGrpcWorkerAgentRuntime(address, hook=hook_a)
    worker_b = AuditedGrpcWorkerAgentRuntime(address, hook=hook_b)
    tasks = {"tenant-acme/corr-a1": "tenant-acme", "tenant-globex/corr-g1": "tenant-globex"}
    loop = asyncio.get_running_loop()
    finished: dict[str, asyncio.Future[str]] = {key: loop.create_future() for key in tasks}
    try:
        for worker in (worker_a, worker_b):
            await worker.start()
            worker.add_message_serializer(
                [s for t in (Job, Question, Answer, Done) for s in try_get_known_serializers_for_type(t)]
            )
        await Planner.register(worker_a, "planner", Planner)
        await Reporter.register(worker_a, "reporter", lambda: Reporter(finished))
        await worker_a.add_subscription(TypeSubscription("results", "reporter"))
        await Executor.register(worker_b, "executor", Executor)
        await worker_b.add_subscription(TypeSubscription("jobs", "executor"))
        await asyncio.sleep(0.3)  # let the host learn both workers' subscriptions

        async def run(key: str, tenant: str) -> str:
            correlation = key.split("/", 1)[1]
            async with hook_a.core_task(key, tenant_id=tenant, correlation_id=correlation) as scope:
                await worker_a.publish_message(Job(f"{correlation} for {EMAIL}"), TopicId("jobs", key))
                outcome = await asyncio.wait_for(finished[key], 20)
                scope.record_event("done", outcome=outcome)
            return outcome

        outcomes = await asyncio.gather(*(run(k, t) for k, t in tasks.items()))
        assert all("step 1 of plan for" in o for o in outcomes)
    finally:
        for worker in (worker_a, worker_b):
            await worker.stop()
        await host.stop()
    assert await hook_a.aclose(30)
    assert await hook_b.aclose(30)

    _, rows = module_store.query(
        "SELECT tenant_id, correlation_id, kind, message_type, sender, recipient, payload FROM events "
        "WHERE correlation_id IN ('corr-a1', 'corr-g1') ORDER BY ts"
    )
    by_task: dict[str, list[tuple[str, ...]]] = {}
    for tenant, corr, kind, message_type, sender, recipient, payload in rows:
        assert tenant == tasks[f"{tenant}/{corr}"]
        assert EMAIL not in payload
        by_task.setdefault(corr, []).append((kind, message_type, sender.split("/")[0], recipient.split("/")[0]))
    assert set(by_task) == {"corr-a1", "corr-g1"}
    for corr, events in by_task.items():
        kinds = [e[0] for e in events]
        # A delivery is stored with the delivered message's type (the payload wraps it).
        deliveries = sorted(e[3] for e in events if e[0] == "runtime_event")
        assert kinds.count("task_start") == 1, (corr, events)
        assert kinds.count("custom") == 1
        assert kinds.count("publish") == 2  # the job (worker A) and the outcome (worker B)
        assert kinds.count("send") == 1  # executor -> planner (worker B)
        assert kinds.count("response") == 1  # planner's answer (worker A)
        assert deliveries == ["executor", "planner", "reporter"]
    _, tasks_rows = module_store.query(
        "SELECT tenant_id, correlation_id, status FROM tasks FINAL WHERE correlation_id IN ('corr-a1', 'corr-g1') "
        "ORDER BY tenant_id"
    )
    assert tasks_rows == [("tenant-acme", "corr-a1", "unfinished"), ("tenant-globex", "corr-g1", "unfinished")]


class Fragile(RoutedAgent):
    """On worker B: fails on every job it is published, after saying it got it."""

    def __init__(self, reached: dict[str, asyncio.Future[str]]) -> None:
        super().__init__("fragile")
        self._reached = reached

    @message_handler
    async def on_job(self, message: Job, ctx: MessageContext) -> None:
        self._reached[self.id.key].set_result(message.text)
        raise ValueError(f"cannot process the job of {EMAIL}")


class Oracle(RoutedAgent):
    """On worker B: answers questions, and fails on the ones that ask it to."""

    def __init__(self) -> None:
        super().__init__("oracle")

    @message_handler
    async def on_question(self, message: Question, ctx: MessageContext) -> Answer:
        if "explode" in message.text:
            raise RuntimeError(f"the oracle failed for {EMAIL}")
        return Answer(f"answer to {message.text}")


async def test_a_handler_exception_on_a_worker_is_captured_attributed_and_the_worker_goes_on(
    module_store: Store, redactor: object
) -> None:
    """The gRPC worker runtime has no event logger for handler exceptions (SingleThreadedAgentRuntime
    logs a MessageHandlerExceptionEvent): the audited worker records them itself, for a published
    message (the runtime only logs it) and an RPC (the sender gets the error text), attributed like
    the delivery, redacted, and the worker keeps serving."""
    address = f"127.0.0.1:{free_port()}"
    host = GrpcWorkerAgentRuntimeHost(address=address)
    host.start()
    hook_a, hook_b = _hook(module_store, redactor, True), _hook(module_store, redactor, False)
    worker_a = AuditedGrpcWorkerAgentRuntime(address, hook=hook_a)
    worker_b = AuditedGrpcWorkerAgentRuntime(address, hook=hook_b)
    loop = asyncio.get_running_loop()
    reached: dict[str, asyncio.Future[str]] = {"tenant-acme/corr-x1": loop.create_future()}
    try:
        for worker in (worker_a, worker_b):
            await worker.start()
            worker.add_message_serializer(
                [s for t in (Job, Question, Answer) for s in try_get_known_serializers_for_type(t)]
            )
        await Fragile.register(worker_b, "fragile", lambda: Fragile(reached))
        await worker_b.add_subscription(TypeSubscription("chores", "fragile"))
        await Oracle.register(worker_b, "oracle", Oracle)
        await asyncio.sleep(0.3)  # let the host learn worker B's subscription

        await worker_a.publish_message(Job("sweep"), TopicId("chores", "tenant-acme/corr-x1"))
        assert await asyncio.wait_for(reached["tenant-acme/corr-x1"], 20) == "sweep"
        with pytest.raises(Exception, match="the oracle failed"):
            await asyncio.wait_for(
                worker_a.send_message(Question("explode"), AgentId("oracle", "tenant-globex/corr-x2")), 20
            )
        answer = await asyncio.wait_for(
            worker_a.send_message(Question("still there?"), AgentId("oracle", "tenant-globex/corr-x3")), 20
        )
        assert answer == Answer("answer to still there?")
    finally:
        for worker in (worker_a, worker_b):
            await worker.stop()
        await host.stop()
    assert await hook_a.aclose(30)
    assert await hook_b.aclose(30)

    _, rows = module_store.query(
        "SELECT tenant_id, correlation_id, kind, recipient, is_error, error, payload FROM events "
        "WHERE correlation_id IN ('corr-x1', 'corr-x2', 'corr-x3') ORDER BY ts"
    )
    failures = [(t, c, r.split("/")[0], e) for t, c, kind, r, is_error, e, _ in rows if kind == "handler_exception"]
    assert sorted(f[:3] for f in failures) == [
        ("tenant-acme", "corr-x1", "fragile"),
        ("tenant-globex", "corr-x2", "oracle"),
    ], rows
    assert all("<EMAIL_ADDRESS>" in f[3] for f in failures)
    assert all(EMAIL not in str(row) for row in rows)
    assert {c for t, c, kind, *_ in rows if kind == "response"} == {"corr-x3"}
    assert [c for t, c, kind, r, *_ in rows if kind == "runtime_event"].count("corr-x1") == 1
