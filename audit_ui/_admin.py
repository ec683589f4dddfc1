"""Admin-only endpoints the CLI uses while `serve` owns an embedded store (sql, keys).

They accept a bearer token only, never the session cookie, so no page can be tricked into them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from collector._store._readonly import QueryLimits, check_read_only, limit_settings
from collector.errors import StoreError

from . import _keys
from ._auth import Principal, require_admin
from ._state import jsonable, state
from .errors import BadRequest, KeyAdminError

router = APIRouter(prefix="/api/admin", tags=["admin"])
_EXPLAIN_AST = re.compile(r"^\s*EXPLAIN\s+AST\s+", re.IGNORECASE)


def admin(request: Request) -> Principal:
    return require_admin(state(request).auth.resolve(request, allow_cookie=False))


Admin = Annotated[Principal, Depends(admin)]


class SqlRequest(BaseModel):
    sql: str = Field(max_length=100_000)
    parameters: dict[str, Any] = Field(default_factory=dict, description="Bound as {name:Type}")
    max_execution_time_s: float = Field(default=30.0, gt=0, le=600, description="Time limit of the query")
    max_memory_bytes: int = Field(default=2 * 1024**3, gt=0, le=16 * 1024**3, description="Memory limit")
    max_result_rows: int = Field(default=0, ge=0, description="Fail past this many rows (0 = no limit)")


class SqlResult(BaseModel):
    columns: list[str]
    rows: list[list[Any]]


class NewKey(BaseModel):
    name: str
    tenants: list[str] = Field(default_factory=list)
    admin: bool = False


class KeyInfo(BaseModel):
    name: str
    tenants: list[str]
    admin: bool
    created_at: str
    revoked: bool


@router.post("/sql", response_model=SqlResult, summary="One read-only SQL statement (admin)")
def sql(request: Request, who: Admin, body: SqlRequest) -> SqlResult:
    store = state(request).store
    params = body.parameters

    def explain(statement: str) -> list[str]:
        _, rows = store.query("EXPLAIN AST " + statement, parameters=params)
        return [str(row[0]) for row in rows]

    limits = QueryLimits(body.max_execution_time_s, body.max_memory_bytes, body.max_result_rows)
    try:
        # The same guard as `autogen-audit sql` (one statement, read-only AST), the same limits,
        # and readonly=2 so that ClickHouse itself refuses writes whatever the text looks like.
        # `sql` through the service runs the same guard client-side, which sends EXPLAIN AST first;
        # the AST of an EXPLAIN AST wraps settings nodes the guard refuses, so check what it explains.
        match = _EXPLAIN_AST.match(body.sql)
        prefix, text = ("EXPLAIN AST ", body.sql[match.end() :]) if match else ("", body.sql)
        statement = prefix + check_read_only(text, explain)
        # Settings would show up as a Set node in the AST the client inspects; EXPLAIN runs nothing.
        settings = {} if prefix else {**limit_settings(limits, server=False), "readonly": 2}
        columns, rows = store.query(statement, parameters=params, settings=settings)
    except StoreError as exc:
        raise BadRequest(str(exc)) from exc
    return SqlResult(columns=columns, rows=[jsonable(list(r)) for r in rows])


@router.get("/keys", response_model=list[KeyInfo], summary="All keys, without their hashes (admin)")
def list_keys(request: Request, who: Admin) -> list[KeyInfo]:
    return [
        KeyInfo(name=k.name, tenants=list(k.tenants), admin=k.admin, created_at=k.created_at, revoked=k.revoked)
        for k in _keys.list_keys(state(request).store)
    ]


@router.post("/keys", summary="Create a key; the response is the only place it is ever shown (admin)")
def add_key(request: Request, who: Admin, body: NewKey) -> dict[str, str]:
    ui = state(request)
    try:
        key = _keys.add_key(ui.store, body.name, body.tenants, body.admin)
    except KeyAdminError as exc:
        raise BadRequest(str(exc)) from exc
    ui.auth.ring.invalidate_after_create()
    return {"name": body.name, "key": key}


@router.post("/keys/{name}/revoke", summary="Revoke a key; its sessions end at once (admin)")
def revoke_key(request: Request, who: Admin, name: str) -> dict[str, str]:
    ui = state(request)
    try:
        _keys.revoke_key(ui.store, name)
    except KeyAdminError as exc:
        raise BadRequest(str(exc)) from exc
    ui.auth.ring.invalidate()
    return {"name": name, "revoked": "true"}
