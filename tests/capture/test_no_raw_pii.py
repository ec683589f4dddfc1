"""Planted PII and secrets never reach any String column of any table."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from autogen_core import AgentId, BaseAgent, MessageContext, SingleThreadedAgentRuntime

from collector import Store
from collector._demo import PERSONAS, run_demo

from ._teams import make_hook

NUMBER_RUN = re.compile(r"\+?\d[\d \t().-]{5,}\d")


def planted_values() -> list[str]:
    values: list[str] = []
    for p in PERSONAS:
        values += [p.email, p.phone, p.card, p.card.replace(" ", ""), p.ip, p.api_key, p.name]
        values.append(p.address.split(",")[0])  # the street part of the address
        values.append(re.sub(r"\D", "", p.phone))  # the phone's digits, however formatted
    return values


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory, redactor: object) -> Iterator[Store]:
    store = Store.open(f"chdb://{tmp_path_factory.mktemp('pii') / 'store'}")

    async def record() -> bool:
        hook = make_hook(store, redactor)
        await run_demo(hook, tenants=4, tasks_per_tenant=2)
        return await hook.aclose()

    assert asyncio.run(record())
    yield store
    store.close()


def string_columns(store: Store) -> list[tuple[str, str]]:
    _, rows = store.query(
        "SELECT table, name FROM system.columns WHERE database = currentDatabase() "
        "AND (type LIKE '%String%' OR type LIKE 'Map%')"
    )
    return [(str(t), str(c)) for t, c in rows]


def test_no_planted_value_in_any_string_column(demo_store: Store) -> None:
    columns = string_columns(demo_store)
    assert ("events", "content") in columns and ("events", "payload") in columns and ("tasks", "error") in columns
    _, count = demo_store.query("SELECT count() FROM events")
    assert count[0][0] > 100
    leaks = []
    for table, column in columns:
        _, rows = demo_store.query(f"SELECT toString(`{column}`) FROM `{table}`")
        blob = "\n".join(str(r[0]) for r in rows)
        # Numbers however formatted: each run of digits and separators, reduced to its digits.
        digit_runs = {re.sub(r"\D", "", m) for m in NUMBER_RUN.findall(blob)}
        for value in planted_values():
            hit = any(value in run for run in digit_runs) if value.isdigit() else value in blob
            if hit:
                leaks.append((table, column, value[:4] + "…"))
    assert leaks == []


def test_redaction_markers_and_summary_are_stored(demo_store: Store) -> None:
    _, rows = demo_store.query("SELECT sumMap(redaction) FROM events WHERE kind = 'send'")
    found = dict(rows[0][0])
    for entity in ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IP_ADDRESS", "API_KEY"):
        assert found.get(entity, 0) >= 1, (entity, found)
    _, rows = demo_store.query("SELECT content FROM events WHERE kind = 'send' LIMIT 1")
    assert "<EMAIL_ADDRESS>" in rows[0][0]


@dataclass
class Balances:
    """A plain Core message whose dict is keyed by customer."""

    by_customer: dict[str, int] = field(default_factory=dict)


class Sink(BaseAgent):
    def __init__(self) -> None:
        super().__init__("sink")

    async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any:
        return None


def test_pii_in_dict_keys_and_after_a_data_url_reaches_no_column(demo_store: Store, redactor: object) -> None:
    email, api_key = "jane.doe@example.com", "sk-proj-Zr8Tq2Lm5Nw7Kp3Vx9Bc4Hd6Jf1Gs0Ya"

    async def record() -> str:
        hook = make_hook(demo_store, redactor)  # chDB serves one path per process: the module's store
        runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
        await Sink.register(runtime, "sink", Sink)
        runtime.start()
        async with hook.core_task("job-1", tenant_id="acme") as task:
            target = AgentId("sink", "job-1")
            await runtime.send_message(Balances({email: 120, api_key: 1}), target)
            await runtime.send_message({"result": json.dumps({email: {"balance": 5}})}, target)
            await runtime.send_message({"content": f"data:text/plain;base64,aGk= mail {email} key {api_key}"}, target)
        await runtime.stop_when_idle()
        assert await hook.aclose()
        return task.correlation_id

    correlation_id = asyncio.run(record())
    _, rows = demo_store.query(
        "SELECT toString(tuple(*)) FROM events WHERE correlation_id = {c:String}", parameters={"c": correlation_id}
    )
    stored = "\n".join(str(r[0]) for r in rows)
    assert len(rows) >= 5 and "<EMAIL_ADDRESS>" in stored and "<API_KEY>" in stored
    assert email not in stored and api_key not in stored
