"""Bad messages and failing agents never stop the runtime or lose a task's other events."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import pytest
from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.teams import RoundRobinGroupChat
from autogen_core import AgentId, BaseAgent, MessageContext, SingleThreadedAgentRuntime, TopicId

from collector import AuditHook, Store

from ._teams import TEAM_BUILDERS, make_hook, run_in_task


class Opaque:
    __slots__ = ("secret",)

    def __init__(self) -> None:
        self.secret = "sk-proj-SHOULDNEVERBESTOREDxxxxxxxxxxxx"


class Weird:
    """Everything that breaks naive serializers at once. A plain class, not a dataclass: a cyclic
    dataclass already crashes autogen-core's own logging serializer before any handler runs."""

    def __init__(self) -> None:
        self.blob = b"\x00\xff" * 10
        self.fn = lambda: 1
        self.opaque = Opaque()
        self.bad_text = "caf\udce9"
        self.huge = "x" * 10_000_000
        self.loop: list[Any] = []
        self.loop.append(self.loop)
        nested: Any = []
        for _ in range(500):
            nested = [nested]
        self.loop.append(nested)


@dataclass
class Ping:
    n: int


class Echo(BaseAgent):
    """Takes anything: a RoutedAgent would refuse to register a handler for an unserializable type."""

    def __init__(self) -> None:
        super().__init__("echo")

    async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any:
        if isinstance(message, Ping):
            if message.n < 0:
                raise ValueError("negative ping")
            return message.n
        return None


async def echo_runtime(hook: AuditHook) -> SingleThreadedAgentRuntime:
    """A started runtime with the hook and an ``echo`` agent type."""
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
    await Echo.register(runtime, "echo", lambda: Echo())
    runtime.start()
    return runtime


async def test_unserializable_message_and_raising_handler_keep_runtime_and_events(
    store: Store, redactor: object
) -> None:
    hook = make_hook(store, redactor)
    runtime = await echo_runtime(hook)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning from our hook (e.g. on a None response) fails the test
        async with hook.core_task("job-1", tenant_id="acme") as task:
            target = AgentId("echo", "job-1")
            assert await runtime.send_message(Ping(1), target) == 1
            assert await runtime.send_message(Weird(), target) is None
            with pytest.raises(ValueError, match="negative ping"):
                await runtime.send_message(Ping(-1), target)
            assert await runtime.send_message(Ping(2), target) == 2
            # A plain dict whose "__type__" is not a str (unhashable): it once made the snapshot
            # stage raise, and the event was dropped.
            assert await runtime.send_message({"__type__": ["app", "list"], "note": "hi"}, target) is None
            task.record_event("after_errors", ok=True)
    await runtime.stop_when_idle()
    assert await hook.aclose()
    assert hook.errors == 0

    cols, rows = store.query(
        "SELECT kind, message_type, payload, truncated, redaction_status, length(payload) FROM events "
        "WHERE correlation_id = {c:String} ORDER BY seq",
        parameters={"c": task.correlation_id},
    )
    events = [dict(zip(cols, r, strict=True)) for r in rows]
    kinds = [e["kind"] for e in events]
    assert kinds.count("send") == 5 and "custom" in kinds and kinds[-1] == "task_unfinished"
    assert "handler_exception" in kinds
    weird = next(e for e in events if e["kind"] == "send" and e["message_type"] == "Weird")
    assert weird["truncated"] == 1 and weird["length(payload)"] < 400_000
    for marker in ('"__placeholder__":"bytes"', '"__placeholder__":"cycle"', '"__placeholder__":"unknown-type"',
                   '"__placeholder__":"max-depth"', "[truncated"):  # fmt: skip
        assert marker in weird["payload"], marker
    odd = next(e for e in events if e["kind"] == "send" and '"note"' in e["payload"])
    assert '"app"' in odd["payload"] and '"hi"' in odd["payload"]
    assert "SHOULDNEVERBESTORED" not in "".join(str(e["payload"]) for e in events)


async def test_team_that_raises_is_marked_error_and_runtime_goes_on(store: Store, redactor: object) -> None:
    from collector._demo_models import LoggingReplayClient

    hook = make_hook(store, redactor)
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
    runtime.start()
    # Replay clients with no scripted output raise on their first call, like a failing endpoint.
    broken = RoundRobinGroupChat(
        [
            AssistantAgent("a", model_client=LoggingReplayClient([])),
            AssistantAgent("b", model_client=LoggingReplayClient([])),
        ],
        runtime=runtime,
    )
    with pytest.raises(RuntimeError):
        async with hook.task(broken, tenant_id="acme") as failed:
            await broken.run(task="this will fail")
    ok_corr, _ = await run_in_task(hook, TEAM_BUILDERS["RoundRobinGroupChat"](runtime, "after"), "acme", "go")
    await runtime.stop_when_idle()
    assert await hook.aclose()
    _, rows = store.query("SELECT correlation_id, status, error != '' FROM tasks FINAL ORDER BY started_at")
    assert rows == [(failed.correlation_id, "error", 1), (ok_corr, "normal", 0)]
    _, errs = store.query(
        "SELECT count() FROM events WHERE correlation_id = {c:String} AND kind IN ('task_error')",
        parameters={"c": failed.correlation_id},
    )
    assert errs[0][0] == 1


