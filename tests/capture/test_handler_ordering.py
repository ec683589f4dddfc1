"""The documented ordering rule: AuditHook first, then the app's handlers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from autogen_core import (
    AgentId,
    BaseAgent,
    DefaultInterventionHandler,
    DropMessage,
    MessageContext,
    SingleThreadedAgentRuntime,
)
from autogen_core.exceptions import MessageDroppedException

from collector import Store

from ._teams import make_hook


@dataclass
class Order:
    item: str


class Shop(BaseAgent):
    def __init__(self) -> None:
        super().__init__("shop")
        self.seen: list[str] = []

    async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any:
        self.seen.append(message.item)
        return f"ok {message.item}"


class BlockContraband(DefaultInterventionHandler):
    """An app's own policy handler: drops some messages, rewrites others."""

    async def on_send(self, message: Any, *, message_context: MessageContext, recipient: AgentId) -> Any:
        if isinstance(message, Order) and message.item == "contraband":
            return DropMessage
        if isinstance(message, Order):
            return Order(item=message.item.upper())
        return message


async def test_hook_first_sees_dropped_messages_and_the_apps_rewrite_wins(store: Store, redactor: object) -> None:
    hook = make_hook(store, redactor)
    shops: list[Shop] = []
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook, BlockContraband()])

    def make_shop() -> Shop:
        shops.append(Shop())
        return shops[-1]

    await Shop.register(runtime, "shop", make_shop)
    runtime.start()
    async with hook.core_task("order-1", tenant_id="acme"):
        assert await runtime.send_message(Order("book"), AgentId("shop", "order-1")) == "ok BOOK"
        with pytest.raises(MessageDroppedException):  # how the runtime tells the sender of a dropped send
            await runtime.send_message(Order("contraband"), AgentId("shop", "order-1"))
    # Not stop_when_idle(): after an intervention returns DropMessage it never returns (autogen-core 0.7.5).
    await runtime.stop()
    assert await hook.aclose()
    assert shops[0].seen == ["BOOK"]  # the app handler's rewrite was delivered, its drop was honoured
    _, rows = store.query(
        "SELECT kind, content, payload FROM events WHERE kind IN ('send', 'message_dropped') ORDER BY seq"
    )
    kinds = [r[0] for r in rows]
    assert kinds.count("send") == 2 and "message_dropped" in kinds
    sends = [r[2] for r in rows if r[0] == "send"]
    assert '"item":"book"' in sends[0] and '"item":"contraband"' in sends[1]  # recorded as sent, before rewrite
