"""Every read the UI and the API make. Each binds the caller's tenant set; admin binds none.

SQL text is assembled only from fragments written here; every value a caller supplies is a bound
``{name:Type}`` parameter.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from collector._store._queryable import Queryable

from ._auth import Principal
from .errors import BadRequest, NotFound

STATUSES = ("running", "normal", "abnormal", "error", "unfinished")


@dataclass(frozen=True, slots=True)
class TaskFilters:
    """What the task list was asked to show. Empty strings mean "no filter"."""

    tenant: str = ""
    user: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    stop_reason: str = ""
    status: str = ""
    agent: str = ""
    q: str = ""
    correlation_id: str = ""

    def active(self) -> bool:
        return any(getattr(self, name) for name in self.__slots__)


@dataclass(frozen=True, slots=True)
class TaskRow:
    tenant_id: str
    correlation_id: str
    user_id: str
    team_type: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str
    abnormal: bool
    stop_reason: str
    message_count: int
    tokens: int
    error: str

    @property
    def duration_s(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None


@dataclass(frozen=True, slots=True)
class TaskPage:
    rows: list[TaskRow]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class EventRow:
    tenant_id: str
    correlation_id: str
    seq: int
    ts: dt.datetime
    event_id: str
    kind: str
    sender: str
    recipient: str
    topic_type: str
    topic_source: str
    message_type: str
    message_id: str
    source: str
    content: str
    payload: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    tool_name: str
    duration_ms: float
    is_error: bool
    error: str
    redaction: dict[str, int] = field(default_factory=dict)
    redaction_status: str = ""
    truncated: bool = False
    content_chars: int = 0


_TASK_COLUMNS = """tenant_id, correlation_id, user_id, team_type, started_at, finished_at, status, abnormal,
       stop_reason, message_count, prompt_tokens + completion_tokens AS tokens, error"""
_EVENT_COLUMNS = """tenant_id, correlation_id, seq, ts, event_id, kind, sender, recipient, topic_type,
       topic_source, message_type, message_id, source, content, payload, prompt_tokens, completion_tokens,
       model, tool_name, duration_ms, is_error, error, redaction, redaction_status, truncated,
       content_chars"""


def _utc(value: Any) -> dt.datetime:
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _task(row: Sequence[Any]) -> TaskRow:
    return TaskRow(
        str(row[0]), str(row[1]), str(row[2]), str(row[3]), _utc(row[4]),
        _utc(row[5]) if row[5] is not None else None, str(row[6]), bool(row[7]), str(row[8]),
        int(row[9]), int(row[10]), str(row[11]),
    )  # fmt: skip


def _event(row: Sequence[Any]) -> EventRow:
    return EventRow(
        str(row[0]), str(row[1]), int(row[2]), _utc(row[3]), str(row[4]), str(row[5]), str(row[6]),
        str(row[7]), str(row[8]), str(row[9]), str(row[10]), str(row[11]), str(row[12]), str(row[13]),
        str(row[14]), int(row[15]), int(row[16]), str(row[17]), str(row[18]), float(row[19]),
        bool(row[20]), str(row[21]), {str(k): int(v) for k, v in dict(row[22]).items()}, str(row[23]),
        bool(row[24]), int(row[25]),
    )  # fmt: skip


def tenant_scope(principal: Principal, params: dict[str, Any]) -> str:
    """The tenant condition for this caller; binds its tenant set into ``params``."""
    if principal.admin:
        return "1"
    params["allowed"] = sorted(principal.tenants)
    return "tenant_id IN {allowed:Array(String)}"


def _ts(value: dt.datetime) -> str:
    # The year written out in four digits: strftime's %Y drops the zeros of a year before 1000,
    # which the query parameter then cannot parse.
    utc = value.astimezone(dt.UTC)
    return f"{utc.year:04d}-{utc:%m-%d %H:%M:%S.%f}"


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def encode_cursor(row: TaskRow) -> str:
    raw = json.dumps([_ts(row.started_at), row.tenant_id, row.correlation_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        ts, tenant, cid = json.loads(raw)
        dt.datetime.strptime(ts, "%Y-%m-%d %H:%M:%S.%f")
        return str(ts), str(tenant), str(cid)
    except (ValueError, TypeError) as exc:
        raise BadRequest("invalid page cursor") from exc


def list_tasks(
    store: Queryable, principal: Principal, filters: TaskFilters, cursor: str | None, limit: int
) -> TaskPage:
    """One page of tasks, newest first; keyset pagination on (started_at, tenant_id, correlation_id)."""
    params: dict[str, Any] = {"limit": limit + 1}
    scope = tenant_scope(principal, params)
    where = [scope]
    if filters.tenant:
        where.append("tenant_id = {tenant:String}")
        params["tenant"] = filters.tenant
    if filters.user:
        where.append("user_id = {user:String}")
        params["user"] = filters.user
    if filters.since:
        where.append("started_at >= {since:DateTime64(6, 'UTC')}")
        params["since"] = _ts(filters.since)
    if filters.until:
        where.append("started_at < {until:DateTime64(6, 'UTC')}")
        params["until"] = _ts(filters.until)
    if filters.stop_reason:
        where.append("positionCaseInsensitiveUTF8(stop_reason, {stop:String}) > 0")
        params["stop"] = filters.stop_reason
    if filters.status:
        if filters.status not in STATUSES:
            raise BadRequest(f"status is one of {', '.join(STATUSES)}")
        where.append("status = {status:String}")
        params["status"] = filters.status
    if filters.correlation_id:
        where.append("startsWith(correlation_id, {cid:String})")
        params["cid"] = filters.correlation_id
    if filters.agent:
        where.append(
            f"(tenant_id, correlation_id) IN (SELECT tenant_id, correlation_id FROM events WHERE {scope}"
            " AND (source = {agent:String} OR sender = {agent:String}"
            " OR startsWith(sender, concat({agent:String}, '_'))"
            " OR startsWith(sender, concat({agent:String}, '/'))))"
        )
        params["agent"] = filters.agent
    if filters.q:
        where.append(
            f"(tenant_id, correlation_id) IN (SELECT tenant_id, correlation_id FROM events WHERE {scope}"
            " AND lower(content) LIKE {q:String})"
        )
        params["q"] = _like(filters.q)
    if cursor:
        c_ts, c_tenant, c_cid = decode_cursor(cursor)
        where.append(
            "(started_at, tenant_id, correlation_id) < ({c_ts:DateTime64(6, 'UTC')}, {c_tenant:String}, {c_cid:String})"
        )
        params.update(c_ts=c_ts, c_tenant=c_tenant, c_cid=c_cid)
    sql = (
        f"SELECT {_TASK_COLUMNS} FROM tasks FINAL WHERE {' AND '.join(where)} "
        "ORDER BY started_at DESC, tenant_id DESC, correlation_id DESC LIMIT {limit:UInt32}"
    )
    _, rows = store.query(sql, parameters=params)
    tasks = [_task(r) for r in rows]
    more = len(tasks) > limit
    tasks = tasks[:limit]
    return TaskPage(tasks, encode_cursor(tasks[-1]) if more and tasks else None)


def find_tasks(store: Queryable, principal: Principal, correlation_id: str, tenant: str = "") -> list[TaskRow]:
    """The visible tasks with exactly this correlation id (one per tenant at most)."""
    params: dict[str, Any] = {"cid": correlation_id}
    where = [tenant_scope(principal, params), "correlation_id = {cid:String}"]
    if tenant:
        where.append("tenant_id = {tenant:String}")
        params["tenant"] = tenant
    sql = f"SELECT {_TASK_COLUMNS} FROM tasks FINAL WHERE {' AND '.join(where)} ORDER BY tenant_id"
    _, rows = store.query(sql, parameters=params)
    return [_task(r) for r in rows]


def get_task(store: Queryable, principal: Principal, correlation_id: str, tenant: str = "") -> TaskRow:
    """Exactly one visible task; NotFound if none (also for another tenant's task) or if ambiguous."""
    found = find_tasks(store, principal, correlation_id, tenant)
    if len(found) != 1:
        raise NotFound("no such task" if not found else "several tenants have this id: choose one")
    return found[0]


# The timeline reads payloads only where it shows something from them (results and tool calls);
# a payload may be 256 KB, so reading every one would dominate a long timeline.
_SHOWN_PAYLOAD = "kind IN ('task_result', 'tool_call') OR tool_name != '' OR message_type LIKE 'ToolCall%'"
_LIGHT_PAYLOAD = f"if({_SHOWN_PAYLOAD}, payload, '')"


def task_events(
    store: Queryable,
    principal: Principal,
    task: TaskRow,
    limit: int,
    after_seq: int = -1,
    *,
    light: bool = False,
) -> list[EventRow]:
    """Events of one task in order; ``light`` blanks payloads the timeline does not show."""
    columns = _EVENT_COLUMNS.replace(" payload,", f" {_LIGHT_PAYLOAD} AS payload,") if light else _EVENT_COLUMNS
    params: dict[str, Any] = {
        "tenant": task.tenant_id, "cid": task.correlation_id, "limit": limit, "after": after_seq,
    }  # fmt: skip
    scope = tenant_scope(principal, params)
    sql = (
        f"SELECT {columns} FROM events WHERE {scope} AND tenant_id = {{tenant:String}} "
        "AND correlation_id = {cid:String} AND toInt64(seq) > {after:Int64} ORDER BY seq LIMIT {limit:UInt32}"
    )
    _, rows = store.query(sql, parameters=params)
    return [_event(r) for r in rows]


def get_event(store: Queryable, principal: Principal, task: TaskRow, seq: int) -> EventRow:
    if not 0 <= seq < 2**64:  # no event has it, and the UInt64 parameter would fail in the query
        raise NotFound("no such event")
    params: dict[str, Any] = {"tenant": task.tenant_id, "cid": task.correlation_id, "seq": seq}
    scope = tenant_scope(principal, params)
    sql = (
        f"SELECT {_EVENT_COLUMNS} FROM events WHERE {scope} AND tenant_id = {{tenant:String}} "
        "AND correlation_id = {cid:String} AND seq = {seq:UInt64} LIMIT 1"
    )
    _, rows = store.query(sql, parameters=params)
    if not rows:
        raise NotFound("no such event")
    return _event(rows[0])


def export_rows(store: Queryable, principal: Principal, task: TaskRow) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Every stored column of every event of one task (content is already redacted at rest)."""
    params: dict[str, Any] = {"tenant": task.tenant_id, "cid": task.correlation_id}
    scope = tenant_scope(principal, params)
    sql = (
        f"SELECT * FROM events WHERE {scope} AND tenant_id = {{tenant:String}} "
        "AND correlation_id = {cid:String} ORDER BY seq"
    )
    return store.query(sql, parameters=params)


def visible_tenants(store: Queryable, principal: Principal) -> list[str]:
    """Tenants for the filter drop-down."""
    if not principal.admin:
        return sorted(principal.tenants)
    _, rows = store.query("SELECT DISTINCT tenant_id FROM tasks ORDER BY tenant_id LIMIT 1000")
    return [str(r[0]) for r in rows]
