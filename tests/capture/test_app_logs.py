"""Raw content stays out of the app's own logs, with and without our filter."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from autogen_core import (
    AgentId,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    default_subscription,
    message_handler,
)

from collector import ContentFreeLogFilter, Store, install_content_free_logging

from ._teams import TEAM_BUILDERS, Job, make_hook, run_in_task

SECRET = "jane.roe@example.com"
API_KEY = "sk-live-4f9a2c7e1b"


@default_subscription
class FailingWorker(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("fails on every job")

    @message_handler
    async def on_job(self, message: Job, ctx: MessageContext) -> None:
        raise ValueError(f"cannot process {message.text}")


class Unbuildable(RoutedAgent):
    def __init__(self) -> None:
        raise RuntimeError("no configuration for this tenant")


@pytest.fixture
def app_log() -> Iterator[tuple[io.StringIO, logging.Handler]]:
    """An app that logs at WARNING through a root handler with no level of its own (the basicConfig shape)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    yield stream, handler
    root.removeHandler(handler)
    root.setLevel(old_level)


async def test_hook_enabling_event_loggers_does_not_leak_into_app_handlers(
    app_log: tuple[io.StringIO, logging.Handler], store: Store, redactor: object
) -> None:
    stream, _ = app_log
    hook = make_hook(store, redactor)
    # Capture taps the event loggers without enabling them: the app's levels stay as they were.
    assert not logging.getLogger("autogen_core.events").isEnabledFor(logging.INFO)
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
    runtime.start()
    await run_in_task(hook, TEAM_BUILDERS["RoundRobinGroupChat"](runtime, "x"), "acme", f"mail {SECRET}")
    await runtime.stop_when_idle()
    await hook.aclose()
    assert SECRET not in stream.getvalue()
    _, llm = store.query("SELECT count() FROM events WHERE kind = 'llm_call'")
    assert llm[0][0] > 0  # ...and LLM calls were still captured
    assert "info" not in logging.getLogger("autogen_core.events").__dict__  # aclose removed the tap
    # Warnings the app would have seen before still reach it.
    logging.getLogger("autogen_core.events").warning("a warning the app should still see")
    assert "a warning the app should still see" in stream.getvalue()


def test_content_free_filter_keeps_the_kind_and_drops_the_content(
    app_log: tuple[io.StringIO, logging.Handler],
) -> None:
    stream, handler = app_log
    content_filter = install_content_free_logging()
    assert isinstance(content_filter, ContentFreeLogFilter)
    try:
        logging.getLogger("autogen_core").warning(f"Sending message of type TextMessage to x: {SECRET}")
        logging.getLogger("autogen_core").warning("Publishing %s to %s", SECRET, "topic")
        logging.getLogger("myapp").warning("unrelated app line")
    finally:
        handler.removeFilter(content_filter)
    out = stream.getvalue()
    assert SECRET not in out
    assert "Sending message of type TextMessage to x [content withheld by autogen-audit]" in out
    assert "unrelated app line" in out


async def test_content_free_filter_drops_agent_keys_autogen_puts_in_colon_free_messages(
    app_log: tuple[io.StringIO, logging.Handler],
) -> None:
    # autogen_core logs "Error processing publish message for {agent.id}" and "Error constructing
    # agent {agent_id}" with no colon before the AgentId, whose key an app may take from a user
    # (an email as topic source) or a credential: neither may reach the app's handlers.
    stream, handler = app_log
    logging.getLogger().setLevel(logging.INFO)  # the runtime's per-message lines too (the fixture restores it)
    content_filter = install_content_free_logging()
    try:
        runtime = SingleThreadedAgentRuntime(ignore_unhandled_exceptions=True)
        await FailingWorker.register(runtime, "worker", FailingWorker)
        await Unbuildable.register(runtime, "unbuildable", Unbuildable)
        runtime.start()
        await runtime.publish_message(Job(f"order for {SECRET}"), TopicId("default", SECRET))
        with pytest.raises(RuntimeError):
            await runtime.send_message(Job("x"), AgentId("unbuildable", API_KEY))
        await runtime.stop_when_idle()
    finally:
        handler.removeFilter(content_filter)
    out = stream.getvalue()
    assert SECRET not in out
    assert API_KEY not in out
    assert "sk-live" not in out
    # The summaries still say what happened.
    withheld = "[content withheld by autogen-audit]"
    assert f"Error processing publish message for {withheld}" in out
    assert f"Error constructing agent {withheld}" in out
    assert f"Publishing message of type Job to all subscribers {withheld}" in out
    assert "Calling message handler for" in out


