"""HTML pages: one view per page, like Datasette. All reads go through ``_queries``."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from . import _queries as q
from . import _timeline
from ._auth import SESSION_COOKIE, Principal
from ._state import parse_when, principal, state
from .errors import NotFound

router = APIRouter(include_in_schema=False)
Who = Annotated[Principal, Depends(principal)]


def render(request: Request, who: Principal, template: str, ctx: dict[str, Any], status: int = 200) -> Response:
    ui = state(request)
    session = request.cookies.get(SESSION_COOKIE, "")
    logout = ui.auth.form_token("logout", session) if who.via == "session" else ""
    return ui.templates.TemplateResponse(
        request, template, {"who": who, "logout_token": logout, **ctx}, status_code=status
    )


def filters_from(
    tenant: str = "",
    user: str = "",
    since: str = "",
    until: str = "",
    stop_reason: str = "",
    status: str = "",
    agent: str = "",
    q_: Annotated[str, Query(alias="q")] = "",
    correlation_id: str = "",
) -> q.TaskFilters:
    """FastAPI dependency shared by the task list page and /api/tasks."""
    return q.TaskFilters(
        tenant=tenant.strip(),
        user=user.strip(),
        since=parse_when(since, "since"),
        until=parse_when(until, "until"),
        stop_reason=stop_reason.strip(),
        status=status.strip(),
        agent=agent.strip(),
        q=q_.strip(),
        correlation_id=correlation_id.strip(),
    )


Filters = Annotated[q.TaskFilters, Depends(filters_from)]


@router.get("/")
def home() -> Response:
    return RedirectResponse("/tasks", status_code=303)


@router.get("/tasks")
def task_list(request: Request, who: Who, filters: Filters, after: str = "") -> Response:
    ui = state(request)
    page = q.list_tasks(ui.store, who, filters, after or None, ui.settings.page_size)
    params = {k: v for k, v in request.query_params.items() if k != "after" and v}
    next_url = "/tasks?" + urlencode({**params, "after": page.next_cursor}) if page.next_cursor else ""
    return render(
        request,
        who,
        "tasks.html",
        {
            "page": page,
            "form": params,
            "statuses": q.STATUSES,
            "tenants": q.visible_tenants(ui.store, who),
            "next_url": next_url,
            "first_url": ("/tasks?" + urlencode(params)) if after else "",
        },
    )


@router.get("/lookup")
def lookup(request: Request, who: Who, correlation_id: str = "") -> Response:
    """Search by correlation id: straight to the timeline when exactly one visible task matches."""
    ui = state(request)
    cid = correlation_id.strip()
    found = q.find_tasks(ui.store, who, cid) if cid else []
    if len(found) == 1:
        return RedirectResponse(_task_url(found[0]), status_code=303)
    if not found and cid:
        raise NotFound("no task with this correlation id")
    return RedirectResponse("/tasks?" + urlencode({"correlation_id": cid}), status_code=303)


def _task_url(task: q.TaskRow) -> str:
    return f"/tasks/{quote(task.correlation_id, safe='')}?" + urlencode({"tenant": task.tenant_id})


def _one_task(request: Request, who: Principal, correlation_id: str, tenant: str) -> q.TaskRow | Response:
    ui = state(request)
    found = q.find_tasks(ui.store, who, correlation_id, tenant)
    if not found:
        raise NotFound("no such task")
    if len(found) > 1:  # the same id in two visible tenants: let the auditor pick
        page = q.TaskPage(found, None)
        ctx = {"page": page, "form": {"correlation_id": correlation_id}, "statuses": q.STATUSES,
               "tenants": [t.tenant_id for t in found], "next_url": "", "first_url": ""}  # fmt: skip
        return render(request, who, "tasks.html", ctx, status=300)
    return found[0]


@router.get("/tasks/{correlation_id}")
def timeline(request: Request, who: Who, correlation_id: str, tenant: str = "") -> Response:
    ui = state(request)
    task = _one_task(request, who, correlation_id, tenant)
    if isinstance(task, Response):
        return task
    limit = ui.settings.max_timeline_events
    events = q.task_events(ui.store, who, task, limit + 1, light=True)
    cut = len(events) > limit
    events = events[:limit]
    return render(
        request,
        who,
        "timeline.html",
        {
            "task": task,
            "items": _timeline.build(events, task),
            "outcome": _timeline.outcome(events),
            "cut": cut,
            "collapse": ui.settings.collapse_chars,
            "qs": urlencode({"tenant": task.tenant_id}),
        },
    )


@router.get("/tasks/{correlation_id}/events/{seq}")
def event_detail(request: Request, who: Who, correlation_id: str, seq: int, tenant: str = "") -> Response:
    ui = state(request)
    task = _one_task(request, who, correlation_id, tenant)
    if isinstance(task, Response):
        return task
    event = q.get_event(ui.store, who, task, seq)
    return render(
        request,
        who,
        "event.html",
        {
            "task": task,
            "event": event,
            "calls": _timeline.tool_calls(event),
            "qs": urlencode({"tenant": task.tenant_id}),
        },
    )


@router.get("/favicon.ico")
def favicon() -> Response:
    return Response(status_code=204)
