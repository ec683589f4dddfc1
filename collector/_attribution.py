"""Which tenant and task an event belongs to.

contextvars set by the app do not reach intervention handlers (the runtime's dispatch loop runs
in its own context), so attribution is keyed on what every message carries: the AgentChat
team id (topic source / agent key) or, for plain Core apps, the topic source / agent key.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from ._events import TaskRef
from ._fallback_ids import fallback_correlation

_IMPLICIT_MAX = 10_000


class TaskContext:
    """A live task: its identity and its per-task sequence counter."""

    __slots__ = ("activity", "auto_close", "key", "ref", "seq")

    def __init__(self, ref: TaskRef, key: str, auto_close: bool = False) -> None:
        self.ref = ref
        self.key = key
        # Tasks attributed from message metadata have no `async with`: the team's termination ends them.
        self.auto_close = auto_close
        # Per-task sequence, drawn when the capture log is replayed (in capture order).
        self.seq: Iterator[int] = itertools.count(1)
        # When each agent type of this task last received something (ns), to time its LLM and tool
        # calls. Per task, so it stays a few entries and dies with the task.
        self.activity: dict[str, int] = {}


def new_correlation_id() -> str:
    return uuid.uuid4().hex


class Attribution:
    """The registry of live tasks by key, plus the fallbacks for keys nobody registered."""

    def __init__(self, source_pattern: str, unattributed_tenant: str) -> None:
        self._pattern = re.compile(source_pattern)
        self._unattributed = unattributed_tenant
        self.live: dict[str, TaskContext] = {}
        self._implicit: OrderedDict[str, TaskContext] = OrderedDict()

    def register(self, key: str, ref: TaskRef, auto_close: bool = False) -> TaskContext:
        return self.adopt(TaskContext(ref, key, auto_close))

    def adopt(self, ctx: TaskContext) -> TaskContext:
        """Make ``ctx`` the live task for its key (a context built by the app's thread)."""
        self.live[ctx.key] = ctx
        self._implicit.pop(ctx.key, None)
        return ctx

    def unregister(self, ctx: TaskContext) -> None:
        if self.live.get(ctx.key) is ctx:
            del self.live[ctx.key]
        # Late events (a response after the run returned) still belong to this task.
        self._remember(ctx.key, ctx)

    def lookup(self, key: str) -> TaskContext:
        """The task for a key: registered, recently closed, by source convention, or unattributed."""
        ctx = self.live.get(key)
        if ctx is not None:
            return ctx
        ctx = self._implicit.get(key)
        if ctx is not None:
            return ctx
        return self._remember(key, TaskContext(self._implicit_ref(key), key))

    def _implicit_ref(self, key: str) -> TaskRef:
        match = self._pattern.match(key) if key else None
        if match:
            groups = match.groupdict()
            tenant = groups.get("tenant_id") or self._unattributed
            return TaskRef(
                tenant_id=tenant,
                correlation_id=groups.get("correlation_id") or key,  # the app's declared convention
                user_id=groups.get("user_id") or "",
                team_id=key,
            )
        # Filed under the key, as a pseudonym unless it is an id (see _fallback_ids).
        correlation = fallback_correlation(key) if key else "unknown"
        return TaskRef(tenant_id=self._unattributed, correlation_id=correlation, team_id=key)

    def _remember(self, key: str, ctx: TaskContext) -> TaskContext:
        self._implicit[key] = ctx
        self._implicit.move_to_end(key)
        if len(self._implicit) > _IMPLICIT_MAX:
            self._implicit.popitem(last=False)
        return ctx


def metadata_ref(messages: Any, key: str, team_type: str) -> TaskRef | None:
    """Attribution carried by the task message's metadata (tenant_id, user_id, correlation_id)."""
    if not isinstance(messages, list):
        return None
    for message in messages:
        metadata = getattr(message, "metadata", None)
        if isinstance(metadata, dict) and metadata.get("tenant_id"):
            return TaskRef(
                tenant_id=str(metadata["tenant_id"]),
                correlation_id=str(metadata.get("correlation_id") or new_correlation_id()),
                user_id=str(metadata.get("user_id") or ""),
                team_id=key,
                team_type=team_type,
            )
    return None
