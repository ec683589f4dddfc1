"""Export of one task's events, every stored column, as JSONL or CSV (content is redacted at rest)."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from . import _queries as q
from ._auth import Principal
from ._state import jsonable, principal, state
from .errors import NotFound

router = APIRouter(tags=["export"])
Who = Annotated[Principal, Depends(principal)]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _rows(
    request: Request, who: Principal, correlation_id: str, tenant: str
) -> tuple[q.TaskRow, list[str], list[tuple[Any, ...]]]:
    ui = state(request)
    found = q.find_tasks(ui.store, who, correlation_id, tenant)
    if len(found) != 1:
        raise NotFound("no such task" if not found else "several tenants have this id: add ?tenant=")
    columns, rows = q.export_rows(ui.store, who, found[0])
    return found[0], columns, rows


def _filename(task: q.TaskRow, ext: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{task.tenant_id}_{task.correlation_id}")
    return f'attachment; filename="{safe[:120]}.{ext}"'


def to_jsonl(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    return "".join(
        json.dumps(jsonable(dict(zip(columns, row, strict=True))), ensure_ascii=False) + "\n" for row in rows
    )


def _csv_cell(value: Any) -> str:
    value = jsonable(value)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    # Agent content is attacker-controlled: a leading = + - @ would run as a spreadsheet formula.
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buf.getvalue()


@router.get("/tasks/{correlation_id}/export.jsonl", summary="Every event of one task as JSON lines")
def export_jsonl(request: Request, who: Who, correlation_id: str, tenant: str = "") -> Response:
    task, columns, rows = _rows(request, who, correlation_id, tenant)
    return Response(
        to_jsonl(columns, rows),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": _filename(task, "jsonl")},
    )


@router.get("/tasks/{correlation_id}/export.csv", summary="Every event of one task as CSV")
def export_csv(request: Request, who: Who, correlation_id: str, tenant: str = "") -> Response:
    task, columns, rows = _rows(request, who, correlation_id, tenant)
    return Response(
        to_csv(columns, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": _filename(task, "csv")},
    )
