"""Raw content stays out of the app's own logs, with and without our filter."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from autogen_core import SingleThreadedAgentRuntime

from collector import ContentFreeLogFilter, Store, install_content_free_logging

from ._teams import TEAM_BUILDERS, make_hook, run_in_task

SECRET = "jane.roe@example.com"


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
