"""Seed a store with realistic, deterministic audit data for SQL tests and the SQL bench.

Data goes in through ``Store.insert`` with the columns of migration 001, like the exporter's.
Timestamps are relative to the wall clock (the last ``days`` days) so that questions such as
"this week" find rows. Content is synthetic and already looks redacted: no PII is ever written.

The returned :class:`SeedSummary` carries the ground truth the tests compare views against.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["EVENT_COLUMNS", "TASK_COLUMNS", "SeedSummary", "Seeded", "seed_store"]

EVENT_COLUMNS: tuple[str, ...] = (
    "tenant_id", "correlation_id", "seq", "ts", "event_id", "kind", "user_id", "team_id", "team_type",
    "sender", "recipient", "topic_type", "topic_source", "message_type", "message_id", "source",
    "content", "payload", "prompt_tokens", "completion_tokens", "model", "tool_name", "duration_ms",
    "is_error", "error", "redaction", "redaction_status", "policy_version", "truncated", "content_chars",
)  # fmt: skip
TASK_COLUMNS: tuple[str, ...] = (
    "tenant_id", "correlation_id", "user_id", "team_id", "team_type", "started_at", "finished_at",
    "status", "abnormal", "stop_reason", "message_count", "prompt_tokens", "completion_tokens", "error",
    "version",
)  # fmt: skip

TENANTS = (
    "tenant-acme", "tenant-globex", "tenant-initech", "tenant-umbrella", "tenant-hooli", "tenant-wayne"
)  # fmt: skip
# The tenant whose abnormal-stop rate jumps in the last 7 days (a cookbook question finds it).
DEGRADING_TENANT = "tenant-globex"
_TENANT_WEIGHTS = (4, 2, 1, 1, 1, 1)  # acme is the biggest tenant, the rest are alike
TEAM_TYPES = ("RoundRobinGroupChat", "SelectorGroupChat", "Swarm", "MagenticOneGroupChat")
# model -> (median latency ms, spread)
MODELS = {"gpt-4o": (1200.0, 0.45), "gpt-4o-mini": (450.0, 0.35), "claude-3-5-sonnet": (1600.0, 0.5)}
# tool -> (median duration ms, error probability)
TOOLS = {
    "web_search": (800.0, 0.04),
    "sql_query": (120.0, 0.02),
    "send_email": (300.0, 0.01),
    "fetch_url": (650.0, 0.12),
    "calculator": (3.0, 0.0),
}
NORMAL_STOPS = ("Text 'TERMINATE' mentioned", "Handoff to user from agent planner")
ABNORMAL_STOPS = (
    "Maximum number of messages 12 reached, current message count: 12",
    "Maximum number of turns 8 reached.",
    "Token usage limit reached, total token count: 40000",
    "Timeout of 300 seconds reached",
    "External termination requested",
)
_END_KINDS = {"running": "", "error": "task_error", "unfinished": "task_unfinished"}
AGENTS = ("planner", "researcher", "coder", "critic")
POLICY = "policy-2024.1"


class _Inserter(Protocol):
    def insert(
        self, table: str, rows: Sequence[Sequence[Any]], column_names: Sequence[str], settings: Any = None
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class SeedSummary:
    """Ground truth of what was seeded."""

    events: int
    tasks: int
    tenants: tuple[str, ...]
    llm_calls: int
    tool_calls: int
    tool_errors: int
    lost_events: int
    loss_events: int
    redaction_failures: int
    dropped_messages: int
    handler_exceptions: int
    abnormal_tasks: int
    running_tasks: int
    prompt_tokens: int
    completion_tokens: int
    per_tenant_tasks: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Seeded:
    """A seeded store handed to tests: the store, the ground truth and the DSN it lives at."""

    store: Any
    summary: SeedSummary
    dsn: str


@dataclass(slots=True)
class _Counts:
    events: int = 0
    llm_calls: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    lost_events: int = 0
    loss_events: int = 0
    redaction_failures: int = 0
    dropped: int = 0
    handler_exc: int = 0
    abnormal: int = 0
    running: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    per_tenant: dict[str, int] = field(default_factory=dict)


class _TaskWriter:
    """Builds the event rows of one task, numbering them and keeping the counts."""

    def __init__(self, rng: random.Random, counts: _Counts, tenant: str, cid: str, user: str,
                 team_id: str, team_type: str, start: dt.datetime) -> None:  # fmt: skip
        self.rng, self.counts = rng, counts
        self.tenant, self.cid, self.user, self.team_id, self.team_type = tenant, cid, user, team_id, team_type
        self.clock = start
        self.rows: list[list[Any]] = []

    def emit(self, kind: str, *, advance_ms: float = 5.0, sender: str = "", recipient: str = "",
             message_type: str = "", content: str = "", payload: Any = None, prompt_tokens: int = 0,
             completion_tokens: int = 0, model: str = "", tool_name: str = "", duration_ms: float = 0.0,
             is_error: bool = False, error: str = "") -> None:  # fmt: skip
        self.clock += dt.timedelta(milliseconds=advance_ms)
        seq = len(self.rows)
        failed = kind != "loss" and self.rng.random() < 0.002
        redaction = {"EMAIL_ADDRESS": 1} if "<EMAIL_ADDRESS>" in content else {}
        self.counts.redaction_failures += failed
        self.rows.append([
            self.tenant, self.cid, seq, self.clock, f"{self.cid}-{seq:05d}", kind, self.user, self.team_id,
            self.team_type, sender, recipient, "group_topic" if kind == "publish" else "", self.cid,
            message_type, f"m-{self.cid}-{seq}" if message_type else "", sender, content,
            json.dumps(payload if payload is not None else {}), prompt_tokens, completion_tokens, model,
            tool_name, duration_ms, int(is_error), error, redaction, "failed" if failed else "ok", POLICY,
            0, len(content),
        ])  # fmt: skip


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return round(rng.lognormvariate(0.0, sigma) * median, 3)


def _task_events(w: _TaskWriter, turns: int) -> tuple[int, int, bool]:
    """Emit one task's conversation; returns (prompt tokens, completion tokens, repeated tool failure)."""
    rng, counts = w.rng, w.counts
    w.emit("task_start", message_type="TextMessage", content="Summarise the report for <PERSON>.")
    model = rng.choice(list(MODELS))
    prompt_total = completion_total = 0
    flaky_tool = rng.random() < 0.05  # a task stuck retrying one failing tool
    for turn in range(turns):
        agent = AGENTS[turn % len(AGENTS)]
        w.emit("publish", sender=agent, message_type="TextMessage", content=f"turn {turn} from {agent}")
        median, spread = MODELS[model]
        latency = _lognormal(rng, median, spread)
        prompt, completion = rng.randint(200, 4000), rng.randint(20, 900)
        llm_error = rng.random() < 0.01
        kind = "llm_stream_end" if rng.random() < 0.2 else "llm_call"
        w.emit(kind, advance_ms=latency, sender=agent, model=model, prompt_tokens=prompt,
               completion_tokens=completion, duration_ms=latency, is_error=llm_error,
               error="RateLimitError: 429" if llm_error else "",
               payload={"model": model, "messages": turn + 1})  # fmt: skip
        counts.llm_calls += 1
        prompt_total += prompt
        completion_total += completion
        if rng.random() < 0.45 or flaky_tool:
            tool = "fetch_url" if flaky_tool else rng.choice(list(TOOLS))
            t_median, p_err = TOOLS[tool]
            err = flaky_tool or rng.random() < p_err
            dur = _lognormal(rng, t_median, 0.6)
            w.emit("tool_call", advance_ms=dur, sender=agent, tool_name=tool, duration_ms=dur, is_error=err,
                   error="TimeoutError: tool call timed out" if err else "",
                   payload={"tool": tool, "arguments": {"q": "<REDACTED>"}})  # fmt: skip
            counts.tool_calls += 1
            counts.tool_errors += err
        reply = "Reply to <EMAIL_ADDRESS> sent." if rng.random() < 0.1 else f"answer {turn}"
        w.emit("response", sender=agent, recipient="manager", message_type="TextMessage", content=reply)
        if rng.random() < 0.004:
            w.emit("message_dropped", sender=agent, recipient="critic", message_type="TextMessage",
                   error="intervention handler dropped the message")  # fmt: skip
            counts.dropped += 1
        if rng.random() < 0.003:
            w.emit("handler_exception", sender=agent, recipient=agent, message_type="TextMessage",
                   error="KeyError: 'context'", is_error=True)  # fmt: skip
            counts.handler_exc += 1
    return prompt_total, completion_total, flaky_tool