@pytest.mark.parametrize(
    ("message", "summary"),
    [
        (
            "Publishing message of type GroupChatStart to all subscribers: {'x': 1}",
            "Publishing message of type GroupChatStart to all subscribers",
        ),
        (
            f"Calling message handler for worker/{SECRET} with message type Job sent by Unknown",
            "Calling message handler for",
        ),
        (f"Error processing publish message for worker/{SECRET}", "Error processing publish message for"),
        (f"Error constructing agent worker/{API_KEY}", "Error constructing agent"),
        (f"Model selected multiple names: ['{SECRET}'] (attempt 2)", "Model selected multiple names"),
        (f"{SECRET} could not be reached", "message"),  # no leading plain words: only the record's kind
    ],
)
def test_content_free_filter_keeps_only_the_leading_plain_words(message: str, summary: str) -> None:
    record = logging.LogRecord("autogen_core", logging.ERROR, __file__, 1, message, None, None)
    assert ContentFreeLogFilter().filter(record)
    assert record.getMessage() == f"{summary} [content withheld by autogen-audit]"
    # A record that reaches two filtered handlers is filtered twice: the summary must not grow.
    assert ContentFreeLogFilter().filter(record)
    assert record.getMessage() == f"{summary} [content withheld by autogen-audit]"


def test_the_tap_still_logs_message_events_once_the_app_enables_them(
    app_log: tuple[io.StringIO, logging.Handler],
) -> None:
    # The tap ends a MessageEvent call early while the logger's own cache says INFO is off; a level
    # change clears that cache, so the next call must reach the app's handler again.
    from autogen_core.logging import DeliveryStage, MessageEvent, MessageKind

    from collector._log_capture import EventLogCapture, attach

    stream, _ = app_log
    seen: list[object] = []
    detach = attach(EventLogCapture(lambda *call: seen.append(call[2])))
    events = logging.getLogger("autogen_core.events")
    old = events.level

    def message_event(text: str) -> MessageEvent:
        kind, stage = MessageKind.DIRECT, DeliveryStage.SEND
        return MessageEvent(payload=text, sender=None, receiver=None, kind=kind, delivery_stage=stage)

    try:
        events.info(message_event("first, while INFO is off"))
        events.info(message_event("second, while INFO is off"))
        events.setLevel(logging.INFO)
        events.info(message_event("third, INFO on"))
        events.setLevel(logging.WARNING)
        events.info(message_event("fourth, off again"))
        events.warning("a warning %s", "with args")
    finally:
        events.setLevel(old)
        detach()
    # Only the third was enabled; it reaches the app (its content withheld if our filter is on).
    assert stream.getvalue().count("MessageEvent") == 1
    assert seen == ["a warning %s"]  # MessageEvents are not captured; other calls are, args kept raw


def test_a_captured_call_is_classified_in_the_replay_and_a_bad_format_loses_nothing() -> None:
    from autogen_core import AgentId
    from autogen_core.logging import ToolCallEvent

    from collector import EventKind
    from collector._log_capture import classify

    tool = ToolCallEvent(tool_name="lookup", arguments={"q": 1}, result="ok")
    agent = AgentId("support", "team-1")
    assert classify("autogen_core.events", logging.INFO, tool, (), agent) == (
        EventKind.TOOL_CALL,
        "support/team-1",
        tool,
    )
    kind, who, payload = classify("autogen_core.events", logging.WARNING, "%d apples", ("many",), None)  # type: ignore[misc]
    assert (kind, who) == (EventKind.RUNTIME_EVENT, "")
    assert payload == {"__type__": "LogRecord", "level": "WARNING", "message": "%d apples"}
    kind, _, payload = classify("autogen_agentchat.events", logging.DEBUG, "n=%s", (3,), agent)  # type: ignore[misc]
    assert kind == EventKind.AGENTCHAT_EVENT and payload["message"] == "n=3"


def test_attaching_a_capture_twice_captures_each_call_once_and_the_inner_detach_keeps_the_tap() -> None:
    from collector._log_capture import EventLogCapture, attach

    seen: list[object] = []
    capture = EventLogCapture(lambda *call: seen.append(call[2]))
    events = logging.getLogger("autogen_core.events")
    outer = attach(capture)
    try:
        inner = attach(capture)  # a bench's workload() inside a loop that already attached it
        events.warning("during both")
        inner()
        events.warning("after the inner detach")
    finally:
        outer()
    events.warning("after both")
    assert seen == ["during both", "after the inner detach"]
    assert "warning" not in events.__dict__
