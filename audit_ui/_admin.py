"""Admin-only endpoints the CLI uses while `serve` owns an embedded store (sql, keys).

They accept a bearer token only, never the session cookie, so no page can be tricked into them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from collector.errors import StoreError

from . import _keys
from ._auth import Principal, require_admin
from ._state import jsonable, state
from .errors import BadRequest, KeyAdminError

router = APIRouter(prefix="/api/admin", tags=["admin"])
_READ_ONLY = re.compile(r"^\s*(SELECT|SHOW|DESCRIBE|DESC|EXPLAIN|WITH|EXISTS)\b", re.IGNORECASE)


def admin(request: Request) -> Principal:
    return require_admin(state(request).auth.resolve(request, allow_cookie=False))


Admin = Annotated[Principal, Depends(admin)]


class SqlRequest(BaseModel):
    sql: str = Field(max_length=100_000)
    parameters: dict[str, Any] = Field(default_factory=dict, description="Bound as {name:Type}")


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


@router.post("/sql", response_model=SqlResult, summary="Read-only SQL (admin)")
def sql(request: Request, who: Admin, body: SqlRequest) -> SqlResult:
    if not _READ_ONLY.match(body.sql):
        raise BadRequest("only read-only statements: SELECT, SHOW, DESCRIBE, EXPLAIN, WITH")
    if ";" in body.sql.strip().rstrip(";"):
        # chdb runs every statement of a multi-statement text; one statement per request.
        raise BadRequest("one statement per query: remove the ';'")
    # readonly=2: ClickHouse itself refuses writes and DDL, whatever the text looks like.
    try:
        columns, rows = state(request).store.query(
            body.sql, parameters=body.parameters, settings={"readonly": 2}
        )
    except StoreError as exc:
        raise BadRequest(str(exc)) from exc
    return SqlResult(columns=columns, rows=[jsonable(list(r)) for r in rows])


@router.get("/keys", response_model=list[KeyInfo], summary="All keys, without their hashes (admin)")
def list_keys(request: Request, who: Admin) -> list[KeyInfo]:
    return [
        KeyInfo(
            name=k.name, tenants=list(k.tenants), admin=k.admin, created_at=k.created_at, revoked=k.revoked
        )
        for k in _keys.list_keys(state(request).store)
    ]


@router.post("/keys", summary="Create a key; the response is the only place it is ever shown (admin)")
def add_key(request: Request, who: Admin, body: NewKey) -> dict[str, str]:
    ui = state(request)
    try:
        key = _keys.add_key(ui.store, body.name, body.tenants, body.admin)
    except KeyAdminError as exc:
        raise BadRequest(str(exc)) from exc
    ui.auth.ring.invalidate()
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