def _outcome(rng: random.Random, tenant: str, start: dt.datetime, now: dt.datetime) -> tuple[str, str]:
    """(status, stop_reason) of a task; one tenant degrades in the last week. The week is the one the
    cookbook's day-based question counts (today and the 6 days before, in UTC), not the last 7x24 h:
    with a rolling week, runs just after midnight put a day of the degraded rate in the week before."""
    recent = start.date() >= now.date() - dt.timedelta(days=6)
    p_abnormal = 0.50 if tenant == DEGRADING_TENANT and recent else 0.10  # far past "doubled", even on ~40 tasks
    roll = rng.random()
    if now - start < dt.timedelta(minutes=30) and roll < 0.3:
        return "running", ""
    if roll < p_abnormal:
        return "abnormal", rng.choice(ABNORMAL_STOPS)
    if roll < p_abnormal + 0.02:
        return "error", ""
    if roll < p_abnormal + 0.03:
        return "unfinished", ""
    return "normal", rng.choice(NORMAL_STOPS)


def _chunks(rows: list[list[Any]], size: int) -> Iterator[list[list[Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def seed_store(store: _Inserter, *, events: int = 50_000, tasks: int = 500, days: int = 14,
               seed: int = 7, batch_rows: int = 100_000) -> SeedSummary:  # fmt: skip
    """Insert about ``events`` events spread over ``tasks`` tasks; returns the ground truth."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    counts = _Counts()
    event_rows: list[list[Any]] = []
    task_rows: list[list[Any]] = []
    # Turns produce ~3.5 events each plus the task's own start/end events.
    mean_turns = max(1.0, (events / tasks - 2) / 3.5)
    for n in range(tasks):
        tenant = rng.choices(TENANTS, weights=_TENANT_WEIGHTS)[0]
        cid = f"task-{seed}-{n:06d}"
        user = f"user-{rng.randint(1, 40):03d}"
        team_type = TEAM_TYPES[rng.randrange(len(TEAM_TYPES))]
        team_id = f"{tenant}/{team_type.lower()}-{rng.randint(1, 3)}"
        start = now - dt.timedelta(seconds=rng.uniform(0, days * 86400))
        if n % 50 == 0:  # a few tasks are still going
            start = now - dt.timedelta(seconds=rng.uniform(1, 600))
        w = _TaskWriter(rng, counts, tenant, cid, user, team_id, team_type, start)
        turns = max(1, round(rng.uniform(0.5, 1.5) * mean_turns))
        prompt, completion, _ = _task_events(w, turns)
        status, stop_reason = _outcome(rng, tenant, start, now)
        error = "ValueError: planner returned no plan" if status == "error" else ""
        end_kind = _END_KINDS.get(status, "task_result")
        if end_kind:
            w.emit(end_kind, message_type="TaskResult", payload={"stop_reason": stop_reason},
                   error=error, is_error=status == "error")  # fmt: skip
        if rng.random() < 0.01:
            lost = rng.randint(1, 40)
            w.emit("loss", payload={"lost": lost, "reason": "queue_full"})
            counts.lost_events += lost
            counts.loss_events += 1
        event_rows.extend(w.rows)
        counts.events += len(w.rows)
        counts.prompt_tokens += prompt
        counts.completion_tokens += completion
        counts.per_tenant[tenant] = counts.per_tenant.get(tenant, 0) + 1
        abnormal = int(status in ("abnormal", "error", "unfinished"))
        counts.abnormal += abnormal
        counts.running += status == "running"
        opened = [tenant, cid, user, team_id, team_type, start, None, "running", 0, "", 0, 0, 0, "", 1]
        task_rows.append(opened)
        if status != "running":
            task_rows.append([tenant, cid, user, team_id, team_type, start, w.clock, status, abnormal,
                              stop_reason, turns * 2, prompt, completion, error, 2])  # fmt: skip
        if len(event_rows) >= batch_rows:
            store.insert("events", event_rows, EVENT_COLUMNS)
            event_rows = []
    for chunk in _chunks(event_rows, batch_rows):
        store.insert("events", chunk, EVENT_COLUMNS)
    for chunk in _chunks(task_rows, batch_rows):
        store.insert("tasks", chunk, TASK_COLUMNS)
    return SeedSummary(
        events=counts.events, tasks=tasks, tenants=tuple(sorted(counts.per_tenant)),
        llm_calls=counts.llm_calls, tool_calls=counts.tool_calls, tool_errors=counts.tool_errors,
        lost_events=counts.lost_events, loss_events=counts.loss_events,
        redaction_failures=counts.redaction_failures, dropped_messages=counts.dropped,
        handler_exceptions=counts.handler_exc, abnormal_tasks=counts.abnormal, running_tasks=counts.running,
        prompt_tokens=counts.prompt_tokens, completion_tokens=counts.completion_tokens,
        per_tenant_tasks=dict(counts.per_tenant),
    )  # fmt: skip
