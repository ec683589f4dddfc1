"""The demo: real AgentChat teams, several tenants, planted PII, through the hook into the store."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.conditions import MaxMessageTermination, TextMentionTermination
from autogen_agentchat.messages import TextMessage
from autogen_agentchat.teams import RoundRobinGroupChat
from autogen_core import FunctionCall, SingleThreadedAgentRuntime
from autogen_core.models import CreateResult, RequestUsage
from autogen_core.tools import FunctionTool

from ._demo_models import LoggingReplayClient
from ._hook import AuditHook


@dataclass(frozen=True)
class Persona:
    name: str
    email: str
    phone: str
    card: str
    ip: str
    api_key: str
    address: str


# Synthetic people: every value is fake but shaped like the real thing (valid Luhn cards etc.).
PERSONAS = [
    Persona("Jane Doe", "jane.doe@example.com", "+44 20 7946 0958", "4111 1111 1111 1111", "203.0.113.7",
            "sk-proj-Xq3vB8nR2mT5wY7zK1pL4sD6fG9hJ0aQ", "221B Baker Street, London"),
    Persona("Carlos Mendes", "carlos.mendes@example.org", "+1 202 555 0143", "5555 5555 5555 4444",
            "198.51.100.23", "AKIAIOSFODNN7EXAMPLE", "1600 Pennsylvania Avenue, Washington"),
    Persona("Aiko Tanaka", "aiko.tanaka@example.net", "+81 3 1234 5678", "3782 822463 10005", "192.0.2.55",
            "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "2-1-1 Nihonbashi, Tokyo"),
    Persona("Olivia Smith", "olivia.smith@example.com", "+61 2 9374 4000", "6011 1111 1111 1117",
            "203.0.113.99", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "10 Downing Street, London"),
]  # fmt: skip
TENANTS = ["acme", "globex", "initech", "umbrella"]


def lookup_customer(email: str) -> str:
    """Look up a customer's account by email."""
    for p in PERSONAS:
        if p.email == email:
            return json.dumps({"name": p.name, "email": p.email, "phone": p.phone, "address": p.address})
    raise ValueError(f"no customer with email {email}")


def _support_script(p: Persona, email: str) -> list[str | CreateResult]:
    call = FunctionCall(id="call-1", name="lookup_customer", arguments=json.dumps({"email": email}))
    return [
        CreateResult(
            finish_reason="function_calls", content=[call], usage=RequestUsage(prompt_tokens=120, completion_tokens=18),
            cached=False,
        ),
        f"I found the account of {p.name} ({p.email}). The duplicate charge on card {p.card} is refunded.",
        "Following up as requested.",
        "Still waiting for the payment processor.",
        "Escalating to a human agent.",
    ]  # fmt: skip


def build_team(
    runtime: SingleThreadedAgentRuntime, p: Persona, *, abnormal: bool, broken_tool: bool
) -> RoundRobinGroupChat:
    email = "nobody@example.com" if broken_tool else p.email
    support = AssistantAgent(
        "support",
        model_client=LoggingReplayClient(_support_script(p, email)),
        tools=[FunctionTool(lookup_customer, description="Look up a customer by email.")],
        reflect_on_tool_use=True,
        system_message="You are a support agent.",
    )
    closing = "Still checking, please hold." if abnormal else "Refund approved. TERMINATE"
    reviewer = AssistantAgent(
        "reviewer", model_client=LoggingReplayClient([closing, closing, closing]), system_message="You review."
    )
    termination = TextMentionTermination("TERMINATE") | MaxMessageTermination(6)
    return RoundRobinGroupChat([support, reviewer], termination_condition=termination, runtime=runtime)


def task_text(p: Persona) -> str:
    return (
        f"Hi, I'm {p.name}, you can reach me at {p.email} or {p.phone}. My card {p.card} was charged twice. "
        f"I live at {p.address}. Our server {p.ip} logged the key {p.api_key} - please help."
    )


async def _one_task(
    hook: AuditHook, runtime: SingleThreadedAgentRuntime, tenant: str, i: int, via_metadata: bool
) -> str:
    p = PERSONAS[i % len(PERSONAS)]
    team = build_team(runtime, p, abnormal=i % 5 == 3, broken_tool=i % 7 == 5)
    user = f"u-{(i * 7) % 50}"
    if via_metadata:
        # Attribution from the task message's metadata: no `async with` needed.
        correlation = f"meta-{tenant}-{i}"
        meta = {"tenant_id": tenant, "user_id": user, "correlation_id": correlation}
        await team.run(task=TextMessage(content=task_text(p), source="user", metadata=meta))
        return correlation
    async with hook.task(team, tenant_id=tenant, user_id=user) as task:
        result = await team.run(task=task_text(p))
        task.record_result(result)
        if result.stop_reason and "Maximum" in result.stop_reason:
            task.record_event("escalation", reason="no resolution within the message budget", attempt=1)
        return task.correlation_id


async def run_demo(hook: AuditHook, *, tenants: int = 4, tasks_per_tenant: int = 3) -> list[str]:
    """Run tasks for several tenants concurrently on one runtime; returns their correlation ids."""
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
    runtime.start()
    jobs = []
    n = 0
    for tenant in TENANTS[:tenants]:
        for _ in range(tasks_per_tenant):
            jobs.append(_one_task(hook, runtime, tenant, n, via_metadata=n % 6 == 4))
            n += 1
    try:
        correlation_ids = list(await asyncio.gather(*jobs))
    finally:
        await runtime.stop_when_idle()
    return correlation_ids
