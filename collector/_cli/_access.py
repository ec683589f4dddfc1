"""How a CLI command reaches the store: directly, or through the service that owns it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Protocol

from .._store._client import Store


class QueryTarget(Protocol):
    """Anything that answers SQL with (column names, rows): a Store or a running service."""

    def query(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> tuple[list[str], list[tuple[Any, ...]]]: ...

    def close(self) -> None: ...


def resolve_dsn(cli_dsn: str | None) -> str:
    from .._settings import AuditSettings

    return cli_dsn or os.environ.get("AUDIT_STORE_DSN") or AuditSettings().store_dsn


def open_query_target(cli_dsn: str | None) -> QueryTarget:
    """Open the store for reading."""
    return Store.open(resolve_dsn(cli_dsn))
