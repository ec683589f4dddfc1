"""The capture log: the hook's hot-path queue, and the replay that attributes what it holds.

The intervention handlers run inline on the runtime's single dispatch loop, where every
instruction is paid by the agents, and in a real workload each one pays cache misses (an
attribute read costs several times what it costs on a warm loop). So a handler only appends one
tuple: what kind of call it was, the time, and the objects it was given. Everything else
(which task the message belongs to, its sequence number, the metadata-attributed task start,
the implicit task end) happens here, off the loop, when the sink's worker drains the log.

Why this attributes exactly as the inline handler did: the task registry changes only through
records in the same log (``REGISTER``, ``RELEASE``, ``UNFINISH_ALL``), appended by the same
thread in the same order as the messages around them. Replaying the log in order therefore sees
the registry as it was when each message went by.
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from ._attribution import Attribution, TaskContext, metadata_ref
from ._events import CapturedEvent, EventKind, TaskRef
from ._log_capture import classify
from ._safe_log import log_failure
from ._scope import result_payload

__all__ = ["CaptureLog", "start_payload"]

log = logging.getLogger("collector")

# Record opcodes: the first field of every record tuple. Small ints compare by identity.
SEND, PUBLISH, RESPONSE, LOG, EMIT, ROUTED, REGISTER, RELEASE, UNFINISH_ALL = range(9)

_SEND, _PUBLISH, _RESPONSE = EventKind.SEND, EventKind.PUBLISH, EventKind.RESPONSE
_TIMED_KINDS = frozenset({EventKind.LLM_CALL, EventKind.TOOL_CALL, EventKind.LLM_STREAM_END})
_new_event = tuple.__new__
# One capture order for the whole process, shared by every hook: an event id is its sink's prefix
# plus this number, and two hooks may share a sink (a pipeline or a RemoteSink). Per hook, their
# ids collided, and the sidecar dropped the second hook's events as retries of the first's.
_GSEQ = itertools.count()


class CaptureLog:
    """Records in dispatch order; ``drain()`` turns them into attributed events for the sink.

    ``append`` is the deque's own bound method: the handlers call it directly. Draining takes a
    lock, so the sink's worker, a flush and the log's own thread never replay concurrently:
    sequence numbers stay in capture order.
    """

    def __init__(self, attribution: Attribution, submit: Callable[[CapturedEvent], bool], *, soft_max: int) -> None:
        self._attribution = attribution
        self._live = attribution.live
        self._submit = submit
        self._records: collections.deque[tuple[Any, ...]] = collections.deque()
        self.append = self._records.append
        self.soft_max = soft_max
        self._lock = threading.Lock()
        self._gseq = _GSEQ
        self.errors = 0
        self._stopped = False

    def __len__(self) -> int:
        return len(self._records)

    # -- draining ---------------------------------------------------------------------------
    def drain(self, timeout: float = -1) -> bool:
        """Replay every record appended so far. False if another drain held the lock past
        ``timeout`` (-1: wait as long as it takes; 0: do not wait)."""
        acquired = self._lock.acquire(blocking=False) if timeout == 0 else self._lock.acquire(timeout=timeout)
        if not acquired:
            return False
        try:
            records, apply = self._records, self._apply
            while records:
                record = records.popleft()
                try:
                    apply(record)
                except Exception as exc:  # noqa: BLE001 - one odd record must not stop the replay
                    self.errors += 1
                    log_failure(log, "collector: capture replay error (content withheld)", exc)
        finally:
            self._lock.release()
        return True

    def start_thread(self, interval_s: float, *, only_past_bound: bool) -> None:
        """Replay on a timer: every time (for sinks that cannot call ``drain`` themselves), or only
        when the log holds more than ``soft_max`` records, i.e. the sink's worker has stalled (a
        remote sink retrying a slow sidecar): the log stays bounded, and the dispatch loop never
        has to check."""

        def loop() -> None:
            while not self._stopped:
                time.sleep(interval_s)
                if not only_past_bound or len(self._records) > self.soft_max:
                    self.drain()

        threading.Thread(target=loop, name="autogen-audit-capture", daemon=True).start()

    def stop(self) -> None:
        self._stopped = True

    # -- replay -----------------------------------------------------------------------------
    def _apply(self, record: tuple[Any, ...]) -> None:
        op = record[0]
        if op is PUBLISH:
            _, ts, message, context = record
            topic = context.topic_id
            if topic is None:
                return
            key, topic_type = topic.source, topic.type
            ctx = self._live.get(key) or self._resolve(key, message, topic_type, ts)
            self._event(ctx, ts, _PUBLISH, message, context.sender, None, topic_type, key)
            # AgentChat addresses a participant through a topic named like its agent type.
            ctx.activity[topic_type] = ts
            if ctx.auto_close and type(message).__name__ == "GroupChatTermination":
                self._close_implicit(ctx, message, ts)
        elif op is SEND:
            _, ts, message, context, recipient = record
            key = recipient.key
            ctx = self._live.get(key) or self._resolve(key, message, recipient.type, ts)
            self._event(ctx, ts, _SEND, message, context.sender, recipient)
            ctx.activity[recipient.type] = ts
        elif op is RESPONSE:
            _, ts, message, sender, recipient = record
            ctx = self._attribution.lookup(sender.key)
            self._event(ctx, ts, _RESPONSE, message, sender, recipient)
        elif op is LOG:
            _, ts, logger_name, level, message, args, agent, standalone = record
            classified = classify(logger_name, level, message, args, agent)
            if classified is not None:
                kind, agent_name, payload = classified
                self._log_event(ts, kind, agent_name, payload, standalone)
        elif op is EMIT:
            _, ts, ctx, kind, payload = record
            self._event(ctx, ts, kind, payload)
        elif op is ROUTED:
            _, ts, key, kind, payload, sender, recipient, topic_type, topic_source = record
            ctx = self._attribution.lookup(key)
            self._event(ctx, ts, kind, payload, sender, recipient, topic_type, topic_source)
        elif op is REGISTER:
            self._attribution.adopt(record[1])
        elif op is RELEASE:
            self._attribution.unregister(record[1])
        elif op is UNFINISH_ALL:
            _, ts, reason = record
            for ctx in list(self._live.values()):
                self._event(ctx, ts, EventKind.TASK_UNFINISHED, {"__type__": "TaskUnfinished", "reason": reason})
                self._attribution.unregister(ctx)

    def _event(
        self,
        ctx: TaskContext,
        ts: int,
        kind: EventKind,
        payload: Any,
        sender: Any = "",
        recipient: Any = "",
        topic_type: str = "",
        topic_source: str = "",
        duration_ns: int = 0,
    ) -> None:
        fields = (next(self._gseq), ctx.ref, next(ctx.seq), ts, kind, payload, sender, recipient, topic_type,
                  topic_source, duration_ns, "")  # fmt: skip
        self._submit(_new_event(CapturedEvent, fields))

    def _log_event(self, ts: int, kind: EventKind, agent: str, payload: Any, standalone: TaskContext | None) -> None:
        agent_type, _, key = agent.partition("/")
        ctx = self._live.get(key) or standalone or self._attribution.lookup(key)
        duration = 0
        if agent and kind in _TIMED_KINDS:
            # Latency of an LLM or tool call: time since this agent's previous activity (the
            # request that started its turn, or its previous call), stamped at the call's end.
            last = ctx.activity.get(agent_type)
            duration = ts - last if last else 0
            ctx.activity[agent_type] = ts
        self._event(ctx, ts, kind, payload, agent, "", "", "", duration)

    def _resolve(self, key: str, message: Any, agent_type: str, ts: int) -> TaskContext:
        """A key no live task claims: task-message metadata, then conventions."""
        if type(message).__name__ == "GroupChatStart":
            team_type = agent_type.removesuffix(f"_{key}").removesuffix("Manager")
            ref = metadata_ref(getattr(message, "messages", None), key, team_type)
            if ref is not None:
                ctx = self._attribution.register(key, ref, auto_close=True)
                self._event(ctx, ts, EventKind.TASK_START, start_payload(ref, "metadata"))
                return ctx
        return self._attribution.lookup(key)

    def _close_implicit(self, ctx: TaskContext, message: Any, ts: int) -> None:
        """A metadata-attributed task has no `async with`: its end is the team's termination."""
        if self._live.get(ctx.key) is not ctx:
            return
        payload = result_payload(None)
        payload["stop_reason"] = getattr(getattr(message, "message", None), "content", None)
        self._event(ctx, ts, EventKind.TASK_RESULT, payload)
        self._attribution.unregister(ctx)


def start_payload(ref: TaskRef, via: str) -> dict[str, Any]:
    return {
        "__type__": "TaskStart",
        "tenant_id": ref.tenant_id,
        "user_id": ref.user_id,
        "team_type": ref.team_type,
        "attributed_by": via,
        "pid": os.getpid(),
    }
