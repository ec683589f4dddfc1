"""A replay model client that logs its calls the way AutoGen's real clients do.

ReplayChatCompletionClient gives deterministic output but, unlike the OpenAI client, never logs
an LLMCallEvent. The demo, tests and benchmarks need those events (tokens, model, latency) to
look like production traffic, so this subclass adds exactly that and nothing else.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from autogen_core import EVENT_LOGGER_NAME, CancellationToken
from autogen_core.logging import LLMCallEvent
from autogen_core.models import CreateResult, LLMMessage, ModelInfo
from autogen_core.tools import Tool, ToolSchema
from autogen_ext.models.replay import ReplayChatCompletionClient

_event_logger = logging.getLogger(EVENT_LOGGER_NAME)

TOOL_MODEL_INFO: ModelInfo = {
    "vision": False,
    "function_calling": True,
    "json_output": False,
    "family": "unknown",
    "structured_output": False,
}


class LoggingReplayClient(ReplayChatCompletionClient):
    """ReplayChatCompletionClient + the LLMCallEvent every production client logs."""

    def __init__(self, chat_completions: Sequence[str | CreateResult], model: str = "replay-4o") -> None:
        super().__init__(chat_completions, model_info=TOOL_MODEL_INFO)
        self._model_name = model

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Any = "auto",
        json_output: bool | type[Any] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        result = await super().create(
            messages,
            tools=tools,
            tool_choice=tool_choice,
            json_output=json_output,
            extra_create_args=extra_create_args,
            cancellation_token=cancellation_token,
        )
        content = result.content if isinstance(result.content, str) else [dataclasses.asdict(c) for c in result.content]
        _event_logger.info(
            LLMCallEvent(
                messages=[m.model_dump() for m in messages],
                response={"model": self._model_name, "content": content, "finish_reason": result.finish_reason},
                prompt_tokens=result.usage.prompt_tokens,
                completion_tokens=result.usage.completion_tokens,
            )
        )
        return result
