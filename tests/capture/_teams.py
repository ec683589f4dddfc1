"""Builders for real AgentChat teams driven by replayed model output, used across tests."""

from __future__ import annotations

import json
from dataclasses import dataclass

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.base import TaskResult
from autogen_agentchat.conditions import HandoffTermination, MaxMessageTermination, TextMentionTermination
from autogen_agentchat.teams import DiGraphBuilder, GraphFlow, RoundRobinGroupChat, SelectorGroupChat, Swarm
from autogen_core import (
    FunctionCall,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    default_subscription,
    message_handler,
)
from autogen_core.models import CreateResult, RequestUsage
from autogen_core.tools import FunctionTool

from collector import AuditHook, AuditSettings, Store, build_pipeline
from collector._demo_models import LoggingReplayClient


def make_hook(store: Store, redactor: object, **settings: object) -> AuditHook:
    cfg = AuditSettings(store_dsn=store.dsn, **settings)  # type: ignore[arg-type]
    return AuditHook(build_pipeline(cfg, store=store, redactor=redactor), cfg)  # type: ignore[arg-type]


def get_order(order_id: str) -> str:
    """Fetch an order."""
    return json.dumps({"order_id": order_id, "status": "shipped"})


def tool_call(name: str, args: dict[str, str], call_id: str = "call-1") -> CreateResult:
    return CreateResult(
        finish_reason="function_calls",
        content=[FunctionCall(id=call_id, name=name, arguments=json.dumps(args))],
        usage=RequestUsage(prompt_tokens=50, completion_tokens=7),
        cached=False,
    )


def round_robin(runtime: SingleThreadedAgentRuntime, marker: str) -> RoundRobinGroupChat:
    """Two agents, a tool call, every model output carrying `marker` so rows can be traced."""
    worker = AssistantAgent(
        "worker",
        model_client=LoggingReplayClient([tool_call("get_order", {"order_id": marker}), f"order {marker} shipped"]),
        tools=[FunctionTool(get_order, description="Fetch an order.")],
        reflect_on_tool_use=True,
    )
    checker = AssistantAgent("checker", model_client=LoggingReplayClient([f"checked {marker}. TERMINATE"]))
    stop = TextMentionTermination("TERMINATE") | MaxMessageTermination(10)
    return RoundRobinGroupChat([worker, checker], termination_condition=stop, runtime=runtime)


def selector(runtime: SingleThreadedAgentRuntime, marker: str) -> SelectorGroupChat:
    a = AssistantAgent("planner", description="plans", model_client=LoggingReplayClient([f"plan for {marker}"]))
    b = AssistantAgent("doer", description="does", model_client=LoggingReplayClient([f"did {marker}. TERMINATE"]))
    chooser = LoggingReplayClient(["planner", "doer", "doer"])
    stop = TextMentionTermination("TERMINATE") | MaxMessageTermination(6)
    return SelectorGroupChat([a, b], model_client=chooser, termination_condition=stop, runtime=runtime)


def swarm(runtime: SingleThreadedAgentRuntime, marker: str) -> Swarm:
    triage = AssistantAgent(
        "triage",
        model_client=LoggingReplayClient([tool_call("transfer_to_billing", {})]),
        handoffs=["billing"],
    )
    billing = AssistantAgent("billing", model_client=LoggingReplayClient([f"refunded {marker}. TERMINATE"]))
    stop = TextMentionTermination("TERMINATE") | HandoffTermination(target="user") | MaxMessageTermination(8)
    return Swarm([triage, billing], termination_condition=stop, runtime=runtime)


def graph_flow(runtime: SingleThreadedAgentRuntime, marker: str) -> GraphFlow:
    writer = AssistantAgent("writer", model_client=LoggingReplayClient([f"draft {marker}"]))
    editor = AssistantAgent("editor", model_client=LoggingReplayClient([f"edited {marker}"]))
    builder = DiGraphBuilder()
    builder.add_node(writer).add_node(editor)
    builder.add_edge(writer, editor)
    return GraphFlow(participants=[writer, editor], graph=builder.build(), runtime=runtime)


TEAM_BUILDERS = {
    "RoundRobinGroupChat": round_robin,
    "SelectorGroupChat": selector,
    "Swarm": swarm,
    "GraphFlow": graph_flow,
}


async def run_in_task(
    hook: AuditHook, team: object, tenant: str, text: str, user: str = "u-1"
) -> tuple[str, TaskResult]:
    async with hook.task(team, tenant_id=tenant, user_id=user) as task:
        result = await team.run(task=text)  # type: ignore[attr-defined]
        task.record_result(result)
    return task.correlation_id, result


@dataclass
class Job:
    text: str


@default_subscription
class Worker(RoutedAgent):
    """A plain Core agent: each Job it gets is answered by a publish of its own ("done: ...")."""

    def __init__(self) -> None:
        super().__init__("core worker")

    @message_handler
    async def on_job(self, message: Job, ctx: MessageContext) -> None:
        await self.publish_message(Job(f"done: {message.text}"), topic_id=TopicId("results", self.id.key))


async def core_runtime(hook: AuditHook) -> SingleThreadedAgentRuntime:
    """A started runtime with ``hook`` as its intervention handler and a Worker registered."""
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
    await Worker.register(runtime, "worker", lambda: Worker())
    runtime.start()
    return runtime
