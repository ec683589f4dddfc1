"""The JSON API beside the pages: same queries, same tenant scoping, an OpenAPI schema."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from . import _queries as q
from . import _timeline
from ._auth import Principal
from ._pages import Filters
from ._state import principal, state
from .errors import NotFound

router = APIRouter(prefix="/api", tags=["tasks"])
Who = Annotated[Principal, Depends(principal)]


class Task(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    correlation_id: str
    user_id: str
    team_type: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    duration_s: float | None
    status: str = Field(description="running, normal, abnormal, error or unfinished")
    abnormal: bool
    stop_reason: str
    message_count: int
    tokens: int
    error: str

    @classmethod
    def of(cls, row: q.TaskRow) -> Task:
        return cls(duration_s=row.duration_s, **{k: getattr(row, k) for k in q.TaskRow.__slots__})


class TaskList(BaseModel):
    tasks: list[Task]
    next_cursor: str | None = Field(description="Pass as ?after= for the next (older) page")


class FinalMessage(BaseModel):
    source: str
    type: str
    content: str
    tokens: int


class TaskDetail(BaseModel):
    task: Task
    stop_reason: str | None = Field(description="From the TaskResult event, if the task recorded one")
    final_messages: list[FinalMessage]


class Event(BaseModel):
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
    content: str = Field(description="Redacted text of the message")
    payload: str = Field(description="Redacted JSON of the whole message")
    prompt_tokens: int
    completion_tokens: int
    model: str
    tool_name: str
    duration_ms: float
    is_error: bool
    error: str
    redaction: dict[str, int] = Field(description="Entity type -> spans redacted in this event")
    redaction_status: str
    truncated: bool
    content_chars: int

    @classmethod
    def of(cls, row: q.EventRow) -> Event:
        return cls(**{k: getattr(row, k) for k in q.EventRow.__slots__})


class EventList(BaseModel):
    events: list[Event]
    next_after_seq: int | None = Field(description="Pass as ?after_seq= for the next events")


def _task(request: Request, who: Principal, correlation_id: str, tenant: str) -> q.TaskRow:
    found = q.find_tasks(state(request).store, who, correlation_id, tenant)
    if len(found) != 1:
        raise NotFound("no such task" if not found else "several tenants have this id: add ?tenant=")
    return found[0]


@router.get("/tasks", response_model=TaskList, summary="Recent tasks, newest first (keyset pages)")
def api_tasks(
    request: Request,
    who: Who,
    filters: Filters,
    after: str = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> TaskList:
    page = q.list_tasks(state(request).store, who, filters, after or None, limit)
    return TaskList(tasks=[Task.of(t) for t in page.rows], next_cursor=page.next_cursor)


@router.get("/tasks/{correlation_id}", response_model=TaskDetail, summary="One task and its outcome")
def api_task(request: Request, who: Who, correlation_id: str, tenant: str = "") -> TaskDetail:
    ui = state(request)
    task = _task(request, who, correlation_id, tenant)
    events = q.task_events(ui.store, who, task, ui.settings.max_timeline_events, light=True)
    outcome = _timeline.outcome(events)
    return TaskDetail(
        task=Task.of(task),
        stop_reason=outcome.stop_reason if outcome else None,
        final_messages=[
            FinalMessage(source=m.source, type=m.type, content=m.content, tokens=m.tokens)
            for m in (outcome.messages if outcome else [])
        ],
    )


@router.get("/tasks/{correlation_id}/events", response_model=EventList, summary="Events of one task in order")
def api_events(
    request: Request,
    who: Who,
    correlation_id: str,
    tenant: str = "",
    after_seq: Annotated[int, Query(ge=-1)] = -1,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> EventList:
    task = _task(request, who, correlation_id, tenant)
    rows = q.task_events(state(request).store, who, task, limit + 1, after_seq)
    more = len(rows) > limit
    rows = rows[:limit]
    return EventList(events=[Event.of(r) for r in rows], next_after_seq=rows[-1].seq if more else None)


@router.get("/tasks/{correlation_id}/events/{seq}", response_model=Event, summary="One event")
def api_event(request: Request, who: Who, correlation_id: str, seq: int, tenant: str = "") -> Event:
    task = _task(request, who, correlation_id, tenant)
    return Event.of(q.get_event(state(request).store, who, task, seq))


@router.get("/health", include_in_schema=False)
def health() -> dict[str, str]:
    return {"status": "ok"}
