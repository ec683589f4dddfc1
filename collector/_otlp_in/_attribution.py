"""Which tenant and task an OTLP span or log record belongs to.

In order: ``tenant.id`` / ``correlation.id`` attributes (span or log record over resource);
else the AutoGen topic source or agent key in ``messaging.destination`` (the team id), looked up
among tasks that remote hooks opened, then matched against the source convention; else the trace
id as the correlation id, under the unattributed tenant.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from .._events import TaskRef
from .._fallback_ids import fallback_correlation

TENANT_KEY = "tenant.id"
CORRELATION_KEY = "correlation.id"
USER_KEY = "user.id"
# AutoGen's MessageRuntimeTracingConfig writes destinations as "<type>.(<key or source>)-A|T".
_DESTINATION = re.compile(r"^(?P<type>.*)\.\((?P<source>.*)\)-(?P<kind>[AT])$")
_KNOWN_MAX = 50_000
# AgentChat names a team's agent types "<name>_<team id>"; the team id is a uuid4.
_TEAM_SUFFIX = re.compile(r"_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")


def parse_destination(value: Any) -> tuple[str, str, str] | None:
    """``(type, source_or_key, "A"|"T")`` of an AutoGen messaging.destination attribute."""
    if not isinstance(value, str):
        return None
    match = _DESTINATION.match(value)
    return (match["type"], match["source"], match["kind"]) if match else None


def team_source(attrs: Mapping[str, Any]) -> str:
    """The topic source or agent key (for AgentChat: the team id) an AutoGen span is about."""
    dest = parse_destination(attrs.get("messaging.destination"))
    if dest and dest[1]:
        return dest[1]
    context = attrs.get("message_context")
    if isinstance(context, dict):
        for field in ("topic_id", "sender"):
            value = context.get(field)
            if isinstance(value, str) and "/" in value:
                return value.split("/", 1)[1]
    for key in ("sender_agent_type", "recipient_agent_type"):
        match = _TEAM_SUFFIX.search(str(attrs.get(key) or ""))
        if match:
            return match[1]
    return ""


class TeamIndex:
    """Team id -> the TaskRefs remote hooks opened for it, with their start times, so the team's
    spans join the task that was running when they started.

    A team object may run consecutive tasks, of different tenants too (docs/capture.md), and an
    app's span exporter sends its batches late: a span that arrives after the next task started
    still belongs to the task before it.
    """

    _PER_TEAM = 16  # starts kept per team: a late span is seconds late, not sixteen tasks late

    def __init__(self, capacity: int = _KNOWN_MAX) -> None:
        self._refs: OrderedDict[str, list[tuple[int, TaskRef]]] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def note(self, ref: TaskRef, started_ns: int = 0) -> None:
        if not ref.team_id:
            return
        with self._lock:
            starts = self._refs.setdefault(ref.team_id, [])
            starts.append((started_ns, ref))
            starts.sort(key=lambda start: start[0])
            del starts[: -self._PER_TEAM]
            self._refs.move_to_end(ref.team_id)
            if len(self._refs) > self._capacity:
                self._refs.popitem(last=False)

    def get(self, team_id: str, at_ns: int = 0) -> TaskRef | None:
        """The task of the team that started last at or before ``at_ns`` (0: the latest); None when
        every known task of the team started after it."""
        with self._lock:
            starts = self._refs.get(team_id)
            if not starts:
                return None
            if not at_ns:
                return starts[-1][1]
            return next((ref for started, ref in reversed(starts) if started <= at_ns), None)


class OtlpAttribution:
    """Resolves a TaskRef for a span or log record from its attributes."""

    def __init__(self, source_pattern: str, unattributed_tenant: str, teams: TeamIndex | None = None) -> None:
        self._pattern = re.compile(source_pattern)
        self._unattributed = unattributed_tenant
        self.teams = teams or TeamIndex()

    def resolve(self, attrs: Mapping[str, Any], resource: Mapping[str, Any], trace_id: str, at_ns: int = 0) -> TaskRef:
        """``at_ns``: when the span started or the record was made (0 if unknown)."""

        def pick(key: str) -> str:
            value = attrs.get(key, resource.get(key))
            return str(value)[:256] if value not in (None, "") else ""

        tenant, correlation, user = pick(TENANT_KEY), pick(CORRELATION_KEY), pick(USER_KEY)
        source = team_source(attrs)[:256]
        if tenant and correlation:
            return TaskRef(tenant, correlation, user, source)
        known = self.teams.get(source, at_ns) if source else None
        if known is not None and (not tenant or tenant == known.tenant_id):
            return known
        match = self._pattern.match(source) if source else None
        if match:
            groups = match.groupdict()
            tenant = tenant or groups.get("tenant_id") or ""
            correlation = correlation or groups.get("correlation_id") or ""
            user = user or groups.get("user_id") or ""
        if not correlation and source:
            # The app's declared convention keeps the source; anything else is a pseudonym unless
            # it is an id (see _fallback_ids).
            correlation = source if match else fallback_correlation(source)
        correlation = correlation or trace_id or "unknown"
        return TaskRef(tenant or self._unattributed, correlation, user, source)