async def test_aclose_leaves_nothing_unwritten(store: Store, redactor: object) -> None:
    # A long batch interval: without a real flush, events would still sit in the queue.
    hook = make_hook(store, redactor, batch_interval_s=60.0, batch_max_events=100_000)
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
    runtime.start()
    for i in range(5):
        await run_in_task(hook, TEAM_BUILDERS["Swarm"](runtime, f"m{i}"), "acme", "go")
    await runtime.stop_when_idle()
    stats_before = hook.sink.stats()
    assert stats_before.written == 0 and stats_before.queued > 0
    assert await hook.aclose()
    stats = hook.sink.stats()
    assert stats.lost == 0 and stats.queued == 0 and stats.written == stats.accepted
    _, rows = store.query("SELECT count() FROM events")
    assert rows[0][0] == stats.accepted


async def test_an_agent_keyed_by_a_users_email_never_stores_the_email(store: Store, redactor: object) -> None:
    # Core apps choose agent keys, topic sources and task keys; a user's email is a plausible
    # choice. The sender, recipient, topic_source and team_id columns go through the redactor.
    hook = make_hook(store, redactor)
    runtime = await echo_runtime(hook)
    email = "jane.doe@example.com"
    async with hook.core_task(email, tenant_id="acme") as task:
        assert await runtime.send_message(Ping(3), AgentId("echo", email)) == 3
    await runtime.stop_when_idle()
    assert await hook.aclose()
    _, rows = store.query(
        "SELECT kind, sender, recipient, topic_source, payload, team_id, correlation_id FROM events "
        "WHERE correlation_id = {c:String}",
        parameters={"c": task.correlation_id},
    )
    assert {r[0] for r in rows} >= {"send", "response"}
    assert email not in repr(rows)
    recipients = {r[2] for r in rows if r[0] == "send"}
    assert recipients == {"echo/<EMAIL_ADDRESS>"}, recipients
    assert {r[5] for r in rows} == {"<EMAIL_ADDRESS>"}
    _, tasks = store.query(
        "SELECT team_id FROM tasks FINAL WHERE correlation_id = {c:String}", parameters={"c": task.correlation_id}
    )
    assert tasks == [("<EMAIL_ADDRESS>",)]


async def test_a_topic_type_carrying_a_card_never_stores_it(store: Store, redactor: object) -> None:
    # Core apps name topic types too ("orders.<id>"); the topic_type column was stored as given.
    hook = make_hook(store, redactor)
    runtime = await echo_runtime(hook)
    async with hook.core_task("shop", tenant_id="acme") as task:
        await runtime.publish_message(Ping(1), TopicId("orders.4111111111111111", "shop"))
        await runtime.publish_message(Ping(2), TopicId("orders", "shop"))
    await runtime.stop_when_idle()
    assert await hook.aclose()
    _, rows = store.query(
        "SELECT topic_type FROM events WHERE correlation_id = {c:String} AND kind = 'publish' ORDER BY seq",
        parameters={"c": task.correlation_id},
    )
    assert rows == [("orders.<CREDIT_CARD>",), ("orders",)]


async def test_an_unclaimed_email_key_is_filed_under_a_pseudonym(store: Store, redactor: object) -> None:
    # No task claims these sends, so they are filed under the agent key as an unattributed task.
    # The correlation id is the trail's key and is stored as given: the email must not become it.
    hook = make_hook(store, redactor)
    runtime = await echo_runtime(hook)
    email = "jane.doe@example.com"
    for n in (1, 2):
        assert await runtime.send_message(Ping(n), AgentId("echo", email)) == n
    assert await runtime.send_message(Ping(7), AgentId("echo", "default")) == 7
    await runtime.stop_when_idle()
    assert await hook.aclose()
    _, everything = store.query("SELECT * FROM events")
    assert everything and email not in repr(everything)
    _, tasks = store.query("SELECT * FROM tasks FINAL")
    assert email not in repr(tasks)
    _, rows = store.query(
        "SELECT correlation_id, tenant_id, count() FROM events WHERE kind = 'send' GROUP BY 1, 2 ORDER BY 1"
    )
    by_correlation = {r[0]: (r[1], r[2]) for r in rows}
    assert by_correlation.pop("default") == ("_unattributed", 1)  # an id-shaped key is kept
    [(pseudonym, (tenant, sends))] = by_correlation.items()
    assert pseudonym.startswith("src-") and tenant == "_unattributed"
    assert sends == 2  # both sends to the same key are one task
